#!/usr/bin/env python3
"""mkimage.py: write an OCI image layout from a JSON description (stdlib only).

For images no ordinary tool will make: hostile tar entries (`../x`, absolute names, links that point
out of the root), broken layers (truncated gzip, wrong diff_id), hand-made multi-platform indexes.
Tar entries are written exactly as given; nothing is normalised.

  mkimage.py SPEC.json LAYOUT_DIR      (LAYOUT_DIR is created, or added to if it is a layout)
  mkimage.py --tar ENTRIES.json OUT.tar   (just the uncompressed tar of a list of entries)

SPEC (JSON object):
  tag            "latest"; the org.opencontainers.image.ref.name of the top descriptor
  media          "oci" (default) or "docker": schema2 manifest / manifest list media types
  base           {"layout": DIR, "tag": T}: start from that image's layers, diff_ids and config
  architecture, os, variant      the image config's platform (default amd64/linux)
  config         object merged into the image config's "config" (Cmd, Env, User, ...)
  layers         list of layers, each:
     entries       list of tar entries (below)
     tar_file      use this file's bytes as the uncompressed layer instead of entries
     raw           use this text as the (uncompressed) blob, e.g. an in-toto attestation
     blocks        a hand-made tar, byte for byte (hostile archives tarfile refuses to write): a
                   list of items, see "Raw tar blocks" below
     format        "pax" (default), "gnu" or "ustar"
     compression   "gzip" (default) or "none"
     media_type    override the layer descriptor's media type
     truncate      keep only this many bytes of the compressed blob (negative: drop that many from
                   the end); the descriptor's digest/size describe the cut bytes, the diff_id still
                   names the whole tar
     diff_id       override the diff_id written into the config (for "bad diff_id" images)
     annotations   descriptor annotations
  platforms      instead of layers: a list of SPECs (without tag), one image each, gathered into an
                 image index; each may carry "platform" ({"architecture":..,"os":..,"variant":..})
                 and "descriptor_annotations"; defaults to its architecture/os/variant
  manifest_annotations   annotations of the manifest / index itself

Tar entry:
  name (required), type: file|dir|symlink|hardlink|fifo|char|block (default file),
  data (text) | data_hex | repeat: [BYTE, COUNT] (COUNT bytes of BYTE) | size (zero bytes),
  mode (int or octal string; default 0644 files, 0755 dirs, 0777 symlinks), uid, gid, uname, gname,
  mtime (default 1600000000), linkname, devmajor, devminor,
  xattrs {name: "hex:..." | text}, pax {key: value} (extra PAX records, pax format only)

Raw tar blocks (layer "blocks"), each item one of:
  {"hdr": {...}, data...}   a ustar header block, then the data (padded to 512).  Header fields:
       name, linkname, prefix, uname, gname (text; "\u0000" writes a NUL byte; name_hex for bytes),
       type (one character, default "0"), mode, uid, gid, mtime, size, devmajor, devminor (an int
       is written in octal; a string is written as it is, e.g. "-1" or "99999999999"; {"b256": N}
       writes GNU base-256, N may be negative), magic (default "ustar\u000000"), chksum (default:
       computed).  size defaults to the data's length; data as for entries (data, data_hex,
       repeat, size_data: that many zero bytes).
  {"pax": {KEY: VALUE}, "global": false}   an 'x' (or 'g') header with those records
  {"pax_raw": TEXT}          an 'x' header whose body is TEXT as it is
  {"gnu_long": TEXT, "kind": "L"}  a GNU long name ('L') or long link ('K') header and body
  {"end": true}              two zero blocks
  {"zeros": N}               N zero bytes (e.g. after the end: a gzip bomb's payload)
  {"raw_hex": HEX}           bytes as they are

Prints the digest of the top-level manifest or index.
"""
import copy
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZ = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"

TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
         "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE,
         "block": tarfile.BLKTYPE}
FORMATS = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        lay = os.path.join(path, "oci-layout")
        if not os.path.exists(lay):
            with open(lay, "w") as f:
                json.dump({"imageLayoutVersion": "1.0.0"}, f)
        idx = os.path.join(path, "index.json")
        if os.path.exists(idx):
            with open(idx) as f:
                self.index = json.load(f)
        else:
            self.index = {"schemaVersion": 2, "manifests": []}

    def put(self, data):
        d = sha256(data)
        p = os.path.join(self.path, "blobs", "sha256", d[7:])
        if not os.path.exists(p):
            with open(p + ".tmp", "wb") as f:
                f.write(data)
            os.rename(p + ".tmp", p)
        return d

    def get(self, digest):
        with open(os.path.join(self.path, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
            return f.read()

    def tag(self, desc, name):
        desc = dict(desc)
        desc["annotations"] = dict(desc.get("annotations") or {})
        desc["annotations"]["org.opencontainers.image.ref.name"] = name
        self.index["manifests"] = [m for m in self.index["manifests"]
                                   if (m.get("annotations") or {}).get(
                                       "org.opencontainers.image.ref.name") != name]
        self.index["manifests"].append(desc)
        tmp = os.path.join(self.path, "index.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.index, f)
        os.rename(tmp, os.path.join(self.path, "index.json"))


def parse_mode(v, default):
    if v is None:
        return default
    if isinstance(v, str):
        return int(v, 8)
    return v


def entry_data(e):
    if "data" in e:
        return e["data"].encode()
    if "data_hex" in e:
        return bytes.fromhex(e["data_hex"])
    if "repeat" in e:
        b, n = e["repeat"]
        return bytes([b]) * n
    return b"\0" * e.get("size", 0)


def make_tar(entries, fmt):
    buf = io.BytesIO()
    tf = tarfile.open(fileobj=buf, mode="w", format=FORMATS[fmt])
    for e in entries:
        ti = tarfile.TarInfo(e["name"])
        kind = e.get("type", "file")
        ti.type = TYPES[kind]
        ti.mode = parse_mode(e.get("mode"), {"dir": 0o755, "symlink": 0o777}.get(kind, 0o644))
        ti.uid = e.get("uid", 0)
        ti.gid = e.get("gid", 0)
        ti.uname = e.get("uname", "")
        ti.gname = e.get("gname", "")
        ti.mtime = e.get("mtime", 1600000000)
        ti.linkname = e.get("linkname", "")
        ti.devmajor = e.get("devmajor", 0)
        ti.devminor = e.get("devminor", 0)
        pax = {}
        for k, v in (e.get("xattrs") or {}).items():
            raw = bytes.fromhex(v[4:]) if v.startswith("hex:") else v.encode()
            pax["SCHILY.xattr." + k] = raw.decode("utf-8", "surrogateescape")
        pax.update(e.get("pax") or {})
        if pax:
            ti.pax_headers = pax
        data = entry_data(e) if kind == "file" else b""
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data) if data else None)
    tf.close()
    return buf.getvalue()


def _field(v, width):
    """A numeric header field: int -> octal, str -> as is, {"b256": N} -> GNU base-256."""
    if isinstance(v, dict):
        n = v["b256"]
        if n < 0:
            n += 1 << (8 * width)
        b = bytearray(n.to_bytes(width, "big"))
        b[0] |= 0x80
        return bytes(b)
    if isinstance(v, int):
        v = "%0*o" % (width - 1, v)
    return v.encode("utf-8", "surrogateescape")[:width].ljust(width, b"\0")


def _text(v, width):
    if isinstance(v, bytes):
        return v[:width].ljust(width, b"\0")
    return v.encode("utf-8", "surrogateescape")[:width].ljust(width, b"\0")


def raw_header(h, data_len):
    name = bytes.fromhex(h["name_hex"]) if "name_hex" in h else h.get("name", "")
    b = bytearray(512)
    b[0:100] = _text(name, 100)
    b[100:108] = _field(h.get("mode", 0o644), 8)
    b[108:116] = _field(h.get("uid", 0), 8)
    b[116:124] = _field(h.get("gid", 0), 8)
    b[124:136] = _field(h.get("size", data_len), 12)
    b[136:148] = _field(h.get("mtime", 1600000000), 12)
    b[156:157] = h.get("type", "0").encode()[:1] or b"\0"
    b[157:257] = _text(h.get("linkname", ""), 100)
    b[257:265] = _text(h.get("magic", "ustar\u000000"), 8)
    b[265:297] = _text(h.get("uname", ""), 32)
    b[297:329] = _text(h.get("gname", ""), 32)
    b[329:337] = _field(h.get("devmajor", 0), 8)
    b[337:345] = _field(h.get("devminor", 0), 8)
    b[345:500] = _text(h.get("prefix", ""), 155)
    if "chksum" in h:
        b[148:156] = _field(h["chksum"], 8)
    else:
        b[148:156] = b" " * 8
        b[148:156] = ("%06o\0 " % sum(b)).encode()
    return bytes(b)


def _padded(data):
    return data + b"\0" * (-len(data) % 512)


def _pax_body(recs):
    out = b""
    for k, v in recs.items():
        kv = (" %s=%s\n" % (k, v)).encode("utf-8", "surrogateescape")
        n = len(kv) + 1
        while len(str(n)) + len(kv) != n:
            n = len(str(n)) + len(kv)
        out += str(n).encode() + kv
    return out


def make_blocks(items):
    out = []
    for it in items:
        if "hdr" in it:
            data = entry_data(dict(it, size=it.get("size_data", 0)))
            out.append(raw_header(it["hdr"], len(data)) + _padded(data))
        elif "pax" in it or "pax_raw" in it:
            body = it["pax_raw"].encode("utf-8", "surrogateescape") if "pax_raw" in it \
                else _pax_body(it["pax"])
            kind = "g" if it.get("global") else "x"
            out.append(raw_header({"name": "PaxHeaders/x", "type": kind}, len(body)) + _padded(body))
        elif "gnu_long" in it:
            body = it["gnu_long"].encode("utf-8", "surrogateescape") + b"\0"
            out.append(raw_header({"name": "././@LongLink", "type": it.get("kind", "L"),
                                   "magic": "ustar  \u0000"}, len(body)) + _padded(body))
        elif "end" in it:
            out.append(b"\0" * 1024)
        elif "zeros" in it:
            out.append(b"\0" * it["zeros"])
        elif "raw_hex" in it:
            out.append(bytes.fromhex(it["raw_hex"]))
        else:
            raise SystemExit("mkimage: unknown block item %r" % (it,))
    return b"".join(out)


def build_layer(lay, spec, docker):
    if "blocks" in spec:
        raw = make_blocks(spec["blocks"])
    elif "tar_file" in spec:
        with open(spec["tar_file"], "rb") as f:
            raw = f.read()
    elif "raw" in spec:
        raw = spec["raw"].encode()
    else:
        raw = make_tar(spec.get("entries", []), spec.get("format", "pax"))
    comp = spec.get("compression", "gzip")
    if comp == "gzip":
        blob = gzip.compress(raw, compresslevel=6, mtime=0)
        mt = DOCKER_LAYER_GZ if docker else OCI_LAYER + "+gzip"
    elif comp == "none":
        blob = raw
        mt = DOCKER_LAYER if docker else OCI_LAYER
    else:
        raise SystemExit("mkimage: unknown compression " + comp)
    if "truncate" in spec:
        blob = blob[:spec["truncate"]]
    desc = {"mediaType": spec.get("media_type", mt), "digest": lay.put(blob), "size": len(blob)}
    if spec.get("annotations"):
        desc["annotations"] = spec["annotations"]
    return desc, spec.get("diff_id", sha256(raw))


def read_image(layout_dir, tag):
    src = Layout(layout_dir)
    for m in src.index["manifests"]:
        if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag:
            man = json.loads(src.get(m["digest"]))
            cfg = json.loads(src.get(man["config"]["digest"]))
            return src, man, cfg
    raise SystemExit("mkimage: no tag %r in %s" % (tag, layout_dir))


def build_image(lay, spec, docker):
    """Writes one image (config + manifest); returns the manifest's descriptor."""
    layers, diff_ids = [], []
    cfg = {"architecture": "amd64", "os": "linux", "config": {},
           "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
    if "base" in spec:
        src, man, bcfg = read_image(spec["base"]["layout"], spec["base"].get("tag", "latest"))
        for d in man["layers"]:
            lay.put(src.get(d["digest"]))
            d = dict(d)
            if docker:
                d["mediaType"] = {OCI_LAYER + "+gzip": DOCKER_LAYER_GZ,
                                  OCI_LAYER: DOCKER_LAYER}.get(d["mediaType"], d["mediaType"])
            layers.append(d)
        cfg = copy.deepcopy(bcfg)
        diff_ids = list(bcfg["rootfs"]["diff_ids"])
        cfg.setdefault("history", [])
    for key in ("architecture", "os", "variant"):
        if key in spec:
            cfg[key] = spec[key]
    cfg.setdefault("config", {})
    if cfg["config"] is None:
        cfg["config"] = {}
    cfg["config"].update(spec.get("config") or {})
    for ls in spec.get("layers", []):
        d, diff = build_layer(lay, ls, docker)
        layers.append(d)
        diff_ids.append(diff)
        cfg["history"].append({"created": "2020-09-13T12:26:40Z", "created_by": "mkimage.py"})
    cfg["rootfs"]["diff_ids"] = diff_ids
    cfg.setdefault("created", "2020-09-13T12:26:40Z")
    if "config_raw" in spec:
        cfg = spec["config_raw"]
    cfg_bytes = json.dumps(cfg, indent=1).encode()
    man = {"schemaVersion": 2,
           "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
           "config": {"mediaType": spec.get("config_media_type",
                                            DOCKER_CONFIG if docker else OCI_CONFIG),
                      "digest": lay.put(cfg_bytes), "size": len(cfg_bytes)},
           "layers": layers}
    if spec.get("manifest_annotations"):
        man["annotations"] = spec["manifest_annotations"]
    mb = json.dumps(man, indent=1).encode()
    return {"mediaType": man["mediaType"], "digest": lay.put(mb), "size": len(mb)}, cfg


def build(lay, spec):
    docker = spec.get("media", "oci") == "docker"
    if "platforms" not in spec:
        return build_image(lay, spec, docker)[0]
    manifests = []
    for sub in spec["platforms"]:
        desc, cfg = build_image(lay, sub, docker)
        plat = sub.get("platform")
        if plat is None:
            plat = {"architecture": cfg["architecture"], "os": cfg["os"]}
            if cfg.get("variant"):
                plat["variant"] = cfg["variant"]
        desc["platform"] = plat
        ann = dict(sub.get("descriptor_annotations") or {})
        for k, v in list(ann.items()):
            # "@N" refers to the manifest of platform N, for attestation-style references
            if isinstance(v, str) and v.startswith("@"):
                ann[k] = manifests[int(v[1:])]["digest"]
        if ann:
            desc["annotations"] = ann
        manifests.append(desc)
    idx = {"schemaVersion": 2, "mediaType": DOCKER_LIST if docker else OCI_INDEX,
           "manifests": manifests}
    if spec.get("manifest_annotations"):
        idx["annotations"] = spec["manifest_annotations"]
    ib = json.dumps(idx, indent=1).encode()
    return {"mediaType": idx["mediaType"], "digest": lay.put(ib), "size": len(ib)}


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--tar":
        with open(sys.argv[2]) as f:
            entries = json.load(f)
        with open(sys.argv[3], "wb") as f:
            f.write(make_tar(entries, "pax"))
        return
    if len(sys.argv) != 3:
        raise SystemExit("usage: mkimage.py SPEC.json LAYOUT_DIR | --tar ENTRIES.json OUT.tar")
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    lay = Layout(sys.argv[2])
    desc = build(lay, spec)
    lay.tag(desc, spec.get("tag", "latest"))
    print(desc["digest"])


if __name__ == "__main__":
    main()
