/* exec.c: the commands that enter a running container: exec (a new process in its namespaces, root,
 * user and privileges) and top (its processes, as docker top shows them).  Owns the way into a
 * running container that cp and export use too (exec_target_open): the container's PID 1 is pinned
 * by an fd of /proc/PID taken before its start time is checked, so a reused PID is never entered,
 * and its namespaces and root are opened through that fd.
 *
 * How exec runs the command.  dock (A) forks B, which joins the container's cgroup, enters its
 * namespaces (the user namespace first, and only those that differ from ours) and forks C: only a
 * new process lands in the container's PID namespace.  B hands C's PID to A and exits; A is a child
 * subreaper, so C becomes A's child and A gets its exact wait status, forwards signals to it and
 * relays its terminal.  C takes the container's root (fchdir to the root fd + chroot), resolves
 * the user in it, opens its terminal in the container's own devpts (so `tty` names it) and passes
 * the master to A over a socket, drops privileges as the container's PID 1 had them (its bounding
 * set; seccomp when PID 1 has a filter), sets no_new_privs and executes.  B and C are not dumpable
 * until exec: the container cannot ptrace them or read their fds.  A failure before exec comes
 * back as a fixed record over a close-on-exec pipe; EOF on it means exec succeeded. */

#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <termios.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/filter.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441
#endif
#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif

/* Docker's default capability set, for a container whose PID 1 cannot be asked. */
#define EXEC_DEFAULT_CAPS 0xa80425fbULL

/* ---------------------------------------------------------------- the target */

static const char *const exec_ns_names[EXEC_NNS] = {"user", "ipc", "uts", "net", "pid", "cgroup",
						    "mnt"};
static const int exec_ns_flags[EXEC_NNS] = {CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
					    CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWNS};

/* One "Key:\tvalue" line of /proc/PID/status, read through the pinned fd. */
static int
exec_status_field(int procfd, const char *key, char *out, size_t n)
{
	char buf[4096], *p;
	size_t klen = strlen(key);
	ssize_t got;
	int fd = openat(procfd, "status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	got = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (got <= 0)
		return -1;
	buf[got] = 0;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			char *v = p + klen + 1, *end;
			while (*v == ' ' || *v == '\t')
				v++;
			end = strchr(v, '\n');
			snprintf(out, n, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
			return 0;
		}
	}
	return -1;
}

/* The user and working directory the container runs with: its record's, else (a record that
 * keeps only what `run` was given) its image's. */
static void
exec_target_defaults(struct store *st, struct exec_target *t)
{
	const struct jv *cc = json_get(json_root(t->cfg), "Config"), *ic;
	const char *user = json_getstr(cc, "User"), *wd = json_getstr(cc, "WorkingDir");
	const char *image = json_getstr(json_root(t->cfg), "Image");
	struct buf b = {0};
	struct json *j = NULL;
	struct err e = {0};
	if ((!user || !*user || !wd || !*wd) && image && digest_valid(image) &&
	    store_get_blob(st, image, 8 << 20, &b, &e) == 0 && (j = json_parse(b.p, b.len, &e))) {
		ic = json_get(json_root(j), "config");
		if (!user || !*user)
			user = json_getstr(ic, "User");
		if (!wd || !*wd)
			wd = json_getstr(ic, "WorkingDir");
	}
	snprintf(t->user, sizeof t->user, "%s", user ? user : "");
	snprintf(t->workdir, sizeof t->workdir, "%s", wd && *wd ? wd : "/");
	json_free(j);
	buf_free(&b);
}

/* Resolve name to a running container and open what entering it needs; dies (prefixed with cmd)
 * when it cannot.  The store is closed again before this returns: nothing of it reaches a child. */
void
exec_target_open(const char *cmd, const char *name, struct exec_target *t)
{
	struct store st;
	struct ctr_info c;
	struct err e = {0};
	char path[64], v[64];
	struct stat ours, theirs;
	size_t i;

	memset(t, 0, sizeof *t);
	cli_store(&st);
	if (ctr_resolve(&st, name, t->id, &e) < 0 || ctr_load(&st, t->id, &c, &e) < 0)
		die("%s: %s", cmd, e.msg);
	if (!strcmp(c.status, "paused"))
		die("%s: container %s is paused, unpause the container first", cmd, name);
	if (strcmp(c.status, "running") || c.pid <= 0)
		die("%s: container %s is not running", cmd, name);
	snprintf(path, sizeof path, "/proc/%d", c.pid);
	t->procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* checked after the fd is taken: if it is still the same process now, the fd is its */
	if (t->procfd < 0 || !ctr_alive(json_root(c.state)))
		die("%s: container %s is not running", cmd, name);
	t->pid = c.pid;
	snprintf(t->name, sizeof t->name, "%s", c.name);
	t->privileged =
		json_type(json_get(json_get(json_root(c.cfg), "HostConfig"), "Privileged")) == JSON_TRUE;
	t->cfgb = c.cfgb;
	t->cfg = c.cfg;
	c.cfgb = (struct buf){0};
	c.cfg = NULL;
	ctr_info_free(&c);
	exec_target_defaults(&st, t);
	store_close(&st);

	for (i = 0; i < EXEC_NNS; i++) {
		t->nsfd[i] = -1;
		snprintf(path, sizeof path, "ns/%s", exec_ns_names[i]);
		t->nsfd[i] = openat(t->procfd, path, O_RDONLY | O_CLOEXEC);
		if (t->nsfd[i] < 0) {
			if (errno == ENOENT) /* a kernel without that kind of namespace */
				continue;
			die_errno("%s: open the container's %s namespace", cmd, exec_ns_names[i]);
		}
		snprintf(path, sizeof path, "/proc/self/ns/%s", exec_ns_names[i]);
		if (stat(path, &ours) == 0 && fstat(t->nsfd[i], &theirs) == 0 &&
		    ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev) {
			close(t->nsfd[i]); /* shared with us (the host's network): nothing to enter */
			t->nsfd[i] = -1;
		}
	}
	t->rootfd = openat(t->procfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0)
		die_errno("%s: open the container's root", cmd);
	t->caps = EXEC_DEFAULT_CAPS;
	if (t->privileged)
		t->caps = ~0ULL >> 23;
	if (exec_status_field(t->procfd, "CapBnd", v, sizeof v) == 0)
		t->caps = strtoull(v, NULL, 16);
	t->seccomp = 0; /* no Seccomp line: a kernel without seccomp */
	if (exec_status_field(t->procfd, "Seccomp", v, sizeof v) == 0)
		t->seccomp = atoi(v) == 2;
}

/* Join the container's user namespace (a rootless container's), if it has its own. */
int
exec_target_userns(const struct exec_target *t, struct err *e)
{
	if (t->nsfd[0] >= 0 && setns(t->nsfd[0], CLONE_NEWUSER) < 0)
		return err_sys(e, "enter the container's user namespace");
	return 0;
}

void
exec_target_close(struct exec_target *t)
{
	size_t i;
	for (i = 0; i < EXEC_NNS; i++)
		if (t->nsfd[i] >= 0)
			close(t->nsfd[i]);
	if (t->rootfd >= 0)
		close(t->rootfd);
	if (t->procfd >= 0)
		close(t->procfd);
	json_free(t->cfg);
	buf_free(&t->cfgb);
	memset(t, 0, sizeof *t);
	t->rootfd = t->procfd = -1;
}

/* ---------------------------------------------------------------- the failure record */

struct exec_fail {
	int stage; /* EXEC_STAGE_* */
	int sys;   /* errno */
	char msg[480];
};
enum { EXEC_STAGE_DOCK = 1, EXEC_STAGE_SETUP = 2, EXEC_STAGE_EXEC = 3 };

static int exec_errfd = -1;

static void __attribute__((noreturn, format(printf, 3, 4)))
exec_fail(int stage, int sys, const char *fmt, ...)
{
	struct exec_fail f;
	va_list ap;
	memset(&f, 0, sizeof f);
	f.stage = stage;
	f.sys = sys;
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof f.msg, fmt, ap);
	va_end(ap);
	if (sys && stage != EXEC_STAGE_EXEC) {
		size_t n = strlen(f.msg);
		snprintf(f.msg + n, sizeof f.msg - n, ": %s", strerror(sys));
	}
	if (write(exec_errfd, &f, sizeof f) < 0)
		_exit(125);
	_exit(125);
}

#define exec_check(stage, cond, ...)                    \
	do {                                                \
		if (!(cond))                                    \
			exec_fail(stage, errno, __VA_ARGS__);       \
	} while (0)

/* ---------------------------------------------------------------- the process */

struct exec_spec {
	struct exec_target *t;
	struct cg *cg;
	int rootless;
	char **argv;
	char **env;
	const char *user;
	const char *workdir;
	int tty, interactive, detach;
	struct winsize ws;
	int have_ws;
	int nullfd;     /* /dev/null, for stdin without -i (and everything with -d) */
	int sockfd;     /* -t: C's end of the socket that carries the pty master to A */
	int pidfd;      /* B's end of the pipe that carries C's PID */
	uint64_t caps;
	struct sock_filter *prog;
	size_t proglen; /* 0: no seccomp */
	struct run_ulimit ulimits[16]; /* the container's --ulimit (DockSpec.Limits.Ulimits) */
	size_t nulimits;
};

/* C's terminal: a pty of the container's own devpts; the master goes to A. */
static int
exec_open_pty(const struct exec_spec *s, uid_t uid)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr m;
	struct iovec iov;
	struct cmsghdr *cm;
	int master, slave, zero = 0;
	unsigned num;
	struct stat st;
	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	exec_check(EXEC_STAGE_SETUP, master >= 0, "open the container's /dev/ptmx");
	/* the image owns /dev: make sure this is a pty master, not something planted there */
	exec_check(EXEC_STAGE_SETUP, fstat(master, &st) == 0 && S_ISCHR(st.st_mode) &&
		   ioctl(master, TIOCGPTN, &num) == 0, "/dev/ptmx is not a pseudo-terminal master");
	exec_check(EXEC_STAGE_SETUP, ioctl(master, TIOCSPTLCK, &zero) == 0, "unlock the pty");
	exec_check(EXEC_STAGE_SETUP, fcntl(master, F_SETFL, O_RDWR) == 0, "pty flags");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		char p[64];
		snprintf(p, sizeof p, "/dev/pts/%u", num);
		slave = open(p, O_RDWR | O_NOCTTY | O_CLOEXEC);
		exec_check(EXEC_STAGE_SETUP, slave >= 0, "open %s", p);
	}
	if (s->have_ws)
		ioctl(slave, TIOCSWINSZ, &s->ws);
	if (fchown(slave, uid, (gid_t)-1) < 0) {
		/* the user owns its terminal, as after login; if not, it still has the fds */
	}
	memset(&m, 0, sizeof m);
	memset(cbuf, 0, sizeof cbuf);
	iov.iov_base = "t";
	iov.iov_len = 1;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof cbuf;
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof master);
	exec_check(EXEC_STAGE_DOCK, sendmsg(s->sockfd, &m, MSG_NOSIGNAL) == 1, "pass the terminal");
	close(master);
	return slave;
}

/* C: inside every namespace but not yet the root. */
static void __attribute__((noreturn))
exec_child(struct exec_spec *s)
{
	struct user_ids u;
	struct err e = {0};
	sigset_t none;
	int rootfd, sig, i;
	char **env = s->env;

	exec_check(EXEC_STAGE_DOCK, fchdir(s->t->rootfd) == 0 && chroot(".") == 0 && chdir("/") == 0,
		   "enter the container's root");
	rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	exec_check(EXEC_STAGE_DOCK, rootfd >= 0, "open the container's root");
	if (user_resolve(rootfd, s->user, &u, &e) < 0)
		exec_fail(EXEC_STAGE_SETUP, 0, "%s", e.msg);
	close(rootfd);
	exec_check(EXEC_STAGE_DOCK, setsid() >= 0, "setsid");
	if (s->tty) {
		int slave = exec_open_pty(s, u.uid);
		exec_check(EXEC_STAGE_SETUP, ioctl(slave, TIOCSCTTY, 0) == 0, "controlling terminal");
		for (i = 0; i < 3; i++)
			exec_check(EXEC_STAGE_DOCK, dup2(slave, i) == i, "dup2");
		close(slave);
	} else {
		if (!s->interactive || s->detach)
			exec_check(EXEC_STAGE_DOCK, dup2(s->nullfd, 0) == 0, "stdin");
		if (s->detach)
			exec_check(EXEC_STAGE_DOCK, dup2(s->nullfd, 1) == 1 && dup2(s->nullfd, 2) == 2,
				   "stdout");
	}
	/* nothing of dock's reaches the command (the failure pipe closes at exec), nor can the
	 * working directory lead out through one of its descriptors (-w /proc/self/fd/N) */
	confine_close_fds(exec_errfd);
	if (chdir(s->workdir) < 0)
		exec_fail(EXEC_STAGE_SETUP, errno, "chdir to %s", s->workdir);
	if (confine_cwd_inside(&e) < 0)
		exec_fail(EXEC_STAGE_SETUP, 0, "working directory %s: %s", s->workdir, e.msg);
	if (!run_getenv(env, "HOME")) {
		size_t n = 0;
		while (env[n])
			n++;
		env = xcalloc(n + 2, sizeof *env);
		memcpy(env, s->env, n * sizeof *env);
		env[n] = xasprintf("HOME=%s", u.home[0] ? u.home : "/");
	}
	/* as the container's command has them; raising one may need a capability dropped next */
	if (run_ulimits_apply(s->ulimits, s->nulimits, &e) < 0)
		exec_fail(EXEC_STAGE_SETUP, 0, "%s", e.msg);
	if (confine_drop(s->caps, &u, s->rootless, NULL, &e) < 0)
		exec_fail(EXEC_STAGE_SETUP, 0, "%s%s", e.msg,
			  s->rootless && !strncmp(e.msg, "setuid", 6)
				  ? " (a rootless container maps only the IDs /etc/subuid and "
				    "/etc/subgid grant)" : "");
	if (s->proglen && seccomp_load(s->prog, s->proglen, &e) < 0)
		exec_fail(EXEC_STAGE_SETUP, 0, "%s", e.msg);
	for (sig = 1; sig < 65; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	run_exec(s->argv, env);
	exec_fail(EXEC_STAGE_EXEC, errno, "\"%s\"", s->argv[0]);
}

/* B: into the cgroup and the namespaces, then C. */
static void __attribute__((noreturn))
exec_enter(struct exec_spec *s)
{
	struct err e = {0};
	pid_t c;
	size_t i;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (s->cg && cg_enter(s->cg, getpid(), &e) < 0 && !s->rootless)
		exec_fail(EXEC_STAGE_DOCK, 0, "%s", e.msg);
	for (i = 0; i < EXEC_NNS; i++)
		if (s->t->nsfd[i] >= 0 && setns(s->t->nsfd[i], exec_ns_flags[i]) < 0)
			exec_fail(EXEC_STAGE_DOCK, errno, "enter the container's %s namespace",
				  exec_ns_names[i]);
	c = fork();
	exec_check(EXEC_STAGE_DOCK, c >= 0, "fork");
	if (c == 0)
		exec_child(s);
	if (write(s->pidfd, &c, sizeof c) != (ssize_t)sizeof c)
		_exit(125);
	_exit(0);
}

/* ---------------------------------------------------------------- dock exec: the foreground */

static volatile pid_t exec_fg_pid;
static int exec_fg_master = -1;
static int exec_sigpipe[2] = {-1, -1};
static struct termios exec_saved_tio;
static int exec_tio_saved;

static void
exec_on_signal(int sig)
{
	int saved = errno;
	if (sig == SIGCHLD) {
		if (exec_sigpipe[1] >= 0 && write(exec_sigpipe[1], "c", 1) < 0) {
		}
	} else if (sig == SIGWINCH) {
		struct winsize ws;
		if (exec_fg_master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(exec_fg_master, TIOCSWINSZ, &ws);
	} else if (exec_fg_pid > 0) {
		kill(exec_fg_pid, sig);
	}
	errno = saved;
}

static void
exec_restore_tty(void)
{
	if (exec_tio_saved)
		tcsetattr(0, TCSADRAIN, &exec_saved_tio);
	exec_tio_saved = 0;
}

/* Wait for C without blocking; 1 once it is gone, its wait status in *status. */
static int
exec_reaped(pid_t pid, int *status, int block)
{
	for (;;) {
		pid_t r = waitpid(pid, status, block ? 0 : WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*status = 255 << 8;
			return 1;
		}
		return 0;
	}
}

/* Relay our terminal and the pty until the process ends; then what it wrote last. */
static int
exec_relay(int master, int interactive, pid_t pid)
{
	char buf[16384];
	int in_open = interactive, status = 0, out_open = 1;
	for (;;) {
		struct pollfd p[3];
		nfds_t np = 2;
		int r;
		p[0].fd = exec_sigpipe[0];
		p[0].events = POLLIN;
		p[1].fd = out_open ? master : -1;
		p[1].events = POLLIN;
		if (in_open) {
			p[2].fd = 0;
			p[2].events = POLLIN;
			np = 3;
		}
		r = poll(p, np, 1000);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(master, buf, sizeof buf);
			if (n <= 0 && !(n < 0 && errno == EINTR))
				out_open = 0; /* EIO: no slave is open any more */
			else if (n > 0 && write_all(1, buf, (size_t)n) < 0)
				out_open = 0;
		}
		if (r > 0 && np == 3 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n == 0 || (n < 0 && errno != EINTR)) {
				/* stdin ended: an end-of-file for the terminal, as docker does */
				in_open = 0;
				write_all(master, "\004", 1);
			} else if (n > 0 && write_all(master, buf, (size_t)n) < 0) {
				in_open = 0;
			}
		}
		if (r > 0 && (p[0].revents & POLLIN)) {
			char drain[64];
			if (read(exec_sigpipe[0], drain, sizeof drain) < 0) {
			}
		}
		if (exec_reaped(pid, &status, 0))
			break;
	}
	/* what the process wrote just before it ended (children may keep the pty: no waiting) */
	fcntl(master, F_SETFL, O_RDWR | O_NONBLOCK);
	while (out_open) {
		ssize_t n = read(master, buf, sizeof buf);
		if (n <= 0 || write_all(1, buf, (size_t)n) < 0)
			break;
	}
	return status;
}

static int
exec_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct msghdr m;
	struct iovec iov = {&c, 1};
	struct cmsghdr *cm;
	int fd = -1;
	ssize_t n;
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof cbuf;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

/* Environment: the container's, TERM for a terminal, then -e (later wins for the same key). */
static char **
exec_build_env(const struct jv *cfg, char **extra, size_t nextra, int tty)
{
	const struct jv *ce = json_get(cfg, "Env");
	size_t n = 0, i, k, total = json_len(ce) + nextra + 2;
	char **env = xcalloc(total + 1, sizeof *env);
	for (i = 0; i < json_len(ce) + nextra + 1; i++) {
		const char *kv;
		size_t klen;
		if (i < json_len(ce))
			kv = json_str(json_at(ce, i));
		else if (i == json_len(ce))
			kv = tty ? "TERM=xterm" : NULL;
		else
			kv = extra[i - json_len(ce) - 1];
		if (!kv || !strchr(kv, '='))
			continue;
		klen = (size_t)(strchr(kv, '=') - kv);
		for (k = 0; k < n; k++)
			if (!strncmp(env[k], kv, klen + 1))
				break;
		if (k < n && i == json_len(ce))
			continue; /* the container's TERM stays */
		if (k < n) {
			free(env[k]);
			env[k] = xstrdup(kv);
		}
		else
			env[n++] = xstrdup(kv);
	}
	return env;
}

static const char exec_usage[] =
	"Usage: dock exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
	"Execute a command in a running container.\n\nOptions:\n"
	"  -d, --detach         run the command in the background\n"
	"  -e, --env K=V        set an environment variable (K alone: its value here)\n"
	"  -i, --interactive    keep stdin open\n"
	"      --privileged     every capability, no seccomp filter\n"
	"  -t, --tty            allocate a pseudo-terminal\n"
	"  -u, --user USER      name|uid[:group|gid] (default: the container's user)\n"
	"  -w, --workdir DIR    working directory (default: the container's)\n";

static const char *
exec_optval(int argc, char **argv, int *i, const char *s, const char *l)
{
	const char *a = argv[*i];
	size_t n = strlen(l);
	if (!strcmp(a, s) || !strcmp(a, l)) {
		if (*i + 1 >= argc)
			die("exec: option %s needs a value", a);
		return argv[++*i];
	}
	if (!strncmp(a, l, n) && a[n] == '=')
		return a + n + 1;
	if (a[0] == '-' && a[1] == s[1] && a[2] && a[1] != '-')
		return a + 2; /* -eK=V */
	return NULL;
}

int
cmd_exec(int argc, char **argv)
{
	struct exec_target t;
	struct exec_spec s;
	struct exec_fail f;
	struct err e = {0};
	static struct sock_filter prog[SECCOMP_PROG_MAX];
	char **extra = xcalloc((size_t)argc + 1, sizeof *extra);
	size_t nextra = 0;
	const char *user = NULL, *workdir = NULL, *v;
	int i, privileged = 0, errp[2], pidp[2], sock[2] = {-1, -1}, status = 0, master = -1;
	pid_t b, c = 0;
	ssize_t n;
	sigset_t fwd, old;
	struct sigaction sa;
	static const int fwd_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
				       SIGCHLD};
	size_t k;

	die_status = 125;
	cli_help_exit(argc, argv, exec_usage);
	memset(&s, 0, sizeof s);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if ((v = exec_optval(argc, argv, &i, "-e", "--env"))) {
			if (strchr(v, '='))
				extra[nextra++] = xstrdup(v);
			else if (getenv(v))
				extra[nextra++] = xasprintf("%s=%s", v, getenv(v));
		} else if ((v = exec_optval(argc, argv, &i, "-u", "--user"))) {
			user = v;
		} else if ((v = exec_optval(argc, argv, &i, "-w", "--workdir"))) {
			workdir = v;
		} else if (!strcmp(a, "--detach-keys") || !strncmp(a, "--detach-keys=", 14)) {
			/* checked as Docker does; an exec's terminal has no detaching of its own */
			unsigned char k[16];
			size_t nk;
			if (!a[13] && i + 1 >= argc)
				die("exec: option %s needs a value", a);
			if (run_detach_keys_parse(a[13] ? a + 14 : argv[++i], k, sizeof k, &nk, &e) < 0)
				die("exec: %s", e.msg);
		} else if (!strcmp(a, "--interactive")) {
			s.interactive = 1;
		} else if (!strcmp(a, "--tty")) {
			s.tty = 1;
		} else if (!strcmp(a, "--detach")) {
			s.detach = 1;
		} else if (!strcmp(a, "--privileged")) {
			privileged = 1;
		} else if (a[1] != '-' && strspn(a + 1, "itd") == strlen(a + 1)) {
			s.interactive |= strchr(a, 'i') != NULL;
			s.tty |= strchr(a, 't') != NULL;
			s.detach |= strchr(a, 'd') != NULL;
		} else {
			die("exec: unknown option %s (see dock exec --help)", a);
		}
	}
	if (argc - i < 2)
		die("exec: requires a container and a command (see dock exec --help)");
	if (workdir && workdir[0] != '/')
		die("exec: the working directory %s is not an absolute path", workdir);
	if (s.detach && s.tty)
		die("exec: -d with -t is not supported: nothing would hold the terminal");

	exec_target_open("exec", argv[i], &t);
	s.t = &t;
	s.argv = argv + i + 1;
	s.rootless = t.nsfd[0] >= 0;
	s.env = exec_build_env(json_get(json_root(t.cfg), "Config"), extra, nextra, s.tty);
	for (k = 0; k < nextra; k++)
		free(extra[k]);
	free(extra);
	s.user = user ? user : t.user;
	s.workdir = workdir ? workdir : t.workdir;
	s.caps = privileged ? ~0ULL >> 23 : t.caps;
	{
		const struct jv *ul = json_get(json_get(json_get(json_root(t.cfg), "DockSpec"), "Limits"),
					       "Ulimits");
		size_t u;
		for (u = 0; u < json_len(ul) && s.nulimits < sizeof s.ulimits / sizeof *s.ulimits; u++)
			if (json_str(json_at(ul, u)) &&
			    run_ulimit_parse(json_str(json_at(ul, u)), &s.ulimits[s.nulimits++], &e) < 0)
				die("exec: the container's %s", e.msg);
	}
	if (t.seccomp && !privileged) {
		/* the container's own profile (--security-opt seccomp=FILE), as its PID 1 has it */
		const char *prof = json_getstr(json_get(json_root(t.cfg), "DockSpec"), "SeccompProfile");
		if (prof && *prof) {
			struct buf pb = {0};
			if (file_read(AT_FDCWD, prof, 4 << 20, &pb, &e) < 0)
				die("exec: the container's seccomp profile: %s", e.msg);
			n = seccomp_build_profile(pb.p, pb.len, s.caps, prog, SECCOMP_PROG_MAX, &s.proglen, &e);
			buf_free(&pb);
		} else {
			n = seccomp_build(s.caps, prog, SECCOMP_PROG_MAX, &s.proglen, &e);
		}
		if (n < 0)
			die("exec: seccomp: %s", e.msg);
		s.prog = prog;
	}
	s.cg = cg_open(t.id, &e);
	if (!s.cg && e.code != ERR_NOTFOUND && !s.rootless)
		die("exec: %s", e.msg);
	s.nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (s.nullfd < 0)
		die_errno("exec: /dev/null");
	if (s.tty && isatty(0) && ioctl(0, TIOCGWINSZ, &s.ws) == 0)
		s.have_ws = 1;
	if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(pidp, O_CLOEXEC) < 0 ||
	    pipe2(exec_sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_errno("exec: pipe");
	if (s.tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0)
		die_errno("exec: socketpair");
	s.sockfd = sock[1];
	s.pidfd = pidp[1];
	/* C will be ours once B exits: its status, its signals */
	if (!s.detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die_errno("exec: subreaper");

	/* signals wait until C's PID is known; C unblocks them after resetting the handlers */
	sigemptyset(&fwd);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = exec_on_signal;
	sa.sa_flags = SA_RESTART;
	for (k = 0; k < sizeof fwd_sigs / sizeof *fwd_sigs; k++) {
		sigaddset(&fwd, fwd_sigs[k]);
		sigaction(fwd_sigs[k], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &fwd, &old);
	fflush(NULL);
	b = fork();
	if (b < 0)
		die_errno("exec: fork");
	if (b == 0) {
		close(errp[0]);
		close(pidp[0]);
		if (sock[0] >= 0)
			close(sock[0]);
		exec_errfd = errp[1];
		exec_enter(&s);
	}
	close(errp[1]);
	close(pidp[1]);
	if (sock[1] >= 0)
		close(sock[1]);
	do
		n = read(pidp[0], &c, sizeof c);
	while (n < 0 && errno == EINTR);
	close(pidp[0]);
	exec_reaped(b, &status, 1);
	if (n == (ssize_t)sizeof c) {
		exec_fg_pid = c;
		if (s.tty)
			master = exec_recv_fd(sock[0]);
	}
	if (sock[0] >= 0)
		close(sock[0]);
	exec_target_close(&t);
	close(s.nullfd);
	for (k = 0; s.env[k]; k++)
		free(s.env[k]);
	free(s.env);
	s.env = NULL;
	sigprocmask(SIG_SETMASK, &old, NULL);
	do
		n = read(errp[0], &f, sizeof f);
	while (n < 0 && errno == EINTR);
	close(errp[0]);
	if (n != 0) {
		int code = 125;
		if (c > 0)
			exec_reaped(c, &status, 1);
		if (n != (ssize_t)sizeof f)
			die("exec: the process could not be started");
		f.msg[sizeof f.msg - 1] = 0;
		if (f.stage == EXEC_STAGE_SETUP)
			code = 126;
		if (f.stage == EXEC_STAGE_EXEC) {
			code = f.sys == ENOENT ? 127 : 126;
			if (f.sys == ENOENT && !strchr(s.argv[0], '/'))
				fprintf(stderr, "dock: exec: %s: executable file not found in $PATH\n", f.msg);
			else
				fprintf(stderr, "dock: exec: %s: %s\n", f.msg, strerror(f.sys));
		} else {
			fprintf(stderr, "dock: exec: %s\n", f.msg);
		}
		return code;
	}
	if (c <= 0)
		die("exec: the process could not be started");
	if (s.detach)
		return 0;
	if (s.tty) {
		if (master < 0)
			die("exec: no terminal came back from the container");
		signal(SIGPIPE, SIG_IGN);
		exec_fg_master = master;
		if (s.interactive && isatty(0) && tcgetattr(0, &exec_saved_tio) == 0) {
			struct termios raw = exec_saved_tio;
			cfmakeraw(&raw);
			exec_tio_saved = 1;
			atexit(exec_restore_tty);
			tcsetattr(0, TCSADRAIN, &raw);
		}
		if (s.have_ws) /* a resize between our look and the pty's birth */
			exec_on_signal(SIGWINCH);
		status = exec_relay(master, s.interactive, c);
		exec_restore_tty();
	} else {
		exec_reaped(c, &status, 1);
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* ---------------------------------------------------------------- dock top */

struct top_row {
	char f[7][64];
	char *cmd;
};

/* Fields of /proc/PID/stat after the command name (field 3 is the first). */
static int
top_stat(int pid, char *comm, size_t clen, unsigned long long *v, size_t nv)
{
	char path[64], buf[2048], *p, *open_p;
	int fd;
	ssize_t n;
	size_t i;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	open_p = strchr(buf, '(');
	p = strrchr(buf, ')');
	if (!open_p || !p)
		return -1;
	snprintf(comm, clen, "%.*s", (int)(p - open_p - 1), open_p + 1);
	p += 2;
	/* v[0] is the state letter's field; numbers from field 4 on */
	v[0] = (unsigned char)*p;
	for (i = 1; i < nv; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		v[i] = strtoull(++p, NULL, 10);
	}
	return 0;
}

static void
top_time(unsigned long long secs, char *out, size_t n)
{
	unsigned long long d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
	if (d)
		snprintf(out, n, "%llu-%02llu:%02llu:%02llu", d, h, m, s);
	else
		snprintf(out, n, "%02llu:%02llu:%02llu", h, m, s);
}

static const char top_usage[] =
	"Usage: dock top CONTAINER\n\nDisplay the running processes of a container, as ps -ef shows "
	"them\n(PIDs as the host sees them).\n";

int
cmd_top(int argc, char **argv)
{
	struct exec_target t;
	struct stat pidns, st;
	struct buf out = {0};
	struct top_row *rows = NULL;
	size_t nrows = 0, i, c, width[8];
	static const char *const head[8] = {"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"};
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long btime = 0, uptime_ticks = 0;
	time_t now = time(NULL);
	struct tm tnow;
	DIR *d;
	struct dirent *de;
	char path[64];

	cli_help_exit(argc, argv, top_usage);
	if (argc < 2)
		die("top: requires a container (see dock top --help)");
	if (argc > 2)
		die("top: ps options are not supported");
	exec_target_open("top", argv[1], &t);
	if (fstatat(t.procfd, "ns/pid", &pidns, 0) < 0)
		die_errno("top: the container's PID namespace");
	if (hz <= 0)
		hz = 100;
	{
		struct buf b = {0};
		struct err e = {0};
		const char *p;
		double up = 0;
		if (file_read(AT_FDCWD, "/proc/stat", 1 << 20, &b, &e) == 0 && (p = strstr(b.p, "\nbtime ")))
			btime = strtoull(p + 7, NULL, 10);
		buf_reset(&b);
		if (file_read(AT_FDCWD, "/proc/uptime", 4096, &b, &e) == 0)
			up = strtod(b.p, NULL);
		uptime_ticks = (unsigned long long)(up * (double)hz);
		buf_free(&b);
	}
	localtime_r(&now, &tnow);
	d = opendir("/proc");
	if (!d)
		die_errno("top: /proc");
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);
		unsigned long long v[20];
		char comm[64], uidf[64], cmdbuf[4096];
		struct top_row r;
		struct buf cmd = {0};
		time_t start;
		struct tm ts;
		unsigned long long cpu, elapsed;
		unsigned tty_major, tty_minor;
		struct passwd *pw;
		int fd;
		ssize_t n;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
		if (stat(path, &st) < 0 || st.st_ino != pidns.st_ino || st.st_dev != pidns.st_dev)
			continue;
		/* v: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
		 * stime cutime cstime priority nice threads itrealvalue starttime */
		if (top_stat(pid, comm, sizeof comm, v, 20) < 0)
			continue;
		memset(&r, 0, sizeof r);
		snprintf(path, sizeof path, "/proc/%d", pid);
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = exec_status_field(fd, "Uid", uidf, sizeof uidf);
		close(fd);
		if (n < 0)
			continue;
		pw = getpwuid((uid_t)strtoul(uidf, NULL, 10));
		if (pw && strlen(pw->pw_name) <= 8)
			snprintf(r.f[0], sizeof r.f[0], "%s", pw->pw_name);
		else if (pw)
			snprintf(r.f[0], sizeof r.f[0], "%.7s+", pw->pw_name);
		else
			snprintf(r.f[0], sizeof r.f[0], "%lu", strtoul(uidf, NULL, 10));
		snprintf(r.f[1], sizeof r.f[1], "%d", pid);
		snprintf(r.f[2], sizeof r.f[2], "%llu", v[1]);
		cpu = v[11] + v[12];
		elapsed = uptime_ticks > v[19] ? uptime_ticks - v[19] : 0;
		snprintf(r.f[3], sizeof r.f[3], "%llu", elapsed ? cpu * 100 / elapsed : 0);
		start = (time_t)(btime + v[19] / (unsigned long long)hz);
		localtime_r(&start, &ts);
		if (ts.tm_year == tnow.tm_year && ts.tm_yday == tnow.tm_yday)
			strftime(r.f[4], sizeof r.f[4], "%H:%M", &ts);
		else if (ts.tm_year == tnow.tm_year)
			strftime(r.f[4], sizeof r.f[4], "%b%d", &ts);
		else
			strftime(r.f[4], sizeof r.f[4], "%Y", &ts);
		tty_major = (unsigned)((v[4] >> 8) & 0xfff);
		tty_minor = (unsigned)((v[4] & 0xff) | ((v[4] >> 12) & 0xfff00));
		if (!v[4])
			snprintf(r.f[5], sizeof r.f[5], "?");
		else if (tty_major >= 136 && tty_major <= 143)
			snprintf(r.f[5], sizeof r.f[5], "pts/%u", (tty_major - 136) * 256 + tty_minor);
		else if (tty_major == 4 && tty_minor < 64)
			snprintf(r.f[5], sizeof r.f[5], "tty%u", tty_minor);
		else
			snprintf(r.f[5], sizeof r.f[5], "%u:%u", tty_major, tty_minor);
		top_time(cpu / (unsigned long long)hz, r.f[6], sizeof r.f[6]);
		snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, cmdbuf, sizeof cmdbuf - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			ssize_t j;
			while (n > 0 && !cmdbuf[n - 1])
				n--;
			for (j = 0; j < n; j++)
				if (!cmdbuf[j] || cmdbuf[j] == '\n')
					cmdbuf[j] = ' ';
			buf_add(&cmd, cmdbuf, (size_t)n);
		} else {
			buf_printf(&cmd, "[%s]%s", comm, v[0] == 'Z' ? " <defunct>" : "");
		}
		r.cmd = cmd.p ? cmd.p : xstrdup("");
		rows = xrealloc(rows, (nrows + 1) * sizeof *rows);
		rows[nrows++] = r;
	}
	closedir(d);
	exec_target_close(&t);
	/* docker's table: columns at least 20 wide, 3 spaces after the longest cell */
	for (c = 0; c < 7; c++) {
		width[c] = strlen(head[c]) + 3 > 20 ? strlen(head[c]) + 3 : 20;
		for (i = 0; i < nrows; i++)
			if (strlen(rows[i].f[c]) + 3 > width[c])
				width[c] = strlen(rows[i].f[c]) + 3;
	}
	for (c = 0; c < 7; c++)
		buf_printf(&out, "%-*s", (int)width[c], head[c]);
	buf_printf(&out, "%s\n", head[7]);
	for (i = 0; i < nrows; i++) {
		for (c = 0; c < 7; c++)
			buf_printf(&out, "%-*s", (int)width[c], rows[i].f[c]);
		buf_printf(&out, "%s\n", rows[i].cmd);
		free(rows[i].cmd);
	}
	free(rows);
	fwrite(out.p, 1, out.len, stdout);
	buf_free(&out);
	return 0;
}
