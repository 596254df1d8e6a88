#!/usr/bin/env python3
"""tests/fuzz/mkseeds.py: (re)make the seed corpora in tests/fuzz/corpus/NAME/ from the output of
real tools: GNU gzip, busybox gzip and tar, GNU tar in every format it writes, Python's zlib and
tarfile, openssl certificates, the OCI images of the test fixture's cache (umoci, skopeo) when it
is there, and registry responses as distribution 2.8 and Docker Hub send them.  Each seed carries
the prefix bytes its harness expects (see the head of tests/fuzz/NAME.c).

    tests/fuzz/mkseeds.py            rewrite every corpus
    tests/fuzz/mkseeds.py tar json   only these

Seeds are kept small (the corpora are committed): libFuzzer grows its own corpus from them.  Files
named lf-* are not made here: they are inputs a fuzzing run found that reach new edges, added by
`make fuzz-seeds` (and kept when this script rewrites a corpus)."""
import glob
import gzip
import io
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
CACHE = os.environ.get("DOCK_TEST_CACHE", "/var/tmp/dock-test-cache") + "/v2/oci"

made = {}


def put(name, fname, data):
    if name == "tar":  # GNU tar pads to 10 KiB records: keep the two end blocks only
        body = data[2:].rstrip(b"\0")
        data = data[:2] + body + b"\0" * (-len(body) % 512 + 1024)
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)
    made[name] = made.get(name, 0) + 1


def run(*cmd, cwd=None, data=None):
    return subprocess.run(cmd, cwd=cwd, input=data, stdout=subprocess.PIPE, check=True).stdout


def tar(*args):
    """GNU tar's archive even when it warned about (and left out) what a format cannot hold."""
    out = subprocess.run(("tar",) + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    assert out, args
    return out


def blobs(kind):
    """Small blobs of the fixture's OCI layouts whose `file` type starts with kind."""
    out = []
    for p in sorted(glob.glob(CACHE + "/*/blobs/sha256/*") + glob.glob(CACHE + "/gen/*/blobs/sha256/*")):
        if os.path.getsize(p) > 4096:
            continue
        with open(p, "rb") as f:
            b = f.read()
        if kind == "json" and b[:1] == b"{":
            out.append((os.path.basename(p)[:12], b))
        if kind == "gzip" and b[:2] == b"\x1f\x8b":
            out.append((os.path.basename(p)[:12], b))
    return out


# ---------------------------------------------------------------- a small tree to archive

def make_tree(root):
    os.makedirs(root + "/dir/sub", exist_ok=True)
    with open(root + "/hello.txt", "w") as f:
        f.write("hello, world\n" * 3)
    with open(root + "/dir/sub/data.bin", "wb") as f:
        f.write(bytes(range(256)) * 2)
    long = "d" * 60 + "/" + "n" * 70
    os.makedirs(root + "/" + long.split("/")[0], exist_ok=True)
    with open(root + "/" + long, "w") as f:
        f.write("long name\n")
    os.symlink("hello.txt", root + "/rel-link")
    os.symlink("/etc/" + "t" * 110, root + "/long-link")
    os.link(root + "/hello.txt", root + "/hard")
    os.mkfifo(root + "/fifo")
    open(root + "/.wh.gone", "w").close()
    open(root + "/dir/.wh..wh..opq", "w").close()
    os.chmod(root + "/dir/sub", 0o2755)
    os.utime(root + "/hello.txt", (0, 86400 * 365 * 70))
    try:
        os.setxattr(root + "/hello.txt", "user.note", b"a value")
        os.setxattr(root + "/dir/sub/data.bin", "trusted.overlay.opaque", b"y")
    except OSError:
        pass


# ---------------------------------------------------------------- inflate

def seeds_inflate():
    text = open(os.path.join(HERE, "..", "..", "README"), "rb").read()[:3000] if os.path.exists(
        os.path.join(HERE, "..", "..", "README")) else b"dock " * 600
    binary = bytes((i * 7919 + (i >> 3)) & 0xff for i in range(3000))
    runs = b"a" * 2000 + b"b" * 5 + b"abcabcabc" * 100
    pre = [b"\x00\x00", b"\x01\x00", b"\x07\x02", b"\x3f\x00", b"\xc8\x00"]
    for i, (label, data) in enumerate([("text", text), ("binary", binary), ("runs", runs), ("empty", b"")]):
        for lvl in ("-1", "-9"):
            gz = run("gzip", "-c", "-n", lvl, data=data)
            put("inflate", f"gnu-gzip{lvl}-{label}", pre[i % len(pre)] + gz)
        put("inflate", f"busybox-gzip-{label}", pre[(i + 1) % len(pre)] + run("busybox", "gzip", "-c", data=data))
        for lvl, strat in ((0, zlib.Z_DEFAULT_STRATEGY), (6, zlib.Z_FIXED), (6, zlib.Z_HUFFMAN_ONLY),
                           (6, zlib.Z_RLE), (9, zlib.Z_DEFAULT_STRATEGY)):
            c = zlib.compressobj(lvl, zlib.DEFLATED, -15, 9, strat)
            raw = c.compress(data) + c.flush()
            put("inflate", f"zlib-raw-{lvl}-{strat}-{label}", pre[(i + lvl) % len(pre)][:1] + b"\x01" + raw)
    with tempfile.TemporaryDirectory() as td:
        p = td + "/named.txt"
        open(p, "wb").write(text[:500])
        run("gzip", "-k", p)  # keeps the file name (FNAME)
        put("inflate", "gnu-gzip-fname", b"\x05\x00" + open(p + ".gz", "rb").read())
    # two members, then zero padding (as some registries' blobs end)
    two = run("gzip", "-c", "-n", data=b"first\n") + run("gzip", "-c", "-n", data=b"second\n")
    put("inflate", "two-members", b"\x03\x00" + two)
    put("inflate", "padded", b"\x02\x00" + two + b"\x00" * 700)
    # FEXTRA, FCOMMENT and FHCRC, which GNU gzip does not write (RFC 1952 2.3)
    body = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = b"header fields\n" * 10
    comp = body.compress(payload) + body.flush()
    hdr = b"\x1f\x8b\x08" + bytes([4 | 16 | 2]) + b"\0\0\0\0\0\3" + struct.pack("<H", 6) + b"AB\x02\x00xy" + b"a comment\0"
    hdr += struct.pack("<H", zlib.crc32(hdr) & 0xffff)
    put("inflate", "fextra-fcomment-fhcrc", b"\x01\x00" + hdr + comp + struct.pack("<II", zlib.crc32(payload), len(payload)))
    for label, b in blobs("gzip")[:4]:
        put("inflate", f"oci-layer-{label}", b"\x09\x00" + b)


# ---------------------------------------------------------------- tar

def seeds_tar():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as td:
        root = td + "/t"
        make_tree(root)
        names = sorted(os.listdir(root))
        for fmt, extra in (("gnu", []), ("oldgnu", []), ("ustar", []), ("v7", []),
                           ("posix", ["--xattrs", "--xattrs-include=*"])):
            b = tar("-c", f"--format={fmt}", *extra, "-C", root, *names)
            put("tar", f"gnu-tar-{fmt}", b"\x00\x00" + b)
        put("tar", "gnu-tar-posix-split", b"\x11\x01" + tar("-c", "--format=posix", "-C", root, "dir", "hello.txt"))
        put("tar", "busybox-tar", b"\xc8\x00" + run("busybox", "tar", "-c", "-C", root, "hello.txt", "dir", "rel-link"))
        # GNU sparse (refused by dock, but the refusal is a path too) and base-256 numbers
        sp = td + "/sparse"
        with open(sp, "wb") as f:
            f.seek(1 << 20)
            f.write(b"end")
        put("tar", "gnu-tar-sparse", b"\x00\x00" + tar("-c", "--format=gnu", "--sparse", "-C", td, "sparse"))
        put("tar", "gnu-tar-base256", b"\x00\x00" + tar("-c", "--format=gnu", "--owner=4000000000",
                                                         "--group=4100000000", "--mtime=1901-01-01", "-C", root, "hello.txt"))
    # Python's tarfile: pax with UTF-8 and fractional times, a GNU long name, hostile names
    for fmt, label in ((tarfile.PAX_FORMAT, "pax"), (tarfile.GNU_FORMAT, "gnu")):
        bio = io.BytesIO()
        with tarfile.open(fileobj=bio, mode="w", format=fmt) as t:
            def add(name, data=b"", typ=tarfile.REGTYPE, link="", pax=None, **kw):
                ti = tarfile.TarInfo(name)
                ti.type, ti.linkname, ti.size, ti.mtime = typ, link, len(data), 1700000000.25
                if pax:
                    ti.pax_headers = pax
                for k, v in kw.items():
                    setattr(ti, k, v)
                t.addfile(ti, io.BytesIO(data) if data else None)
            add("./", typ=tarfile.DIRTYPE, mode=0o755)
            add("caf\u00e9/" + "x" * 120, b"utf-8 and long\n")
            add("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", mode=0o644, uid=0, gid=0)
            add("abs-link", typ=tarfile.SYMTYPE, link="/etc/passwd")
            add("dev/null", typ=tarfile.CHRTYPE, devmajor=1, devminor=3)
            add("hl", typ=tarfile.LNKTYPE, link="etc/passwd")
            add("a/../b", b"cleaned\n")
            add(".wh.removed")
            if fmt == tarfile.PAX_FORMAT:
                add("x", b"xattr\n", pax={"SCHILY.xattr.user.k": "v", "SCHILY.xattr.security.capability": "\x01\x00\x00\x02",
                                         "LIBARCHIVE.xattr.user.l%41": "dmFsdWU", "mtime": "-1.5", "uid": "70000"})
        put("tar", f"python-tarfile-{label}", b"\x05\x00" + bio.getvalue())
    # What the applier must refuse, or keep inside the root: one attempt per archive, since the
    # first refusal ends the extraction.
    R, D, S, H, C, B, F = (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
                           tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE)
    cases = {
        "dotdot": [("../canary/victim", R, "")],
        "dotdot-up": [("../../escape", R, "")],
        "absolute": [("/etc/x", R, ""), ("/../../escape", R, ""), ("/tmp/escape", R, "")],
        "symlink-root-then-write": [("s", S, "/"), ("s/dev/shm/x", R, "")],
        "symlink-then-write": [("lnk", S, "../canary"), ("lnk/pwned", R, "")],
        "symlink-abs-then-write": [("etc", S, "/etc"), ("etc/passwd", R, "")],
        "symlink-two-hops": [("a", S, "b"), ("b", S, "../canary"), ("a/x", R, "")],
        "hardlink-out": [("h", H, "../canary/victim")],
        "hardlink-via-symlink": [("s", S, "../canary"), ("h", H, "s/victim")],
        "hardlink-to-symlink": [("s", S, "/etc/passwd"), ("h", H, "s"), ("h", R, "over")],
        "hardlink-self-root-dir": [("d", D, ""), ("h1", H, "h1"), ("h2", H, "d"), ("h3", H, "."), ("h4", H, "nope")],
        "root-as-symlink": [(".", S, "../canary")],
        "root-dir": [("./", D, ""), ("/", D, "")],
        "file-then-dir": [("a", R, "x"), ("a/b", R, "")],
        "dir-then-file-then-dir": [("a/", D, ""), ("a/f", R, ""), ("a", R, "now a file"), ("a/", D, "")],
        "whiteout-as-dir": [(".wh.x/y", R, "")],
        "whiteout-below-file": [("f", R, ""), ("f/.wh.x", R, "")],
        "whiteouts": [("d/x", R, ""), ("d/.wh.x", R, ""), ("d/.wh..wh..opq", R, ""), (".wh..wh.plnk", R, ""),
                      ("e/.wh..", R, "")],
        "whiteout-dot": [(".wh.", R, "")],
        "devices": [("dev/null", C, ""), ("dev/loop0", B, ""), ("p", F, ""), ("dev/null", R, "")],
        "unsorted": [("a/b/c/f", R, "deep"), ("a/b/", D, ""), ("a/", D, ""), ("z", R, ""), ("a/b/g", R, "")],
        "deep": [("/".join(["d"] * k) + "/", D, "") for k in range(1, 70)] + [("d/x", R, "")],
        "hardlinks-merge": [("a/b/f", R, "data"), ("a/h", H, "a/b/f"), ("h2", H, "a/b/f"), ("c/h3", H, "./a/../a/b/f")],
        "big": [("big", R, "x" * 20000), ("big2", R, "y" * 9000)],
    }
    for label, entries in cases.items():
        bio = io.BytesIO()
        with tarfile.open(fileobj=bio, mode="w", format=tarfile.GNU_FORMAT) as t:
            for name, typ, data in entries:
                ti = tarfile.TarInfo(name)
                ti.type, ti.mode, ti.mtime = typ, 0o755 if typ == D else 0o644, 1600000000
                if typ in (S, H):
                    ti.linkname = data
                    data = ""
                if typ in (C, B):
                    ti.devmajor, ti.devminor = (1, 3) if typ == C else (7, 0)
                ti.size = len(data) if typ == R else 0
                t.addfile(ti, io.BytesIO(data.encode()) if typ == R else None)
        put("tar", f"hostile-{label}", bytes([0, 2 if label == "big" else 0]) + bio.getvalue())
    # xattrs on what has no fd to set them through (symlink, fifo, device), rootless too
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, typ in (("l", S), ("p", F), ("c", C), ("f", R), ("d", D)):
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname = typ, "target" if typ == S else ""
            ti.pax_headers = {"SCHILY.xattr.user.x": "1", "SCHILY.xattr.trusted.overlay.opaque": "y",
                              "SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20"}
            t.addfile(ti, io.BytesIO(b"") if typ == R else None)
    put("tar", "pax-xattrs-on-links", b"\x00\x00" + bio.getvalue())
    put("tar", "pax-xattrs-on-links-rootless", b"\x03\x01" + bio.getvalue())
    for label, b in blobs("gzip")[:3]:
        try:
            put("tar", f"oci-layer-{label}", b"\x0d\x00" + gzip.decompress(b))
        except Exception:
            pass


# ---------------------------------------------------------------- json and manifests

JSON_EXTRA = [
    b'{"a":"\\u00e9\\ud83d\\ude00\\u0000\\n","b":[1,-0,0.5e-3,1E+400,-12345678901234567890],"c":{"c":null,"c":true}}',
    b'[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    "\"\u00e9\u4e2d\U0001f600 \\\" \\\\ \\/ \\b\\f\\r\\t\"".encode(),
    b' \t\r\n{ "k" : [ false , true , null , "" , {} , [] ] } ',
    b'9223372036854775807',
    b'{"schemaVersion":1,"fsLayers":[{"blobSum":"sha256:a"}]}',
]


def seeds_json():
    for label, b in blobs("json")[:24]:
        put("json", f"oci-{label}", b)
    for i, b in enumerate(JSON_EXTRA):
        put("json", f"extra-{i}", b)


def seeds_manifest():
    docs = dict(blobs("json"))
    mans = [(l, b) for l, b in docs.items() if b'"layers"' in b]
    idxs = [(l, b) for l, b in docs.items() if b'"manifests"' in b]
    cfgs = [b for b in docs.values() if b'"rootfs"' in b]
    for i, (label, b) in enumerate(mans[:8]):
        put("manifest", f"manifest-{label}", bytes([i, 3 + i % 2]) + b + b"\0" + (cfgs[i % len(cfgs)] if cfgs else b"{}"))
    for i, (label, b) in enumerate(idxs[:6]):
        put("manifest", f"index-{label}", bytes([i, i % 3]) + b)
    if not mans:
        put("manifest", "manifest-min", b"\x00\x03" + b'{"schemaVersion":2,"config":{"digest":"sha256:' + b"a" * 64 +
            b'"},"layers":[{"digest":"sha256:' + b"b" * 64 + b'","size":1}]}\0{"rootfs":{"diff_ids":["sha256:' + b"c" * 64 + b'"]},"created":"2024-01-02T03:04:05.5+01:00"}')
    put("manifest", "config-created", b"\x00\x03" + b'{"config":{"digest":"sha256:' + b"a" * 64 +
        b'"},"layers":[]}\0{"created":"2024-01-02T03:04:05.123-07:30","config":{"Env":["A=b"]},"rootfs":{"diff_ids":[]},"os":"linux","variant":"v8"}')


# ---------------------------------------------------------------- references, challenges, URLs

def seeds_small():
    refs = ["alpine", "library/alpine:3.19", "docker.io/library/alpine@sha256:" + "0" * 64,
            "localhost:5000/a/b__c.d-e:t_1", "[::1]:5000/x/y:latest", "index.docker.io/u/r",
            "Registry.Example.COM:443/org/team/app:v1.2.3-rc.1@sha256:" + "ab" * 32, "a" * 64,
            "127.0.0.1:5443/public/busybox", "ghcr.io/o/r:" + "t" * 128]
    for i, r in enumerate(refs):
        put("ref", f"ref-{i}", r.encode())
    chals = ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
             'Basic realm="Registry Realm"',
             'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull",error="insufficient_scope"',
             'Negotiate abc==, Basic realm="x", Bearer realm="https://t/\\"q\\"",service=s',
             'bearer REALM=tok,Scope="a b", service="x\\\\y"',
             'Digest realm="r", nonce="n", qop="auth,auth-int", Basic realm=plain']
    for i, c in enumerate(chals):
        put("auth", f"challenge-{i}", c.encode())
    put("auth", "base64", b"dXNlcjpwYXNzd29yZA==")
    put("auth", "base64-unpadded", b"YWJjZA")
    urls = [b"https://reg.test/v2/\0../blobs/x?y#z", b"http://[::1]:8080/a/b\0//other.test:5000/p",
            b"https://REG.test:443/a%20b/c\0?q=1", b"/v2/library/x/blobs/sha256:abc?X-Amz=1&b=%2F",
            b"https://s3.example.com/bucket/key?sig=a%2Bb", b"HTTPS://a.b:65535\0./../../../x/./y/../z",
            b"http://h/p/q/r\0../../../../s", b"https://h/a/b\0#frag"]
    for i, u in enumerate(urls):
        put("url", f"url-{i}", u)
    # paths near the 4 KiB limit, as a registry's signed blob URLs get
    put("url", "long-base", b"https://cdn.test/" + b"seg/" * 1000 + b"x?sig=" + b"a" * 40 + b"\0../y/./z")
    put("url", "long-location", b"/v2/" + b"p" * 3900 + b"/../q?X-Amz-Signature=" + b"f" * 64)


# ---------------------------------------------------------------- HTTP and chunked

def chunk(body, sizes, ext=b"", trailers=b""):
    out, i = b"", 0
    for s in sizes:
        part = body[i:i + s]
        i += s
        out += b"%x%s\r\n" % (len(part), ext) + part + b"\r\n"
    return out + b"0\r\n" + trailers + b"\r\n"


def seeds_http():
    tok = b'{"token":"eyJhbGciOi.x.y","access_token":"eyJhbGciOi.x.y","expires_in":300,"issued_at":"2024-01-02T03:04:05Z"}'
    man = dict(blobs("json")).get("4516d9a8fa6c", b'{"schemaVersion":2}')
    put("chunked", "python-style", b"\x00\x00" + chunk(tok, [40, 40, 200]))
    put("chunked", "ext-trailers", b"\x01\x05" + chunk(b"hello world" * 20, [7, 100, 200], b" ;name=\"v\"", b"X-T: 1\r\nY: 2\r\n"))
    put("chunked", "upper-hex", b"\x83\x80" + b"A\r\n0123456789\r\n000\r\n\r\n")
    put("chunked", "go-net-http", b"\x40\x02" + chunk(man, [len(man)]))
    hub401 = (b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ndocker-distribution-api-version: registry/2.0\r\n"
              b"www-authenticate: Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"\r\n"
              b"date: Tue, 02 Jan 2024 03:04:05 GMT\r\ncontent-length: 99\r\nstrict-transport-security: max-age=31536000\r\n\r\n"
              b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository"}]}]}\n'[:99])
    ok = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
          b"Docker-Content-Digest: sha256:4516d9a8fa6ceab3da7d4780a7f4903a615643ecb51ca88754031cbc732b1122\r\n"
          b"Docker-Distribution-Api-Version: registry/2.0\r\nEtag: \"sha256:4516\"\r\nX-Content-Type-Options: nosniff\r\n"
          b"Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n\r\n" % len(man) + man)
    redir = (b"HTTP/1.1 307 Temporary Redirect\r\nContent-Type: text/html; charset=utf-8\r\n"
             b"Location: https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/sha256/45/4516/data?verify=1&sig=a%2Bb\r\n"
             b"Content-Length: 0\r\n\r\n")
    redir_rel = b"HTTP/1.1 302 Found\r\nLocation: ../../other/./path?x=1#f\r\nContent-Length: 0\r\n\r\n"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: keep-alive\r\n\r\n" + chunk(tok, [10, 50, 1000])
    close = b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11\r\nContent-type: application/json\r\n\r\n" + tok
    retry = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 2\r\n\r\n{}"
    cont = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    proxy = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: tinyproxy/1.11\r\n\r\n" + ok
    put("http", "hub-401", b"\x00\x41" + hub401)
    put("http", "manifest-200", b"\x00\x01" + ok)
    put("http", "redirect-307-then-200", b"\x05\x00" + redir + ok)
    put("http", "redirect-relative", b"\x00\x00" + redir_rel + ok)
    put("http", "chunked-token", b"\x03\x10" + chunked)
    put("http", "http10-close", b"\xc8\x20" + close)
    put("http", "retry-after", b"\x00\x40" + retry)
    put("http", "continue-204", b"\x01\x08" + cont + ok)
    put("http", "keepalive-three", b"\x00\x09" + ok + chunked + ok)
    put("http", "head-then-get", b"\x07\x05" + b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + ok)
    put("http", "proxy-connect", b"\x00\x81" + proxy)
    put("http", "proxy-407", b"\x00\x81" + b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=p\r\nContent-Length: 0\r\n\r\n")


# ---------------------------------------------------------------- DNS, certificates, passwd

def dns_name(n):
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\0"


def seeds_dns():
    q = dns_name("registry-1.docker.io")
    for qtype, rdata in ((1, [bytes([44, 1, 2, 3]), bytes([54, 4, 5, 6])]), (28, [bytes(15) + b"\1"])):
        hdr = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, 1 + len(rdata), 0, 0)
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, 22) + dns_name("prod.registry.docker.io")[:-1] + b"\xc0\x0c"
        for r in rdata:
            ans += b"\xc0\x2e" + struct.pack(">HHIH", qtype, 1, 60, len(r)) + r
        put("dns", f"cname-then-{qtype}", hdr + q + struct.pack(">HH", qtype, 1) + ans)
    put("dns", "nxdomain", struct.pack(">HHHHHH", 0xbeef, 0x8183, 1, 0, 1, 0) + q + b"\0\1\0\1" + b"\0\0\6\0\1\0\0\0\x3c\0\0")
    put("dns", "hostname", b"Registry-1.Docker.IO.")


def seeds_san():
    with tempfile.TemporaryDirectory() as td:
        for i, (key, san) in enumerate((("ec:" , "IP:127.0.0.1,DNS:localhost"),
                                        ("rsa:1024", "DNS:reg.test,IP:::1,IP:10.0.0.1,email:a@b"),
                                        ("ec:", "critical,IP:127.0.0.1"), ("ec:", ""))):
            args = ["openssl", "req", "-x509", "-nodes", "-subj", "/CN=reg", "-days", "1", "-outform", "DER",
                    "-keyout", td + "/k", "-out", td + "/c"]
            if key == "ec:":
                args[3:3] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
            else:
                args[3:3] = ["-newkey", key]
            if san:
                args += ["-addext", "subjectAltName=" + san]
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            put("san", f"openssl-{i}", open(td + "/c", "rb").read())


def seeds_user():
    def user(spec, pw, gr):
        pw, gr = pw.encode(), gr.encode()
        return spec.encode() + b"\n" + struct.pack("<H", len(pw)) + pw + gr
    deb_pw = open("/etc/passwd").read()[:3000] if os.path.exists("/etc/passwd") else ""
    deb_gr = open("/etc/group").read()[:2000] if os.path.exists("/etc/group") else ""
    bb_pw = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000:Linux User,,,:/home/app:/bin/sh\n"
    bb_gr = "root:x:0:\ndaemon:x:1:\nwheel:x:10:root,app\naudio:x:29:app\nnobody:x:65534:\napp:x:1000:\n"
    put("user", "debian-root", b"\x00" + user("", deb_pw, deb_gr))
    put("user", "debian-daemon", b"\x07" + user("daemon", deb_pw, deb_gr))
    put("user", "busybox-app", b"\x01" + user("app", bb_pw, bb_gr))
    put("user", "busybox-app-wheel", b"\x80" + user("app:wheel", bb_pw, bb_gr))
    put("user", "numeric", b"\x30" + user("1000:29", bb_pw, bb_gr))
    put("user", "crlf-comments", b"\x02" + user("app", "# comment\r\n+nis\r\n  app:x:7:8::/h:/bin/sh  \r\n", "g:x:9:x,app\r\n"))
    put("user", "group-only", b"\x05" + user(":audio", bb_pw, bb_gr))


ALL = {"inflate": seeds_inflate, "tar": seeds_tar, "json": seeds_json, "manifest": seeds_manifest,
       "small": seeds_small, "http": seeds_http, "dns": seeds_dns, "san": seeds_san, "user": seeds_user}
OWNS = {"small": ["ref", "auth", "url"], "http": ["http", "chunked"]}

if __name__ == "__main__":
    want = sys.argv[1:] or list(ALL)
    for w in want:
        gen = next((k for k, v in OWNS.items() if w in v), w)
        for name in OWNS.get(gen, [gen]):
            # lf-*: inputs libFuzzer found that reach new edges (`make fuzz-seeds`): kept
            d = os.path.join(CORPUS, name)
            for f in os.listdir(d) if os.path.isdir(d) else []:
                if not f.startswith("lf-"):
                    os.unlink(os.path.join(d, f))
        ALL[gen]()
    for k in sorted(made):
        print(f"{k}: {made[k]} seeds")
