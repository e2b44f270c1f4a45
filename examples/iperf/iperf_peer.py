#!/usr/bin/env python3
"""The iperf test's peer: the stock iperf3 client (not our code) measures the
unikernel through QEMU's user network, to it and from it (-R), with one
stream and with four in parallel (-P 4, each moved by a task of its own),
and the figures it reports must add up: every stream moved data, and the
streams sum to the total."""
import json, os, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

boot_peer.ready()   # it polls the unikernel until it answers: the boot may start at once

port = os.environ["FORWARD_PORT"]
deadline = time.time() + 90

def run(*options):
    while True:
        result = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", port, "-t", "2", "-J", "--connect-timeout", "5000"] + list(options),
                                capture_output=True, timeout=60)
        report = json.loads(result.stdout or b"{}")
        if result.returncode == 0 and "error" not in report:
            return report
        if time.time() > deadline:
            sys.exit("iperf3 %s failed: %s %s" % (" ".join(options), report.get("error"), result.stderr.decode()))
        time.sleep(1)

streams = int(sys.argv[1]) if len(sys.argv) > 1 else 1
for options, direction in [((), "to the unikernel"), (("-R",), "from the unikernel")]:
    report = run("-P", str(streams), *options)
    end = report["end"]
    sent, received = end["sum_sent"]["bytes"], end["sum_received"]["bytes"]
    if received <= 0 or received > sent:
        sys.exit("%s: sent %d, received %d" % (direction, sent, received))
    each = [stream["receiver"]["bytes"] for stream in end["streams"]]
    if len(each) != streams or min(each) <= 0 or sum(each) != received:
        sys.exit("%s: %d streams received %r, which does not add up to %d" % (direction, streams, each, received))
    print("iperf3 -P %d %s: %.1f Mbit/s, %d bytes (%s)" % (streams, direction, end["sum_received"]["bits_per_second"] / 1e6, received,
                                                          " + ".join(str(b) for b in each)))
