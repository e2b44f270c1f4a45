#!/usr/bin/env python3
"""Replays a write log (QEMU's blklogwrites, dm-log-writes format) of the
crash stream as crash images, the way a disk that loses power could leave
it: every prefix of the writes in order, and within each flush epoch (the
writes between two flushes, which a disk may reorder or drop) random
subsets in random orders, with multi-sector writes torn. Each image is
mounted by littlefs-python (the reference C littlefs): it must mount, and
hold exactly the state at the start or at the end of its epoch, and the
states at epoch boundaries must be states of the stream, in order. (Each is
read after littlefs made it consistent, as it does before any write: with a
move pending it hides entries.)

    replay.py BASE-IMAGE LOG"""
import hashlib, os, random, struct, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util
spec = importlib.util.spec_from_file_location("littlefs_tool", os.path.join(os.environ["MIRAGE_ROOT"], "tools", "littlefs-tool.py"))
tool = importlib.util.module_from_spec(spec); spec.loader.exec_module(tool)
import littlefs
import changes

FLUSH = 1
base = bytearray(open(sys.argv[1], "rb").read())
log = open(sys.argv[2], "rb").read()
magic, version, count, sector_size = struct.unpack_from("<QQQI", log, 0)
if magic != 0x6A736677736872:
    sys.exit("not a dm-log-writes log")

# (sector, data) writes, grouped into epochs ended by flushes.
epochs, current, offset = [], [], sector_size
for _ in range(count):
    sector, sectors, flags, _length = struct.unpack_from("<QQQQ", log, offset)
    offset += sector_size
    data = log[offset:offset + sectors * sector_size]
    offset += sectors * sector_size
    if sectors:
        current.append((sector, data))
    if flags & FLUSH:
        epochs.append(current)
        current = []
epochs.append(current)

def contents(image):
    """The store's keys with sizes and digests, as littlefs reads them; None if it does not mount."""
    block_size, blocks = tool.geometry(bytes(image)) if image[8:16] == b"littlefs" or b"littlefs" in image[:65536] else (None, None)
    if block_size is None:
        return "blank" if not any(image[:1024]) else None
    fs = littlefs.LittleFS(block_size=block_size, block_count=blocks, mount=False)
    fs.context.buffer = bytearray(image)
    try:
        fs.mount()
        # As littlefs does before any write: finish a pending move (until
        # then it hides the entries after the moved one).
        fs.mkdir(".replay")
        fs.rmdir(".replay")
        return tuple(sorted("%s %d %s" % (k, len(v), hashlib.blake2s(v).hexdigest()) for k, v in tool.walk(fs) if v is not None))
    except Exception:
        return None

def apply(image, writes, torn=None):
    for index, (sector, data) in enumerate(writes):
        if torn is not None and index == len(writes) - 1 and len(data) > sector_size:
            data = data[:sector_size * torn]
        image[sector * sector_size:sector * sector_size + len(data)] = data

generator = random.Random(2026)
image = bytearray(base)
boundary = [contents(image)]
images = 0
for epoch in epochs:
    start_state = contents(image)
    end_image = bytearray(image)
    apply(end_image, epoch)
    end_state = contents(end_image)
    if end_state is None:
        sys.exit("the image after %d epochs does not mount" % len(boundary))
    allowed = {start_state, end_state}
    trials = [epoch[:k] for k in range(1, len(epoch))]                          # prefixes, in order
    for _ in range(min(12, 2 ** len(epoch))):                                    # subsets, reordered
        subset = [w for w in epoch if generator.random() < 0.5]
        generator.shuffle(subset)
        trials.append(subset)
    for writes in trials:
        trial = bytearray(image)
        apply(trial, writes, torn=generator.randint(0, 7) if writes else None)
        state = contents(trial)
        images += 1
        if state not in allowed:
            sys.exit("epoch %d: a crash image holds %r, neither the epoch's start %r nor its end %r"
                     % (len(boundary), state, start_state, end_state))
    image = end_image
    if end_state != boundary[-1]:
        boundary.append(end_state)

# The states at epoch boundaries: the stream's states, in order (blank and
# freshly formatted first).
stream = ["blank", ()] + [tuple(changes.listing(state)) for state in changes.states()[1:]]
position = 0
for state in boundary:
    while position < len(stream) and stream[position] != state:
        position += 1
    if position == len(stream):
        sys.exit("the epochs' states are not the stream's states in order: %r" % (state,))

print("%d epochs, %d crash images (prefixes, reordered and torn subsets), %d distinct states, each mounted by littlefs"
      % (len(epochs), images, len(boundary)))
