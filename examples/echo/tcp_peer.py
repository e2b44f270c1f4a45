#!/usr/bin/env python3
"""The TCP echo test's peer: the host's own TCP socket (not our code) sends
1 MiB through QEMU's user network to the unikernel's echo port (forwarded
from 127.0.0.1:$FORWARD_PORT) while reading it back, and checks it byte for
byte; then it closes and expects the unikernel's close."""
import hashlib, os, socket, sys, threading, time

port = int(os.environ["FORWARD_PORT"])
payload = os.urandom(1 << 20)
deadline = time.time() + 60
while True:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"ping")
        if sock.recv(4) == b"ping":
            break
        sock.close()
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("no TCP echo")
    time.sleep(0.5)
sock.settimeout(60)

def send():
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)

sender = threading.Thread(target=send)
sender.start()
received = bytearray()
while True:
    data = sock.recv(65536)
    if not data:
        break
    received += data
sender.join()
if bytes(received) != payload:
    sys.exit("sent 1 MiB (sha256 %s), got %d bytes back (sha256 %s)" % (
        hashlib.sha256(payload).hexdigest(), len(received), hashlib.sha256(received).hexdigest()))
print("1 MiB echoed intact, and the stream closed")
