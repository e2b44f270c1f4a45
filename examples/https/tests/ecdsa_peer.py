#!/usr/bin/env python3
"""The HTTPS example with a P-256 certificate: curl verifies it and the name
"localhost", with a P-256 key exchange, and openssl x509 says the certificate
served is the ECDSA one the prepare step made."""
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer
from first_page import first_page

boot_peer.ready()
first_page(os.environ["FORWARD_PORT"], "--curves", "prime256v1")
kind = subprocess.run(["openssl", "x509", "-in", "server.pem", "-noout", "-text"], capture_output=True).stdout
if b"id-ecPublicKey" not in kind or b"P-256" not in kind:
    sys.exit("server.pem is not a P-256 certificate")
print("GET / ok with a P-256 certificate and key exchange, verified")
