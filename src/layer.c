/* layer.c: applies tar events to a layer directory in overlayfs's own format, and merges such
 * directories onto one another for `dock unpack`.  Owns, per applier, the file being written, a
 * 64 KiB write buffer and a fixed stack of directories whose mtimes wait for their last child; per
 * merge, a fixed table of hardlinked inodes.
 *
 * Safety is the point.  Paths are cleaned lexically first: a leading "/" is dropped (Docker treats
 * absolute names as relative to the root), "." and empty components vanish, ".." removes the
 * component before it, and a ".." that would climb above the root is ERR_UNSAFE (a component over
 * 255 bytes, a path over 4095 or directories nested deeper than a merge goes (200) is ERR_LIMIT,
 * said before any system call or `dock unpack` says less).  The parent
 * directory is then opened beneath the root without following any symlink: openat2 with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or, where openat2 fails, one O_NOFOLLOW openat per component
 * (which also creates missing parents, 0755 as Docker does).  A symlink in a directory position is
 * ERR_UNSAFE; a non-directory there is ERR_FORMAT.  The final component is never followed: what is
 * there is unlinked (a directory is removed without following symlinks) and the new entry created
 * with O_EXCL|O_NOFOLLOW, mknodat, symlinkat or linkat without AT_SYMLINK_FOLLOW (a hardlink to a
 * symlink links the symlink).  Metadata goes through the new fd, or *at(..., AT_SYMLINK_NOFOLLOW),
 * or l*xattr on "/proc/self/fd/PARENT/NAME", never through a path that could follow a symlink.
 *
 * Decisions:
 * - Whiteouts ".wh.NAME" become 0:0 character devices (the kernel lets unprivileged users make
 *   those since Linux 5.8; where mknod still fails the entry is an error, never silently dropped).
 *   ".wh..wh..opq" sets overlay.opaque=y on its directory, before or after the directory's
 *   contents; other ".wh..wh.*" names are ignored; ".wh.", ".wh..", ".wh..." are errors, and so is
 *   ".wh." at the start of a directory component.  xattrs named trusted.overlay.* or
 *   user.overlay.* in an archive are dropped with a warning: they would steer overlayfs.
 * - The root: a directory entry for "." updates the root's owner, mode and xattrs; any other type
 *   there is ERR_UNSAFE.  A hardlink whose target is its own name is a no-op.
 * - Hardlinks get no metadata of their own (the inode has it).  Only file data counts against
 *   max_bytes.  xattrs refused with EPERM or ENOTSUP are skipped with a warning (as Docker does).
 * - Device numbers past Linux's 12-bit major and 20-bit minor are ERR_FORMAT (mknod would make
 *   whatever device the low bits name).
 * - Rootless: no chown; devices are skipped with a warning (fifos are made); directories are made
 *   owner-writable until their last child is in, then get their own mode.
 * - Directory mtimes: a directory entry's fd goes on a stack while the entries that follow are
 *   inside it; when the archive leaves it, its mode (rootless) and times are set.  Any entry made in
 *   a directory not on the stack puts that directory's times back afterwards, so unsorted archives
 *   come out right too, with fixed memory.
 * - Merge: what a layer has replaces what lies below, as overlayfs shows it (a directory of the
 *   upper layer gives its attributes even if made implicitly).  Hardlinks are kept between names of
 *   one layer (a fixed table; past it, copies, with a warning); overlay.* xattrs are not copied.
 *   Rootless, read-only directories below are opened up while entries go in or out of them. */

#include <dirent.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* ---------------------------------------------------------------- openat2 (musl has no wrapper) */

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
#ifndef RESOLVE_BENEATH
#define RESOLVE_BENEATH 0x08
#endif

struct layer_how { /* struct open_how of <linux/openat2.h> */
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};

static int layer_no_openat2; /* set once openat2 turns out to be missing or filtered */

/* ---------------------------------------------------------------- state */

#define LAYER_PATH_MAX 4096
#define LAYER_MERGE_DEPTH 200 /* directory levels; each level of a merge holds three fds */
#define LAYER_STACK 64
#define LAYER_WBUF 65536

struct layer_dir {
	size_t len;        /* its path is chain[0..len) */
	int fd;
	int64_t mtime;
	uint32_t nsec;
	uint32_t mode;
};

struct layer_apply {
	int rootfd;
	struct layer_opts o;
	uint64_t total;
	int fd;                      /* file receiving data, or -1 */
	const struct tar_entry *cur; /* valid until entry_end (tar's promise) */
	size_t wlen;
	int root_set;
	struct layer_dir root;
	size_t depth;
	struct layer_dir stack[LAYER_STACK];
	char chain[LAYER_PATH_MAX];  /* path of the deepest directory on the stack */
	char path[LAYER_PATH_MAX];   /* cleaned path of the current entry */
	char target[LAYER_PATH_MAX]; /* cleaned hardlink target */
	uint8_t wbuf[LAYER_WBUF];
};

/* An object to set metadata on: an open fd, or name inside dirfd (never followed). */
struct layer_node {
	int fd;
	int dirfd;
	const char *name;
	int lnk;
};

static void
layer_warn(const struct layer_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
layer_warn(const struct layer_opts *o, const char *fmt, ...)
{
	char msg[640];
	va_list ap;
	if (!o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->warn(msg);
}

/* ---------------------------------------------------------------- paths */

/* Lexical cleaning; see the head of the file. */
static int
layer_clean(const char *in, char *out, struct err *e)
{
	const char *p = in;
	size_t o = 0;
	int rooted = *in == '/';
	while (*p) {
		const char *s = p;
		size_t n;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (*p)
			p++;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			/* Docker cleans "/../../x" to "/x" (".." at "/" stays at "/"), so absolute names
			 * stay inside; a relative name that climbs above the root is an attack */
			if (o == 0 && rooted)
				continue;
			if (o == 0)
				return err_set(e, ERR_UNSAFE, "%s: climbs out of the layer", in);
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			continue;
		}
		if (n > 255)
			return err_set(e, ERR_LIMIT, "%.200s...: name component longer than 255 bytes", in);
		if (o + 1 + n >= LAYER_PATH_MAX)
			return err_set(e, ERR_LIMIT, "%.200s...: path longer than %d bytes", in,
				       LAYER_PATH_MAX - 1);
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = 0;
	return 0;
}

/* Open directory dir (cleaned, "" for the root) beneath rootfd without following symlinks.  With
 * create, missing components are made; making one never changes its parent's times. */
static int
layer_walk(int rootfd, const char *dir, int create, const char *what, struct err *e)
{
	const char *p = dir;
	int fd, nfd;
	if (!layer_no_openat2) {
		struct layer_how how = {O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
					RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
		fd = (int)syscall(SYS_openat2, rootfd, *dir ? dir : ".", &how, sizeof how);
		if (fd >= 0)
			return fd;
		if (errno == ENOSYS || errno == EPERM || errno == E2BIG)
			layer_no_openat2 = 1;
		/* Anything else: the walk below says exactly what is wrong, or makes what is missing. */
	}
	fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "%s: open the root", what);
	while (*p) {
		char name[256];
		const char *s = p;
		size_t n;
		struct stat st;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (*p)
			p++;
		if (n >= sizeof name) {
			close(fd);
			return err_set(e, ERR_LIMIT, "%s: name longer than 255 bytes", what);
		}
		memcpy(name, s, n);
		name[n] = 0;
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			int had = fstat(fd, &st) == 0;
			if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST) {
				err_sys(e, "%s: mkdir %.*s", what, (int)(p - dir), dir);
				close(fd);
				return -1;
			}
			if (had) {
				struct timespec ts[2] = {st.st_atim, st.st_mtim};
				futimens(fd, ts);
			}
			nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd >= 0)
				fchmod(nfd, 0755); /* whatever the umask */
		}
		if (nfd < 0) {
			int err = errno, there = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
			if (there && S_ISLNK(st.st_mode))
				err_set(e, ERR_UNSAFE, "%s: %.*s is a symlink", what, (int)(s + n - dir), dir);
			else if (there && !S_ISDIR(st.st_mode))
				err_set(e, ERR_FORMAT, "%s: %.*s is not a directory", what, (int)(s + n - dir),
					dir);
			else {
				errno = err;
				err_sys(e, "%s: open %.*s", what, (int)(s + n - dir), dir);
			}
			close(fd);
			return -1;
		}
		close(fd);
		fd = nfd;
	}
	return fd;
}

static int layer_rm(const struct layer_opts *o, int dirfd, const char *name, struct err *e);

/* Remove everything inside directory fd.  One pass: readdir returns every entry that is not
 * removed meanwhile exactly once, and only entries already returned are removed. */
static int
layer_empty_dir(const struct layer_opts *o, int fd, struct err *e)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return err_sys(e, "open");
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (layer_rm(o, fd, de->d_name, e) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* rm -rf name in dirfd, never following a symlink.  Rootless, a read-only directory is opened up
 * first (root needs no such help). */
static int
layer_rm(const struct layer_opts *o, int dirfd, const char *name, struct err *e)
{
	struct stat st;
	int fd, r;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_sys(e, "stat %s", name);
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? err_sys(e, "unlink %s", name) : 0;
	if (o->rootless && (st.st_mode & 0700) != 0700 &&
	    fchmodat(dirfd, name, (st.st_mode | 0700) & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(e, "chmod %s", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", name);
	r = layer_empty_dir(o, fd, e);
	close(fd);
	if (r < 0)
		return err_ctx(e, "%s", name);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return err_sys(e, "rmdir %s", name);
	return 0;
}

/* Make room for a non-directory: remove whatever is at name, without following it. */
static int
layer_clear(const struct layer_opts *o, int pfd, const char *name, const char *what, struct err *e)
{
	return layer_rm(o, pfd, name, e) < 0 ? err_ctx(e, "%s", what) : 0;
}

/* ---------------------------------------------------------------- metadata */

static int
layer_is_overlay_xattr(const char *name)
{
	return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}

static int
layer_chown(const struct layer_opts *o, const struct layer_node *n, uint32_t uid, uint32_t gid,
	    const char *what, struct err *e)
{
	int r;
	if (o->rootless)
		return 0;
	if (n->fd >= 0)
		r = fchown(n->fd, uid, gid);
	else
		r = fchownat(n->dirfd, n->name, uid, gid, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? err_sys(e, "%s: chown", what) : 0;
}

/* After chown, which clears setuid and setgid. */
static int
layer_chmod(const struct layer_node *n, uint32_t mode, const char *what, struct err *e)
{
	struct stat st;
	if (n->lnk)
		return 0;
	if (n->fd >= 0) {
		if (fchmod(n->fd, mode) < 0)
			return err_sys(e, "%s: chmod", what);
		return 0;
	}
	if (fchmodat(n->dirfd, n->name, mode, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	/* Older libcs refuse the flag.  n is a device or fifo we just made in a directory only we
	 * write to; make sure it is still not a symlink and use the plain call. */
	if (errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL &&
	    errno != ENOENT)
		return err_sys(e, "%s: chmod", what);
	if (fstatat(n->dirfd, n->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode) ||
	    fchmodat(n->dirfd, n->name, mode, 0) < 0)
		return err_sys(e, "%s: chmod", what);
	return 0;
}

static int
layer_setxattr(const struct layer_opts *o, const struct layer_node *n, const char *name,
	       const void *v, size_t len, const char *what, struct err *e)
{
	int r;
	if (layer_is_overlay_xattr(name)) {
		layer_warn(o, "%s: dropping xattr %s", what, name);
		return 0;
	}
	if (n->fd >= 0) {
		r = fsetxattr(n->fd, name, v, len, 0);
	} else {
		char proc[320];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", n->dirfd, n->name);
		r = lsetxattr(proc, name, v, len, 0);
	}
	if (r == 0)
		return 0;
	/* NOLINTNEXTLINE(misc-redundant-expression): ENOTSUP == EOPNOTSUPP on Linux, not everywhere */
	if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || (n->fd < 0 && errno == ENOENT)) {
		layer_warn(o, "%s: xattr %s not set: %s", what, name, strerror(errno));
		return 0;
	}
	return err_sys(e, "%s: set xattr %s", what, name);
}

static int
layer_times(const struct layer_node *n, const struct timespec ts[2], const char *what, struct err *e)
{
	int r = n->fd >= 0 ? futimens(n->fd, ts) : utimensat(n->dirfd, n->name, ts, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? err_sys(e, "%s: set times", what) : 0;
}

/* Owner, mode, xattrs from a tar entry, in that order (chown clears setuid bits and file
 * capabilities; writes clear capabilities too, so files come here after their data). */
static int
layer_meta(struct layer_apply *a, const struct layer_node *n, const struct tar_entry *t,
	   uint32_t mode, struct err *e)
{
	size_t i;
	if (layer_chown(&a->o, n, t->uid, t->gid, a->path, e) < 0 ||
	    layer_chmod(n, mode, a->path, e) < 0)
		return -1;
	for (i = 0; i < t->nxattrs; i++)
		if (layer_setxattr(&a->o, n, t->xattrs[i].name, t->xattrs[i].value, t->xattrs[i].len,
				   a->path, e) < 0)
			return -1;
	return 0;
}

static void
layer_entry_times(const struct tar_entry *t, struct timespec ts[2])
{
	ts[0].tv_sec = ts[1].tv_sec = (time_t)t->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = t->mtime_nsec;
}

/* ---------------------------------------------------------------- deferred directories */

static int
layer_settle(struct layer_apply *a, const struct layer_dir *d, struct err *e)
{
	struct timespec ts[2] = {{(time_t)d->mtime, d->nsec}, {(time_t)d->mtime, d->nsec}};
	if (a->o.rootless && fchmod(d->fd, d->mode) < 0)
		return err_sys(e, "%.*s/: chmod", (int)d->len, a->chain);
	if (futimens(d->fd, ts) < 0)
		return err_sys(e, "%.*s/: set times", (int)d->len, a->chain);
	return 0;
}

/* Settle every directory on the stack that path is not inside. */
static int
layer_pop(struct layer_apply *a, const char *path, struct err *e)
{
	size_t n = strlen(path);
	while (a->depth) {
		struct layer_dir *d = &a->stack[a->depth - 1];
		int r;
		if (d->len < n && !memcmp(a->chain, path, d->len) && path[d->len] == '/')
			break;
		r = layer_settle(a, d, e);
		close(d->fd);
		a->depth--;
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Takes fd. */
static int
layer_defer(struct layer_apply *a, int fd, const struct tar_entry *t, struct err *e)
{
	struct layer_dir d = {strlen(a->path), fd, t->mtime, t->mtime_nsec, t->mode};
	int r;
	if (a->depth < LAYER_STACK) {
		/* Whatever stays on the stack is a prefix of this path, so chain can become it. */
		memcpy(a->chain, a->path, d.len);
		a->stack[a->depth++] = d;
		return 0;
	}
	memcpy(a->chain, a->path, d.len); /* for messages; the stack's entries are prefixes */
	r = layer_settle(a, &d, e);
	close(fd);
	return r;
}

/* ---------------------------------------------------------------- entries */

static int
layer_root(struct layer_apply *a, const struct tar_entry *t, struct err *e)
{
	struct layer_node n = {a->rootfd, -1, NULL, 0};
	if (t->type != TAR_DIR)
		return err_set(e, ERR_UNSAFE, "%s: would replace the layer's root", t->path);
	strcpy(a->path, ".");
	if (layer_meta(a, &n, t, a->o.rootless ? (t->mode | 0700) : t->mode, e) < 0)
		return -1;
	a->root_set = 1;
	a->root.len = 0;
	a->root.fd = a->rootfd;
	a->root.mtime = t->mtime;
	a->root.nsec = t->mtime_nsec;
	a->root.mode = t->mode;
	return 0;
}

static int
layer_dir(struct layer_apply *a, const struct tar_entry *t, int pfd, const char *leaf, struct err *e)
{
	struct stat st;
	struct layer_node n = {-1, -1, NULL, 0};
	int exists = 0;
	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			exists = 1;
		else if (unlinkat(pfd, leaf, 0) < 0)
			return err_sys(e, "%s: unlink", a->path);
	} else if (errno != ENOENT) {
		return err_sys(e, "%s: stat", a->path);
	}
	if (!exists && mkdirat(pfd, leaf, 0700) < 0)
		return err_sys(e, "%s: mkdir", a->path);
	n.fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (n.fd < 0)
		return err_sys(e, "%s: open", a->path);
	if (layer_meta(a, &n, t, a->o.rootless ? (t->mode | 0700) : t->mode, e) < 0) {
		close(n.fd);
		return -1;
	}
	return layer_defer(a, n.fd, t, e);
}

static int
layer_link(struct layer_apply *a, const struct tar_entry *t, int pfd, const char *leaf, struct err *e)
{
	char *tleaf, *slash, what[420];
	struct stat st;
	int tfd, r;
	if (layer_clean(t->link, a->target, e) < 0)
		return err_ctx(e, "%s: hardlink target", a->path);
	if (!a->target[0])
		return err_set(e, ERR_UNSAFE, "%s: hardlink to the layer's root", a->path);
	if (!strcmp(a->target, a->path))
		return 0;
	snprintf(what, sizeof what, "%.200s: hardlink to %.200s", a->path, a->target);
	slash = strrchr(a->target, '/');
	tleaf = slash ? slash + 1 : a->target;
	if (slash)
		*slash = 0;
	tfd = layer_walk(a->rootfd, slash ? a->target : "", 0, what, e);
	if (slash)
		*slash = '/';
	if (tfd < 0)
		return -1;
	if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		err_sys(e, "%s", what);
	} else if (S_ISDIR(st.st_mode)) {
		err_set(e, ERR_FORMAT, "%s: hardlink to directory %s", a->path, a->target);
	} else if (layer_clear(&a->o, pfd, leaf, a->path, e) == 0) {
		r = linkat(tfd, tleaf, pfd, leaf, 0);
		close(tfd);
		return r < 0 ? err_sys(e, "%s: hardlink to %s", a->path, a->target) : 0;
	}
	close(tfd);
	return -1;
}

static int
layer_special(struct layer_apply *a, const struct tar_entry *t, int pfd, const char *leaf,
	      struct err *e)
{
	struct layer_node n = {-1, pfd, leaf, t->type == TAR_SYMLINK};
	struct timespec ts[2];
	if (t->type == TAR_SYMLINK) {
		if (!t->link[0])
			return err_set(e, ERR_FORMAT, "%s: symlink with an empty target", a->path);
		if (layer_clear(&a->o, pfd, leaf, a->path, e) < 0)
			return -1;
		if (symlinkat(t->link, pfd, leaf) < 0)
			return err_sys(e, "%s: symlink", a->path);
	} else {
		mode_t type = t->type == TAR_CHAR ? S_IFCHR : t->type == TAR_BLOCK ? S_IFBLK : S_IFIFO;
		dev_t dev = type == S_IFIFO ? 0 : makedev(t->devmajor, t->devminor);
		/* mknod's dev is the kernel's 32-bit encoding (12-bit major, 20-bit minor): larger
		 * numbers lose their high bits and name another device (4097,3 is 1,3, /dev/null;
		 * 4096,0 would be a whiteout) */
		if (type != S_IFIFO && (t->devmajor > 0xfff || t->devminor > 0xfffff))
			return err_set(e, ERR_FORMAT, "%s: device number %u,%u out of range", a->path,
				       t->devmajor, t->devminor);
		if (type != S_IFIFO && a->o.rootless) {
			layer_warn(&a->o, "%s: device not created (rootless)", a->path);
			return 0;
		}
		if (layer_clear(&a->o, pfd, leaf, a->path, e) < 0)
			return -1;
		if (mknodat(pfd, leaf, type | 0600, dev) < 0)
			return err_sys(e, "%s: mknod", a->path);
	}
	if (layer_meta(a, &n, t, t->mode, e) < 0)
		return -1;
	layer_entry_times(t, ts);
	return layer_times(&n, ts, a->path, e);
}

static int
layer_whiteout(struct layer_apply *a, const struct tar_entry *t, int pfd, const char *leaf,
	       struct err *e)
{
	const char *name = leaf + 4;
	struct layer_node n = {-1, pfd, name, 0};
	struct timespec ts[2];
	if (!strncmp(leaf, ".wh..wh.", 8)) {
		const char *x = a->o.rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
		if (strcmp(leaf, ".wh..wh..opq"))
			return 0; /* aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): nothing for overlay */
		if (fsetxattr(pfd, x, "y", 1, 0) < 0)
			return err_sys(e, "%s: set %s", a->path, x);
		return 0;
	}
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return err_set(e, !strcmp(name, "..") ? ERR_UNSAFE : ERR_FORMAT, "%s: invalid whiteout",
			       a->path);
	if (layer_clear(&a->o, pfd, name, a->path, e) < 0)
		return -1;
	if (mknodat(pfd, name, S_IFCHR, makedev(0, 0)) < 0)
		return err_sys(e, "%s: make whiteout%s", a->path,
			       errno == EPERM ? " (needs Linux 5.8 or CAP_MKNOD)" : "");
	layer_entry_times(t, ts); /* for reproducible layers; overlayfs ignores them */
	return layer_times(&n, ts, a->path, e);
}

static int
layer_make(struct layer_apply *a, const struct tar_entry *t, int pfd, const char *leaf,
	   struct err *e)
{
	if (!strncmp(leaf, ".wh.", 4))
		return layer_whiteout(a, t, pfd, leaf, e);
	switch (t->type) {
	case TAR_FILE:
		if (layer_clear(&a->o, pfd, leaf, a->path, e) < 0)
			return -1;
		a->fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (a->fd < 0)
			return err_sys(e, "%s: create", a->path);
		a->wlen = 0;
		return 0;
	case TAR_DIR:
		return layer_dir(a, t, pfd, leaf, e);
	case TAR_HARDLINK:
		return layer_link(a, t, pfd, leaf, e);
	default:
		return layer_special(a, t, pfd, leaf, e);
	}
}

static int
layer_entry(void *ctx, const struct tar_entry *t, struct err *e)
{
	struct layer_apply *a = ctx;
	char *path = a->path, *slash, *leaf, *c;
	size_t plen;
	struct stat pst;
	int pfd, rc, restore;

	a->cur = t;
	if (layer_clean(t->path, path, e) < 0)
		return -1;
	{
		/* what a merge could not copy is refused now, not when the image is unpacked */
		size_t levels = t->type == TAR_DIR && path[0];
		for (c = path; *c; c++)
			levels += *c == '/';
		if (levels > LAYER_MERGE_DEPTH)
			return err_set(e, ERR_LIMIT, "%.200s...: directories nested more than %d deep",
				       path, LAYER_MERGE_DEPTH);
	}
	if (t->type == TAR_FILE && a->o.max_bytes && t->size > a->o.max_bytes - a->total)
		return err_set(e, ERR_LIMIT, "layer larger than %llu bytes at %s",
			       (unsigned long long)a->o.max_bytes, path);
	if (t->type == TAR_FILE)
		a->total += t->size;
	if (!path[0])
		return layer_root(a, t, e);
	slash = strrchr(path, '/');
	leaf = slash ? slash + 1 : path;
	plen = slash ? (size_t)(slash - path) : 0;
	for (c = path; c < path + plen; c = strchr(c, '/') + 1)
		if (!strncmp(c, ".wh.", 4))
			return err_set(e, ERR_FORMAT, "%s: whiteout name used as a directory", path);
	if (layer_pop(a, path, e) < 0)
		return -1;
	if (slash)
		*slash = 0;
	pfd = layer_walk(a->rootfd, slash ? path : "", 1, t->path, e);
	if (slash)
		*slash = '/';
	if (pfd < 0 && e->code == ERR_FORMAT && !strncmp(leaf, ".wh.", 4))
		return 0; /* a whiteout below a non-directory (umoci writes these): nothing to hide */
	if (pfd < 0)
		return -1;
	restore = plen && !(a->depth && a->stack[a->depth - 1].len == plen);
	if (restore && fstat(pfd, &pst) < 0) {
		close(pfd);
		return err_sys(e, "%s: stat parent", path);
	}
	rc = layer_make(a, t, pfd, leaf, e);
	if (restore) {
		struct timespec ts[2] = {pst.st_atim, pst.st_mtim};
		if (futimens(pfd, ts) < 0 && rc == 0)
			rc = err_sys(e, "%s: set times of parent", path);
	}
	close(pfd);
	return rc;
}

static int
layer_flush(struct layer_apply *a, struct err *e)
{
	if (a->wlen && write_all(a->fd, a->wbuf, a->wlen) < 0)
		return err_sys(e, "%s: write", a->path);
	a->wlen = 0;
	return 0;
}

static int
layer_data(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	struct layer_apply *a = ctx;
	if (a->fd < 0)
		return 0;
	if (!a->wlen && n >= LAYER_WBUF)
		return write_all(a->fd, p, n) < 0 ? err_sys(e, "%s: write", a->path) : 0;
	while (n) {
		size_t k = LAYER_WBUF - a->wlen < n ? LAYER_WBUF - a->wlen : n;
		memcpy(a->wbuf + a->wlen, p, k);
		a->wlen += k;
		p += k;
		n -= k;
		if (a->wlen == LAYER_WBUF && layer_flush(a, e) < 0)
			return -1;
	}
	return 0;
}

static int
layer_entry_end(void *ctx, struct err *e)
{
	struct layer_apply *a = ctx;
	struct layer_node n = {a->fd, -1, NULL, 0};
	struct timespec ts[2];
	int rc;
	if (a->fd < 0)
		return 0;
	layer_entry_times(a->cur, ts);
	rc = layer_flush(a, e);
	if (!rc)
		rc = layer_meta(a, &n, a->cur, a->cur->mode, e);
	if (!rc)
		rc = layer_times(&n, ts, a->path, e);
	if (close(a->fd) < 0 && !rc)
		rc = err_sys(e, "%s: close", a->path);
	a->fd = -1;
	return rc;
}

const struct tar_cb layer_tar_cb = {layer_entry, layer_data, layer_entry_end};

struct layer_apply *
layer_apply_new(int rootfd, const struct layer_opts *o)
{
	struct layer_apply *a = xcalloc(1, sizeof *a);
	a->rootfd = rootfd;
	a->o = *o;
	a->fd = -1;
	return a;
}

void
layer_apply_free(struct layer_apply *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	while (a->depth)
		close(a->stack[--a->depth].fd);
	free(a);
}

int
layer_apply_finish(struct layer_apply *a, struct err *e)
{
	if (a->fd >= 0)
		return err_set(e, ERR_FORMAT, "%s: archive ended inside the file", a->path);
	if (layer_pop(a, "", e) < 0)
		return -1;
	if (a->root_set) {
		a->root_set = 0;
		return layer_settle(a, &a->root, e);
	}
	return 0;
}

/* ---------------------------------------------------------------- merge */

#define LAYER_LINKS 4096           /* hash slots for inodes with several names */
#define LAYER_LINK_NAMES (256 * 1024)

struct layer_link {
	dev_t dev;
	ino_t ino;
	uint32_t off; /* of its first dst path in names, +1; 0 when the slot is free */
};

struct layer_merge {
	const struct layer_opts *o;
	int dstroot;
	size_t plen;
	size_t nlinks, names_used;
	int links_warned;
	char path[LAYER_PATH_MAX]; /* relative path of the entry being merged */
	char lnk[LAYER_PATH_MAX];
	struct layer_link links[LAYER_LINKS];
	char names[LAYER_LINK_NAMES];
	char xlist[65536];         /* XATTR_LIST_MAX */
	uint8_t xval[65536];       /* XATTR_SIZE_MAX */
	uint8_t buf[65536];
};

static int
layer_is_opaque(int fd)
{
	char v[2];
	return (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') ||
	       (fgetxattr(fd, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
}

static struct layer_link *
layer_link_slot(struct layer_merge *m, const struct stat *st)
{
	size_t i = (size_t)((st->st_ino * 0x9e3779b97f4a7c15ull) >> 52) % LAYER_LINKS;
	while (m->links[i].off && (m->links[i].ino != st->st_ino || m->links[i].dev != st->st_dev))
		i = (i + 1) % LAYER_LINKS;
	return &m->links[i];
}

static void
layer_link_add(struct layer_merge *m, const struct stat *st)
{
	struct layer_link *l;
	if (m->nlinks >= LAYER_LINKS * 3 / 4 || m->names_used + m->plen + 1 > LAYER_LINK_NAMES) {
		if (!m->links_warned++)
			layer_warn(m->o, "%s: too many hardlinks in one layer; copying the rest", m->path);
		return;
	}
	l = layer_link_slot(m, st);
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	l->off = (uint32_t)m->names_used + 1;
	memcpy(m->names + m->names_used, m->path, m->plen + 1);
	m->names_used += m->plen + 1;
	m->nlinks++;
}

/* Link name in dfd to the dst copy of an inode seen before; 0 when done, -1 to copy instead. */
static int
layer_link_to_first(struct layer_merge *m, const struct stat *st, int dfd, const char *name)
{
	struct layer_link *l = layer_link_slot(m, st);
	struct err e2;
	char first[LAYER_PATH_MAX], *slash;
	int pfd, r;
	if (!l->off)
		return -1;
	strcpy(first, m->names + l->off - 1);
	slash = strrchr(first, '/');
	if (slash)
		*slash = 0;
	pfd = layer_walk(m->dstroot, slash ? first : "", 0, m->path, &e2);
	if (pfd < 0)
		return -1;
	r = linkat(pfd, slash ? slash + 1 : first, dfd, name, 0);
	close(pfd);
	return r;
}

static int
layer_copy_data(struct layer_merge *m, int sfd, int dfd, struct err *e)
{
	ssize_t r;
	for (;;) {
		r = copy_file_range(sfd, NULL, dfd, NULL, 1 << 30, 0);
		if (r > 0)
			continue;
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* ENOTSUP == EOPNOTSUPP on Linux, not everywhere */
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
		    errno != ENOTSUP && errno != EBADF && errno != EPERM) /* NOLINT(misc-redundant-expression) */
			return err_sys(e, "%s: copy", m->path);
		break;
	}
	for (;;) {
		r = read(sfd, m->buf, sizeof m->buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(e, "%s: read", m->path);
		if (r == 0)
			return 0;
		if (write_all(dfd, m->buf, (size_t)r) < 0)
			return err_sys(e, "%s: write", m->path);
	}
}

/* Owner, mode, xattrs (not overlay's own) and times of s onto d. */
static int
layer_copy_meta(struct layer_merge *m, const struct stat *st, const struct layer_node *s,
		const struct layer_node *d, struct err *e)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	char sproc[320];
	ssize_t n, vn;
	size_t i;
	if (layer_chown(m->o, d, st->st_uid, st->st_gid, m->path, e) < 0 ||
	    layer_chmod(d, st->st_mode & 07777, m->path, e) < 0)
		return -1;
	if (s->fd < 0)
		snprintf(sproc, sizeof sproc, "/proc/self/fd/%d/%s", s->dirfd, s->name);
	n = s->fd >= 0 ? flistxattr(s->fd, m->xlist, sizeof m->xlist)
		       : llistxattr(sproc, m->xlist, sizeof m->xlist);
	/* NOLINTNEXTLINE(misc-redundant-expression): ENOTSUP == EOPNOTSUPP on Linux only */
	if (n < 0 && errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENOENT)
		return err_sys(e, "%s: list xattrs", m->path);
	for (i = 0; n > 0 && i < (size_t)n; i += strlen(m->xlist + i) + 1) {
		const char *name = m->xlist + i;
		if (layer_is_overlay_xattr(name))
			continue;
		vn = s->fd >= 0 ? fgetxattr(s->fd, name, m->xval, sizeof m->xval)
				: lgetxattr(sproc, name, m->xval, sizeof m->xval);
		if (vn < 0)
			return err_sys(e, "%s: get xattr %s", m->path, name);
		if (layer_setxattr(m->o, d, name, m->xval, (size_t)vn, m->path, e) < 0)
			return -1;
	}
	return layer_times(d, ts, m->path, e);
}

static int layer_merge_dir(struct layer_merge *m, int sfd, int dfd, int depth, struct err *e);

/* Rootless, a read-only directory a lower layer left could not take new entries: open it up until
 * its own metadata is copied after its children. */
static int
layer_writable(const struct layer_opts *o, int fd, const char *what, struct err *e)
{
	struct stat st;
	if (!o->rootless)
		return 0;
	if (fstat(fd, &st) < 0)
		return err_sys(e, "%s: stat", what);
	if ((st.st_mode & 0700) != 0700 && fchmod(fd, (st.st_mode | 0700) & 07777) < 0)
		return err_sys(e, "%s: chmod", what);
	return 0;
}

static int
layer_merge_subdir(struct layer_merge *m, const struct stat *st, int sfd, int dfd, const char *name,
		   int dexists, int disdir, int depth, struct err *e)
{
	struct layer_node sn = {-1, -1, NULL, 0}, dn = {-1, -1, NULL, 0};
	int rc = -1;
	if (depth >= LAYER_MERGE_DEPTH)
		return err_set(e, ERR_LIMIT, "%s: directories nested more than %d deep", m->path,
			       LAYER_MERGE_DEPTH);
	if (dexists && !disdir && unlinkat(dfd, name, 0) < 0)
		return err_sys(e, "%s: unlink", m->path);
	if (!disdir && mkdirat(dfd, name, 0700) < 0)
		return err_sys(e, "%s: mkdir", m->path);
	sn.fd = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sn.fd < 0)
		return err_sys(e, "%s: open layer directory", m->path);
	dn.fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dn.fd < 0) {
		err_sys(e, "%s: open", m->path);
		goto out;
	}
	if (layer_writable(m->o, dn.fd, m->path, e) < 0)
		goto out;
	if (disdir && layer_is_opaque(sn.fd) && layer_empty_dir(m->o, dn.fd, e) < 0) {
		err_ctx(e, "%s: opaque directory", m->path);
		goto out;
	}
	if (layer_merge_dir(m, sn.fd, dn.fd, depth + 1, e) == 0)
		rc = layer_copy_meta(m, st, &sn, &dn, e);
out:
	close(sn.fd);
	if (dn.fd >= 0)
		close(dn.fd);
	return rc;
}

static int
layer_merge_file(struct layer_merge *m, const struct stat *st, int sfd, int dfd, const char *name,
		 struct err *e)
{
	struct layer_node sn = {-1, -1, NULL, 0}, dn = {-1, -1, NULL, 0};
	int rc;
	if (st->st_nlink > 1 && layer_link_to_first(m, st, dfd, name) == 0)
		return 0;
	sn.fd = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sn.fd < 0)
		return err_sys(e, "%s: open layer file", m->path);
	dn.fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dn.fd < 0) {
		close(sn.fd);
		return err_sys(e, "%s: create", m->path);
	}
	rc = layer_copy_data(m, sn.fd, dn.fd, e);
	if (!rc)
		rc = layer_copy_meta(m, st, &sn, &dn, e);
	close(sn.fd);
	if (close(dn.fd) < 0 && !rc)
		rc = err_sys(e, "%s: close", m->path);
	if (!rc && st->st_nlink > 1)
		layer_link_add(m, st);
	return rc;
}

static int
layer_merge_one(struct layer_merge *m, int sfd, int dfd, const char *name, int depth, struct err *e)
{
	struct stat st, dt;
	struct layer_node sn = {-1, sfd, name, 0}, dn = {-1, dfd, name, 0};
	int dexists, disdir;

	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(e, "%s: stat layer entry", m->path);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return layer_rm(m->o, dfd, name, e) < 0 ? err_ctx(e, "%s: whiteout", m->path) : 0;
	dexists = fstatat(dfd, name, &dt, AT_SYMLINK_NOFOLLOW) == 0;
	if (!dexists && errno != ENOENT)
		return err_sys(e, "%s: stat", m->path);
	disdir = dexists && S_ISDIR(dt.st_mode);
	if (S_ISDIR(st.st_mode))
		return layer_merge_subdir(m, &st, sfd, dfd, name, dexists, disdir, depth, e);
	if (dexists && layer_clear(m->o, dfd, name, m->path, e) < 0)
		return -1;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return layer_merge_file(m, &st, sfd, dfd, name, e);
	case S_IFLNK: {
		ssize_t n = readlinkat(sfd, name, m->lnk, sizeof m->lnk - 1);
		if (n < 0)
			return err_sys(e, "%s: readlink", m->path);
		m->lnk[n] = 0;
		if (symlinkat(m->lnk, dfd, name) < 0)
			return err_sys(e, "%s: symlink", m->path);
		sn.lnk = dn.lnk = 1;
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
		if (m->o->rootless) {
			layer_warn(m->o, "%s: device not created (rootless)", m->path);
			return 0;
		}
		/* fall through */
	case S_IFIFO:
		if (mknodat(dfd, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
			return err_sys(e, "%s: mknod", m->path);
		break;
	default:
		return 0; /* sockets: nothing a layer should carry */
	}
	return layer_copy_meta(m, &st, &sn, &dn, e);
}

static int
layer_merge_dir(struct layer_merge *m, int sfd, int dfd, int depth, struct err *e)
{
	int fd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	size_t old = m->plen;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_sys(e, "%s: open layer directory", old ? m->path : ".");
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (old + 1 + n >= sizeof m->path) {
			err_set(e, ERR_LIMIT, "%.200s...: path too long", m->path);
			closedir(d);
			return -1;
		}
		if (old)
			m->path[m->plen++] = '/';
		memcpy(m->path + m->plen, de->d_name, n + 1);
		m->plen += n;
		if (layer_merge_one(m, sfd, dfd, de->d_name, depth, e) < 0) {
			closedir(d);
			return -1;
		}
		m->plen = old;
		m->path[old] = 0;
	}
	closedir(d);
	return 0;
}

int
layer_merge(int srcfd, int dstfd, const struct layer_opts *o, struct err *e)
{
	struct layer_merge *m = xcalloc(1, sizeof *m);
	struct layer_node sn = {srcfd, -1, NULL, 0}, dn = {dstfd, -1, NULL, 0};
	struct stat st;
	int rc = -1;
	m->o = o;
	m->dstroot = dstfd;
	if (fstat(srcfd, &st) < 0) {
		err_sys(e, "stat layer directory");
		goto out;
	}
	if (layer_writable(o, dstfd, ".", e) < 0)
		goto out;
	if (layer_is_opaque(srcfd) && layer_empty_dir(o, dstfd, e) < 0) {
		err_ctx(e, "opaque root");
		goto out;
	}
	if (layer_merge_dir(m, srcfd, dstfd, 0, e) == 0)
		rc = layer_copy_meta(m, &st, &sn, &dn, e);
out:
	free(m);
	return rc;
}

int
layer_sync(int fd, struct err *e)
{
	if (syncfs(fd) < 0)
		return err_sys(e, "syncfs");
	return 0;
}
