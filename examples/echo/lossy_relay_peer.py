#!/usr/bin/env python3
"""Loss recovery for real: Linux's own TCP (not our code) echoes 1 MiB through
the unikernel while a relay, between QEMU's -netdev dgram socket
($NET_SOCKET) and a TAP device in a network namespace of its own, drops
3%, duplicates 1% and reorders 3% of the frames both ways. Every byte must
come back, in order. Needs root (tools/netns_tap.py)."""
import os, socket, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import echo_check, netns_tap

netns_tap.enter()
relay = netns_tap.Relay(["10.0.2.1/24"], drop=0.03, duplicate=0.01, reorder=0.03)

def connect():
    try:
        return socket.create_connection(("10.0.2.15", 7), timeout=3)
    except OSError:
        return None

connection = netns_tap.retry("a TCP connection to the unikernel", connect)
connection.settimeout(60)
payload = os.urandom(1 << 20)
started = time.time()

echo_check.stream_through(connection, payload, "TCP through the lossy relay")
elapsed = time.time() - started
with relay.lock:
    counts = relay.counts
    print("1 MiB echoed intact in %.1f s through %d frames: %d dropped, %d duplicated, %d reordered" % (
        elapsed, counts["frames"], counts["dropped"], counts["duplicated"], counts["reordered"]))
    if counts["dropped"] < 20:
        sys.exit("the relay dropped too few frames to test recovery")
