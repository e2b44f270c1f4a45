#!/usr/bin/env python3
"""A git store's disk image on the host, through git itself: what `mirage-config
kv pack --git` and `kv ls|get` run for a disk that holds a git pack (kv-git's
driver.yaml names this file as its host tool).

    host-tool.py pack-git REPO REF IMAGE  the files of REF's commit in REPO as a pack
                                          and its index (git pack-objects), behind a
                                          header block that names the ref and the commit
    host-tool.py ls IMAGE [KEY]           the entries under KEY, dictionaries ending in /
    host-tool.py get IMAGE KEY            a value, to standard output
    host-tool.py put IMAGE KEY FILE       refused: a git store is read-only

The image: a 512-byte header of text lines ("mirage-config git store 1",
"ref NAME", "commit HEX", "pack OFFSET LENGTH", "index OFFSET LENGTH", the rest
zeros), the pack at 512, its index (version 2) at the next multiple of 512,
and zeros to a whole number of 512-byte sectors. Only the commit, its trees
and their blobs are packed: the store serves one commit, not its history.
"""
import os, shutil, subprocess, sys, tempfile

MAGIC = "mirage-config git store 1"
SECTOR = 512


def git(*arguments, input=None, directory=None):
    # No configuration of the caller's may change what is packed or read.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": "/nonexistent",
                   "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}
    command = ["git"] + (["-C", directory] if directory else []) + list(arguments)
    try:
        result = subprocess.run(command, input=input, capture_output=True, timeout=600, env=environment)
    except FileNotFoundError:
        sys.exit("git is not installed: apt-get install git")
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(lines[-1] if lines else "git %s exited with %d" % (arguments[0], result.returncode))
    return result.stdout


class GitError(Exception):
    pass


def pack(repository, ref, image):
    if not os.path.isdir(repository):
        sys.exit("%s is not a folder" % repository)
    try:
        git("rev-parse", "--git-dir", directory=repository)
    except GitError:
        sys.exit("%s is not a git repository" % repository)
    try:
        commit = git("rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}", directory=repository).decode().strip()
    except GitError:
        commit = ""
    if not commit:
        sys.exit("%s names no commit in %s (git rev-parse %s)" % (ref, repository, ref))
    if ref == "HEAD":
        try:
            full = git("symbolic-ref", "-q", "HEAD", directory=repository).decode().strip()
        except GitError:
            full = ""   # a detached HEAD: recorded as HEAD
    else:
        # Git before 2.43 echoes --end-of-options: take the line that names a ref.
        named = git("rev-parse", "--symbolic-full-name", "--end-of-options", ref, directory=repository).decode().splitlines()
        full = next((line for line in named if line.startswith("refs/")), "")
    name = full if full.startswith("refs/") else ref
    tree = git("rev-parse", commit + "^{tree}", directory=repository).decode().strip()
    # The objects and their paths (pack-objects groups deltas by path).
    lines = [commit + "\n", tree + "\n"]
    for entry in git("ls-tree", "-r", "-t", "-z", "--full-tree", commit, directory=repository).split(b"\0"):
        if not entry:
            continue
        info, path = entry.split(b"\t", 1)
        mode, kind, object_id = info.decode().split()
        if kind in ("blob", "tree"):
            label = path.decode(errors="replace")
            lines.append(object_id + ("\n" if "\n" in label else " " + label + "\n"))
    with tempfile.TemporaryDirectory() as scratch:
        prefix = os.path.join(scratch, "pack")
        # One thread: the same repository packs to the same bytes.
        name_hash = git("-c", "pack.threads=1", "-c", "pack.indexVersion=2", "pack-objects", "-q", "--delta-base-offset", prefix,
                        input="".join(lines).encode(), directory=repository).decode().strip()
        pack_bytes = open("%s-%s.pack" % (prefix, name_hash), "rb").read()
        index_bytes = open("%s-%s.idx" % (prefix, name_hash), "rb").read()
    pack_offset = SECTOR
    index_offset = (pack_offset + len(pack_bytes) + SECTOR - 1) // SECTOR * SECTOR
    header = "%s\nref %s\ncommit %s\npack %d %d\nindex %d %d\n" % (
        MAGIC, name, commit, pack_offset, len(pack_bytes), index_offset, len(index_bytes))
    if len(header) > SECTOR or any(c in name for c in " \n\0"):
        sys.exit("the ref name %r does not fit a git store's header" % name)
    with open(image, "wb") as out:
        out.write(header.encode().ljust(SECTOR, b"\0"))
        out.write(pack_bytes)
        out.write(b"\0" * (index_offset - pack_offset - len(pack_bytes)))
        out.write(index_bytes)
        end = index_offset + len(index_bytes)
        out.write(b"\0" * ((SECTOR - end % SECTOR) % SECTOR))


def header(image):
    with open(image, "rb") as file:
        lines = file.read(SECTOR).split(b"\0")[0].decode(errors="replace").splitlines()
    if len(lines) < 5 or lines[0] != MAGIC:
        sys.exit("%s is not a git store's disk image" % image)
    fields = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in lines[1:] if " " in line}
    return fields


def repository_of(image, scratch):
    """An empty bare repository holding the image's pack and index: git reads the image."""
    fields = header(image)
    git("init", "-q", "--bare", scratch)
    with open(image, "rb") as file:
        data = file.read()
    for kind, suffix in (("pack", ".pack"), ("index", ".idx")):
        offset, length = (int(n) for n in fields[kind].split())
        with open(os.path.join(scratch, "objects", "pack", "pack-store" + suffix), "wb") as out:
            out.write(data[offset:offset + length])
    return fields["commit"]


def key_path(key):
    return "/".join(part for part in key.split("/") if part)


def main(arguments):
    if len(arguments) < 2:
        sys.exit(__doc__)
    command = arguments[0]
    if command == "pack-git" and len(arguments) == 4:
        pack(arguments[1], arguments[2], arguments[3])
        return
    if command == "pack":
        sys.exit("a git store packs a git repository, not a folder: mirage-config kv pack --git REPO[@REF] -o IMAGE")
    if command == "put":
        sys.exit("a git store is read-only: commit the change and pack again (mirage-config kv pack --git REPO -o %s)" % arguments[1])
    image = arguments[1]
    scratch = tempfile.mkdtemp()
    try:
        commit = repository_of(image, os.path.join(scratch, "repo"))
        repo = os.path.join(scratch, "repo")
        if command == "ls":
            key = key_path(arguments[2] if len(arguments) > 2 else "")
            try:
                listing = git("--git-dir", repo, "ls-tree", "-z", commit + ":" + key if key else commit)
            except GitError:
                sys.exit("%s has no dictionary '%s'" % (image, key))
            names = []
            for entry in listing.split(b"\0"):
                if not entry:
                    continue
                info, name = entry.split(b"\t", 1)
                mode = info.split()[0]
                if mode == b"040000":
                    names.append(name + b"/")
                elif mode in (b"100644", b"100755", b"100664"):
                    names.append(name)
            for name in sorted(names, key=lambda n: n.rstrip(b"/")):
                sys.stdout.buffer.write(name + b"\n")
        elif command == "get" and len(arguments) > 2:
            try:
                sys.stdout.buffer.write(git("--git-dir", repo, "cat-file", "blob", commit + ":" + key_path(arguments[2])))
            except GitError:
                sys.exit("%s has no key '%s'" % (image, arguments[2]))
        else:
            sys.exit(__doc__)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
