/* cgroup.c: each container's cgroups, on whatever the box mounts: cgroup v2, v1, both (hybrid), or
 * nothing.  Finds the hierarchies in /proc/self/mountinfo and our own cgroup in each from
 * /proc/self/cgroup, looking at every controller on its own (on the project's machines the v1
 * controllers sit beside a v2 tree that holds only hugetlb, and dock may start inside a non-root v1
 * memory cgroup).  Makes the container's cgroup in every hierarchy that matters, writes the limits,
 * moves processes in, freezes, kills, tells OOM kills, reads usage, and removes what it made.
 * Owns the directories it creates and nothing else.  It never mounts: with no hierarchy mounted a
 * container gets a cg that applies nothing (and a warning when limits were asked for); mounting a
 * private cgroup2 belongs to the caller's own mount namespace.
 *
 * Where the cgroups go.  As root: <hierarchy>/dock/<id>, at the top of each hierarchy (the top we
 * can see: the mount's root), not below the cgroup `dock run` started in.
 *  - dock has no daemon, so each run starts wherever its caller happens to be (a login session, a
 *    CI job, a sandbox's memory cgroup as on the project's machines).  Nesting below that would make
 *    a container's limits depend on its caller, and `dock stats` or `dock kill` run later from
 *    elsewhere could not find it from its id alone; a fixed place can be found (cg_open), as
 *    Docker's cgroupfs driver finds /docker/<id>.
 *  - On v2 a cgroup holding processes cannot hand controllers down ("no internal processes"), so
 *    below our own cgroup memory, cpu, io and pids could not be enabled; at the root they can.
 *  The price: as root a container leaves the limits of the cgroup its `dock run` was started in,
 *  as Docker's containers do.
 * Rootless: the only writable place is a delegated subtree, so <hierarchy><our cgroup>/dock/<id>.
 * That gives v2 directories (cgroup.kill and cgroup.freeze need no controller); controllers also
 * need our cgroup's cgroup.subtree_control, which the kernel refuses while we are in it unless
 * whoever delegated it enabled them.  v1 is never delegated.  Each limit that cannot apply is
 * reported through warn(), never dropped silently.
 *
 * Hierarchies joined: each v1 hierarchy holding memory, cpu, cpuacct, cpuset, pids, blkio, freezer
 * or devices, and the v2 tree when one is mounted, even with no controller in it, for its core files (cgroup.kill, cgroup.freeze,
 * cgroup.events, cpu.stat).  name=systemd and other named hierarchies are left alone.  The "dock"
 * directory goes with its last container, so nothing of dock stays in /sys/fs/cgroup; a create that
 * races that removal starts over.
 *
 * Devices: Docker's allow list (everything denied, then null, zero, full, random, urandom, tty,
 * console, ptmx, the ptys, tun, and mknod of any node) plus --device's, through the v1 devices
 * controller where one is bound (devices.deny "a", then devices.allow lines), else as a
 * BPF_CGROUP_DEVICE program on the v2 directory, which dock assembles itself from the same rule
 * list (cg_dev_prog).  Rootless containers get neither: a user namespace cannot mknod, and a host
 * node bound in keeps the host's permissions (loading the program needs CAP_BPF anyway). */

#include <signal.h>
#include <time.h>
#include <dirent.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#define CG_PATH 1024        /* a cgroup directory path */
#define CG_MAXH 16          /* hierarchies: v1 has at most 13 controllers, plus v2 */
#define CG_TIMEOUT_MS 5000  /* freezing, emptying, removing */

enum { CG_MEMORY, CG_CPU, CG_CPUACCT, CG_CPUSET, CG_PIDS, CG_BLKIO, CG_FREEZER, CG_DEVICES, CG_NCTL };
#define CG_BIT(x) (1u << (x))

static const char *const cg_v1name[CG_NCTL] = {
	"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "devices",
};
/* The v2 controller doing the same job; NULL where a core file does it (cpu.stat, cgroup.freeze)
 * or something else does (devices: a BPF program). */
static const char *const cg_v2name[CG_NCTL] = {
	"memory", "cpu", NULL, "cpuset", "pids", "io", NULL, NULL,
};

/* Where the layout is read from; tests point these at fake files. */
static const char *cg_mountinfo_path = "/proc/self/mountinfo";
static const char *cg_self_path = "/proc/self/cgroup";
/* Tests set this to take the freezer-and-kill loop even where cgroup.kill exists. */
static int cg_no_kill_file;

struct cg_hier {
	int v2;
	unsigned ctl;         /* CG_BIT()s: v1 bound here; v2 enabled for the container */
	char dev[24];         /* the hierarchy's "major:minor", to skip its other mounts */
	char mnt[CG_PATH];    /* mount point */
	char root[CG_PATH];   /* the hierarchy's path mounted there */
	char own[CG_PATH];    /* our cgroup relative to mnt ("/" at the top), "" if not visible */
	char dir[CG_PATH];    /* the container's cgroup, "" when not made or found */
};

struct cg {
	char id[129];
	size_t nh;
	struct cg_hier h[CG_MAXH];
	char why[CG_NCTL][200]; /* why a controller is missing, the first reason found */
};

/* ---------------------------------------------------------------- small helpers */

static void
cg_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
cg_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, CG_PATH, "%s/%s", dir, name);
	return n < 0 || n >= CG_PATH ? -1 : 0;
}

/* Write val to dir/file in one write(), as cgroup files want.  O_TRUNC does nothing to a cgroup
 * file but keeps the tests' fake trees honest.  0, or -1 with errno set. */
static int
cg_write(const char *dir, const char *file, const char *val)
{
	char path[CG_PATH];
	size_t n = strlen(val);
	ssize_t w;
	int fd, sv;
	if (cg_join(path, dir, file) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		w = write(fd, val, n);
	while (w < 0 && errno == EINTR);
	sv = errno;
	close(fd);
	errno = sv;
	if (w >= 0 && (size_t)w != n) {
		errno = EIO;
		return -1;
	}
	return w < 0 ? -1 : 0;
}

/* Read a small cgroup file, NUL-terminated.  Length, or -1 with errno set. */
static ssize_t
cg_read(const char *dir, const char *file, char *out, size_t n)
{
	char path[CG_PATH];
	size_t len = 0;
	ssize_t r;
	int fd, sv;
	if (cg_join(path, dir, file) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len + 1 < n) {
		r = read(fd, out + len, n - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sv = errno;
			close(fd);
			errno = sv;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	out[len] = 0;
	return (ssize_t)len;
}

/* Whether word is one of the words of list (separated by any of seps). */
static int
cg_has_word(const char *list, const char *word, const char *seps)
{
	size_t n = strlen(word);
	const char *p = list;
	while (*p) {
		size_t k = strcspn(p, seps);
		if (k == n && !strncmp(p, word, n))
			return 1;
		p += k;
		if (*p)
			p++;
	}
	return 0;
}

/* The number after "key " in a "key value" per line file (memory.events, cpu.stat, memory.stat). */
static int
cg_keyval(const char *text, const char *key, uint64_t *out)
{
	size_t n = strlen(key);
	const char *p = text;
	while (p && *p) {
		if (!strncmp(p, key, n) && p[n] == ' ') {
			*out = strtoull(p + n + 1, NULL, 10);
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static int
cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
	char b[64];
	if (cg_read(dir, file, b, sizeof b) <= 0)
		return -1;
	if (!strncmp(b, "max", 3)) {
		*out = UINT64_MAX;
		return 0;
	}
	*out = strtoull(b, NULL, 10);
	return 0;
}

static int
cg_id_valid(const char *id)
{
	size_t n = strlen(id), i;
	if (n == 0 || n > 128 || id[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-' || id[i] == '.'))
			return 0;
	return 1;
}

static void
cg_why(struct cg *c, unsigned bits, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
cg_why(struct cg *c, unsigned bits, const char *fmt, ...)
{
	char msg[sizeof c->why[0]];
	va_list ap;
	int i;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (i = 0; i < CG_NCTL; i++)
		if ((bits & CG_BIT(i)) && !c->why[i][0])
			memcpy(c->why[i], msg, sizeof msg);
}

/* ---------------------------------------------------------------- the layout */

/* One cgroup mount from mountinfo. */
struct cg_mi {
	int v2;
	unsigned ctl;
	int named;           /* a v1 hierarchy without controllers (name=systemd) */
	char dev[24];
	char root[CG_PATH];
	char mnt[CG_PATH];
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
cg_unescape(char *s)
{
	char *o = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = 0;
}

/* Parse one mountinfo line; 1 when it is a cgroup mount (filling m), else 0. */
static int
cg_mi_parse(char *line, struct cg_mi *m)
{
	char *f[6], *save = NULL, *tok, *type, *opts;
	int n = 0;
	char *dash = strstr(line, " - ");
	if (!dash)
		return 0;
	*dash = 0;
	for (tok = strtok_r(line, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 5)
		return 0;
	save = NULL;
	type = strtok_r(dash + 3, " \n", &save);
	if (!type || (strcmp(type, "cgroup") && strcmp(type, "cgroup2")))
		return 0;
	(void)strtok_r(NULL, " \n", &save); /* source */
	opts = strtok_r(NULL, " \n", &save);
	memset(m, 0, sizeof *m);
	m->v2 = !strcmp(type, "cgroup2");
	cg_unescape(f[3]);
	cg_unescape(f[4]);
	if (strlen(f[3]) >= CG_PATH || strlen(f[4]) >= CG_PATH || strlen(f[2]) >= sizeof m->dev)
		return 0;
	strcpy(m->dev, f[2]);
	strcpy(m->root, f[3]);
	strcpy(m->mnt, f[4]);
	if (!m->v2) {
		int i;
		for (i = 0; opts && i < CG_NCTL; i++)
			if (cg_has_word(opts, cg_v1name[i], ","))
				m->ctl |= CG_BIT(i);
		m->named = !m->ctl;
	}
	return 1;
}

/* Calls fn for each cgroup mount, reading mountinfo a line at a time (lines too long for the
 * buffer belong to other mounts, such as an overlay with many layers, and are skipped).  -1 with
 * errno set if mountinfo cannot be read. */
static int
cg_mounts(void (*fn)(void *ctx, const struct cg_mi *m), void *ctx)
{
	FILE *f = fopen(cg_mountinfo_path, "re");
	char line[4 * CG_PATH];
	struct cg_mi m;
	int skip = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		int whole = strchr(line, '\n') != NULL || feof(f);
		if (skip || !whole) {
			skip = !whole;
			continue;
		}
		if (cg_mi_parse(line, &m))
			fn(ctx, &m);
	}
	fclose(f);
	return 0;
}

static void
cg_add_mount(void *ctx, const struct cg_mi *m)
{
	struct cg *c = ctx;
	struct cg_hier *h;
	size_t i;
	if (m->named)
		return;
	for (i = 0; i < c->nh; i++) {
		h = &c->h[i];
		if (strcmp(h->dev, m->dev))
			continue;
		/* the same hierarchy mounted again: keep a mount of its top if there is one */
		if (strcmp(h->root, "/") && !strcmp(m->root, "/")) {
			strcpy(h->root, m->root);
			strcpy(h->mnt, m->mnt);
		}
		return;
	}
	if (c->nh == CG_MAXH)
		return;
	h = &c->h[c->nh++];
	memset(h, 0, sizeof *h);
	h->v2 = m->v2;
	h->ctl = m->ctl;
	strcpy(h->dev, m->dev);
	strcpy(h->root, m->root);
	strcpy(h->mnt, m->mnt);
}

/* Our own cgroup in each hierarchy, relative to its mount, from "ID:CONTROLLERS:PATH" lines. */
static void
cg_find_own(struct cg *c)
{
	FILE *f = fopen(cg_self_path, "re");
	char line[2 * CG_PATH];
	size_t i;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *path;
		int v2;
		if (!c2)
			continue;
		*c1 = *c2 = 0;
		path = c2 + 1;
		path[strcspn(path, "\n")] = 0;
		v2 = !strcmp(line, "0") && !c1[1];
		for (i = 0; i < c->nh; i++) {
			struct cg_hier *h = &c->h[i];
			size_t rl = strlen(h->root);
			int b;
			if (h->v2 != v2)
				continue;
			if (!v2) {
				for (b = 0; b < CG_NCTL && !(h->ctl & CG_BIT(b)); b++)
					;
				if (b == CG_NCTL || !cg_has_word(c1 + 1, cg_v1name[b], ","))
					continue;
			}
			if (!strcmp(h->root, "/"))
				snprintf(h->own, sizeof h->own, "%s", path);
			else if (!strncmp(path, h->root, rl) && (path[rl] == '/' || !path[rl]))
				snprintf(h->own, sizeof h->own, "%s", path[rl] ? path + rl : "/");
			else
				h->own[0] = 0; /* our cgroup lies outside what this mount shows */
		}
	}
	fclose(f);
}

static int
cg_scan(struct cg *c, struct err *e)
{
	c->nh = 0;
	if (cg_mounts(cg_add_mount, c) < 0) {
		/* no /proc on the host: as good as no cgroups mounted (limits warn, nothing fails) */
		if (errno == ENOENT) {
			c->nh = 0;
			return 0;
		}
		return err_sys(e, "cgroup: read %s", cg_mountinfo_path);
	}
	cg_find_own(c);
	return 0;
}

struct cg_count {
	int v1, v2;
};

static void
cg_count_mount(void *ctx, const struct cg_mi *m)
{
	struct cg_count *n = ctx;
	if (m->v2)
		n->v2++;
	else
		n->v1++;
}

const char *
cg_layout(void)
{
	struct cg_count n = {0, 0};
	if (cg_mounts(cg_count_mount, &n) < 0)
		return "none";
	if (n.v1 && n.v2)
		return "hybrid";
	return n.v2 ? "v2" : n.v1 ? "v1" : "none";
}

/* ---------------------------------------------------------------- making the directories */

/* v1 cpuset refuses tasks until cpus and mems are set; a new cpuset cgroup starts with neither. */
static int
cg_cpuset_copy(const char *parent, const char *dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char val[1024], cur[1024];
	size_t i;
	for (i = 0; i < 2; i++) {
		if (cg_read(dir, files[i], cur, sizeof cur) < 0)
			return -1;
		if (cur[0] && cur[0] != '\n')
			continue;
		if (cg_read(parent, files[i], val, sizeof val) < 0)
			return -1;
		val[strcspn(val, "\n")] = 0;
		if (val[0] && cg_write(dir, files[i], val) < 0)
			return -1;
	}
	return 0;
}

#define CG_ALL (CG_BIT(CG_NCTL) - 1)

/* Controllers bound to a v1 hierarchy: v2 has nothing to say about why they are missing there. */
static unsigned
cg_v1_bits(const struct cg *c)
{
	unsigned bits = 0;
	size_t i;
	for (i = 0; i < c->nh; i++)
		if (!c->h[i].v2)
			bits |= c->h[i].ctl;
	return bits;
}

/* Hand the controllers dock uses down from dir to its children, each on its own so that one the
 * kernel refuses does not stop the others.  Only what dir has can be enabled. */
static void
cg_v2_enable(struct cg *c, const char *dir)
{
	char have[512], on[512], w[32];
	unsigned v1 = cg_v1_bits(c);
	int i;
	if (cg_read(dir, "cgroup.controllers", have, sizeof have) < 0)
		return;
	if (cg_read(dir, "cgroup.subtree_control", on, sizeof on) < 0)
		on[0] = 0;
	for (i = 0; i < CG_NCTL; i++) {
		if (!cg_v2name[i] || (v1 & CG_BIT(i)) || cg_has_word(on, cg_v2name[i], " \n"))
			continue;
		if (!cg_has_word(have, cg_v2name[i], " \n")) {
			cg_why(c, CG_BIT(i), "%s is not in %s/cgroup.controllers (bound to cgroup v1, or "
			       "not delegated)", cg_v2name[i], dir);
			continue;
		}
		snprintf(w, sizeof w, "+%s", cg_v2name[i]);
		if (cg_write(dir, "cgroup.subtree_control", w) < 0)
			cg_why(c, CG_BIT(i), "cannot enable %s in %s/cgroup.subtree_control: %s%s",
			       cg_v2name[i], dir, strerror(errno),
			       errno == EBUSY ? " (the cgroup holds processes)" : "");
	}
}

/* Bits of the v2 controllers named in dir/cgroup.controllers. */
static unsigned
cg_v2_bits(const char *dir)
{
	char have[512];
	unsigned bits = 0;
	int i;
	if (cg_read(dir, "cgroup.controllers", have, sizeof have) < 0)
		return 0;
	for (i = 0; i < CG_NCTL; i++)
		if (cg_v2name[i] && cg_has_word(have, cg_v2name[i], " \n"))
			bits |= CG_BIT(i);
	return bits;
}

/* Whether failing to create or write in a cgroup means "not ours to use" (a warning) rather than a
 * real error. */
static int
cg_denied(int err, int rootless)
{
	return err == EROFS || (rootless && (err == EACCES || err == EPERM));
}

/* Where dock's directory goes in h (see the header): its top, or rootless our own cgroup. */
static int
cg_base(const struct cg_hier *h, int rootless, char *out)
{
	int n;
	if (!rootless)
		n = snprintf(out, CG_PATH, "%s", h->mnt);
	else if (!h->own[0])
		return -1;
	else
		n = snprintf(out, CG_PATH, "%s%s", h->mnt, strcmp(h->own, "/") ? h->own : "");
	return n < 0 || n >= CG_PATH ? -1 : 0;
}

static const char *
cg_kind(const struct cg_hier *h)
{
	static const char *const v1desc[CG_NCTL] = {
		"cgroup v1 memory", "cgroup v1 cpu", "cgroup v1 cpuacct", "cgroup v1 cpuset",
		"cgroup v1 pids", "cgroup v1 blkio", "cgroup v1 freezer", "cgroup v1 devices",
	};
	int b;
	if (h->v2)
		return "cgroup v2";
	for (b = 0; b < CG_NCTL && !(h->ctl & CG_BIT(b)); b++)
		;
	return b < CG_NCTL ? v1desc[b] : "cgroup v1";
}

/* Make the container's cgroup in h.  0 made (h->dir set), 1 not ours to make (reasons in c->why),
 * -1 a real error. */
static int
cg_make(struct cg *c, struct cg_hier *h, int rootless, struct err *e)
{
	char base[CG_PATH], parent[CG_PATH], leaf[CG_PATH];
	int attempt;
	unsigned bits = h->v2 ? CG_ALL & ~cg_v1_bits(c) : h->ctl;
	if (cg_base(h, rootless, base) < 0) {
		cg_why(c, bits, "%s: our own cgroup is not visible under %s", cg_kind(h), h->mnt);
		return 1;
	}
	if (cg_join(parent, base, "dock") < 0 || cg_join(leaf, parent, c->id) < 0)
		return err_set(e, ERR_LIMIT, "cgroup: path too long under %s", base);
	/* ENOENT below means another dock removed an empty "dock" between our steps: start over */
	for (attempt = 0;; attempt++) {
		if (attempt == 5) {
			errno = ENOENT;
			return err_sys(e, "cgroup: mkdir %s", leaf);
		}
		if (h->v2)
			cg_v2_enable(c, base);
		if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
			if (cg_denied(errno, rootless)) {
				cg_why(c, bits, "%s: cannot create %s: %s%s", cg_kind(h), parent, strerror(errno),
				       rootless ? " (rootless, and this cgroup is not delegated)" : "");
				return 1;
			}
			return err_sys(e, "cgroup: mkdir %s", parent);
		}
		if (!h->v2 && (h->ctl & CG_BIT(CG_CPUSET)) && cg_cpuset_copy(base, parent) < 0) {
			if (errno == ENOENT)
				continue;
			return err_sys(e, "cgroup: set up cpuset of %s", parent);
		}
		if (h->v2)
			cg_v2_enable(c, parent);
		if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
			if (errno == ENOENT)
				continue;
			if (cg_denied(errno, rootless)) {
				cg_why(c, bits, "%s: cannot create %s: %s", cg_kind(h), leaf, strerror(errno));
				return 1;
			}
			return err_sys(e, "cgroup: mkdir %s", leaf);
		}
		break;
	}
	strcpy(h->dir, leaf);
	if (!h->v2 && (h->ctl & CG_BIT(CG_CPUSET)) && cg_cpuset_copy(parent, leaf) < 0)
		return err_sys(e, "cgroup: set up cpuset of %s", leaf);
	if (h->v2) {
		h->ctl = cg_v2_bits(leaf);
		cg_why(c, CG_ALL & ~h->ctl & ~cg_v1_bits(c), "not enabled for %s (not in %s/cgroup.controllers)",
		       leaf, parent);
	}
	return 0;
}

/* ---------------------------------------------------------------- applying limits */

static struct cg_hier *
cg_with(struct cg *c, int ctl)
{
	size_t i;
	for (i = 0; i < c->nh; i++)
		if (c->h[i].dir[0] && (c->h[i].ctl & CG_BIT(ctl)))
			return &c->h[i];
	return NULL;
}

static struct cg_hier *
cg_v2(struct cg *c)
{
	size_t i;
	for (i = 0; i < c->nh; i++)
		if (c->h[i].dir[0] && c->h[i].v2)
			return &c->h[i];
	return NULL;
}

struct cg_apply {
	struct cg *c;
	int rootless;
	void (*warn)(const char *);
	struct err *e;
};

static void
cg_warnf(struct cg_apply *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
cg_warnf(struct cg_apply *a, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!a->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	a->warn(msg);
}

/* Write one limit.  A missing file or a refusal we cannot help (rootless) is a warning naming the
 * limit; anything else (a bad value) is an error.  0 done or warned, -1 error. */
static int
cg_set(struct cg_apply *a, const struct cg_hier *h, const char *file, const char *val,
       const char *what)
{
	if (cg_write(h->dir, file, val) == 0)
		return 0;
	if (errno == ENOENT) {
		cg_warnf(a, "%s cannot apply: %s/%s does not exist", what, h->dir, file);
		return 0;
	}
	if (cg_denied(errno, a->rootless)) {
		cg_warnf(a, "%s cannot apply: %s/%s: %s", what, h->dir, file, strerror(errno));
		return 0;
	}
	return err_sys(a->e, "cgroup: %s: write \"%s\" to %s/%s", what, val, h->dir, file);
}

/* The hierarchy for a limit, or NULL after warning why it cannot apply. */
static struct cg_hier *
cg_need(struct cg_apply *a, int ctl, const char *what)
{
	struct cg_hier *h = cg_with(a->c, ctl);
	if (!h)
		cg_warnf(a, "%s cannot apply: %s", what,
			 a->c->why[ctl][0] ? a->c->why[ctl] : "no such controller is mounted");
	return h;
}

static int
cg_file_exists(const struct cg_hier *h, const char *file)
{
	char path[CG_PATH];
	return cg_join(path, h->dir, file) == 0 && access(path, F_OK) == 0;
}

/* runc's mapping of v1 cpu.shares (2..262144) onto v2 cpu.weight (1..10000). */
static uint64_t
cg_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int
cg_apply_memory(struct cg_apply *a, const struct cg_limits *l)
{
	struct cg_hier *h;
	char v[64];
	int64_t total = -1; /* memory plus swap, -1 unlimited; Docker's default is twice the memory */
	if (l->memory_swap > 0)
		total = l->memory_swap;
	else if (l->memory > 0 && !l->memory_swap)
		total = 2 * l->memory;
	if (l->memory <= 0 && l->memory_reservation <= 0)
		return 0;
	if (!(h = cg_need(a, CG_MEMORY, "memory limit")))
		return 0;
	if (!h->v2) {
		if (l->memory > 0) {
			snprintf(v, sizeof v, "%lld", (long long)l->memory);
			if (cg_set(a, h, "memory.limit_in_bytes", v, "memory limit") < 0)
				return -1;
			if (!cg_file_exists(h, "memory.memsw.limit_in_bytes")) {
				if (l->memory_swap != -1)
					cg_warnf(a, "swap limit cannot apply (no swap accounting in this kernel): "
					    "memory limited without swap");
			} else if (total > 0) {
				snprintf(v, sizeof v, "%lld", (long long)total);
				if (cg_set(a, h, "memory.memsw.limit_in_bytes", v, "swap limit") < 0)
					return -1;
			}
		}
		if (l->memory_reservation > 0) {
			snprintf(v, sizeof v, "%lld", (long long)l->memory_reservation);
			if (cg_set(a, h, "memory.soft_limit_in_bytes", v, "memory reservation") < 0)
				return -1;
		}
		return 0;
	}
	if (l->memory > 0) {
		snprintf(v, sizeof v, "%lld", (long long)l->memory);
		if (cg_set(a, h, "memory.max", v, "memory limit") < 0)
			return -1;
		if (!cg_file_exists(h, "memory.swap.max")) {
			if (l->memory_swap != -1)
				cg_warnf(a, "swap limit cannot apply (no swap accounting in this kernel): "
					    "memory limited without swap");
		} else {
			if (total > 0)
				snprintf(v, sizeof v, "%lld", (long long)(total - l->memory));
			else
				snprintf(v, sizeof v, "max");
			if (cg_set(a, h, "memory.swap.max", v, "swap limit") < 0)
				return -1;
		}
	}
	if (l->memory_reservation > 0) {
		snprintf(v, sizeof v, "%lld", (long long)l->memory_reservation);
		if (cg_set(a, h, "memory.low", v, "memory reservation") < 0)
			return -1;
	}
	return 0;
}

static int
cg_apply_cpu(struct cg_apply *a, const struct cg_limits *l)
{
	struct cg_hier *h;
	char v[64];
	if ((l->cpu_quota > 0 || l->cpu_period > 0 || l->cpu_shares) &&
	    (h = cg_need(a, CG_CPU, "CPU limit"))) {
		if (!h->v2) {
			/* the period first: a quota is checked against the period in force */
			snprintf(v, sizeof v, "%lld", (long long)l->cpu_period);
			if (l->cpu_period > 0 && cg_set(a, h, "cpu.cfs_period_us", v, "CPU period") < 0)
				return -1;
			snprintf(v, sizeof v, "%lld", (long long)l->cpu_quota);
			if (l->cpu_quota > 0 && cg_set(a, h, "cpu.cfs_quota_us", v, "CPU quota") < 0)
				return -1;
			snprintf(v, sizeof v, "%llu", (unsigned long long)l->cpu_shares);
			if (l->cpu_shares && cg_set(a, h, "cpu.shares", v, "CPU shares") < 0)
				return -1;
		} else {
			if (l->cpu_quota > 0 || l->cpu_period > 0) {
				char q[32];
				snprintf(q, sizeof q, "%lld", (long long)l->cpu_quota);
				snprintf(v, sizeof v, "%s %lld", l->cpu_quota > 0 ? q : "max",
					 (long long)(l->cpu_period > 0 ? l->cpu_period : 100000));
				if (cg_set(a, h, "cpu.max", v, "CPU quota") < 0)
					return -1;
			}
			snprintf(v, sizeof v, "%llu", (unsigned long long)cg_shares_to_weight(l->cpu_shares));
			if (l->cpu_shares && cg_set(a, h, "cpu.weight", v, "CPU shares") < 0)
				return -1;
		}
	}
	if (l->cpuset_cpus[0] && (h = cg_need(a, CG_CPUSET, "cpuset")) &&
	    cg_set(a, h, "cpuset.cpus", l->cpuset_cpus, "cpuset") < 0)
		return -1;
	return 0;
}

static int
cg_apply_io(struct cg_apply *a, const struct cg_limits *l)
{
	struct cg_hier *h;
	char v[96];
	size_t i;
	if (!l->blkio_weight && !l->ndev_bps)
		return 0;
	if (!(h = cg_need(a, CG_BLKIO, "block I/O limit")))
		return 0;
	if (l->blkio_weight) {
		/* BFQ has its own file (same 1..1000 range as blkio.weight); CFQ's is gone since 5.0 */
		const char *bfq = h->v2 ? "io.bfq.weight" : "blkio.bfq.weight";
		if (cg_file_exists(h, bfq))
			snprintf(v, sizeof v, "%u", (unsigned)l->blkio_weight);
		else if (h->v2)
			snprintf(v, sizeof v, "default %u", 1 + ((unsigned)l->blkio_weight - 10) * 9999 / 990);
		else
			snprintf(v, sizeof v, "%u", (unsigned)l->blkio_weight);
		if (cg_set(a, h, cg_file_exists(h, bfq) ? bfq : h->v2 ? "io.weight" : "blkio.weight", v,
			   "block I/O weight") < 0)
			return -1;
	}
	for (i = 0; i < l->ndev_bps; i++) {
		const char *file;
		if (h->v2) {
			snprintf(v, sizeof v, "%u:%u %s=%llu", l->dev_bps[i].major, l->dev_bps[i].minor,
				 l->dev_bps[i].write ? "wbps" : "rbps", (unsigned long long)l->dev_bps[i].bps);
			file = "io.max";
		} else {
			snprintf(v, sizeof v, "%u:%u %llu", l->dev_bps[i].major, l->dev_bps[i].minor,
				 (unsigned long long)l->dev_bps[i].bps);
			file = l->dev_bps[i].write ? "blkio.throttle.write_bps_device"
						   : "blkio.throttle.read_bps_device";
		}
		if (cg_set(a, h, file, v, l->dev_bps[i].write ? "device write rate" : "device read rate") < 0)
			return -1;
	}
	return 0;
}

static int cg_apply_devices(struct cg_apply *a, const struct cg_limits *l);

static int
cg_apply(struct cg_apply *a, const struct cg_limits *l)
{
	struct cg_hier *h;
	char v[32];
	if (cg_apply_memory(a, l) < 0 || cg_apply_cpu(a, l) < 0 || cg_apply_io(a, l) < 0)
		return -1;
	if (l->pids_limit > 0 && (h = cg_need(a, CG_PIDS, "PIDs limit"))) {
		snprintf(v, sizeof v, "%lld", (long long)l->pids_limit);
		if (cg_set(a, h, "pids.max", v, "PIDs limit") < 0)
			return -1;
	}
	return cg_apply_devices(a, l);
}

/* ---------------------------------------------------------------- devices */

#define D(t, maj, min, acc) {t, maj, min, acc, 1}
const struct cg_dev_rule cg_dev_default[] = {
	D('c', -1, -1, CG_DEV_M),        D('b', -1, -1, CG_DEV_M),        /* mknod of any node */
	D('c', 1, 3, CG_DEV_RWM),        D('c', 1, 8, CG_DEV_RWM),        /* null, random */
	D('c', 1, 7, CG_DEV_RWM),        D('c', 5, 0, CG_DEV_RWM),        /* full, tty */
	D('c', 1, 5, CG_DEV_RWM),        D('c', 1, 9, CG_DEV_RWM),        /* zero, urandom */
	D('c', 5, 1, CG_DEV_RWM),        D('c', 136, -1, CG_DEV_RWM),     /* console, pts/N */
	D('c', 5, 2, CG_DEV_RWM),        D('c', 10, 200, CG_DEV_RWM),     /* ptmx, net/tun */
};
#undef D
const size_t cg_dev_ndefault = sizeof cg_dev_default / sizeof *cg_dev_default;

int
cg_dev_access(const char *s)
{
	int a = 0, bit;
	if (!*s)
		return -1;
	for (; *s; s++) {
		bit = *s == 'r' ? CG_DEV_R : *s == 'w' ? CG_DEV_W : *s == 'm' ? CG_DEV_M : 0;
		if (!bit || (a & bit))
			return -1;
		a |= bit;
	}
	return a;
}

#define CG_DEV_MAX (2 + sizeof cg_dev_default / sizeof *cg_dev_default + 16)

/* The whole rule list for l, in order (a later rule overrides an earlier one it overlaps): deny
 * all, then Docker's list, then --device's; or allow all.  How many. */
static size_t
cg_dev_rules(const struct cg_limits *l, struct cg_dev_rule *out)
{
	size_t n = 0, i;
	out[n++] = (struct cg_dev_rule){'a', -1, -1, CG_DEV_RWM, (uint8_t)(l->devices_all != 0)};
	if (l->devices_all)
		return n;
	for (i = 0; i < cg_dev_ndefault; i++)
		out[n++] = cg_dev_default[i];
	for (i = 0; i < l->ndevices && i < sizeof l->devices / sizeof *l->devices; i++)
		out[n++] = l->devices[i];
	return n;
}

/* A rule as devices.allow and devices.deny take it: "c 1:3 rwm", "a". */
static void
cg_dev_str(const struct cg_dev_rule *r, char *out, size_t n)
{
	char maj[16], min[16], acc[4];
	size_t k = 0;
	if (r->type == 'a') {
		snprintf(out, n, "a");
		return;
	}
	snprintf(maj, sizeof maj, r->major < 0 ? "*" : "%d", (int)r->major);
	snprintf(min, sizeof min, r->minor < 0 ? "*" : "%d", (int)r->minor);
	if (r->access & CG_DEV_R)
		acc[k++] = 'r';
	if (r->access & CG_DEV_W)
		acc[k++] = 'w';
	if (r->access & CG_DEV_M)
		acc[k++] = 'm';
	acc[k] = 0;
	snprintf(out, n, "%c %s:%s %s", r->type, maj, min, acc);
}

/* Assemble the BPF_CGROUP_DEVICE program for rules: the context (struct bpf_cgroup_dev_ctx) holds
 * access_type (access << 16 | type), major and minor; the rules are tried last to first, the first
 * that matches gives the verdict (1 allow, 0 deny), none matching denies.  A rule matches when its
 * type is the device's (or 'a'), it grants every access asked for, and its major and minor are the
 * device's (or -1).  A rule with no condition ends the program: the verifier refuses code that
 * cannot be reached.  Returns the number of instructions, or -1 if max is too small. */
static int
cg_dev_prog(const struct cg_dev_rule *rules, size_t n, struct bpf_insn *out, size_t max)
{
	size_t pc = 0, i;
#define I(c, d, s_, o, im)                                                                      \
	do {                                                                                    \
		if (pc == max)                                                                  \
			return -1;                                                              \
		memset(&out[pc], 0, sizeof out[pc]);                                            \
		out[pc].code = (c);                                                             \
		out[pc].dst_reg = (d);                                                          \
		out[pc].src_reg = (s_);                                                         \
		out[pc].off = (int16_t)(o);                                                     \
		out[pc].imm = (int32_t)(im);                                                    \
		pc++;                                                                           \
	} while (0)
	/* r2 type, r3 access, r4 major, r5 minor */
	I(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
	I(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
	I(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
	I(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);
	I(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
	I(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
	for (i = n; i-- > 0;) {
		const struct cg_dev_rule *r = &rules[i];
		size_t has_type = r->type != 'a', has_acc = (r->access & CG_DEV_RWM) != CG_DEV_RWM;
		size_t has_maj = r->type != 'a' && r->major >= 0, has_min = r->type != 'a' && r->minor >= 0;
		size_t len = has_type + 3 * has_acc + has_maj + has_min + 2, end = pc + len;
		if (has_type)
			I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, end - pc - 1,
			  r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
		if (has_acc) {
			/* access asked for outside the rule's: r1 = r3 & ~access must be 0 */
			I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0);
			I(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, ~(int32_t)r->access);
			I(BPF_JMP | BPF_JNE | BPF_K, 1, 0, end - pc - 1, 0);
		}
		if (has_maj)
			I(BPF_JMP | BPF_JNE | BPF_K, 4, 0, end - pc - 1, r->major);
		if (has_min)
			I(BPF_JMP | BPF_JNE | BPF_K, 5, 0, end - pc - 1, r->minor);
		I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		if (len == 2)
			return (int)pc; /* matches everything: nothing after it could run */
	}
	I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef I
	return (int)pc;
}

/* Load prog and attach it to the v2 directory dir.  BPF_F_ALLOW_MULTI: what the container may
 * attach below (nested containers) runs as well, and cannot lift ours. */
static int
cg_dev_attach_bpf(const char *dir, const struct bpf_insn *prog, size_t n, struct err *e)
{
	static char log[8192];
	union bpf_attr a;
	int pfd, dfd, r, sv;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	memcpy(a.prog_name, "dock_devices", 13);
	pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
	if (pfd < 0 && errno == EINVAL) {
		/* again with the verifier's log, for the error message */
		sv = errno;
		log[0] = 0;
		a.log_level = 1;
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = sizeof log;
		pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
		if (pfd < 0) {
			errno = sv;
			log[strcspn(log, "\n")] = 0;
			return err_sys(e, "cgroup: load the device filter (BPF_PROG_LOAD%s%s)", log[0] ? ": " : "",
				       log);
		}
	}
	if (pfd < 0)
		return err_sys(e, "cgroup: load the device filter (BPF_PROG_LOAD)");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		sv = errno;
		close(pfd);
		errno = sv;
		return err_sys(e, "cgroup: open %s", dir);
	}
	memset(&a, 0, sizeof a);
	a.target_fd = (uint32_t)dfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a);
	sv = errno;
	close(dfd);
	close(pfd); /* the cgroup holds the program now */
	errno = sv;
	if (r < 0)
		return err_sys(e, "cgroup: attach the device filter to %s (BPF_PROG_ATTACH)", dir);
	return 0;
}

/* Whether we run in a user namespace other than the host's (uid_map is not the identity). */
static int
cg_in_userns(void)
{
	char b[256];
	unsigned long inside, outside, count;
	if (cg_read("/proc/self", "uid_map", b, sizeof b) <= 0)
		return 0;
	return sscanf(b, "%lu %lu %lu", &inside, &outside, &count) != 3 || inside || outside ||
	       count != 4294967295UL || strchr(b, '\n') != strrchr(b, '\n');
}

/* Tests swap this for one that keeps the program (fake trees are not cgroupfs). */
static int (*cg_dev_attach)(const char *dir, const struct bpf_insn *prog, size_t n,
			    struct err *e) = cg_dev_attach_bpf;

static int
cg_apply_devices(struct cg_apply *a, const struct cg_limits *l)
{
	struct cg_dev_rule rules[CG_DEV_MAX];
	struct bpf_insn prog[CG_DEV_MAX * 8 + 8];
	struct cg_hier *h;
	size_t n, i;
	int len;
	char v[64];
	if (a->rootless)
		return 0; /* see the header */
	n = cg_dev_rules(l, rules);
	if ((h = cg_with(a->c, CG_DEVICES))) {
		for (i = 0; i < n; i++) {
			const char *file = rules[i].allow ? "devices.allow" : "devices.deny";
			cg_dev_str(&rules[i], v, sizeof v);
			if (cg_write(h->dir, file, v) == 0)
				continue;
			/* an allow the cgroup above refuses (dock nested in a restricted container) only
			 * leaves the container with less: said, not fatal */
			if (rules[i].allow && errno == EPERM) {
				cg_warnf(a, "device rule \"%s\" cannot apply: %s/devices.allow: %s (the cgroup "
					    "above does not allow it)", v, h->dir, strerror(errno));
				continue;
			}
			if (cg_set(a, h, file, v, "device access rule") < 0)
				return -1;
		}
		return 0;
	}
	if (!(h = cg_v2(a->c))) {
		if (!l->devices_all)
			cg_warnf(a, "device access cannot be restricted (no devices controller and no cgroup "
				    "v2): the container can open any device node it makes");
		return 0;
	}
	if (l->devices_all)
		return 0; /* no program: a new v2 cgroup allows every device */
	len = cg_dev_prog(rules, n, prog, sizeof prog / sizeof *prog);
	if (len < 0)
		return err_set(a->e, ERR_LIMIT, "cgroup: too many device rules");
	if (cg_dev_attach(h->dir, prog, (size_t)len, a->e) == 0)
		return 0;
	if (a->e->sys == EPERM && cg_in_userns()) {
		/* root of a user namespace (an unprivileged LXC container): no BPF, but no mknod either */
		cg_warnf(a, "device filter cannot apply: %s (in a user namespace, where device nodes "
			    "cannot be made anyway)", a->e->msg);
		return 0;
	}
	return -1;
}

/* Docker's own checks, with its words. */
static int
cg_check_limits(const struct cg_limits *l, struct err *e)
{
	if (l->memory > 0 && l->memory < 6 * 1024 * 1024)
		return err_set(e, ERR_USAGE, "Minimum memory limit allowed is 6MB");
	if (l->memory_swap > 0 && l->memory <= 0)
		return err_set(e, ERR_USAGE, "You should always set the Memory limit when using Memoryswap limit");
	if (l->memory_swap > 0 && l->memory_swap < l->memory)
		return err_set(e, ERR_USAGE, "Minimum memoryswap limit should be larger than memory limit");
	if (l->memory > 0 && l->memory_reservation > l->memory)
		return err_set(e, ERR_USAGE, "Minimum memory limit can not be less than memory reservation limit");
	if (l->cpu_period > 0 && (l->cpu_period < 1000 || l->cpu_period > 1000000))
		return err_set(e, ERR_USAGE, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
					     "than 1s (i.e. 1000000)");
	if (l->cpu_quota > 0 && l->cpu_quota < 1000)
		return err_set(e, ERR_USAGE, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	if (l->blkio_weight && (l->blkio_weight < 10 || l->blkio_weight > 1000))
		return err_set(e, ERR_USAGE, "Range of blkio weight is from 10 to 1000");
	if (l->ndev_bps > sizeof l->dev_bps / sizeof l->dev_bps[0])
		return err_set(e, ERR_USAGE, "too many device rate limits");
	if (strnlen(l->cpuset_cpus, sizeof l->cpuset_cpus) == sizeof l->cpuset_cpus)
		return err_set(e, ERR_USAGE, "cpuset: list too long");
	return 0;
}

static int
cg_limits_any(const struct cg_limits *l)
{
	return l->memory > 0 || l->memory_swap > 0 || l->memory_reservation > 0 || l->cpu_quota > 0 ||
	       l->cpu_period > 0 || l->cpu_shares || l->cpuset_cpus[0] || l->pids_limit > 0 ||
	       l->blkio_weight || l->ndev_bps;
}

void
cg_limits_init(struct cg_limits *l)
{
	memset(l, 0, sizeof *l);
	l->memory = l->memory_reservation = -1;
	l->cpu_quota = l->cpu_period = -1;
	l->pids_limit = -1;
}

/* ---------------------------------------------------------------- create, open, destroy */

/* Remove the container's directories, then "dock" if that was its last one.  EBUSY is retried for
 * a while: the last processes may still be on their way out. */
static int
cg_remove(struct cg *c, int wait_ms, struct err *e)
{
	size_t i;
	int rc = 0;
	for (i = 0; i < c->nh; i++) {
		struct cg_hier *h = &c->h[i];
		int waited = 0, gone;
		char *slash;
		if (!h->dir[0])
			continue;
		while (!(gone = (rmdir(h->dir) == 0 || errno == ENOENT)) && errno == EBUSY && waited < wait_ms) {
			cg_sleep_ms(10);
			waited += 10;
		}
		if (!gone) {
			if (!rc)
				err_sys(e, "cgroup: remove %s", h->dir);
			rc = -1;
			continue; /* kept, so that the caller may try again */
		}
		if ((slash = strrchr(h->dir, '/'))) {
			*slash = 0;
			rmdir(h->dir); /* "dock": busy while other containers live, and then it stays */
		}
		h->dir[0] = 0;
	}
	return rc;
}

struct cg *
cg_create(const char *id, const struct cg_limits *l, int rootless, void (*warnfn)(const char *),
	  struct err *e)
{
	struct cg *c;
	struct cg_apply a;
	struct err e2;
	size_t i;
	if (!cg_id_valid(id)) {
		err_set(e, ERR_USAGE, "cgroup: invalid container id \"%.64s\"", id);
		return NULL;
	}
	if (cg_check_limits(l, e) < 0)
		return NULL;
	if (!(c = calloc(1, sizeof *c))) {
		err_sys(e, "cgroup");
		return NULL;
	}
	snprintf(c->id, sizeof c->id, "%s", id);
	if (cg_scan(c, e) < 0) {
		free(c);
		return NULL;
	}
	a.c = c;
	a.rootless = rootless;
	a.warn = warnfn;
	a.e = e;
	if (!c->nh) {
		if (cg_limits_any(l))
			cg_warnf(&a, "no cgroups mounted: limits cannot apply");
		if (cg_apply_devices(&a, l) < 0) {
			free(c);
			return NULL;
		}
		return c;
	}
	for (i = 0; i < c->nh; i++) {
		if (cg_make(c, &c->h[i], rootless, e) < 0)
			goto fail;
	}
	if (cg_apply(&a, l) < 0)
		goto fail;
	return c;
fail:
	cg_remove(c, 0, &e2);
	free(c);
	return NULL;
}

struct cg *
cg_open(const char *id, struct err *e)
{
	struct cg *c;
	size_t i, found = 0;
	if (!cg_id_valid(id)) {
		err_set(e, ERR_USAGE, "cgroup: invalid container id \"%.64s\"", id);
		return NULL;
	}
	if (!(c = calloc(1, sizeof *c))) {
		err_sys(e, "cgroup");
		return NULL;
	}
	snprintf(c->id, sizeof c->id, "%s", id);
	if (cg_scan(c, e) < 0) {
		free(c);
		return NULL;
	}
	for (i = 0; i < c->nh; i++) {
		struct cg_hier *h = &c->h[i];
		int rootless;
		/* root's place first, then a rootless container's below our own cgroup */
		for (rootless = 0; rootless < 2 && !h->dir[0]; rootless++) {
			char base[CG_PATH], dir[CG_PATH];
			struct stat st;
			if (cg_base(h, rootless, base) < 0 ||
			    snprintf(dir, sizeof dir, "%s/dock/%s", base, id) >= CG_PATH)
				continue;
			if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
				strcpy(h->dir, dir);
		}
		if (h->dir[0] && h->v2)
			h->ctl = cg_v2_bits(h->dir);
		found += h->dir[0] != 0;
	}
	if (!found) {
		free(c);
		err_set(e, ERR_NOTFOUND, "no cgroup for container %s", id);
		return NULL;
	}
	return c;
}

int
cg_destroy(struct cg *c, struct err *e)
{
	return cg_remove(c, 2000, e);
}

int
cg_remove_id(const char *id, struct err *e)
{
	struct cg *c = cg_open(id, e);
	int r;
	if (!c)
		return e->code == ERR_NOTFOUND ? 0 : -1;
	r = cg_kill_all(c, SIGKILL, e);
	if (r == 0)
		r = cg_destroy(c, e);
	cg_free(c);
	return r;
}

void
cg_free(struct cg *c)
{
	free(c);
}

const char *
cg_path(const struct cg *c, const char *controller)
{
	size_t i;
	int b;
	for (i = 0; i < c->nh; i++) {
		const struct cg_hier *h = &c->h[i];
		if (!h->dir[0])
			continue;
		if (!controller || !controller[0]) {
			if (h->v2)
				return h->dir;
			continue;
		}
		for (b = 0; b < CG_NCTL; b++)
			if ((h->ctl & CG_BIT(b)) &&
			    !strcmp(controller, h->v2 && cg_v2name[b] ? cg_v2name[b] : cg_v1name[b]))
				return h->dir;
	}
	return NULL;
}

/* ---------------------------------------------------------------- processes */

int
cg_enter(struct cg *c, pid_t pid, struct err *e)
{
	char v[32];
	size_t i;
	snprintf(v, sizeof v, "%ld", (long)pid);
	for (i = 0; i < c->nh; i++)
		if (c->h[i].dir[0] && cg_write(c->h[i].dir, "cgroup.procs", v) < 0)
			return err_sys(e, "cgroup: move %ld into %s", (long)pid, c->h[i].dir);
	return 0;
}

/* Moving another process (a PID into cgroup.procs) write-locks the kernel's global threadgroup
 * rwsem, and the first writer after a quiet spell waits out an RCU grace period: 5-14 ms here,
 * once per container.  Two ways in do without it: a process born in its v2 cgroup (clone3 with
 * CLONE_INTO_CGROUP, Linux 5.7: the fork only read-locks it), and a single thread moving itself
 * through a v1 "tasks" file ("0": recent kernels skip the lock when the thread is current and
 * moves alone; 0.1 ms against 10 on this project's 6.x machines, and no worse where they do
 * not).  The new process is one thread until it execs, so moving that thread moves it.  The files
 * are opened here, by the parent: the open is what the kernel checks permissions against, and the
 * child may already be in a user namespace of its own. */
_Static_assert(CG_MAXH <= sizeof ((struct cg_join *)0)->fd / sizeof(int), "cg_join too small");

void
cg_join_open(struct cg *c, struct cg_join *j)
{
	char path[CG_PATH];
	size_t i;
	memset(j, 0, sizeof *j);
	j->v2fd = -1;
	j->n = c->nh;
	for (i = 0; i < c->nh; i++) {
		struct cg_hier *h = &c->h[i];
		j->fd[i] = -1;
		j->dir[i] = h->dir;
		if (!h->dir[0])
			continue;
		if (h->v2) {
			j->v2fd = open(h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
			continue;
		}
		if (cg_join(path, h->dir, "tasks") == 0)
			j->fd[i] = open(path, O_WRONLY | O_CLOEXEC);
		if (j->fd[i] >= 0)
			j->self |= 1u << i; /* else cg_join_finish moves it, as cg_enter would */
	}
}

int
cg_join_finish(struct cg *c, const struct cg_join *j, pid_t pid, struct err *e)
{
	char v[32];
	size_t i;
	snprintf(v, sizeof v, "%ld", (long)pid);
	for (i = 0; i < c->nh; i++) {
		struct cg_hier *h = &c->h[i];
		if (!h->dir[0] || (h->v2 ? j->v2_done != 0 : ((j->self >> i) & 1) != 0))
			continue;
		if (cg_write(h->dir, "cgroup.procs", v) < 0)
			return err_sys(e, "cgroup: move %ld into %s", (long)pid, h->dir);
	}
	return 0;
}

void
cg_join_close(struct cg_join *j)
{
	size_t i;
	for (i = 0; i < j->n; i++) {
		if (j->fd[i] >= 0)
			close(j->fd[i]);
		j->fd[i] = -1;
	}
	if (j->v2fd >= 0)
		close(j->v2fd);
	j->v2fd = -1;
}

/* Where to list the processes: v2 if we have it (it sees every process), else any v1 directory. */
static struct cg_hier *
cg_procs_hier(struct cg *c)
{
	struct cg_hier *h = cg_v2(c);
	size_t i;
	for (i = 0; !h && i < c->nh; i++)
		if (c->h[i].dir[0])
			h = &c->h[i];
	return h;
}

/* Send sig (0: none) to each ID listed in h's file (cgroup.procs, tasks, cgroup.threads), read a
 * block at a time.  How many were listed, or -1 with errno set. */
static long
cg_each_pid(const struct cg_hier *h, const char *file, int sig)
{
	char path[CG_PATH], b[4096];
	long n = 0, pid = 0;
	int fd, in = 0;
	ssize_t r, i;
	if (cg_join(path, h->dir, file) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		r = read(fd, b, sizeof b);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int sv = errno;
			close(fd);
			errno = sv;
			return -1;
		}
		for (i = 0; i < r || (r == 0 && in); i++) {
			if (i < r && b[i] >= '0' && b[i] <= '9') {
				pid = pid * 10 + (b[i] - '0');
				in = 1;
				continue;
			}
			if (in && pid > 0) {
				if (sig)
					kill((pid_t)pid, sig);
				n++;
			}
			pid = 0;
			in = 0;
			if (r == 0)
				break;
		}
		if (r == 0)
			break;
	}
	close(fd);
	return n;
}

static int
cg_freeze_wait(struct cg *c, int frozen, int timeout_ms, struct err *e)
{
	struct cg_hier *h = cg_with(c, CG_FREEZER), *v2 = cg_v2(c);
	char st[128];
	int waited = 0;
	if (h) {
		const char *want = frozen ? "FROZEN" : "THAWED";
		for (;;) {
			/* written again each round: tasks that were busy forking can slip past one pass */
			if (cg_write(h->dir, "freezer.state", want) < 0)
				return err_sys(e, "cgroup: write %s to %s/freezer.state", want, h->dir);
			if (cg_read(h->dir, "freezer.state", st, sizeof st) < 0)
				return err_sys(e, "cgroup: read %s/freezer.state", h->dir);
			if (!strncmp(st, want, strlen(want)))
				return 0;
			if (waited >= timeout_ms)
				break;
			cg_sleep_ms(waited < 50 ? 1 : 10);
			waited += waited < 50 ? 1 : 10;
		}
	} else if (v2 && cg_file_exists(v2, "cgroup.freeze")) {
		const char *want = frozen ? "1" : "0";
		uint64_t now;
		if (cg_write(v2->dir, "cgroup.freeze", want) < 0)
			return err_sys(e, "cgroup: write %s to %s/cgroup.freeze", want, v2->dir);
		for (;;) {
			if (cg_read(v2->dir, "cgroup.events", st, sizeof st) < 0)
				return err_sys(e, "cgroup: read %s/cgroup.events", v2->dir);
			if (cg_keyval(st, "frozen", &now) == 0 && now == (uint64_t)frozen)
				return 0;
			if (waited >= timeout_ms)
				break;
			cg_sleep_ms(waited < 50 ? 1 : 10);
			waited += waited < 50 ? 1 : 10;
		}
	} else {
		errno = EOPNOTSUPP;
		return err_sys(e, "cgroup: cannot %s: no v1 freezer and no cgroup v2 mounted",
			       frozen ? "pause" : "unpause");
	}
	if (frozen)
		cg_freeze_wait(c, 0, 100, e);
	errno = ETIMEDOUT;
	return err_sys(e, "cgroup: %s did not complete in %d ms", frozen ? "freezing" : "thawing",
		       timeout_ms);
}

int
cg_freeze(struct cg *c, int frozen, struct err *e)
{
	return cg_freeze_wait(c, frozen, CG_TIMEOUT_MS, e);
}

int
cg_kill_all(struct cg *c, int sig, struct err *e)
{
	struct cg_hier *h = cg_procs_hier(c), *v2 = cg_v2(c);
	struct err e2;
	int waited = 0;
	if (!h) {
		errno = EOPNOTSUPP;
		return err_sys(e, "cgroup: cannot kill the container's processes: it has no cgroup");
	}
	if (sig == SIGKILL && v2 && !cg_no_kill_file && cg_write(v2->dir, "cgroup.kill", "1") == 0)
		sig = 0; /* killed: now only wait for them to be gone */
	for (;;) {
		/* frozen, nothing can fork a new process past the list we read */
		int frozen = sig && cg_freeze_wait(c, 1, 1000, &e2) == 0;
		long n = cg_each_pid(h, "cgroup.procs", sig);
		if (frozen)
			cg_freeze_wait(c, 0, 1000, &e2);
		if (n < 0)
			return err_sys(e, "cgroup: list %s/cgroup.procs", h->dir);
		if (sig != SIGKILL && sig != 0)
			return 0;
		if (n == 0)
			return 0;
		if (waited >= CG_TIMEOUT_MS) {
			errno = ETIMEDOUT;
			return err_sys(e, "cgroup: %ld processes still in %s after %d ms", n, h->dir,
				       CG_TIMEOUT_MS);
		}
		cg_sleep_ms(5);
		waited += 5;
	}
}

/* ---------------------------------------------------------------- OOM and usage */

int
cg_oom_killed(struct cg *c)
{
	struct cg_hier *h = cg_with(c, CG_MEMORY);
	char b[1024];
	uint64_t n;
	if (!h)
		return 0;
	if (h->v2)
		return cg_read(h->dir, "memory.events", b, sizeof b) >= 0 &&
		       cg_keyval(b, "oom_kill", &n) == 0 && n > 0;
	if (cg_read(h->dir, "memory.oom_control", b, sizeof b) < 0)
		return 0;
	if (cg_keyval(b, "oom_kill", &n) == 0)
		return n > 0;
	/* before Linux 4.13 there is no count: being at the limit and out of memory is the sign */
	return (cg_keyval(b, "under_oom", &n) == 0 && n > 0) ||
	       (cg_read_u64(h->dir, "memory.failcnt", &n) == 0 && n > 0);
}

/* Bytes read and written in blkio.throttle.io_service_bytes ("8:0 Read 4096") or io.stat
 * ("8:0 rbytes=4096 wbytes=0 ..."), a line at a time. */
static int
cg_blk_bytes(const struct cg_hier *h, uint64_t *rd, uint64_t *wr)
{
	char path[CG_PATH], line[512];
	FILE *f;
	*rd = *wr = 0;
	if (cg_join(path, h->dir, h->v2 ? "io.stat" : "blkio.throttle.io_service_bytes_recursive") < 0)
		return -1;
	if (!(f = fopen(path, "re"))) {
		if (h->v2 || cg_join(path, h->dir, "blkio.throttle.io_service_bytes") < 0 ||
		    !(f = fopen(path, "re")))
			return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char op[16];
		unsigned long long v;
		const char *p;
		if (h->v2) {
			if ((p = strstr(line, " rbytes=")))
				*rd += strtoull(p + 8, NULL, 10);
			if ((p = strstr(line, " wbytes=")))
				*wr += strtoull(p + 8, NULL, 10);
		} else if (sscanf(line, "%*u:%*u %15s %llu", op, &v) == 2) {
			if (!strcmp(op, "Read"))
				*rd += v;
			else if (!strcmp(op, "Write"))
				*wr += v;
		}
	}
	fclose(f);
	return 0;
}

int
cg_stats(struct cg *c, struct cg_stats *s, struct err *e)
{
	struct cg_hier *h;
	char b[8192];
	uint64_t v, inactive;
	(void)e;
	memset(s, 0, sizeof *s);
	if ((h = cg_with(c, CG_CPUACCT)) && cg_read_u64(h->dir, "cpuacct.usage", &v) == 0) {
		s->cpu_ns = v;
		s->have |= CG_HAVE_CPU;
	} else if ((h = cg_v2(c)) && cg_read(h->dir, "cpu.stat", b, sizeof b) >= 0 &&
		   cg_keyval(b, "usage_usec", &v) == 0) {
		s->cpu_ns = v * 1000;
		s->have |= CG_HAVE_CPU;
	}
	if ((h = cg_with(c, CG_MEMORY)) &&
	    cg_read_u64(h->dir, h->v2 ? "memory.current" : "memory.usage_in_bytes", &v) == 0) {
		/* as docker stats: less the page cache that could be dropped */
		if (cg_read(h->dir, "memory.stat", b, sizeof b) >= 0 &&
		    cg_keyval(b, h->v2 ? "inactive_file" : "total_inactive_file", &inactive) == 0)
			v = inactive < v ? v - inactive : 0;
		s->mem_usage = v;
		if (cg_read_u64(h->dir, h->v2 ? "memory.max" : "memory.limit_in_bytes", &v) == 0)
			s->mem_limit = v;
		s->have |= CG_HAVE_MEM;
	}
	{
		/* unlimited reads as the host's memory, as in docker stats */
		struct sysinfo si;
		if (sysinfo(&si) == 0) {
			uint64_t ram = (uint64_t)si.totalram * si.mem_unit;
			if (!s->mem_limit || s->mem_limit > ram)
				s->mem_limit = ram;
		}
	}
	if ((h = cg_with(c, CG_PIDS)) && cg_read_u64(h->dir, "pids.current", &v) == 0) {
		s->pids = v;
		s->have |= CG_HAVE_PIDS;
	} else if ((h = cg_procs_hier(c))) {
		long n = cg_each_pid(h, h->v2 ? "cgroup.threads" : "tasks", 0);
		if (n >= 0) {
			s->pids = (uint64_t)n;
			s->have |= CG_HAVE_PIDS;
		}
	}
	if ((h = cg_with(c, CG_BLKIO)) && cg_blk_bytes(h, &s->blk_read, &s->blk_write) == 0)
		s->have |= CG_HAVE_BLKIO;
	return 0;
}
