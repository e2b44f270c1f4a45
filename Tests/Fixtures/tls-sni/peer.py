#!/usr/bin/env python3
"""SNI against the unikernel's TLS server, with Python's ssl module (OpenSSL):
each client trusts only one of the two certificates the prepare step made
(one.pem for one.test, two.pem for two.test and *.two.test) and checks the
host name, so a handshake completes only if the server chose that
certificate for the name the client sent. A name neither certificate has,
and no name at all, must get the first certificate."""
import os, socket, ssl, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

port = int(os.environ["FORWARD_PORT"])


def greeting(cafile, server_name, check_name=True):
    """The server's line, the handshake verified against `cafile` alone; the
    certificate's name checked against `server_name` when `check_name`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_verify_locations(cafile)
    context.check_hostname = check_name
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            line = b""
            while not line.endswith(b"\n"):
                chunk = tls.recv(100)
                if not chunk:
                    break
                line += chunk
            return line, tls.getpeercert(binary_form=True)


def first_greeting(cafile, server_name):
    """The first client waits for the unikernel to boot and listen."""
    deadline = time.time() + 180
    while True:
        try:
            return greeting(cafile, server_name)
        except (ConnectionError, socket.timeout, ssl.SSLEOFError) as error:
            if time.time() > deadline:
                sys.exit("the unikernel never answered on port %d: %s" % (port, error))
            time.sleep(1)


boot_peer.ready()
one = ssl.PEM_cert_to_DER_cert(open("one.pem").read())
two = ssl.PEM_cert_to_DER_cert(open("two.pem").read())
cases = [("one.test", "one.pem", one, True), ("www.two.test", "two.pem", two, True),
         ("three.test", "one.pem", one, False), (None, "one.pem", one, False)]
for number, (name, cafile, expected, check) in enumerate(cases):
    try:
        line, served = first_greeting(cafile, name) if number == 0 else greeting(cafile, name, check)
    except ssl.SSLCertVerificationError as error:
        sys.exit("server_name %r: the certificate served does not verify against %s: %s" % (name, cafile, error))
    if line != b"hello\n" or served != expected:
        sys.exit("server_name %r: got %r and %s certificate" % (name, line, "the expected" if served == expected else "another"))
    print("server_name %r: given %s, verified" % (name, cafile))
