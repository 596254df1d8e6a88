/* run.c: the container process.  Creates the namespaces, mounts the root filesystem (overlayfs of
 * the image's layers, or a private copy where overlayfs cannot be used), /proc, /sys, /dev, the
 * volumes and the per-container /etc files, enters the root (pivot_root, or MS_MOVE + chroot on an
 * initramfs), drops privileges and executes the command.  Owns the setup child: it reports a
 * failure as a fixed record over a close-on-exec pipe, and EOF on that pipe means exec succeeded.
 * Every path inside the container is resolved inside its root, never following a symlink out. */

#include <sched.h>
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <poll.h>
#include <termios.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/capability.h>

#ifndef MS_MOVE
#define MS_MOVE 8192
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#endif

struct run_open_how {
	uint64_t flags, mode, resolve;
};

/* ---------------------------------------------------------------- the error record */

struct run_fail {
	int stage;  /* RUN_STAGE_* */
	int sys;    /* errno */
	char msg[480];
};
enum { RUN_STAGE_SETUP = 1, RUN_STAGE_EXEC = 2 };

static int run_errfd = -1;
static int run_single_map; /* rootless, only root mapped: other IDs cannot be used */

static void __attribute__((noreturn, format(printf, 3, 4)))
run_fail(int stage, int sys, const char *fmt, ...)
{
	struct run_fail f;
	va_list ap;
	memset(&f, 0, sizeof f);
	f.stage = stage;
	f.sys = sys;
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof f.msg, fmt, ap);
	va_end(ap);
	if (sys && stage != RUN_STAGE_EXEC) { /* run_go words exec failures itself */
		size_t n = strlen(f.msg);
		snprintf(f.msg + n, sizeof f.msg - n, ": %s", strerror(sys));
	}
	if (write(run_errfd, &f, sizeof f) < 0)
		_exit(125);
	_exit(125);
}

#define run_check(cond, ...)                                  \
	do {                                                      \
		if (!(cond))                                          \
			run_fail(RUN_STAGE_SETUP, errno, __VA_ARGS__); \
	} while (0)

/* ---------------------------------------------------------------- paths inside the root */

/* Before Linux 5.6 (no openat2): a component walk that refuses symlinks and ".." altogether. */
int
run_walk(int rootfd, const char *path, int flags)
{
	char buf[4096], *p = buf;
	int cur = dup(rootfd);
	snprintf(buf, sizeof buf, "%s", path);
	while (cur >= 0) {
		char *slash;
		int nfd;
		while (*p == '/')
			p++;
		if (!*p) {
			nfd = openat(cur, ".", flags | O_CLOEXEC);
			close(cur);
			return nfd;
		}
		slash = strchr(p, '/');
		if (slash)
			*slash = 0;
		if (!strcmp(p, "..")) {
			close(cur);
			errno = EXDEV;
			return -1;
		}
		nfd = openat(cur, p, slash ? (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
					   : (flags | O_NOFOLLOW | O_CLOEXEC));
		close(cur);
		cur = nfd;
		if (!slash)
			return cur;
		p = slash + 1;
	}
	return -1;
}

static int run_resolve_in(int rootfd, const char *path, int nofollow, char *out, size_t n);

/* openat2 confined to rootfd.  EAGAIN: a ".." met a rename or mount anywhere on the system
 * meanwhile; the kernel asks us to try again. */
static int
run_openat2(int rootfd, const char *path, int flags)
{
	struct run_open_how how;
	int fd, tries = 0;
	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	while (*path == '/')
		path++;
	do
		fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
	while (fd < 0 && errno == EAGAIN && ++tries < 32);
	return fd;
}

/* Open path inside rootfd, resolving symlinks as if rootfd were "/" (so nothing leads out). */
static int
run_open_in(int rootfd, const char *path, int flags)
{
	int fd = run_openat2(rootfd, path, flags);
	if (fd < 0 && errno == EAGAIN) {
		/* a busy system keeps failing the kernel's check: resolve the links ourselves, which
		 * leaves no ".." for the kernel to distrust */
		char res[4096];
		if (run_resolve_in(rootfd, path, (flags & O_NOFOLLOW) != 0, res, sizeof res) < 0)
			return -1;
		return run_openat2(rootfd, res, flags);
	}
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	return run_walk(rootfd, path, flags);
}

/* Resolve every symlink of path as the container will see it (absolute targets from rootfd, ".."
 * stopping at it), also those whose target does not exist yet: out gets a path without symlinks
 * or "..", inside the root, so the missing part can be created with O_NOFOLLOW.  With nofollow a
 * final symlink stays as it is.  The image is not running yet: nothing swaps links under us, and
 * the mounts go through fds anyway. */
static int
run_resolve_in(int rootfd, const char *path, int nofollow, char *out, size_t n)
{
	char rest[4096], tmp[4096], link[4096];
	int links = 0, missing = 0;
	if (snprintf(rest, sizeof rest, "%s", path) >= (int)sizeof rest)
		return errno = ENAMETOOLONG, -1;
	out[0] = 0;
	for (;;) {
		char *comp = rest, *next;
		size_t olen = strlen(out), clen;
		while (*comp == '/')
			comp++;
		if (!*comp)
			break;
		next = strchr(comp, '/');
		clen = next ? (size_t)(next - comp) : strlen(comp);
		if (!next)
			next = comp + clen;
		if (clen == 1 && comp[0] == '.') {
			memmove(rest, next, strlen(next) + 1);
			continue;
		}
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			char *slash = strrchr(out, '/');
			if (slash)
				*slash = 0;
			memmove(rest, next, strlen(next) + 1);
			continue;
		}
		if (!missing && !(nofollow && !next[strspn(next, "/")])) {
			int dir = olen ? run_open_in(rootfd, out, O_PATH | O_DIRECTORY) : dup(rootfd);
			ssize_t l;
			char name[256];
			if (dir < 0)
				return -1;
			if (clen >= sizeof name) {
				close(dir);
				return errno = ENAMETOOLONG, -1;
			}
			memcpy(name, comp, clen);
			name[clen] = 0;
			l = readlinkat(dir, name, link, sizeof link - 1);
			if (l < 0 && errno == ENOENT)
				missing = 1;
			if (l >= 0) {
				/* /proc's links name what the setup process sees (the host), not the
				 * image: refused, as RESOLVE_NO_MAGICLINKS refuses them */
				struct statfs sf;
				if (fstatfs(dir, &sf) < 0 || sf.f_type == 0x9fa0 /* PROC_SUPER_MAGIC */) {
					close(dir);
					return errno = ELOOP, -1;
				}
			}
			close(dir);
			if (l >= 0) {
				if (++links > 40)
					return errno = ELOOP, -1;
				link[l] = 0;
				if (link[0] == '/')
					out[0] = 0;
				if (snprintf(tmp, sizeof tmp, "%s/%s", link, next) >= (int)sizeof tmp)
					return errno = ENAMETOOLONG, -1;
				memcpy(rest, tmp, sizeof rest);
				continue;
			}
		}
		if (olen + 1 + clen >= n)
			return errno = ENAMETOOLONG, -1;
		out[olen] = '/';
		memcpy(out + olen + 1, comp, clen);
		out[olen + 1 + clen] = 0;
		memmove(rest, next, strlen(next) + 1);
	}
	if (!out[0])
		snprintf(out, n, "/");
	return 0;
}

/* Make path inside the root exist as a directory (or, with file=1, an empty file whose parents
 * are directories); mode is the last component's, parents get 0755.  Returns an O_PATH fd of it.
 * Symlinks on the way, dangling ones too, are resolved inside the root (what is missing is created
 * where they point, in the root, as runc does); a component that is neither a directory nor a
 * symlink is an error. */
static int
run_mkpath_in(int rootfd, const char *path, int file, mode_t mode)
{
	char buf[4096], *p;
	int fd;
	fd = run_open_in(rootfd, path, O_PATH | (file ? 0 : O_DIRECTORY));
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (run_resolve_in(rootfd, path, 0, buf, sizeof buf) < 0)
		return -1;
	for (p = buf; *p == '/'; p++)
		;
	for (;;) {
		char *slash = strchr(p, '/');
		while (slash && slash[1] == '/')
			slash++;
		int pfd, last;
		if (slash)
			*slash = 0;
		last = !slash || !slash[1];
		pfd = run_open_in(rootfd, buf, O_PATH | (last && file ? 0 : O_DIRECTORY));
		if (pfd < 0 && errno == ENOENT) {
			/* create the component in its parent, resolved safely */
			char *base = strrchr(buf, '/');
			int parent;
			if (base) {
				*base = 0;
				parent = run_open_in(rootfd, buf, O_PATH | O_DIRECTORY);
				*base = '/';
				base++;
			} else {
				parent = dup(rootfd);
				base = buf;
			}
			if (parent < 0)
				return -1;
			if (last && file) {
				int f = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
				if (f >= 0)
					close(f);
			} else {
				mkdirat(parent, base, last ? mode : 0755);
			}
			close(parent);
			pfd = run_open_in(rootfd, buf, O_PATH | (last && file ? 0 : O_DIRECTORY));
		}
		if (pfd < 0)
			return -1;
		if (last)
			return pfd;
		close(pfd);
		*slash = '/';
		p = slash + 1;
	}
}

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
struct run_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* Read-only bind: mount(2) cannot remount a whole tree read-only, mount_setattr (5.12) can. */
static int
run_remount_ro(const char *p, int recursive)
{
	struct run_mount_attr a = {0x00000001 /* MOUNT_ATTR_RDONLY */, 0, 0, 0};
	if (recursive &&
	    syscall(SYS_mount_setattr, AT_FDCWD, p, 0x8000 /* AT_RECURSIVE */, &a, sizeof a) == 0)
		return 0;
	return mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

static void
run_fdpath(int fd, char *out, size_t n)
{
	snprintf(out, n, "/proc/self/fd/%d", fd);
}

/* An fd taken before a mount still names what lies beneath it: reopen to reach the new mount. */
static int
run_remount_ro_in(int rootfd, const char *target, int recursive)
{
	char p[64];
	int fd = run_open_in(rootfd, target, O_PATH), r;
	if (fd < 0)
		return -1;
	run_fdpath(fd, p, sizeof p);
	r = run_remount_ro(p, recursive);
	close(fd);
	return r;
}

/* mount() onto a path inside the root, through an fd so a symlink swap cannot redirect it. */
static int
run_mount_in(int rootfd, const char *target, int file, const char *src, const char *type,
	     unsigned long flags, const char *data)
{
	char p[64];
	int fd = run_mkpath_in(rootfd, target, file, file ? 0644 : 0755), r;
	if (fd < 0)
		return -1;
	run_fdpath(fd, p, sizeof p);
	r = mount(src, p, type, flags, data);
	close(fd);
	if (r == 0 && (flags & MS_BIND) && (flags & MS_RDONLY))
		r = run_remount_ro_in(rootfd, target, flags & MS_REC);
	return r;
}

/* ---------------------------------------------------------------- the spec */




/* ---------------------------------------------------------------- /proc writes */

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* Every file of /proc that dock writes (uid_map, gid_map, setgroups, oom_score_adj) goes through
 * here: the file is opened, then checked to be on procfs before a byte is written, so that a mount
 * or a link put in its place (by a container that can reach the path) cannot turn the write onto
 * another file. */
int
run_proc_write(const char *path, const char *text, struct err *e)
{
	struct statfs sf;
	size_t n = strlen(text);
	ssize_t w;
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC), sv;
	if (fd < 0)
		return err_sys(e, "open %s", path);
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return err_set(e, ERR_UNSAFE, "%s is not on procfs: refusing to write to it", path);
	}
	do
		w = write(fd, text, n);
	while (w < 0 && errno == EINTR);
	sv = errno;
	close(fd);
	if (w < 0) {
		errno = sv;
		return err_sys(e, "write %s", path);
	}
	if ((size_t)w != n)
		return err_set(e, ERR_SYS, "write %s: short write", path);
	return 0;
}

/* ---------------------------------------------------------------- per-process limits */

/* --oom-score-adj, before anything of the image is mounted (the host's /proc, our own entry). */
static void
run_setup_oom(const struct run_spec *s)
{
	struct err e = {0};
	char v[16];
	if (!s->oom_score_adj_set)
		return;
	snprintf(v, sizeof v, "%d", s->oom_score_adj);
	if (run_proc_write("/proc/self/oom_score_adj", v, &e) < 0)
		run_fail(RUN_STAGE_SETUP, 0, "--oom-score-adj %d: %s%s", s->oom_score_adj, e.msg,
			 e.sys == EACCES || e.sys == EPERM
				 ? " (lowering it below the current value needs CAP_SYS_RESOURCE)" : "");
}

/* --ulimit NAME=SOFT[:HARD] with Docker's names and words (-1: unlimited). */
int
run_ulimit_parse(const char *v, struct run_ulimit *u, struct err *e)
{
	static const struct {
		const char *name;
		int res;
	} names[] = {
		{"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
		{"fsize", RLIMIT_FSIZE}, {"locks", RLIMIT_LOCKS}, {"memlock", RLIMIT_MEMLOCK},
		{"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE}, {"nofile", RLIMIT_NOFILE},
		{"nproc", RLIMIT_NPROC}, {"rss", RLIMIT_RSS}, {"rtprio", RLIMIT_RTPRIO},
		{"rttime", RLIMIT_RTTIME}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
	};
	const char *eq = strchr(v, '=');
	char *end;
	size_t i;
	if (!eq || eq == v || !eq[1])
		return err_set(e, ERR_USAGE, "invalid ulimit argument: %s", v);
	for (i = 0; i < sizeof names / sizeof *names; i++)
		if (strlen(names[i].name) == (size_t)(eq - v) && !strncmp(v, names[i].name, (size_t)(eq - v)))
			break;
	if (i == sizeof names / sizeof *names)
		return err_set(e, ERR_USAGE, "invalid ulimit type: %.*s", (int)(eq - v), v);
	snprintf(u->name, sizeof u->name, "%s", names[i].name);
	u->resource = names[i].res;
	errno = 0;
	u->soft = strtoll(eq + 1, &end, 10);
	if (errno || end == eq + 1 || (*end && *end != ':') || u->soft < -1)
		return err_set(e, ERR_USAGE, "invalid ulimit argument: %s", v);
	u->hard = u->soft;
	if (*end == ':') {
		const char *h = end + 1;
		u->hard = strtoll(h, &end, 10);
		if (errno || end == h || *end || u->hard < -1)
			return err_set(e, ERR_USAGE, "invalid ulimit argument: %s", v);
	}
	if (u->hard >= 0 && (u->soft < 0 || u->soft > u->hard))
		return err_set(e, ERR_USAGE,
			       "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
			       (long long)u->soft, (long long)u->hard);
	return 0;
}

/* setrlimit in the process that execs the command (run's setup, exec's last child).  Raising a
 * hard limit needs CAP_SYS_RESOURCE, which root may lack (in a sandbox): said plainly. */
int
run_ulimits_apply(const struct run_ulimit *ul, size_t n, struct err *e)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const struct run_ulimit *u = &ul[i];
		struct rlimit r, cur;
		r.rlim_cur = u->soft < 0 ? RLIM_INFINITY : (rlim_t)u->soft;
		r.rlim_max = u->hard < 0 ? RLIM_INFINITY : (rlim_t)u->hard;
		if (setrlimit(u->resource, &r) == 0)
			continue;
		if ((errno == EPERM || errno == EINVAL) && getrlimit(u->resource, &cur) == 0 &&
		    r.rlim_max > cur.rlim_max) {
			char hard[32];
			if (cur.rlim_max == RLIM_INFINITY)
				snprintf(hard, sizeof hard, "unlimited");
			else
				snprintf(hard, sizeof hard, "%llu", (unsigned long long)cur.rlim_max);
			return err_set(e, ERR_SYS, "--ulimit %s: cannot raise the hard limit above %s here "
				       "(raising it needs CAP_SYS_RESOURCE%s)", u->name, hard,
				       u->resource == RLIMIT_NOFILE ? ", and nofile stays within fs.nr_open" : "");
		}
		return err_sys(e, "--ulimit %s: setrlimit", u->name);
	}
	return 0;
}

/* --ulimit: in the setup process, inherited by the command. */
static void
run_setup_rlimits(const struct run_spec *s)
{
	struct err e = {0};
	if (run_ulimits_apply(s->ulimits, s->nulimits, &e) < 0)
		run_fail(RUN_STAGE_SETUP, 0, "%s", e.msg);
}

/* --device: each node made in the container (as the host has it: type, mode, owner), or, where
 * mknod is not allowed (a user namespace), the host's node bound onto an empty file. */
static void
run_setup_devices(const struct run_spec *s, int rootfd)
{
	size_t i;
	for (i = 0; i < s->ndevices; i++) {
		const struct run_device *d = &s->devices[i];
		char dir[256], p[64];
		const char *base = strrchr(d->path, '/');
		int dfd, t;
		snprintf(dir, sizeof dir, "%.*s", (int)(base - d->path), d->path);
		base++;
		dfd = run_mkpath_in(rootfd, dir[0] ? dir : "/", 0, 0755);
		run_check(dfd >= 0, "--device %s: directory %s", d->host, dir);
		{
			/* O_PATH fds cannot be used with mknodat: reopen as a directory */
			char dp[64];
			int real;
			run_fdpath(dfd, dp, sizeof dp);
			real = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			run_check(real >= 0, "--device %s: open %s", d->host, dir);
			close(dfd);
			dfd = real;
		}
		unlinkat(dfd, base, 0); /* the image's own node or file of that name goes */
		if (!s->userns && mknodat(dfd, base, d->mode, d->rdev) == 0) {
			fchmodat(dfd, base, d->mode & 07777, 0);
			if (fchownat(dfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
				run_fail(RUN_STAGE_SETUP, errno, "--device %s: chown %s", d->host, d->path);
			close(dfd);
			continue;
		}
		t = openat(dfd, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		run_check(t >= 0, "--device %s: create %s", d->host, d->path);
		close(t);
		t = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		run_check(t >= 0, "--device %s: open %s", d->host, d->path);
		run_fdpath(t, p, sizeof p);
		run_check(mount(d->host, p, NULL, MS_BIND, NULL) == 0, "--device %s: bind onto %s", d->host,
			  d->path);
		close(t);
		close(dfd);
	}
}

/* --privileged: the host's device nodes in the container's /dev too, as Docker gives them (its
 * pts, shm, mqueue and fd are the container's own; the console is not the host's to give).  Nodes
 * are made, not bound, so a new one on the host later does not appear.  Not in a user namespace:
 * mknod is refused there. */
static void
run_host_devs(int hostdir, int ctrdir, int depth)
{
	static const char *const skip[] = {"pts", "shm", "fd", "mqueue", "console", ".lxc",
					   ".lxd-mounts", ".udev", NULL};
	int fd = dup(hostdir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		size_t k;
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		for (k = 0; skip[k] && strcmp(skip[k], de->d_name); k++)
			;
		if (skip[k] || fstatat(hostdir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 4) {
			int h, c;
			if (mkdirat(ctrdir, de->d_name, st.st_mode & 07777) < 0 && errno != EEXIST)
				continue;
			h = openat(hostdir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			c = openat(ctrdir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (h >= 0 && c >= 0)
				run_host_devs(h, c, depth + 1);
			if (h >= 0)
				close(h);
			if (c >= 0)
				close(c);
		} else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) &&
			   mknodat(ctrdir, de->d_name, st.st_mode, st.st_rdev) == 0) {
			fchmodat(ctrdir, de->d_name, st.st_mode & 07777, 0);
			if (fchownat(ctrdir, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				run_fail(RUN_STAGE_SETUP, errno, "--privileged: chown /dev/%s", de->d_name);
		}
	}
	closedir(d);
}

static void
run_setup_privileged_dev(const struct run_spec *s, int rootfd)
{
	int host, ctr;
	if (!s->privileged || s->userns)
		return;
	host = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (host < 0)
		return; /* a host without /dev has nothing to give */
	ctr = run_open_in(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
	run_check(ctr >= 0, "open /dev");
	run_host_devs(host, ctr, 0);
	close(host);
	close(ctr);
}

/* ---------------------------------------------------------------- --detach-keys */

/* Docker's syntax: comma-separated keys, each a single character or ctrl-X for X in a-z @ [ \\ ]
 * ^ _ (any case).  "" leaves keys as they are (Docker: the default). */
int
run_detach_keys_parse(const char *v, unsigned char *keys, size_t max, size_t *n, struct err *e)
{
	static const char ctrl_more[] = "@[\\]^_";
	const char *p = v;
	size_t k = 0;
	if (!*v)
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char c = len != 6 ? 0 : p[5] >= 'A' && p[5] <= 'Z' ? (char)(p[5] - 'A' + 'a') : p[5];
		const char *m = c ? strchr(ctrl_more, c) : NULL;
		if (k == max)
			return err_set(e, ERR_USAGE, "invalid detach keys (%s): too long a sequence", v);
		if (len == 1)
			keys[k++] = (unsigned char)*p;
		else if (len == 6 && !strncasecmp(p, "ctrl-", 5) && c >= 'a' && c <= 'z')
			keys[k++] = (unsigned char)(c - 'a' + 1);
		else if (len == 6 && !strncasecmp(p, "ctrl-", 5) && m)
			keys[k++] = (unsigned char)(m == ctrl_more ? 0 : 27 + (m - ctrl_more - 1));
		else
			return err_set(e, ERR_USAGE, "invalid detach keys (%s): Unknown character: '%.*s'", v,
				       (int)len, p);
		if (!comma)
			break;
		p = comma + 1;
	}
	*n = k;
	return 0;
}

/* ---------------------------------------------------------------- the setup child */

static const char *const run_masked[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap", NULL};
static const char *const run_readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

static void
run_mask(int rootfd)
{
	size_t i;
	for (i = 0; run_masked[i]; i++) {
		int fd = run_open_in(rootfd, run_masked[i], O_PATH | O_NOFOLLOW);
		struct stat st;
		char p[64];
		if (fd < 0)
			continue;
		run_fdpath(fd, p, sizeof p);
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			run_check(mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") == 0, "mask %s", run_masked[i]);
		else
			run_check(mount("/dev/null", p, NULL, MS_BIND, NULL) == 0, "mask %s", run_masked[i]);
		close(fd);
	}
	for (i = 0; run_readonly[i]; i++) {
		int fd = run_open_in(rootfd, run_readonly[i], O_PATH | O_NOFOLLOW);
		char p[64];
		if (fd < 0)
			continue;
		run_fdpath(fd, p, sizeof p);
		run_check(mount(p, p, NULL, MS_BIND | MS_REC, NULL) == 0, "bind %s", run_readonly[i]);
		run_check(run_remount_ro_in(rootfd, run_readonly[i], 1) == 0, "read-only %s",
			  run_readonly[i]);
		close(fd);
	}
}

/* /dev: a small tmpfs with the usual nodes (bind-mounted from the host without privilege). */
static void
run_setup_dev(const struct run_spec *s, int rootfd)
{
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8},
		     {"urandom", 1, 9}, {"tty", 5, 0}};
	static const char *const links[][2] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
					       {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
					       {"ptmx", "pts/ptmx"}, {"core", "/proc/kcore"}};
	size_t i;
	int dev;
	run_check(run_mount_in(rootfd, "/dev", 0, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
			       "mode=755,size=65536k") == 0, "mount /dev");
	dev = run_open_in(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
	run_check(dev >= 0, "open /dev");
	for (i = 0; i < sizeof nodes / sizeof *nodes; i++) {
		if (!s->userns && mknodat(dev, nodes[i].name, S_IFCHR | 0666,
					  makedev(nodes[i].maj, nodes[i].min)) == 0) {
			fchmodat(dev, nodes[i].name, 0666, 0);
			continue;
		}
		{
			char host[64], p[64];
			int f = openat(dev, nodes[i].name, O_WRONLY | O_CREAT | O_CLOEXEC, 0666), t;
			if (f >= 0)
				close(f);
			t = openat(dev, nodes[i].name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			snprintf(host, sizeof host, "/dev/%s", nodes[i].name);
			run_fdpath(t, p, sizeof p);
			run_check(t >= 0 && mount(host, p, NULL, MS_BIND, NULL) == 0, "bind /dev/%s",
				  nodes[i].name);
			close(t);
		}
	}
	for (i = 0; i < sizeof links / sizeof *links; i++)
		run_check(symlinkat(links[i][1], dev, links[i][0]) == 0, "symlink /dev/%s", links[i][0]);
	close(dev);
	run_check(run_mount_in(rootfd, "/dev/pts", 0, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
			       s->userns ? "newinstance,ptmxmode=0666,mode=0620"
					 : "newinstance,ptmxmode=0666,mode=0620,gid=5") == 0,
		  "mount /dev/pts");
	{
		char shm[64];
		snprintf(shm, sizeof shm, "mode=1777,size=%lld",
			 (long long)(s->shm_size > 0 ? s->shm_size : 64 << 20));
		run_check(run_mount_in(rootfd, "/dev/shm", 0, "shm", "tmpfs",
				       MS_NOSUID | MS_NODEV | MS_NOEXEC, shm) == 0, "mount /dev/shm");
	}
	if (run_mount_in(rootfd, "/dev/mqueue", 0, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			 NULL) < 0 && errno != EPERM)
		run_fail(RUN_STAGE_SETUP, errno, "mount /dev/mqueue");
	if (s->pty_slave >= 0)
		run_check(run_mount_in(rootfd, "/dev/console", 1, s->pty_path, NULL, MS_BIND, NULL) == 0,
			  "bind /dev/console");
}

/* An image may ship /proc, /dev or /sys as a symlink (even one aimed at the host): those must be
 * real directories in the container, so the link is replaced in the container's own layer. */
static void
run_ensure_dir(int rootfd, const char *name)
{
	struct stat st;
	if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
		run_check(unlinkat(rootfd, name, 0) == 0, "replace /%s", name);
	}
	if (mkdirat(rootfd, name, 0755) < 0 && errno != EEXIST)
		run_fail(RUN_STAGE_SETUP, errno, "mkdir /%s", name);
}

static void
run_setup_mounts(const struct run_spec *s, int rootfd)
{
	size_t i;
	char p[300];
	run_ensure_dir(rootfd, "proc");
	run_ensure_dir(rootfd, "dev");
	run_ensure_dir(rootfd, "sys");
	run_check(run_mount_in(rootfd, "/proc", 0, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			       NULL) == 0, "mount /proc");
	if (!s->userns) {
		run_check(run_mount_in(rootfd, "/sys", 0, "sysfs", "sysfs",
				       MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) == 0,
			  "mount /sys");
	} else {
		/* without privilege sysfs cannot be mounted for the host's network namespace: share the
		 * host's, read-only */
		run_check(run_mount_in(rootfd, "/sys", 0, "/sys", NULL, MS_BIND | MS_REC | MS_RDONLY, NULL) == 0,
			  "bind /sys");
	}
	run_setup_dev(s, rootfd);
	run_setup_devices(s, rootfd);
	run_setup_privileged_dev(s, rootfd);
	/* the per-container /etc files */
	{
		static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
		for (i = 0; i < 3; i++) {
			char src[400], dst[64];
			snprintf(src, sizeof src, "%s/containers/%s/%s", s->store_path, s->id, files[i]);
			snprintf(dst, sizeof dst, "/etc/%s", files[i]);
			run_check(run_mount_in(rootfd, dst, 1, src, NULL, MS_BIND, NULL) == 0, "bind %s", dst);
		}
	}
	for (i = 0; i < s->nmounts; i++) {
		const struct run_mount *m = &s->mounts[i];
		if (m->type == RUN_MOUNT_TMPFS) {
			run_check(run_mount_in(rootfd, m->dst, 0, "tmpfs", "tmpfs",
					       MS_NOSUID | MS_NODEV | (m->ro ? MS_RDONLY : 0),
					       m->opts && *m->opts ? m->opts : "mode=1777") == 0,
				  "mount tmpfs on %s", m->dst);
		} else {
			struct stat st;
			run_check(stat(m->src, &st) == 0, "volume %s", m->src);
			run_check(run_mount_in(rootfd, m->dst, !S_ISDIR(st.st_mode), m->src, NULL,
					       MS_BIND | MS_REC | (m->ro ? MS_RDONLY : 0), NULL) == 0,
				  "bind %s on %s", m->src, m->dst);
		}
	}
	(void)p;
	if (!s->privileged)
		run_mask(rootfd);
}

/* Enter the new root: pivot_root, or where "/" is an initramfs (rootfs cannot be pivoted),
 * move the new root over "/" and chroot, as switch_root does. */
static void
run_enter_root(const char *root)
{
	run_check(chdir(root) == 0, "chdir %s", root);
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		run_check(mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) == 0, "make old root slave");
		run_check(umount2(".", MNT_DETACH) == 0, "detach old root");
		run_check(chdir("/") == 0, "chdir /");
		return;
	}
	run_check(errno == EINVAL, "pivot_root");
	run_check(mount(".", "/", NULL, MS_MOVE, NULL) == 0, "move root");
	run_check(chroot(".") == 0, "chroot");
	run_check(chdir("/") == 0, "chdir /");
}

static void
run_drop_caps(const struct run_spec *s, const struct user_ids *u)
{
	struct err e = {0};
	if (run_single_map && (u->uid || u->gid))
		run_fail(RUN_STAGE_SETUP, 0, "user %u:%u: rootless with a single ID mapping, only root "
			 "(0:0) exists in the container; give your user ranges in /etc/subuid and "
			 "/etc/subgid (and install newuidmap/newgidmap) to run as another user",
			 u->uid, u->gid);
	if (confine_drop(s->caps, u, s->userns, NULL, &e) < 0)
		run_fail(RUN_STAGE_SETUP, 0, "%s", e.msg);
}

const char *
run_getenv(char **env, const char *key)
{
	size_t n = strlen(key);
	for (; env && *env; env++)
		if (!strncmp(*env, key, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* execvpe with the container's PATH (run and exec); returns only on failure with errno set. */
void
run_exec(char **argv, char **env)
{
	const char *path = run_getenv(env, "PATH"), *p;
	char full[4096];
	int saw_eacces = 0;
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, env);
		return;
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		/* a PATH entry too long for full is skipped, never cut */
		if (snprintf(full, sizeof full, "%.*s%s%s", (int)n, p, n ? "/" : "", argv[0]) <
		    (int)sizeof full) {
			execve(full, argv, env);
			if (errno == EACCES)
				saw_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (!end)
			break;
		p = end;
	}
	errno = saw_eacces ? EACCES : ENOENT;
}

/* --init: a minimal PID 1 that forwards signals to the command and reaps every zombie. */
static pid_t run_init_child;

static void
run_init_forward(int sig)
{
	if (run_init_child > 0)
		kill(run_init_child, sig);
}

static void __attribute__((noreturn))
run_init_loop(pid_t child, const sigset_t *mask)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	struct sigaction sa;
	size_t i;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = run_init_forward;
	run_init_child = child;
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			_exit(0);
		if (p == child) {
			if (WIFSIGNALED(status))
				_exit(128 + WTERMSIG(status));
			_exit(WEXITSTATUS(status));
		}
	}
}

/* A container removed when it exits (--rm) has an upper layer no one needs after a crash:
 * `volatile` (Linux 5.10) spares it the sync of the upper filesystem when the overlay goes, a
 * journal commit and a disk flush on ext4 for every container.  Kernels without it refuse it. */
static void
run_mount_overlay(const struct run_spec *s, const char *root, struct buf *opts)
{
	if (s->transient) {
		size_t n = opts->len;
		buf_adds(opts, ",volatile");
		if (mount("overlay", root, "overlay", 0, opts->p) == 0)
			return;
		run_check(errno == EINVAL, "mount overlay");
		opts->len = n;
		opts->p[n] = 0;
	}
	run_check(mount("overlay", root, "overlay", 0, opts->p) == 0, "mount overlay");
}

static int
run_child(void *arg)
{
	const struct run_spec *s = arg;
	struct user_ids u;
	struct err e = {0};
	char root[300];
	int rootfd, i;

	/* the container starts with default dispositions whatever dock's caller ignored: a shell's
	 * background job ignores SIGINT, and a shell started with a signal ignored cannot trap it.
	 * Handlers go too (exec would drop them, but --init's PID 1 never execs). */
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			signal(i, SIG_DFL);
	if (setsid() < 0)
		run_fail(RUN_STAGE_SETUP, errno, "setsid");
	run_setup_oom(s);
	if (s->pty_slave >= 0) {
		run_check(ioctl(s->pty_slave, TIOCSCTTY, 0) == 0, "controlling terminal");
		for (i = 0; i < 3; i++)
			run_check(dup2(s->pty_slave, i) == i, "dup2");
	}
	if (s->stdin_null) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul >= 0 && s->pty_slave < 0)
			run_check(dup2(nul, 0) == 0, "stdin");
		if (nul >= 0)
			close(nul);
	}
	run_check(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make mounts private");
	if (access("/proc/self/fd", F_OK) < 0) {
		/* a host without /proc (an early initramfs, a rescue shell): the setup reaches paths
		 * through /proc/self/fd, so it mounts its own, in this private mount namespace only */
		if (mkdir("/proc", 0555) < 0 && errno != EEXIST)
			run_fail(RUN_STAGE_SETUP, errno, "the host has no /proc and dock cannot make one");
		run_check(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0,
			  "the host has no /proc: mount one");
	}
	/* by path, not fd: a cwd taken before clone belongs to the host's mount namespace, and
	 * overlayfs refuses layers reached through another namespace's mounts */
	run_check(chdir(s->store_path) == 0, "chdir to the store %s", s->store_path);
	if (s->copy_root) {
		snprintf(root, sizeof root, "containers/%s/rootfs", s->id);
		run_check(mount(root, root, NULL, MS_BIND | MS_REC, NULL) == 0, "bind the root");
	} else {
		struct buf opts = {0};
		size_t k;
		snprintf(root, sizeof root, "containers/%s/merged", s->id);
		buf_adds(&opts, "lowerdir=");
		for (k = 0; k < s->nlowers; k++) {
			if (k)
				buf_addc(&opts, ':');
			buf_adds(&opts, s->lowers[k]);
		}
		buf_printf(&opts, ",upperdir=containers/%s/upper,workdir=containers/%s/work", s->id, s->id);
		if (s->rootless)
			buf_adds(&opts, ",userxattr");
		run_mount_overlay(s, root, &opts);
		buf_free(&opts);
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	run_check(rootfd >= 0, "open the root");
	run_setup_mounts(s, rootfd);
	if (s->net_none) {
		/* bring up lo in the new network namespace */
		int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr;
		memset(&ifr, 0, sizeof ifr);
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
		if (sk >= 0 && ioctl(sk, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			ioctl(sk, SIOCSIFFLAGS, &ifr);
		}
		if (sk >= 0)
			close(sk);
	}
	if (s->hostname)
		run_check(sethostname(s->hostname, strlen(s->hostname)) == 0, "sethostname");
	if (user_resolve(rootfd, s->user ? s->user : "", &u, &e) < 0)
		run_fail(RUN_STAGE_SETUP, 0, "%s", e.msg);
	/* the working directory, created when missing (as Docker does) */
	{
		int w = run_mkpath_in(rootfd, s->workdir && *s->workdir ? s->workdir : "/", 0, 0755);
		run_check(w >= 0, "working directory %s", s->workdir);
		close(w);
	}
	close(rootfd);
	run_enter_root(root);
	if (s->read_only)
		run_check(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0,
			  "read-only root");
	/* no descriptor of dock's reaches the command, nor can the working directory lead out
	 * through one (a workdir of /proc/self/fd/N) */
	confine_close_fds(run_errfd);
	run_check(chdir(s->workdir && *s->workdir ? s->workdir : "/") == 0, "chdir %s", s->workdir);
	run_setup_rlimits(s);
	{
		struct err ce = {0};
		if (confine_cwd_inside(&ce) < 0)
			run_fail(RUN_STAGE_SETUP, 0, "working directory %s: %s", s->workdir, ce.msg);
	}
	run_drop_caps(s, &u);
	if (s->seccomp) {
		struct err se = {0};
		if (seccomp_load(s->seccomp, s->seccomp_len, &se) < 0)
			run_fail(RUN_STAGE_SETUP, 0, "%s", se.msg);
	}
	if (s->init) {
		/* blocked until init forwards them: none is lost between fork and sigaction */
		sigset_t all, old;
		pid_t c;
		int gate[2];
		char x;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		run_check(pipe2(gate, O_CLOEXEC) == 0, "pipe");
		c = fork();
		run_check(c >= 0, "fork init");
		if (c > 0) {
			/* init never execs: close-on-exec does not protect its fds from the
			 * container's root reading /proc/1/fd.  Closing gate[1] with them tells the
			 * command it may go on. */
			confine_close_fds(-1);
			run_init_loop(c, &old);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(gate[1]);
		while (read(gate[0], &x, 1) < 0 && errno == EINTR)
			;
		close(gate[0]);
	}
	{
		/* HOME from passwd when the image did not set one */
		char **env = s->env, *home[2];
		size_t n = 0;
		if (!run_getenv(env, "HOME")) {
			while (env[n])
				n++;
			env = xcalloc(n + 2, sizeof *env);
			memcpy(env, s->env, n * sizeof *env);
			home[0] = xasprintf("HOME=%s", u.home[0] ? u.home : "/");
			env[n] = home[0];
			(void)home;
		}
		run_exec(s->argv, env);
		run_fail(RUN_STAGE_EXEC, errno, "exec: \"%s\"", s->argv[0]);
	}
	return 0;
}

/* ---------------------------------------------------------------- the parent */


/* The first range /etc/subuid (or /etc/subgid) grants the user, by name or by number: 1 found. */
static int
run_subid(const char *file, const char *name, unsigned id, unsigned long *start, unsigned long *count)
{
	struct buf b = {0};
	struct err e = {0};
	char *line, *save = NULL, num[16];
	int found = 0;
	snprintf(num, sizeof num, "%u", id);
	if (file_read(AT_FDCWD, file, 1 << 20, &b, &e) < 0)
		return 0;
	for (line = strtok_r(b.p, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2, *end;
		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c1 = 0;
		if (strcmp(line, num) && (!name || strcmp(line, name)))
			continue;
		*start = strtoul(c1 + 1, &end, 10);
		if (end != c2)
			continue;
		*count = strtoul(c2 + 1, &end, 10);
		found = *count > 0;
	}
	buf_free(&b);
	return found;
}

/* The setuid helper (newuidmap or newgidmap) from PATH or the usual places, or NULL. */
static const char *
run_find_helper(const char *prog, char *out, size_t n)
{
	const char *path = getenv("PATH"), *p;
	if (!path || !*path)
		path = "/usr/bin:/bin:/usr/sbin:/sbin";
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len && len < n - strlen(prog) - 2) {
			snprintf(out, n, "%.*s/%s", (int)len, p, prog);
			if (access(out, X_OK) == 0)
				return out;
		}
		if (!end)
			return NULL;
		p = end;
	}
}

/* Map ID to root and the subordinate range to 1.. with newuidmap/newgidmap (which check the range
 * against /etc/subuid, /etc/subgid). */
static int
run_map_helper(const char *helper, pid_t pid, unsigned id, unsigned long start, unsigned long count,
	       struct err *e)
{
	char a[4][24];
	pid_t h;
	int status;
	snprintf(a[0], sizeof a[0], "%d", (int)pid);
	snprintf(a[1], sizeof a[1], "%u", id);
	snprintf(a[2], sizeof a[2], "%lu", start);
	snprintf(a[3], sizeof a[3], "%lu", count);
	h = fork();
	if (h < 0)
		return err_sys(e, "fork %s", helper);
	if (h == 0) {
		execl(helper, helper, a[0], "0", a[1], "1", "1", a[2], a[3], (char *)NULL);
		_exit(127);
	}
	while (waitpid(h, &status, 0) < 0)
		if (errno != EINTR)
			return err_sys(e, "wait %s", helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return err_set(e, ERR_SYS, "%s %s 0 %u 1 1 %lu %lu failed (status %d)", helper, a[0], id,
			       start, count, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

static int
run_write_file(const char *path, const char *text, struct err *e)
{
	return run_proc_write(path, text, e);
}

/* Write uid_map/gid_map for a rootless child: the caller's ID as root, plus the subordinate range
 * through newuidmap/newgidmap where /etc/subuid (/etc/subgid) grants one and the helper exists;
 * otherwise the single mapping an unprivileged process may write itself (which for gid_map needs
 * setgroups denied).  Sets *single when only root is mapped in the container. */
static int
run_write_maps(pid_t pid, int *single, struct err *e)
{
	char path[64], map[64], helper[4096];
	struct passwd *pw;
	const char *name;
	unsigned long start, count;
	uid_t uid = getuid();
	gid_t gid = getgid();
	pw = getpwuid(uid);
	name = pw ? pw->pw_name : NULL;
	*single = 0;
	if (run_subid("/etc/subgid", name, (unsigned)uid, &start, &count) &&
	    run_find_helper("newgidmap", helper, sizeof helper)) {
		if (run_map_helper(helper, pid, (unsigned)gid, start, count, e) < 0)
			return -1;
	} else {
		snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
		if (access(path, F_OK) == 0 && run_write_file(path, "deny", e) < 0)
			return -1;
		snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
		if (run_write_file(path, map, e) < 0)
			return -1;
		*single = 1;
	}
	if (run_subid("/etc/subuid", name, (unsigned)uid, &start, &count) &&
	    run_find_helper("newuidmap", helper, sizeof helper)) {
		if (run_map_helper(helper, pid, (unsigned)uid, start, count, e) < 0)
			return -1;
	} else {
		snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
		if (run_write_file(path, map, e) < 0)
			return -1;
		*single = 1;
	}
	return 0;
}

/* A user namespace mapped as a rootless container's is, for work on a container's files after it
 * is gone (`dock rm`: they belong to the IDs mapped there, and only there is the caller root over
 * them).  Returns an fd for setns() (ctr_remove's usernsfd), or -1 with e set. */
int
run_userns_open(struct err *e)
{
	int syncp[2], single, fd;
	pid_t pid;
	char p[64];
	if (pipe2(syncp, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	fflush(NULL);
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		close(syncp[0]);
		close(syncp[1]);
		return err_sys(e, "cannot create a user namespace");
	}
	if (pid == 0) {
		char c;
		close(syncp[1]);
		/* holds the namespace open until the parent has mapped it and taken an fd */
		if (read(syncp[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(syncp[0]);
	snprintf(p, sizeof p, "/proc/%d/ns/user", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		err_sys(e, "open %s", p);
	else if (run_write_maps(pid, &single, e) < 0) {
		close(fd);
		fd = -1;
	}
	close(syncp[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return fd;
}

/* clone3's arguments (Linux 5.3; the cgroup field 5.7), here so as not to need <linux/sched.h>,
 * whose CLONE_* clash with the C library's. */
struct run_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
#define RUN_CLONE_INTO_CGROUP 0x200000000ULL
#define RUN_SYS_clone3 435 /* the same number on every architecture */

/* In the new process, before anything else: into each v1 cgroup the parent opened the tasks file
 * of, by itself, which the kernel does without the costly lock of moving another (cgroup.c). */
static void
run_cg_join(const struct cg_join *j)
{
	size_t i;
	for (i = 0; i < j->n; i++) {
		ssize_t w;
		if (j->fd[i] < 0)
			continue;
		do
			w = write(j->fd[i], "0", 1);
		while (w < 0 && errno == EINTR);
		if (w != 1)
			run_fail(RUN_STAGE_SETUP, w < 0 ? errno : EIO, "cgroup: move into %s", j->dir[i]);
		close(j->fd[i]);
	}
	if (j->v2fd >= 0)
		close(j->v2fd); /* the host's cgroup tree: nothing the container should hold */
}

/* Start the container's process.  On return the child waits on syncfd; run_go lets it go. */
int
run_spawn(struct run_spec *s, struct run_proc *rp, struct err *e)
{
	int errp[2], syncp[2];
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	pid_t pid;
	if (s->net_none || s->net_ns)
		flags |= CLONE_NEWNET;
	if (s->userns)
		flags |= CLONE_NEWUSER;
	if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(syncp, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	fflush(NULL);
	pid = -1;
	if (s->cgjoin && s->cgjoin->v2fd >= 0) {
		/* born in its v2 cgroup, which spares cg_join_finish's costly move; any refusal
		 * (before Linux 5.7, a delegation the kernel does not accept) leaves that to it */
		struct run_clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.flags = (uint64_t)(unsigned)flags | RUN_CLONE_INTO_CGROUP;
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)s->cgjoin->v2fd;
		pid = (pid_t)syscall(RUN_SYS_clone3, &ca, sizeof ca);
		if (pid > 0)
			s->cgjoin->v2_done = 1;
	}
	if (pid < 0)
		pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0 && s->userns && (errno == EPERM || errno == ENOSPC || errno == EINVAL || errno == EUSERS))
		return err_sys(e, "cannot create a user namespace, which running without root needs (are "
			       "unprivileged user namespaces disabled? see `dock info`, "
			       "/proc/sys/kernel/unprivileged_userns_clone, /proc/sys/user/max_user_namespaces)");
	if (pid < 0)
		return err_sys(e, "clone (namespaces)");
	if (pid == 0) {
		char go;
		sigset_t none;
		/* dock blocks the signals it forwards until it can; a container starts with none */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(errp[0]);
		close(syncp[1]);
		run_errfd = errp[1];
		if (read(syncp[0], &go, 1) != 1)
			_exit(125);
		run_single_map = go == 's';
		close(syncp[0]);
		if (s->cgjoin)
			run_cg_join(s->cgjoin);
		/* the cgroup namespace only now, once the parent has moved us into the container's
		 * cgroup: its root is that cgroup, and /proc/self/cgroup reads "/" inside */
		if (unshare(CLONE_NEWCGROUP) < 0)
			run_fail(RUN_STAGE_SETUP, errno, "cgroup namespace");
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		run_child(s);
		_exit(125);
	}
	close(errp[1]);
	close(syncp[0]);
	rp->pid = pid;
	rp->errfd = errp[0];
	rp->syncfd = syncp[1];
	rp->usernsfd = -1;
	rp->single_map = 0;
	if (s->userns) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/ns/user", (int)pid);
		rp->usernsfd = open(p, O_RDONLY | O_CLOEXEC);
		if (rp->usernsfd < 0 || run_write_maps(pid, &rp->single_map, e) < 0) {
			if (rp->usernsfd < 0)
				err_sys(e, "open %s", p);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(rp->errfd);
			close(rp->syncfd);
			if (rp->usernsfd >= 0)
				close(rp->usernsfd);
			rp->usernsfd = -1;
			return -1;
		}
	}
	return 0;
}

/* Let the child go on, then wait for exec.  Returns 0 once the command runs, or -1 with e set and
 * *status the exit status Docker uses (125 setup, 126 cannot execute, 127 not found). */
int
run_go(struct run_proc *rp, int *status, struct err *e)
{
	struct run_fail f;
	ssize_t n;
	if (write(rp->syncfd, rp->single_map ? "s" : "g", 1) != 1) {
		*status = 125;
		return err_sys(e, "start the container");
	}
	close(rp->syncfd);
	do
		n = read(rp->errfd, &f, sizeof f);
	while (n < 0 && errno == EINTR);
	close(rp->errfd);
	if (n == 0)
		return 0;
	waitpid(rp->pid, NULL, 0);
	if (n != (ssize_t)sizeof f) {
		*status = 125;
		return err_set(e, ERR_SYS, "container setup failed");
	}
	f.msg[sizeof f.msg - 1] = 0;
	*status = 125;
	if (f.stage == RUN_STAGE_EXEC) {
		*status = f.sys == ENOENT ? 127 : 126;
		if (f.sys == ENOENT && !strchr(f.msg, '/'))
			return err_set(e, ERR_NOTFOUND, "%s: executable file not found in $PATH", f.msg);
		return err_set(e, f.sys == ENOENT ? ERR_NOTFOUND : ERR_SYS, "%s: %s", f.msg,
			       strerror(f.sys));
	}
	return err_set(e, ERR_SYS, "%s", f.msg);
}
