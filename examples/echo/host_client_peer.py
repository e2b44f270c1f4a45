#!/usr/bin/env python3
"""Two unikernels on one wire: Tests/Fixtures/echo-client, built for the
host target, is the other end of this QEMU unikernel's -netdev dgram link
(--mirage.net.net=dgram-peer:$NET_SOCKET: it binds the socket QEMU sends
to and sends to QEMU's, with QEMU's second NIC's address), no relay between.
It connects to the echo server at 10.0.3.2 and has 64 KiB over TCP and a
datagram echoed, checking every byte."""
import os, shutil, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

root = os.environ["MIRAGE_ROOT"]
mirage = os.path.join(root, ".build", "debug", "mirage-config")
shutil.rmtree("echo-client", ignore_errors=True)
shutil.copytree(os.path.join(root, "Tests", "Fixtures", "echo-client"), "echo-client")
for step in (["configure", "--target", "host"], ["build"]):
    done = subprocess.run([mirage] + step + ["-C", "echo-client"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit("mirage-config %s failed: %s%s" % (step[0], done.stdout, done.stderr))

socket = os.environ["NET_SOCKET"]
client = subprocess.Popen(["echo-client/dist/echo-client.elf", "--mirage.net.net=dgram-peer:" + socket,
                           "--server=10.0.3.2", "--ipv4=10.0.3.3/24", "--ipv4-gateway="],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
deadline = time.time() + 30
while not os.path.exists(socket):
    if client.poll() is not None or time.time() > deadline:
        sys.exit("the host unikernel did not bind %s: %s" % (socket, client.stdout.read().decode(errors="replace")))
    time.sleep(0.05)
boot_peer.ready()
try:
    output, _ = client.communicate(timeout=150)
except subprocess.TimeoutExpired:
    client.kill()
    output, _ = client.communicate()
text = output.decode(errors="replace")
print(text, end="")
if client.returncode != 0 or "TCP: 65536 bytes echoed by 10.0.3.2" not in text or "UDP: datagram echoed by 10.0.3.2" not in text:
    sys.exit("the host unikernel's exchange failed (status %s)" % client.returncode)
