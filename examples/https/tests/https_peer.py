#!/usr/bin/env python3
"""The HTTPS test's peer, through QEMU's user network (127.0.0.1:$FORWARD_PORT
forwarded to the unikernel's port 443). curl verifies the certificate the
prepare step made (server.pem, here) and the name "localhost": the page,
256 KiB byte for byte in ChaCha20-Poly1305 and in AES-256-GCM with SHA-384,
a 404 and the page on one kept-alive connection, and a session resumed from
the ticket the first of two s_client connections kept. Between them,
openssl s_client offering only TLS 1.2 and a plaintext request must both be
refused with an alert, without stopping the server."""
import os, socket, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer
from first_page import first_page

boot_peer.ready()

port = os.environ["FORWARD_PORT"]
base = "https://localhost:%s" % port
trust = ["--cacert", "server.pem", "--resolve", "localhost:%s:127.0.0.1" % port]

def curl(path, *options):
    return subprocess.run(["curl", "-s", "--max-time", "60"] + trust + list(options) + [base + path], capture_output=True)

first_page(port)
print("GET / ok over TLS 1.3, certificate and name verified")

expected = bytes((i * 7 + (i >> 10)) & 0xFF for i in range(256 * 1024))
big = curl("/big", "-f")
if big.returncode != 0 or big.stdout != expected:
    sys.exit("GET /big: curl exited %d with %d bytes" % (big.returncode, len(big.stdout)))
print("GET /big ok (ChaCha20-Poly1305)")

old = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_2"], input=b"", capture_output=True, timeout=60)
if old.returncode == 0 or b"protocol version" not in old.stdout + old.stderr:
    sys.exit("TLS 1.2 was not refused with protocol_version: %r" % (old.stdout + old.stderr)[-300:])
print("TLS 1.2 refused: protocol_version")

with socket.create_connection(("127.0.0.1", int(port)), timeout=60) as plain:
    plain.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    answer = plain.recv(100)
if answer != b"\x15\x03\x03\x00\x02\x02\x0a":
    sys.exit("a plaintext request got %r, not a fatal unexpected_message alert" % answer)
print("a plaintext request got a fatal unexpected_message alert")

big = curl("/big", "-f", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384", "-w", "%{ssl_verify_result}", "-o", "big.bin")
if big.returncode != 0 or open("big.bin", "rb").read() != expected:
    sys.exit("GET /big in AES-256-GCM: curl exited %d" % big.returncode)
print("GET /big ok (AES-256-GCM, SHA-384)")

both = subprocess.run(["curl", "-s", "--max-time", "60"] + trust + ["-w", "%{http_code} %{num_connects}\n",
                       "-o", "/dev/null", base + "/nothing", "-o", "/dev/null", base + "/"], capture_output=True)
codes = both.stdout.decode().split()
if codes != ["404", "1", "200", "0"]:
    sys.exit("GET /nothing then / on one connection: %r" % both.stdout)
print("GET /nothing: 404, then GET / on the same TLS connection")

# A session ticket: s_client keeps it (-sess_out) and resumes with it (-sess_in).
request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
for option, kind in (("-sess_out", b"New, TLSv1.3"), ("-sess_in", b"Reused, TLSv1.3")):
    run = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost", "-CAfile", "server.pem",
                          "-verify_return_error", "-ign_eof", option, "session.pem"], input=request, capture_output=True, timeout=60)
    if run.returncode != 0 or kind not in run.stdout or b"Hello from a Swift unikernel" not in run.stdout:
        sys.exit("s_client %s: exit %d, %r" % (option, run.returncode, (run.stdout + run.stderr)[-400:]))
print("a session resumed from its ticket (s_client -sess_out, then -sess_in)")
