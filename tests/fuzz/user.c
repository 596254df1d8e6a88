/* tests/fuzz/user.c: the image's etc/passwd and etc/group as `dock run --user` reads them:
 * user_resolve on files in a scratch root, and the buffer parsers user_parse_passwd and
 * user_parse_group.
 *
 * Input: [split selector] SPEC '\n' [passwd length: 2 bytes, little-endian] PASSWD GROUP.  The
 * files are written into a root under /dev/shm (made once per process) and resolved twice: read
 * whole, and read in the sizes the selector gives (the first read, then every later one), which
 * must give the same ids or the same error.  A user found by name must be found the same way by
 * user_parse_passwd, and the groups listing it must be those user_parse_group finds. */
#include "dock.h"
#include "src/util.c"
#include "src/user.c"
#include "tests/fuzz/fuzz.h"

static char scratch[64];
static int root_fd = -1, etc_fd = -1;

static void
scratch_remove(void)
{
	struct err e;
	if (scratch[0])
		rm_rf(AT_FDCWD, scratch, &e);
}

static void
scratch_init(void)
{
	snprintf(scratch, sizeof scratch, "/dev/shm/dock-fuzz-user.%d", (int)getpid());
	scratch_remove();
	FUZZ_CHECK(mkdir(scratch, 0755) == 0);
	atexit(scratch_remove);
	root_fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(root_fd >= 0 && mkdirat(root_fd, "etc", 0755) == 0);
	etc_fd = openat(root_fd, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(etc_fd >= 0);
}

static void
put(const char *name, const uint8_t *p, size_t n)
{
	int fd = openat(etc_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FUZZ_CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n);
	close(fd);
}

struct outcome {
	int r;
	struct err e;
	struct user_ids ids;
};

static void
resolve(const char *spec, size_t first, size_t chunk, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	user_read_first = first;
	user_read_chunk = chunk;
	o->r = user_resolve(root_fd, spec, &o->ids, &o->e);
	user_read_first = user_read_chunk = 0;
	FUZZ_CHECK(o->r == 0 || o->r == -1);
	if (o->r == 0) {
		FUZZ_CHECK(o->ids.ngroups >= 1 && o->ids.ngroups <= 64 && o->ids.groups[0] == o->ids.gid);
		FUZZ_CHECK(memchr(o->ids.home, 0, sizeof o->ids.home) && o->ids.home[0]);
		FUZZ_CHECK(memchr(o->ids.name, 0, sizeof o->ids.name));
	} else {
		FUZZ_CHECK(o->e.code != ERR_NONE && o->e.msg[0]);
	}
}

/* The buffer parsers must agree with what user_resolve read from the files. */
static void
cross_check(const char *spec, const struct outcome *o, const uint8_t *pw, size_t pwn,
	    const uint8_t *gr, size_t grn)
{
	struct user_ids ids;
	size_t i;
	if (o->r < 0 || !spec[0] || strchr(spec, ':') || strspn(spec, "+-0123456789") == strlen(spec))
		return;
	memset(&ids, 0, sizeof ids);
	FUZZ_CHECK(user_parse_passwd((const char *)pw, pwn, spec, -1, &ids) == 1);
	FUZZ_CHECK(ids.uid == o->ids.uid && ids.gid == o->ids.gid && !strcmp(ids.name, o->ids.name) &&
		   !strcmp(ids.home, o->ids.home));
	ids.groups[0] = ids.gid;
	ids.ngroups = 1;
	FUZZ_CHECK(user_parse_group((const char *)gr, grn, NULL, -1, &ids) == 0);
	FUZZ_CHECK(ids.ngroups == o->ids.ngroups);
	for (i = 0; i < ids.ngroups; i++)
		FUZZ_CHECK(ids.groups[i] == o->ids.groups[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, split;
	struct fuzz_split sp;
	const uint8_t *p = data + 1, *end = data + size, *nl, *pw, *gr;
	char spec[300];
	size_t sl, pwn, grn, first, chunk;
	struct user_ids ids;
	long uid;
	int r[5], i;
	if (size < 1)
		return 0;
	if (root_fd < 0)
		scratch_init();
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || nl - p >= (ptrdiff_t)sizeof spec || end - nl < 3)
		return 0;
	sl = (size_t)(nl - p);
	memcpy(spec, p, sl);
	spec[sl] = 0;
	pwn = (size_t)(nl[1] | nl[2] << 8);
	pw = nl + 3;
	if (pwn > (size_t)(end - pw))
		pwn = (size_t)(end - pw);
	gr = pw + pwn;
	grn = (size_t)(end - gr);

	/* The buffer parsers on their own, every way they can be asked. */
	uid = (long)strtoul(spec, NULL, 10);
	memset(&ids, 0, sizeof ids);
	r[0] = user_parse_passwd((const char *)pw, pwn, spec, -1, &ids);
	r[1] = user_parse_passwd((const char *)pw, pwn, NULL, uid, &ids);
	r[2] = user_parse_group((const char *)gr, grn, spec, -1, &ids);
	r[3] = user_parse_group((const char *)gr, grn, NULL, uid, &ids);
	r[4] = user_parse_group((const char *)gr, grn, NULL, -1, &ids);
	for (i = 0; i < 5; i++)
		FUZZ_CHECK(r[i] >= -1 && r[i] <= 1);
	FUZZ_CHECK(ids.ngroups <= 64);

	put("passwd", pw, pwn);
	put("group", gr, grn);
	fuzz_split_init(&sp, data[0]);
	first = data[0] ? fuzz_piece(&sp, 65536) : 0;
	chunk = data[0] ? fuzz_piece(&sp, 65536) : 0;
	resolve(spec, 0, 0, &whole);
	resolve(spec, first, chunk, &split);
	FUZZ_CHECK(whole.r == split.r);
	if (whole.r == 0)
		FUZZ_CHECK(!memcmp(&whole.ids, &split.ids, sizeof whole.ids));
	else
		FUZZ_CHECK(whole.e.code == split.e.code && !strcmp(whole.e.msg, split.e.msg));
	cross_check(spec, &whole, pw, pwn, gr, grn);
	return 0;
}
