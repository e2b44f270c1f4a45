#!/usr/bin/env python3
"""IPv6 with the host's own stack (not our code), in a network namespace behind
a TAP relayed to QEMU's -netdev dgram socket (tools/netns_tap.py; root):
radvd advertises 2001:db8:1::/64, the unikernel takes its address by SLAAC,
ndisc6 resolves it, rdisc6 finds it no router, ping -6 reaches it on its link-local and global
addresses, and the host's sockets echo UDP datagrams and 1 MiB of TCP over
IPv6 byte for byte, while a datagram and 1 MiB of TCP go over IPv4 to the same
port at the same time (with --ipv6-only, IPv4 must stay silent)."""
import ipaddress, os, socket, subprocess, sys, tempfile, threading, time
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
    failures, opened = [], []
    def server(failures):
        # The unikernel's own connection (--connect=2001:db8:1::1): from its SLAAC address, RFC 6724's choice.
        try:
            connection, peer = echo_check.accept_one(socket.AF_INET6, "2001:db8:1::1", 47007, 60)
            assert ipaddress.IPv6Address(peer[0]) == ipaddress.IPv6Address(slaac), "connected from %s, not %s" % (peer[0], slaac)
            echo_check.stream_through(connection, os.urandom(256 << 10), "TCP on the unikernel's own connection")
        except BaseException as problem:
            failures.append("active open: %s" % problem)

    def pings(address):
        return subprocess.run(["ping", "-6", "-c", "1", "-W", "1", address], capture_output=True).returncode == 0

    netns_tap.retry("ping -6 to the SLAAC address %s" % slaac, lambda: pings(slaac), 90)
    if "--active-open" in sys.argv:
        # Listening only now that the SLAAC address is in use, so that the source
        # it must come from is there; until now the unikernel's tries were refused.
        opened.append(threading.Thread(target=server, args=(failures,)))
        opened[0].start()
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
    dual = "--ipv6-only" not in sys.argv
    if dual:
        # The same port over IPv4, from the same namespace.
        udp4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp4.settimeout(2)
        for attempt in range(5):
            udp4.sendto(b"over four", ("10.0.2.15", 7))
            try:
                if udp4.recv(2048) == b"over four":
                    break
            except socket.timeout:
                continue
        else:
            sys.exit("no UDP echo over IPv4 beside IPv6")
        print("UDP over IPv4: echoed beside IPv6")

    # 1 MiB of TCP over IPv6 and, in the dual stack, 1 MiB over IPv4 at the same time.
    def stream(address, what, failures):
        try:
            connection = socket.create_connection((address, 7), timeout=10)
            connection.settimeout(60)
            echo_check.stream_through(connection, os.urandom(1 << 20), what)
        except BaseException as problem:   # sys.exit in a thread raises SystemExit there
            failures.append("%s: %s" % (what, problem))
    streams = [threading.Thread(target=stream, args=(slaac, "TCP over IPv6", failures))]
    if dual:
        streams.append(threading.Thread(target=stream, args=("10.0.2.15", "TCP over IPv4", failures)))
    for thread in streams:
        thread.start()
    for thread in streams + opened:
        thread.join()
    if failures:
        sys.exit("; ".join(failures))
    print("TCP: 1 MiB echoed intact over IPv6" + (" and, at the same time, over IPv4" if dual else "")
          + (", and 256 KiB on the unikernel's own connection from its SLAAC address" if "--active-open" in sys.argv else ""))
finally:
    radvd.terminate()
    radvd.wait(5)
