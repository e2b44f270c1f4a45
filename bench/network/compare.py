#!/usr/bin/env python3
"""The network benchmark (scripts/bench-network): the unikernel's examples
(iperf, http, https, echo) and a Linux guest (nginx with and without TLS,
iperf3, a UDP echo) on the same QEMU machine (virt) and network backend, one
guest at a time, measured by the same stock clients on the host: iperf3 both
ways, ab for HTTP (a small page kept alive with 1 and 16 clients, a
connection per request with 16, a 256 KiB file kept alive with 4), for TLS
1.3 openssl s_time's full handshakes per second (X25519, ECDSA P-256) and
curl's bulk rate per cipher suite (the 256 KiB file, kept alive), UDP round
trips from a host socket; the bytes TLS adds to an image; and (--parts site)
examples/website's 10 MiB file from each store (baked into the image, and a
git pack on a disk) beside nginx's, with ab -k -c 4; and (--parts dns)
examples/dns beside NSD in the Linux guest, serving the same zones, asked
by dnsperf (queries per second, latency). The two guests
alternate, round after round, and the table gives each figure's median over
the rounds (the host is noisy: single runs differ by a quarter) and the ratio.
Over QEMU's user network (ports forwarded from 127.0.0.1) and, as root, over a
TAP device the benchmark makes. Prints figures; judges nothing.

    compare.py ROOT MIRAGE GUEST [--rounds N] [--seconds S] [--backends user,tap] [--parts tcp,http,tls,udp,site,dns]"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("root")
parser.add_argument("mirage")
parser.add_argument("guest")
parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each guest (the table gives medians)")
parser.add_argument("--seconds", type=int, default=5, help="length of each iperf3 run")
parser.add_argument("--backends", default="user,tap", help="user (QEMU's user network) and/or tap (root only)")
parser.add_argument("--parts", default="tcp,http,tls,udp,site,dns",
                    help="which figures to measure: tcp (iperf3), http (ab), tls, udp, site (examples/website's stores), dns (dnsperf)")
options = parser.parse_args()
PARTS = options.parts.split(",")
for part in PARTS:
    if part not in ("tcp", "http", "tls", "udp", "site", "dns"):   # PART_MEASURES' keys, below
        parser.error("--parts takes tcp, http, tls, udp, site and dns, not %r" % part)
root, mirage, guest = options.root, options.mirage, options.guest

TAP, TAP_HOST, TAP_GUEST = "mcbench0", "10.0.3.1", "10.0.3.15"

# The HTTP figures: (name, ab's arguments, path).
HTTP = [("small page, kept alive, 1 client", ["-k", "-n", "2000", "-c", "1"], "/"),
        ("small page, kept alive, 16 clients", ["-k", "-n", "4000", "-c", "16"], "/"),
        ("small page, a connection each, 16 clients", ["-n", "1000", "-c", "16"], "/"),
        ("256 KiB file, kept alive, 4 clients", ["-k", "-n", "200", "-c", "4"], "/big")]


# The website figures: a 10 MiB file (bench/network/site_file.py) from each of
# examples/website's stores, and from nginx; and the site's small page.
SITE = [("10 MiB file, kept alive, 4 clients", ["-k", "-n", "24", "-c", "4"], "/media/paper.pdf"),
        ("index.html, kept alive, 16 clients", ["-k", "-n", "2000", "-c", "16"], "/index.html")]
SITE_FILE_BYTES = 10 * 1024 * 1024
SITE_STORES = ["folder", "git"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_tcp(host, port, seconds=120):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("nothing answered on %s port %d" % (host, port))


def start(command, folder=None):
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def iperf(host, port, reverse):
    command = ["iperf3", "-c", host, "-p", str(port), "-t", str(options.seconds), "-J"] + (["-R"] if reverse else [])
    for _ in range(3):
        try:
            report = json.loads(subprocess.run(command, capture_output=True, timeout=60 + options.seconds).stdout or b"{}")
        except subprocess.TimeoutExpired:
            report = {}
        if "error" not in report and "end" in report:
            return report["end"]["sum_received"]["bits_per_second"] / 1e6
        time.sleep(1)
    return float("nan")


def ab(host, port, arguments, path):
    """Requests per second and requests that failed (ab's failures and non-2xx answers)."""
    command = ["ab", "-q", "-s", "20"] + arguments + ["http://%s:%d%s" % (host, port, path)]
    try:
        output = subprocess.run(command, capture_output=True, timeout=300).stdout.decode()
    except subprocess.TimeoutExpired:
        return float("nan"), int(arguments[arguments.index("-n") + 1])
    rate, failed = float("nan"), 0
    for line in output.splitlines():
        if line.startswith("Requests per second"):
            rate = float(line.split()[3])
        elif line.startswith("Failed requests") or line.startswith("Non-2xx responses"):
            failed += int(line.split()[-1])
    return rate, failed


# TLS 1.3's suites, each measured for bulk transfer.
SUITES = ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]


def handshakes(host, port):
    """Full TLS 1.3 handshakes per second (a new session each time, no resumption): openssl s_time."""
    command = ["openssl", "s_time", "-connect", "%s:%d" % (host, port), "-new", "-time", str(options.seconds)]
    try:
        output = subprocess.run(command, capture_output=True, timeout=60 + options.seconds).stdout.decode()
    except subprocess.TimeoutExpired:
        return float("nan")
    for line in output.splitlines():
        words = line.split()
        if "connections in" in line and "real seconds" in line:
            return int(words[0]) / float(words[3])
    return float("nan")


def bulk(host, port, suite, transfers=20):
    """MB/s of the 256 KiB file fetched `transfers` times over one connection in `suite`: curl, certificate not checked."""
    url = "https://%s:%d/big" % (host, port)
    command = ["curl", "-sk", "--tlsv1.3", "--tls13-ciphers", suite, "-w", "%{size_download}\n"] + ["-o", "/dev/null", url] * transfers
    started = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        return float("nan")
    elapsed = time.perf_counter() - started
    sizes = [int(line) for line in result.stdout.decode().split()]
    return sum(sizes) / elapsed / 1e6 if result.returncode == 0 and sum(sizes) == transfers * 256 * 1024 else float("nan")


def tls_figures(figures, host, port):
    # One handshake first, untimed: a Linux guest just booted can hold its first
    # TLS handshakes until its random generator is seeded (s_time saw 0.2 per s
    # when TLS was measured alone, without the other parts' minute before it).
    subprocess.run(["curl", "-sk", "--max-time", "120", "-o", "/dev/null", "https://%s:%d/" % (host, port)], capture_output=True)
    figures["TLS 1.3 full handshakes (X25519, ECDSA P-256), per s"] = handshakes(host, port)
    for suite in SUITES:
        figures["TLS bulk, %s, MB/s" % suite] = bulk(host, port, suite)


def round_trips(host, port, count=1000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    payload, times = b"x" * 64, []
    end = time.time() + 60
    while len(times) < count and time.time() < end:
        started = time.perf_counter()
        s.sendto(payload, (host, port))
        try:
            if s.recv(2048) == payload:
                times.append((time.perf_counter() - started) * 1e6)
        except socket.timeout:
            pass
    times.sort()
    return (statistics.median(times), times[int(len(times) * 0.99)]) if times else (float("nan"), float("nan"))


# dnsperf's queries: names of examples/dns's zones, answered, negative and referred.
DNS_QUERIES = ["example.test SOA", "web.example.test A", "web.example.test AAAA", "alias.example.test A", "example.test MX",
               "_http._tcp.example.test SRV", "anything.wild.example.test A", "nothing.example.test A", "web.example.test MX",
               "host.sub.example.test A", "10.2.0.192.in-addr.arpa PTR", "example.test NS"]


def dns_figures(figures, host, port):
    """dnsperf for options.seconds: queries per second and average latency, with up to 20 queries in flight."""
    queries = os.path.join(work, "dns-queries.txt")
    with open(queries, "w") as file:
        file.write("\n".join(DNS_QUERIES) + "\n")
    # The server answers once it is up: wait for it, untimed.
    end = time.time() + 120
    while time.time() < end and "NOERROR" not in subprocess.run(["dig", "@" + host, "-p", str(port), "+tries=1", "+time=2", "example.test", "SOA"],
                                                               capture_output=True, text=True).stdout:
        time.sleep(0.5)
    command = ["dnsperf", "-s", host, "-p", str(port), "-d", queries, "-l", str(options.seconds), "-q", "20", "-t", "5"]
    try:
        output = subprocess.run(command, capture_output=True, timeout=120 + options.seconds).stdout.decode()
    except subprocess.TimeoutExpired:
        output = ""
    figures["DNS queries per second (dnsperf, 20 in flight)"] = float("nan")
    figures["DNS average latency (dnsperf), ms"] = float("nan")
    for line in output.splitlines():
        words = line.split()
        if line.strip().startswith("Queries per second:"):
            figures["DNS queries per second (dnsperf, 20 in flight)"] = float(words[-1])
        elif line.strip().startswith("Average Latency (s):"):
            figures["DNS average latency (dnsperf), ms"] = float(words[3]) * 1000
        elif line.strip().startswith("Queries lost:"):
            figures["DNS queries lost"] = int(words[2])


def http_figures(figures, host, port):
    for name, arguments, path in HTTP:
        figures[name], figures[name + " failed"] = ab(host, port, arguments, path)


class Backend:
    """Where the guest's network interface goes, and how the host reaches a service on it."""
    def __init__(self, name):
        self.name = name

    def address(self, port):
        """The host and port a client uses for the guest's `port` (TCP or UDP)."""
        return (TAP_GUEST, port) if self.name == "tap" else ("127.0.0.1", self.forwards[port])

    def prepare(self, ports):
        """Chooses host ports for the guest's `ports` (user network) or makes the TAP device."""
        self.forwards = {port: free_port() for port in ports}
        if self.name == "tap":
            subprocess.run(["ip", "link", "del", TAP], capture_output=True)
            subprocess.run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"], check=True)
            subprocess.run(["ip", "addr", "add", TAP_HOST + "/24", "dev", TAP], check=True)
            subprocess.run(["ip", "link", "set", TAP, "up"], check=True)

    def finish(self):
        if self.name == "tap":
            subprocess.run(["ip", "link", "del", TAP], capture_output=True)


def build(name):
    folder = os.path.join(work, name)
    shutil.copytree(os.path.join(root, "examples", name), folder, ignore=shutil.ignore_patterns("_build", "dist"))
    for step in (["configure", "--target", "virt", "--assert-config", "release"], ["build"]):
        subprocess.run([mirage] + step, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    if name == "https":
        # A P-256 certificate, as the Linux guest's nginx has, on the example's key disk.
        subprocess.run([mirage, "tls", "self-signed", "--name", "localhost", "--key", "p-256", "-o", "."], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["tar", "--format=ustar", "-cf", "keys.tar", "server.pem", "server.key"], cwd=folder, check=True)
    return folder


def build_site(store):
    """examples/website with the 10 MiB file beside htdocs/: baked into the image
    (--site folder), or committed and packed by git on a disk (--site git)."""
    folder = os.path.join(work, "website-" + store)
    shutil.copytree(os.path.join(root, "examples", "website"), folder, ignore=shutil.ignore_patterns("_build", "dist"))
    os.makedirs(os.path.join(folder, "htdocs", "media"))
    subprocess.run([sys.executable, os.path.join(root, "bench", "network", "site_file.py"), os.path.join(folder, "htdocs", "media", "paper.pdf")],
                   check=True)
    if store == "git":
        repository = os.path.join(folder, "repo")
        shutil.copytree(os.path.join(folder, "htdocs"), repository)
        for command in (["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.name=Bench", "-c", "user.email=bench@example.org", "commit", "-q", "-m", "site"]):
            subprocess.run(["git", "-C", repository] + command, check=True)
        subprocess.run([mirage, "kv", "pack", "--git", repository + "@main", "-o", "site.git"], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    for step in (["configure", "--target", "virt", "--assert-config", "release", "--site", store], ["build"]):
        subprocess.run([mirage] + step, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return folder


def site_figures(figures, host, port, store="nginx"):
    for name, arguments, path in SITE:
        rate, failed = ab(host, port, arguments, path)
        figures["site %s %s" % (store, name)], figures["site %s %s failed" % (store, name)] = rate, failed


def image_bytes(name):
    return os.path.getsize(os.path.join(folders[name], "dist", name + ".bin"))


def unikernel(backend, name, ports, arguments=()):
    command = [mirage, "run", "--timeout", "900"]
    if backend.name == "tap":
        command += ["--net", "tap:" + TAP]
        arguments = ["--ipv4=%s/24" % TAP_GUEST, "--ipv4-gateway="] + list(arguments)
    else:
        command += sum((["--forward", "%s:%d:%d" % (kind, backend.forwards[port], port)] for kind, port in ports), [])
    if arguments:
        command += ["--"] + list(arguments)
    return start(command, folders[name])


def tcp_figures(figures, host, port):
    figures["TCP to the guest (iperf3), Mbit/s"] = iperf(host, port, False)
    figures["TCP from the guest (iperf3 -R), Mbit/s"] = iperf(host, port, True)


def udp_figures(figures, host, port):
    figures["udp"] = round_trips(host, port)


# Each part: the example that serves it (the Linux guest serves every part on the
# same port), that port, the example's boot arguments, and how it is measured.
PART_MEASURES = {"tcp": ("iperf", ("tcp", 5201), [], tcp_figures),
                 "http": ("http", ("tcp", 80), ["--log-requests=false"], http_figures),
                 "tls": ("https", ("tcp", 443), [], tls_figures),
                 "udp": ("echo", ("udp", 7), [], udp_figures),
                 "site": ("website-", ("tcp", 80), ["--log-requests=false"], site_figures),
                 "dns": ("dns", ("udp", 53), [], dns_figures)}


def measure_unikernel(backend):
    """Each part from its example, booted for it alone."""
    figures = {}
    for part, (name, (kind, port), arguments, measure) in PART_MEASURES.items():
        if part not in PARTS:
            continue
        # The website is measured once per store, each its own build of the example.
        for store in (SITE_STORES if part == "site" else [None]):
            process = unikernel(backend, name + store if store else name, [(kind, port)], arguments)
            try:
                if kind == "tcp":
                    wait_for_tcp(*backend.address(port))
                else:
                    time.sleep(3)
                if store:
                    measure(figures, *backend.address(port), store=store)
                else:
                    measure(figures, *backend.address(port))
            finally:
                stop(process)
    return figures


def measure_linux(backend):
    if backend.name == "tap":
        netdev, append = "tap,id=net,ifname=%s,script=no,downscript=no" % TAP, " guest.address=%s/24 guest.gateway=" % TAP_GUEST
    else:
        netdev = "user,id=net," + ",".join("hostfwd=%s:127.0.0.1:%d-:%d" % (kind, backend.forwards[port], port)
                                           for kind, port in (("tcp", 5201), ("tcp", 80), ("tcp", 443), ("udp", 7), ("udp", 53)))
        append = ""
    process = start(["qemu-system-arm", "-M", "virt", "-cpu", "cortex-a15", "-m", "128M", "-nographic",
                     "-kernel", os.path.join(guest, "vmlinuz"), "-initrd", os.path.join(guest, "initrd.gz"),
                     "-append", "console=ttyAMA0 quiet" + append, "-netdev", netdev, "-device", "virtio-net-device,netdev=net"])
    try:
        wait_for_tcp(*backend.address(80))
        time.sleep(2)
        figures = {}
        for part, (_, (_, port), _, measure) in PART_MEASURES.items():
            if part in PARTS:
                measure(figures, *backend.address(port))
    finally:
        stop(process)
    return figures


def median(runs, key, index=None):
    values = [run[key] if index is None else run[key][index] for run in runs]
    values = [value for value in values if value == value]   # drop NaN (a run that failed)
    return statistics.median(values) if values else float("nan")


def report(backend, runs):
    where = "QEMU's user network, clients on the host" if backend.name == "user" else "a TAP device, clients on the host"
    print("\nQEMU virt (Cortex-A15, 128 MiB), %s; median of %d alternating runs, %d s iperf3 runs"
          % (where, len(runs["unikernel"]), options.seconds))
    print("%-58s %12s %12s %8s" % ("", "unikernel", "Linux", "ratio"))
    rows = []
    if "tcp" in PARTS:
        rows += [("TCP to the guest (iperf3), Mbit/s", None), ("TCP from the guest (iperf3 -R), Mbit/s", None)]
    if "http" in PARTS:
        rows += [("HTTP %s (ab), req/s" % name, name) for name, _, _ in HTTP]
    if "tls" in PARTS:
        rows += [("TLS 1.3 full handshakes (X25519, ECDSA P-256), per s", None)]
        rows += [("TLS bulk, %s, MB/s" % suite, None) for suite in SUITES]
    for label, name in rows:
        key = name or label
        ours, theirs = median(runs["unikernel"], key), median(runs["linux"], key)
        line = "%-58s %12.1f %12.1f %8.2f" % (label, ours, theirs, ours / theirs if theirs else float("nan"))
        if name:
            failed = [sum(run[name + " failed"] for run in runs[system]) for system in ("unikernel", "linux")]
            if any(failed):
                line += "   failed requests: %d, %d" % tuple(failed)
        print(line)
    if "dns" in PARTS:
        for label in ("DNS queries per second (dnsperf, 20 in flight)", "DNS average latency (dnsperf), ms"):
            ours, theirs = median(runs["unikernel"], label), median(runs["linux"], label)
            print("%-58s %12.1f %12.1f %8.2f" % (label + (" (NSD)" if "second" in label else ""), ours, theirs, ours / theirs if theirs else float("nan")))
        lost = [sum(run.get("DNS queries lost", 0) for run in runs[system]) for system in ("unikernel", "linux")]
        if any(lost):
            print("  queries lost: %d, %d" % tuple(lost))
    for index, label in ((0, "UDP round trip, median, us"), (1, "UDP round trip, 99th percentile, us")) if "udp" in PARTS else ():
        ours, theirs = median(runs["unikernel"], "udp", index), median(runs["linux"], "udp", index)
        print("%-58s %12.0f %12.0f %8.2f" % (label, ours, theirs, ours / theirs if theirs else float("nan")))
    if "site" in PARTS:
        print("\nexamples/website by store, beside nginx in the Linux guest (req/s; MB/s for the 10 MiB file)")
        print("%-40s %14s %14s %14s" % ("", "image (crunch)", "git pack", "nginx"))
        for name, _, _ in SITE:
            rates = [median(runs["unikernel"], "site %s %s" % (store, name)) for store in SITE_STORES]
            rates.append(median(runs["linux"], "site nginx %s" % name))
            print("%-40s %14.1f %14.1f %14.1f" % (name + ", req/s", *rates))
            if name.startswith("10 MiB"):
                print("%-40s %14.1f %14.1f %14.1f" % ("  the same in MB/s", *[rate * SITE_FILE_BYTES / 1e6 for rate in rates]))
            failed = [sum(run.get("site %s %s failed" % (store, name), 0) for run in runs[system])
                      for store, system in (("folder", "unikernel"), ("git", "unikernel"), ("nginx", "linux"))]
            if any(failed):
                print("  failed requests: %d, %d, %d" % tuple(failed))


backends = [Backend(name) for name in options.backends.split(",")]
if os.geteuid() != 0 and any(backend.name == "tap" for backend in backends):
    print("(not root: the TAP figures are left out)")
    backends = [backend for backend in backends if backend.name != "tap"]

work = tempfile.mkdtemp()
try:
    folders = {name: build(name) for name in ("iperf", "http", "https", "echo")}   # http too: the size TLS adds
    if "dns" in PARTS:
        folders["dns"] = build("dns")
    if "site" in PARTS:
        folders.update({"website-" + store: build_site(store) for store in SITE_STORES})
    print("Image bytes on virt: examples/http %d, examples/https %d: TLS adds %d (the crypto, X.509, the state machine)"
          % (image_bytes("http"), image_bytes("https"), image_bytes("https") - image_bytes("http")))
    for backend in backends:
        runs = {"unikernel": [], "linux": []}
        backend.prepare([5201, 80, 443, 7, 53])
        try:
            for number in range(options.rounds):
                # Alternate which guest goes first, so that a slow spell of the host lands on both.
                order = [("unikernel", measure_unikernel), ("linux", measure_linux)]
                for system, measure in (order if number % 2 == 0 else order[::-1]):
                    runs[system].append(measure(backend))
                    print("%s, round %d, %s: %s" % (backend.name, number + 1, system,
                          json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in runs[system][-1].items()
                                      if k != "udp"})), file=sys.stderr, flush=True)
        finally:
            backend.finish()
        report(backend, runs)
finally:
    shutil.rmtree(work, ignore_errors=True)

# IPv6 beside IPv4: QEMU's user network carries no IPv6 from the host, so both go through a TAP relay (root only).
if os.geteuid() == 0 and "tcp" in PARTS:
    work = tempfile.mkdtemp()
    try:
        folder = build("iperf")
        socket_path = os.path.join(work, "net.sock")
        peer = subprocess.Popen([sys.executable, os.path.join(root, "bench", "network", "relay_iperf.py")],
                                env=dict(os.environ, NET_SOCKET=socket_path, MIRAGE_ROOT=root), stdout=subprocess.PIPE, text=True)
        process = start([mirage, "run", "--timeout", "600", "--net", "dgram:" + socket_path, "--",
                         "--ipv4-gateway=", "--ipv6=2001:db8:2::15/64"], folder)
        output, _ = peer.communicate(timeout=600)
        stop(process)
        print("\n%-58s %12s %12s" % ("", "to it", "from it"))
        print(output, end="")
    finally:
        shutil.rmtree(work, ignore_errors=True)
