#!/usr/bin/env python3
"""mkseccomp.py: turns Docker's default seccomp profile into src/seccomp_table.h, the table
src/seccomp.c compiles into a BPF program.  The header is committed, so building dock needs
neither Python nor the JSON; rerun this when the profile or the kernel headers change:

    python3 tools/mkseccomp.py [PROFILE.json [unistd_64.h [capability.h]]] > src/seccomp_table.h

Defaults: ../shared/reference/docker-seccomp-default.json (moby's profiles/seccomp/default.json),
/usr/include/x86_64-linux-gnu/asm/unistd_64.h and /usr/include/linux/capability.h.

Only x86_64 is kept: entries whose includes.arches leave out amd64 (or whose excludes.arches
name it) are dropped here, and so are names the x86_64 syscall table does not have (i386 and arm
calls, and calls newer than the headers: src/seccomp.c answers numbers above the highest one the
profile knows with ENOSYS, as runc does).  Capability conditions and minKernel stay in the table,
because they depend on the container and the running kernel."""

import json
import re
import sys

ARCH = "amd64"  # Docker's name (Go's GOARCH) for x86_64 in includes/excludes.arches

OPS = {
    "SCMP_CMP_NE": "SC_NE", "SCMP_CMP_LT": "SC_LT", "SCMP_CMP_LE": "SC_LE",
    "SCMP_CMP_EQ": "SC_EQ", "SCMP_CMP_GE": "SC_GE", "SCMP_CMP_GT": "SC_GT",
    "SCMP_CMP_MASKED_EQ": "SC_MASKED_EQ",
}
ACTIONS = {"SCMP_ACT_ALLOW": "SC_ALLOW", "SCMP_ACT_ERRNO": "SC_ERRNO"}


def die(msg):
    sys.stderr.write("mkseccomp: %s\n" % msg)
    sys.exit(1)


def defines(path, prefix):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"#define\s+%s(\w+)\s+(\d+)\s*(/\*.*)?$" % prefix, line)
            if m:
                out[m.group(1)] = int(m.group(2))
    if not out:
        die("%s: no %s definitions" % (path, prefix))
    return out


def kernel(v):
    m = re.fullmatch(r"(\d+)\.(\d+)", v)
    if not m:
        die("minKernel %r: want MAJOR.MINOR" % v)
    return "SC_KV(%d, %d)" % (int(m.group(1)), int(m.group(2)))


def num(v):
    if not 0 <= v < 1 << 64:
        die("argument value %r out of range" % v)
    return "%#xu" % v if v >= 0x10000 else "%du" % v


def caps_mask(names, caps):
    shown = []
    for n in names or []:
        if not n.startswith("CAP_") or n[4:] not in caps:
            die("unknown capability %r" % n)
        shown.append("SC_CAP(%d, %s)" % (caps[n[4:]], n[4:]))
    return " | ".join(shown) or "0"


def main():
    args = sys.argv[1:]
    prof_path = args[0] if len(args) > 0 else "../shared/reference/docker-seccomp-default.json"
    nr_path = args[1] if len(args) > 1 else "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
    cap_path = args[2] if len(args) > 2 else "/usr/include/linux/capability.h"
    with open(prof_path) as f:
        prof = json.load(f)
    nrs = defines(nr_path, "__NR_")
    caps = {k: v for k, v in defines(cap_path, "CAP_").items() if k != "LAST_CAP"}
    if max(caps.values()) > 63:
        die("capability numbers over 63 do not fit dock's 64-bit masks")

    if prof.get("defaultAction") != "SCMP_ACT_ERRNO":
        die("defaultAction %r: the table assumes SCMP_ACT_ERRNO" % prof.get("defaultAction"))
    default_errno = prof.get("defaultErrnoRet", 1)

    groups, entries, dropped = [], [], set()
    for i, s in enumerate(prof["syscalls"]):
        inc, exc = s.get("includes") or {}, s.get("excludes") or {}
        unknown = (set(inc) | set(exc)) - {"caps", "arches", "minKernel"}
        unknown |= set(s) - {"names", "action", "errnoRet", "args", "includes", "excludes",
                             "comment"}
        if "minKernel" in exc or unknown:
            die("syscalls[%d]: unsupported %s" % (i, sorted(unknown) or "excludes.minKernel"))
        if inc.get("arches") and ARCH not in inc["arches"]:
            continue
        if ARCH in (exc.get("arches") or []):
            continue
        if s["action"] not in ACTIONS:
            die("syscalls[%d]: action %s" % (i, s["action"]))
        cond = s.get("args") or []
        if len(cond) > 1:
            die("syscalls[%d]: the table holds one argument test per entry" % i)
        if cond:
            a = cond[0]
            if a["op"] not in OPS or not 0 <= a["index"] <= 5:
                die("syscalls[%d]: argument test %r" % (i, a))
            arg = "{%d, %s, %s, %s}" % (a["index"], OPS[a["op"]], num(a["value"]),
                                        num(a.get("valueTwo", 0)))
        else:
            arg = "SC_NOARG"
        ret = s.get("errnoRet", 1) if s["action"] == "SCMP_ACT_ERRNO" else 0
        mk = kernel(inc["minKernel"]) if inc.get("minKernel") else "0"
        names = [n for n in s["names"] if n in nrs]
        dropped |= {n for n in s["names"] if n not in nrs}
        if not names:
            continue
        groups.append("\t{%s, %d, %s, %s, %s, %s}, /* %d: syscalls[%d] */"
                      % (ACTIONS[s["action"]], ret,
                         caps_mask(inc.get("caps"), caps), caps_mask(exc.get("caps"), caps),
                         mk, arg, len(groups), i))
        for n in names:
            entries.append((len(groups) - 1, nrs[n], n))

    out = []
    w = out.append
    w("/* seccomp_table.h: Docker's default seccomp profile for x86_64, as data for src/seccomp.c.")
    w(" * GENERATED by tools/mkseccomp.py -- do not edit; rerun it.  Sources: moby's")
    w(" * profiles/seccomp/default.json (the copy in shared/reference/docker-seccomp-default.json),")
    w(" * syscall numbers from <asm/unistd_64.h> and capability numbers from <linux/capability.h>")
    w(" * (Debian's linux-libc-dev).  Entries for other architectures are left out; so are these")
    w(" * names, which x86_64 (or those headers) lack:")
    line = " *"
    for n in sorted(dropped):
        if len(line) + len(n) + 1 > 100:
            w(line)
            line = " *"
        line += " " + n
    w(line)
    w(" */")
    w("")
    w("#define SC_DEFAULT_ERRNO %d /* defaultAction SCMP_ACT_ERRNO, defaultErrnoRet */"
      % default_errno)
    w("")
    w("/* The profile's entries in its order: action, errno, capabilities all required (includes),")
    w(" * capabilities any of which drops the entry (excludes), minimum kernel (includes.minKernel),")
    w(" * argument test {index, op, value, valueTwo}. */")
    w("static const struct sc_group sc_default_groups[] = {")
    out.extend(groups)
    w("};")
    w("")
    w("/* The syscalls of each entry: SC_E(entry, x86_64 number, name). */")
    w("static const struct sc_entry sc_default[] = {")
    for i in range(0, len(entries), 4):
        w("\t" + " ".join("SC_E(%d, %d, %s)," % e for e in entries[i:i + 4]))
    w("};")
    w("")
    w("/* Every x86_64 syscall name, sorted, for profiles given with --security-opt seccomp=FILE. */")
    w("static const struct sc_sysname sc_sysnames[] = {")
    items = sorted(nrs.items())
    for i in range(0, len(items), 4):
        w("\t" + " ".join('{"%s", %d},' % kv for kv in items[i:i + 4]))
    w("};")
    w("")
    w("/* Capability names by number. */")
    w("static const char *const sc_capnames[] = {")
    byn = sorted((v, k) for k, v in caps.items())
    if [v for v, _ in byn] != list(range(len(byn))):
        die("capability numbers are not 0..N")
    for i in range(0, len(byn), 4):
        w("\t" + " ".join('"CAP_%s",' % k for _, k in byn[i:i + 4]))
    w("};")
    sys.stdout.write("\n".join(out) + "\n")


main()
