#!/usr/bin/env python3
"""Loss recovery for real: Linux's own TCP (not our code) echoes 1 MiB through
the unikernel while this relay, between QEMU's -netdev dgram socket
($NET_SOCKET) and a TAP device, drops, duplicates and reorders a share of
the frames both ways. Every byte must come back, in order.

It needs root: the TAP device and Linux's end live in a network namespace
of their own (made here, deleted after), so nothing reaches the host's
networks."""
import fcntl, hashlib, os, random, signal, socket, struct, subprocess, sys, threading, time

DROP, DUPLICATE, REORDER = 0.03, 0.01, 0.03   # shares of frames, each way
path = os.environ["NET_SOCKET"]
namespace = os.environ.get("RELAY_NAMESPACE")

# Stopped by the test harness: end the same way, so the namespace is deleted.
signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))

if namespace is None:
    if os.geteuid() != 0:
        sys.exit("the lossy relay needs root, for a network namespace and a TAP device")
    namespace = "mirage-relay-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        child = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, os.path.abspath(__file__)],
                               env=dict(os.environ, RELAY_NAMESPACE=namespace), timeout=170)
        sys.exit(child.returncode)
    finally:
        subprocess.run(["ip", "netns", "delete", namespace])

# Inside the namespace: a TAP device with Linux's address, 10.0.2.1/24.
TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000
tap = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", b"relay0", IFF_TAP | IFF_NO_PI))
for command in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", "10.0.2.1/24", "dev", "relay0"],
                ["ip", "link", "set", "relay0", "up"]):
    subprocess.run(command, check=True)

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
deadline = time.time() + 60
while not os.path.exists(path + ".qemu"):
    if time.time() > deadline: sys.exit("qemu never opened its socket")
    time.sleep(0.05)

counts = {"frames": 0, "dropped": 0, "duplicated": 0, "reordered": 0}
lock = threading.Lock()

def relay(receive, deliver, seed):
    chance = random.Random(seed)
    held = None
    while True:
        frame = receive()
        with lock:
            counts["frames"] += 1
            if chance.random() < DROP:
                counts["dropped"] += 1
                continue
            copies = 1
            if chance.random() < DUPLICATE:
                counts["duplicated"] += 1
                copies = 2
            if held is None and chance.random() < REORDER:
                counts["reordered"] += 1
                held = frame   # goes out after the next frame
                continue
        for _ in range(copies):
            deliver(frame)
        if held is not None:
            deliver(held)
            held = None

def to_qemu(frame):
    try:
        sock.sendto(frame, path + ".qemu")
    except OSError:
        pass

threading.Thread(target=relay, args=(lambda: os.read(tap, 65536), to_qemu, 1), daemon=True).start()
threading.Thread(target=relay, args=(lambda: sock.recv(65536), lambda f: os.write(tap, f), 2), daemon=True).start()

payload = os.urandom(1 << 20)
deadline = time.time() + 90
while True:
    try:
        connection = socket.create_connection(("10.0.2.15", 7), timeout=3)
        break
    except OSError:
        if time.time() > deadline: sys.exit("no TCP connection to the unikernel")
        time.sleep(0.5)
connection.settimeout(60)
started = time.time()

def send():
    connection.sendall(payload)
    connection.shutdown(socket.SHUT_WR)

sender = threading.Thread(target=send)
sender.start()
received = bytearray()
while True:
    data = connection.recv(65536)
    if not data:
        break
    received += data
sender.join()
elapsed = time.time() - started
if bytes(received) != payload:
    sys.exit("sent 1 MiB (sha256 %s), got %d bytes back (sha256 %s)" % (
        hashlib.sha256(payload).hexdigest(), len(received), hashlib.sha256(received).hexdigest()))
with lock:
    print("1 MiB echoed intact in %.1f s through %d frames: %d dropped, %d duplicated, %d reordered" % (
        elapsed, counts["frames"], counts["dropped"], counts["duplicated"], counts["reordered"]))
    if counts["dropped"] < 20:
        sys.exit("the relay dropped too few frames to test recovery")
