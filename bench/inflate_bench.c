/* bench/inflate_bench.c: drives dock's inflate and sha256 on files, for bench/inflate.sh.
 *
 *   inflate_bench gunzip [-s] FILE     gunzip FILE (read in 64 KiB pieces) to nowhere; with -s
 *                                      print the sha256 of the output
 *   inflate_bench sha256 [-p] FILE     sha256 of FILE (SHA-NI when present; -p portable)
 *   inflate_bench shamem [-p] MIB      sha256 of MIB MiB in memory; prints MB/s by CPU time
 *   inflate_bench gunzipmem N FILE     gunzip FILE from memory N times; prints best and median
 *                                      MB/s of output by CPU time (less noisy on a shared machine)
 *
 * Built the way the dock executable is: one translation unit with the modules it uses. */
#include "dock.h"
#include "src/util.c"
#include "src/sha256.c"
#include "src/inflate.c"

static struct sha256 out_sha;

static int
discard(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	(void)ctx;
	(void)p;
	(void)n;
	(void)e;
	return 0;
}

static int
hash_out(void *ctx, const uint8_t *p, size_t n, struct err *e)
{
	(void)ctx;
	(void)e;
	sha256_update(&out_sha, p, n);
	return 0;
}

static int
open_or_die(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open %s", path);
	return fd;
}

static int
cmd_gunzip(int hash, const char *path)
{
	static uint8_t in[65536];
	struct gz *z = gz_new();
	struct err e = {0};
	char d[72];
	int fd = open_or_die(path), r = 0;
	ssize_t n;
	if (!z)
		die("out of memory");
	sha256_init(&out_sha);
	while ((n = read(fd, in, sizeof in)) > 0) {
		size_t used;
		r = gz_push(z, in, (size_t)n, &used, hash ? hash_out : discard, NULL, &e);
		if (r < 0)
			die_err(&e, "%s", path);
	}
	if (n < 0)
		die_errno("read %s", path);
	if (r != 1)
		die("%s: truncated gzip data", path);
	if (hash) {
		sha256_digest_str(&out_sha, d);
		printf("%s\n", d);
	}
	gz_free(z);
	close(fd);
	return 0;
}

static int64_t
cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int
cmd_gunzipmem(int rounds, const char *path)
{
	struct buf f = {0};
	struct err e = {0};
	struct gz *z = gz_new();
	int64_t t[64];
	size_t total = 0;
	int i;
	if (!z)
		die("out of memory");
	if (rounds < 1 || rounds > 64)
		die("rounds: 1..64");
	if (file_read(AT_FDCWD, path, (size_t)1 << 34, &f, &e) < 0)
		die_err(&e, "read");
	for (i = 0; i < rounds; i++) {
		size_t off = 0, used;
		int r = 0;
		gz_reset(z);
		t[i] = cpu_ns();
		while (off < f.len) {
			size_t n = f.len - off < 65536 ? f.len - off : 65536;
			r = gz_push(z, (const uint8_t *)f.p + off, n, &used, discard, NULL, &e);
			if (r < 0)
				die_err(&e, "%s", path);
			off += n;
		}
		t[i] = cpu_ns() - t[i];
		if (r != 1)
			die("%s: truncated gzip data", path);
		total = z->isize; /* output size mod 2^32: fine for a benchmark corpus */
	}
	qsort(t, (size_t)rounds, sizeof t[0], cmp_i64);
	printf("best %.0f MB/s, median %.0f MB/s (%zu bytes out)\n", (double)total / 1e3 / ((double)t[0] / 1e6),
	       (double)total / 1e3 / ((double)t[rounds / 2] / 1e6), total);
	buf_free(&f);
	gz_free(z);
	return 0;
}

static void
force_portable(int portable)
{
	sha256_impl(); /* makes the run-time choice */
	if (portable)
		sha256_blocks = sha256_blocks_portable;
}

static int
cmd_sha256(int portable, const char *path)
{
	static uint8_t in[131072];
	struct sha256 s;
	char d[72];
	int fd = open_or_die(path);
	ssize_t n;
	force_portable(portable);
	sha256_init(&s);
	while ((n = read(fd, in, sizeof in)) > 0)
		sha256_update(&s, in, (size_t)n);
	if (n < 0)
		die_errno("read %s", path);
	sha256_digest_str(&s, d);
	printf("%s\n", d);
	close(fd);
	return 0;
}

static int
cmd_shamem(int portable, const char *mib)
{
	size_t n = 1 << 20, i, rounds = (size_t)atoi(mib);
	uint8_t *p = xmalloc(n);
	struct sha256 s;
	char d[72];
	int64_t t0;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 2654435761u >> 13);
	force_portable(portable);
	sha256_init(&s);
	sha256_update(&s, p, n); /* warm up */
	t0 = cpu_ns();
	for (i = 0; i < rounds; i++)
		sha256_update(&s, p, n);
	t0 = cpu_ns() - t0;
	sha256_digest_str(&s, d);
	printf("%s %.0f MB/s\n", sha256_impl(), (double)rounds * n / 1e6 / ((double)t0 / 1e9));
	free(p);
	return 0;
}

int
main(int argc, char **argv)
{
	int flag = argc > 3;
	const char *arg = argv[argc - 1];
	if (argc < 3)
		die("usage: inflate_bench gunzip [-s] FILE | gunzipmem N FILE | sha256 [-p] FILE | "
		    "shamem [-p] MIB");
	if (!strcmp(argv[1], "gunzip"))
		return cmd_gunzip(flag, arg);
	if (!strcmp(argv[1], "sha256"))
		return cmd_sha256(flag, arg);
	if (!strcmp(argv[1], "gunzipmem") && argc == 4)
		return cmd_gunzipmem(atoi(argv[2]), arg);
	if (!strcmp(argv[1], "shamem"))
		return cmd_shamem(flag, arg);
	die("unknown mode %s", argv[1]);
}
