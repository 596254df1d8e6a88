/* store.c: the on-disk image store.  Owns the layout below the store root, its locks, its
 * temporary area and the atomic record updates.  Every path inside is relative to the root's fd,
 * so a store copied elsewhere (into an initramfs) still works.
 *
 *   blobs/sha256/HEX     manifests and configs, verified, immutable
 *   layers/HEX/diff/     one unpacked layer per diff_id, in overlayfs's own format
 *   layers/HEX/size      its uncompressed size (decimal)
 *   layers/HEX/tree      "sha256:...": its tree's canonical digest at pull time (tree.c), which
 *                        `system check` compares; absent in layers pulled by older docks
 *   images/HEX.json      image record (HEX = config digest = image ID)
 *   repositories.json    {"name:tag": "sha256:ID", ...}
 *   locks/               flock files: "store" (shared by pulls, exclusive for removal), per-blob ones
 *   tmp/P-N/             a process's scratch area, locked while it lives; leftovers cleared at open
 *
 * Compressed layer blobs are not kept once their layer is verified and unpacked: on an initramfs
 * every byte is RAM, and the unpacked tree is what running needs.  Nothing half-written is ever
 * visible: a layer is built under tmp/, synced once, renamed into layers/; records are written to a
 * temporary name and renamed. */

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>


/* ---------------------------------------------------------------- opening */

static int
store_check_fs(struct store *s, struct err *e)
{
	/* A layer needs device-node whiteouts and overlay xattrs: refuse filesystems without them
	 * (vfat, some network filesystems) once, when the store is made. */
	char probe[64]; /* per process: concurrent first uses of a store probe side by side */
	const char *xname = s->rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
	int fd;
	snprintf(probe, sizeof probe, ".probe-%ld", (long)getpid());
	unlinkat(s->fd, probe, 0);
	fd = openat(s->fd, probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, "store %s: cannot create files", s->path);
	if (fsetxattr(fd, xname, "y", 1, 0) < 0) {
		int sys = errno;
		close(fd);
		unlinkat(s->fd, probe, 0);
		errno = sys;
		return err_sys(e, "store %s: the filesystem cannot hold %s xattrs (overlay layers need them); "
			       "use --root on ext4, xfs, btrfs or tmpfs", s->path, xname);
	}
	close(fd);
	unlinkat(s->fd, probe, 0);
	if (!s->rootless) {
		if (mknodat(s->fd, probe, S_IFCHR | 0600, makedev(0, 0)) < 0)
			return err_sys(e, "store %s: the filesystem cannot hold device nodes (overlay "
				       "whiteouts need them); use --root on ext4, xfs, btrfs or tmpfs", s->path);
		unlinkat(s->fd, probe, 0);
	}
	return 0;
}

/* Is "NAME.tmp-PID" a temporary of file_write_atomic whose writer is gone?  A writer killed
 * between create and rename leaves one next to the record it was replacing. */
static int
store_dead_temp(const char *name)
{
	const char *t = strstr(name, ".tmp-");
	char *end;
	long pid;
	if (!t)
		return 0;
	pid = strtol(t + 5, &end, 10);
	if (*end || end == t + 5 || pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Remove dead writers' temporaries from one directory of records. */
static void
store_clear_temps(struct store *s, const char *dir)
{
	int fd = openat(s->fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (store_dead_temp(de->d_name))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* Remove tmp/ entries whose owner is gone: each owner holds an flock on its directory. */
static void
store_clear_tmp(struct store *s)
{
	int fd = openat(s->fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	struct err e;
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		int sub;
		if (de->d_name[0] == '.')
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (flock(sub, LOCK_EX | LOCK_NB) == 0)
			rm_rf(dirfd(d), de->d_name, &e);
		close(sub);
	}
	closedir(d);
	store_clear_temps(s, ".");
	store_clear_temps(s, "images");
	store_clear_temps(s, "blobs/sha256");
}

int
store_open(struct store *s, const char *path, int rootless, struct err *e)
{
	static const char *const dirs[] = {"blobs", "blobs/sha256", "layers", "images", "locks", "tmp"};
	int fresh;
	size_t i;
	memset(s, 0, sizeof *s);
	s->tmpfd = s->lockfd = -1;
	s->rootless = rootless;
	snprintf(s->path, sizeof s->path, "%s", path);
	if (mkdir_p(AT_FDCWD, path, 0700, e) < 0)
		return err_ctx(e, "store");
	s->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fd < 0)
		return err_sys(e, "store %s", path);
	{
		char abs[4096];
		if (realpath(path, abs))
			snprintf(s->path, sizeof s->path, "%s", abs);
	}
	/* checked before anything is made: a refused filesystem keeps no half-made store */
	fresh = faccessat(s->fd, "locks", F_OK, AT_SYMLINK_NOFOLLOW) < 0;
	if (fresh && store_check_fs(s, e) < 0)
		return -1;
	for (i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (mkdirat(s->fd, dirs[i], 0700) < 0 && errno != EEXIST)
			return err_sys(e, "store %s: mkdir %s", path, dirs[i]);
	store_clear_tmp(s);
	return 0;
}

void
store_close(struct store *s)
{
	struct err e;
	if (s->tmpfd >= 0) {
		close(s->tmpfd);
		rm_rf(s->fd, s->tmpname, &e);
	}
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = s->tmpfd = s->lockfd = -1;
}

/* Our scratch directory, created on first use and locked for our lifetime. */
int
store_tmp(struct store *s, struct err *e)
{
	static unsigned seq;
	if (s->tmpfd >= 0)
		return s->tmpfd;
	for (;;) {
		snprintf(s->tmpname, sizeof s->tmpname, "tmp/%ld-%u", (long)getpid(), seq++);
		if (mkdirat(s->fd, s->tmpname, 0700) == 0)
			break;
		if (errno != EEXIST)
			return err_sys(e, "store: mkdir %s", s->tmpname);
	}
	s->tmpfd = openat(s->fd, s->tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->tmpfd < 0)
		return err_sys(e, "store: open %s", s->tmpname);
	if (flock(s->tmpfd, LOCK_EX) < 0)
		return err_sys(e, "store: lock %s", s->tmpname);
	return s->tmpfd;
}

/* ---------------------------------------------------------------- locks */

/* Returns a locked fd; closing it releases the lock. */
int
store_lock(struct store *s, const char *name, int exclusive, struct err *e)
{
	char path[256];
	int fd;
	snprintf(path, sizeof path, "locks/%s", name);
	fd = openat(s->fd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_sys(e, "store: lock %s", name);
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			err_sys(e, "store: lock %s", name);
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* The store-wide lock: shared while pulling, exclusive while removing. */
int
store_lock_all(struct store *s, int exclusive, struct err *e)
{
	if (s->lockfd >= 0)
		return 0;
	s->lockfd = store_lock(s, "store", exclusive, e);
	return s->lockfd < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- blobs and layers */

static const char *
hex_of(const char *digest)
{
	return strncmp(digest, "sha256:", 7) ? digest : digest + 7;
}

int
store_has_layer(struct store *s, const char *diff_id)
{
	char path[128];
	snprintf(path, sizeof path, "layers/%s/diff", hex_of(diff_id));
	return faccessat(s->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Directory fd of a layer's tree (caller closes). */
int
store_layer_open(struct store *s, const char *diff_id, struct err *e)
{
	char path[128];
	int fd;
	snprintf(path, sizeof path, "layers/%s/diff", hex_of(diff_id));
	fd = openat(s->fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "layer %.19s", diff_id);
	return fd;
}

int64_t
store_layer_size(struct store *s, const char *diff_id)
{
	char path[128];
	struct buf b = {0};
	struct err e;
	int64_t n = 0;
	snprintf(path, sizeof path, "layers/%s/size", hex_of(diff_id));
	if (file_read(s->fd, path, 64, &b, &e) == 0)
		n = strtoll(b.p, NULL, 10);
	buf_free(&b);
	return n;
}

/* Move a finished layer (tmp dir holding diff/ and size) into place. */
int
store_layer_commit(struct store *s, const char *tmpdir, const char *diff_id, struct err *e)
{
	char path[128];
	snprintf(path, sizeof path, "layers/%s", hex_of(diff_id));
	if (renameat(s->fd, tmpdir, s->fd, path) < 0) {
		if (errno == ENOTEMPTY || errno == EEXIST)
			return 0; /* someone else finished it first: theirs is as good */
		return err_sys(e, "store: rename layer into place");
	}
	if (fsync(s->fd) < 0)
		return err_sys(e, "store: fsync");
	{
		int lfd = openat(s->fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lfd >= 0) {
			fsync(lfd);
			close(lfd);
		}
	}
	return 0;
}

int
store_put_blob(struct store *s, const char *digest, const void *data, size_t n, struct err *e)
{
	char path[128];
	snprintf(path, sizeof path, "blobs/sha256/%s", hex_of(digest));
	return file_write_atomic(s->fd, path, data, n, e);
}

int
store_get_blob(struct store *s, const char *digest, size_t max, struct buf *out, struct err *e)
{
	char path[128];
	snprintf(path, sizeof path, "blobs/sha256/%s", hex_of(digest));
	return file_read(s->fd, path, max, out, e);
}

/* ---------------------------------------------------------------- image records and tags */

int
store_image_read(struct store *s, const char *id, struct buf *out, struct err *e)
{
	char path[128];
	snprintf(path, sizeof path, "images/%s.json", hex_of(id));
	return file_read(s->fd, path, 1 << 20, out, e);
}

int
store_image_write(struct store *s, const char *id, const struct buf *rec, struct err *e)
{
	char path[128];
	snprintf(path, sizeof path, "images/%s.json", hex_of(id));
	return file_write_atomic(s->fd, path, rec->p, rec->len, e);
}

int
store_image_remove(struct store *s, const char *id, struct err *e)
{
	char path[128];
	snprintf(path, sizeof path, "images/%s.json", hex_of(id));
	if (unlinkat(s->fd, path, 0) < 0 && errno != ENOENT)
		return err_sys(e, "store: remove image record");
	return 0;
}

/* Image IDs in the store, as "sha256:HEX" strings (caller frees each and the array). */
char **
store_image_list(struct store *s, size_t *count)
{
	char **ids = NULL;
	size_t n = 0;
	int fd = openat(s->fd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	*count = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len != 64 + 5 || strcmp(de->d_name + 64, ".json"))
			continue;
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = xasprintf("sha256:%.64s", de->d_name);
	}
	closedir(d);
	*count = n;
	return ids;
}

/* Tags: a parsed repositories.json (caller frees with json_free); an empty object when missing. */
struct json *
store_tags_load(struct store *s, struct err *e)
{
	struct buf b = {0};
	struct json *j;
	if (file_read(s->fd, "repositories.json", 16 << 20, &b, e) < 0) {
		if (e->code != ERR_SYS || e->sys != ENOENT) {
			buf_free(&b);
			return NULL;
		}
		buf_reset(&b);
		buf_adds(&b, "{}");
	}
	j = json_parse(b.p, b.len, e);
	if (!j)
		err_ctx(e, "store: repositories.json");
	buf_free(&b);
	return j;
}

/* Rewrite repositories.json with name set to id (id NULL: removed).  Serialised by a lock. */
int
store_tag_set(struct store *s, const char *name, const char *id, struct err *e)
{
	struct json *j;
	const struct jv *root;
	struct buf out = {0};
	struct jw w;
	size_t i;
	int r, lk = store_lock(s, "repositories", 1, e);
	if (lk < 0)
		return -1;
	j = store_tags_load(s, e);
	if (!j) {
		close(lk);
		return -1;
	}
	root = json_root(j);
	jw_init(&w, &out, 1);
	jw_obj(&w);
	for (i = 0; i < json_len(root); i++) {
		const char *k = json_key(root, i);
		if (!strcmp(k, name))
			continue;
		jw_key(&w, k);
		jw_value(&w, json_at(root, i));
	}
	if (id) {
		jw_key(&w, name);
		jw_str(&w, id);
	}
	jw_obj_end(&w);
	buf_addc(&out, '\n');
	r = file_write_atomic(s->fd, "repositories.json", out.p, out.len, e);
	buf_free(&out);
	json_free(j);
	close(lk);
	return r;
}

/* ---------------------------------------------------------------- checking */

/* What can be verified: blobs are re-hashed against their names; a layer keeps only its unpacked
 * tree (the compressed blob and the tar stream are gone once verified at pull time), so a layer is
 * checked for the shape a committed one always has (diff/ a directory, size a decimal record) and
 * its tree digested again (tree.c) and compared with the digest taken at pull time (layers/HEX/tree;
 * a layer without one, pulled by an older dock, is noted as unverifiable and not counted damaged);
 * records must parse and point only at things present and sound.  The store lock is taken
 * exclusively, so a pull in progress is waited for and never mistaken for damage. */

static void
chk_report(struct store_check *c, int fixed, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->problems++;
	if (fixed)
		c->repaired++;
	if (c->report)
		c->report(c->ctx, line, fixed);
}

static int
chk_hex64(const char *s)
{
	size_t i;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == 0;
}

/* "HEX\n" lists: small (one line per blob or layer), searched with strstr */
static void
chk_add(struct buf *set, const char *hex)
{
	buf_add(set, hex, 64);
	buf_addc(set, '\n');
}

static int
chk_has(const struct buf *set, const char *hex)
{
	char needle[66];
	const char *p = set->p;
	snprintf(needle, sizeof needle, "%.64s\n", hex);
	while (p && (p = strstr(p, needle))) {
		if (p == set->p || p[-1] == '\n')
			return 1;
		p++;
	}
	return 0;
}

/* Move path out of sight (into our scratch area) first, then delete it: never half-removed. */
static int
chk_remove(struct store *s, const char *path)
{
	char gone[200];
	struct err e;
	static unsigned seq;
	if (store_tmp(s, &e) < 0)
		return -1;
	snprintf(gone, sizeof gone, "%s/X-%u", s->tmpname, seq++);
	if (renameat(s->fd, path, s->fd, gone) < 0)
		return -1;
	return rm_rf(s->fd, gone, &e);
}

static int
chk_hash_file(struct store *s, const char *path, char out[72])
{
	static uint8_t chunk[64 << 10];
	struct sha256 h;
	ssize_t n;
	int fd = openat(s->fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	sha256_init(&h);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		sha256_update(&h, chunk, (size_t)n);
	close(fd);
	if (n < 0)
		return -1;
	sha256_digest_str(&h, out);
	return 0;
}

static DIR *
chk_opendir(struct store *s, const char *path)
{
	int fd = openat(s->fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	return d;
}

static void
chk_leftovers(struct store *s, struct store_check *c)
{
	static const char *const dirs[] = {".", "images", "blobs/sha256"};
	struct dirent *de;
	char path[600];
	size_t i;
	DIR *d = chk_opendir(s, "tmp");
	while (d && (de = readdir(d))) {
		int sub, fixed = 0;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "tmp/%s", de->d_name);
		sub = openat(s->fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0 && flock(sub, LOCK_EX | LOCK_NB) < 0) {
			close(sub); /* its owner lives (or it is ours) */
			continue;
		}
		if (sub >= 0)
			close(sub);
		if (c->repair) {
			struct err e;
			fixed = rm_rf(s->fd, path, &e) == 0;
		}
		chk_report(c, fixed, "%s: left by an interrupted command", path);
	}
	if (d)
		closedir(d);
	for (i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		d = chk_opendir(s, dirs[i]);
		while (d && (de = readdir(d))) {
			if (!store_dead_temp(de->d_name))
				continue;
			snprintf(path, sizeof path, "%s/%s", dirs[i], de->d_name);
			chk_report(c, c->repair && unlinkat(dirfd(d), de->d_name, 0) == 0,
				   "%s: a temporary left by an interrupted write", path);
		}
		if (d)
			closedir(d);
	}
}

static void
chk_blobs(struct store *s, struct store_check *c, struct buf *have, struct buf *bad)
{
	DIR *d = chk_opendir(s, "blobs/sha256");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[400], got[72];
		struct stat sb;
		const char *why = NULL;
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-"))
			continue;
		snprintf(path, sizeof path, "blobs/sha256/%s", de->d_name);
		c->blobs++;
		if (!chk_hex64(de->d_name))
			why = "not named by a digest";
		else if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
			why = "not a regular file";
		else if (chk_hash_file(s, path, got) < 0)
			why = "unreadable";
		else if (strcmp(got + 7, de->d_name))
			why = "content does not match its digest";
		if (!why) {
			chk_add(have, de->d_name);
			continue;
		}
		if (chk_hex64(de->d_name))
			chk_add(bad, de->d_name);
		chk_report(c, c->repair && chk_remove(s, path) == 0, "blob %s: %s",
			   de->d_name, why);
	}
	if (d)
		closedir(d);
}

/* A layer found damaged, with why (kept from the walk: the tree digest is not taken twice). */
struct chk_bad_layer {
	char name[256];
	char why[300];
	int differs; /* its tree is not the one pulled */
};

/* The tree under layers/NAME/diff against the digest taken at pull time; NULL when they agree or
 * there is none (*unverified). */
static const char *
chk_layer_tree(struct store *s, const char *name, int *unverified, int *differs, char *msg,
	       size_t mlen)
{
	char path[400], want[72], got[72];
	struct buf tr = {0};
	struct err e;
	const char *why = NULL;
	int fd;
	snprintf(path, sizeof path, "layers/%s/tree", name);
	if (file_read(s->fd, path, 128, &tr, &e) < 0) {
		if (e.code == ERR_SYS && e.sys == ENOENT)
			*unverified = 1;
		else
			why = "tree record unreadable";
		buf_free(&tr);
		return why;
	}
	snprintf(want, sizeof want, "%.71s", tr.p);
	if (tr.len != 72 || tr.p[71] != '\n' || !digest_valid(want)) {
		buf_free(&tr);
		return "tree record is not a digest";
	}
	buf_free(&tr);
	snprintf(path, sizeof path, "layers/%s/diff", name);
	fd = openat(s->fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || tree_digest(fd, got, &e) < 0) {
		if (fd < 0)
			err_sys(&e, "open diff/");
		snprintf(msg, mlen, "tree unreadable: %.250s", e.msg);
		why = msg;
	} else if (strcmp(got, want)) {
		why = "content differs from what was pulled";
		*differs = 1;
	}
	if (fd >= 0)
		close(fd);
	return why;
}

/* NULL when sound.  Beyond the shape: the tree is digested again and compared with layers/HEX/tree,
 * taken at pull time.  A layer pulled by an older dock has no tree record: *unverified is set and
 * the layer counts as sound (nothing says otherwise; recording a digest now, even under --repair,
 * would bless whatever happened to it since). */
static const char *
chk_layer_why(struct store *s, const char *name, int *unverified, int *differs, char *msg, size_t mlen)
{
	char path[400];
	struct buf sz = {0};
	struct stat sb;
	struct err e;
	const char *why = NULL;
	char *end;
	*unverified = *differs = 0;
	snprintf(path, sizeof path, "layers/%s/diff", name);
	if (!chk_hex64(name))
		why = "not named by a digest";
	else if (fstatat(s->fd, path, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode))
		why = "no diff/ directory";
	else {
		snprintf(path, sizeof path, "layers/%s/size", name);
		if (file_read(s->fd, path, 64, &sz, &e) < 0)
			why = "no size record";
		else if (sz.len < 2 || sz.p[0] < '0' || sz.p[0] > '9' ||
			 (strtoull(sz.p, &end, 10), *end != '\n' || end[1]))
			why = "size record is not a number";
	}
	if (!why)
		why = chk_layer_tree(s, name, unverified, differs, msg, mlen);
	buf_free(&sz);
	return why;
}

/* Sound layers go to have, damaged ones to bad (reported, and removed, after the images). */
static void
chk_layers(struct store *s, struct store_check *c, struct buf *have, struct buf *bad)
{
	DIR *d = chk_opendir(s, "layers");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct chk_bad_layer b;
		const char *why;
		int unverified, differs;
		if (de->d_name[0] == '.')
			continue;
		c->layers++;
		why = chk_layer_why(s, de->d_name, &unverified, &differs, b.why, sizeof b.why);
		if (!why) {
			chk_add(have, de->d_name);
			if (unverified) {
				char line[400];
				c->unverified++;
				snprintf(line, sizeof line, "layer sha256:%s: unverifiable (pulled by an older "
					 "dock; pull it again after rmi to make it checkable)", de->d_name);
				if (c->report)
					c->report(c->ctx, line, -1);
			}
			continue;
		}
		memset(&b, 0, sizeof b);
		snprintf(b.name, sizeof b.name, "%s", de->d_name);
		if (why != b.why)
			snprintf(b.why, sizeof b.why, "%s", why);
		b.differs = differs;
		buf_add(bad, &b, sizeof b);
	}
	if (d)
		closedir(d);
}

/* One image record: sound when it parses, names itself, and every blob and layer it needs is
 * present and sound.  Its layers are added to used either way (a damaged image's layers are
 * collected only when the image goes). */
static const char *
chk_image(struct store *s, const char *hex, const struct buf *blobs, const struct buf *layers,
	  struct buf *used)
{
	struct buf b = {0};
	struct json *j = NULL;
	struct err e;
	const struct jv *root, *ls;
	const char *why = NULL, *id, *md;
	size_t i;
	if (store_image_read(s, hex, &b, &e) < 0) {
		why = "unreadable";
		goto out;
	}
	j = json_parse(b.p, b.len, &e);
	if (!j) {
		why = "record does not parse";
		goto out;
	}
	root = json_root(j);
	id = json_getstr(root, "Id");
	md = json_getstr(root, "ManifestDigest");
	ls = json_get(root, "Layers");
	if (!id || strncmp(id, "sha256:", 7) || strcmp(id + 7, hex))
		why = "record names another image";
	else if (json_type(ls) != JSON_ARRAY)
		why = "record lists no layers";
	else if (!chk_has(blobs, hex))
		why = "config blob missing or damaged";
	else if (md && (!digest_valid(md) || !chk_has(blobs, md + 7)))
		why = "manifest blob missing or damaged";
	for (i = 0; i < json_len(ls); i++) {
		const char *d = json_getstr(json_at(ls, i), "DiffID");
		if (!d || !digest_valid(d)) {
			why = why ? why : "record has an invalid layer";
			continue;
		}
		chk_add(used, d + 7);
		if (!chk_has(layers, d + 7))
			why = why ? why : "a layer is missing or damaged";
	}
out:
	json_free(j);
	buf_free(&b);
	return why;
}

static void
chk_tags(struct store *s, struct store_check *c, const struct buf *images)
{
	struct err e;
	struct json *j = store_tags_load(s, &e);
	const struct jv *root;
	size_t i;
	if (!j) {
		chk_report(c, c->repair && unlinkat(s->fd, "repositories.json", 0) == 0,
			   "repositories.json: does not parse (%s)", e.msg);
		return;
	}
	root = json_root(j);
	for (i = 0; i < json_len(root); i++) {
		const char *name = json_key(root, i), *id = json_str(json_at(root, i));
		if (id && digest_valid(id) && chk_has(images, id + 7))
			continue;
		chk_report(c, c->repair && store_tag_set(s, name, NULL, &e) == 0,
			   "tag %s: image %s missing or damaged", name, id ? id : "(none)");
	}
	json_free(j);
}

static void
chk_containers(struct store *s, struct store_check *c, const struct buf *images)
{
	DIR *d = chk_opendir(s, "names");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char target[200], path[400];
		ssize_t n;
		const char *slash;
		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
		target[n > 0 ? n : 0] = 0;
		slash = strrchr(target, '/');
		slash = slash ? slash + 1 : target;
		snprintf(path, sizeof path, "containers/%s/config.json", slash);
		if (n > 0 && chk_hex64(slash) &&
		    faccessat(s->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		chk_report(c, c->repair && unlinkat(dirfd(d), de->d_name, 0) == 0,
			   "names/%s: no such container", de->d_name);
	}
	if (d)
		closedir(d);
	d = chk_opendir(s, "containers");
	while (d && (de = readdir(d))) {
		char path[400];
		struct buf b = {0};
		struct json *j = NULL;
		struct err e;
		const char *img;
		if (de->d_name[0] == '.' || !chk_hex64(de->d_name))
			continue;
		snprintf(path, sizeof path, "containers/%s/config.json", de->d_name);
		if (file_read(s->fd, path, 4 << 20, &b, &e) < 0 || !(j = json_parse(b.p, b.len, &e)))
			chk_report(c, 0, "container %.12s: config.json unreadable", de->d_name);
		else if ((img = json_getstr(json_root(j), "Image")) && digest_valid(img) &&
			 !chk_has(images, img + 7))
			chk_report(c, 0, "container %.12s: its image %.19s is missing or damaged",
				   de->d_name, img);
		json_free(j);
		buf_free(&b);
	}
	if (d)
		closedir(d);
}

/* Verify the whole store; with c->repair, remove what is damaged (and the images needing it).
 * Reports go to c->report one problem each; -1 only when the check itself could not run. */
int
store_check(struct store *s, struct store_check *c, struct err *e)
{
	struct buf blobs = {0}, badblobs = {0}, layers = {0}, used = {0},
		   keep = {0}, good = {0}, badlayers = {0};
	char **ids;
	size_t n, i;
	DIR *d;
	struct dirent *de;
	c->problems = c->repaired = c->blobs = c->layers = c->images = c->unverified = 0;
	if (store_lock_all(s, 1, e) < 0)
		return -1;
	buf_adds(&blobs, "");
	buf_adds(&layers, "");
	buf_adds(&used, "");
	buf_adds(&keep, "");
	buf_adds(&good, "");
	chk_leftovers(s, c);
	chk_blobs(s, c, &blobs, &badblobs);
	chk_layers(s, c, &layers, &badlayers);
	ids = store_image_list(s, &n);
	for (i = 0; i < n; i++) {
		const char *hex = ids[i] + 7;
		size_t mark = used.len;
		const char *why = chk_image(s, hex, &blobs, &layers, &used);
		c->images++;
		if (!why) {
			chk_add(&good, hex);
			buf_add(&keep, used.p + mark, used.len - mark);
		} else {
			int fixed = 0;
			if (c->repair) {
				char path[128];
				snprintf(path, sizeof path, "images/%s.json", hex);
				fixed = unlinkat(s->fd, path, 0) == 0;
			}
			chk_report(c, fixed, "image %s: %s", ids[i], why);
			if (!fixed)
				buf_add(&keep, used.p + mark, used.len - mark);
		}
		free(ids[i]);
	}
	free(ids);
	/* images/ entries that are not records at all */
	d = chk_opendir(s, "images");
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-") ||
		    (len == 69 && !strcmp(de->d_name + 64, ".json")))
			continue;
		chk_report(c, c->repair && unlinkat(dirfd(d), de->d_name, 0) == 0,
			   "images/%s: not an image record", de->d_name);
	}
	if (d)
		closedir(d);
	/* layers: damaged ones, and ones no image needs (a pull killed after unpacking) */
	d = chk_opendir(s, "layers");
	while (d && (de = readdir(d))) {
		char path[400];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "layers/%s", de->d_name);
		if (chk_has(&layers, de->d_name)) {
			if (chk_has(&keep, de->d_name))
				continue;
			if (!chk_has(&used, de->d_name))
				chk_report(c, c->repair && chk_remove(s, path) == 0, "layer %s: used by no "
					   "image (left by an interrupted pull)", de->d_name);
			else if (c->repair)
				chk_report(c, chk_remove(s, path) == 0,
					   "layer %s: used only by removed images", de->d_name);
			continue;
		}
		{
			const struct chk_bad_layer *b = NULL;
			int fixed;
			for (i = 0; i + sizeof *b <= badlayers.len; i += sizeof *b)
				if (!strcmp(((const struct chk_bad_layer *)(badlayers.p + i))->name, de->d_name))
					b = (const struct chk_bad_layer *)(badlayers.p + i);
			fixed = c->repair && !chk_has(&keep, de->d_name) && chk_remove(s, path) == 0;
			if (b && b->differs)
				chk_report(c, fixed, "layer sha256:%s (%s)", de->d_name, b->why);
			else
				chk_report(c, fixed, "layer %s: %s", de->d_name, b ? b->why : "damaged");
		}
	}
	if (d)
		closedir(d);
	chk_tags(s, c, &good);
	chk_containers(s, c, &good);
	buf_free(&blobs);
	buf_free(&badblobs);
	buf_free(&badlayers);
	buf_free(&layers);
	buf_free(&used);
	buf_free(&keep);
	buf_free(&good);
	return 0;
}
