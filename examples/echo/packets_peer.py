#!/usr/bin/env python3
"""The echo server's packet-level test: scapy (not our code) on the Unix socket
$NET_SOCKET (QEMU's -netdev dgram) speaks TCP and UDP to the unikernel frame
by frame, and checks what comes back: the handshake and its options (MSS,
window scale, SACK-permitted, timestamps), data in order, out of order (a
SACK block, then everything at once), a duplicate, a zero window (probes,
then the data once it opens), the close; RFC 5961's challenge ACK for a
blind reset, then a real reset; and a UDP datagram in fragments."""
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import frame_peer
from frame_peer import send, frames, expect, silent
from scapy.all import ARP, Ether, IP, TCP, UDP, Raw, raw, fragment

me_mac, me_ip, guest_ip = "02:00:00:00:00:01", "10.0.2.1", "10.0.2.15"
frame_peer.wait_for_qemu()
guest_mac = "ff:ff:ff:ff:ff:ff"

def answer_arp(frame):
    """The unikernel's ARP requests for us are answered on the way."""
    if ARP in frame and frame[ARP].op == 1 and frame[ARP].pdst == me_ip:
        send(Ether(src=me_mac, dst=frame.src) / ARP(op=2, hwsrc=me_mac, psrc=me_ip, hwdst=frame.src, pdst=frame[ARP].psrc))
        return True
    return False
frame_peer.handled = answer_arp

# Wait for the unikernel: ARP until it answers.
who = Ether(src=me_mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=me_mac, psrc=me_ip, pdst=guest_ip)
guest_mac = expect(lambda f: ARP in f and f[ARP].op == 2, "ARP reply", 60, who)[ARP].hwsrc

clock = [1000]
def tcp(sport, flags, seq, ack=0, data=b"", window=1024, options=None):
    clock[0] += 1
    opts = options if options is not None else [("NOP", None), ("NOP", None), ("Timestamp", (clock[0], echo[0]))]
    return Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip) / TCP(sport=sport, dport=7, flags=flags, seq=seq, ack=ack,
                                                                              window=window, options=opts) / Raw(data)
echo = [0]
def from_guest(sport, accept=lambda t: True):
    def test(f):
        if TCP in f and f[TCP].dport == sport and accept(f[TCP]):
            for name, value in f[TCP].options:
                if name == "Timestamp": echo[0] = value[0]
            return True
        return False
    return test

def option(segment, name):
    return next((value for key, value in segment.options if key == name), None)

# 1. The handshake: our options offered, each answered.
A, seq = 40001, 100000
syn = tcp(A, "S", seq, options=[("MSS", 1200), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 5)])
synack = expect(from_guest(A, lambda t: t.flags == "SA"), "SYN-ACK", resend=syn)[TCP]
assert synack.ack == seq + 1, synack.summary()
assert option(synack, "MSS") == 1460 and option(synack, "WScale") == 1 and option(synack, "SAckOK") is not None, synack.options
assert option(synack, "Timestamp")[1] == 1000, "echoes our timestamp: %s" % (synack.options,)
server = synack.seq + 1
seq += 1
send(tcp(A, "A", seq, server))
print("handshake: MSS 1460, window scale 1, SACK permitted, timestamps")

def collect(sport, count, ours, seconds=10):
    """Echoed bytes from the unikernel until `count` have come, acknowledging them
    from our sequence number `ours` (an ACK below the window would be ignored)."""
    global server
    got = b""
    end = time.time() + seconds
    while len(got) < count and time.time() < end:
        for f in frames(0.5):
            if from_guest(sport, lambda t: len(t.payload) > 0)(f):
                t = f[TCP]
                if t.seq == server:
                    got += raw(t.payload)
                    server += len(t.payload)
                send(tcp(sport, "A", ours, server))
                if len(got) >= count: break
    return got

# 2. In order.
send(tcp(A, "PA", seq, server, b"abcdefghij"))
seq += 10
assert collect(A, 10, seq) == b"abcdefghij"
print("in order: echoed")

# 3. Out of order: the second piece first draws a duplicate ACK with its SACK block.
first, second = b"0123456789", b"ABCDEFGHIJ"
send(tcp(A, "PA", seq + 10, server, second))
dup = expect(from_guest(A, lambda t: t.ack == seq and option(t, "SAck") is not None), "duplicate ACK with SACK")[TCP]
assert tuple(option(dup, "SAck"))[:2] == (seq + 10, seq + 20), dup.options
send(tcp(A, "PA", seq, server, first))
assert collect(A, 20, seq + 20) == first + second, "the kept piece joined the first"
print("out of order: SACK block %d-%d, then 20 bytes in order" % (seq + 10, seq + 20))
seq += 20

# 4. A duplicate of what was taken: acknowledged again, not echoed again.
send(tcp(A, "PA", seq - 20, server, first))
again = expect(from_guest(A, lambda t: t.ack == seq), "ACK of a duplicate")[TCP]
assert len(again.payload) == 0, again.summary()
silent(from_guest(A, lambda t: len(t.payload) > 0), 1, lambda f: "%s seq %d ack %d, %d bytes (next expected %d)" % (
    f.summary(), f[TCP].seq, f[TCP].ack, len(f[TCP].payload), server))
print("duplicate: acknowledged, not echoed twice")

# 5. A zero window: the unikernel holds its echo and probes, then sends once the window opens.
send(tcp(A, "PA", seq, server, b"z" * 100, window=0))
seq += 100
probe = expect(from_guest(A, lambda t: len(t.payload) == 0 and t.seq == server - 1), "zero-window probe", 15)[TCP]
send(tcp(A, "A", seq, server, window=0))
probe = expect(from_guest(A, lambda t: len(t.payload) == 0 and t.seq == server - 1), "second zero-window probe", 15)[TCP]
send(tcp(A, "A", seq, server, window=1024))
assert collect(A, 100, seq) == b"z" * 100
print("zero window: probed, then sent when it opened")

# 6. Close: our FIN, and the unikernel's after the echo is done.
send(tcp(A, "FA", seq, server))
fin = expect(from_guest(A, lambda t: t.flags.F), "the unikernel's FIN")[TCP]
assert fin.ack == seq + 1, fin.summary()
send(tcp(A, "A", seq + 1, fin.seq + 1))
print("closed both ways")

# 7. A blind reset in the window draws a challenge ACK; an exact one ends the connection.
B, bseq = 40002, 500000
syn = tcp(B, "S", bseq, options=[("MSS", 1460), ("Timestamp", (clock[0], 0))])
synack = expect(from_guest(B, lambda t: t.flags == "SA"), "SYN-ACK for B", resend=syn)[TCP]
bseq += 1
send(tcp(B, "A", bseq, synack.seq + 1))
send(tcp(B, "R", bseq + 500, options=[]))
challenge = expect(from_guest(B, lambda t: t.flags == "A"), "challenge ACK")[TCP]
assert challenge.ack == bseq, challenge.summary()
send(tcp(B, "R", bseq, options=[]))
send(tcp(B, "PA", bseq, synack.seq + 1, b"still there?"))
reset = expect(from_guest(B, lambda t: t.flags.R), "reset for data after the reset")[TCP]
print("reset: challenged when blind, obeyed when exact")

# 8. A UDP datagram in three fragments, out of order: echoed whole.
payload = bytes((i * 13) & 0xFF for i in range(1400))
datagram = IP(src=me_ip, dst=guest_ip, id=4242) / UDP(sport=5000, dport=7) / Raw(payload)
pieces = fragment(datagram, fragsize=512)
assert len(pieces) == 3
for piece in reversed(pieces):
    send(Ether(src=me_mac, dst=guest_mac) / piece)
back = expect(lambda f: UDP in f and f[UDP].dport == 5000, "echo of the fragmented datagram")
assert raw(back[UDP].payload) == payload
print("fragments: 1400 bytes reassembled and echoed")

# 9. A flood of random and mangled frames: none may stop the unikernel, which still echoes after.
rng = __import__("random").Random(7)
templates = [raw(tcp(40003, "S", 1)), raw(tcp(A, "PA", seq, server, b"x" * 64)), raw(Ether(src=me_mac, dst=guest_mac) / pieces[0]),
             raw(Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip) / UDP(sport=5001, dport=9) / Raw(b"y" * 32))]
for index in range(3000):
    frame = bytearray(rng.choice(templates))
    for _ in range(rng.randint(1, 6)):
        frame[rng.randrange(14, len(frame))] = rng.randrange(256)
    if index % 3 == 0:
        frame = frame[:rng.randrange(1, len(frame) + 1)]
    if index % 5 == 0:
        frame = bytearray(bytes.fromhex(guest_mac.replace(":", "")) + bytes(6) + b"\x08\x00" + os.urandom(rng.randrange(0, 1500)))
    send(bytes(frame))
probe = Ether(src=me_mac, dst=guest_mac) / IP(src=me_ip, dst=guest_ip) / UDP(sport=5002, dport=7) / Raw(b"still echoing?")
# Sent once: the unikernel counts the datagrams it echoes, and a resend (its echo late on a busy machine, not lost) would count twice.
send(probe)
back = expect(lambda f: UDP in f and f[UDP].dport == 5002, "echo after the flood", seconds=60)
assert back[Raw].load == b"still echoing?", back.summary()
print("flood: 3000 random and mangled frames, and it still echoes")
