#!/usr/bin/env python3
"""The peer for the echo example's active open: a TCP server of the host's own
(not our code) on 127.0.0.1:47007, which QEMU's user network shows the guest
as 10.0.2.2:47007. The unikernel connects to it (--connect=10.0.2.2
--connect-port=47007); the server sends 256 KiB and checks that every byte
comes back in order."""
import os, socket, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import echo_check

connection, peer = echo_check.accept_one(socket.AF_INET, "127.0.0.1", 47007)
print("the unikernel connected from %s:%d" % peer)
echo_check.stream_through(connection, os.urandom(256 << 10), "TCP from an active open")
print("256 KiB echoed intact on the unikernel's own connection")
