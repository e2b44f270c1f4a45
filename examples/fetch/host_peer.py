#!/usr/bin/env python3
"""examples/fetch's peers on the host's loopback network: dnsmasq (not our
code) answers for example.test, and Python's http.server redirects /old to
/page. It exits 0 once /page was served.

    host_peer.py [--dns ADDRESS:PORT] [--web ADDRESS:PORT] [--record ADDRESS]

For the host target's own sockets (configure --target host --net socket),
by default: dnsmasq on 127.77.0.1:5353 (an address of the loopback network
no other service takes, a port no privilege needs), where the boot test's
--dns points the stub resolver, and http.server on 127.77.0.1:18081, the
address the names have. Through QEMU's user network and its DNS forwarder
(10.0.2.3): dnsmasq on 127.77.0.3:53, which the boot test names as QEMU's
upstream (host-name-server), http.server on 127.0.0.1, and the names
giving 10.0.2.2, where the guest sees the host's loopback."""
import argparse, http.server, os, shutil, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer
import pages

options = argparse.ArgumentParser()
options.add_argument("--dns", default="127.77.0.1:5353")
options.add_argument("--web", default="127.77.0.1:18081")
options.add_argument("--record", help="the address the names have (default: the web server's)")
options = options.parse_args()
dns_address, dns_port = options.dns.rsplit(":", 1)
web_address, web_port = options.web.rsplit(":", 1)
record = options.record or web_address
served = []

work = tempfile.mkdtemp()
dnsmasq = subprocess.Popen([
    shutil.which("dnsmasq") or "/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null", "--pid-file=",
    "--listen-address=" + dns_address, "--bind-interfaces", "--port=" + dns_port, "--no-resolv", "--no-hosts", "--local=/example.test/",
    "--local-ttl=300", "--host-record=web.example.test," + record, "--cname=www.example.test,web.example.test",
    "--dhcp-leasefile=" + os.path.join(work, "leases")] + (["--user=root"] if os.geteuid() == 0 else []),
    stdout=sys.stdout, stderr=sys.stdout)

web = http.server.ThreadingHTTPServer((web_address, int(web_port)), pages.handler(served, redirect=302, chunked=False))
threading.Thread(target=web.serve_forever, daemon=True).start()
# Ready once dnsmasq answers.
deadline = time.time() + 30
while subprocess.run(["dig", "@" + dns_address, "-p", dns_port, "+short", "+time=1", "+tries=1", "web.example.test"],
                     capture_output=True, text=True).stdout.strip() != record:
    if time.time() > deadline or dnsmasq.poll() is not None:
        sys.exit("dnsmasq did not answer")
    time.sleep(0.2)
boot_peer.ready()
deadline = time.time() + 120
while time.time() < deadline and not any(path == "/page" for _, path, _ in served):
    time.sleep(0.2)
time.sleep(0.3)
dnsmasq.terminate()
print("served:", served)
expected_host = "www.example.test:" + web_port
if [(path, host) for _, path, host in served] != [("/old", expected_host), ("/page", expected_host)]:
    sys.exit("the requests were %s" % served)
