#!/usr/bin/env python3
"""The DNS server's peer: BIND's dig and Knot's kdig (not our code) ask examples/dns,
through QEMU's user network (127.0.0.1:$FORWARD_PORT, UDP and TCP), for every
record type of zones/, the negative answers, a referral, a truncated answer
and its retry over TCP, a zone transfer, and RFC 8906's EDNS compliance
queries; each answer is checked in dig's (and kdig's) own words. It counts its queries:
the unikernel stops after --queries of them (the boot test's figure)."""
import os, re, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

QUERIES = int(os.environ["QUERIES"])
port = os.environ["FORWARD_PORT"]
asked = 0

def dig(*arguments, queries=1, timeout=30):
    """dig's output; `queries`: how many the server answers for it (a TC retry is two)."""
    global asked
    asked += queries
    command = ["dig", "@127.0.0.1", "-p", port, "+tries=1", "+time=%d" % timeout] + list(arguments)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout * 3).stdout

def kdig(*arguments, queries=1, timeout=30):
    """Knot's kdig, another implementation's reading of the same answers."""
    global asked
    asked += queries
    command = ["kdig", "@127.0.0.1", "-p", port, "+retry=0", "+time=%d" % timeout] + list(arguments)
    # Its warnings (a truncated reply retried over TCP) go to standard error.
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout * 3).stdout

def check(output, *patterns, absent=()):
    for pattern in patterns:
        if not re.search(pattern, output, re.M):
            sys.exit("dig's answer lacks /%s/:\n%s" % (pattern, output))
    for pattern in absent:
        if re.search(pattern, output, re.M):
            sys.exit("dig's answer has /%s/:\n%s" % (pattern, output))

boot_peer.ready()
# Until the server listens: over TCP, so that a query is answered once or
# refused at once (a UDP query lost during the boot would be asked again).
deadline = time.time() + 240
while True:
    if time.time() > deadline:
        sys.exit("the server never answered over TCP")
    probe = subprocess.run(["dig", "@127.0.0.1", "-p", port, "+tcp", "+tries=1", "+time=20", "example.test", "SOA"],
                           capture_output=True, text=True, timeout=90).stdout
    if "status: NOERROR" in probe:
        asked += 1
        break
    time.sleep(0.5)

NOERROR_AA = r"status: NOERROR.*\n;; flags: qr aa"
# Every record type, with the additional section's addresses.
check(dig("+norec", "example.test", "SOA"), NOERROR_AA,
      r"^example\.test\.\s+3600\s+IN\s+SOA\s+ns1\.example\.test\. hostmaster\.example\.test\. 2026120701 7200 1800 1209600 300$")
check(dig("+norec", "example.test", "NS"), NOERROR_AA, r"IN\s+NS\s+ns1\.example\.test\.$", r"IN\s+NS\s+ns2\.example\.net\.$",
      r"^ns1\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.1$", r"^ns1\.example\.test\.\s+3600\s+IN\s+AAAA\s+2001:db8::1$")
check(dig("+norec", "example.test", "MX"), NOERROR_AA, r"IN\s+MX\s+10 mail\.example\.test\.$", r"^mail\.example\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.25$")
check(dig("+norec", "example.test", "TXT"), NOERROR_AA, r'IN\s+TXT\s+"v=spf1 mx -all"$')
check(dig("+norec", "example.test", "CAA"), NOERROR_AA, r'IN\s+CAA\s+0 issue "letsencrypt\.org"$')
check(dig("+norec", "web.example.test", "A"), NOERROR_AA, r"^web\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.10$")
check(dig("+norec", "WEB.Example.Test", "AAAA"), NOERROR_AA, r"^WEB\.Example\.Test\.\s+3600\s+IN\s+AAAA\s+2001:db8::10$")
check(dig("+norec", "alias.example.test", "A"), NOERROR_AA, r"ANSWER: 3,", r"^alias\.example\.test\.\s+3600\s+IN\s+CNAME\s+www\.example\.test\.$",
      r"^www\.example\.test\.\s+3600\s+IN\s+CNAME\s+web\.example\.test\.$", r"^web\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.10$")
check(dig("+norec", "_http._tcp.example.test", "SRV"), NOERROR_AA, r"IN\s+SRV\s+0 5 80 web\.example\.test\.$", r"^web\.example\.test\.\s+3600\s+IN\s+A\s+")
check(dig("+norec", "-x", "192.0.2.10"), NOERROR_AA, r"^10\.2\.0\.192\.in-addr\.arpa\.\s+3600\s+IN\s+PTR\s+web\.example\.test\.$")
check(dig("+norec", "anything.wild.example.test", "A"), NOERROR_AA, r"^anything\.wild\.example\.test\.\s+120\s+IN\s+A\s+192\.0\.2\.99$")
# Negative answers carry the SOA for 300 s (RFC 2308); a referral is not authoritative.
check(dig("+norec", "nothing.example.test", "A"), r"status: NXDOMAIN.*\n;; flags: qr aa", r"ANSWER: 0, AUTHORITY: 1", r"^example\.test\.\s+300\s+IN\s+SOA")
check(dig("+norec", "web.example.test", "MX"), NOERROR_AA, r"ANSWER: 0, AUTHORITY: 1", r"^example\.test\.\s+300\s+IN\s+SOA")
check(dig("+norec", "host.sub.example.test", "A"), r"status: NOERROR.*\n;; flags: qr;", r"ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2",
      r"^sub\.example\.test\.\s+3600\s+IN\s+NS\s+ns\.sub\.example\.test\.$", r"^ns\.sub\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.53$")
check(dig("+norec", "example.org", "A"), r"status: REFUSED")
# Over 512 bytes without EDNS: truncated; dig then asks again over TCP by itself.
check(dig("+norec", "+noedns", "+ignore", "big.example.test", "TXT"), r"flags: qr aa tc;", r"ANSWER: 0,")
check(dig("+norec", "+noedns", "big.example.test", "TXT", queries=2), r"Truncated, retrying in TCP mode", NOERROR_AA, r"ANSWER: 3,")
check(dig("+norec", "big.example.test", "TXT"), NOERROR_AA, r"ANSWER: 3,", r"udp: 1232")
check(dig("+tcp", "example.test", "AXFR"), r"XFR size: 21 records", r"^example\.test\.\s+3600\s+IN\s+SOA.*\n(.*\n)*example\.test\.\s+3600\s+IN\s+SOA")
# RFC 8906 8.2's EDNS compliance queries.
check(dig("+norec", "+noedns", "example.test", "SOA"), NOERROR_AA, absent=[r"OPT PSEUDOSECTION"])
check(dig("+norec", "+edns=0", "example.test", "SOA"), NOERROR_AA, r"EDNS: version: 0,")
check(dig("+norec", "+edns=1", "+noednsneg", "example.test", "SOA"), r"status: BADVERS", r"EDNS: version: 0,", r"ANSWER: 0,")
check(dig("+norec", "+ednsopt=100", "example.test", "SOA"), NOERROR_AA, absent=[r"OPT=100"])
check(dig("+norec", "+ednsflags=0x80", "example.test", "SOA"), NOERROR_AA, absent=[r"MBZ"])
check(dig("+norec", "+dnssec", "example.test", "SOA"), NOERROR_AA, r"EDNS: version: 0, flags: do;")
check(dig("+norec", "+edns=1", "+noednsneg", "+ednsopt=100", "example.test", "SOA"), r"status: BADVERS", absent=[r"OPT=100"])
check(dig("+norec", "+tcp", "example.test", "SOA"), NOERROR_AA)
check(dig("+norec", "+noedns", "+opcode=15", "example.test", "SOA"), r"status: NOTIMP")
# Knot's kdig: a plain question, a CNAME chain over TCP, a truncated answer and its retry over TCP, NXDOMAIN, a transfer.
check(kdig("+norec", "example.test", "SOA"), r"status: NOERROR", r";; Flags: qr aa;",
      r"^example\.test\.\s+3600\s+IN\s+SOA\s+ns1\.example\.test\. hostmaster\.example\.test\. 2026120701 7200 1800 1209600 300$")
check(kdig("+tcp", "+norec", "alias.example.test", "A"), r"ANSWER: 3;", r"^www\.example\.test\.\s+3600\s+IN\s+CNAME\s+web\.example\.test\.$",
      r"^web\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.10$", r"\(TCP\)")
check(kdig("+norec", "+bufsize=512", "big.example.test", "TXT", queries=2), r"truncated reply .* retrying over TCP", r"ANSWER: 3;")
check(kdig("+norec", "nothing.example.test", "AAAA"), r"status: NXDOMAIN", r"AUTHORITY: 1;", r"^example\.test\.\s+300\s+IN\s+SOA")
check(kdig("-t", "AXFR", "example.test"), r"\(1 messages, 21 records\)")
if asked != QUERIES:
    sys.exit("the peer asked %d queries; boot-test.yaml's --queries says %d: make them agree" % (asked, QUERIES))
print("dig: %d queries answered as expected" % asked)
