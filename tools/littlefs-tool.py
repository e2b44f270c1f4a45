#!/usr/bin/env python3
"""littlefs images on the host, through littlefs-python (a binding of the
reference C littlefs): what `mirage-config kv ls|get|put` runs, and what
the tests use to check the unikernel's littlefs store against littlefs
itself.

    littlefs-tool.py ls IMAGE [KEY]          list a dictionary (dictionaries end in /)
    littlefs-tool.py tree IMAGE              every key with its size and BLAKE2s digest
    littlefs-tool.py get IMAGE KEY           a value, to standard output
    littlefs-tool.py put IMAGE KEY [FILE]    set a value from FILE or standard input
    littlefs-tool.py rm IMAGE KEY            remove a value or dictionary
    littlefs-tool.py make IMAGE FOLDER [--block-size N] [--size BYTES]
                                             a new image holding FOLDER's files
    littlefs-tool.py pack FOLDER IMAGE       the same, sized for FOLDER (`kv pack`):
                                             512-byte blocks, at least 1 MiB and twice its bytes
The block size and count come from the image's superblock.
"""
import hashlib, os, struct, sys

try:
    import littlefs
except ImportError:
    sys.exit("littlefs-python is not installed: pip install littlefs-python (scripts/setup puts it in .build/python)")


def geometry(data):
    """Block size and count from the superblock, in block 0 or (if that one is torn) block 1."""
    size = None
    if data[8:16] == b"littlefs":
        size = struct.unpack_from("<I", data, 24)[0]
    else:
        candidate = 512
        while candidate < len(data):
            if data[candidate + 8:candidate + 16] == b"littlefs":
                size = struct.unpack_from("<I", data, candidate + 24)[0]
                break
            candidate *= 2
    if not size:
        sys.exit("not a littlefs image (no superblock in block 0 or 1)")
    return size, len(data) // size


def mount(path):
    data = open(path, "rb").read()
    block_size, count = geometry(data)
    fs = littlefs.LittleFS(block_size=block_size, block_count=count, mount=False)
    fs.context.buffer = bytearray(data)
    fs.mount()
    # littlefs finishes a move or directory removal cut short by a power
    # loss before it writes anything, and until then hides entries after
    # the moved one; a write (to this in-memory copy) makes it do so now.
    fs.mkdir(".littlefs-tool")
    fs.rmdir(".littlefs-tool")
    return fs


def save(fs, path):
    with open(path, "r+b") as image:
        image.write(bytes(fs.context.buffer))


def walk(fs, folder=""):
    for name in sorted(fs.listdir(folder or "/"), key=lambda n: n.encode()):
        key = folder + "/" + name if folder else name
        if fs.stat(key).type == littlefs.LFSStat.TYPE_DIR:
            yield key, None
            yield from walk(fs, key)
        else:
            with fs.open(key, "rb") as f:
                yield key, f.read()


def main(arguments):
    if len(arguments) < 2:
        sys.exit(__doc__)
    command, image = arguments[0], arguments[1]
    if command in ("make", "pack"):
        folder = arguments[2]
        if command == "pack":
            folder, image = arguments[1], arguments[2]
        block_size = int(arguments[arguments.index("--block-size") + 1]) if "--block-size" in arguments else 512
        size = int(arguments[arguments.index("--size") + 1]) if "--size" in arguments else 1 << 20
        if command == "pack":
            # Each file takes its data rounded up to blocks, plus metadata blocks.
            need = sum(((os.path.getsize(os.path.join(root, name)) + block_size - 1) // block_size + 2) * block_size
                       for root, _, files in os.walk(folder) for name in files)
            while size < 2 * need:
                size *= 2
        fs = littlefs.LittleFS(block_size=block_size, block_count=size // block_size)
        for root, folders, files in os.walk(folder):
            relative = os.path.relpath(root, folder)
            folders.sort()    # os.walk descends in this order: the image does not depend on the listing's
            for name in sorted(folders):
                fs.mkdir(os.path.normpath(os.path.join(relative, name)))
            for name in sorted(files):
                with fs.open(os.path.normpath(os.path.join(relative, name)), "wb") as f:
                    f.write(open(os.path.join(root, name), "rb").read())
        open(image, "wb").write(bytes(fs.context.buffer))
        return
    fs = mount(image)
    if command == "ls":
        folder = arguments[2] if len(arguments) > 2 else ""
        for name in sorted(fs.listdir(folder or "/"), key=lambda n: n.encode()):
            key = folder.strip("/") + "/" + name if folder.strip("/") else name
            print(name + "/" if fs.stat(key).type == littlefs.LFSStat.TYPE_DIR else name)
    elif command == "tree":
        for key, value in walk(fs):
            print(key + "/" if value is None else "%s %d %s" % (key, len(value), hashlib.blake2s(value).hexdigest()))
    elif command == "get":
        if fs.stat(arguments[2]).type == littlefs.LFSStat.TYPE_DIR:
            sys.exit("littlefs-tool get %s: a dictionary, not a value: kv ls %s %s lists it" % (arguments[2], image, arguments[2]))
        with fs.open(arguments[2], "rb") as f:
            sys.stdout.buffer.write(f.read())
    elif command == "put":
        key = arguments[2]
        value = open(arguments[3], "rb").read() if len(arguments) > 3 else sys.stdin.buffer.read()
        parts = key.strip("/").split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            try:
                fs.stat(folder)
            except littlefs.errors.LittleFSError:
                fs.mkdir(folder)
        with fs.open(key, "wb") as f:
            f.write(value)
        save(fs, image)
    elif command == "rm":
        fs.remove(arguments[2], recursive=True)
        save(fs, image)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (littlefs.errors.LittleFSError, FileNotFoundError, IsADirectoryError) as error:
        what = " ".join(sys.argv[1:2] + sys.argv[3:4])
        sys.exit("littlefs-tool %s: %s" % (what, "no such key" if "NOENT" in str(error) or isinstance(error, FileNotFoundError) else error))
