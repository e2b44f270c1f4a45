#!/usr/bin/env python3
"""Checks a disk after a crash: the crash boot's console (console.txt) says
which changes were acknowledged; the store must hold the state after the
last of them, or after the next one (in flight when the disk stopped) if it
landed. Checked twice, on what littlefs itself (littlefs-python) reads from
the image and on what the unikernel listed after a reboot (verify.txt)."""
import hashlib, os, re, subprocess, sys

CHANGES = 18

def value(index):
    return bytes((i * 31 + index) & 0xFF for i in range(index * 397 % 1700))

def states():
    model, result = {}, [{}]
    for index in range(CHANGES):
        if index % 9 == 4:
            model["moved/%d" % (index % 3)] = model.pop("k/%d" % ((index - 1) % 5))
        elif index % 9 == 8:
            del model["k/%d" % ((index - 1) % 5)]
        else:
            model["k/%d" % (index % 5)] = value(index)
        result.append(dict(model))
    return result

def listing(state):
    return sorted("%s %d %s" % (k, len(v), hashlib.blake2s(v).hexdigest()) for k, v in state.items())

def main():
    acknowledged = len(re.findall(r"^ack \d+$", open("console.txt").read(), re.M))
    allowed = [listing(s) for s in states()[acknowledged:acknowledged + 2]]
    tool = os.path.join(os.environ["MIRAGE_ROOT"], "tools", "littlefs-tool.py")
    tree = subprocess.run([sys.executable, tool, "tree", "data.lfs"], capture_output=True, text=True, check=True).stdout.split("\n")
    by_littlefs = sorted(line for line in tree if line and not line.endswith("/"))
    by_unikernel = sorted(line[4:] for line in open("verify.txt").read().split("\n") if line.startswith("key "))
    if by_littlefs not in allowed:
        sys.exit("after %d acknowledged changes, littlefs reads %r; expected one of %r" % (acknowledged, by_littlefs, allowed))
    if by_unikernel != by_littlefs:
        sys.exit("the unikernel reads %r, littlefs %r" % (by_unikernel, by_littlefs))
    print("%d acknowledged changes present" % acknowledged)


if __name__ == "__main__":
    main()
