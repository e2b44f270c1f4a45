"""What the frame-by-frame peers share: scapy (not our code) on QEMU's
-netdev dgram socket. This end is the Unix socket $NET_SOCKET, bound when
this module is imported: import it before scapy, whose import is slow, so
that the unikernel's first frames (DAD, its first ARP) wait in the socket.
QEMU's end is $NET_SOCKET.qemu. Frames are sent, waited for by a test, or
must not come."""
import os, socket, sys, time
import boot_peer

path = os.environ["NET_SOCKET"]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)

# Sees every frame first; returns True for one it dealt with itself (the
# echo peer answers the unikernel's ARP requests so), which callers then miss.
handled = None

def wait_for_qemu(seconds=60):
    """Says the peer is ready (the harness then boots the unikernel), and waits for QEMU's socket."""
    boot_peer.ready()
    deadline = time.time() + seconds
    while not os.path.exists(path + ".qemu"):
        if time.time() > deadline:
            sys.exit("qemu never opened its socket")
        time.sleep(0.05)

def send(frame, seconds=60):
    """A scapy packet, or bytes as they are (malformed frames). QEMU's socket
    holds 10 datagrams (net.unix.max_dgram_qlen) until QEMU reads them, and on
    a busy machine QEMU may not read for longer than the receive timeout, which
    applies to sends too: a full queue is waited out, not taken for a failure."""
    from scapy.all import raw
    data = frame if isinstance(frame, bytes) else raw(frame)
    deadline = time.time() + seconds
    while True:
        try:
            sock.sendto(data, path + ".qemu")
            return
        except socket.timeout:
            if time.time() > deadline:
                sys.exit("qemu took no frame for %d s" % seconds)
        except (FileNotFoundError, ConnectionRefusedError):
            sys.exit("qemu has ended: its socket is gone")

def frames(seconds):
    """The unikernel's frames, as scapy Ethernet packets, for `seconds`."""
    from scapy.all import Ether
    end = time.time() + seconds
    while time.time() < end:
        try:
            frame = Ether(sock.recv(65536))
        except socket.timeout:
            continue
        if handled is not None and handled(frame):
            continue
        yield frame

def expect(accept, what, seconds=15, resend=None):
    """The first frame `accept` takes, sending `resend` (if any) each second; exits naming `what` if none comes."""
    end = time.time() + seconds
    while time.time() < end:
        if resend is not None:
            send(resend)
        for frame in frames(1):
            if accept(frame):
                return frame
    sys.exit("no " + what)

def silent(accept, seconds, describe):
    """Exits with `describe(frame)` if a frame `accept` takes comes within `seconds`."""
    for frame in frames(seconds):
        if accept(frame):
            sys.exit("unexpected " + describe(frame))
