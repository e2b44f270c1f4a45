"""What every boot test's peer does: say when it is ready. The harness
(`mirage-config test`) starts the peer first and boots the unikernel only
once the peer has said so (or has ended), so that no peer loses a race to
the unikernel on a slow machine: a scapy peer claims an address before the
unikernel's duplicate address detection ends, a relay carries the very
first frames, a server listens before the unikernel connects."""
import os

def ready():
    """Tells the harness to boot: creates the file $PEER_READY names."""
    path = os.environ.get("PEER_READY")
    if path and not os.path.exists(path):
        with open(path, "w"):
            pass
