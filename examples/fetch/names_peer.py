#!/usr/bin/env python3
"""examples/fetch's world, in a network namespace behind a TAP relayed to
QEMU's -netdev dgram socket (tools/netns_tap.py; root):

- dnsmasq (not our code) leases the unikernel its IPv4 address with a name
  server (DHCP option 6), advertises the IPv6 prefix with a recursive name
  server (RDNSS, RFC 8106), and answers for example.test: both families,
  a CNAME, an IPv6-only name, a name with 100 addresses (too many for UDP:
  truncated, asked again over TCP), NXDOMAIN for the rest;
- in front of dnsmasq's port, on port 53 (UDP and TCP), a relay that hands
  each query to dnsmasq and its answer back byte for byte, recording them;
  for spoof.example.test it first sends, with scapy, forged answers
  (RFC 5452: from another address, from another port, with another ID,
  for another question, to another port), each saying 10.66.66.66;
- Python's http.server on port 8080 of both addresses: /old redirects to
  /page, served chunked.

It exits 0 once the unikernel fetched /page twice (the second through
dead.example.test, whose IPv6 address answers nothing), having seen queries
from random ports with random IDs, a query over TCP and the forged answers
sent."""
import http.server, os, shutil, socket, struct, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import netns_tap
import pages as served_pages

netns_tap.enter()
import dns.message, dns.rrset          # dnspython, after the re-run inside the namespace
from scapy.all import IP, IPv6, UDP, Raw, send, conf
conf.verb = 0

ROUTER4, ROUTER6 = "10.0.9.1", "2001:db8:9::1"
UPSTREAM = ("127.0.0.1", 5353)
lock = threading.Lock()
queries = []          # (transport, client address, client port, id, name, type)
pages = []            # (client address, path, Host), as pages.py records them
forged_sent = []

# dnsmasq, on the TAP once the relay makes it (--bind-dynamic), DNS on 5353 behind the relay below.
work = tempfile.mkdtemp()
with open(os.path.join(work, "big.hosts"), "w") as hosts:
    for n in range(1, 101):
        hosts.write("10.0.10.%d big.example.test\n" % n)
dnsmasq = subprocess.Popen([
    shutil.which("dnsmasq") or "/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null", "--pid-file=", "--user=root",
    "--dhcp-leasefile=" + os.path.join(work, "leases"), "--interface=relay0", "--bind-dynamic", "--port=5353",
    "--no-resolv", "--no-hosts", "--local=/example.test/", "--local-ttl=300", "--addn-hosts=" + os.path.join(work, "big.hosts"),
    "--host-record=web.example.test,%s,%s" % (ROUTER4, ROUTER6), "--cname=www.example.test,web.example.test",
    "--host-record=six.example.test,%s" % ROUTER6, "--host-record=spoof.example.test,10.0.9.7",
    "--host-record=dead.example.test,%s,2001:db8:9::dead" % ROUTER4,
    "--dhcp-range=10.0.9.100,10.0.9.150,255.255.255.0,1h", "--dhcp-option=option:dns-server," + ROUTER4,
    "--enable-ra", "--dhcp-range=2001:db8:9::,ra-only,64", "--dhcp-option=option6:dns-server,[%s]" % ROUTER6,
], stdout=sys.stdout, stderr=sys.stdout)

def upstream_udp(query):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(query, UPSTREAM)
        return s.recv(65535)

def forge(answer_wire, client, port):
    """RFC 5452's forgeries of `answer_wire`, each saying 10.66.66.66, sent with scapy before the real answer."""
    real = dns.message.from_wire(answer_wire)
    def message(name="spoof.example.test.", message_id=real.id):
        m = dns.message.make_response(dns.message.make_query(name, "A"))
        m.id = message_id
        m.answer.append(dns.rrset.from_text(name, 300, "IN", "A", "10.66.66.66"))
        return m.to_wire()
    family = IPv6 if ":" in client else IP
    server = ROUTER6 if ":" in client else ROUTER4
    other = "2001:db8:9::2" if ":" in client else "10.0.9.2"
    forgeries = [("from another address", other, 53, port, message()),
                 ("from another port", server, 5300, port, message()),
                 ("with another ID", server, 53, port, message(message_id=real.id ^ 0x5A5A)),
                 ("for another question", server, 53, port, message(name="spoog.example.test.")),
                 ("to another port", server, 53, port ^ 1, message())]
    # In one call, so that they leave together, well before the query's first wait (1 s) ends.
    send([family(src=source, dst=client) / UDP(sport=sport, dport=dport) / Raw(load=payload)
          for _, source, sport, dport, payload in forgeries])
    forged_sent.extend(what for what, *_ in forgeries)

def serve_udp(sock):
    while True:
        query, (client, port, *_) = sock.recvfrom(65535)
        client = client.removeprefix("::ffff:")
        try:
            m = dns.message.from_wire(query)
            question = m.question[0]
            with lock:
                queries.append(("udp", client, port, m.id, question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)))
            answer = upstream_udp(query)
            if question.name.to_text().lower() == "spoof.example.test." and question.rdtype == dns.rdatatype.A:
                forge(answer, client, port)
            sock.sendto(answer, (client if ":" in client else "::ffff:" + client, port))
        except Exception as error:
            print("relay: %r" % error)

def read_exactly(connection, count):
    data = b""
    while len(data) < count:
        more = connection.recv(count - len(data))
        if not more:
            raise EOFError
        data += more
    return data

def serve_tcp(listener):
    while True:
        connection, (client, port, *_) = listener.accept()
        with connection:
            try:
                length, = struct.unpack("!H", read_exactly(connection, 2))
                query = read_exactly(connection, length)
                m = dns.message.from_wire(query)
                with lock:
                    queries.append(("tcp", client.removeprefix("::ffff:"), port, m.id, m.question[0].name.to_text().lower(),
                                    dns.rdatatype.to_text(m.question[0].rdtype)))
                with socket.create_connection(UPSTREAM, timeout=5) as up:
                    up.sendall(struct.pack("!H", length) + query)
                    size, = struct.unpack("!H", read_exactly(up, 2))
                    connection.sendall(struct.pack("!H", size) + read_exactly(up, size))
            except Exception as error:
                print("relay over TCP: %r" % error)

class DualStackServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

def dual_stack(kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 53))
    return s

udp = dual_stack(socket.SOCK_DGRAM)
tcp = dual_stack(socket.SOCK_STREAM)
tcp.listen(8)
threading.Thread(target=serve_udp, args=(udp,), daemon=True).start()
threading.Thread(target=serve_tcp, args=(tcp,), daemon=True).start()
web = DualStackServer(("::", 8080), served_pages.handler(pages))
threading.Thread(target=web.serve_forever, daemon=True).start()

relay = netns_tap.Relay(["10.0.9.1/24", "2001:db8:9::1/64"])   # says ready: the unikernel boots
conf.route.resync()        # scapy read the routes at import, before the TAP had its addresses
conf.route6.resync()
deadline = time.time() + 240
while time.time() < deadline and os.path.exists(relay.path + ".qemu"):
    with lock:
        if sum(1 for page in pages if page[1] == "/page") >= 2:
            break
    time.sleep(0.2)
time.sleep(0.5)
dnsmasq.terminate()

problems = []
with lock:
    print("queries:", *("%s %s:%d id %d %s %s" % query for query in queries), sep="\n  ")
    print("pages:", pages)
    udp_queries = [q for q in queries if q[0] == "udp"]
    # Random ports and IDs may repeat by chance (a port is free again once its query is done): two repeats would not.
    if len({q[2] for q in udp_queries}) < len(udp_queries) - 1:
        problems.append("UDP queries came from the same ports")
    if any(q[2] < 49152 for q in udp_queries):
        problems.append("a query from a port below 49152")
    if len({q[3] for q in queries}) < len(queries) - 1:
        problems.append("query IDs repeat")
    if not any(q[0] == "tcp" and q[4] == "big.example.test." for q in queries):
        problems.append("no query over TCP for big.example.test")
    if len(forged_sent) != 5:
        problems.append("the forged answers were not all sent: %s" % forged_sent)
    if [page[1] for page in pages] != ["/old", "/page", "/page"]:
        problems.append("the pages asked were %s" % [page[1] for page in pages])
    elif [page[2] for page in pages] != ["www.example.test:8080", "www.example.test:8080", "dead.example.test:8080"]:
        problems.append("the Host headers were %s" % [page[2] for page in pages])
    elif not pages[2][0].startswith("10.0.9."):
        problems.append("the GET through dead.example.test came from %s, not over IPv4" % pages[2][0])
if problems:
    sys.exit("; ".join(problems))
print("names and pages as expected")
