/* tests/unit/runopts.c: the option syntaxes run.c parses for several commands: --ulimit
 * NAME=SOFT[:HARD] (run, create, and exec from the stored record) and --detach-keys (attach,
 * start, run, exec), with Docker's words for what they refuse. */
#include "dock.h"
#include "src/util.c"
#include "src/json.c"
#include "src/user.c"
#include "src/seccomp.c"
#include "src/confine.c"
#include "src/run.c"
#include "tests/unit/check.h"

static void
t_ulimit(void)
{
	struct run_ulimit u;
	struct err e = {0};
	CHECK(run_ulimit_parse("nofile=1024:2048", &u, &e) == 0 && u.resource == RLIMIT_NOFILE &&
	      u.soft == 1024 && u.hard == 2048 && !strcmp(u.name, "nofile"));
	/* soft only: the hard limit the same; -1 unlimited */
	CHECK(run_ulimit_parse("core=0", &u, &e) == 0 && u.resource == RLIMIT_CORE && u.soft == 0 && u.hard == 0);
	CHECK(run_ulimit_parse("memlock=-1:-1", &u, &e) == 0 && u.soft == -1 && u.hard == -1);
	CHECK(run_ulimit_parse("nproc=10:-1", &u, &e) == 0 && u.soft == 10 && u.hard == -1);
	CHECK(run_ulimit_parse("nofiles=5", &u, &e) < 0 && e.code == ERR_USAGE &&
	      !strcmp(e.msg, "invalid ulimit type: nofiles"));
	CHECK(run_ulimit_parse("nofile=10:5", &u, &e) < 0 &&
	      strstr(e.msg, "soft limit must be less than or equal to hard limit: 10 > 5"));
	CHECK(run_ulimit_parse("nofile=-1:5", &u, &e) < 0);
	CHECK(run_ulimit_parse("nofile", &u, &e) < 0 && !strcmp(e.msg, "invalid ulimit argument: nofile"));
	CHECK(run_ulimit_parse("=5", &u, &e) < 0);
	CHECK(run_ulimit_parse("nofile=", &u, &e) < 0);
	CHECK(run_ulimit_parse("nofile=5:", &u, &e) < 0);
	CHECK(run_ulimit_parse("nofile=5x", &u, &e) < 0);
	CHECK(run_ulimit_parse("nofile=-2", &u, &e) < 0);
	CHECK(run_ulimit_parse("nofile=99999999999999999999", &u, &e) < 0);
}

static void
t_detach_keys(void)
{
	unsigned char k[16];
	size_t n = 99;
	struct err e = {0};
	CHECK(run_detach_keys_parse("ctrl-p,ctrl-q", k, sizeof k, &n, &e) == 0 && n == 2 && k[0] == 0x10 &&
	      k[1] == 0x11);
	CHECK(run_detach_keys_parse("ctrl-a,CTRL-Z,Ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", k, sizeof k, &n,
				    &e) == 0 &&
	      n == 8 && k[0] == 1 && k[1] == 26 && k[2] == 0 && k[3] == 27 && k[4] == 28 && k[5] == 29 &&
	      k[6] == 30 && k[7] == 31);
	CHECK(run_detach_keys_parse("x", k, sizeof k, &n, &e) == 0 && n == 1 && k[0] == 'x');
	CHECK(run_detach_keys_parse("a,ctrl-b,-", k, sizeof k, &n, &e) == 0 && n == 3 && k[0] == 'a' &&
	      k[1] == 2 && k[2] == '-');
	/* none given: the keys stay as they were (Docker's default) */
	n = 2;
	CHECK(run_detach_keys_parse("", k, sizeof k, &n, &e) == 0 && n == 2);
	CHECK(run_detach_keys_parse("ctrl-1", k, sizeof k, &n, &e) < 0 && e.code == ERR_USAGE &&
	      !strcmp(e.msg, "invalid detach keys (ctrl-1): Unknown character: 'ctrl-1'"));
	CHECK(run_detach_keys_parse("a,bc", k, sizeof k, &n, &e) < 0 && strstr(e.msg, "'bc'"));
	CHECK(run_detach_keys_parse("ctrl-", k, sizeof k, &n, &e) < 0);
	CHECK(run_detach_keys_parse("ctrl-xx", k, sizeof k, &n, &e) < 0);
	CHECK(run_detach_keys_parse("alt-x", k, sizeof k, &n, &e) < 0);
	CHECK(run_detach_keys_parse("a,", k, sizeof k, &n, &e) < 0);
	CHECK(run_detach_keys_parse(",a", k, sizeof k, &n, &e) < 0);
	CHECK(run_detach_keys_parse("a,b,c", k, 2, &n, &e) < 0 && strstr(e.msg, "too long"));
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(t_ulimit);
	RUN(t_detach_keys);
	CHECK_MAIN_END;
}
