/* tests/fuzz/json.c: json_parse, every accessor, and the writer on hostile documents.
 *
 * Input: the document itself (json_parse takes it whole; nothing to split).  A document that
 * parses is walked with every accessor (each object key found again by json_get unless a later
 * duplicate wins; json_int where it applies), then written compactly and indented: both must
 * parse again, and writing the reparsed document must give the same bytes (a fixed point). */
#include "dock.h"
#include "src/util.c"
#include "src/json.c"
#include "tests/fuzz/fuzz.h"

static void
walk(const struct jv *v, int depth)
{
	size_t i, n = json_len(v);
	int64_t iv;
	FUZZ_CHECK(depth <= JSON_MAX_DEPTH);
	switch (json_type(v)) {
	case JSON_STRING:
		FUZZ_CHECK(json_str(v) != NULL && strlen(json_str(v)) <= json_strlen(v));
		FUZZ_CHECK(n == 0 && json_at(v, 0) == NULL && json_get(v, "") == NULL);
		break;
	case JSON_NUMBER:
		FUZZ_CHECK(json_str(v) == NULL && json_strlen(v) == 0);
		if (json_int(v, &iv) == 0) {
			char tmp[32];
			snprintf(tmp, sizeof tmp, "%" PRId64, iv);
			/* the text was the integer, give or take a "-0" */
			FUZZ_CHECK(!strcmp(tmp, v->s) || (!strcmp(v->s, "-0") && iv == 0));
		}
		break;
	case JSON_ARRAY:
		FUZZ_CHECK(json_key(v, 0) == NULL);
		for (i = 0; i < n; i++) {
			FUZZ_CHECK(json_at(v, i) != NULL);
			walk(json_at(v, i), depth + 1);
		}
		FUZZ_CHECK(json_at(v, n) == NULL);
		break;
	case JSON_OBJECT:
		for (i = 0; i < n; i++) {
			const char *k = json_key(v, i);
			const struct jv *kid = json_at(v, i), *got;
			FUZZ_CHECK(k != NULL && kid != NULL && k == kid->key);
			/* json_get finds the last member of a name; names holding NUL it cannot ask for. */
			if (strlen(k) == kid->keylen) {
				got = json_get(v, k);
				FUZZ_CHECK(got != NULL && got >= kid && got->keylen == kid->keylen &&
					   !memcmp(got->key, k, kid->keylen));
				FUZZ_CHECK(json_getstr(v, k) == json_str(got));
			}
			walk(kid, depth + 1);
		}
		FUZZ_CHECK(json_key(v, n) == NULL && json_at(v, n) == NULL);
		break;
	case JSON_NULL:
	case JSON_TRUE:
	case JSON_FALSE:
		FUZZ_CHECK(n == 0 && json_str(v) == NULL && json_int(v, &iv) < 0);
		break;
	default:
		FUZZ_CHECK(0);
	}
}

static void
write_doc(const struct json *d, int indent, struct buf *b)
{
	struct jw w;
	buf_reset(b);
	jw_init(&w, b, indent);
	jw_value(&w, json_root(d));
	FUZZ_CHECK(w.depth == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	struct json *d = json_parse((const char *)data, size, &e), *d2, *d3;
	struct buf compact = {0}, pretty = {0}, again = {0};
	if (!d) {
		FUZZ_CHECK(e.code == ERR_FORMAT || e.code == ERR_LIMIT);
		FUZZ_CHECK(e.msg[0]);
		return 0;
	}
	walk(json_root(d), 0);
	write_doc(d, 0, &compact);
	write_doc(d, 2, &pretty);
	d2 = json_parse(compact.p, compact.len, &e);
	FUZZ_CHECK(d2 != NULL);
	d3 = json_parse(pretty.p, pretty.len, &e);
	FUZZ_CHECK(d3 != NULL);
	write_doc(d2, 0, &again);
	FUZZ_CHECK(again.len == compact.len && !memcmp(again.p, compact.p, compact.len));
	write_doc(d3, 0, &again);
	FUZZ_CHECK(again.len == compact.len && !memcmp(again.p, compact.p, compact.len));
	json_free(d);
	json_free(d2);
	json_free(d3);
	buf_free(&compact);
	buf_free(&pretty);
	buf_free(&again);
	return 0;
}
