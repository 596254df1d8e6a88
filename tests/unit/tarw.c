/* tests/unit/tarw.c: the tar writer.  Archives written here are read back by dock's own reader
 * (fed whole, one byte at a time and split at every offset) and by GNU tar, which must list and
 * extract them to the same names, types, modes, ids, times, links and bytes. */
#include "dock.h"
#include "src/util.c"
#include "src/tar.c"
#include "src/tarw.c"
#include "tests/unit/check.h"

#include <sys/stat.h>

/* ---------------------------------------------------------------- reading back */

static int
to_buf(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)e;
	buf_add(ctx, p, n);
	return 0;
}

struct ev {
	struct tar_entry t;
	char path[5000], link[5000];
	struct buf data;
	char xattrs[2048]; /* "name=len;" ... */
	int ended;
};

struct rec {
	struct ev ev[32];
	size_t n;
};

static int
r_entry(void *ctx, const struct tar_entry *t, struct err *e)
{
	struct rec *r = ctx;
	struct ev *v;
	size_t i;
	if (r->n == 32)
		return err_set(e, ERR_LIMIT, "too many");
	v = &r->ev[r->n++];
	memset(v, 0, sizeof *v);
	v->t = *t;
	snprintf(v->path, sizeof v->path, "%s", t->path);
	snprintf(v->link, sizeof v->link, "%s", t->link ? t->link : "");
	for (i = 0; i < t->nxattrs; i++) {
		size_t l = strlen(v->xattrs);
		snprintf(v->xattrs + l, sizeof v->xattrs - l, "%s=%zu;", t->xattrs[i].name, t->xattrs[i].len);
	}
	return 0;
}

static int
r_data(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	struct rec *r = ctx;
	(void)e;
	buf_add(&r->ev[r->n - 1].data, p, n);
	return 0;
}

static int
r_end(void *ctx, struct err *e)
{
	struct rec *r = ctx;
	(void)e;
	r->ev[r->n - 1].ended = 1;
	return 0;
}

static const struct tar_cb rcb = {r_entry, r_data, r_end};

static void
rec_free(struct rec *r)
{
	size_t i;
	for (i = 0; i < r->n; i++)
		buf_free(&r->ev[i].data);
	r->n = 0;
}

/* Parse in pieces of step bytes (0: whole); 1 at the end of archive. */
static int
parse(const struct buf *a, size_t step, size_t split, struct rec *r, struct err *e)
{
	struct tar *t = tar_new(&rcb, r);
	size_t off = 0;
	int rc = 0;
	memset(r, 0, sizeof *r);
	while (off < a->len && rc == 0) {
		size_t n = step ? step : a->len;
		if (split)
			n = off < split ? split - off : a->len - off;
		if (n > a->len - off)
			n = a->len - off;
		rc = tar_push(t, (const uint8_t *)a->p + off, n, e);
		off += n;
	}
	tar_free(t);
	return rc;
}

static struct ev *
find(struct rec *r, const char *path)
{
	size_t i;
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->ev[i].path, path))
			return &r->ev[i];
	return NULL;
}

/* ---------------------------------------------------------------- the archive */

static char long_dir[300], long_name[400], long_link[200], split_name[200];
static uint8_t bigx[3000];

static void
put(struct tarw *w, struct tar_entry *t, const void *data)
{
	struct err e = {0};
	CHECK(tarw_entry(w, t, &e) == 0);
	if (e.msg[0])
		printf("  %s: %s\n", t->path, e.msg);
	if (data && t->size) {
		/* in two pieces: the writer takes any split */
		CHECK(tarw_data(w, data, 1, &e) == 0);
		CHECK(tarw_data(w, (const char *)data + 1, t->size - 1, &e) == 0);
	}
	CHECK(tarw_entry_end(w, &e) == 0);
	if (e.msg[0])
		printf("  %s: %s\n", t->path, e.msg);
}

static void
build(struct buf *a)
{
	struct tarw w;
	struct err e = {0};
	struct tar_xattr xs[2] = {{"user.small", (const uint8_t *)"v\0x=\n", 5},
				  {"security.capability", bigx, sizeof bigx}};
	struct tar_entry t;
	size_t i;
	memset(long_dir, 'd', 150);
	long_dir[150] = 0;
	snprintf(split_name, sizeof split_name, "%.120s/%.60s", long_dir, long_dir); /* 181 */
	/* three directories of 100 characters: no ustar split fits */
	for (i = 0; i < 3; i++) {
		memset(long_name + i * 101, 'a' + (int)i, 100);
		long_name[i * 101 + 100] = '/';
	}
	snprintf(long_name + 303, sizeof long_name - 303, "file-name-after-them");
	memset(long_link, 'L', 150);
	long_link[150] = 0;
	for (i = 0; i < sizeof bigx; i++)
		bigx[i] = (uint8_t)(i * 7);

	tarw_init(&w, to_buf, a);
	memset(&t, 0, sizeof t);
	t = (struct tar_entry){.type = TAR_DIR, .path = "top", .mode = 0755, .mtime = 1600000000};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_FILE, .path = "top/hello", .mode = 04711, .uid = 1000,
			       .gid = 100, .size = 6, .mtime = 1234567890};
	put(&w, &t, "hello\n");
	t = (struct tar_entry){.type = TAR_FILE, .path = "top/empty", .mode = 0600, .mtime = 1};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_FILE, .path = "top/512", .mode = 0644, .size = 512,
			       .mtime = 1};
	{
		char b[512];
		memset(b, 'B', sizeof b);
		put(&w, &t, b);
	}
	t = (struct tar_entry){.type = TAR_SYMLINK, .path = "top/sym", .link = "hello", .mode = 0777,
			       .mtime = 1};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_SYMLINK, .path = "top/longsym", .link = long_link,
			       .mode = 0777, .mtime = 1};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_HARDLINK, .path = "top/hard", .link = "top/hello",
			       .mode = 0644, .mtime = 1};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_FIFO, .path = "top/fifo", .mode = 0640, .mtime = 1};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_CHAR, .path = "top/null", .mode = 0666, .devmajor = 1,
			       .devminor = 3, .mtime = 1};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_BLOCK, .path = "top/bigdev", .mode = 0660,
			       .devmajor = 259, .devminor = 9000000, .mtime = 1};
	put(&w, &t, NULL);
	t = (struct tar_entry){.type = TAR_FILE, .path = split_name, .mode = 0644, .size = 2,
			       .mtime = 1};
	put(&w, &t, "s\n");
	t = (struct tar_entry){.type = TAR_FILE, .path = long_name, .mode = 0644, .size = 2,
			       .mtime = 1};
	put(&w, &t, "l\n");
	t = (struct tar_entry){.type = TAR_FILE, .path = "top/ids", .mode = 0644, .uid = 3000000,
			       .gid = 4000000, .mtime = -5, .size = 1};
	put(&w, &t, "i");
	t = (struct tar_entry){.type = TAR_FILE, .path = "top/xattrs", .mode = 0755, .mtime = 1,
			       .size = 1, .xattrs = xs, .nxattrs = 2};
	put(&w, &t, "x");
	t = (struct tar_entry){.type = TAR_DIR, .path = "top/sub/", .mode = 01777, .mtime = 1};
	put(&w, &t, NULL);
	CHECK(tarw_finish(&w, &e) == 0);
}

static void
check_rec(struct rec *r)
{
	struct ev *v;
	CHECK(r->n == 15);
	CHECK((v = find(r, "top/")) && v->t.type == TAR_DIR && v->t.mode == 0755 &&
	      v->t.mtime == 1600000000 && v->ended);
	CHECK((v = find(r, "top/hello")) && v->t.type == TAR_FILE && v->t.mode == 04711 &&
	      v->t.uid == 1000 && v->t.gid == 100 && v->t.mtime == 1234567890 && v->data.len == 6 &&
	      !memcmp(v->data.p, "hello\n", 6));
	CHECK((v = find(r, "top/empty")) && v->t.size == 0 && v->data.len == 0 && v->ended);
	CHECK((v = find(r, "top/512")) && v->data.len == 512 && v->data.p[511] == 'B');
	CHECK((v = find(r, "top/sym")) && v->t.type == TAR_SYMLINK && !strcmp(v->link, "hello"));
	CHECK((v = find(r, "top/longsym")) && v->t.type == TAR_SYMLINK && !strcmp(v->link, long_link));
	CHECK((v = find(r, "top/hard")) && v->t.type == TAR_HARDLINK && !strcmp(v->link, "top/hello"));
	CHECK((v = find(r, "top/fifo")) && v->t.type == TAR_FIFO && v->t.mode == 0640);
	CHECK((v = find(r, "top/null")) && v->t.type == TAR_CHAR && v->t.devmajor == 1 &&
	      v->t.devminor == 3);
	CHECK((v = find(r, "top/bigdev")) && v->t.type == TAR_BLOCK && v->t.devmajor == 259 &&
	      v->t.devminor == 9000000);
	CHECK((v = find(r, split_name)) && v->data.len == 2 && !memcmp(v->data.p, "s\n", 2));
	CHECK((v = find(r, long_name)) && v->data.len == 2 && !memcmp(v->data.p, "l\n", 2));
	CHECK((v = find(r, "top/ids")) && v->t.uid == 3000000 && v->t.gid == 4000000 &&
	      v->t.mtime == -5 && v->data.len == 1);
	CHECK((v = find(r, "top/xattrs")) && v->t.nxattrs == 2 &&
	      !strcmp(v->xattrs, "user.small=5;security.capability=3000;") && v->data.len == 1);
	CHECK((v = find(r, "top/sub/")) && v->t.mode == 01777);
}

static void
t_roundtrip(void)
{
	struct buf a = {0};
	struct rec r;
	struct err e = {0};
	size_t split;
	build(&a);
	CHECK(a.len % 512 == 0);
	CHECK(parse(&a, 0, 0, &r, &e) == 1);
	check_rec(&r);
	rec_free(&r);
	CHECK(parse(&a, 1, 0, &r, &e) == 1);
	check_rec(&r);
	rec_free(&r);
	for (split = 1; split < a.len; split += 1) {
		int before = check_failed;
		CHECK(parse(&a, 0, split, &r, &e) == 1);
		check_rec(&r);
		rec_free(&r);
		if (check_failed != before) {
			printf("  split at %zu\n", split);
			break;
		}
	}
	buf_free(&a);
}

/* GNU tar lists and extracts what we wrote. */
static void
t_gnu_tar_reads_it(void)
{
	struct buf a = {0}, out = {0};
	char dir[64], cmd[512], p[1024], tmp[4096];
	struct stat st;
	FILE *f;
	size_t n;
	build(&a);
	snprintf(dir, sizeof dir, "/tmp/dock-tarw-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof p, "%s/a.tar", dir);
	f = fopen(p, "w");
	CHECK(f && fwrite(a.p, 1, a.len, f) == a.len);
	if (f)
		fclose(f);
	snprintf(cmd, sizeof cmd, "tar -tvf %s/a.tar --numeric-owner 2>&1", dir);
	f = popen(cmd, "r");
	while (f && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(&out, tmp, n);
	CHECK(f && pclose(f) == 0);
	CHECK(out.p && strstr(out.p, "-rws--x--x 1000/100"));
	CHECK(out.p && strstr(out.p, "top/sym -> hello"));
	CHECK(out.p && strstr(out.p, "3000000/4000000"));
	CHECK(out.p && strstr(out.p, "top/hard link to top/hello"));
	CHECK(out.p && strstr(out.p, long_name));
	if (out.p && !strstr(out.p, long_name))
		printf("%s", out.p);
	/* extract the parts an unprivileged tar can (no devices, no security.* xattrs) */
	snprintf(cmd, sizeof cmd, "cd %s && mkdir x && tar -xf a.tar -C x --no-same-owner --warning=no-timestamp "
		 "--exclude=top/null --exclude=top/bigdev", dir);
	CHECK(system(cmd) == 0);
	snprintf(p, sizeof p, "%s/x/top/hello", dir);
	CHECK(stat(p, &st) == 0 && st.st_size == 6 && (st.st_mode & 07777) == 04711 &&
	      st.st_mtime == 1234567890 && st.st_nlink == 2);
	snprintf(p, sizeof p, "%s/x/top/longsym", dir);
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 150);
	snprintf(p, sizeof p, "%s/x/%s", dir, long_name);
	CHECK(stat(p, &st) == 0 && st.st_size == 2);
	snprintf(p, sizeof p, "%s/x/%s", dir, split_name);
	CHECK(stat(p, &st) == 0 && st.st_size == 2);
	snprintf(p, sizeof p, "%s/x/top/fifo", dir);
	CHECK(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode));
	snprintf(p, sizeof p, "%s/x/top/sub", dir);
	CHECK(lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	buf_free(&a);
	buf_free(&out);
}

static int fail_after, out_calls;

static int
failing_out(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)ctx;
	(void)p;
	(void)n;
	if (++out_calls > fail_after)
		return err_set(e, ERR_SYS, "disk full");
	return 0;
}

static void
t_misuse_and_errors(void)
{
	struct tarw w;
	struct err e = {0};
	struct tar_entry t = {.type = TAR_FILE, .path = "f", .size = 3, .mode = 0644};
	char huge[5000];
	struct tar_xattr x = {"user.big", (const uint8_t *)huge, 0};
	struct buf a = {0};

	tarw_init(&w, to_buf, &a);
	CHECK(tarw_entry(&w, &t, &e) == 0);
	CHECK(tarw_data(&w, "abcd", 4, &e) < 0); /* more than the size */
	CHECK(tarw_entry_end(&w, &e) < 0 && strstr(e.msg, "short"));
	CHECK(tarw_entry(&w, &t, &e) < 0);      /* the last one has not ended */
	CHECK(tarw_finish(&w, &e) < 0);
	CHECK(tarw_data(&w, "abc", 3, &e) == 0 && tarw_entry_end(&w, &e) == 0);
	CHECK(tarw_finish(&w, &e) == 0);
	CHECK(a.len == 512 + 512 + 1024);

	/* a path too long even for pax here, and an extended header over 64 KiB */
	memset(huge, 'p', sizeof huge - 1);
	huge[sizeof huge - 1] = 0;
	t = (struct tar_entry){.type = TAR_DIR, .path = huge};
	CHECK(tarw_entry(&w, &t, &e) < 0 && e.code == ERR_LIMIT);
	{
		static uint8_t big[70000];
		x.value = big;
		x.len = sizeof big;
		t = (struct tar_entry){.type = TAR_FILE, .path = "x", .xattrs = &x, .nxattrs = 1};
		CHECK(tarw_entry(&w, &t, &e) < 0 && e.code == ERR_LIMIT);
	}
	buf_free(&a);

	/* an output error is sticky */
	fail_after = 1;
	out_calls = 0;
	tarw_init(&w, failing_out, NULL);
	t = (struct tar_entry){.type = TAR_FILE, .path = "f", .size = 3, .mode = 0644};
	CHECK(tarw_entry(&w, &t, &e) == 0);
	CHECK(tarw_data(&w, "abc", 3, &e) < 0 && !strcmp(e.msg, "disk full"));
	CHECK(tarw_entry_end(&w, &e) < 0);
	CHECK(tarw_finish(&w, &e) < 0);
	CHECK(out_calls == 2);
}

int
main(void)
{
	RUN(t_roundtrip);
	RUN(t_gnu_tar_reads_it);
	RUN(t_misuse_and_errors);
	CHECK_MAIN_END;
}
