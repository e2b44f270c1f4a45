#!/usr/bin/env python3
"""The iperf test's peer: the stock iperf3 client (not our code) measures the
unikernel through QEMU's user network, to it and from it (-R), and the
figures it reports must add up."""
import json, os, subprocess, sys, time

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

for options, direction in [((), "to the unikernel"), (("-R",), "from the unikernel")]:
    report = run(*options)
    end = report["end"]
    sent, received = end["sum_sent"]["bytes"], end["sum_received"]["bytes"]
    if received <= 0 or received > sent:
        sys.exit("%s: sent %d, received %d" % (direction, sent, received))
    print("iperf3 %s: %.1f Mbit/s, %d bytes" % (direction, end["sum_received"]["bits_per_second"] / 1e6, received))
