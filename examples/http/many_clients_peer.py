#!/usr/bin/env python3
"""Many clients at once, through a TAP in a network namespace of the peer's
own (tools/netns_tap.py; root), as a real network: QEMU's user network
accepts forwarded connections one at a time (a listen backlog of 1), which
would measure it instead of the unikernel. With 100 connections open and idle (each has had
one answer on a kept-alive connection and then says nothing), ApacheBench
(`ab -k -c 64 -n 6400`, not our code) must get every answer, a new client's
request must not wait on the idle ones (its answer comes no more than
100 ms later than before they were opened: measured against the same
unikernel on the same machine, so a slow machine does not fail it), and the
idle connections must still answer afterwards. At the end the peer sends
what is left of --requests (REQUESTS below), so the unikernel stops."""
import os, re, socket, statistics, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import netns_tap

netns_tap.enter()
relay = netns_tap.Relay(["10.0.2.1/24"])    # says the peer is ready once the TAP carries frames

REQUESTS = 6700     # the test's --requests
IDLE = 100
server, port = "10.0.2.15", 80
answered = 0

def request(sock, close=False):
    """One GET / on `sock`, its whole answer read; True if it was a 200."""
    global answered
    sock.sendall(b"GET / HTTP/1.1\r\nHost: unikernel\r\n" + (b"Connection: close\r\n" if close else b"") + b"\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(4096)
        if not data:
            return False
        head += data
    header, body = head.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"Content-Length: (\d+)", header).group(1))
    while len(body) < length:
        data = sock.recv(4096)
        if not data:
            return False
        body += data
    answered += 1
    return header.startswith(b"HTTP/1.1 200")

def fresh_request():
    """Seconds a new client waits for its answer on a connection of its own."""
    started = time.monotonic()
    with socket.create_connection((server, port), timeout=30) as sock:
        assert request(sock, close=True), "a new client got no page"
    return time.monotonic() - started

# Wait for the server (a refused or dropped try is not answered, so not counted).
deadline = time.time() + 120
while True:
    try:
        fresh_request()
        break
    except (OSError, AssertionError, AttributeError):
        if time.time() > deadline:
            sys.exit("the server never answered")
        time.sleep(0.5)

before = statistics.median(fresh_request() for _ in range(5))
idle = []
for _ in range(IDLE):
    sock = socket.create_connection((server, port), timeout=30)
    assert request(sock), "an idle-to-be connection got no page"
    idle.append(sock)
with_idle = statistics.median(fresh_request() for _ in range(5))
print("a new client's answer: %.1f ms before the idle connections, %.1f ms with %d of them open" % (before * 1e3, with_idle * 1e3, IDLE))
if with_idle > before + 0.1:
    sys.exit("idle connections delay another client's answer by %.0f ms" % ((with_idle - before) * 1e3))

bench = subprocess.run(["ab", "-k", "-c", "64", "-n", "6400", "-s", "60", "http://%s:%d/" % (server, port)],
                       capture_output=True, text=True, timeout=600)
complete = re.search(r"Complete requests:\s+(\d+)", bench.stdout)
failed = re.search(r"Failed requests:\s+(\d+)", bench.stdout)
non2xx = re.search(r"Non-2xx responses:\s+(\d+)", bench.stdout)
rate = re.search(r"Requests per second:\s+([\d.]+)", bench.stdout)
if bench.returncode != 0 or not complete or int(complete.group(1)) != 6400 or int(failed.group(1)) != 0 or non2xx:
    sys.exit("ab -k -c 64 -n 6400: exit %d\n%s%s" % (bench.returncode, bench.stdout[-1500:], bench.stderr[-500:]))
answered += 6400
print("ab -k -c 64 -n 6400 with %d idle connections open: no failed request, %s requests/s" % (IDLE, rate.group(1)))

for sock in idle:
    assert request(sock, close=True), "an idle connection was dropped"
    sock.close()
print("the %d idle connections still answered" % IDLE)
while answered < REQUESTS:
    fresh_request()
print("%d requests answered in all" % answered)
