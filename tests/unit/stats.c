/* tests/unit/stats.c: how dock stats prints: go-units' BytesSize (binary, 4 significant digits)
 * and HumanSizeWithPrecision(3) (decimal), the tabwriter docker sets up (minwidth 10, padding 3,
 * a line's last cell unpadded), the header from a "table" format, and a row rendered through a
 * --format template.  The whole program is included (its main renamed) for the modules stats.c
 * stands on. */
#define main dock_main
#include "dock.c"
#undef main
#include "tests/unit/check.h"

static int
is(const char *got, const char *want)
{
	if (strcmp(got, want)) {
		printf("  \"%s\", want \"%s\"\n", got, want);
		return 0;
	}
	return 1;
}

static void
t_sizes(void)
{
	char b[64];
	stats_bytes(0, b, sizeof b);
	CHECK(is(b, "0B"));
	stats_bytes(1023, b, sizeof b);
	CHECK(is(b, "1023B"));
	stats_bytes(1024, b, sizeof b);
	CHECK(is(b, "1KiB"));
	stats_bytes(1065353, b, sizeof b);
	CHECK(is(b, "1.016MiB"));
	stats_bytes(16771649536.0, b, sizeof b);
	CHECK(is(b, "15.62GiB"));
	stats_bytes(64 << 20, b, sizeof b);
	CHECK(is(b, "64MiB"));
	stats_bytes(1047552, b, sizeof b); /* 1023 KiB */
	CHECK(is(b, "1023KiB"));
	stats_human(0, b, sizeof b);
	CHECK(is(b, "0B"));
	stats_human(999, b, sizeof b);
	CHECK(is(b, "999B"));
	stats_human(1234, b, sizeof b);
	CHECK(is(b, "1.23kB"));
	stats_human(4096, b, sizeof b);
	CHECK(is(b, "4.1kB"));
	stats_human(12345678, b, sizeof b);
	CHECK(is(b, "12.3MB"));
	stats_human(1e12, b, sizeof b);
	CHECK(is(b, "1TB"));
}

static void
t_tabwriter(void)
{
	struct buf in = {0}, out = {0};
	buf_adds(&in, "A\tBB\tC\nlonger-than-ten\tx\tlast cell stays\n\xc3\xa9\tz\t\n");
	stats_tabwrite(&out, &in);
	/* the first column is 15 + 3 wide, the second at least 10; UTF-8 counts as one cell */
	CHECK(is(out.p, "A                 BB        C\n"
			"longer-than-ten   x         last cell stays\n"
			"\xc3\xa9                 z         \n"));
	buf_free(&in);
	buf_free(&out);
}

static void
t_header_and_row(void)
{
	struct stats_ctr c;
	struct stats_set set;
	struct buf out = {0};
	memset(&c, 0, sizeof c);
	snprintf(c.id, sizeof c.id, "%s", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	snprintf(c.name, sizeof c.name, "web");
	snprintf(c.given, sizeof c.given, "web");
	c.cpu_pct = 12.345;
	c.s.mem_usage = 1065353;
	c.s.mem_limit = 64 << 20;
	c.s.pids = 3;
	c.s.blk_read = 4096;
	c.rx = 1234;
	c.tx = 0;
	set.c = &c;
	set.n = 1;
	stats_frame(&set, stats_default_fmt, 0, &out);
	CHECK(is(out.p, "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O       BLOCK I/O    PIDS\n"
			"0123456789ab   web       12.35%    1.016MiB / 64MiB    1.59%     1.23kB / 0B   4.1kB / 0B   3\n"));
	buf_reset(&out);
	stats_frame(&set, "{{.Container}}: {{.CPUPerc}} {{.PIDs}}", 1, &out);
	CHECK(is(out.p, "web: 12.35% 3\n"));
	buf_reset(&out);
	stats_frame(&set, "table {{.ID}}\\t{{.MemPerc}}", 1, &out);
	CHECK(is(out.p, "CONTAINER ID                                                       MEM %\n"
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef   1.59%\n"));
	buf_reset(&out);
	set.n = 0;
	stats_frame(&set, stats_default_fmt, 0, &out);
	CHECK(is(out.p, "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n"));
	buf_free(&out);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(t_sizes);
	RUN(t_tabwriter);
	RUN(t_header_and_row);
	CHECK_MAIN_END;
}
