"""A TAP interface on the host, for boot tests whose network is `tap`: QEMU
attaches its virtio-net to it with `-netdev tap`, the one backend through
which the device offers its checksum and segmentation offloads, and the
host's own IPv4 and IPv6 stacks (curl, ...) reach the unikernel through it.
The harness names it ($NET_TAP); make() creates it with addresses in the
benchmarking ranges (198.18.0.0/15, RFC 2544; 2001:db8::/32, RFC 3849), and
it is removed when the peer ends, however it ends. Needs root, or sudo that
asks for no password."""
import atexit, os, signal, subprocess, sys

def _as_root(command, check=True):
    if os.geteuid() != 0:
        command = ["sudo", "-n"] + command
    return subprocess.run(command, check=check, capture_output=True)

def make(ipv4="198.18.0.1/24", ipv6="2001:db8:7::1/64"):
    """Creates $NET_TAP (QEMU, running as this user, may attach to it), up, with the host's addresses; returns its name."""
    name = os.environ["NET_TAP"]
    if os.geteuid() != 0 and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0:
        sys.exit("this peer needs root (or sudo without a password) for a TAP interface")
    _as_root(["ip", "tuntap", "add", "mode", "tap", "name", name, "user", str(os.getuid())])
    atexit.register(lambda: _as_root(["ip", "link", "del", name], check=False))
    # Stopped by the harness: end the same way, so the interface goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    _as_root(["ip", "addr", "add", ipv4, "dev", name])
    _as_root(["ip", "-6", "addr", "add", ipv6, "dev", name, "nodad"])
    _as_root(["ip", "link", "set", name, "up"])
    return name
