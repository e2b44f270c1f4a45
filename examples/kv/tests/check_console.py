#!/usr/bin/env python3
"""Checks what examples/kv printed (console.txt) against htdocs/ as the host
sees it: listings, sizes, bytes and BLAKE2s digests (hashlib's, not ours)."""
import hashlib, os, sys

htdocs = os.path.join(os.environ["UNIKERNEL_DIR"], "htdocs")
console = open(sys.argv[1] if len(sys.argv) > 1 else "console.txt", encoding="utf-8").read().splitlines()

def listing(folder):
    names = sorted(os.listdir(os.path.join(htdocs, folder)), key=lambda n: n.encode())
    return " ".join(n + "/" if os.path.isdir(os.path.join(htdocs, folder, n)) else n for n in names)

def blob(key):
    return open(os.path.join(htdocs, key), "rb").read()

hello = blob("hello.txt")
binary = blob("docs/bytes.bin")
expected = [
    "root: " + listing(""),
    "docs: " + listing("docs"),
    "hello.txt (%d bytes): %s" % (len(hello), hello.split(b"\n")[0].decode()),
    "hello.txt digest: " + hashlib.blake2s(hello).hexdigest(),
    "docs/bytes.bin %d bytes; at 5000: %s" % (len(binary), " ".join(str(b) for b in binary[5000:5004])),
    "docs/bytes.bin digest: " + hashlib.blake2s(binary).hexdigest(),
    "missing.txt exists: no",
]
missing = [line for line in expected if line not in console]
if missing:
    sys.exit("not printed: %r" % missing)
