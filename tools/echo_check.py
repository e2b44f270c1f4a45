"""What the echo tests' peers share: send a payload on a TCP connection
while reading back what the echo server returns, then close our side; and
accept the one connection the unikernel opens itself."""
import hashlib, socket, sys, threading
import boot_peer

def stream_through(connection, payload, what):
    """Sends `payload` and reads until the server closes; exits with a message unless every byte came back in order."""
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
    if bytes(received) != payload:
        sys.exit("%s: sent %d bytes (sha256 %s), got %d back (sha256 %s)" % (
            what, len(payload), hashlib.sha256(payload).hexdigest(), len(received), hashlib.sha256(received).hexdigest()))

def accept_one(family, address, port, seconds=90):
    """The first connection to a listener of the host's at (address, port), and the peer's address."""
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(1)
    boot_peer.ready()    # listening: the unikernel may connect
    listener.settimeout(seconds)
    connection, peer = listener.accept()
    listener.close()
    connection.settimeout(60)
    return connection, peer
