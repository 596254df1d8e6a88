#!/usr/bin/env python3
"""push.py: push an image from an OCI layout to a registry byte for byte (stdlib only).

skopeo checks, converts and recompresses; the hostile images (truncated gzip, docker media types in
an OCI layout, wrong diff_ids) must reach the registry exactly as mkimage.py wrote them.  This speaks
the distribution API directly: HEAD/POST/PUT blob uploads (monolithic), PUT manifests (children of an
index by digest first, the top one by tag), with Basic or Bearer-token auth on a 401 challenge.

  push.py [--ca FILE] [--plain-http] [--user U --password P] LAYOUT[:TAG] HOST:PORT/NAME[:TAG]

Prints the pushed top-level digest.
"""
import argparse
import base64
import http.client
import json
import os
import re
import ssl
import sys
import urllib.parse

ARGS = None
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")


class Client:
    def __init__(self, host, name):
        self.host, self.name = host, name
        self.auth = None
        self.ctx = None
        if not ARGS.plain_http:
            self.ctx = ssl.create_default_context(cafile=ARGS.ca) if ARGS.ca else \
                ssl.create_default_context()

    def conn(self, host):
        if self.ctx is None:
            return http.client.HTTPConnection(host, timeout=60)
        return http.client.HTTPSConnection(host, timeout=60, context=self.ctx)

    def basic(self):
        raw = ("%s:%s" % (ARGS.user, ARGS.password)).encode()
        return "Basic " + base64.b64encode(raw).decode()

    def login(self, challenge):
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "basic":
            if ARGS.user is None:
                raise SystemExit("push: registry wants Basic auth; give --user/--password")
            self.auth = self.basic()
            return
        params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        q = {"service": params.get("service", ""),
             "scope": "repository:%s:pull,push" % self.name}
        url = urllib.parse.urlsplit(params["realm"])
        c = self.conn(url.netloc) if url.scheme == "https" else \
            http.client.HTTPConnection(url.netloc, timeout=60)
        hdr = {"Authorization": self.basic()} if ARGS.user is not None else {}
        path = url.path + "?" + (url.query + "&" if url.query else "") + urllib.parse.urlencode(q)
        c.request("GET", path, headers=hdr)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit("push: token endpoint said %d: %s" % (r.status, body[:200]))
        j = json.loads(body)
        self.auth = "Bearer " + (j.get("token") or j["access_token"])

    def request(self, method, path, body=None, headers=None, retry=True):
        hdr = dict(headers or {})
        if self.auth:
            hdr["Authorization"] = self.auth
        url = urllib.parse.urlsplit(path)
        host = url.netloc or self.host
        target = url.path + ("?" + url.query if url.query else "")
        c = self.conn(host)
        c.request(method, target, body=body, headers=hdr)
        r = c.getresponse()
        data = r.read()
        if r.status == 401 and retry:
            self.login(r.getheader("WWW-Authenticate", ""))
            return self.request(method, path, body, headers, retry=False)
        return r, data

    def push_blob(self, digest, data):
        r, _ = self.request("HEAD", "/v2/%s/blobs/%s" % (self.name, digest))
        if r.status == 200:
            return
        r, body = self.request("POST", "/v2/%s/blobs/uploads/" % self.name, b"",
                               {"Content-Length": "0"})
        if r.status != 202:
            raise SystemExit("push: start upload: %d %s" % (r.status, body[:300]))
        loc = r.getheader("Location")
        sep = "&" if "?" in loc else "?"
        r, body = self.request("PUT", loc + sep + "digest=" + urllib.parse.quote(digest), data,
                               {"Content-Type": "application/octet-stream",
                                "Content-Length": str(len(data))})
        if r.status != 201:
            raise SystemExit("push: upload %s: %d %s" % (digest, r.status, body[:300]))

    def push_manifest(self, ref, media, data):
        r, body = self.request("PUT", "/v2/%s/manifests/%s" % (self.name, ref), data,
                               {"Content-Type": media, "Content-Length": str(len(data))})
        if r.status != 201:
            raise SystemExit("push: manifest %s: %d %s" % (ref, r.status, body[:300]))


def blob(layout, digest):
    with open(os.path.join(layout, "blobs", *digest.split(":", 1)), "rb") as f:
        return f.read()


def push_desc(cl, layout, desc, ref):
    data = blob(layout, desc["digest"])
    if desc["mediaType"] in INDEX_TYPES:
        for child in json.loads(data)["manifests"]:
            push_desc(cl, layout, child, child["digest"])
    else:
        man = json.loads(data)
        for d in [man["config"]] + man.get("layers", []):
            cl.push_blob(d["digest"], blob(layout, d["digest"]))
    cl.push_manifest(ref, desc["mediaType"], data)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca")
    ap.add_argument("--plain-http", action="store_true")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("src")
    ap.add_argument("dst")
    ARGS = ap.parse_args()
    layout, _, tag = ARGS.src.partition(":")
    tag = tag or "latest"
    host, _, repo = ARGS.dst.partition("/")
    name, _, dtag = repo.partition(":")
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    top = [m for m in index["manifests"]
           if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag]
    if not top:
        raise SystemExit("push: no tag %r in %s" % (tag, layout))
    push_desc(Client(host, name), layout, top[0], dtag or "latest")
    print(top[0]["digest"])


if __name__ == "__main__":
    sys.exit(main())
