#!/usr/bin/env python3
"""bench/pull-report.py: turns bench/pull.sh's samples into the "## pull" section of bench/RESULTS.md.

  pull-report.py SAMPLES IMAGES VERSIONS RESULTS      (the rest comes from pull.sh's environment)

SAMPLES: one line per measured run: image fs tool round wall_s maxrss_kib user_s sys_s (tabs).
IMAGES: "image NAME BLOB_BYTES TAR_BYTES ENTRIES".  VERSIONS: one "tool: version" a line.
Replaces the "## pull" section of RESULTS (up to the next "## " heading) or appends it; leaves the
rest of the file alone.  Prints the section.
"""
import datetime
import os
import re
import statistics
import sys

NAMES = {
    "dock": "dock pull",
    "podman": "podman pull",
    "skopeo-umoci": "skopeo copy + umoci unpack",
    "gzip-tar": "gzip -dc \\| tar -x",
    "libdeflate-tar": "libdeflate-gunzip -c \\| tar -x",
    "curl": "curl (download only)",
}


def mib(b):
    return b / 1048576


def main():
    samples, images, versions, results = sys.argv[1:5]
    env = os.environ
    runs, warmup = int(env["RUNS"]), int(env["WARMUP"])
    tools, fs_list, img_list = env["TOOLS"].split(), env["FS_LIST"].split(), env["IMAGES"].split()
    dock_size = int(env["DOCK_SIZE"])
    target_ratio = float(env["TARGET_PODMAN_RATIO"])
    target_rss, target_size = int(env["TARGET_RSS_KIB"]), int(env["TARGET_SIZE"])

    S = {}
    for line in open(samples):
        img, fs, tool, _rnd, wall, rss, usr, sys_ = line.split("\t")
        S.setdefault((img, fs, tool), []).append((float(wall), int(rss), float(usr) + float(sys_)))
    info = {}
    for line in open(images):
        _, img, z, u, n = line.split("\t")
        info[img] = (int(z), int(u), int(n))

    def med(key, i):
        return statistics.median(v[i] for v in S[key])

    out = []
    w = out.append
    w("## pull")
    w("")
    w("Written by `bench/pull.sh` on %s. Machine: %s (shared: other work may run alongside)."
      % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), env["BENCH_MACHINE"]))
    w("")
    w("Method: %d warm-up round(s), then %d measured rounds. In each round every tool runs once, one "
      "after the other (A B C … A B C …), into an empty store or directory of its own on the "
      "filesystem being measured (TMPDIR too, where podman and skopeo spool blobs), with `sync` "
      "between runs, untimed (ext4 trees are deleted at the end, tmpfs ones at once). Figures are "
      "medians; load average %s at the start, %s at the end. Wall time is taken around GNU "
      "`time`; peak RSS is its %%M (for a pipeline, the largest single process, not the sum); CPU is "
      "user + system. The registry is the test fixture's (`tests/lib.sh`: distribution 2.8, HTTPS "
      "on 127.0.0.1). The gzip and libdeflate rows read the layer blob from the registry's storage "
      "(in the page cache); curl fetches it from the registry to /dev/null. × dock is the tool's "
      "wall time over dock's; best is the fastest run. dock pull makes what it wrote durable before it "
      "records the image (fsync + syncfs: about 0.1 s of its ext4 time here); the tar rows do not sync." % (warmup, runs, env["LOAD_START"], env["LOAD_END"]))
    w("")
    w("| image | layer blob (gzip) | unpacked tar | tar entries |")
    w("| --- | ---: | ---: | ---: |")
    for img in img_list:
        z, u, n = info[img]
        label = img
        if img == "debian":
            label = "debian:bookworm (`debootstrap --variant=minbase`, one layer, %s)" % env["BENCH_CACHE_VERSION"]
        elif img == "busybox":
            label = "busybox (the fixture's, one layer)"
        w("| %s | %.2f MiB | %.2f MiB | %d |" % (label, mib(z), mib(u), n))
    w("")
    for fs in fs_list:
        w("### %s (%s)" % (fs, "/var/tmp" if fs == "ext4" else "/dev/shm"))
        w("")
        w("| image | tool | wall s | × dock | best s | MB/s unpacked | peak RSS MiB | CPU s |")
        w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for img in img_list:
            d = med((img, fs, "dock"), 0)
            for t in tools:
                k = (img, fs, t)
                if k not in S:
                    continue
                wall = med(k, 0)
                rate = "" if t == "curl" else "%.0f" % (info[img][1] / 1e6 / wall)
                best = min(v[0] for v in S[k])
                w("| %s | %s | %.3f | %.2f | %.3f | %s | %.1f | %.2f |" % (
                    img, NAMES.get(t, t), wall, wall / d, best, rate, mib(med(k, 1) * 1024), med(k, 2)))
        w("")

    def ok(b):
        return "yes" if b else "**no**"

    w("### targets")
    w("")
    w("| target | measured | met |")
    w("| --- | --- | --- |")
    if "debian" in img_list:
        for fs in fs_list:
            d = med(("debian", fs, "dock"), 0)
            p = med(("debian", fs, "podman"), 0)
            g = med(("debian", fs, "gzip-tar"), 0)
            w("| debian, %s: dock pull ≤ %.1f× podman pull | %.3f s / %.3f s = %.2f× | %s |"
              % (fs, target_ratio, d, p, d / p, ok(d <= target_ratio * p)))
            w("| debian, %s: dock pull no slower than gzip -dc \\| tar -x | %.3f s vs %.3f s (%.2f×) | %s |"
              % (fs, d, g, d / g, ok(d <= g)))
        rss = [v[1] for fs in fs_list for v in S[("debian", fs, "dock")]]
        w("| dock peak RSS pulling debian ≤ %d MiB | %.2f MiB median, %.2f MiB worst run | %s |"
          % (target_rss // 1024, mib(statistics.median(rss) * 1024), mib(max(rss) * 1024),
             ok(max(rss) <= target_rss)))
    w("| ./dock ≤ %d MiB | %d bytes = %.2f MiB (static, stripped) | %s |"
      % (target_size // 1048576, dock_size, mib(dock_size), ok(dock_size <= target_size)))
    w("")
    w("Versions: " + "; ".join(l.strip() for l in open(versions) if l.strip()) + ".")
    w("")

    section = "\n".join(out)
    text = open(results).read() if os.path.exists(results) else "# dock benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip("\n") == "## pull"), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if re.match(r"## ", lines[i])), len(lines))
        rest = "".join(lines[end:])
        text = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
    tmp = results + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, results)
    sys.stdout.write(section)


main()
