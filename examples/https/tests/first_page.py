"""What the HTTPS peers share: curl, trusting only the certificate the
prepare step made (server.pem, here) for the name "localhost", tried until
the unikernel answers with its page."""
import subprocess, sys, time

def first_page(port, *options):
    """The page from https://localhost:PORT/, with curl's verify result after
    it; exits the peer if none comes within two minutes."""
    deadline = time.time() + 120
    while True:
        page = subprocess.run(["curl", "-s", "--max-time", "60", "--cacert", "server.pem", "--resolve", "localhost:%s:127.0.0.1" % port,
                               "-w", "\n%{ssl_verify_result} %{http_version}"] + list(options) + ["https://localhost:%s/" % port],
                              capture_output=True)
        if page.returncode == 0 and b"Hello from a Swift unikernel" in page.stdout:
            if not page.stdout.endswith(b"\n0 1.1"):
                sys.exit("GET /: the certificate did not verify, or not HTTP/1.1: %r" % page.stdout[-20:])
            return page.stdout
        if time.time() > deadline:
            sys.exit("no page: curl exited %d: %s" % (page.returncode, page.stderr.decode()))
        time.sleep(1)
