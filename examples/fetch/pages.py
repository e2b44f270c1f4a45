"""What examples/fetch's peers serve with Python's http.server: /old
redirects to /page, which is 100,000 bytes (chunked, or with a
Content-Length), anything else a 404; each request's client address, path
and Host header is recorded in `served`."""
import http.server

PAGE = bytes((i * 13 + (i >> 8)) & 0xFF for i in range(100000))

def handler(served, redirect=301, chunked=True):
    class Pages(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            served.append((self.client_address[0].removeprefix("::ffff:"), self.path, self.headers.get("Host")))
            if self.path == "/old":
                self.send_response(redirect)
                self.send_header("Location", "/page")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/page":
                self.send_response(200)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(PAGE), 7000):
                        chunk = PAGE[start:start + 7000]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(PAGE)))
                    self.end_headers()
                    self.wfile.write(PAGE)
            else:
                self.send_error(404)

        def log_message(self, *arguments):
            pass
    return Pages
