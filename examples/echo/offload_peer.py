#!/usr/bin/env python3
"""TCP echo over a TAP interface (tools/host_tap.py), where virtio-net offers
its offloads and the unikernel takes them all: 4 MiB of random bytes echoed
over IPv4 and over IPv6, byte for byte, while a packet socket on the TAP
watches the frames each way. The host's kernel cuts the unikernel's large
packets into segments and checks the checksums the device completed, and
hands the unikernel its own large packets with their checksums left to it,
so the bytes coming back whole says the offloads work both ways; frames
longer than the MTU seen on the TAP, each way and for each address family,
say segmentation was used."""
import os, socket, struct, sys, threading, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer, host_tap

tap = host_tap.make(ipv4="198.18.0.1/24", ipv6="2001:db8:7::1/64")
# Frames longer than Ethernet's 1514 bytes, by direction (sent by the unikernel, or to it) and EtherType.
large = {(direction, kind): 0 for direction in ("from", "to") for kind in (0x0800, 0x86DD)}
watcher = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
watcher.bind((tap, 0))
watcher.settimeout(0.5)
done = threading.Event()

def watch():
    while not done.is_set():
        try:
            frame, address = watcher.recvfrom(70000)
        except socket.timeout:
            continue
        except OSError:
            return   # the interface went at the end
        kind = struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
        direction = "to" if address[2] == socket.PACKET_OUTGOING else "from"
        if len(frame) > 1514 and (direction, kind) in large:
            large[(direction, kind)] += 1

threading.Thread(target=watch, daemon=True).start()
boot_peer.ready()

def echo(family, address, data, deadline):
    """`data` sent to the unikernel's TCP echo and what came back."""
    while True:
        try:
            connection = socket.create_connection((address, 7), timeout=30)
            break
        except OSError as error:
            if time.time() > deadline:
                sys.exit("nothing answered on %s port 7: %s" % (address, error))
            time.sleep(0.5)
    received = bytearray()
    def read():
        while len(received) < len(data):
            chunk = connection.recv(1 << 16)
            if not chunk:
                return
            received.extend(chunk)
    reader = threading.Thread(target=read)
    reader.start()
    connection.sendall(data)
    reader.join(60)
    connection.close()
    return bytes(received)

deadline = time.time() + 120
for family, address in ((0x0800, "198.18.0.15"), (0x86DD, "2001:db8:7::15")):
    data = os.urandom(4 << 20)
    back = echo(family, address, data, deadline)
    if back != data:
        sys.exit("%s: %d of %d bytes came back%s" % (address, len(back), len(data), "" if len(back) < len(data) else ", different"))
    print("%s: 4 MiB echoed whole; frames longer than the MTU: %d from the unikernel, %d to it"
          % (address, large[("from", family)], large[("to", family)]))
done.set()
if not all(large.values()):
    sys.exit("segmentation was not used every way: frames longer than the MTU %r" % large)
