/* tests/fuzz/tar.c: the tar reader (tar_push, tar_finish) and extraction (layer_apply_*, then
 * layer_merge) on hostile archives.
 *
 * Input: [split selector] [flags] [archive].  flags bit 0: rootless extraction; bit 1: a 4 KiB
 * max_bytes cap.  The archive is parsed twice with callbacks that check the event protocol (an
 * entry, its exact data, its end; strings as promised) and hash every event: whole in one push and
 * split as the selector says, which must give the same events and the same outcome.  Then it is
 * extracted, split, into a scratch root under /dev/shm (made once per process, wiped between
 * inputs), and the result merged onto a second directory.  Afterwards nothing may exist next to
 * them or one level up but what the harness made, a sibling canary directory must be as it was,
 * and none of the absolute paths hostile archives aim at may exist. */
#include "dock.h"
#include "src/util.c"
#include "src/tar.c"
#include "src/layer.c"
#include "tests/fuzz/fuzz.h"

/* ---------------------------------------------------------------- the event protocol */

struct events {
	uint64_t h;          /* FNV-1a over every event and data byte */
	int in_entry, type;
	uint64_t size, got;
	size_t entries;
};

static void
ev_hash(struct events *v, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;
	for (i = 0; i < n; i++)
		v->h = (v->h ^ b[i]) * 0x100000001b3ull;
}

static void
ev_hashs(struct events *v, const char *s)
{
	ev_hash(v, s, strlen(s) + 1);
}

static int
ev_entry(void *ctx, const struct tar_entry *t, struct err *e)
{
	struct events *v = ctx;
	size_t i;
	(void)e;
	FUZZ_CHECK(!v->in_entry);
	FUZZ_CHECK(t->path && t->path[0] && t->link);
	FUZZ_CHECK(t->type >= TAR_FILE && t->type <= TAR_FIFO);
	FUZZ_CHECK(t->type == TAR_FILE || t->size == 0);
	FUZZ_CHECK(t->mode <= 07777 && t->mtime_nsec < 1000000000);
	FUZZ_CHECK(t->nxattrs <= TAR_XATTR_MAX && (t->nxattrs == 0) == (t->xattrs == NULL));
	ev_hash(v, "E", 1);
	ev_hash(v, &t->type, sizeof t->type);
	ev_hashs(v, t->path);
	ev_hashs(v, t->link);
	ev_hash(v, &t->size, sizeof t->size);
	ev_hash(v, &t->mode, sizeof t->mode);
	ev_hash(v, &t->uid, sizeof t->uid);
	ev_hash(v, &t->gid, sizeof t->gid);
	ev_hash(v, &t->mtime, sizeof t->mtime);
	ev_hash(v, &t->mtime_nsec, sizeof t->mtime_nsec);
	ev_hash(v, &t->devmajor, sizeof t->devmajor);
	ev_hash(v, &t->devminor, sizeof t->devminor);
	for (i = 0; i < t->nxattrs; i++) {
		size_t j;
		FUZZ_CHECK(t->xattrs[i].name[0]);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(t->xattrs[i].name, t->xattrs[j].name));
		ev_hashs(v, t->xattrs[i].name);
		ev_hash(v, &t->xattrs[i].len, sizeof t->xattrs[i].len);
		ev_hash(v, t->xattrs[i].value, t->xattrs[i].len);
	}
	v->in_entry = 1;
	v->type = t->type;
	v->size = t->size;
	v->got = 0;
	v->entries++;
	return 0;
}

static int
ev_data(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	struct events *v = ctx;
	(void)e;
	FUZZ_CHECK(v->in_entry && v->type == TAR_FILE);
	FUZZ_CHECK(n > 0 && n <= v->size - v->got);
	ev_hash(v, p, n);
	v->got += n;
	return 0;
}

static int
ev_entry_end(void *ctx, struct err *e)
{
	struct events *v = ctx;
	(void)e;
	FUZZ_CHECK(v->in_entry && v->got == v->size);
	ev_hash(v, "/", 1);
	v->in_entry = 0;
	return 0;
}

static const struct tar_cb ev_cb = {ev_entry, ev_data, ev_entry_end};

struct outcome {
	int ret, fin;
	struct err e, fe;
	struct events ev;
};

/* Push the archive in pieces (all of them, also after the end) and finish. */
static void
parse(const uint8_t *p, size_t n, uint8_t sel, struct outcome *o)
{
	struct tar *t;
	struct fuzz_split sp;
	size_t off = 0;
	memset(o, 0, sizeof *o);
	o->ev.h = 0xcbf29ce484222325ull;
	t = tar_new(&ev_cb, &o->ev);
	fuzz_split_init(&sp, sel);
	while (off < n && o->ret >= 0) {
		size_t k = fuzz_piece(&sp, n - off);
		int r = tar_push(t, p + off, k, &o->e);
		FUZZ_CHECK(r >= -1 && r <= 1 && (o->ret != 1 || r == 1));
		o->ret = r;
		off += k;
	}
	if (o->ret < 0) {
		struct err e2;
		FUZZ_CHECK(o->e.code != ERR_NONE && o->e.msg[0]);
		FUZZ_CHECK(tar_push(t, p, n, &e2) == -1 && !strcmp(e2.msg, o->e.msg));
	}
	o->fin = tar_finish(t, &o->fe);
	FUZZ_CHECK(o->fin == 0 || o->fin == -1);
	FUZZ_CHECK(o->ret >= 0 || o->fin < 0);
	FUZZ_CHECK(o->fin < 0 || !o->ev.in_entry);
	tar_free(t);
}

/* ---------------------------------------------------------------- the scratch area */

static char scratch[64];
static int top_fd = -1, scratch_fd = -1, root_fd = -1, merged_fd = -1;

/* Where the seeds' absolute and climbing names aim (as tests/lib.sh's FIX_CANARIES). */
static const char *const outside[] = {"/escape", "/etc/x", "/tmp/escape", "/dev/shm/x", "/dev/shm/escape"};

static void
scratch_remove(void)
{
	struct err e;
	if (scratch[0])
		rm_rf(AT_FDCWD, scratch, &e);
}

static void
put_file(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static int
open_dir(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	return fd;
}

static void
scratch_init(void)
{
	int canary;
	snprintf(scratch, sizeof scratch, "/dev/shm/dock-fuzz-tar.%d", (int)getpid());
	scratch_remove();
	FUZZ_CHECK(mkdir(scratch, 0755) == 0);
	atexit(scratch_remove);
	top_fd = open_dir(AT_FDCWD, scratch);
	FUZZ_CHECK(mkdirat(top_fd, "up", 0755) == 0);
	scratch_fd = open_dir(top_fd, "up");
	FUZZ_CHECK(mkdirat(scratch_fd, "root", 0755) == 0 && mkdirat(scratch_fd, "merged", 0755) == 0 &&
		   mkdirat(scratch_fd, "canary", 0755) == 0);
	root_fd = open_dir(scratch_fd, "root");
	merged_fd = open_dir(scratch_fd, "merged");
	canary = open_dir(scratch_fd, "canary");
	put_file(canary, "victim", "canary\n");
	FUZZ_CHECK(mkdirat(canary, "dir", 0755) == 0);
	close(canary);
}

/* Names in directory fd, in a sorted, '/'-joined string. */
static void
listing(int fd, char *out, size_t n)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char names[16][64];
	size_t k = 0, i, j, o = 0;
	FUZZ_CHECK(d != NULL);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		FUZZ_CHECK(k < 16);
		snprintf(names[k++], sizeof names[0], "%s", de->d_name);
	}
	closedir(d);
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char tmp[64];
			memcpy(tmp, names[j], sizeof tmp);
			memcpy(names[j], names[j - 1], sizeof tmp);
			memcpy(names[j - 1], tmp, sizeof tmp);
		}
	out[0] = 0;
	for (i = 0; i < k; i++)
		o += (size_t)snprintf(out + o, n - o, "%s/", names[i]);
}

/* Nothing outside root and merged: the scratch directory and the canary are as made. */
static void
check_outside(void)
{
	char l[1100];
	struct stat st;
	int canary, fd;
	size_t i;
	for (i = 0; i < sizeof outside / sizeof *outside; i++)
		FUZZ_CHECK(lstat(outside[i], &st) < 0 && errno == ENOENT);
	listing(top_fd, l, sizeof l);
	FUZZ_CHECK(!strcmp(l, "up/"));
	listing(scratch_fd, l, sizeof l);
	FUZZ_CHECK(!strcmp(l, "canary/merged/root/"));
	canary = open_dir(scratch_fd, "canary");
	listing(canary, l, sizeof l);
	FUZZ_CHECK(!strcmp(l, "dir/victim/"));
	FUZZ_CHECK(fstatat(canary, "victim", &st, AT_SYMLINK_NOFOLLOW) == 0);
	FUZZ_CHECK(S_ISREG(st.st_mode) && st.st_size == 7 && st.st_nlink == 1 &&
		   (st.st_mode & 07777) == 0644);
	FUZZ_CHECK(fstatat(canary, "dir", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
	fd = open_dir(canary, "dir");
	listing(fd, l, sizeof l);
	FUZZ_CHECK(!strcmp(l, ""));
	close(fd);
	close(canary);
}

static void
wipe(int fd)
{
	struct err e;
	struct layer_opts o = {geteuid() != 0, 0, NULL}; /* rootless: opens up what it removes */
	FUZZ_CHECK(layer_empty_dir(&o, fd, &e) == 0);
}

/* ---------------------------------------------------------------- extraction */

static void
warned(const char *msg)
{
	FUZZ_CHECK(msg[0] && strlen(msg) < 640);
}

static void
extract(const uint8_t *p, size_t n, uint8_t sel, uint8_t flags)
{
	struct layer_opts o = {flags & 1, flags & 2 ? 4096 : 0, warned};
	struct layer_apply *a = layer_apply_new(root_fd, &o);
	struct tar *t = tar_new(&layer_tar_cb, a);
	struct fuzz_split sp;
	struct err e;
	size_t off = 0;
	int r = 0;
	fuzz_split_init(&sp, sel);
	while (off < n && r >= 0) {
		size_t k = fuzz_piece(&sp, n - off);
		r = tar_push(t, p + off, k, &e);
		off += k;
	}
	if (r >= 0)
		r = tar_finish(t, &e);
	if (r >= 0)
		r = layer_apply_finish(a, &e);
	tar_free(t);
	layer_apply_free(a);
	check_outside();
	if (r >= 0) {
		if (layer_merge(root_fd, merged_fd, &o, &e) < 0)
			FUZZ_CHECK(e.code != ERR_NONE && e.msg[0]);
		check_outside();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, split;
	if (size < 2)
		return 0;
	if (scratch_fd < 0)
		scratch_init();
	parse(data + 2, size - 2, 0, &whole);
	parse(data + 2, size - 2, data[0], &split);
	FUZZ_CHECK(whole.ret == split.ret && whole.fin == split.fin);
	FUZZ_CHECK(whole.ev.h == split.ev.h && whole.ev.entries == split.ev.entries);
	if (whole.ret < 0)
		FUZZ_CHECK(whole.e.code == split.e.code && !strcmp(whole.e.msg, split.e.msg));
	else if (whole.fin < 0)
		FUZZ_CHECK(whole.fe.code == split.fe.code && !strcmp(whole.fe.msg, split.fe.msg));
	wipe(root_fd);
	wipe(merged_fd);
	extract(data + 2, size - 2, data[0], data[1]);
	return 0;
}
