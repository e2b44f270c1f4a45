#!/usr/bin/env python3
"""IPv6 frame by frame: scapy (not our code) on QEMU's -netdev dgram socket
($NET_SOCKET) checks the unikernel's duplicate address detection and MLDv2
report, makes its static address a duplicate, asks for its MAC by neighbour
solicitation, pings it through extension headers and in fragments, checks
the parameter problems it must answer, gives it a prefix by router
advertisement, has a multicast listener query answered, and a UDP datagram echoed over
link-local."""
import ipaddress, os, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import frame_peer   # binds the socket before scapy's slow import, so the unikernel's first frames (DAD) queue there
from frame_peer import send, expect, silent
from scapy.all import (Ether, IPv6, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo, ICMPv6ParamProblem, ICMPv6MLReport2, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrDestOpt, HBHOptUnknown, PadN, UDP, Raw, raw, fragment6, IPv6ExtHdrFragment,
                       ICMPv6MLQuery2, RouterAlert)

me_mac, me = "02:00:00:00:00:01", "fe80::1"
guest_mac, link_local, static = "52:54:00:12:34:56", "fe80::5054:ff:fe12:3456", "2001:db8::15"
frame_peer.wait_for_qemu()

def same(a, b):
    """Addresses compared as addresses: scapy does not always write them as RFC 5952 does."""
    return ipaddress.IPv6Address(a) == ipaddress.IPv6Address(b)

def solicited_node(address):
    low = int(ipaddress.IPv6Address(address)) & 0xFFFFFF
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low))

def to_guest(packet):
    return Ether(src=me_mac, dst=guest_mac) / packet

# 1. DAD for each address, from the unspecified address, and an MLDv2 report with the router alert.
seen, reported = set(), False
for frame in frame_peer.frames(60):
    if ICMPv6ND_NS in frame and frame[IPv6].src == "::":
        assert frame[IPv6].hlim == 255 and same(frame[IPv6].dst, solicited_node(frame[ICMPv6ND_NS].tgt)), frame.summary()
        seen.add(str(ipaddress.IPv6Address(frame[ICMPv6ND_NS].tgt)))
        if same(frame[ICMPv6ND_NS].tgt, static):
            # Claim the static address: the unikernel must give it up.
            send(Ether(src=me_mac, dst="33:33:00:00:00:01") / IPv6(src=me, dst="ff02::1", hlim=255) /
                 ICMPv6ND_NA(tgt=static, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=me_mac))
    if ICMPv6MLReport2 in frame and IPv6ExtHdrHopByHop in frame:
        assert frame[IPv6].hlim == 1 and same(frame[IPv6].dst, "ff02::16"), frame.summary()
        reported = True
    if len(seen) == 2 and reported:
        break
else:
    sys.exit("DAD or MLD missing: saw %s, report %s" % (seen, reported))
assert seen == {link_local, static}, seen
print("DAD for %s; an MLDv2 report with the router alert" % ", ".join(sorted(seen)))
time.sleep(1.5)

# 2. Neighbour solicitation: a solicited, overriding advertisement with the MAC.
ns = to_guest(IPv6(src=me, dst="ff02::1:ff12:3456", hlim=255) / ICMPv6ND_NS(tgt=link_local) / ICMPv6NDOptSrcLLAddr(lladdr=me_mac))
na = expect(lambda f: ICMPv6ND_NA in f and same(f[ICMPv6ND_NA].tgt, link_local), "neighbour advertisement", resend=ns)
assert na[ICMPv6ND_NA].S == 1 and na[ICMPv6ND_NA].O == 1 and na[ICMPv6NDOptDstLLAddr].lladdr == guest_mac, na.summary()
print("neighbour solicitation: %s is at %s" % (link_local, guest_mac))

# 3. Echo on link-local; none on the static address that DAD gave up.
echo = to_guest(IPv6(src=me, dst=link_local) / ICMPv6EchoRequest(id=1, seq=1, data=b"hello"))
reply = expect(lambda f: ICMPv6EchoReply in f and f[ICMPv6EchoReply].seq == 1, "echo reply", resend=echo)
assert reply[ICMPv6EchoReply].data == b"hello"
send(to_guest(IPv6(src=me, dst=static) / ICMPv6EchoRequest(id=1, seq=2, data=b"taken")))
silent(lambda f: ICMPv6EchoReply in f and f[ICMPv6EchoReply].seq == 2, 2, lambda f: "answer on a duplicate address: " + f.summary())
print("echo: answered on link-local, not on the duplicate %s" % static)

# 4. Extension headers: padding passes, an unknown option and an unknown next header are parameter problems.
padded = to_guest(IPv6(src=me, dst=link_local) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0\0\0\0")]) / IPv6ExtHdrDestOpt() /
                  ICMPv6EchoRequest(id=1, seq=3, data=b"through"))
expect(lambda f: ICMPv6EchoReply in f and f[ICMPv6EchoReply].seq == 3, "echo through extension headers", resend=padded)
odd = to_guest(IPv6(src=me, dst=link_local) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x80, optdata=b"xx")]) /
               ICMPv6EchoRequest(id=1, seq=4))
problem = expect(lambda f: ICMPv6ParamProblem in f, "parameter problem for an unknown option", resend=odd)
assert problem[ICMPv6ParamProblem].code == 2 and problem[ICMPv6ParamProblem].ptr == 42, problem.summary()
unknown = to_guest(IPv6(src=me, dst=link_local, nh=253) / Raw(b"\0" * 8))
problem = expect(lambda f: ICMPv6ParamProblem in f and f[ICMPv6ParamProblem].code == 1, "parameter problem for next header 253",
                 resend=unknown)
assert problem[ICMPv6ParamProblem].ptr == 6, problem.summary()
print("extension headers: walked; unknown option -> code 2 at 42; next header 253 -> code 1 at 6")

# 5. An echo in fragments, the last first: answered whole.
data = bytes((i * 11) & 0xFF for i in range(1200))
big = IPv6(src=me, dst=link_local) / IPv6ExtHdrFragment(id=77) / ICMPv6EchoRequest(id=1, seq=5, data=data)
for piece in reversed(fragment6(big, 600)):
    send(Ether(src=me_mac, dst=guest_mac) / piece)
reply = expect(lambda f: ICMPv6EchoReply in f and f[ICMPv6EchoReply].seq == 5, "echo of the fragmented request")
assert reply[ICMPv6EchoReply].data == data
print("fragments: %d bytes reassembled and answered" % len(data))

# 6. A router advertisement: SLAAC, then echo on the new address.
ra = (Ether(src=me_mac, dst="33:33:00:00:00:01") / IPv6(src=me, dst="ff02::1", hlim=255) / ICMPv6ND_RA(routerlifetime=600) /
      ICMPv6NDOptSrcLLAddr(lladdr=me_mac) / ICMPv6NDOptPrefixInfo(prefix="2001:db8:5::", prefixlen=64, L=1, A=1,
                                                                 validlifetime=3600, preferredlifetime=1800))
send(ra)
slaac = "2001:db8:5::5054:ff:fe12:3456"
expect(lambda f: ICMPv6ND_NS in f and f[IPv6].src == "::" and same(f[ICMPv6ND_NS].tgt, slaac), "DAD for the SLAAC address")
time.sleep(1.5)
echo = to_guest(IPv6(src="2001:db8:5::1", dst=slaac) / ICMPv6EchoRequest(id=1, seq=6))
expect(lambda f: ICMPv6EchoReply in f and f[ICMPv6EchoReply].seq == 6, "echo on the SLAAC address", resend=echo)
print("SLAAC: %s answers" % slaac)

# 7. A multicast listener query from a router: a report of our groups within its delay.
query = (Ether(src=me_mac, dst="33:33:00:00:00:01") / IPv6(src=me, dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
         ICMPv6MLQuery2(mrd=500))
answering = lambda f: ICMPv6MLReport2 in f and f[ICMPv6MLReport2].records_number >= 1 and f[ICMPv6MLReport2].records[0].rtype == 2
report = expect(answering, "MLDv2 report (MODE_IS_EXCLUDE) answering the query", seconds=5, resend=query)
assert report[IPv6].hlim == 1, report.summary()
print("MLD query: answered with a report of %d groups" % report[ICMPv6MLReport2].records_number)

# 8. UDP over link-local, echoed: the unikernel counts it and stops.
datagram = to_guest(IPv6(src=me, dst=link_local) / UDP(sport=5000, dport=7) / Raw(b"over six"))
# Sent once: the unikernel stops after it, and a resend would find it gone or be counted twice.
send(datagram)
back = expect(lambda f: UDP in f and f[UDP].dport == 5000, "UDP echo over IPv6", seconds=60)
assert back[Raw].load == b"over six"
print("UDP over link-local: echoed")
