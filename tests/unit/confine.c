/* Unit tests for confine.c: the sealed copy of dock (in a child that re-executes this binary),
 * closing descriptors (close_range and the /proc/self/fd walk), the working-directory check. */
#include "dock.h"
#include "src/util.c"
#include "src/confine.c"
#include "tests/unit/check.h"

#include <sys/wait.h>

static char **unit_argv;

/* Run this binary as "sealed-child": it re-executes from a memfd and reports the seals. */
static void
t_sealed_self(void)
{
	int status = -1, p[2];
	char out[256] = {0};
	ssize_t n;
	pid_t pid;
	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		char *argv[] = {unit_argv[0], "sealed-child", NULL};
		dup2(p[1], 1);
		execv("/proc/self/exe", argv);
		_exit(99);
	}
	close(p[1]);
	n = read(p[0], out, sizeof out - 1);
	close(p[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(n > 0 && strstr(out, "sealed 15") != NULL);
	CHECK(n > 0 && strstr(out, "memfd:dock") != NULL);
	CHECK(n > 0 && strstr(out, "mark unset") != NULL);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		printf("  child said: %s\n", out);
}

/* What the child does: the re-exec, then what /proc/self/exe is. */
static int
sealed_child(char **argv)
{
	struct err e = {0};
	char link[256] = {0};
	int fd;
	if (confine_sealed_self(argv, &e) < 0) {
		printf("error %s\n", e.msg);
		return 1;
	}
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (readlink("/proc/self/exe", link, sizeof link - 1) < 0)
		return 2;
	/* the copy cannot be written, grown or shrunk, even by its owner */
	if (fd < 0 || write(fd, "x", 1) >= 0 || ftruncate(fd, 0) == 0)
		return 3;
	printf("sealed %d %s mark %s\n", fcntl(fd, F_GET_SEALS), link,
	       getenv(CONFINE_MARK) ? "set" : "unset");
	return 0;
}

/* A marker without seals is refused, never taken for done. */
static void
t_sealed_mark_alone(void)
{
	struct err e = {0};
	char *argv[] = {unit_argv[0], NULL};
	setenv(CONFINE_MARK, "1", 1);
	CHECK(confine_sealed_self(argv, &e) < 0);
	CHECK(strstr(e.msg, "not sealed") != NULL);
	unsetenv(CONFINE_MARK);
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void
t_close_fds(void)
{
	int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY),
	    c = open("/dev/null", O_RDONLY);
	CHECK(a >= 3 && b > a && c > b);
	confine_close_fds(b);
	CHECK(!fd_open(a) && fd_open(b) && !fd_open(c));
	CHECK(fd_open(0) && fd_open(1) && fd_open(2));
	confine_close_fds(-1);
	CHECK(!fd_open(b));
	/* the walk, for kernels without close_range */
	a = open("/dev/null", O_RDONLY);
	b = dup2(a, 40);
	c = dup2(a, 700);
	confine_close_walk(40);
	CHECK(!fd_open(a) && fd_open(40) && !fd_open(700));
	confine_close_walk(-1);
	CHECK(!fd_open(40));
	CHECK(fd_open(0) && fd_open(1) && fd_open(2));
}

static void
t_cwd_inside(void)
{
	struct err e = {0};
	CHECK(confine_cwd_inside(&e) == 0);
}

int
main(int argc, char **argv)
{
	unit_argv = argv;
	if (argc > 1 && !strcmp(argv[1], "sealed-child"))
		return sealed_child(argv);
	RUN(t_close_fds);
	RUN(t_cwd_inside);
	RUN(t_sealed_mark_alone);
	RUN(t_sealed_self);
	CHECK_MAIN_END;
}
