/* check.h: the unit-test harness.  A test file includes dock.h, the modules it tests, then this;
 * each TEST prints "PASS name" or "FAIL name" (test.sh counts those lines), failed checks say why. */
#include <stdio.h>

static int check_failed;

#define CHECK(c)                                                                              \
	do {                                                                                      \
		if (!(c)) {                                                                           \
			printf("  check failed %s:%d: %s\n", __FILE__, __LINE__, #c);                     \
			check_failed++;                                                                   \
		}                                                                                     \
	} while (0)

#define RUN(fn) run_test(#fn, fn)

static int tests_failed;

static void
run_test(const char *name, void (*fn)(void))
{
	int before = check_failed;
	fn();
	printf("%s %s\n", check_failed == before ? "PASS" : "FAIL", name);
	fflush(stdout);
	if (check_failed != before)
		tests_failed++;
}

/* Feed whole, byte by byte, and split at every offset: calls push(ctx, p, n) per piece. */
#define CHECK_MAIN_END return tests_failed ? 1 : 0
