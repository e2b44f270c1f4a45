"""A Linux peer for the unikernel, for boot tests: a network namespace of its
own (made here, deleted after) holding a TAP device, and a relay between
that TAP and QEMU's -netdev dgram socket, optionally dropping, duplicating
and reordering frames. The host's own IPv4 and IPv6 stacks (and radvd,
ping, curl, iperf3 ...) run inside the namespace and reach the unikernel
as if on one Ethernet; nothing reaches the host's networks. Needs root.

Use: call enter() first thing in a peer script; it re-runs the script
inside the namespace and returns there. Then start(addresses) brings up
the TAP and the relay."""
import fcntl, os, random, signal, socket, struct, subprocess, sys, threading, time
import boot_peer

TAP = "relay0"

def enter():
    """Re-runs the calling script inside a fresh network namespace, and exits with its status."""
    if os.environ.get("RELAY_NAMESPACE"):
        return
    # Stopped by the harness: end the same way, so the namespace is deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    if os.geteuid() != 0:
        # Not root: through sudo if it asks for no password (as on CI machines that run as a user).
        if subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
            os.execvp("sudo", ["sudo", "-n", "--preserve-env=NET_SOCKET,MIRAGE_ROOT,UNIKERNEL_DIR,PEER_READY,PATH", sys.executable,
                               os.path.abspath(sys.argv[0])] + sys.argv[1:])
        sys.exit("this peer needs root (or sudo without a password), for a network namespace and a TAP device")
    namespace = "mirage-relay-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        child = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:],
                               env=dict(os.environ, RELAY_NAMESPACE=namespace), timeout=600)
        sys.exit(child.returncode)
    finally:
        subprocess.run(["ip", "netns", "delete", namespace])

class Relay:
    """Frames between the TAP and QEMU's socket; `drop`, `duplicate` and `reorder` are shares of frames, each way."""

    def __init__(self, addresses=(), drop=0.0, duplicate=0.0, reorder=0.0):
        self.drop, self.duplicate, self.reorder = drop, duplicate, reorder
        self.counts = {"frames": 0, "dropped": 0, "duplicated": 0, "reordered": 0}
        self.lock = threading.Lock()
        TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000
        self.tap = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.tap, TUNSETIFF, struct.pack("16sH", TAP.encode(), IFF_TAP | IFF_NO_PI))
        run("ip", "link", "set", "lo", "up")
        for address in addresses:
            run("ip", "addr", "add", address, "dev", TAP, *(["nodad"] if ":" in address else []))
        run("ip", "link", "set", TAP, "up")
        self.path = os.environ["NET_SOCKET"]
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        os.chmod(self.path, 0o666)   # qemu may run as another user than this root peer
        boot_peer.ready()            # the TAP and the socket are up: the unikernel's first frames will be carried
        deadline = time.time() + 60
        while not os.path.exists(self.path + ".qemu"):
            if time.time() > deadline: sys.exit("qemu never opened its socket")
            time.sleep(0.05)
        threading.Thread(target=self.carry, args=(lambda: os.read(self.tap, 65536), self.to_qemu, 1), daemon=True).start()
        threading.Thread(target=self.carry, args=(lambda: self.socket.recv(65536), lambda f: os.write(self.tap, f), 2), daemon=True).start()

    def to_qemu(self, frame):
        try:
            self.socket.sendto(frame, self.path + ".qemu")
        except OSError:
            pass

    def carry(self, receive, deliver, seed):
        chance = random.Random(seed)
        held = None
        while True:
            frame = receive()
            with self.lock:
                self.counts["frames"] += 1
                if chance.random() < self.drop:
                    self.counts["dropped"] += 1
                    continue
                copies = 1
                if chance.random() < self.duplicate:
                    self.counts["duplicated"] += 1
                    copies = 2
                if held is None and chance.random() < self.reorder:
                    self.counts["reordered"] += 1
                    held = frame   # goes out after the next frame
                    continue
            for _ in range(copies):
                deliver(frame)
            if held is not None:
                deliver(held)
                held = None

def run(*command, **options):
    return subprocess.run(list(command), check=True, **options)

def retry(what, attempt, seconds=90):
    """Calls attempt() until it returns something true, for at most `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        result = attempt()
        if result:
            return result
        time.sleep(0.5)
    sys.exit("gave up: " + what)
