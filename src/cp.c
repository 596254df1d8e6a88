/* cp.c: dock cp (files between a running container and the host, or a tar stream) and dock export
 * (a running container's root filesystem as a tar stream).  Owns two halves joined by tar events
 * (struct tar_cb): a walker that turns a tree into entries, and an extractor that creates entries
 * under a base directory.  A tar writer (tarw) or reader (tar) stands in for either half when one
 * side is a stream.
 *
 * Safety.  Every path inside the container is resolved with the container's root as "/"
 * (openat2 RESOLVE_IN_ROOT, no magic links; without openat2 no symlink is followed at all), through
 * the root fd of its PID 1: a symlink in the image (even /etc pointing at the host's /etc by
 * name) leads only to the container's own files.  The extractor resolves each entry's directory
 * that way within its scope (the container's root, or on the host the destination directory, as
 * Docker's FollowSymlinkInScope does) and creates the last component itself without following
 * it; what stood there is replaced.  Modes and ownership are set through fds, never by a name that
 * could be a symlink.  With a rootless container the work happens in a child that has entered its
 * user namespace, where dock is root over the container's files and their IDs read as the
 * container sees them.
 *
 * Decisions:
 * - As docker cp: a directory is copied recursively with modes and times, PATH/. copies the
 *   contents, symlinks are copied as symlinks (-L follows the source), files copied into a
 *   container belong to root and files copied out to the caller (-a keeps the source's owners),
 *   hardlinks within a copy stay hardlinks.  The kernel's filesystems (/proc, /sys, /dev/pts, ...)
 *   inside a copied tree are left empty, unless asked for by name.
 * - Unlike docker cp, and like cp(1) without -p, a copy onto the host without -a drops setuid and
 *   setgid bits and leaves device files out: a container must not plant a setuid-root program or a
 *   world-writable disk device on the host through an administrator's copy.
 * - Only security.capability of the xattrs is carried, as Docker's archives do.
 * - export stays on the root's mount: other mounts (/proc, /sys, /dev, volumes, the per-container
 *   /etc/hosts, hostname and resolv.conf) appear as empty directories and files, as the mount
 *   points they are in the image.
 * - A stopped container is refused: its root exists only while it runs (containers/ID/merged is
 *   mounted in the container's own mount namespace). */

#include <dirent.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/statfs.h>
#include <sys/xattr.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_statx
#define SYS_statx 332
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif
#define CP_STATX_MNT_ID 0x1000U
#define CP_BUF (64 * 1024)
#define CP_DEPTH 256      /* directories deep */
#define CP_LINKS 4096     /* hardlinked files remembered */
#define CP_ARENA (256 * 1024)
#define CP_DIRS 128       /* directories whose modes wait for their contents */

struct cp_how { /* struct open_how of <linux/openat2.h> */
	uint64_t flags, mode, resolve;
};

/* ---------------------------------------------------------------- paths */

/* Open path with scope as its root: symlinks and ".." never lead out of it.  O_NOFOLLOW in flags
 * leaves the last component unfollowed. */
static int
cp_open_in(int scope, const char *path, int flags)
{
	static int no_openat2;
	struct cp_how how;
	int fd = -1, tries;
	while (*path == '/')
		path++;
	if (!no_openat2) {
		memset(&how, 0, sizeof how);
		how.flags = (uint64_t)(flags | O_CLOEXEC);
		how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
		for (tries = 0; tries < 20; tries++) {
			fd = (int)syscall(SYS_openat2, scope, *path ? path : ".", &how, sizeof how);
			if (fd >= 0 || errno != EAGAIN) /* EAGAIN: a rename raced a ".." */
				break;
		}
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		no_openat2 = 1;
	}
	return run_walk(scope, path, flags & ~O_NOFOLLOW);
}

/* Lexically clean a path into "a/b" form ("" is the top), as filepath.Clean does: "." and empty
 * components go, ".." takes one back (never above the top). */
static void
cp_clean(const char *in, char *out, size_t n)
{
	size_t len = 0;
	const char *p = in;
	out[0] = 0;
	while (*p) {
		const char *end;
		size_t c;
		while (*p == '/')
			p++;
		end = strchr(p, '/');
		c = end ? (size_t)(end - p) : strlen(p);
		if (!c)
			break;
		if (c == 1 && p[0] == '.') {
		} else if (c == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(out, '/');
			len = slash ? (size_t)(slash - out) : 0;
			out[len] = 0;
		} else if (len + !!len + c < n) {
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, c);
			len += c;
			out[len] = 0;
		}
		p += c;
	}
}

/* An entry's path relative to the base: leading "/" and "./" go; ".." is refused. */
static int
cp_rel(const char *in, char *out, size_t n, struct err *e)
{
	const char *p = in;
	size_t len = 0;
	out[0] = 0;
	while (*p) {
		const char *end;
		size_t c;
		while (*p == '/')
			p++;
		end = strchr(p, '/');
		c = end ? (size_t)(end - p) : strlen(p);
		if (!c)
			break;
		if (c == 2 && p[0] == '.' && p[1] == '.')
			return err_set(e, ERR_UNSAFE, "%s: \"..\" in an archive path", in);
		if (!(c == 1 && p[0] == '.')) {
			if (len + !!len + c >= n)
				return err_set(e, ERR_LIMIT, "%.100s...: path too long", in);
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, c);
			len += c;
			out[len] = 0;
		}
		p += c;
	}
	return 0;
}

/* a/b; -1 (ENAMETOOLONG) when it does not fit */
static int
cp_join(char *out, size_t n, const char *a, const char *b)
{
	int r = snprintf(out, n, "%s%s%s", a, *a && *b ? "/" : "", b);
	if (r < 0 || (size_t)r >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* "a/b/c": dir "a/b", name "c"; "c": dir "", name "c". */
static const char *
cp_split(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		dir[0] = 0;
		return path;
	}
	snprintf(dir, n, "%.*s", (int)(slash - path), path);
	return slash + 1;
}

/* The mount an object is on (statx STATX_MNT_ID, Linux 5.8); 0 when unknown. */
static uint64_t
cp_mnt_id(int dirfd, const char *name)
{
	uint8_t sx[256] __attribute__((aligned(8)));
	uint32_t mask;
	uint64_t id;
	memset(sx, 0, sizeof sx);
	if (syscall(SYS_statx, dirfd, name, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH),
		    CP_STATX_MNT_ID, sx) < 0)
		return 0;
	memcpy(&mask, sx, sizeof mask);
	memcpy(&id, sx + 144, sizeof id);
	return (mask & CP_STATX_MNT_ID) ? id : 0;
}

/* ---------------------------------------------------------------- the walker: a tree as tar events */

struct cp_link {
	dev_t dev;
	ino_t ino;
	uint32_t off; /* its archive path in the arena */
};

struct cp_walk {
	const struct tar_cb *cb;
	void *ctx;
	int zero_ids;       /* host files into a container without -a: root's */
	int one_mount;      /* export: stay on the top's mount */
	uint64_t mnt_id;
	dev_t dev;
	uint64_t bytes;
	int depth;
	struct cp_link links[CP_LINKS];
	size_t nlinks, arena_len;
	char arena[CP_ARENA];
	char path[4096];    /* the entry's name in the archive */
	uint8_t buf[CP_BUF];
	uint8_t cap[512];   /* security.capability */
};

/* The kernel's own filesystems, whose contents are not files of the container. */
static int
cp_pseudo_fs(int fd)
{
	static const unsigned long kinds[] = {
		0x9fa0,     /* proc */
		0x62656572, /* sysfs */
		0x1cd1,     /* devpts */
		0x27e0eb,   /* cgroup */
		0x63677270, /* cgroup2 */
		0x19800202, /* mqueue */
		0x64626720, /* debugfs */
		0x73636673, /* securityfs */
		0x74726163, /* tracefs */
		0xcafe4a11, /* bpf */
	};
	struct statfs sf;
	size_t i;
	if (fstatfs(fd, &sf) < 0)
		return 0;
	for (i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if ((unsigned long)sf.f_type == kinds[i])
			return 1;
	return 0;
}

/* dirfd + name, or the fd itself when name is "" (an O_PATH fd of the top). */
static int
cp_reopen(int dirfd, const char *name, int flags)
{
	char p[64];
	if (*name)
		return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	snprintf(p, sizeof p, "/proc/self/fd/%d", dirfd);
	return open(p, flags | O_CLOEXEC);
}

static int cp_walk_node(struct cp_walk *w, int dirfd, const char *name, size_t plen, struct err *e);

static int
cp_walk_dir(struct cp_walk *w, int pfd, const char *name, size_t plen, struct err *e)
{
	int fd = cp_reopen(pfd, name, O_RDONLY | O_DIRECTORY), r = 0;
	DIR *d;
	struct dirent *de;
	if (fd < 0)
		return err_sys(e, "%s", plen ? w->path : "open");
	if (++w->depth > CP_DEPTH) {
		close(fd);
		return err_set(e, ERR_LIMIT, "%s: more than %d directories deep", w->path, CP_DEPTH);
	}
	if (w->depth > 1 && cp_pseudo_fs(fd)) {
		/* /proc, /sys and the like inside a copy: their mount points only */
		close(fd);
		w->depth--;
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_sys(e, "%s", w->path);
	}
	for (errno = 0; r == 0 && (de = readdir(d)); errno = 0) {
		size_t nlen = strlen(de->d_name), clen;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		clen = plen + !!plen + nlen;
		if (clen >= sizeof w->path) {
			r = err_set(e, ERR_LIMIT, "%s/%s: path too long", w->path, de->d_name);
			break;
		}
		if (plen)
			w->path[plen] = '/';
		memcpy(w->path + plen + !!plen, de->d_name, nlen + 1);
		r = cp_walk_node(w, dirfd(d), de->d_name, clen, e);
		w->path[plen] = 0;
	}
	if (r == 0 && errno)
		r = err_sys(e, "read %s", plen ? w->path : "the directory");
	closedir(d);
	w->depth--;
	return r;
}

/* The file's data, exactly size bytes whatever happens to the file meanwhile. */
static int
cp_walk_data(struct cp_walk *w, int fd, uint64_t size, struct err *e)
{
	uint64_t left = size;
	int eof = 0;
	while (left) {
		size_t want = left < CP_BUF ? (size_t)left : CP_BUF;
		ssize_t n = 0;
		if (!eof) {
			n = read(fd, w->buf, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return err_sys(e, "read %s", w->path);
		}
		if (n == 0) { /* it shrank: zeros keep the archive whole */
			eof = 1;
			memset(w->buf, 0, want);
			n = (ssize_t)want;
		}
		if (w->cb->data && w->cb->data(w->ctx, w->buf, (size_t)n, e) < 0)
			return -1;
		left -= (uint64_t)n;
		w->bytes += (uint64_t)n;
	}
	return 0;
}

static int
cp_emit(struct cp_walk *w, struct tar_entry *t, struct err *e)
{
	if (w->zero_ids)
		t->uid = t->gid = 0;
	return w->cb->entry ? w->cb->entry(w->ctx, t, e) : 0;
}

static int
cp_end(struct cp_walk *w, struct err *e)
{
	return w->cb->entry_end ? w->cb->entry_end(w->ctx, e) : 0;
}

static int
cp_walk_node(struct cp_walk *w, int dirfd, const char *name, size_t plen, struct err *e)
{
	struct stat st;
	struct tar_entry t;
	struct tar_xattr x;
	int other_mount = 0, fd;
	memset(&t, 0, sizeof t);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0) {
		if (errno == ENOENT && *name)
			return 0; /* gone while we looked */
		return err_sys(e, "%s", plen ? w->path : "stat");
	}
	if (w->one_mount && *name) {
		uint64_t id = w->mnt_id ? cp_mnt_id(dirfd, name) : 0;
		other_mount = id ? id != w->mnt_id : (S_ISDIR(st.st_mode) && st.st_dev != w->dev);
	}
	t.path = plen ? w->path : ".";
	t.mode = st.st_mode & 07777;
	t.uid = st.st_uid;
	t.gid = st.st_gid;
	t.mtime = st.st_mtime;
	if (S_ISDIR(st.st_mode)) {
		t.type = TAR_DIR;
		if (plen && (cp_emit(w, &t, e) < 0 || cp_end(w, e) < 0))
			return -1;
		return other_mount ? 0 : cp_walk_dir(w, dirfd, name, plen, e);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
		if (n < 0)
			return err_sys(e, "readlink %s", w->path);
		target[n] = 0;
		t.type = TAR_SYMLINK;
		t.link = target;
		return cp_emit(w, &t, e) < 0 ? -1 : cp_end(w, e);
	}
	if (other_mount || S_ISSOCK(st.st_mode)) {
		if (S_ISSOCK(st.st_mode))
			return 0; /* tar has no sockets */
		t.type = TAR_FILE; /* a file mounted over: the mount point */
		return cp_emit(w, &t, e) < 0 ? -1 : cp_end(w, e);
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		t.type = S_ISCHR(st.st_mode) ? TAR_CHAR : S_ISBLK(st.st_mode) ? TAR_BLOCK : TAR_FIFO;
		t.devmajor = major(st.st_rdev);
		t.devminor = minor(st.st_rdev);
		return cp_emit(w, &t, e) < 0 ? -1 : cp_end(w, e);
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if (st.st_nlink > 1) {
		size_t i;
		for (i = 0; i < w->nlinks; i++) {
			if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino) {
				t.type = TAR_HARDLINK;
				t.link = w->arena + w->links[i].off;
				return cp_emit(w, &t, e) < 0 ? -1 : cp_end(w, e);
			}
		}
		/* once the table is full, further links are stored as copies */
		if (w->nlinks < CP_LINKS && w->arena_len + plen + 1 <= CP_ARENA) {
			w->links[w->nlinks].dev = st.st_dev;
			w->links[w->nlinks].ino = st.st_ino;
			w->links[w->nlinks++].off = (uint32_t)w->arena_len;
			memcpy(w->arena + w->arena_len, w->path, plen + 1);
			w->arena_len += plen + 1;
		}
	}
	/* never a device or fifo swapped in since the stat: nonblocking, then checked */
	fd = cp_reopen(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return err_sys(e, "open %s", plen ? w->path : "the file");
	{
		struct stat now;
		ssize_t cn;
		if (fstat(fd, &now) < 0 || !S_ISREG(now.st_mode) || now.st_ino != st.st_ino) {
			close(fd);
			return err_set(e, ERR_UNSAFE, "%s changed while being copied", w->path);
		}
		cn = fgetxattr(fd, "security.capability", w->cap, sizeof w->cap);
		if (cn > 0) {
			x.name = "security.capability";
			x.value = w->cap;
			x.len = (size_t)cn;
			t.xattrs = &x;
			t.nxattrs = 1;
		}
	}
	t.type = TAR_FILE;
	t.size = (uint64_t)st.st_size;
	if (cp_emit(w, &t, e) < 0 || cp_walk_data(w, fd, t.size, e) < 0 || cp_end(w, e) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Walk the tree at fd (an O_PATH fd of the top) naming it top in the archive ("": only what is
 * inside a directory). */
static int
cp_walk(struct cp_walk *w, int fd, const char *top, struct err *e)
{
	struct stat st;
	size_t len = strlen(top);
	if (len >= sizeof w->path)
		return err_set(e, ERR_LIMIT, "name too long");
	memcpy(w->path, top, len + 1);
	if (w->one_mount) {
		if (fstat(fd, &st) < 0)
			return err_sys(e, "stat");
		w->dev = st.st_dev;
		w->mnt_id = cp_mnt_id(fd, "");
	}
	return cp_walk_node(w, fd, "", len, e);
}

/* ---------------------------------------------------------------- the extractor: tar events as files */

struct cp_fsx {
	int scope;            /* resolution stops here: the container's root or the host's base */
	char prefix[4096];    /* the base inside the scope ("" for the scope itself) */
	int chown;            /* give entries their owners */
	int soft_chown;       /* owners that cannot be given are left (rootless, unprivileged) */
	int tame;             /* onto the host without -a: no setuid/setgid bits, no devices */
	uint64_t skipped;     /* devices left out */
	int fd;               /* the file being written, -1 */
	int type;
	uint32_t mode, uid, gid;
	int64_t mtime;
	uint64_t bytes;
	char cur[4096];       /* the entry, relative to the base */
	char pdir[8200];      /* the cached parent, relative to the scope */
	int pdirfd;
	/* directories get their modes and times once their contents are in */
	char dpath[4096];
	struct {
		size_t len;
		uint32_t mode;
		int64_t mtime;
	} dirs[CP_DIRS];
	size_t ndirs;
};

static void
cp_fsx_init(struct cp_fsx *x, int scope, const char *prefix, int chown, int soft)
{
	memset(x, 0, sizeof *x);
	x->scope = scope;
	snprintf(x->prefix, sizeof x->prefix, "%s", prefix);
	x->chown = chown;
	x->soft_chown = soft;
	x->fd = -1;
	x->pdirfd = -1;
}

static int
cp_owner_err(struct cp_fsx *x, const char *what, struct err *e)
{
	if (x->soft_chown && (errno == EPERM || errno == EINVAL))
		return 0;
	return err_sys(e, "chown %s", what);
}

/* Mode and mtime of a finished directory (rel to the base), through an fd. */
static int
cp_fix_dir(struct cp_fsx *x, const char *rel, uint32_t mode, int64_t mtime, struct err *e)
{
	char full[8200];
	struct timespec ts[2];
	int fd;
	fd = cp_join(full, sizeof full, x->prefix, rel) < 0
		     ? -1 : cp_open_in(x->scope, full, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return err_sys(e, "%s", rel);
	ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (fchmod(fd, mode) < 0 || futimens(fd, ts) < 0) {
		close(fd);
		return err_sys(e, "%s", rel);
	}
	close(fd);
	return 0;
}

/* Finish the directories that rel is not inside (all of them for rel NULL). */
static int
cp_pop_dirs(struct cp_fsx *x, const char *rel, struct err *e)
{
	while (x->ndirs) {
		size_t len = x->dirs[x->ndirs - 1].len;
		if (rel && !strncmp(rel, x->dpath, len) && rel[len] == '/')
			return 0;
		x->dpath[len] = 0;
		x->ndirs--;
		if (cp_fix_dir(x, x->dpath, x->dirs[x->ndirs].mode, x->dirs[x->ndirs].mtime, e) < 0)
			return -1;
	}
	return 0;
}

/* The directory an entry goes in (rel to the base), created (0755) where missing. */
static int
cp_parent(struct cp_fsx *x, const char *reldir, struct err *e)
{
	char full[8200], part[8200];
	const char *p;
	int cur;
	if (cp_join(full, sizeof full, x->prefix, reldir) < 0)
		return err_sys(e, "%s", reldir);
	if (x->pdirfd >= 0 && !strcmp(full, x->pdir))
		return x->pdirfd;
	if (x->pdirfd >= 0)
		close(x->pdirfd);
	x->pdirfd = -1;
	cur = cp_open_in(x->scope, full, O_PATH | O_DIRECTORY);
	if (cur < 0 && errno == ENOENT) {
		cur = cp_open_in(x->scope, x->prefix, O_PATH | O_DIRECTORY);
		for (p = reldir; cur >= 0 && *p;) {
			const char *end = strchr(p, '/');
			size_t c = end ? (size_t)(end - p) : strlen(p);
			char name[256];
			int next;
			if (c >= sizeof name) {
				close(cur);
				return err_set(e, ERR_LIMIT, "%s: name too long", reldir);
			}
			memcpy(name, p, c);
			name[c] = 0;
			snprintf(part, sizeof part, "%.*s", (int)(p + c - reldir), reldir);
			next = cp_join(full, sizeof full, x->prefix, part) < 0
				       ? -1 : cp_open_in(x->scope, full, O_PATH | O_DIRECTORY);
			if (next < 0 && errno == ENOENT) {
				if (mkdirat(cur, name, 0755) < 0 && errno != EEXIST) {
					close(cur);
					return err_sys(e, "mkdir %s", part);
				}
				if (x->chown && fchownat(cur, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 &&
				    cp_owner_err(x, part, e) < 0) {
					close(cur);
					return -1;
				}
				next = cp_open_in(x->scope, full, O_PATH | O_DIRECTORY);
			}
			close(cur);
			cur = next;
			p += c;
			while (*p == '/')
				p++;
		}
		if (cur >= 0 && cp_join(full, sizeof full, x->prefix, reldir) < 0) {
			close(cur);
			cur = -1;
		}
	}
	if (cur < 0)
		return err_sys(e, "%s", *reldir ? reldir : *x->prefix ? x->prefix : "the destination");
	snprintf(x->pdir, sizeof x->pdir, "%s", full);
	x->pdirfd = cur;
	return cur;
}

/* Make room for a new name: what stands there goes, unless both are directories (1 then). */
static int
cp_make_room(int pfd, const char *name, int want_dir, const char *rel, struct err *e)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_sys(e, "%s", rel);
	if (S_ISDIR(st.st_mode)) {
		if (want_dir)
			return 1;
		return rm_rf(pfd, name, e) < 0 ? err_ctx(e, "replace %s", rel) : 0;
	}
	if (unlinkat(pfd, name, 0) < 0) {
		if (errno == EBUSY && !want_dir && S_ISREG(st.st_mode))
			return 2; /* a mount point (/etc/hosts): written in place */
		return err_sys(e, "replace %s", rel);
	}
	return 0;
}

static int
cp_fsx_entry(void *ctx, const struct tar_entry *t, struct err *e)
{
	struct cp_fsx *x = ctx;
	char reldir[4096];
	const char *name;
	int pfd, room;
	if (cp_rel(t->path, x->cur, sizeof x->cur, e) < 0)
		return -1;
	if (cp_pop_dirs(x, x->cur, e) < 0)
		return -1;
	x->type = t->type;
	x->mode = t->mode & (x->tame ? 01777 : 07777);
	x->uid = t->uid;
	x->gid = t->gid;
	x->mtime = t->mtime;
	if (!x->cur[0]) {
		if (t->type != TAR_DIR)
			return err_set(e, ERR_FORMAT, "%s: not a directory entry", t->path);
		x->type = -1; /* the base itself: left as it is */
		return 0;
	}
	if (x->tame && (t->type == TAR_CHAR || t->type == TAR_BLOCK)) {
		x->skipped++;
		x->type = -1;
		return 0;
	}
	name = cp_split(x->cur, reldir, sizeof reldir);
	if ((pfd = cp_parent(x, reldir, e)) < 0)
		return -1;
	if ((room = cp_make_room(pfd, name, t->type == TAR_DIR, x->cur, e)) < 0)
		return -1;
	switch (t->type) {
	case TAR_DIR:
		if (room != 1 && mkdirat(pfd, name, 0700) < 0)
			return err_sys(e, "mkdir %s", x->cur);
		if (x->chown && fchownat(pfd, name, t->uid, t->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    cp_owner_err(x, x->cur, e) < 0)
			return -1;
		if (x->ndirs == CP_DIRS)
			return cp_fix_dir(x, x->cur, x->mode, x->mtime, e);
		snprintf(x->dpath, sizeof x->dpath, "%s", x->cur);
		x->dirs[x->ndirs].len = strlen(x->cur);
		x->dirs[x->ndirs].mode = x->mode;
		x->dirs[x->ndirs++].mtime = x->mtime;
		return 0;
	case TAR_FILE:
		x->fd = room == 2 ? openat(pfd, name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)
				  : openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					   0600);
		if (x->fd < 0)
			return err_sys(e, "create %s", x->cur);
		if (x->chown && fchown(x->fd, t->uid, t->gid) < 0 && cp_owner_err(x, x->cur, e) < 0)
			return -1;
		if (fchmod(x->fd, x->mode) < 0)
			return err_sys(e, "chmod %s", x->cur);
		if (t->nxattrs && !strcmp(t->xattrs[0].name, "security.capability") &&
		    fsetxattr(x->fd, t->xattrs[0].name, t->xattrs[0].value, t->xattrs[0].len, 0) < 0 &&
		    errno != EPERM && errno != ENOTSUP && errno != EINVAL)
			return err_sys(e, "set the capabilities of %s", x->cur);
		return 0;
	case TAR_SYMLINK:
		if (symlinkat(t->link, pfd, name) < 0)
			return err_sys(e, "symlink %s", x->cur);
		if (x->chown && fchownat(pfd, name, t->uid, t->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    cp_owner_err(x, x->cur, e) < 0)
			return -1;
		return 0;
	case TAR_HARDLINK: {
		char target[4096], full[8200], via[64];
		int tfd;
		if (cp_rel(t->link, target, sizeof target, e) < 0)
			return -1;
		tfd = cp_join(full, sizeof full, x->prefix, target) < 0
			      ? -1 : cp_open_in(x->scope, full, O_PATH | O_NOFOLLOW);
		if (tfd < 0)
			return err_sys(e, "%s: link target %s", x->cur, target);
		snprintf(via, sizeof via, "/proc/self/fd/%d", tfd);
		if (linkat(AT_FDCWD, via, pfd, name, AT_SYMLINK_FOLLOW) < 0) {
			close(tfd);
			return err_sys(e, "link %s to %s", x->cur, target);
		}
		close(tfd);
		x->type = -1;
		return 0;
	}
	case TAR_CHAR:
	case TAR_BLOCK:
	case TAR_FIFO: {
		mode_t kind = t->type == TAR_CHAR ? S_IFCHR : t->type == TAR_FIFO ? S_IFIFO : S_IFBLK;
		if (mknodat(pfd, name, kind | (x->mode & 0777), makedev(t->devmajor, t->devminor)) < 0)
			return err_sys(e, "mknod %s", x->cur);
		if (x->chown && fchownat(pfd, name, t->uid, t->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    cp_owner_err(x, x->cur, e) < 0)
			return -1;
		return 0;
	}
	}
	return err_set(e, ERR_FORMAT, "%s: unsupported entry type", t->path);
}

static int
cp_fsx_data(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	struct cp_fsx *x = ctx;
	if (x->fd < 0)
		return 0;
	while (n) {
		ssize_t w = write(x->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_sys(e, "write %s", x->cur);
		p += w;
		n -= (size_t)w;
		x->bytes += (uint64_t)w;
	}
	return 0;
}

static int
cp_fsx_end(void *ctx, struct err *e)
{
	struct cp_fsx *x = ctx;
	struct timespec ts[2];
	char reldir[4096];
	const char *name;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)x->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (x->fd >= 0) {
		int r = futimens(x->fd, ts);
		if (close(x->fd) < 0 || r < 0) {
			x->fd = -1;
			return err_sys(e, "%s", x->cur);
		}
		x->fd = -1;
		return 0;
	}
	if (x->type == TAR_SYMLINK || x->type == TAR_CHAR || x->type == TAR_BLOCK ||
	    x->type == TAR_FIFO) {
		name = cp_split(x->cur, reldir, sizeof reldir);
		if (x->pdirfd >= 0 && utimensat(x->pdirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != ENOENT)
			return err_sys(e, "%s", x->cur);
	}
	return 0;
}

static const struct tar_cb cp_fsx_cb = {cp_fsx_entry, cp_fsx_data, cp_fsx_end};

static int
cp_fsx_finish(struct cp_fsx *x, struct err *e)
{
	int r = cp_pop_dirs(x, NULL, e);
	if (x->pdirfd >= 0)
		close(x->pdirfd);
	x->pdirfd = -1;
	return r;
}

/* ---------------------------------------------------------------- streams */

struct cp_out {
	int fd;
	size_t len;
	uint8_t buf[CP_BUF];
};

static int
cp_out_flush(struct cp_out *o, struct err *e)
{
	size_t off = 0;
	while (off < o->len) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_sys(e, "write");
		off += (size_t)w;
	}
	o->len = 0;
	return 0;
}

static int
cp_out_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct cp_out *o = ctx;
	while (n) {
		size_t k = CP_BUF - o->len < n ? CP_BUF - o->len : n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p = (const uint8_t *)p + k;
		n -= k;
		if (o->len == CP_BUF && cp_out_flush(o, e) < 0)
			return -1;
	}
	return 0;
}

/* A tar stream from fd into an extractor. */
static int
cp_untar(int fd, struct cp_fsx *x, struct err *e)
{
	struct tar *t = tar_new(&cp_fsx_cb, x);
	uint8_t *buf = xmalloc(CP_BUF);
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, CP_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_sys(e, "read the archive");
			break;
		}
		if (n == 0) {
			r = tar_finish(t, e);
			break;
		}
		r = tar_push(t, buf, (size_t)n, e);
		if (r != 0)
			break;
	}
	if (r == 1)
		r = 0;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	if (cp_fsx_finish(x, e) < 0 && r == 0)
		r = -1;
	tar_free(t);
	free(buf);
	return r;
}

/* ---------------------------------------------------------------- running the job */

struct cp_job {
	struct exec_target *t;
	int dir;             /* CP_OUT (container to host or stream), CP_IN, CP_EXPORT */
	const char *csrc_raw, *hsrc_raw, *dst_raw;
	int follow, archive, to_stdout, from_stdin;
	int outfd;           /* export -o */
	uint64_t bytes, skipped;
};
enum { CP_OUT = 1, CP_IN, CP_EXPORT };

/* Ends in "/." (copy what is inside) or "/" (must be a directory). */
static int
cp_ends_dot(const char *p)
{
	size_t n = strlen(p);
	return (n >= 2 && !strcmp(p + n - 2, "/.")) || !strcmp(p, ".");
}

static int
cp_ends_slash(const char *p)
{
	size_t n = strlen(p);
	return n && (p[n - 1] == '/' || cp_ends_dot(p));
}

/* Host path: the directory part and the last name (trailing slashes ignored). */
static void
cp_host_split(const char *path, char *dir, size_t dn, char *name, size_t nn)
{
	char tmp[4096], *slash;
	size_t len;
	snprintf(tmp, sizeof tmp, "%s", path);
	len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = 0;
	slash = strrchr(tmp, '/');
	if (!slash) {
		snprintf(dir, dn, ".");
		snprintf(name, nn, "%s", tmp);
	} else {
		snprintf(name, nn, "%s", slash + 1);
		if (slash == tmp)
			snprintf(dir, dn, "/");
		else
			snprintf(dir, dn, "%.*s", (int)(slash - tmp), tmp);
	}
}

/* Where a copy out goes on the host: the directory it lands in and its name there ("": what is
 * inside the source directory goes straight into dir). */
static int
cp_out_plan(const struct cp_job *j, const char *csrc, int contents, const struct stat *sst,
	    char *dir, char *top, size_t n, struct err *e)
{
	struct stat dst;
	const char *srcname = strrchr(csrc, '/') ? strrchr(csrc, '/') + 1 : csrc;
	int have = stat(j->dst_raw, &dst) == 0;
	if (!have && errno != ENOENT)
		return err_sys(e, "%s", j->dst_raw);
	if (have && S_ISDIR(dst.st_mode)) {
		snprintf(dir, n, "%s", j->dst_raw);
		snprintf(top, n, "%s", contents ? "" : srcname);
		return 0;
	}
	if (have && S_ISDIR(sst->st_mode))
		return err_set(e, ERR_USAGE, "cannot copy a directory to a file: %s", j->dst_raw);
	if (!have && cp_ends_slash(j->dst_raw))
		return err_set(e, ERR_NOTFOUND, "%s: no such directory", j->dst_raw);
	cp_host_split(j->dst_raw, dir, n, top, n);
	if (stat(dir, &dst) < 0 || !S_ISDIR(dst.st_mode))
		return err_set(e, ERR_NOTFOUND, "%s: no such directory", dir);
	return 0;
}

static int
cp_job_out(struct cp_job *j, struct err *e)
{
	char csrc[4096], dir[4096], top[4096];
	struct cp_walk *w;
	struct stat sst;
	int sfd, r, contents;
	cp_clean(j->csrc_raw, csrc, sizeof csrc);
	contents = cp_ends_dot(j->csrc_raw) || !csrc[0];
	sfd = cp_open_in(j->t->rootfd, csrc, O_PATH | (j->follow ? 0 : O_NOFOLLOW));
	if (sfd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return err_set(e, ERR_NOTFOUND, "Could not find the file /%s in container %s", csrc,
			       j->t->name);
	if (sfd < 0)
		return err_sys(e, "/%s", csrc);
	if (fstat(sfd, &sst) < 0) {
		r = err_sys(e, "/%s", csrc);
	} else if (cp_ends_slash(j->csrc_raw) && !S_ISDIR(sst.st_mode)) {
		r = err_set(e, ERR_USAGE, "/%s: not a directory", csrc);
	} else {
		contents = contents && S_ISDIR(sst.st_mode);
		r = j->to_stdout ? 0 : cp_out_plan(j, csrc, contents, &sst, dir, top, sizeof dir, e);
	}
	if (r < 0) {
		close(sfd);
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	if (j->to_stdout) {
		struct cp_out *o = xmalloc(sizeof *o);
		struct tarw tw;
		o->fd = 1;
		o->len = 0;
		tarw_init(&tw, cp_out_write, o);
		w->cb = &tarw_tar_cb;
		w->ctx = &tw;
		r = cp_walk(w, sfd, contents ? "" : strrchr(csrc, '/') ? strrchr(csrc, '/') + 1 : csrc, e);
		if (r == 0 && (tarw_finish(&tw, e) < 0 || cp_out_flush(o, e) < 0))
			r = -1;
		free(o);
	} else {
		int base = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (base < 0) {
			r = err_sys(e, "%s", dir);
		} else {
			struct cp_fsx *x = xmalloc(sizeof *x);
			cp_fsx_init(x, base, "", j->archive, geteuid() != 0 || j->t->nsfd[0] >= 0);
			x->tame = !j->archive;
			w->cb = &cp_fsx_cb;
			w->ctx = x;
			r = cp_walk(w, sfd, top, e);
			if (x->fd >= 0)
				close(x->fd);
			if (cp_fsx_finish(x, r < 0 ? &(struct err){0} : e) < 0)
				r = -1;
			j->skipped = x->skipped;
			free(x);
			close(base);
		}
	}
	j->bytes = w->bytes;
	free(w);
	close(sfd);
	return r;
}

/* Where a copy in goes in the container: prefix (a path in it) and the name there. */
static int
cp_in_plan(const struct cp_job *j, const char *cdst, const struct stat *sst, int contents,
	   char *prefix, char *top, size_t n, struct err *e)
{
	struct stat dst;
	int dfd = cp_open_in(j->t->rootfd, cdst, O_PATH), exists = dfd >= 0, isdir = 0;
	if (dfd < 0 && errno != ENOENT)
		return err_sys(e, "/%s", cdst);
	if (dfd >= 0) {
		int r = fstat(dfd, &dst);
		close(dfd);
		if (r < 0)
			return err_sys(e, "/%s", cdst);
		isdir = S_ISDIR(dst.st_mode);
	}
	if (!sst) { /* a tar stream: into a directory */
		if (!isdir)
			return err_set(e, ERR_NOTFOUND, "/%s: no such directory in container %s", cdst,
				       j->t->name);
		snprintf(prefix, n, "%s", cdst);
		return 0;
	}
	if (isdir) {
		snprintf(prefix, n, "%s", cdst);
		if (contents)
			top[0] = 0;
		return 0;
	}
	if (exists && S_ISDIR(sst->st_mode))
		return err_set(e, ERR_USAGE, "cannot copy a directory to a file: /%s", cdst);
	if (!exists && cp_ends_slash(j->dst_raw))
		return err_set(e, ERR_NOTFOUND, "/%s: no such directory in container %s", cdst,
			       j->t->name);
	snprintf(top, n, "%s", cp_split(cdst, prefix, n));
	dfd = cp_open_in(j->t->rootfd, prefix, O_PATH | O_DIRECTORY);
	if (dfd < 0)
		return err_set(e, ERR_NOTFOUND, "/%s: no such directory in container %s", prefix,
			       j->t->name);
	close(dfd);
	return 0;
}

static int
cp_job_in(struct cp_job *j, struct err *e)
{
	char cdst[4096], prefix[4096], top[4096], dir[4096];
	struct cp_fsx *x;
	struct cp_walk *w;
	struct stat sst;
	int r, rootless = j->t->nsfd[0] >= 0, sfd, contents;
	cp_clean(j->dst_raw, cdst, sizeof cdst);
	if (j->from_stdin) {
		if (cp_in_plan(j, cdst, NULL, 0, prefix, top, sizeof prefix, e) < 0)
			return -1;
		x = xmalloc(sizeof *x);
		cp_fsx_init(x, j->t->rootfd, prefix, 1, rootless);
		r = cp_untar(0, x, e);
		j->bytes = x->bytes;
		free(x);
		return r;
	}
	sfd = open(j->hsrc_raw, O_PATH | O_CLOEXEC | (j->follow ? 0 : O_NOFOLLOW));
	if (sfd < 0)
		return err_sys(e, "%s", j->hsrc_raw);
	if (fstat(sfd, &sst) < 0) {
		close(sfd);
		return err_sys(e, "%s", j->hsrc_raw);
	}
	cp_host_split(j->hsrc_raw, dir, sizeof dir, top, sizeof top);
	contents = S_ISDIR(sst.st_mode) && (cp_ends_dot(j->hsrc_raw) || !strcmp(top, ".") ||
					     !strcmp(top, "..") || !strcmp(top, "/"));
	if (cp_in_plan(j, cdst, &sst, contents, prefix, top, sizeof prefix, e) < 0) {
		close(sfd);
		return -1;
	}
	x = xmalloc(sizeof *x);
	w = xcalloc(1, sizeof *w);
	cp_fsx_init(x, j->t->rootfd, prefix, 1, rootless);
	w->cb = &cp_fsx_cb;
	w->ctx = x;
	w->zero_ids = !j->archive;
	r = cp_walk(w, sfd, top, e);
	if (x->fd >= 0)
		close(x->fd);
	if (cp_fsx_finish(x, r < 0 ? &(struct err){0} : e) < 0)
		r = -1;
	j->bytes = w->bytes;
	free(w);
	free(x);
	close(sfd);
	return r;
}

static int
cp_job_export(struct cp_job *j, struct err *e)
{
	struct cp_walk *w = xcalloc(1, sizeof *w);
	struct cp_out *o = xmalloc(sizeof *o);
	struct tarw tw;
	int r;
	o->fd = j->outfd;
	o->len = 0;
	tarw_init(&tw, cp_out_write, o);
	w->cb = &tarw_tar_cb;
	w->ctx = &tw;
	w->one_mount = 1;
	r = cp_walk(w, j->t->rootfd, "", e);
	if (r == 0 && (tarw_finish(&tw, e) < 0 || cp_out_flush(o, e) < 0))
		r = -1;
	free(w);
	free(o);
	return r;
}

static int
cp_job_run(struct cp_job *j, struct err *e)
{
	umask(0);
	if (j->dir == CP_OUT)
		return cp_job_out(j, e);
	if (j->dir == CP_IN)
		return cp_job_in(j, e);
	return cp_job_export(j, e);
}

/* Run the job here, or for a rootless container in a child inside its user namespace. */
static int
cp_run(struct cp_job *j, struct err *e)
{
	struct {
		int ok;
		uint64_t bytes, skipped;
		char msg[sizeof e->msg];
	} res;
	int p[2], status;
	pid_t pid;
	ssize_t n;
	if (j->t->nsfd[0] < 0)
		return cp_job_run(j, e);
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return err_sys(e, "fork");
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		memset(&res, 0, sizeof res);
		if (exec_target_userns(j->t, e) == 0 && cp_job_run(j, e) == 0)
			res.ok = 1;
		res.bytes = j->bytes;
		res.skipped = j->skipped;
		memcpy(res.msg, e->msg, sizeof res.msg);
		if (write(p[1], &res, sizeof res) < 0)
			_exit(1);
		_exit(res.ok ? 0 : 1);
	}
	close(p[1]);
	do
		n = read(p[0], &res, sizeof res);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof res)
		return err_set(e, ERR_SYS, "the copy failed");
	res.msg[sizeof res.msg - 1] = 0;
	if (!res.ok)
		return err_set(e, ERR_SYS, "%s", res.msg);
	j->bytes = res.bytes;
	j->skipped = res.skipped;
	return 0;
}

/* ---------------------------------------------------------------- dock cp, dock export */

/* "CONTAINER:PATH": the container part and the path, or NULL for a local path (absolute ones, and
 * any without ':' before a '/'), as docker splits them. */
static const char *
cp_container_part(const char *arg, char *ctr, size_t n)
{
	const char *colon = strchr(arg, ':');
	if (arg[0] == '/' || arg[0] == '.' || !colon || (strchr(arg, '/') && strchr(arg, '/') < colon))
		return NULL;
	snprintf(ctr, n, "%.*s", (int)(colon - arg), arg);
	return colon + 1;
}

static const char cp_usage[] =
	"Usage: dock cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
	"       dock cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n"
	"Copy files and directories between a running container and the host.  '-' is a tar\n"
	"archive on stdin or stdout.  SRC_PATH/. copies what is inside the directory.\n\nOptions:\n"
	"  -a, --archive       keep owners (default: root's in the container, yours on the host)\n"
	"  -L, --follow-link   follow a symbolic link given as SRC_PATH\n"
	"  -q, --quiet         no summary on a terminal\n";

int
cmd_cp(int argc, char **argv)
{
	struct exec_target t;
	struct cp_job j;
	struct err e = {0};
	char ctr_src[256], ctr_dst[256];
	const char *csrc, *cdst, *args[2];
	int i, nargs = 0, quiet = 0;
	cli_help_exit(argc, argv, cp_usage);
	memset(&j, 0, sizeof j);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			for (i++; i < argc && nargs < 2; i++)
				args[nargs++] = argv[i];
			if (i < argc)
				nargs = 3;
			break;
		}
		if (a[0] == '-' && a[1] == '-') {
			if (!strcmp(a, "--archive"))
				j.archive = 1;
			else if (!strcmp(a, "--follow-link"))
				j.follow = 1;
			else if (!strcmp(a, "--quiet"))
				quiet = 1;
			else
				die("cp: unknown option %s (see dock cp --help)", a);
		} else if (a[0] == '-' && a[1] && strspn(a + 1, "aLq") == strlen(a + 1)) {
			j.archive |= strchr(a, 'a') != NULL;
			j.follow |= strchr(a, 'L') != NULL;
			quiet |= strchr(a, 'q') != NULL;
		} else if (a[0] == '-' && a[1]) {
			die("cp: unknown option %s (see dock cp --help)", a);
		} else if (nargs < 2) {
			args[nargs++] = a;
		} else {
			nargs = 3;
		}
	}
	if (nargs != 2)
		die("cp: requires exactly two arguments (see dock cp --help)");
	csrc = cp_container_part(args[0], ctr_src, sizeof ctr_src);
	cdst = cp_container_part(args[1], ctr_dst, sizeof ctr_dst);
	if (csrc && cdst)
		die("cp: copying between containers is not supported");
	if (!csrc && !cdst)
		die("cp: must specify at least one container source");
	if (csrc) {
		j.dir = CP_OUT;
		j.csrc_raw = *csrc ? csrc : "/";
		j.dst_raw = args[1];
		j.to_stdout = !strcmp(args[1], "-");
	} else {
		j.dir = CP_IN;
		j.hsrc_raw = args[0];
		j.dst_raw = *cdst ? cdst : "/";
		j.from_stdin = !strcmp(args[0], "-");
	}
	exec_target_open("cp", csrc ? ctr_src : ctr_dst, &t);
	j.t = &t;
	if (cp_run(&j, &e) < 0)
		die("cp: %s", e.msg);
	if (j.skipped)
		warn("cp: %llu device file%s not copied (-a copies them)",
		     (unsigned long long)j.skipped, j.skipped == 1 ? "" : "s");
	if (!quiet && !j.to_stdout && isatty(2)) {
		char size[32];
		cli_size((int64_t)j.bytes, size, sizeof size);
		fprintf(stderr, "Successfully copied %s to %s\n", size, args[1]);
	}
	exec_target_close(&t);
	return 0;
}

static const char export_usage[] =
	"Usage: dock export [OPTIONS] CONTAINER\n\n"
	"Write a running container's filesystem as a tar archive (to stdout by default).\n"
	"Other mounts (/proc, /sys, /dev, volumes) appear as empty mount points.\n\nOptions:\n"
	"  -o, --output FILE   write to FILE instead of stdout\n";

int
cmd_export(int argc, char **argv)
{
	struct exec_target t;
	struct cp_job j;
	struct err e = {0};
	const char *out = NULL, *name = NULL;
	char tmp[4200];
	int i;
	cli_help_exit(argc, argv, export_usage);
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
			out = argv[++i];
		else if (!strncmp(argv[i], "--output=", 9))
			out = argv[i] + 9;
		else if (argv[i][0] == '-' && argv[i][1])
			die("export: unknown option %s (see dock export --help)", argv[i]);
		else if (!name)
			name = argv[i];
		else
			die("export: requires exactly one container");
	}
	if (!name)
		die("export: requires a container (see dock export --help)");
	if (!out && isatty(1))
		die("export: refusing to write an archive to a terminal; use -o FILE or redirect");
	exec_target_open("export", name, &t);
	memset(&j, 0, sizeof j);
	j.t = &t;
	j.dir = CP_EXPORT;
	j.outfd = 1;
	if (out) {
		/* a temporary name beside it: an interrupted export leaves no half archive */
		snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
		j.outfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (j.outfd < 0)
			die_errno("export: %s", tmp);
	}
	if (cp_run(&j, &e) < 0) {
		if (out)
			unlink(tmp);
		die("export: %s", e.msg);
	}
	if (out) {
		if (fsync(j.outfd) < 0 || close(j.outfd) < 0 || rename(tmp, out) < 0) {
			unlink(tmp);
			die_errno("export: %s", out);
		}
	}
	exec_target_close(&t);
	return 0;
}
