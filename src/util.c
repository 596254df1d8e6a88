/* util.c: error records, the die() tier, allocation, growable buffers and small-file helpers.
 * Owns nothing global but die_status. */

#include <dirent.h>
#include <time.h>

/* ---------------------------------------------------------------- errors */

static int
err_vset(struct err *e, int code, int sys, const char *fmt, va_list ap)
{
	e->code = code;
	e->sys = sys;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return -1;
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_sys(struct err *e, const char *fmt, ...)
{
	int sys = errno;
	size_t n;
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, ERR_SYS, sys, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(sys));
	return -1;
}

int
err_ctx(struct err *e, const char *fmt, ...)
{
	char pre[256], old[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	snprintf(e->msg, sizeof e->msg, "%.255s: %.254s", pre, old);
	return -1;
}

/* ---------------------------------------------------------------- the command-line tier */

int die_status = 1;

static void
vsay(const char *fmt, va_list ap, const char *tail)
{
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	fflush(stdout);
	fprintf(stderr, "dock: %s%s%s\n", line, tail ? ": " : "", tail ? tail : "");
}

void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap, NULL);
	va_end(ap);
	exit(die_status);
}

void
die_errno(const char *fmt, ...)
{
	const char *s = strerror(errno);
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap, s);
	va_end(ap);
	exit(die_status);
}

void
die_err(const struct err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap, e->msg);
	va_end(ap);
	exit(die_status);
}

void
warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fputs("dock: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---------------------------------------------------------------- allocation */

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		die("out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	b.p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.p;
}

/* ---------------------------------------------------------------- buffers */

static void
buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	if (b->cap * 2 > need)
		need = b->cap * 2;
	if (need < 64)
		need = 64;
	b->p = xrealloc(b->p, need);
	b->cap = need;
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---------------------------------------------------------------- small files */

int
file_read(int dirfd, const char *path, size_t max, struct buf *out, struct err *e)
{
	char tmp[65536];
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	buf_reset(out);
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, "read %s", path);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			close(fd);
			return err_set(e, ERR_LIMIT, "%s: larger than %zu bytes", path, max);
		}
		buf_add(out, tmp, (size_t)n);
	}
	close(fd);
	if (!out->p)
		buf_add(out, "", 0);
	return 0;
}

int
write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so a rename in it survives a crash. */
static int
fsync_parent(int dirfd, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, r;
	if (slash) {
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
		fd = openat(dirfd, slash == path ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
file_write_atomic(int dirfd, const char *path, const void *data, size_t n, struct err *e)
{
	return file_write_atomic_mode(dirfd, path, data, n, 0644, e);
}

int
file_write_atomic_mode(int dirfd, const char *path, const void *data, size_t n, mode_t mode,
		       struct err *e)
{
	char tmp[4200];
	int fd;
	snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_sys(e, "create %s", tmp);
	if (write_all(fd, data, n) < 0 || fsync(fd) < 0) {
		err_sys(e, "write %s", tmp);
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, path) < 0) {
		err_sys(e, "rename %s", path);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (fsync_parent(dirfd, path) < 0)
		return err_sys(e, "fsync directory of %s", path);
	return 0;
}

/* Atomic but not durable: a temporary name renamed over path, no fsync.  For records that do not
 * outlive a crash anyway (a container's runtime files and state): a sync there costs a disk
 * flush on every container start. */
int
file_write_replace(int dirfd, const char *path, const void *data, size_t n, struct err *e)
{
	char tmp[4200];
	int fd;
	snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(e, "create %s", tmp);
	if (write_all(fd, data, n) < 0) {
		err_sys(e, "write %s", tmp);
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, path) < 0) {
		err_sys(e, "rename %s", path);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

int
mkdir_p(int dirfd, const char *path, mode_t mode, struct err *e)
{
	char p[4096];
	size_t i, n = strlen(path);
	if (n >= sizeof p)
		return err_set(e, ERR_LIMIT, "path too long: %s", path);
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != 0)
			continue;
		p[i] = 0;
		if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
			return err_sys(e, "mkdir %s", p);
		p[i] = i < n ? '/' : 0;
	}
	return 0;
}

static int
rm_tree_at(int dfd, const char *name, struct err *e)
{
	int fd;
	DIR *d;
	struct dirent *de;
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return err_sys(e, "remove %s", name);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", name);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_sys(e, "opendir %s", name);
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_tree_at(dirfd(d), de->d_name, e) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return err_sys(e, "rmdir %s", name);
	return 0;
}

int
rm_rf(int dirfd, const char *path, struct err *e)
{
	return rm_tree_at(dirfd, path, e);
}

/* ---------------------------------------------------------------- hex, time */

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(const char *in, uint8_t *out, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo = hi < 0 ? -1 : hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
