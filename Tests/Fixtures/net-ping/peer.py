#!/usr/bin/env python3
"""The ping test's peer: frames as datagrams on the Unix socket $NET_SOCKET
(QEMU listens on $NET_SOCKET.qemu). With scapy (not our code) it asks the
unikernel's address by ARP, sends malformed frames it must ignore, then
three echo requests whose replies must match, checksums and all."""
import os, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import frame_peer
from frame_peer import send, expect
from scapy.all import ARP, Ether, ICMP, IP, TCP, UDP, Raw, raw

me_mac, me_ip, guest_ip = "02:00:00:00:00:01", "10.0.2.1", "10.0.2.15"
frame_peer.wait_for_qemu()

def answer(accept, resend, what, seconds=20):
    return expect(accept, what, seconds, resend)

who = Ether(src=me_mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=me_mac, psrc=me_ip, pdst=guest_ip)
reply = answer(lambda f: ARP in f and f[ARP].op == 2 and f[ARP].psrc == guest_ip, who, "ARP reply")
guest_mac = reply[ARP].hwsrc
assert reply[ARP].pdst == me_ip and reply[ARP].hwdst == me_mac and reply.dst == me_mac, reply.summary()
print("ARP: %s is at %s" % (guest_ip, guest_mac))

# Malformed frames: each must be dropped, none may stop the unikernel.
base = Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip) / ICMP(id=7, seq=99) / Raw(b"x" * 16)
good = raw(base)
bad = [good[:10], good[:20], good[:33]]
bad.append(good[:24] + bytes([good[24] ^ 0xFF]) + good[25:])        # IP header checksum wrong
bad.append(good[:36] + bytes([good[36] ^ 0xFF]) + good[37:])        # ICMP checksum wrong
bad.append(raw(Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip, len=400) / ICMP()))   # total length past the end
bad.append(raw(Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip, flags="MF") / ICMP() / Raw(b"frag")))
bad += [os.urandom(n) for n in (1, 13, 14, 60, 200, 1514)]
for frame in bad:
    send(frame)

# A datagram to a port nobody listens on: ICMP port unreachable, quoting it.
probe = Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip) / UDP(sport=4321, dport=9) / Raw(b"anyone?")
got = answer(lambda f: ICMP in f and f[ICMP].type == 3, probe, "port unreachable")
assert got[ICMP].code == 3 and raw(got[ICMP].payload)[:20] == raw(probe[IP])[:20], got.summary()
print("port 9: unreachable")

# A SYN to a port nobody listens on: a reset that acknowledges it (RFC 9293 3.10.7.1).
probe = Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip) / TCP(sport=40000, dport=80, flags="S", seq=12345)
got = answer(lambda f: TCP in f and f[TCP].flags.R, probe, "TCP reset")
assert got[TCP].flags.A and got[TCP].ack == 12346 and got[TCP].sport == 80, got.summary()
print("TCP port 80: reset")

for sequence in (1, 2, 3):
    payload = bytes(range(sequence, sequence + 40))
    request = Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip, ttl=64) / ICMP(type=8, id=0x1234, seq=sequence) / Raw(payload)
    # Sent once, not resent: the unikernel ends after its third reply, so a
    # resend on a busy machine (its reply late, not lost) would end it early.
    send(request)
    got = answer(lambda f: ICMP in f and f[ICMP].type == 0 and f[ICMP].seq == sequence, None, "echo reply %d" % sequence)
    assert got[IP].src == guest_ip and got[IP].dst == me_ip, got.summary()
    assert got[ICMP].id == 0x1234 and raw(got[ICMP].payload) [:len(payload)] == payload, got.summary()
    # Checksums as scapy computes them.
    again = Ether(raw(got))
    del again[IP].chksum
    del again[ICMP].chksum
    again = Ether(raw(again))
    assert again[IP].chksum == got[IP].chksum and again[ICMP].chksum == got[ICMP].chksum, "checksums"
    print("echo %d answered" % sequence)
