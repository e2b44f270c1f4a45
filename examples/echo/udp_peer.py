#!/usr/bin/env python3
"""The echo test's peer: the host's own UDP sockets (not our code) send
datagrams through QEMU's user network to the unikernel's echo port
(forwarded from 127.0.0.1:$FORWARD_PORT) and check each comes back byte for
byte. Retries while the unikernel boots. The last datagram waits 3 s, so
that the unikernel, which stops after it, has had time to take its IPv6
address from QEMU's router advertisement (a solicitation, the answer, then
1 s of duplicate address detection)."""
import os, socket, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

boot_peer.ready()   # it polls the unikernel until it answers: the boot may start at once

port = int(os.environ["FORWARD_PORT"])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(0.5)
for size in (1, 17, 512, 1000, 1472):
    if size == 1472:
        time.sleep(3)
    payload = os.urandom(size)
    deadline = time.time() + 60
    while True:
        if time.time() > deadline:
            sys.exit("no echo of %d bytes" % size)
        sock.sendto(payload, ("127.0.0.1", port))
        try:
            data = sock.recv(4096)
        except (socket.timeout, ConnectionRefusedError):
            continue
        if data != payload:
            sys.exit("a %d-byte datagram came back as %d different bytes" % (size, len(data)))
        print("echoed %d bytes" % size)
        break
