#!/usr/bin/env python3
"""The website test's peer: curl (not our code) fetches every file of the
site through QEMU's user network (127.0.0.1:$FORWARD_PORT forwarded to port
80) and checks each HTTP feature: bytes against `git show main:PATH` (the git
cases, whose repository prepare made in repo/) or htdocs/, Content-Type,
ETag (git's blob name on a git store, else BLAKE2s), If-None-Match (304),
Range (206, a suffix, 416), HEAD, a folder's index.html and the redirect to
its slash, 404, 405 and a path with "..". It makes exactly $REQUESTS requests,
the number the unikernel answers before it stops."""
import hashlib, os, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.environ["MIRAGE_ROOT"], "tools"))
import boot_peer

base = "http://127.0.0.1:%s" % os.environ["FORWARD_PORT"]
repository = "repo" if os.path.isdir("repo") else None
htdocs = os.path.join(os.environ["UNIKERNEL_DIR"], "htdocs")
boot_peer.ready()
requests = 0


def expected(path):
    if repository:
        return subprocess.run(["git", "-C", repository, "show", "main:" + path], capture_output=True, check=True).stdout
    return open(os.path.join(htdocs, path), "rb").read()


def etag(data):
    if repository:
        return '"%s"' % hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return '"%s"' % hashlib.blake2s(data).hexdigest()


def curl(path, *options):
    """(status, headers by lower-case name, body) of one request."""
    global requests
    with tempfile.TemporaryDirectory() as scratch:
        head, body = os.path.join(scratch, "head"), os.path.join(scratch, "body")
        result = subprocess.run(["curl", "-s", "--path-as-is", "--max-time", "60", "-D", head, "-o", body] + list(options) + [base + path],
                                capture_output=True)
        if result.returncode != 0 or not os.path.exists(head):
            return None, {}, b""
        requests += 1
        lines = open(head, "rb").read().decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return status, headers, open(body, "rb").read() if os.path.exists(body) else b""


def check(what, condition, detail=""):
    if not condition:
        sys.exit("%s: %s" % (what, detail))
    print("ok:", what)


deadline = time.time() + 120
while True:
    status, headers, body = curl("/")
    if status == 200:
        break
    if time.time() > deadline:
        sys.exit("the site did not answer GET / within 120 s")
    time.sleep(0.5)
check("GET / is index.html", body == expected("index.html"), "%d bytes" % len(body))

types = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "txt": "text/plain; charset=utf-8", "pdf": "application/pdf"}
files = ["index.html", "style.css", "docs/index.html", "docs/guide.txt"] + (["media/paper.pdf"] if repository else [])
for path in files:
    data = expected(path)
    status, headers, body = curl("/" + path)
    check("GET /%s (%d bytes)" % (path, len(data)), status == 200 and body == data,
          "status %s, %d bytes, sha256 %s" % (status, len(body), hashlib.sha256(body).hexdigest()))
    check("its Content-Type", headers.get("content-type") == types[path.rsplit(".", 1)[1]], headers.get("content-type"))
    check("its ETag", headers.get("etag") == etag(data), "%s, expected %s" % (headers.get("etag"), etag(data)))

status, headers, _ = curl("/docs")
check("GET /docs redirects to /docs/", status == 301 and headers.get("location") == "/docs/", "%s %s" % (status, headers))
status, _, body = curl("/docs/")
check("GET /docs/ is its index.html", status == 200 and body == expected("docs/index.html"), str(status))

css = expected("style.css")
status, headers, body = curl("/style.css", "-H", "If-None-Match: " + etag(css))
check("If-None-Match with its ETag: 304", status == 304 and body == b"" and headers.get("etag") == etag(css), str(status))

guide = expected("docs/guide.txt")
status, headers, body = curl("/docs/guide.txt", "-H", "Range: bytes=100-199")
check("Range 100-199: 206", status == 206 and body == guide[100:200] and headers.get("content-range") == "bytes 100-199/%d" % len(guide),
      "%s %s" % (status, headers.get("content-range")))
status, headers, body = curl("/docs/guide.txt", "-H", "Range: bytes=-50")
check("Range of the last 50 bytes", status == 206 and body == guide[-50:], str(status))
status, headers, body = curl("/docs/guide.txt", "-H", "Range: bytes=%d-" % len(guide))
check("Range past the end: 416", status == 416 and headers.get("content-range") == "bytes */%d" % len(guide), str(status))
if repository:
    paper = expected("media/paper.pdf")
    status, headers, body = curl("/media/paper.pdf", "-H", "Range: bytes=1000000-1999999")
    check("Range of 1 MB in the middle of the PDF", status == 206 and body == paper[1000000:2000000], str(status))

status, headers, _ = curl("/style.css", "-I")
check("HEAD: the value's length", status == 200 and headers.get("content-length") == str(len(css)) and headers.get("etag") == etag(css),
      "%s %s" % (status, headers))
status, headers, _ = curl("/", "-X", "POST", "-d", "x=1")
check("POST: 405 with Allow", status == 405 and headers.get("allow") == "GET, HEAD", str(status))
status, _, _ = curl("/missing.html")
check("GET /missing.html: 404", status == 404, str(status))
status, _, _ = curl("/docs/../../etc/passwd")
check("a path with '..': 400", status == 400, str(status))

wanted = int(os.environ["REQUESTS"])
check("%d requests made" % requests, requests == wanted, "made %d, the unikernel waits for %d" % (requests, wanted))
