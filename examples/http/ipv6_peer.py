#!/usr/bin/env python3
"""examples/http over IPv6: curl -6 (not our code), in a network namespace
behind a TAP relayed to QEMU's -netdev dgram socket (tools/netns_tap.py;
root), fetches the page and 256 KiB from the unikernel's link-local and
static IPv6 addresses."""
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import netns_tap

netns_tap.enter()
relay = netns_tap.Relay(["2001:db8:2::1/64"])
expected = bytes((i * 7 + (i >> 10)) & 0xFF for i in range(256 * 1024))

def curl(url):
    return subprocess.run(["curl", "-6", "-g", "-s", "-f", "--max-time", "10", url], capture_output=True)

page = netns_tap.retry("curl -6 the page", lambda: (lambda r: r if r.returncode == 0 else None)(curl("http://[2001:db8:2::15]/")))
assert b"Hello from a Swift unikernel" in page.stdout
print("curl -6 http://[2001:db8:2::15]/: the page")
big = curl("http://[fe80::5054:ff:fe12:3456%%%s]/big" % netns_tap.TAP)
if big.returncode != 0 or big.stdout != expected:
    sys.exit("/big over link-local: curl exited %d with %d bytes" % (big.returncode, len(big.stdout)))
print("curl -6 /big over link-local: 256 KiB intact")
