#!/usr/bin/env python3
"""The HTTPS example and record_size_limit (RFC 8449): tlslite-ng (PyPI, pure
Python) says it takes records of at most 256 bytes and fails with
record_overflow on any larger one; it fetches the 256 KiB file, which must
come whole and right. The certificate (P-256) is made at prepare by
`mirage-config tls self-signed`."""
import os, socket, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer
from first_page import first_page
from tlslite.api import TLSConnection, HandshakeSettings

boot_peer.ready()
port = int(os.environ["FORWARD_PORT"])
first_page(port)                                  # the unikernel is up, and curl verifies the certificate
settings = HandshakeSettings()
settings.minVersion = settings.maxVersion = (3, 4)
settings.record_size_limit = 256
connection = TLSConnection(socket.create_connection(("127.0.0.1", port), timeout=60))
connection.handshakeClientCert(settings=settings, serverName="localhost")
cipher = connection.getCipherName()
connection.write(b"GET /big HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
response = b""
while True:
    chunk = connection.read()
    if not chunk:
        break
    response += chunk
header, _, body = response.partition(b"\r\n\r\n")
expected = bytes((i * 7 + (i >> 10)) & 0xFF for i in range(256 * 1024))
if not header.startswith(b"HTTP/1.1 200") or body != expected:
    sys.exit("GET /big in records of 256 bytes: %r, %d bytes of body" % (header[:40], len(body)))
print("GET /big: 262144 bytes in records of at most 256 bytes, over", cipher)
