/* tests/fuzz/inflate.c: gz_push and gz_push_raw on hostile streams.
 *
 * Input: [split selector] [flags] [compressed bytes].  flags bit 0: raw deflate instead of gzip;
 * bit 1: an empty push (NULL, 0) after every piece.  Each input is decoded twice: whole, in one
 * push, and split as the selector says.  Both must agree on the outcome (the last return, the
 * error message), on the output when there is no error (length and CRC-32), and for raw deflate on
 * where the stream ended.  Output is capped so that bombs cost a bounded time. */
#include "dock.h"
#include "src/util.c"
#include "src/inflate.c"
#include "tests/fuzz/fuzz.h"

#define OUT_CAP (1u << 20)
#define CAP_MSG "output over the fuzz cap"

struct sink {
	uint64_t len;
	uint32_t crc;
};

static int
sink_out(void *ctx, const uint8_t *data, size_t n, struct err *e)
{
	struct sink *s = ctx;
	FUZZ_CHECK(n > 0 && n <= 128 * 1024);
	if (s->len + n > OUT_CAP)
		return err_set(e, ERR_LIMIT, "%s", CAP_MSG);
	s->crc = crc32_update(s->crc, data, n);
	s->len += n;
	return 0;
}

struct run {
	int ret;           /* the last return */
	struct err e;
	struct sink out;
	size_t used;       /* input consumed when the last return came */
};

static void
decode(struct gz *z, int raw, int empty_pushes, uint8_t sel, const uint8_t *p, size_t n, struct run *r)
{
	struct fuzz_split sp;
	size_t off = 0;
	memset(r, 0, sizeof *r);
	gz_reset(z);
	fuzz_split_init(&sp, sel);
	r->ret = 0;
	while (off < n) {
		size_t k = fuzz_piece(&sp, n - off), used = (size_t)-1;
		r->ret = raw ? gz_push_raw(z, p + off, k, &used, sink_out, &r->out, &r->e)
			     : gz_push(z, p + off, k, &used, sink_out, &r->out, &r->e);
		FUZZ_CHECK(used <= k);
		off += used;
		if (r->ret < 0)
			break;
		/* Only a finished raw stream leaves input unused. */
		FUZZ_CHECK(used == k || (raw && r->ret == 1));
		if (raw && r->ret == 1)
			break;
		if (empty_pushes) {
			int r2;
			r2 = raw ? gz_push_raw(z, NULL, 0, &used, sink_out, &r->out, &r->e)
				 : gz_push(z, NULL, 0, &used, sink_out, &r->out, &r->e);
			FUZZ_CHECK(used == 0);
			FUZZ_CHECK(r2 == r->ret);
		}
	}
	r->used = off;
	if (r->ret < 0) {
		/* The error is sticky and repeats itself. */
		struct err e2;
		size_t used = 1;
		FUZZ_CHECK(r->e.code != ERR_NONE && r->e.msg[0]);
		FUZZ_CHECK((raw ? gz_push_raw(z, p, n, &used, sink_out, &r->out, &e2)
				: gz_push(z, p, n, &used, sink_out, &r->out, &e2)) == -1);
		FUZZ_CHECK(used == 0 && e2.code == r->e.code && !strcmp(e2.msg, r->e.msg));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gz *z;
	struct run whole, split;
	int raw;
	if (size < 2)
		return 0;
	if (!z)
		z = gz_new();
	FUZZ_CHECK(z != NULL);
	raw = data[1] & 1;
	decode(z, raw, 0, 0, data + 2, size - 2, &whole);
	decode(z, raw, data[1] & 2, data[0], data + 2, size - 2, &split);
	/* Where the cap strikes depends on how output was batched: nothing to compare then. */
	if ((whole.ret < 0 && !strcmp(whole.e.msg, CAP_MSG)) ||
	    (split.ret < 0 && !strcmp(split.e.msg, CAP_MSG)))
		return 0;
	FUZZ_CHECK(whole.ret == split.ret);
	if (whole.ret < 0) {
		FUZZ_CHECK(whole.e.code == split.e.code);
		FUZZ_CHECK(!strcmp(whole.e.msg, split.e.msg));
		return 0;
	}
	FUZZ_CHECK(whole.out.len == split.out.len && whole.out.crc == split.out.crc);
	FUZZ_CHECK(whole.used == split.used);
	return 0;
}
