#!/usr/bin/env python3
"""Port 80 of the HTTPS example, forwarded from 127.0.0.1:$FORWARD_PORT:
curl's request gets a 301 to https:// with the same host and path."""
import os, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

boot_peer.ready()
url = "http://localhost:%s/some/page?x=1" % os.environ["FORWARD_PORT"]
deadline = time.time() + 120
while True:
    answer = subprocess.run(["curl", "-s", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", url],
                            capture_output=True)
    if answer.returncode == 0 and answer.stdout.startswith(b"301"):
        break
    if time.time() > deadline:
        sys.exit("no redirect: curl exited %d: %r" % (answer.returncode, answer.stdout))
    time.sleep(1)
expected = "301 https://localhost:%s/some/page?x=1" % os.environ["FORWARD_PORT"]
if answer.stdout.decode() != expected:
    sys.exit("got %r, wanted %r" % (answer.stdout, expected))
print(expected)
