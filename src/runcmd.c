/* runcmd.c: `dock run`.  Parses Docker's options, pulls the image when it is missing, merges the
 * image config (Env, Entrypoint, Cmd, WorkingDir, User) with the options, writes the container
 * record and its /etc files, starts the container (run.c) and stays with it in the foreground:
 * relaying a pty with -t, forwarding signals, and exiting with the container's status. */

#include <signal.h>
#include <poll.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <linux/filter.h>

struct run_args {
	const char *image, *name, *workdir, *user, *hostname, *entrypoint, *platform, *pull;
	const char *network;
	int entrypoint_set;
	int tty, interactive, init, read_only, rm, privileged;
	char **env;             /* -e, in order */
	size_t nenv;
	struct run_mount mounts[64];
	size_t nmounts;
	char **cmd;             /* after the image */
	int ncmd;
	uint64_t cap_add, cap_drop;
	int cap_drop_all;
	struct cg_limits lim;
	const char *seccomp_profile;   /* --security-opt seccomp=FILE */
	int seccomp_unconfined;
};

/* ---------------------------------------------------------------- options */

static const char run_usage[] =
	"Usage: dock run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
	"Create and run a new container from an image, in the foreground.\n\n"
	"Options:\n"
	"  -e, --env KEY=VAL|KEY       set an environment variable (KEY alone: from this shell)\n"
	"      --env-file FILE         read KEY=VAL lines from a file\n"
	"      --entrypoint CMD        override the image's entrypoint\n"
	"  -h, --hostname NAME         container host name (default: the short ID)\n"
	"  -i, --interactive           keep standard input open\n"
	"      --init                  run a minimal init as PID 1 that reaps zombies\n"
	"      --mount type=bind|tmpfs,source=..,target=..[,readonly]\n"
	"      --name NAME             container name\n"
	"      --network none|host     network namespace (default: host; bridged networking comes\n"
	"                              later)\n"
	"      --platform OS/ARCH      platform to pull\n"
	"      --privileged            all capabilities, no masked paths\n"
	"      --cap-add CAP, --cap-drop CAP   adjust the default capability set (ALL too)\n"
	"      --security-opt seccomp=unconfined|PROFILE.json   (no-new-privileges is always on)\n"
	"  -m, --memory BYTES          memory limit (k, m, g suffixes); --memory-swap,\n"
	"                              --memory-reservation likewise\n"
	"      --cpus N                CPUs (quota over a 100ms period); --cpu-shares, --cpu-quota,\n"
	"                              --cpu-period, --cpuset-cpus\n"
	"      --pids-limit N          process limit\n"
	"      --blkio-weight N        block I/O weight; --device-read-bps/--device-write-bps DEV:RATE\n"
	"      --pull missing|always|never\n"
	"      --read-only             mount the root filesystem read-only\n"
	"      --rm                    remove the container when it exits\n"
	"  -t, --tty                   allocate a pseudo-terminal\n"
	"      --tmpfs PATH[:OPTS]     mount a tmpfs\n"
	"  -u, --user USER[:GROUP]     user name or uid, resolved in the image's /etc/passwd\n"
	"  -v, --volume HOST:CTR[:ro]  bind mount a host directory (created when missing)\n"
	"  -w, --workdir DIR           working directory inside the container\n";

static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"};

static uint64_t
run_cap_parse(const char *s, int *all)
{
	size_t i;
	if (!strncasecmp(s, "CAP_", 4))
		s += 4;
	if (!strcasecmp(s, "ALL")) {
		*all = 1;
		return ~0ULL;
	}
	for (i = 0; i < sizeof cap_names / sizeof *cap_names; i++)
		if (!strcasecmp(s, cap_names[i]))
			return 1ULL << i;
	die("invalid capability: %s", s);
}

static void
run_add_env(struct run_args *a, const char *kv)
{
	a->env = xrealloc(a->env, (a->nenv + 1) * sizeof *a->env);
	if (!strchr(kv, '=')) {
		const char *v = getenv(kv);
		if (!v)
			return; /* as Docker: KEY alone and unset on the host is dropped */
		a->env[a->nenv++] = xasprintf("%s=%s", kv, v);
		return;
	}
	a->env[a->nenv++] = xstrdup(kv);
}

static void
run_env_file(struct run_args *a, const char *path)
{
	struct buf b = {0};
	struct err e = {0};
	char *line, *save = NULL;
	if (file_read(AT_FDCWD, path, 1 << 20, &b, &e) < 0)
		die("--env-file: %s", e.msg);
	for (line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = 0;
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		run_add_env(a, line);
	}
	buf_free(&b);
}

static struct run_mount *
run_new_mount(struct run_args *a)
{
	if (a->nmounts >= sizeof a->mounts / sizeof *a->mounts)
		die("too many mounts");
	memset(&a->mounts[a->nmounts], 0, sizeof a->mounts[0]);
	return &a->mounts[a->nmounts++];
}

static void
run_volume(struct run_args *a, const char *spec)
{
	char *copy = xstrdup(spec), *c1 = strchr(copy, ':'), *c2;
	struct run_mount *m;
	struct err e = {0};
	if (!c1)
		die("invalid volume %s: anonymous and named volumes are not supported; use HOST:CONTAINER",
		    spec);
	*c1++ = 0;
	c2 = strchr(c1, ':');
	if (c2)
		*c2++ = 0;
	if (copy[0] != '/')
		die("invalid volume %s: named volumes are not supported; the host path must be absolute",
		    spec);
	if (c1[0] != '/')
		die("invalid volume %s: the container path must be absolute", spec);
	m = run_new_mount(a);
	m->type = RUN_MOUNT_BIND;
	m->src = copy;
	m->dst = c1;
	if (c2) {
		if (!strcmp(c2, "ro"))
			m->ro = 1;
		else if (strcmp(c2, "rw") && strcmp(c2, "z") && strcmp(c2, "Z"))
			die("invalid volume mode %s", c2);
	}
	/* as Docker does, a missing host directory is created */
	if (access(copy, F_OK) < 0 && mkdir_p(AT_FDCWD, copy, 0755, &e) < 0)
		die("volume %s: %s", spec, e.msg);
}

static void
run_mount_opt(struct run_args *a, const char *spec)
{
	char *copy = xstrdup(spec), *tok, *save = NULL, *type = NULL, *src = NULL, *dst = NULL;
	struct buf topts = {0};
	int ro = 0;
	struct run_mount *m;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');
		if (v)
			*v++ = 0;
		if (!strcmp(tok, "type"))
			type = v;
		else if (!strcmp(tok, "source") || !strcmp(tok, "src"))
			src = v;
		else if (!strcmp(tok, "target") || !strcmp(tok, "destination") || !strcmp(tok, "dst"))
			dst = v;
		else if (!strcmp(tok, "readonly") || !strcmp(tok, "ro"))
			ro = !v || !strcmp(v, "1") || !strcmp(v, "true");
		else if (!strcmp(tok, "tmpfs-size") && v)
			buf_printf(&topts, "%ssize=%s", topts.len ? "," : "", v);
		else if (!strcmp(tok, "tmpfs-mode") && v)
			buf_printf(&topts, "%smode=%s", topts.len ? "," : "", v);
		else if (strcmp(tok, "bind-propagation") && strcmp(tok, "consistency"))
			die("--mount: unknown option %s", tok);
	}
	if (!type || !dst || dst[0] != '/')
		die("--mount %s: type= and an absolute target= are required", spec);
	m = run_new_mount(a);
	m->dst = dst;
	m->ro = ro;
	if (!strcmp(type, "bind")) {
		if (!src || src[0] != '/')
			die("--mount %s: bind needs an absolute source=", spec);
		if (access(src, F_OK) < 0)
			die("--mount %s: bind source path does not exist: %s", spec, src);
		m->type = RUN_MOUNT_BIND;
		m->src = src;
	} else if (!strcmp(type, "tmpfs")) {
		m->type = RUN_MOUNT_TMPFS;
		m->opts = topts.p;
	} else {
		die("--mount %s: type %s is not supported (bind, tmpfs)", spec, type);
	}
}

/* Docker's RAMInBytes: 512, 64k, 512m, 2g (binary units). */
static int64_t
run_bytes(const char *v, const char *opt)
{
	char *end;
	double n = strtod(v, &end);
	int64_t mult = 1;
	switch (*end | 32) {
	case 'k': mult = 1 << 10; break;
	case 'm': mult = 1 << 20; break;
	case 'g': mult = 1 << 30; break;
	case 't': mult = (int64_t)1 << 40; break;
	case 'b': case ' ': break;
	default: die("invalid size for %s: %s", opt, v);
	}
	if (*end && end[1] && (end[1] | 32) != 'b')
		die("invalid size for %s: %s", opt, v);
	if (n < 0)
		die("invalid size for %s: %s", opt, v);
	return (int64_t)(n * (double)mult);
}

/* --device-read-bps /dev/sda:1mb */
static void
run_dev_bps(struct cg_limits *l, const char *v, int write)
{
	char path[256];
	const char *colon = strrchr(v, ':');
	struct stat st;
	if (!colon || (size_t)(colon - v) >= sizeof path)
		die("invalid device rate %s (want DEVICE:RATE)", v);
	snprintf(path, sizeof path, "%.*s", (int)(colon - v), v);
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		die("%s: not a block device", path);
	if (l->ndev_bps >= sizeof l->dev_bps / sizeof *l->dev_bps)
		die("too many device rates");
	l->dev_bps[l->ndev_bps].major = major(st.st_rdev);
	l->dev_bps[l->ndev_bps].minor = minor(st.st_rdev);
	l->dev_bps[l->ndev_bps].bps = (uint64_t)run_bytes(colon + 1, write ? "--device-write-bps" : "--device-read-bps");
	l->dev_bps[l->ndev_bps++].write = write;
}

/* "--opt value", "--opt=value", "-o value", "-ovalue" */
static const char *
run_optval(int argc, char **argv, int *i, const char *s, const char *l)
{
	const char *arg = argv[*i];
	size_t n;
	if (s && !strcmp(arg, s)) {
		if (*i + 1 >= argc)
			die("run: option %s needs a value", s);
		return argv[++*i];
	}
	if (s && !strncmp(arg, s, 2) && arg[1] != '-' && arg[2])
		return arg + 2;
	n = strlen(l);
	if (!strncmp(arg, l, n) && arg[n] == '=')
		return arg + n + 1;
	if (!strcmp(arg, l)) {
		if (*i + 1 >= argc)
			die("run: option %s needs a value", l);
		return argv[++*i];
	}
	return NULL;
}

static void
run_parse(struct run_args *a, int argc, char **argv)
{
	int i;
	const char *v;
	memset(a, 0, sizeof *a);
	a->pull = "missing";
	cg_limits_init(&a->lim);
	cli_help_exit(argc, argv, run_usage);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		/* combined short flags: -it, -ti, -dit */
		if (o[1] != '-' && strspn(o + 1, "it") == strlen(o + 1)) {
			if (strchr(o, 'i'))
				a->interactive = 1;
			if (strchr(o, 't'))
				a->tty = 1;
			continue;
		}
		if (!strcmp(o, "--interactive"))
			a->interactive = 1;
		else if (!strcmp(o, "--tty"))
			a->tty = 1;
		else if (!strcmp(o, "--rm"))
			a->rm = 1;
		else if (!strcmp(o, "--init"))
			a->init = 1;
		else if (!strcmp(o, "--read-only"))
			a->read_only = 1;
		else if (!strcmp(o, "--privileged"))
			a->privileged = 1;
		else if ((v = run_optval(argc, argv, &i, "-e", "--env")))
			run_add_env(a, v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--env-file")))
			run_env_file(a, v);
		else if ((v = run_optval(argc, argv, &i, "-w", "--workdir")))
			a->workdir = v;
		else if ((v = run_optval(argc, argv, &i, "-u", "--user")))
			a->user = v;
		else if ((v = run_optval(argc, argv, &i, "-h", "--hostname")))
			a->hostname = v;
		else if ((v = run_optval(argc, argv, &i, NULL, "--name")))
			a->name = v;
		else if ((v = run_optval(argc, argv, &i, NULL, "--entrypoint"))) {
			a->entrypoint = v;
			a->entrypoint_set = 1;
		} else if ((v = run_optval(argc, argv, &i, "-v", "--volume")))
			run_volume(a, v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--mount")))
			run_mount_opt(a, v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--tmpfs"))) {
			struct run_mount *m = run_new_mount(a);
			char *copy = xstrdup(v), *colon = strchr(copy, ':');
			if (colon)
				*colon++ = 0;
			if (copy[0] != '/')
				die("--tmpfs %s: the path must be absolute", v);
			m->type = RUN_MOUNT_TMPFS;
			m->dst = copy;
			m->opts = colon;
		} else if ((v = run_optval(argc, argv, &i, NULL, "--platform")))
			a->platform = v;
		else if ((v = run_optval(argc, argv, &i, NULL, "--pull"))) {
			if (strcmp(v, "missing") && strcmp(v, "always") && strcmp(v, "never"))
				die("invalid pull option: '%s': must be one of \"always\", \"missing\" or "
				    "\"never\"", v);
			a->pull = v;
		} else if ((v = run_optval(argc, argv, &i, NULL, "--network")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--net"))) {
			if (strcmp(v, "none") && strcmp(v, "host"))
				die("network %s: only none and host are available so far", v);
			a->network = v;
		} else if ((v = run_optval(argc, argv, &i, "-m", "--memory")))
			a->lim.memory = run_bytes(v, "--memory");
		else if ((v = run_optval(argc, argv, &i, NULL, "--memory-swap")))
			a->lim.memory_swap = !strcmp(v, "-1") ? -1 : run_bytes(v, "--memory-swap");
		else if ((v = run_optval(argc, argv, &i, NULL, "--memory-reservation")))
			a->lim.memory_reservation = run_bytes(v, "--memory-reservation");
		else if ((v = run_optval(argc, argv, &i, NULL, "--cpus"))) {
			double c = strtod(v, NULL);
			if (c <= 0)
				die("invalid --cpus %s", v);
			a->lim.cpu_period = 100000;
			a->lim.cpu_quota = (int64_t)(c * 100000);
		} else if ((v = run_optval(argc, argv, &i, "-c", "--cpu-shares")))
			a->lim.cpu_shares = strtoull(v, NULL, 10);
		else if ((v = run_optval(argc, argv, &i, NULL, "--cpu-quota")))
			a->lim.cpu_quota = strtoll(v, NULL, 10);
		else if ((v = run_optval(argc, argv, &i, NULL, "--cpu-period")))
			a->lim.cpu_period = strtoll(v, NULL, 10);
		else if ((v = run_optval(argc, argv, &i, NULL, "--cpuset-cpus")))
			snprintf(a->lim.cpuset_cpus, sizeof a->lim.cpuset_cpus, "%s", v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--pids-limit")))
			a->lim.pids_limit = strtoll(v, NULL, 10);
		else if ((v = run_optval(argc, argv, &i, NULL, "--blkio-weight")))
			a->lim.blkio_weight = (uint16_t)atoi(v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--device-read-bps")))
			run_dev_bps(&a->lim, v, 0);
		else if ((v = run_optval(argc, argv, &i, NULL, "--device-write-bps")))
			run_dev_bps(&a->lim, v, 1);
		else if ((v = run_optval(argc, argv, &i, NULL, "--security-opt"))) {
			if (!strcmp(v, "seccomp=unconfined") || !strcmp(v, "seccomp:unconfined"))
				a->seccomp_unconfined = 1;
			else if (!strncmp(v, "seccomp=", 8) || !strncmp(v, "seccomp:", 8))
				a->seccomp_profile = v + 8;
			else if (strncmp(v, "no-new-privileges", 17) && strncmp(v, "label", 5) &&
				 strncmp(v, "apparmor", 8))
				die("run: unsupported --security-opt %s", v);
		} else if ((v = run_optval(argc, argv, &i, NULL, "--cap-add")))
			a->cap_add |= run_cap_parse(v, &(int){0});
		else if ((v = run_optval(argc, argv, &i, NULL, "--cap-drop")))
			a->cap_drop |= run_cap_parse(v, &a->cap_drop_all);
		else
			die("run: unknown option %s (see 'dock run --help')", o);
	}
	if (i >= argc)
		die("run: requires at least 1 argument (see 'dock run --help')");
	a->image = argv[i++];
	a->cmd = argv + i;
	a->ncmd = argc - i;
}

/* ---------------------------------------------------------------- the container's files */

static void
run_write_etc(struct store *st, const char *id, const char *hostname, int host_net)
{
	struct buf hosts = {0}, resolv = {0}, hn = {0};
	struct err e = {0};
	if (host_net && file_read(AT_FDCWD, "/etc/hosts", 1 << 20, &hosts, &e) == 0) {
		buf_printf(&hosts, "127.0.1.1\t%s\n", hostname);
	} else {
		buf_reset(&hosts);
		buf_printf(&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
				   "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
				   "ff02::2\tip6-allrouters\n127.0.1.1\t%s\n", hostname);
	}
	if (file_read(AT_FDCWD, "/etc/resolv.conf", 1 << 20, &resolv, &e) < 0 ||
	    (!host_net && strstr(resolv.p, "nameserver 127."))) {
		/* no resolver on the host, or a loopback stub the container cannot reach */
		buf_reset(&resolv);
		buf_adds(&resolv, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	}
	buf_printf(&hn, "%s\n", hostname);
	if (ctr_write(st, id, "hosts", &hosts, &e) < 0 || ctr_write(st, id, "resolv.conf", &resolv, &e) < 0 ||
	    ctr_write(st, id, "hostname", &hn, &e) < 0)
		die("run: %s", e.msg);
	buf_free(&hosts);
	buf_free(&resolv);
	buf_free(&hn);
}

static void
run_strv_add(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

/* Environment: the image's, then -e (later wins for the same key). */
static char **
run_build_env(const struct jv *cfg, const struct run_args *a, const char *hostname)
{
	char **env = NULL;
	size_t n = 0, i, k;
	const struct jv *ie = json_get(cfg, "Env");
	char *hn;
	hn = xasprintf("HOSTNAME=%s", hostname);
	run_strv_add(&env, &n, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	run_strv_add(&env, &n, hn);
	if (a->tty)
		run_strv_add(&env, &n, "TERM=xterm");
	for (i = 0; i < json_len(ie) + a->nenv; i++) {
		const char *kv = i < json_len(ie) ? json_str(json_at(ie, i)) : a->env[i - json_len(ie)];
		size_t klen;
		if (!kv || !strchr(kv, '='))
			continue;
		klen = (size_t)(strchr(kv, '=') - kv);
		for (k = 0; k < n; k++)
			if (!strncmp(env[k], kv, klen + 1))
				break;
		if (k < n) {
			free(env[k]);
			env[k] = xstrdup(kv);
		} else {
			run_strv_add(&env, &n, kv);
		}
	}
	free(hn);
	return env;
}

static char **
run_build_argv(const struct jv *cfg, const struct run_args *a)
{
	char **argv = NULL;
	size_t n = 0, i;
	const struct jv *ep = json_get(cfg, "Entrypoint"), *cmd = json_get(cfg, "Cmd");
	if (a->entrypoint_set) {
		if (*a->entrypoint)
			run_strv_add(&argv, &n, a->entrypoint);
	} else {
		for (i = 0; i < json_len(ep); i++)
			if (json_str(json_at(ep, i)))
				run_strv_add(&argv, &n, json_str(json_at(ep, i)));
	}
	if (a->ncmd) {
		for (i = 0; i < (size_t)a->ncmd; i++)
			run_strv_add(&argv, &n, a->cmd[i]);
	} else if (!a->entrypoint_set) {
		for (i = 0; i < json_len(cmd); i++)
			if (json_str(json_at(cmd, i)))
				run_strv_add(&argv, &n, json_str(json_at(cmd, i)));
	}
	if (!n)
		die("run: no command specified");
	return argv;
}

/* Short symlinks l/ID -> ../layers/HEX/diff keep overlayfs's lowerdir option within one page. */
static char *
run_layer_link(struct store *st, const char *diff_id)
{
	char link[40], target[100], got[100];
	ssize_t n;
	const char *hex = diff_id + 7;
	snprintf(link, sizeof link, "l/%.16s", hex);
	snprintf(target, sizeof target, "../layers/%.64s/diff", hex);
	if (mkdirat(st->fd, "l", 0700) < 0 && errno != EEXIST)
		die_errno("store: mkdir l");
	n = readlinkat(st->fd, link, got, sizeof got - 1);
	if (n > 0) {
		got[n] = 0;
		if (strcmp(got, target))
			die("store: %s points to %s, not %s", link, got, target);
	} else if (symlinkat(target, st->fd, link) < 0 && errno != EEXIST) {
		die_errno("store: symlink %s", link);
	}
	return xstrdup(link);
}

/* ---------------------------------------------------------------- the foreground */

static pid_t run_fg_pid;
static int run_fg_master = -1;
static struct termios run_saved_tio;
static int run_tio_saved;

static void
run_forward(int sig)
{
	if (sig == SIGWINCH && run_fg_master >= 0) {
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(run_fg_master, TIOCSWINSZ, &ws);
	}
	if (run_fg_pid > 0)
		kill(run_fg_pid, sig);
}

static void
run_restore_tty(void)
{
	if (run_tio_saved)
		tcsetattr(0, TCSADRAIN, &run_saved_tio);
}

/* The signals Docker forwards are blocked from before the container starts until the handlers that
 * forward them are in place (forward=1): one sent as soon as the command runs is not lost, nor does
 * it kill dock instead.  The setup child unblocks them for itself. */
static void
run_signals(int forward)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	struct sigaction sa;
	sigset_t set;
	size_t i;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = run_forward;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&set);
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		sigaddset(&set, sigs[i]);
		if (forward)
			sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(forward ? SIG_UNBLOCK : SIG_BLOCK, &set, NULL);
}

static int
run_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Relay between our terminal and the container's pty until the container exits. */
static void
run_relay(int master, int interactive, pid_t pid)
{
	char buf[16384];
	int in_open = interactive;
	for (;;) {
		struct pollfd p[2];
		int np = 1, r;
		p[0].fd = master;
		p[0].events = POLLIN;
		if (in_open) {
			p[1].fd = 0;
			p[1].events = POLLIN;
			np = 2;
		}
		r = poll(p, (nfds_t)np, 200);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(master, buf, sizeof buf);
			if (n <= 0)
				break; /* EIO: every slave is closed, the container is gone */
			if (run_write_all(1, buf, (size_t)n) < 0)
				break;
		}
		if (r > 0 && np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n <= 0) {
				/* stdin ended: pass an end-of-file to the terminal, as Docker does */
				in_open = 0;
				run_write_all(master, "\004", 1);
			} else if (run_write_all(master, buf, (size_t)n) < 0) {
				in_open = 0;
			}
		}
		if (r == 0) {
			/* peek (WNOWAIT): the exit status stays for cmd_run's waitpid */
			siginfo_t si;
			memset(&si, 0, sizeof si);
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
				break;
		}
	}
}

/* Open a pty pair on the host; the slave becomes the container's terminal and /dev/console. */
static int
run_open_pty(struct run_spec *s)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	const char *name;
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(name = ptsname(master)))
		die_errno("run: cannot allocate a pseudo-terminal");
	snprintf(s->pty_path, sizeof s->pty_path, "%s", name);
	s->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->pty_slave < 0)
		die_errno("run: open %s", name);
	if (isatty(0)) {
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	return master;
}

static void
run_record(struct store *st, const char *id, const char *name, const struct run_args *a,
	   const char *image_id, char **argv, char **env, const char *hostname, const char *created)
{
	struct buf b = {0};
	struct jw w;
	struct err e = {0};
	size_t i;
	jw_init(&w, &b, 2);
	jw_obj(&w);
	jw_key(&w, "Id");
	jw_str(&w, id);
	jw_key(&w, "Name");
	jw_str(&w, name);
	jw_key(&w, "Created");
	jw_str(&w, created);
	jw_key(&w, "Path");
	jw_str(&w, argv[0]);
	jw_key(&w, "Args");
	jw_arr(&w);
	for (i = 1; argv[i]; i++)
		jw_str(&w, argv[i]);
	jw_arr_end(&w);
	jw_key(&w, "Image");
	jw_str(&w, image_id);
	jw_key(&w, "Config");
	jw_obj(&w);
	jw_key(&w, "Image");
	jw_str(&w, a->image);
	jw_key(&w, "Hostname");
	jw_str(&w, hostname);
	jw_key(&w, "User");
	jw_str(&w, a->user ? a->user : "");
	jw_key(&w, "Tty");
	jw_bool(&w, a->tty);
	jw_key(&w, "OpenStdin");
	jw_bool(&w, a->interactive);
	jw_key(&w, "Env");
	jw_arr(&w);
	for (i = 0; env[i]; i++)
		jw_str(&w, env[i]);
	jw_arr_end(&w);
	jw_key(&w, "Cmd");
	jw_arr(&w);
	for (i = 0; argv[i]; i++)
		jw_str(&w, argv[i]);
	jw_arr_end(&w);
	jw_key(&w, "WorkingDir");
	jw_str(&w, a->workdir ? a->workdir : "");
	jw_obj_end(&w);
	jw_key(&w, "HostConfig");
	jw_obj(&w);
	jw_key(&w, "AutoRemove");
	jw_bool(&w, a->rm);
	jw_key(&w, "ReadonlyRootfs");
	jw_bool(&w, a->read_only);
	jw_key(&w, "Init");
	jw_bool(&w, a->init);
	jw_key(&w, "Privileged");
	jw_bool(&w, a->privileged);
	jw_key(&w, "NetworkMode");
	jw_str(&w, a->network ? a->network : "host");
	jw_obj_end(&w);
	jw_key(&w, "Mounts");
	jw_arr(&w);
	for (i = 0; i < a->nmounts; i++) {
		jw_obj(&w);
		jw_key(&w, "Type");
		jw_str(&w, a->mounts[i].type == RUN_MOUNT_BIND ? "bind" : "tmpfs");
		jw_key(&w, "Source");
		jw_str(&w, a->mounts[i].src ? a->mounts[i].src : "");
		jw_key(&w, "Destination");
		jw_str(&w, a->mounts[i].dst);
		jw_key(&w, "RW");
		jw_bool(&w, !a->mounts[i].ro);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	buf_addc(&b, '\n');
	if (ctr_write(st, id, "config.json", &b, &e) < 0)
		die("run: %s", e.msg);
	buf_free(&b);
}

/* The image ID for a run: pulled when missing (or always, with --pull=always). */
static void
run_image(struct store *st, const struct run_args *a, char id[72])
{
	struct err e = {0};
	int have = image_resolve(st, a->image, id, NULL, 0, &e) == 0;
	if (!strcmp(a->pull, "always") || (!have && !strcmp(a->pull, "missing"))) {
		if (!have) {
			struct ref r;
			char fam[600];
			if (ref_parse(&r, a->image, &e) < 0)
				die("run: %s: %s", a->image, e.msg);
			ref_familiar(&r, fam, sizeof fam);
			fprintf(stderr, "Unable to find image '%s:%s' locally\n", fam, r.tag[0] ? r.tag : "latest");
		}
		/* pull output goes to stderr so the container's stdout stays its own */
		fflush(stdout);
		{
			int saved = dup(1);
			dup2(2, 1);
			pull_image(st, a->image, a->platform, 0, id);
			fflush(stdout);
			dup2(saved, 1);
			close(saved);
		}
		return;
	}
	if (!have) /* "No such image: NAME", as Docker says it */
		die("run: %s", e.msg);
}

/* Docker's default seccomp profile (or --security-opt seccomp=FILE) for the container's caps;
 * --privileged and seccomp=unconfined run without one, as in Docker. */
static void
run_seccomp(const struct run_args *a, struct run_spec *s)
{
	static struct sock_filter prog[SECCOMP_PROG_MAX];
	struct err e = {0};
	size_t len = 0;
	int r;
	if (a->privileged || a->seccomp_unconfined)
		return;
	if (a->seccomp_profile) {
		struct buf b = {0};
		if (file_read(AT_FDCWD, a->seccomp_profile, 4 << 20, &b, &e) < 0)
			die("run: seccomp profile: %s", e.msg);
		r = seccomp_build_profile(b.p, b.len, s->caps, prog, SECCOMP_PROG_MAX, &len, &e);
		buf_free(&b);
	} else {
		r = seccomp_build(s->caps, prog, SECCOMP_PROG_MAX, &len, &e);
	}
	if (r < 0)
		die("run: seccomp: %s", e.msg);
	s->seccomp = prog;
	s->seccomp_len = len;
}

int
cmd_run(int argc, char **argv)
{
	struct run_args a;
	struct store st;
	struct run_spec s;
	struct run_proc rp;
	struct err e = {0};
	char image_id[72], id[65], name[130], hostname[64], created[64], dir[128];
	struct buf rec = {0}, cfgb = {0};
	struct json *recj, *cfgj;
	const struct jv *cfg, *layers;
	size_t i, nl;
	int status = 0, master = -1, wstatus, attempt, oom = 0;
	struct cg *cg;

	die_status = 125;
	run_parse(&a, argc, argv);
	cli_store(&st);
	if (store_lock_all(&st, 0, &e) < 0)
		die("run: %s", e.msg);
	run_image(&st, &a, image_id);
	if (store_image_read(&st, image_id, &rec, &e) < 0 || !(recj = json_parse(rec.p, rec.len, &e)) ||
	    store_get_blob(&st, image_id, 8 << 20, &cfgb, &e) < 0 ||
	    !(cfgj = json_parse(cfgb.p, cfgb.len, &e)))
		die("run: image %s: %s", a.image, e.msg);
	cfg = json_get(json_root(cfgj), "config");

	if (ctr_create(&st, a.name, id, name, sizeof name, &e) < 0)
		die("run: %s", e.msg);
	snprintf(hostname, sizeof hostname, "%s", a.hostname ? a.hostname : "");
	if (!hostname[0])
		snprintf(hostname, sizeof hostname, "%.12s", id);
	ctr_now(created, sizeof created);

	memset(&s, 0, sizeof s);
	s.store_path = st.path;
	s.storefd = st.fd;
	s.id = id;
	s.pty_slave = -1;
	s.env = run_build_env(cfg, &a, hostname);
	s.argv = run_build_argv(cfg, &a);
	s.workdir = a.workdir ? a.workdir : json_getstr(cfg, "WorkingDir");
	s.user = a.user ? a.user : json_getstr(cfg, "User");
	s.hostname = hostname;
	s.tty = a.tty;
	s.interactive = a.interactive;
	s.stdin_null = !a.interactive;
	s.init = a.init;
	s.read_only = a.read_only;
	s.net_none = a.network && !strcmp(a.network, "none");
	s.rootless = st.rootless;
	s.userns = st.rootless;
	s.privileged = a.privileged;
	s.caps = a.privileged ? ~0ULL >> 23 : RUN_DEFAULT_CAPS;
	if (a.cap_drop_all)
		s.caps = 0;
	s.caps = (s.caps & ~a.cap_drop) | a.cap_add;
	s.caps &= (1ULL << 41) - 1;
	s.mounts = a.mounts;
	s.nmounts = a.nmounts;
	layers = json_get(json_root(recj), "Layers");
	nl = json_len(layers);
	s.lowers = xcalloc(nl + 1, sizeof *s.lowers);
	for (i = 0; i < nl; i++) /* overlayfs lists the topmost layer first */
		s.lowers[i] = run_layer_link(&st, json_getstr(json_at(layers, nl - 1 - i), "DiffID"));
	s.nlowers = nl;
	{
		static const char *const sub[] = {"upper", "work", "merged"};
		for (i = 0; i < 3; i++) {
			snprintf(dir, sizeof dir, "containers/%s/%s", id, sub[i]);
			if (mkdirat(st.fd, dir, 0755) < 0)
				die_errno("run: mkdir %s", dir);
		}
	}
	run_write_etc(&st, id, hostname, !s.net_none);
	run_record(&st, id, name, &a, image_id, s.argv, s.env, hostname, created);
	if (getenv("DOCK_STORAGE") && !strcmp(getenv("DOCK_STORAGE"), "copy"))
		s.copy_root = 1;
	if (a.tty)
		master = run_open_pty(&s);

	run_signals(0);
	run_seccomp(&a, &s);
	cg = cg_create(id, &a.lim, st.rootless, cli_warn, &e);
	if (!cg) {
		fprintf(stderr, "dock: run: %s\n", e.msg);
		ctr_remove(&st, id, name, -1, &e);
		return 125;
	}
	for (attempt = 0;; attempt++) {
		if (s.copy_root) {
			/* the fallback: a private copy of the image, so the image itself never changes */
			int dst;
			struct layer_opts lo = {0};
			snprintf(dir, sizeof dir, "containers/%s/rootfs", id);
			if (mkdirat(st.fd, dir, 0755) < 0 && errno != EEXIST)
				die_errno("run: mkdir %s", dir);
			dst = openat(st.fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			lo.rootless = st.rootless;
			lo.warn = cli_warn;
			for (i = 0; i < nl && dst >= 0; i++) {
				int src = store_layer_open(&st, json_getstr(json_at(layers, i), "DiffID"), &e);
				if (src < 0 || layer_merge(src, dst, &lo, &e) < 0)
					die("run: copying the image: %s", e.msg);
				close(src);
			}
			if (dst < 0)
				die_errno("run: %s", dir);
			close(dst);
		}
		if (run_spawn(&s, &rp, &e) < 0) {
			rp.usernsfd = -1; /* nothing ran: the files are all ours */
			status = 125;
		} else if (cg_enter(cg, rp.pid, &e) < 0) {
			/* the container is not let go outside its cgroup */
			kill(rp.pid, SIGKILL);
			waitpid(rp.pid, NULL, 0);
			status = 125;
		} else {
			run_fg_pid = rp.pid;
			if (run_go(&rp, &status, &e) == 0)
				break;
		}
		if (!s.copy_root && attempt == 0 && strstr(e.msg, "mount overlay")) {
			warn("overlayfs is not available here (%s); using a private copy of the image", e.msg);
			s.copy_root = 1;
			if (rp.usernsfd >= 0)
				close(rp.usernsfd);
			continue;
		}
		fprintf(stderr, "dock: run: %s\n", e.msg);
		cg_destroy(cg, &e);
		cg_free(cg);
		if (a.rm)
			ctr_remove(&st, id, name, rp.usernsfd, &e);
		else
			ctr_set_state(&st, id, "exited", 0, status, NULL, NULL, 0, &e);
		store_close(&st);
		return status;
	}
	{
		char started[64];
		ctr_now(started, sizeof started);
		if (ctr_set_state(&st, id, "running", rp.pid, 0, started, NULL, 0, &e) < 0)
			warn("%s", e.msg);
		run_signals(1);
		if (master >= 0) {
			close(s.pty_slave);
			run_fg_master = master;
			if (a.interactive && isatty(0) && tcgetattr(0, &run_saved_tio) == 0) {
				struct termios raw = run_saved_tio;
				cfmakeraw(&raw);
				run_tio_saved = 1;
				atexit(run_restore_tty);
				tcsetattr(0, TCSADRAIN, &raw);
			}
			run_relay(master, a.interactive, rp.pid);
		}
		while (waitpid(rp.pid, &wstatus, 0) < 0) {
			if (errno != EINTR) {
				wstatus = 0;
				break;
			}
		}
		run_restore_tty();
		run_tio_saved = 0;
		status = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
		/* read before the cgroup goes; then no process of the container outlives it */
		oom = cg_oom_killed(cg);
		if (cg_kill_all(cg, SIGKILL, &e) < 0 && e.sys != EOPNOTSUPP)
			warn("%s", e.msg);
		if (cg_destroy(cg, &e) < 0)
			warn("%s", e.msg);
		cg_free(cg);
		if (a.rm) {
			if (ctr_remove(&st, id, name, rp.usernsfd, &e) < 0)
				warn("%s", e.msg);
		} else {
			char finished[64];
			ctr_now(finished, sizeof finished);
			if (ctr_set_state(&st, id, "exited", 0, status, started, finished, oom, &e) < 0)
				warn("%s", e.msg);
		}
	}
	store_close(&st);
	return status;
}
