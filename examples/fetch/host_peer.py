#!/usr/bin/env python3
"""examples/fetch on the host target's own sockets (configure --target host
--net socket): dnsmasq (not our code) answers for example.test on
127.77.0.1:5353 (an address of the loopback network no other service
takes, a port no privilege needs), where the boot test's --dns points the
stub resolver, and Python's http.server on 127.77.0.1:18081 redirects
/old to /page. It exits 0 once /page was served."""
import http.server, os, shutil, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer
import pages

ADDRESS = "127.77.0.1"
served = []

work = tempfile.mkdtemp()
dnsmasq = subprocess.Popen([
    shutil.which("dnsmasq") or "/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null", "--pid-file=",
    "--listen-address=" + ADDRESS, "--bind-interfaces", "--port=5353", "--no-resolv", "--no-hosts", "--local=/example.test/",
    "--local-ttl=300", "--host-record=web.example.test," + ADDRESS, "--cname=www.example.test,web.example.test",
    "--dhcp-leasefile=" + os.path.join(work, "leases")] + (["--user=root"] if os.geteuid() == 0 else []),
    stdout=sys.stdout, stderr=sys.stdout)

web = http.server.ThreadingHTTPServer((ADDRESS, 18081), pages.handler(served, redirect=302, chunked=False))
threading.Thread(target=web.serve_forever, daemon=True).start()
# Ready once dnsmasq answers.
deadline = time.time() + 30
while subprocess.run(["dig", "@" + ADDRESS, "-p", "5353", "+short", "+time=1", "+tries=1", "web.example.test"],
                     capture_output=True, text=True).stdout.strip() != ADDRESS:
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
if [(path, host) for _, path, host in served] != [("/old", "www.example.test:18081"), ("/page", "www.example.test:18081")]:
    sys.exit("the requests were %s" % served)
