#!/usr/bin/env python3
"""The HTTP test's peer: curl (not our code) fetches from the unikernel
through QEMU's user network (127.0.0.1:$FORWARD_PORT forwarded to its port
80), or with --tap over a TAP interface it makes (tools/host_tap.py) at the
unikernel's address 198.18.0.15: the page, 256 KiB byte for byte, and a
404 and the page again on one kept-alive connection."""
import hashlib, os, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

if "--tap" in sys.argv:
    import host_tap
    host_tap.make()
    base = "http://198.18.0.15"
else:
    base = "http://127.0.0.1:%s" % os.environ["FORWARD_PORT"]
boot_peer.ready()   # it polls the unikernel until it answers: the boot may start at once

def curl(path, *options):
    return subprocess.run(["curl", "-s", "--max-time", "20"] + list(options) + [base + path], capture_output=True)

deadline = time.time() + 90
while True:
    page = curl("/", "-f")
    if page.returncode == 0 and b"Hello from a Swift unikernel" in page.stdout:
        break
    if time.time() > deadline:
        sys.exit("no page: curl exited %d" % page.returncode)
    time.sleep(0.5)
print("GET / ok (%d bytes)" % len(page.stdout))
big = curl("/big", "-f")
expected = bytes((i * 7 + (i >> 10)) & 0xFF for i in range(256 * 1024))
if big.returncode != 0 or big.stdout != expected:
    sys.exit("GET /big: curl exited %d with %d bytes, sha256 %s" % (big.returncode, len(big.stdout), hashlib.sha256(big.stdout).hexdigest()))
print("GET /big ok (%d bytes)" % len(big.stdout))
# Two requests on one connection (keep-alive): curl reuses it, connecting once.
both = subprocess.run(["curl", "-s", "--max-time", "20", "-w", "%{http_code} %{num_connects}\n",
                       "-o", "/dev/null", base + "/nothing", "-o", "/dev/null", base + "/"], capture_output=True)
codes = both.stdout.decode().split()
if codes != ["404", "1", "200", "0"]:
    sys.exit("GET /nothing then / on one connection: %r" % both.stdout)
print("GET /nothing: 404, then GET / on the same connection")
