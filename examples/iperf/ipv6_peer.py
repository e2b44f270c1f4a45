#!/usr/bin/env python3
"""iperf3 -6 (not our code) from a network namespace behind a TAP relayed to
QEMU's dgram socket (tools/netns_tap.py; root), to the unikernel's static
IPv6 address and back (-R); the figures must add up."""
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import netns_tap

netns_tap.enter()
relay = netns_tap.Relay(["2001:db8:2::1/64"])

def run(*options):
    def attempt():
        result = subprocess.run(["iperf3", "-6", "-c", "2001:db8:2::15", "-t", "2", "-J"] + list(options), capture_output=True, timeout=60)
        report = json.loads(result.stdout or b"{}")
        return report if "end" in report and "error" not in report else None
    return netns_tap.retry("iperf3 -6 %s" % " ".join(options), attempt)

for options, direction in [((), "to the unikernel"), (("-R",), "from the unikernel")]:
    end = run(*options)["end"]
    sent, received = end["sum_sent"]["bytes"], end["sum_received"]["bytes"]
    if received <= 0 or received > sent:
        sys.exit("%s: sent %d, received %d" % (direction, sent, received))
    print("iperf3 -6 %s: %.1f Mbit/s" % (direction, end["sum_received"]["bits_per_second"] / 1e6))
