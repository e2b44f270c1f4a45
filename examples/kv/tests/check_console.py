#!/usr/bin/env python3
"""Checks what examples/kv printed (console.txt) against htdocs/ as the host
sees it: listings, sizes, bytes and digests (hashlib's, not ours): BLAKE2s, or
with --digest git, git's name of the blob (SHA-1 of "blob SIZE\\0" and its bytes,
as git hash-object prints it)."""
import hashlib, os, sys

arguments = sys.argv[1:]
git_digest = "--digest" in arguments and arguments[arguments.index("--digest") + 1] == "git"
arguments = [a for i, a in enumerate(arguments) if a != "--digest" and (i == 0 or arguments[i - 1] != "--digest")]

htdocs = os.path.join(os.environ["UNIKERNEL_DIR"], "htdocs")
console = open(arguments[0] if arguments else "console.txt", encoding="utf-8").read().splitlines()

def listing(folder):
    names = sorted(os.listdir(os.path.join(htdocs, folder)), key=lambda n: n.encode())
    return " ".join(n + "/" if os.path.isdir(os.path.join(htdocs, folder, n)) else n for n in names)

def blob(key):
    return open(os.path.join(htdocs, key), "rb").read()

def digest(data):
    if git_digest:
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return hashlib.blake2s(data).hexdigest()

hello = blob("hello.txt")
binary = blob("docs/bytes.bin")
expected = [
    "root: " + listing(""),
    "docs: " + listing("docs"),
    "hello.txt (%d bytes): %s" % (len(hello), hello.split(b"\n")[0].decode()),
    "hello.txt digest: " + digest(hello),
    "docs/bytes.bin %d bytes; at 5000: %s" % (len(binary), " ".join(str(b) for b in binary[5000:5004])),
    "docs/bytes.bin digest: " + digest(binary),
    "missing.txt exists: no",
]
missing = [line for line in expected if line not in console]
if missing:
    sys.exit("not printed: %r" % missing)
