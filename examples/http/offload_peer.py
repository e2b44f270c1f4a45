#!/usr/bin/env python3
"""HTTP over a TAP interface (tools/host_tap.py), where virtio-net offers
its offloads and the unikernel takes them: curl fetches the 256 KiB file
over IPv4 and over IPv6, byte for byte, while a packet socket on the TAP
watches the frames the unikernel sends. The host's kernel cuts the large
ones into segments and checks each checksum the device completed, so the
bytes arriving whole says both offloads work; frames longer than the MTU
seen on the TAP say segmentation was used, for each address family."""
import os, socket, struct, subprocess, sys, threading, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer, host_tap

tap = host_tap.make(ipv4="198.18.0.1/24", ipv6="2001:db8:7::1/64")
# Frames the unikernel sent (to the host), longer than Ethernet's 1514 bytes, by EtherType.
large = {0x0800: 0, 0x86DD: 0}
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
        if address[2] == socket.PACKET_OUTGOING or len(frame) < 14:
            continue   # what the host sends; the unikernel's frames come in on the TAP
        kind = struct.unpack("!H", frame[12:14])[0]
        if len(frame) > 1514 and kind in large:
            large[kind] += 1

threading.Thread(target=watch, daemon=True).start()
boot_peer.ready()

expected = bytes((i * 7 + (i >> 10)) & 0xFF for i in range(256 * 1024))
def fetch(url, deadline):
    while True:
        big = subprocess.run(["curl", "-s", "-g", "--max-time", "20", "-f", url], capture_output=True)
        if big.returncode == 0 or time.time() > deadline:
            return big
        time.sleep(0.5)

deadline = time.time() + 120
for family, url in ((0x0800, "http://198.18.0.15/big"), (0x86DD, "http://[2001:db8:7::15]/big")):
    big = fetch(url, deadline)
    if big.stdout != expected:
        sys.exit("GET %s: curl exited %d with %d bytes, not the 256 KiB expected" % (url, big.returncode, len(big.stdout)))
    print("GET %s ok, %d frames longer than the MTU" % (url, large[family]))
done.set()
if not all(large.values()):
    sys.exit("no frame longer than the MTU came from the unikernel (IPv4 %d, IPv6 %d): segmentation was not used" % (large[0x0800], large[0x86DD]))
