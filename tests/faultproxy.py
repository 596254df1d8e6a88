#!/usr/bin/env python3
"""tests/faultproxy.py: a fault-injecting HTTPS proxy the fault tests (tests/int/faults.sh) put in
front of a real local registry.  Python standard library only.

    faultproxy.py --cert CRT --key KEY --ca CA --upstream HOST:PORT --port P --mode FILE --log FILE

Every request is forwarded to https://UPSTREAM (trusting CA) and the answer sent back, unless the
fault named in the mode file (JSON, read per request; missing or {} means none) applies to it.
A fault applies to requests whose path contains "match" (default: "/blobs/", "/manifests/" or
"/v2/" as the fault suits) and, with "count": N, only to the first N of them (counted from 0 again
whenever the mode file changes).  The log gets one "REQ METHOD PATH" line per request followed
by "H name: value" for each of its headers, and "FAULT name" when a fault fired.  A rewritten
body loses the registry's Docker-Content-Digest header.

Faults ("fault": ...):
  corrupt      blob: same size, bytes in the middle changed
  long         blob: "extra" (default 1000) more bytes after it, Content-Length to match
               ("chunked": true: none)
  short        blob: only its first half, Content-Length to match ("chunked": true: none)
  manifest_differs   manifest: a different body (a trailing space) than the one asked for
  rewrite      manifest fetched by tag: "set" {"dotted.path": value} applied, e.g.
               {"layers.0.digest": "sha256:../../x"}; "diff_ids": "extra" | "wrong" replaces
               the config with one whose diff_ids do not match ("big": a 9 MiB config), served by
               the proxy under its own digest, so the config itself verifies
  big_manifest manifest: "size" bytes (default 5 MiB) of valid JSON; "chunked": true sends no
               Content-Length
  redirect     307 to "to" + the request's path ("to" like https://127.0.0.1:PORT; "exact":
               true: to "to" itself)
  chain        "hops" 307s in a row (through /r/N/ prefixes), then the real answer
  status       answer "code" (503, 429) with Retry-After "retry_after" (unless null)
  realm        401 with a Bearer challenge naming "realm" to requests without Authorization
  cut          send "at" bytes of the body (default: half) with the full Content-Length (or
               "chunked": true), then close; "range": false ignores Range on later requests
               (200 with everything), otherwise Range is passed upstream (206)
  stall_tls    accept connections but never answer the TLS handshake
  stall        send the head and "at" bytes (default 0; -1: not even the head), then wait;
               "range": false as for cut
"""

import argparse
import hashlib
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

ARGS = None
LOCK = threading.Lock()
COUNTS = {}
SYNTH = {}  # digest -> bytes the proxy serves itself (rewritten configs)
PASS_REQ = ("accept", "authorization", "range")
PASS_RESP = ("content-type", "docker-content-digest", "content-range", "accept-ranges",
             "www-authenticate", "location", "docker-distribution-api-version")


def log(line):
    with LOCK:
        with open(ARGS.log, "a") as f:
            f.write(line + "\n")


def mode():
    try:
        with open(ARGS.mode) as f:
            text = f.read().strip()
        m = json.loads(text) if text else {}
        m["_key"] = text  # counts start again whenever the mode changes
        return m
    except FileNotFoundError:
        return {}


def fires(m, path, default_match):
    """Does fault m apply to this request?  Counts it if so."""
    if not m.get("fault") or m.get("match", default_match) not in path:
        return False
    with LOCK:
        n = COUNTS.get(m["_key"], 0)
        if "count" in m and n >= m["count"]:
            return False
        COUNTS[m["_key"]] = n + 1
    log("FAULT " + m["fault"])
    return True


def upstream(method, path, headers):
    ctx = ssl.create_default_context(cafile=ARGS.ca)
    host, port = ARGS.upstream.rsplit(":", 1)
    c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
    c.request(method, path, headers=headers)
    r = c.getresponse()
    body = r.read()
    hdrs = [(k, v) for k, v in r.getheaders() if k.lower() in PASS_RESP]
    c.close()
    return r.status, hdrs, body


def set_path(obj, dotted, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        obj = obj[int(k)] if isinstance(obj, list) else obj[k]
    last = keys[-1]
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, headers, body, length=None):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        if length is not False:
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def cut(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path
        log("REQ %s %s" % (self.command, path))
        for k, v in self.headers.items():
            log("H %s: %s" % (k, v))
        m = mode()
        f = m.get("fault")
        fwd = {k: v for k, v in self.headers.items() if k.lower() in PASS_REQ}

        if f == "chain" and path.startswith("/r/"):
            n, rest = path[3:].split("/", 1)
            n, path = int(n), "/" + rest
            if n < m.get("hops", 1):
                return self.send(307, [("Location", "/r/%d%s" % (n + 1, path))], b"")
        elif f == "chain" and fires(m, path, "/blobs/"):
            return self.send(307, [("Location", "/r/1" + path)], b"")
        if f == "realm" and "authorization" not in (k.lower() for k in self.headers) \
                and fires(m, path, "/v2/"):
            hdr = 'Bearer realm="%s",service="faultproxy"' % m["realm"]
            return self.send(401, [("WWW-Authenticate", hdr), ("Content-Type", "application/json")],
                             b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        if f == "redirect" and fires(m, path, "/blobs/"):
            return self.send(307, [("Location", m["to"] + ("" if m.get("exact") else path))], b"")
        if f == "status" and fires(m, path, "/v2/"):
            h = [("Content-Type", "application/json")]
            if m.get("retry_after", "1") is not None:
                h.append(("Retry-After", str(m.get("retry_after", "1"))))
            return self.send(m.get("code", 503), h, b'{"errors":[{"code":"TOOMANYREQUESTS",'
                             b'"message":"try again later"}]}')
        if f == "stall" and m.get("at", 0) < 0 and fires(m, path, "/blobs/"):
            time.sleep(3600)
            return
        if f in ("cut", "stall") and m.get("range") is False:
            fwd.pop("Range", None)
            fwd.pop("range", None)
        digest = path.rsplit("/", 1)[-1]
        if "/blobs/" in path and digest in SYNTH:
            return self.send(200, [("Content-Type", "application/octet-stream")], SYNTH[digest])

        status, hdrs, body = upstream(self.command, path, fwd)
        if status // 100 != 2:
            return self.send(status, hdrs, body)
        is_manifest = "/manifests/" in path
        by_tag = is_manifest and not digest.startswith("sha256:")
        # a body the proxy rewrites loses the registry's digest header (manifest_differs keeps it)
        rewritten = [(k, v) for k, v in hdrs if k.lower() != "docker-content-digest"]
        if f == "corrupt" and fires(m, path, "/blobs/"):
            mid = len(body) // 2
            body = body[:mid] + bytes(b ^ 0x55 for b in body[mid:mid + 16]) + body[mid + 16:]
        elif f == "long" and fires(m, path, "/blobs/"):
            body += os.urandom(m.get("extra", 1000))
            if m.get("chunked"):
                return self.send_chunked(status, hdrs, body)
        elif f == "short" and fires(m, path, "/blobs/"):
            body = body[:len(body) // 2]
            if m.get("chunked"):
                return self.send_chunked(status, hdrs, body)
        elif f == "manifest_differs" and is_manifest and fires(m, path, "/manifests/sha256:"):
            body += b" "
        elif f == "rewrite" and by_tag and fires(m, path, "/manifests/"):
            man = json.loads(body)
            if m.get("diff_ids"):
                _, _, cfg = upstream("GET", path.split("/manifests/")[0] + "/blobs/" +
                                     man["config"]["digest"], {})
                c = json.loads(cfg)
                ids = c["rootfs"]["diff_ids"]
                if m["diff_ids"] == "extra":
                    ids.append("sha256:" + "1" * 64)
                elif m["diff_ids"] == "big":
                    c["pad"] = "x" * (9 << 20)
                else:
                    ids[0] = "sha256:" + "2" * 64
                cfg = json.dumps(c).encode()
                d = "sha256:" + hashlib.sha256(cfg).hexdigest()
                SYNTH[d] = cfg
                man["config"]["digest"], man["config"]["size"] = d, len(cfg)
            for k, v in m.get("set", {}).items():
                set_path(man, k, v)
            body = json.dumps(man).encode()
            hdrs = rewritten
        elif f == "big_manifest" and is_manifest and fires(m, path, "/manifests/"):
            man = json.loads(body)
            man.setdefault("annotations", {})["pad"] = "x" * m.get("size", 5 << 20)
            body = json.dumps(man).encode()
            hdrs = rewritten
            if m.get("chunked"):
                return self.send_chunked(status, hdrs, body)
        elif f == "cut" and self.command == "GET" and fires(m, path, "/blobs/"):
            at = m.get("at", len(body) // 2)
            if m.get("chunked"):
                self.send_chunked(status, hdrs, body[:at], end=False)
            else:
                self.send(status, hdrs, body[:at], length=len(body))
            return self.cut()
        elif f == "stall" and self.command == "GET" and fires(m, path, "/blobs/"):
            self.send(status, hdrs, body[:m.get("at", 0)], length=len(body))
            time.sleep(3600)
            return
        self.send(status, hdrs, body)

    def send_chunked(self, status, hdrs, body, end=True):
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 65536):
            piece = body[i:i + 65536]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        if end:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # dock hanging up early (it refused what it got) is what many faults are for
        log("PEER-CLOSED %s" % sys.exc_info()[0].__name__)

    def finish_request(self, request, client_address):
        # the TLS handshake in the connection's own thread: a slow client stalls nobody else
        if mode().get("fault") == "stall_tls":
            log("FAULT stall_tls")
            time.sleep(3600)
            return
        try:
            request = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        Handler(request, client_address, self)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    for a in ("--cert", "--key", "--ca", "--upstream", "--mode", "--log"):
        p.add_argument(a, required=True)
    p.add_argument("--port", type=int, required=True)
    ARGS = p.parse_args()
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.tls.load_cert_chain(ARGS.cert, ARGS.key)
    open(ARGS.log, "a").close()
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
