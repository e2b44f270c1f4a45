#!/usr/bin/env python3
"""The benchmark's IPv6 beside IPv4: iperf3 from a network namespace behind a
TAP relayed to QEMU's dgram socket (tools/netns_tap.py; root), against
examples/iperf at 10.0.2.15 and 2001:db8:2::15, both ways. The relay is
the same for both families, so the figures compare them; it is slower than
QEMU's user network, so they do not compare with the table above."""
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import netns_tap

netns_tap.enter()
relay = netns_tap.Relay(["10.0.2.1/24", "2001:db8:2::1/64"])
seconds = os.environ.get("SECONDS_PER_RUN", "5")

def iperf(address, reverse):
    def attempt():
        command = ["iperf3", "-c", address, "-t", seconds, "-J"] + (["-R"] if reverse else [])
        report = json.loads(subprocess.run(command, capture_output=True, timeout=120).stdout or b"{}")
        return report if "end" in report and "error" not in report else None
    return netns_tap.retry("iperf3 -c %s" % address, attempt)["end"]["sum_received"]["bits_per_second"] / 1e6

figures = {family: (iperf(address, False), iperf(address, True)) for family, address in (("IPv4", "10.0.2.15"), ("IPv6", "2001:db8:2::15"))}
for family, (to, back) in figures.items():
    print("%-40s %12.0f %12.0f" % ("TCP over %s through the TAP relay, Mbit/s" % family, to, back))
