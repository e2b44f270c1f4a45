#!/usr/bin/env python3
"""The network benchmark (scripts/bench-network): the unikernel's examples and
a Linux guest, one after the other on the same QEMU machine (virt) and network
backend (QEMU's user network, ports forwarded from 127.0.0.1), measured by the
same stock clients: iperf3 both ways, ab for HTTP requests per second (kept
alive and not), and UDP round trips from a host socket. Prints figures;
judges nothing."""
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

root, mirage, guest = sys.argv[1], sys.argv[2], sys.argv[3]
SECONDS = 5

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def wait_for_tcp(port, seconds=120):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(2)
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("nothing answered on port %d" % port)

def start(command, folder=None):
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)

def iperf(port, reverse):
    command = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(SECONDS), "-J"] + (["-R"] if reverse else [])
    for _ in range(3):
        report = json.loads(subprocess.run(command, capture_output=True, timeout=60).stdout or b"{}")
        if "error" not in report and "end" in report:
            return report["end"]["sum_received"]["bits_per_second"] / 1e6
        time.sleep(1)
    return float("nan")

def ab(port, keep_alive):
    requests = 2000 if keep_alive else 500
    command = ["ab", "-q", "-n", str(requests), "-c", "1", "-s", "20"] + (["-k"] if keep_alive else []) + ["http://127.0.0.1:%d/" % port]
    output = subprocess.run(command, capture_output=True, timeout=300).stdout.decode()
    return next((float(line.split()[3]) for line in output.splitlines() if line.startswith("Requests per second")), float("nan"))

def round_trips(port, count=1000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    payload, times = b"x" * 64, []
    end = time.time() + 60
    while len(times) < count and time.time() < end:
        started = time.perf_counter()
        s.sendto(payload, ("127.0.0.1", port))
        try:
            if s.recv(2048) == payload:
                times.append((time.perf_counter() - started) * 1e6)
        except socket.timeout:
            pass
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]

def unikernel(name, forwards, arguments=()):
    folder = os.path.join(work, name)
    shutil.copytree(os.path.join(root, "examples", name), folder, ignore=shutil.ignore_patterns("_build", "dist"))
    for step in (["configure", "--target", "virt", "--assert-config", "release"], ["build"]):
        subprocess.run([mirage] + step, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    command = [mirage, "run", "--timeout", "900"] + sum((["--forward", f] for f in forwards), [])
    if arguments: command += ["--"] + list(arguments)
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

results = {}
work = tempfile.mkdtemp()
try:
    # The unikernel: one example per figure.
    port = free_port()
    process = unikernel("iperf", ["tcp:%d:5201" % port])
    wait_for_tcp(port)
    results["unikernel"] = {"to guest": iperf(port, False), "from guest": iperf(port, True)}
    stop(process)
    port = free_port()
    process = unikernel("http", ["tcp:%d:80" % port])
    wait_for_tcp(port)
    results["unikernel"]["keep-alive"] = ab(port, True)
    results["unikernel"]["new connections"] = ab(port, False)
    stop(process)
    port = free_port()
    process = unikernel("echo", ["udp:%d:7" % port])
    time.sleep(3)
    results["unikernel"]["udp"] = round_trips(port)
    stop(process)

    # Linux: every service in one boot.
    iperf_port, http_port, udp_port = free_port(), free_port(), free_port()
    forwards = "hostfwd=tcp:127.0.0.1:%d-:5201,hostfwd=tcp:127.0.0.1:%d-:80,hostfwd=udp:127.0.0.1:%d-:7" % (iperf_port, http_port, udp_port)
    process = start(["qemu-system-arm", "-M", "virt", "-cpu", "cortex-a15", "-m", "128M", "-nographic",
                     "-kernel", os.path.join(guest, "vmlinuz"), "-initrd", os.path.join(guest, "initrd.gz"),
                     "-append", "console=ttyAMA0 quiet", "-netdev", "user,id=net," + forwards,
                     "-device", "virtio-net-device,netdev=net"])
    wait_for_tcp(http_port)
    time.sleep(2)
    results["linux"] = {"to guest": iperf(iperf_port, False), "from guest": iperf(iperf_port, True),
                        "keep-alive": ab(http_port, True), "new connections": ab(http_port, False), "udp": round_trips(udp_port)}
    stop(process)
finally:
    shutil.rmtree(work, ignore_errors=True)

print("QEMU virt (Cortex-A15, 128 MiB), QEMU's user network, clients on the host; %d s iperf3 runs, ab -c 1" % SECONDS)
print("%-40s %12s %12s" % ("", "unikernel", "Linux guest"))
rows = [("TCP to the guest (iperf3), Mbit/s", "to guest", "%.0f"), ("TCP from the guest (iperf3 -R), Mbit/s", "from guest", "%.0f"),
        ("HTTP, kept alive (ab -k), req/s", "keep-alive", "%.0f"), ("HTTP, a connection each (ab), req/s", "new connections", "%.0f")]
for label, key, form in rows:
    print("%-40s %12s %12s" % (label, form % results["unikernel"][key], form % results["linux"][key]))
for index, label in ((0, "UDP round trip, median, us"), (1, "UDP round trip, 99th percentile, us")):
    print("%-40s %12.0f %12.0f" % (label, results["unikernel"]["udp"][index], results["linux"]["udp"][index]))

# IPv6 beside IPv4: QEMU's user network carries no IPv6 from the host, so both go through a TAP relay (root only).
if os.geteuid() == 0:
    work = tempfile.mkdtemp()
    try:
        folder = os.path.join(work, "iperf")
        shutil.copytree(os.path.join(root, "examples", "iperf"), folder, ignore=shutil.ignore_patterns("_build", "dist"))
        for step in (["configure", "--target", "virt", "--assert-config", "release"], ["build"]):
            subprocess.run([mirage] + step, cwd=folder, check=True, stdout=subprocess.DEVNULL)
        socket_path = os.path.join(work, "net.sock")
        peer = subprocess.Popen([sys.executable, os.path.join(root, "bench", "network", "relay_iperf.py")],
                                env=dict(os.environ, NET_SOCKET=socket_path, MIRAGE_ROOT=root), stdout=subprocess.PIPE, text=True)
        unikernel = start([mirage, "run", "--timeout", "600", "--net", "dgram:" + socket_path, "--",
                           "--ipv4-gateway=", "--ipv6=2001:db8:2::15/64"], folder)
        output, _ = peer.communicate(timeout=600)
        stop(unikernel)
        print("%-40s %12s %12s" % ("", "to it", "from it"))
        print(output, end="")
    finally:
        shutil.rmtree(work, ignore_errors=True)
