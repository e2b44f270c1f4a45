#!/usr/bin/env python3
"""The TCP echo test's peer: the host's own TCP socket (not our code) sends
1 MiB through QEMU's user network to the unikernel's echo port (forwarded
from 127.0.0.1:$FORWARD_PORT) while reading it back, and checks it byte for
byte; then it closes and expects the unikernel's close."""
import os, socket, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import echo_check
import boot_peer

boot_peer.ready()   # it polls the unikernel until it answers: the boot may start at once

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

echo_check.stream_through(sock, payload, "TCP")
print("1 MiB echoed intact, and the stream closed")
