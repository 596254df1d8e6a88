#!/usr/bin/env python3
"""token-server.py: a Docker registry token server for the integration tests (stdlib only).

Implements the token endpoint of Docker's token authentication scheme, as the `token` auth of
distribution 2.8 (Debian's docker-registry) expects it:

  GET /token?service=S&scope=repository:NAME:pull,push&scope=...&account=A   [Authorization: Basic]
  POST /token   (form: grant_type=password&username=&password=&service=&scope=)  OAuth2 style

Policy: anonymous callers get `pull` on repositories under "public/"; the configured user gets
`pull`/`push`/`delete` on every repository; wrong credentials get 401.  A scope the caller may not
have is granted with fewer (or no) actions rather than refused, as Docker's auth servers do: the
registry then answers 401/403 (insufficient_scope).

Tokens are JWTs signed RS256 (PKCS#1 v1.5 over SHA-256, made by `openssl dgst -sign`), with the
signing certificate in the `x5c` header; the registry verifies that chain against its
`rootcertbundle`, then iss == issuer, aud == service, nbf/exp (60 s leeway) and the access claim.

Test hooks: every request is logged as one line to --log.  If --mode-file exists, each word in it
changes the next responses (the tests write it, the runner removes it after each case):
  status=N            answer every request with HTTP status N and an error body
  access_token_only   put the token only in "access_token" (no "token" field)
  no_expires          omit expires_in and issued_at
  expires_in=N        claim (and make the JWT expire after) N seconds
  slow=SECONDS        sleep before answering
"""
import argparse
import base64
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

ARGS = None
X5C = None  # the signing certificate, DER in standard base64, as the x5c header carries it
LOG_LOCK = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_cert_der(path):
    with open(path) as f:
        pem = f.read()
    return ssl.PEM_cert_to_DER_cert(pem)


def sign_rs256(data):
    out = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ARGS.sign_key],
                         input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        raise RuntimeError("openssl dgst -sign failed: " + out.stderr.decode(errors="replace"))
    return out.stdout


def make_jwt(subject, audience, access, lifetime):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [X5C]}
    claims = {"iss": ARGS.issuer, "sub": subject, "aud": audience,
              "exp": now + lifetime, "nbf": now - 10, "iat": now,
              "jti": secrets.token_hex(16), "access": access}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    return signing_input + "." + b64url(sign_rs256(signing_input.encode()))


def parse_scope(scope):
    """repository:NAME:actions -> (type, name, [actions]); NAME may itself hold ':'."""
    first = scope.find(":")
    last = scope.rfind(":")
    if first < 0 or last == first:
        return None
    return scope[:first], scope[first + 1:last], [a for a in scope[last + 1:].split(",") if a]


def grant(user, rtype, name, wanted):
    if rtype != "repository":
        return []
    if user is not None:
        allowed = {"pull", "push", "delete", "*"}
    elif name.startswith("public/"):
        allowed = {"pull"}
    else:
        allowed = set()
    return [a for a in wanted if a in allowed]


def read_mode():
    mode = {}
    if ARGS.mode_file and os.path.exists(ARGS.mode_file):
        with open(ARGS.mode_file) as f:
            for word in f.read().split():
                key, _, val = word.partition("=")
                mode[key] = val
    return mode


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dock-test-token/1"
    timeout = 30  # a client that stalls costs one thread, not the server

    def log_message(self, fmt, *args):
        pass

    def note(self, status, who, scopes):
        if not ARGS.log:
            return
        line = "%s %s status=%d account=%s scopes=%s\n" % (
            self.command, self.path.split("?")[0], status, who or "-", " ".join(scopes) or "-")
        with LOG_LOCK, open(ARGS.log, "a") as f:
            f.write(line)

    def reply(self, status, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def basic_user(self):
        """None for anonymous, the user name if the credentials are right, False if wrong."""
        h = self.headers.get("Authorization")
        if not h:
            return None
        kind, _, val = h.partition(" ")
        if kind.lower() != "basic":
            return False
        try:
            user, sep, pw = base64.b64decode(val.strip(), validate=True).decode().partition(":")
        except Exception:
            return False
        if not sep or user != ARGS.user or pw != ARGS.password:
            return False
        return user

    def issue(self, params, user):
        mode = read_mode()
        scopes = params.get("scope", [])
        scopes = [s for sc in scopes for s in sc.split(" ") if s]
        who = user if user else None
        if "slow" in mode:
            time.sleep(float(mode["slow"] or 1))
        if "status" in mode:
            st = int(mode["status"] or 500)
            self.note(st, who, scopes)
            return self.reply(st, {"errors": [{"code": "TEST", "message": "forced by mode file"}]})
        if user is False:
            self.note(401, "bad-credentials", scopes)
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                "message": "invalid username or password"}]},
                              {"WWW-Authenticate": 'Basic realm="dock-test-token"'})
        service = params.get("service", [""])[0]
        if service != ARGS.service:
            self.note(400, who, scopes)
            return self.reply(400, {"errors": [{"code": "INVALID_SERVICE",
                                                "message": "unknown service %r" % service}]})
        access = []
        for sc in scopes:
            p = parse_scope(sc)
            if p is None:
                self.note(400, who, scopes)
                return self.reply(400, {"errors": [{"code": "INVALID_SCOPE", "message": sc}]})
            actions = grant(user, *p)
            access.append({"type": p[0], "name": p[1], "actions": actions})
        lifetime = int(mode.get("expires_in") or 300)
        tok = make_jwt(user or "", service, access, lifetime)
        body = {"access_token": tok} if "access_token_only" in mode else {"token": tok,
                                                                          "access_token": tok}
        if "no_expires" not in mode:
            body["expires_in"] = lifetime
            body["issued_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.note(200, who, scopes)
        self.reply(200, body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            self.note(404, None, [])
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        self.issue(urllib.parse.parse_qs(url.query), self.basic_user())

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        if url.path != "/token":
            self.note(404, None, [])
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        user = None
        if form.get("grant_type", [""])[0] == "password":
            u = form.get("username", [""])[0]
            p = form.get("password", [""])[0]
            user = u if (u == ARGS.user and p == ARGS.password) else False
        else:
            self.note(400, None, [])
            return self.reply(400, {"error": "unsupported_grant_type"})
        self.issue(form, user)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS, X5C
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cert", required=True, help="TLS certificate (PEM) served to clients")
    ap.add_argument("--key", required=True, help="TLS key (PEM)")
    ap.add_argument("--sign-key", required=True, help="RSA key that signs the tokens")
    ap.add_argument("--sign-cert", required=True, help="its certificate (goes into x5c)")
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--port", type=int, default=0, help="0: pick a free one")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--log", help="append one line per request")
    ap.add_argument("--mode-file", help="test hook, see the module comment")
    ARGS = ap.parse_args()
    X5C = base64.b64encode(load_cert_der(ARGS.sign_cert)).decode()

    srv = Server(("127.0.0.1", ARGS.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    # the handshake happens in the request's thread (first read), not in accept()
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    port = srv.socket.getsockname()[1]
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, ARGS.port_file)
    sys.stdout.write("token server on https://127.0.0.1:%d/token\n" % port)
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
