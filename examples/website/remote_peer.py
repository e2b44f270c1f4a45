#!/usr/bin/env python3
"""The remote git store's peer: git daemon (not our code) serves repo/ (made
by the test's prepare) on 127.0.0.1:19418, where the unikernel, through
QEMU's user network, finds it as git://10.0.2.2:19418/repo and fetches main
at start; with --http, git's own smart HTTP server (git http-backend, run
as CGI by a small Python server) serves it on 127.0.0.1:19419 as
http://10.0.2.2:19419/repo. Then:

1. site_peer.py checks every file and HTTP feature against `git show main:`
   (its $SITE_REQUESTS requests);
2. a new commit changes index.html and a 300 KB file of random bytes, and
   adds news.txt, while curl asks for / and the 300 KB file over and over:
   every answer must be wholly the old commit's or wholly the new one's (body
   and ETag), never the old again once the new was seen, and the new must
   come within the pull interval (--git-pull-every, $PULL_EVERY s) plus a
   margin for a slow machine; the time it took is printed;
3. news.txt is then served.

It makes exactly $REQUESTS requests, the number the unikernel answers before it stops."""
import hashlib, http.server, os, subprocess, sys, threading, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

HTTP = "--http" in sys.argv[1:]
PORT = 19419 if HTTP else 19418
ROUNDS = 40
pull_every = int(os.environ["PULL_EVERY"])
base = "http://127.0.0.1:%s" % os.environ["FORWARD_PORT"]


def git(*arguments):
    return subprocess.run(["git", "-C", "repo", "-c", "user.name=Test", "-c", "user.email=test@example.org"] + list(arguments),
                          capture_output=True, check=True).stdout


class SmartHTTP(http.server.BaseHTTPRequestHandler):
    """Each request run through git http-backend as a CGI program (gitprotocol-http)."""
    protocol_version = "HTTP/1.1"

    def backend(self, body):
        path, _, query = self.path.partition("?")
        environment = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": os.path.abspath("."), "GIT_HTTP_EXPORT_ALL": "1",
                       "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                       "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""), "REMOTE_ADDR": self.client_address[0]}
        result = subprocess.run(["git", "http-backend"], input=body, env=environment, capture_output=True, timeout=60)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status, fields = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                fields.append((name, value.strip()))
        self.send_response(status)
        for name, value in fields:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self.backend(b"")

    def do_POST(self):
        self.backend(self.rfile.read(int(self.headers.get("Content-Length", "0"))))


if HTTP:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), SmartHTTP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    daemon = None
else:
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--base-path=.", "--listen=127.0.0.1", "--port=%d" % PORT,
                               "--informative-errors", "--timeout=60"], stdout=sys.stdout, stderr=sys.stdout)
try:
    deadline = time.time() + 30
    remote = ("http://127.0.0.1:%d/repo" if HTTP else "git://127.0.0.1:%d/repo") % PORT
    while subprocess.run(["git", "ls-remote", remote, "main"], capture_output=True).returncode != 0:
        if time.time() > deadline or (daemon and daemon.poll() is not None):
            sys.exit("%s did not serve repo/" % remote)
        time.sleep(0.2)
    boot_peer.ready()

    site = subprocess.run([sys.executable, os.path.join(os.environ["UNIKERNEL_DIR"], "site_peer.py")],
                          env=dict(os.environ, REQUESTS=os.environ["SITE_REQUESTS"]), stdout=sys.stdout, stderr=sys.stdout)
    if site.returncode != 0:
        sys.exit("site_peer.py failed")
    requests = int(os.environ["SITE_REQUESTS"])

    def curl(path):
        global requests
        result = subprocess.run(["curl", "-s", "--max-time", "60", "-D", "-", "-o", "body", base + path], capture_output=True)
        if result.returncode != 0:
            sys.exit("curl %s failed: %s" % (path, result.stderr.decode(errors="replace")))
        requests += 1
        head = result.stdout.decode("latin-1").split("\r\n")
        headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head[1:] if ":" in line}
        return int(head[0].split()[1]), headers, open("body", "rb").read()

    def blob(commit, path):
        data = git("show", "%s:%s" % (commit, path))
        return data, '"%s"' % hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    old = git("rev-parse", "main").decode().strip()
    with open("repo/index.html", "a") as page:
        page.write("<p>news: a commit made while the site was served</p>\n")
    with open("repo/media/data.bin", "wb") as data:
        data.write(os.urandom(300_000))
    with open("repo/news.txt", "w") as news:
        news.write("pulled while serving\n")
    git("add", ".")
    git("commit", "-q", "-m", "news")
    committed = time.time()
    new = git("rev-parse", "main").decode().strip()
    print("committed %s over %s" % (new[:12], old[:12]))

    seen_new = None
    for round in range(ROUNDS):
        for path in ["index.html", "media/data.bin"]:
            status, headers, body = curl("/" + path)
            (old_body, old_tag), (new_body, new_tag) = blob(old, path), blob(new, path)
            if status == 200 and body == new_body and headers.get("etag") == new_tag:
                if seen_new is None:
                    seen_new = time.time() - committed
                    print("the new commit was served %.1f s after it was made (round %d)" % (seen_new, round))
            elif status == 200 and body == old_body and headers.get("etag") == old_tag:
                if seen_new is not None:
                    sys.exit("/%s: the old commit again after the new one" % path)
            else:
                sys.exit("/%s: an answer of neither commit: status %d, %d bytes, ETag %s" % (path, status, len(body), headers.get("etag")))
        time.sleep(0.25)
    print("ok: %d answers, each wholly of one commit" % (2 * ROUNDS))
    # The margin is for a slow machine (an emulated board pulls and indexes the pack); the figure is printed above.
    if seen_new is None or seen_new > pull_every + 20:
        sys.exit("the new commit was not served within %d s of the commit" % (pull_every + 20))
    status, headers, body = curl("/news.txt")
    if status != 200 or body != b"pulled while serving\n":
        sys.exit("/news.txt after the pull: status %d" % status)
    print("ok: news.txt served from the new commit")
    if requests != int(os.environ["REQUESTS"]):
        sys.exit("made %d requests, the unikernel waits for %s" % (requests, os.environ["REQUESTS"]))
finally:
    if daemon:
        daemon.terminate()
        daemon.wait(timeout=10)
