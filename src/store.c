/* store.c: the on-disk image store.  Owns the layout below the store root, its locks, its
 * temporary area and the atomic record updates.  Every path inside is relative to the root's fd,
 * so a store copied elsewhere (into an initramfs) still works.
 *
 *   blobs/sha256/HEX     manifests and configs, verified, immutable
 *   layers/HEX/diff/     one unpacked layer per diff_id, in overlayfs's own format
 *   layers/HEX/size      its uncompressed size (decimal)
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
