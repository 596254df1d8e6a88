/* tests/fuzz/chunked.c: the chunked transfer decoder (chunked_push) on hostile bodies.
 *
 * Input: [split selector] [output size] [wire bytes].  The second byte gives the room the caller
 * offers per call: 1 + b % 64 bytes, or 4096 from 128 up.  The wire is decoded whole with room for
 * everything, and split with the room given: every call must make progress, and both must agree
 * on the body, where it ended, and on the error if there is one. */
#include "dock.h"
#include "src/util.c"
#include "src/net.c"
#include "src/tls.c"
#include "src/http.c"
#include "tests/fuzz/fuzz.h"

struct outcome {
	int err, done;
	struct err e;
	size_t used;
	struct buf body;
};

static void
decode(const uint8_t *p, size_t n, uint8_t sel, size_t cap, struct outcome *o)
{
	struct chunked c;
	struct fuzz_split sp;
	uint8_t *ob = xmalloc(cap);
	size_t off = 0;
	memset(o, 0, sizeof *o);
	buf_add(&o->body, "", 0);
	chunked_init(&c);
	fuzz_split_init(&sp, sel);
	while (off < n && !c.done && !o->err) {
		size_t len = fuzz_piece(&sp, n - off);
		while (len > 0 && !c.done) {
			size_t on = cap;
			ssize_t used = chunked_push(&c, p + off, len, ob, &on, &o->e);
			if (used < 0) {
				o->err = 1;
				break;
			}
			FUZZ_CHECK((size_t)used <= len && on <= cap);
			FUZZ_CHECK(used > 0 || on > 0 || c.done);
			buf_add(&o->body, ob, on);
			off += (size_t)used;
			len -= (size_t)used;
		}
	}
	o->done = c.done;
	o->used = off;
	if (o->err) {
		size_t on = cap;
		struct err e2;
		FUZZ_CHECK(o->e.msg[0] && (o->e.code == ERR_FORMAT || o->e.code == ERR_LIMIT));
		FUZZ_CHECK(chunked_push(&c, p, n, ob, &on, &e2) == -1);
	}
	free(ob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, split;
	if (size < 2)
		return 0;
	decode(data + 2, size - 2, 0, size, &whole);
	decode(data + 2, size - 2, data[0], data[1] < 128 ? 1 + data[1] % 64 : 4096, &split);
	FUZZ_CHECK(whole.err == split.err);
	if (whole.err) {
		FUZZ_CHECK(whole.e.code == split.e.code && !strcmp(whole.e.msg, split.e.msg));
	} else {
		FUZZ_CHECK(whole.done == split.done && whole.used == split.used);
		FUZZ_CHECK(whole.body.len == split.body.len &&
			   !memcmp(whole.body.p, split.body.p, whole.body.len));
	}
	buf_free(&whole.body);
	buf_free(&split.body);
	return 0;
}
