"""A peer for examples/https-client: Python's ssl module (OpenSSL) serving
TLS 1.3 only on 127.0.0.1:18443, which the guest reaches as 10.0.2.2:18443,
with the certificate the prepare step made. It answers one connection: a GET
gets 33,000 bytes whose SHA-256 the boot test expects. With `refused` the
handshake must fail (the unikernel refuses the certificate); else it must
succeed. With `resumed N` it answers N connections, and OpenSSL must say
that each after the first resumed the session (from its ticket)."""
import os, socket, ssl, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

body = b"Hello from the host over TLS 1.3\n" * 1000
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_3
context.load_cert_chain("server.pem", "server.key")
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 18443))
listener.listen(1)
listener.settimeout(120)
boot_peer.ready()
refused = sys.argv[1:] == ["refused"]
# `resumed N`: N connections, each after the first resuming the session (OpenSSL's own check).
connections = int(sys.argv[2]) if sys.argv[1:2] == ["resumed"] else 1
for number in range(1, connections + 1):
    raw, _ = listener.accept()
    raw.settimeout(60)
    try:
        tls = context.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as error:
        if refused:
            print("refused as expected:", error)
            sys.exit(0)
        sys.exit("the handshake failed: %s" % error)
    if refused:
        sys.exit("the unikernel took a certificate it should have refused")
    if tls.session_reused != (number > 1):
        sys.exit("connection %d: session_reused is %s" % (number, tls.session_reused))
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = tls.recv(4096)
        if not chunk:
            sys.exit("no request")
        request += chunk
    if not request.startswith(b"GET /hello HTTP/1.1\r\nHost: localhost:18443\r\n"):
        sys.exit("unexpected request %r" % request)
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    print("connection %d: served the page over %s%s" % (number, tls.version(), ", resumed" if tls.session_reused else ""))
    tls.close()
