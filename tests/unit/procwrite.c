/* tests/unit/procwrite.c: run_proc_write, the one way dock writes to /proc (uid_map, gid_map,
 * setgroups, oom_score_adj).  It writes a real /proc file; it refuses, writing nothing, a regular
 * file, a symlink, and a file bind-mounted over a /proc entry (what a container able to reach the
 * path could put there), checked in a child with a mount namespace of its own. */
#include "dock.h"
#include "src/util.c"
#include "src/json.c"
#include "src/user.c"
#include "src/seccomp.c"
#include "src/confine.c"
#include "src/run.c"
#include "tests/unit/check.h"

static char scratch[] = "/tmp/dock-procw-XXXXXX";

static int
read_int(const char *path, int *v)
{
	struct buf b = {0};
	struct err e = {0};
	int r = file_read(AT_FDCWD, path, 4096, &b, &e);
	if (r == 0)
		*v = atoi(b.p);
	buf_free(&b);
	return r;
}

static void
t_writes_proc(void)
{
	struct err e = {0};
	int before = 0, after = 0;
	char v[16];
	CHECK(read_int("/proc/self/oom_score_adj", &before) == 0);
	/* raising needs no privilege */
	snprintf(v, sizeof v, "%d", before < 1000 ? before + 1 : before);
	CHECK(run_proc_write("/proc/self/oom_score_adj", v, &e) == 0);
	CHECK(read_int("/proc/self/oom_score_adj", &after) == 0 && after == atoi(v));
	/* the kernel's own refusal comes back as ERR_SYS with its errno */
	CHECK(run_proc_write("/proc/self/oom_score_adj", "5000", &e) < 0 && e.code == ERR_SYS &&
	      e.sys == EINVAL);
	CHECK(run_proc_write("/proc/self/no-such-file", "1", &e) < 0 && e.sys == ENOENT);
}

static void
t_refuses_others(void)
{
	struct err e = {0};
	struct buf b = {0};
	char file[256], link[256];
	int fd;
	snprintf(file, sizeof file, "%s/file", scratch);
	snprintf(link, sizeof link, "%s/link", scratch);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(run_proc_write(file, "0 0 1\n", &e) < 0 && e.code == ERR_UNSAFE && strstr(e.msg, "procfs"));
	CHECK(file_read(AT_FDCWD, file, 4096, &b, &e) == 0 && b.len == 0);
	buf_free(&b);
	/* a symlink to a real /proc file is not followed */
	CHECK(symlink("/proc/self/oom_score_adj", link) == 0);
	CHECK(run_proc_write(link, "1", &e) < 0 && e.sys == ELOOP);
}

/* A file bind-mounted over /proc/PID/oom_score_adj: open succeeds, the check refuses. */
static void
t_refuses_bind_over_proc(void)
{
	char file[256];
	int fd, st = 0;
	pid_t pid;
	if (geteuid() != 0) {
		printf("  not root: skipped\n");
		return;
	}
	snprintf(file, sizeof file, "%s/decoy", scratch);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	close(fd);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct err e = {0};
		char target[64];
		snprintf(target, sizeof target, "/proc/%d/oom_score_adj", (int)getpid());
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(2);
		if (mount(file, target, NULL, MS_BIND, NULL) < 0)
			_exit(3);
		if (run_proc_write(target, "500", &e) == 0)
			_exit(4);
		_exit(e.code == ERR_UNSAFE ? 0 : 5);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	if (WEXITSTATUS(st))
		printf("  child exit %d\n", WEXITSTATUS(st));
	CHECK(WEXITSTATUS(st) == 0);
	{
		struct buf b = {0};
		struct err e = {0};
		CHECK(file_read(AT_FDCWD, file, 4096, &b, &e) == 0 && b.len == 0);
		buf_free(&b);
	}
}

int
main(void)
{
	struct err e;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(t_writes_proc);
	RUN(t_refuses_others);
	RUN(t_refuses_bind_over_proc);
	rm_rf(AT_FDCWD, scratch, &e);
	CHECK_MAIN_END;
}
