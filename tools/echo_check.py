"""What the echo tests' peers share: send a payload on a TCP connection
while reading back what the echo server returns, then close our side."""
import hashlib, socket, sys, threading

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
