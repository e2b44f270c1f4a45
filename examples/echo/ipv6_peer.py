#!/usr/bin/env python3
"""IPv6 with the host's own stack (not our code), in a network namespace behind
a TAP relayed to QEMU's -netdev dgram socket (tools/netns_tap.py; root):
radvd advertises 2001:db8:1::/64, the unikernel takes its address by SLAAC,
ndisc6 resolves it, rdisc6 finds it no router, ping -6 reaches it on its link-local and global
addresses, and the host's sockets echo UDP datagrams and 1 MiB of TCP over
IPv6 byte for byte, while IPv4 answers too."""
import os, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import echo_check, netns_tap

netns_tap.enter()
relay = netns_tap.Relay(["10.0.2.1/24", "2001:db8:1::1/64"])
netns_tap.run("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")   # radvd advertises only as a router
config = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
config.write("interface %s { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 5;"
             " prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; }; };\n" % netns_tap.TAP)
config.close()
radvd = subprocess.Popen(["radvd", "-n", "-C", config.name, "-p", config.name + ".pid", "-m", "stderr"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    slaac, link_local = "2001:db8:1::5054:ff:fe12:3456", "fe80::5054:ff:fe12:3456"

    def pings(address):
        return subprocess.run(["ping", "-6", "-c", "1", "-W", "1", address], capture_output=True).returncode == 0

    netns_tap.retry("ping -6 to the SLAAC address %s" % slaac, lambda: pings(slaac), 90)
    result = subprocess.run(["ping", "-6", "-c", "3", "-i", "0.2", slaac], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    print("ping -6 %s: %s" % (slaac, result.stdout.strip().splitlines()[-2]))
    assert pings(link_local + "%" + netns_tap.TAP), "no answer on the link-local address"
    print("ping -6 %s: answered" % link_local)
    found = subprocess.run(["ndisc6", "-1", "-r", "3", slaac, netns_tap.TAP], capture_output=True, text=True)
    assert found.returncode == 0 and "52:54:00:12:34:56" in found.stdout.lower(), found.stdout + found.stderr
    print("ndisc6: %s is at 52:54:00:12:34:56" % slaac)
    # rdisc6: radvd advertises the prefix the unikernel took; the unikernel,
    # asked directly, advertises nothing, as a host must (RFC 4861, 6.2.6).
    prefixes = subprocess.run(["rdisc6", "-1", "-q", netns_tap.TAP], capture_output=True, text=True)
    assert "2001:db8:1::/64" in prefixes.stdout, prefixes.stdout + prefixes.stderr
    asked = subprocess.run(["rdisc6", "-1", "-r", "2", "-w", "500", link_local, netns_tap.TAP], capture_output=True, text=True)
    assert asked.returncode != 0 and "Prefix" not in asked.stdout, "the unikernel answered a router solicitation: " + asked.stdout
    print("rdisc6: radvd advertises 2001:db8:1::/64; the unikernel, a host, advertises nothing")
    answers = subprocess.run(["ping", "-4", "-c", "1", "-W", "2", "10.0.2.15"], capture_output=True).returncode == 0
    if "--ipv6-only" in sys.argv:
        assert not answers, "IPv4 answered under --ip-mode ipv6"
        print("IPv4: silent, as --ip-mode ipv6 says")
    else:
        assert answers, "IPv4 no longer answers"

    # UDP over IPv6, from the host's socket.
    udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    udp.settimeout(2)
    for size in (1, 100, 1452):
        payload = os.urandom(size)
        for attempt in range(5):
            udp.sendto(payload, (slaac, 7))
            try:
                if udp.recv(2048) == payload:
                    break
            except socket.timeout:
                continue
        else:
            sys.exit("no UDP echo of %d bytes over IPv6" % size)
    print("UDP over IPv6: 3 datagrams echoed")

    # 1 MiB of TCP over IPv6.
    connection = socket.create_connection((slaac, 7), timeout=10)
    connection.settimeout(60)
    payload = os.urandom(1 << 20)
    echo_check.stream_through(connection, payload, "TCP over IPv6")
    print("TCP over IPv6: 1 MiB echoed intact")
finally:
    radvd.terminate()
    radvd.wait(5)
