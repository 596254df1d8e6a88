/* tree.c: the canonical digest of a layer's unpacked tree (layers/HEX/diff), taken at pull time and
 * kept as layers/HEX/tree so that `dock system check` can tell a layer changed on disk from the one
 * that was pulled (the tar stream that diff_id names is gone by then).  Owns, per walk, a 64 KiB
 * read buffer, xattr buffers, a fixed table of hardlinked inodes, and the sorted names of the
 * directories on the current path (one malloc'd list per open level, capped in total).
 *
 * The digest is sha256 over one record per entry, in a fixed order: pre-order, each directory's
 * names sorted bytewise.  A record is a sequence of tagged fields, every number decimal and ended
 * by ';', every byte string length-prefixed ("LEN:" then the bytes), so no two trees share a
 * listing.  Fields, in this order:
 *   P path (relative to the tree, "" for the tree's root), T type (d f l c b p s), M mode & 07777,
 *   U uid, G gid, t mtime in seconds, then S size and H sha256 of the content (files), L target
 *   (symlinks) or D major;minor (devices; overlay's whiteouts are the 0:0 character devices), then
 *   X name value per xattr, sorted by name; the record ends with '\n'.
 * Decisions:
 * - mtime seconds count (dock sets them from the archive; a file rewritten in place changes them),
 *   nanoseconds do not: a filesystem with coarser on-disk timestamps keeps them only while the
 *   inode is cached, and most archives carry whole seconds anyway.  atime and ctime never count.
 * - xattrs named trusted.overlay.* and user.overlay.* are listed as overlay.* (the marker, not the
 *   namespace a root or rootless store keeps it in).  security.selinux is left out: it is the
 *   host's label, and a relabel is not damage.
 * - Hardlinks: a non-directory whose link count is over one is remembered (by device and inode)
 *   with its record's ordinal; a later name for the same inode is the record "P path =ORD;\n".  A
 *   link to outside the tree thus changes nothing, a broken or added link changes the listing.
 *   Past the table's size, later inodes are listed as plain entries (deterministic for one tree).
 * - Owners are as this process sees them: a rootless store is digested and checked by its owner.
 *   Entries this process cannot read because their own mode shuts it out (rootless: files of mode
 *   000, directories without u+rx) are opened up for the moment of reading, then given their mode
 *   back (a chmod touches ctime only).
 * - Directories nested deeper than 200 (the applier's cap) are ERR_LIMIT; so are more than
 *   TREE_NAMES_MAX bytes of names held at once along one path.  Never follows a symlink. */

#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* ---------------------------------------------------------------- state */

#define TREE_DEPTH 200
#define TREE_NAMES_MAX (64u << 20)
#define TREE_LINKS 32768 /* a power of two */
#define TREE_XNAMES 4096

struct tree_link {
	uint64_t dev, ino, ord; /* ord 0: empty slot (ordinals start at 1) */
};

struct tree_walk {
	struct sha256 h;
	uint64_t ord;
	size_t held; /* bytes of names held by the open levels */
	size_t nlinks;
	uid_t euid;
	struct tree_link *links;
	char path[4096 + 256];
	char xlist[65536];
	char xval[65536];
	const char *xnames[TREE_XNAMES];
	uint8_t chunk[64 << 10];
};

static void
tree_num(struct tree_walk *w, char tag, long long v)
{
	char s[32];
	int n = snprintf(s, sizeof s, "%c%lld;", tag, v);
	sha256_update(&w->h, s, (size_t)n);
}

static void
tree_bytes(struct tree_walk *w, char tag, const void *p, size_t len)
{
	char s[32];
	int n = snprintf(s, sizeof s, "%c%zu:", tag, len);
	sha256_update(&w->h, s, (size_t)n);
	sha256_update(&w->h, p, len);
}

/* ---------------------------------------------------------------- hardlinks */

/* The ordinal of the first record of this inode, or 0 (and it is remembered as ord). */
static uint64_t
tree_link_seen(struct tree_walk *w, const struct stat *st, uint64_t ord)
{
	uint64_t k = ((uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull) ^ (uint64_t)st->st_dev;
	size_t i = (size_t)(k >> 17) & (TREE_LINKS - 1);
	for (;;) {
		struct tree_link *l = &w->links[i];
		if (!l->ord) {
			/* keep a quarter free so probes stay short */
			if (w->nlinks < TREE_LINKS - TREE_LINKS / 4) {
				l->dev = (uint64_t)st->st_dev;
				l->ino = (uint64_t)st->st_ino;
				l->ord = ord;
				w->nlinks++;
			}
			return 0;
		}
		if (l->dev == (uint64_t)st->st_dev && l->ino == (uint64_t)st->st_ino)
			return l->ord;
		i = (i + 1) & (TREE_LINKS - 1);
	}
}

/* ---------------------------------------------------------------- xattrs */

static const char *
tree_xcanon(const char *name)
{
	if (!strncmp(name, "trusted.overlay.", 16))
		return name + 8;
	if (!strncmp(name, "user.overlay.", 13))
		return name + 5;
	return name;
}

static int
tree_xcmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int c = strcmp(tree_xcanon(x), tree_xcanon(y));
	return c ? c : strcmp(x, y);
}

/* fd when there is one, else name in dirfd through /proc (symlinks, devices, fifos). */
static int
tree_xattrs(struct tree_walk *w, int fd, int dirfd, const char *name, struct err *e)
{
	const char **names = w->xnames;
	char proc[320];
	ssize_t n, off, v;
	size_t k = 0, i;
	if (fd < 0)
		snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", dirfd, name);
	n = fd >= 0 ? flistxattr(fd, w->xlist, sizeof w->xlist) : llistxattr(proc, w->xlist, sizeof w->xlist);
	if (n < 0) {
		/* NOLINTNEXTLINE(misc-redundant-expression): ENOTSUP == EOPNOTSUPP on Linux */
		if (errno == ENOTSUP || errno == EOPNOTSUPP)
			return 0;
		return err_sys(e, "%s: list xattrs", w->path);
	}
	for (off = 0; off < n; off += (ssize_t)strlen(w->xlist + off) + 1) {
		if (!strcmp(w->xlist + off, "security.selinux"))
			continue;
		if (k == TREE_XNAMES)
			return err_set(e, ERR_LIMIT, "%s: more than %d xattrs", w->path, TREE_XNAMES);
		names[k++] = w->xlist + off;
	}
	qsort(names, k, sizeof *names, tree_xcmp);
	for (i = 0; i < k; i++) {
		const char *c = tree_xcanon(names[i]);
		v = fd >= 0 ? fgetxattr(fd, names[i], w->xval, sizeof w->xval)
			    : lgetxattr(proc, names[i], w->xval, sizeof w->xval);
		if (v < 0)
			return err_sys(e, "%s: get xattr %s", w->path, names[i]);
		tree_bytes(w, 'X', c, strlen(c));
		tree_bytes(w, 'V', w->xval, (size_t)v);
	}
	return 0;
}

/* ---------------------------------------------------------------- the walk */

/* Open name (a file or directory, not a symlink, as st says) for reading.  *back is set to the mode
 * to give back when it had to be opened up (else -1). */
static int
tree_open(struct tree_walk *w, int dirfd, const char *name, const struct stat *st, int *back,
	  struct err *e)
{
	int dir = S_ISDIR(st->st_mode);
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (dir ? O_DIRECTORY : O_NOCTTY | O_NONBLOCK);
	int fd = openat(dirfd, name, flags);
	*back = -1;
	if (fd < 0 && errno == EACCES && st->st_uid == w->euid) {
		mode_t want = (st->st_mode | (dir ? 0500 : 0400)) & 07777;
		if (fchmodat(dirfd, name, want, 0) < 0)
			return err_sys(e, "%s: open up for reading", w->path);
		fd = openat(dirfd, name, flags);
		if (fd < 0) {
			int err = errno;
			fchmodat(dirfd, name, st->st_mode & 07777, 0);
			errno = err;
		} else if (dir) {
			*back = (int)(st->st_mode & 07777); /* its subtree is walked first */
		} else if (fchmod(fd, st->st_mode & 07777) < 0) {
			close(fd);
			return err_sys(e, "%s: give its mode back", w->path);
		}
	}
	if (fd < 0)
		return err_sys(e, "%s: open", w->path);
	return fd;
}

static int
tree_content(struct tree_walk *w, int fd, struct err *e)
{
	struct sha256 c;
	uint8_t out[32];
	ssize_t n;
	sha256_init(&c);
	while ((n = read(fd, w->chunk, sizeof w->chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, "%s: read", w->path);
		sha256_update(&c, w->chunk, (size_t)n);
	}
	sha256_final(&c, out);
	tree_bytes(w, 'H', out, sizeof out);
	return 0;
}

static int
tree_namecmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int tree_dir(struct tree_walk *w, int fd, size_t plen, int depth, struct err *e);

/* One entry: name in dirfd, whose path is w->path[0..plen). */
static int
tree_entry(struct tree_walk *w, int dirfd, const char *name, size_t plen, int depth, struct err *e)
{
	struct stat st;
	uint64_t ord = ++w->ord, first;
	int fd = -1, back = -1, r = -1;
	char type;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(e, "%s: stat", w->path);
	tree_bytes(w, 'P', w->path, plen);
	first = !S_ISDIR(st.st_mode) && st.st_nlink > 1 ? tree_link_seen(w, &st, ord) : 0;
	if (first) {
		tree_num(w, '=', (long long)first);
		sha256_update(&w->h, "\n", 1);
		return 0;
	}
	type = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : S_ISLNK(st.st_mode) ? 'l' :
	       S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : S_ISFIFO(st.st_mode) ? 'p' : 's';
	sha256_update(&w->h, "T", 1);
	sha256_update(&w->h, &type, 1);
	tree_num(w, 'M', (long long)(st.st_mode & 07777));
	tree_num(w, 'U', (long long)st.st_uid);
	tree_num(w, 'G', (long long)st.st_gid);
	tree_num(w, 't', (long long)st.st_mtim.tv_sec);
	if (type == 'd' || type == 'f') {
		fd = tree_open(w, dirfd, name, &st, &back, e);
		if (fd < 0)
			return -1;
	}
	if (type == 'f') {
		tree_num(w, 'S', (long long)st.st_size);
		if (tree_content(w, fd, e) < 0)
			goto out;
	} else if (type == 'l') {
		char target[4096];
		ssize_t n = readlinkat(dirfd, name, target, sizeof target);
		if (n < 0 || (size_t)n == sizeof target) {
			if (n >= 0)
				errno = ENAMETOOLONG;
			err_sys(e, "%s: readlink", w->path);
			goto out;
		}
		tree_bytes(w, 'L', target, (size_t)n);
	} else if (type == 'c' || type == 'b') {
		char d[48];
		int n = snprintf(d, sizeof d, "D%u;%u;", major(st.st_rdev), minor(st.st_rdev));
		sha256_update(&w->h, d, (size_t)n);
	}
	if (tree_xattrs(w, fd, dirfd, name, e) < 0)
		goto out;
	sha256_update(&w->h, "\n", 1);
	r = type == 'd' ? tree_dir(w, fd, plen, depth + 1, e) : 0;
out:
	if (back >= 0 && fchmod(fd, (mode_t)back) < 0 && r == 0)
		r = err_sys(e, "%s: give its mode back", w->path);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The entries of directory fd (path w->path[0..plen)), names sorted. */
static int
tree_dir(struct tree_walk *w, int fd, size_t plen, int depth, struct err *e)
{
	char *names = NULL, **list = NULL;
	size_t len = 0, cap = 0, n = 0, i, off;
	int dfd, r = -1;
	DIR *d;
	struct dirent *de;
	if (depth > TREE_DEPTH + 1) /* the root is depth 1 */
		return err_set(e, ERR_LIMIT, "%s: directories nested more than %d deep", w->path,
			       TREE_DEPTH);
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return err_sys(e, "%s: open directory", w->path);
	}
	errno = 0;
	while ((de = readdir(d))) {
		size_t k = strlen(de->d_name) + 1;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (w->held + len + k > TREE_NAMES_MAX) {
			err_set(e, ERR_LIMIT, "%s: more than %u bytes of names along one path", w->path,
				TREE_NAMES_MAX);
			goto out;
		}
		if (len + k > cap) {
			char *p;
			cap = cap ? cap * 2 : 4096;
			while (cap < len + k)
				cap *= 2;
			p = realloc(names, cap);
			if (!p) {
				err_set(e, ERR_LIMIT, "%s: out of memory", w->path);
				goto out;
			}
			names = p;
		}
		memcpy(names + len, de->d_name, k);
		len += k;
		n++;
	}
	if (errno) {
		err_sys(e, "%s: read directory", w->path);
		goto out;
	}
	closedir(d);
	d = NULL;
	if (n)
		list = malloc(n * sizeof *list);
	if (n && !list) {
		err_set(e, ERR_LIMIT, "%s: out of memory", w->path);
		goto out;
	}
	for (i = 0, off = 0; i < n; i++, off += strlen(names + off) + 1)
		list[i] = names + off;
	if (n)
		qsort(list, n, sizeof *list, tree_namecmp);
	w->held += len + n * sizeof *list;
	for (i = 0; i < n; i++) {
		size_t k = strlen(list[i]), at = plen ? plen + 1 : 0;
		if (at + k >= sizeof w->path) {
			err_set(e, ERR_LIMIT, "%.200s...: path too long", w->path);
			break;
		}
		if (plen)
			w->path[plen] = '/';
		memcpy(w->path + at, list[i], k + 1);
		if (tree_entry(w, fd, list[i], at + k, depth, e) < 0)
			break;
		w->path[plen] = 0;
	}
	w->held -= len + n * sizeof *list;
	if (i == n)
		r = 0;
out:
	if (d)
		closedir(d);
	free(list);
	free(names);
	return r;
}

/* ---------------------------------------------------------------- entry point */

/* The canonical digest of the tree under dirfd (see the head of the file): "sha256:HEX" in out. */
int
tree_digest(int dirfd, char out[72], struct err *e)
{
	struct tree_walk *w = calloc(1, sizeof *w);
	int r;
	if (w)
		w->links = calloc(TREE_LINKS, sizeof *w->links);
	if (!w || !w->links) {
		free(w);
		return err_set(e, ERR_LIMIT, "tree digest: out of memory");
	}
	w->euid = geteuid();
	w->path[0] = 0;
	sha256_init(&w->h);
	{
		/* the root's own record: its metadata, path "" */
		struct stat st;
		if (fstat(dirfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			r = err_sys(e, "tree digest: not a directory");
			goto out;
		}
		w->ord++;
		tree_bytes(w, 'P', "", 0);
		sha256_update(&w->h, "Td", 2);
		tree_num(w, 'M', (long long)(st.st_mode & 07777));
		tree_num(w, 'U', (long long)st.st_uid);
		tree_num(w, 'G', (long long)st.st_gid);
		tree_num(w, 't', (long long)st.st_mtim.tv_sec);
		r = tree_xattrs(w, dirfd, -1, ".", e);
		if (r < 0)
			goto out;
		sha256_update(&w->h, "\n", 1);
	}
	r = tree_dir(w, dirfd, 0, 1, e);
	if (r == 0)
		sha256_digest_str(&w->h, out);
out:
	free(w->links);
	free(w);
	return r;
}
