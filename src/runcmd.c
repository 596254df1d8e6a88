/* runcmd.c: `dock run` and `dock create`.  Parses Docker's options, pulls the image when it is
 * missing, merges the image config (Env, Entrypoint, Cmd, WorkingDir, User) with the options, writes
 * the container record (with DockSpec, all `dock start` needs to build it again) and its /etc files,
 * starts the container (run.c) and stays with it in the foreground: relaying a pty with -t,
 * forwarding signals, and exiting with the container's status.  With -d (and for `dock start`) a
 * supervisor process does the waiting instead, and owns containers/ID/container.log (the
 * container's output in Docker's json-file format) and containers/ID/attach.sock (attach); it
 * starts the container again as --restart says. */

#include <signal.h>
#include <poll.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <linux/filter.h>
#include <linux/capability.h>


/* ---------------------------------------------------------------- options */

static const char run_usage[] =
	"Usage: dock run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
	"Create and run a new container from an image, in the foreground or (-d) in the background.\n\n"
	"Options:\n"
	"  -d, --detach                run in the background under a supervisor and print the ID;\n"
	"                              its output goes to the log (dock logs)\n"
	"  -e, --env KEY=VAL|KEY       set an environment variable (KEY alone: from this shell)\n"
	"      --env-file FILE         read KEY=VAL lines from a file\n"
	"      --entrypoint CMD        override the image's entrypoint\n"
	"  -h, --hostname NAME         container host name (default: the short ID)\n"
	"  -i, --interactive           keep standard input open\n"
	"      --init                  run a minimal init as PID 1 that reaps zombies\n"
	"      --mount type=bind|tmpfs,source=..,target=..[,readonly]\n"
	"      --name NAME             container name\n"
	"      --network bridge|none|host|NAME   network (default: bridge as root, host rootless);\n"
	"                              --ip, --mac-address, --network-alias, --link NAME[:ALIAS],\n"
	"                              --dns, --dns-search, --add-host NAME:IP\n"
	"      --platform OS/ARCH      platform to pull\n"
	"      --privileged            all capabilities, no masked paths\n"
	"  -p, --publish [IP:][HOST:]CTR[/tcp|udp]   publish a container port on the host (no HOST:\n"
	"                              a free one); -P, --publish-all: every port the image EXPOSEs\n"
	"      --cap-add CAP, --cap-drop CAP   adjust the default capability set (ALL too)\n"
	"      --security-opt seccomp=unconfined|PROFILE.json   (no-new-privileges is always on)\n"
	"  -m, --memory BYTES          memory limit (k, m, g suffixes); --memory-swap,\n"
	"                              --memory-reservation likewise\n"
	"      --cpus N                CPUs (quota over a 100ms period); --cpu-shares, --cpu-quota,\n"
	"                              --cpu-period, --cpuset-cpus\n"
	"      --pids-limit N          process limit\n"
	"      --ulimit NAME=SOFT[:HARD]   resource limit (nofile, nproc, core, memlock, stack, ...)\n"
	"      --oom-score-adj N       the OOM killer's preference (-1000..1000)\n"
	"      --shm-size BYTES        size of /dev/shm (default 64m)\n"
	"      --device HOST[:CTR][:rwm]   give the container a host device\n"
	"      --blkio-weight N        block I/O weight; --device-read-bps/--device-write-bps DEV:RATE\n"
	"      --pull missing|always|never\n"
	"      --read-only             mount the root filesystem read-only\n"
	"      --restart POLICY        no, on-failure[:N], always, unless-stopped (-d: carried out\n"
	"                              by the container's supervisor while it lives)\n"
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

/* --ulimit nofile=1024:2048 (run_ulimit_parse has the names and words). */
static void
run_ulimit(struct run_args *a, const char *v)
{
	struct run_ulimit u;
	struct err e = {0};
	size_t k;
	if (run_ulimit_parse(v, &u, &e) < 0)
		die("%s", e.msg);
	/* a name given again replaces the earlier value, as in Docker */
	for (k = 0; k < a->nulimits && a->ulimits[k].resource != u.resource; k++)
		;
	if (k == sizeof a->ulimits / sizeof *a->ulimits)
		die("too many --ulimit options");
	a->ulimits[k] = u;
	if (k == a->nulimits)
		a->nulimits++;
}

static int
run_is_perms(const char *s)
{
	return strlen(s) <= 3 && cg_dev_access(s) >= 0;
}

/* --device /dev/sdc[:/dev/xvdc][:rwm]: the host node (symlinks followed), allowed in the cgroup
 * with those permissions. */
static void
run_device(struct run_args *a, const char *v)
{
	char copy[600], *f[3], *p, *save = NULL;
	struct run_device *d;
	struct stat st;
	int n = 0, acc;
	struct cg_dev_rule *r;
	if (strlen(v) >= sizeof copy)
		die("invalid device %s", v);
	snprintf(copy, sizeof copy, "%s", v);
	for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			die("invalid device specification: %s", v);
		f[n++] = p;
	}
	if (!n)
		die("invalid device specification: %s", v);
	if (a->ndevices == sizeof a->devices / sizeof *a->devices ||
	    a->lim.ndevices == sizeof a->lim.devices / sizeof *a->lim.devices)
		die("too many --device options");
	d = &a->devices[a->ndevices];
	memset(d, 0, sizeof *d);
	snprintf(d->host, sizeof d->host, "%s", f[0]);
	snprintf(d->path, sizeof d->path, "%s", f[0]);
	snprintf(d->perms, sizeof d->perms, "rwm");
	if (n == 2 && run_is_perms(f[1]))
		snprintf(d->perms, sizeof d->perms, "%s", f[1]);
	else if (n >= 2)
		snprintf(d->path, sizeof d->path, "%s", f[1]);
	if (n == 3) {
		if (!run_is_perms(f[2]))
			die("invalid device mode: %s", f[2]);
		snprintf(d->perms, sizeof d->perms, "%s", f[2]);
	}
	if (d->host[0] != '/' || d->path[0] != '/' || strstr(d->path, "/../") ||
	    (strlen(d->path) >= 3 && !strcmp(d->path + strlen(d->path) - 3, "/..")))
		die("invalid device specification: %s (paths must be absolute)", v);
	if (stat(d->host, &st) < 0)
		die_errno("error gathering device information while adding custom device \"%s\"", d->host);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		die("error gathering device information while adding custom device \"%s\": not a device node",
		    d->host);
	d->mode = st.st_mode;
	d->rdev = st.st_rdev;
	d->uid = st.st_uid;
	d->gid = st.st_gid;
	acc = cg_dev_access(d->perms);
	r = &a->lim.devices[a->lim.ndevices++];
	r->type = S_ISBLK(st.st_mode) ? 'b' : 'c';
	r->major = (int32_t)major(st.st_rdev);
	r->minor = (int32_t)minor(st.st_rdev);
	r->access = (uint8_t)acc;
	r->allow = 1;
	a->ndevices++;
}

/* What `dock start` needs of the options above, kept in DockSpec.Limits. */
static void
run_limits_more_json(struct jw *w, const struct run_args *a)
{
	size_t i;
	char b[600];
	jw_key(w, "Ulimits");
	jw_arr(w);
	for (i = 0; i < a->nulimits; i++) {
		snprintf(b, sizeof b, "%s=%lld:%lld", a->ulimits[i].name, (long long)a->ulimits[i].soft,
			 (long long)a->ulimits[i].hard);
		jw_str(w, b);
	}
	jw_arr_end(w);
	jw_key(w, "Devices");
	jw_arr(w);
	for (i = 0; i < a->ndevices; i++) {
		snprintf(b, sizeof b, "%s:%s:%s", a->devices[i].host, a->devices[i].path, a->devices[i].perms);
		jw_str(w, b);
	}
	jw_arr_end(w);
	jw_key(w, "OomScoreAdj");
	if (a->oom_score_adj_set)
		jw_int(w, a->oom_score_adj);
	else
		jw_null(w);
	jw_key(w, "ShmSize");
	jw_int(w, a->shm_size);
}

static void
run_limits_more_parse(struct run_args *a, const struct jv *lim)
{
	const struct jv *v;
	size_t i;
	int64_t n;
	v = json_get(lim, "Ulimits");
	for (i = 0; i < json_len(v); i++)
		if (json_str(json_at(v, i)))
			run_ulimit(a, json_str(json_at(v, i)));
	v = json_get(lim, "Devices");
	for (i = 0; i < json_len(v); i++)
		if (json_str(json_at(v, i)))
			run_device(a, json_str(json_at(v, i)));
	if (json_int(json_get(lim, "OomScoreAdj"), &n) == 0) {
		a->oom_score_adj_set = 1;
		a->oom_score_adj = (int)n;
	}
	if (json_int(json_get(lim, "ShmSize"), &n) == 0)
		a->shm_size = n;
	a->lim.devices_all = a->privileged;
}

/* The same in inspect's HostConfig, as Docker names them. */
static void
run_hostconfig_more(struct jw *w, const struct run_args *a)
{
	size_t i;
	jw_key(w, "ShmSize");
	jw_int(w, a->shm_size > 0 ? a->shm_size : 64 << 20);
	jw_key(w, "OomScoreAdj");
	jw_int(w, a->oom_score_adj);
	jw_key(w, "Ulimits");
	jw_arr(w);
	for (i = 0; i < a->nulimits; i++) {
		jw_obj(w);
		jw_key(w, "Name");
		jw_str(w, a->ulimits[i].name);
		jw_key(w, "Hard");
		jw_int(w, a->ulimits[i].hard);
		jw_key(w, "Soft");
		jw_int(w, a->ulimits[i].soft);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "Devices");
	jw_arr(w);
	for (i = 0; i < a->ndevices; i++) {
		jw_obj(w);
		jw_key(w, "PathOnHost");
		jw_str(w, a->devices[i].host);
		jw_key(w, "PathInContainer");
		jw_str(w, a->devices[i].path);
		jw_key(w, "CgroupPermissions");
		jw_str(w, a->devices[i].perms);
		jw_obj_end(w);
	}
	jw_arr_end(w);
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

/* --restart no|always|unless-stopped|on-failure[:N] */
static void
run_restart_opt(struct run_args *a, const char *v)
{
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);
	a->restart_max = 0;
	if (colon) {
		char *end;
		long m = strtol(colon + 1, &end, 10);
		if (n != 10 || strncmp(v, "on-failure", 10))
			die("invalid restart policy '%s': a maximum retry count goes with on-failure only", v);
		if (!colon[1] || *end || m < 0 || m > 1000000)
			die("invalid restart policy '%s': bad maximum retry count", v);
		a->restart_max = (int)m;
	}
	if ((n == 2 && !strncmp(v, "no", 2)) || (n == 6 && !strncmp(v, "always", 6)) ||
	    (n == 14 && !strncmp(v, "unless-stopped", 14)) || (n == 10 && !strncmp(v, "on-failure", 10)))
		a->restart = n == 2 ? "no" : n == 6 ? "always" : n == 14 ? "unless-stopped" : "on-failure";
	else
		die("invalid restart policy '%s': want no, always, unless-stopped or on-failure[:N]", v);
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
		if (o[1] != '-' && strspn(o + 1, "itd") == strlen(o + 1)) {
			if (strchr(o, 'i'))
				a->interactive = 1;
			if (strchr(o, 't'))
				a->tty = 1;
			if (strchr(o, 'd'))
				a->detach = 1;
			continue;
		}
		if (!strcmp(o, "--detach"))
			a->detach = 1;
		else if (!strcmp(o, "--interactive"))
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
		else if (!strcmp(o, "-P") || !strcmp(o, "--publish-all"))
			a->publish_all = 1;
		else if ((v = run_optval(argc, argv, &i, "-p", "--publish"))) {
			struct err pe = {0};
			if (a->nports >= PORT_MAX)
				die("run: more than %d published ports", PORT_MAX);
			if (port_parse(v, &a->ports[a->nports++], &pe) < 0)
				die("run: -p %s", pe.msg);
		} else if ((v = run_optval(argc, argv, &i, "-e", "--env")))
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
			a->network = v;
		} else if ((v = run_optval(argc, argv, &i, NULL, "--ip")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--mac-address")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--network-alias")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--net-alias")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--link")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--dns")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--dns-search")) ||
			   (v = run_optval(argc, argv, &i, NULL, "--add-host"))) {
			char opt[32];
			snprintf(opt, sizeof opt, "%.*s", (int)strcspn(o, "="), o);
			netw_parse_opt(&a->net, opt, v);
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
		else if ((v = run_optval(argc, argv, &i, NULL, "--ulimit")))
			run_ulimit(a, v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--detach-keys"))) {
			/* checked as Docker does; they serve `dock attach` and `start -a`, as a
			 * foreground run (and -d) has no attached client to detach */
			unsigned char k[16];
			size_t nk;
			struct err ke = {0};
			if (run_detach_keys_parse(v, k, sizeof k, &nk, &ke) < 0)
				die("%s", ke.msg);
		}
		else if ((v = run_optval(argc, argv, &i, NULL, "--device")))
			run_device(a, v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--oom-score-adj"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (!*v || *end)
				die("invalid argument \"%s\" for \"--oom-score-adj\" flag", v);
			if (n < -1000 || n > 1000)
				die("Invalid value %ld, range for oom score adj is [-1000, 1000]", n);
			a->oom_score_adj = (int)n;
			a->oom_score_adj_set = 1;
		} else if ((v = run_optval(argc, argv, &i, NULL, "--shm-size"))) {
			a->shm_size = run_bytes(v, "--shm-size");
			if (a->shm_size <= 0)
				die("invalid --shm-size %s: must be greater than 0", v);
		} else if ((v = run_optval(argc, argv, &i, NULL, "--device-read-bps")))
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
		} else if ((v = run_optval(argc, argv, &i, NULL, "--restart")))
			run_restart_opt(a, v);
		else if ((v = run_optval(argc, argv, &i, NULL, "--cap-add")))
			a->cap_add |= run_cap_parse(v, &(int){0});
		else if ((v = run_optval(argc, argv, &i, NULL, "--cap-drop")))
			a->cap_drop |= run_cap_parse(v, &a->cap_drop_all);
		else
			die("run: unknown option %s (see 'dock run --help')", o);
	}
	if (i >= argc)
		die("run: requires at least 1 argument (see 'dock run --help')");
	a->lim.devices_all = a->privileged;
	if (a->rm && a->restart && strcmp(a->restart, "no"))
		die("Conflicting options: --restart and --rm");
	a->image = argv[i++];
	a->cmd = argv + i;
	a->ncmd = argc - i;
}

/* ---------------------------------------------------------------- the container's files */

/* hosts and resolv.conf come from network.c (they follow the network); hostname is ours */
static void
run_write_etc(struct store *st, const char *id, const char *name, const char *hostname,
	      const struct netw_opts *o)
{
	struct buf hn = {0};
	struct err e = {0};
	if (netw_prepare(st, id, name, hostname, o, st->rootless, &e) < 0) {
		ctr_remove(st, id, name, -1, &(struct err){0});
		die("run: %s", e.msg);
	}
	buf_printf(&hn, "%s\n", hostname);
	if (ctr_write(st, id, "hostname", &hn, &e) < 0)
		die("run: %s", e.msg);
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
			if (write_all(1, buf, (size_t)n) < 0)
				break;
		}
		if (r > 0 && np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n <= 0) {
				/* stdin ended: pass an end-of-file to the terminal, as Docker does */
				in_open = 0;
				write_all(master, "\004", 1);
			} else if (write_all(master, buf, (size_t)n) < 0) {
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

/* What `dock start` needs to build the same container again, resolved: the command, environment,
 * user and directory as they were merged with the image, the capabilities, mounts and limits. */
static void
run_spec_json(struct jw *w, const struct run_spec *s, const struct run_args *a)
{
	size_t i;
	const struct cg_limits *l = &a->lim;
	jw_obj(w);
	jw_key(w, "Argv");
	jw_arr(w);
	for (i = 0; s->argv[i]; i++)
		jw_str(w, s->argv[i]);
	jw_arr_end(w);
	jw_key(w, "Env");
	jw_arr(w);
	for (i = 0; s->env[i]; i++)
		jw_str(w, s->env[i]);
	jw_arr_end(w);
	jw_key(w, "WorkingDir");
	jw_str(w, s->workdir ? s->workdir : "");
	jw_key(w, "User");
	jw_str(w, s->user ? s->user : "");
	jw_key(w, "Hostname");
	jw_str(w, s->hostname);
	jw_key(w, "Tty");
	jw_bool(w, a->tty);
	jw_key(w, "Init");
	jw_bool(w, a->init);
	jw_key(w, "ReadOnly");
	jw_bool(w, a->read_only);
	jw_key(w, "AutoRemove");
	jw_bool(w, a->rm);
	jw_key(w, "Privileged");
	jw_bool(w, a->privileged);
	jw_key(w, "Network");
	jw_str(w, a->network ? a->network : "host");
	jw_key(w, "Ports");
	port_json(w, a->ports, a->nports);
	jw_key(w, "Caps");
	jw_int(w, (int64_t)s->caps);
	jw_key(w, "SeccompUnconfined");
	jw_bool(w, a->seccomp_unconfined);
	jw_key(w, "SeccompProfile");
	jw_str(w, a->seccomp_profile ? a->seccomp_profile : "");
	jw_key(w, "RestartPolicy");
	jw_str(w, a->restart ? a->restart : "no");
	jw_key(w, "RestartMax");
	jw_int(w, a->restart_max);
	jw_key(w, "Mounts");
	jw_arr(w);
	for (i = 0; i < a->nmounts; i++) {
		const struct run_mount *m = &a->mounts[i];
		jw_obj(w);
		jw_key(w, "Type");
		jw_str(w, m->type == RUN_MOUNT_BIND ? "bind" : "tmpfs");
		jw_key(w, "Source");
		jw_str(w, m->src ? m->src : "");
		jw_key(w, "Destination");
		jw_str(w, m->dst);
		jw_key(w, "ReadOnly");
		jw_bool(w, m->ro);
		jw_key(w, "Options");
		jw_str(w, m->opts ? m->opts : "");
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "Limits");
	jw_obj(w);
	jw_key(w, "Memory");
	jw_int(w, l->memory);
	jw_key(w, "MemoryReservation");
	jw_int(w, l->memory_reservation);
	jw_key(w, "MemorySwap");
	jw_int(w, l->memory_swap);
	jw_key(w, "CpuQuota");
	jw_int(w, l->cpu_quota);
	jw_key(w, "CpuPeriod");
	jw_int(w, l->cpu_period);
	jw_key(w, "CpuShares");
	jw_int(w, (int64_t)l->cpu_shares);
	jw_key(w, "CpusetCpus");
	jw_str(w, l->cpuset_cpus);
	jw_key(w, "PidsLimit");
	jw_int(w, l->pids_limit);
	jw_key(w, "BlkioWeight");
	jw_int(w, l->blkio_weight);
	jw_key(w, "DeviceBps");
	jw_arr(w);
	for (i = 0; i < l->ndev_bps; i++) {
		jw_arr(w);
		jw_int(w, l->dev_bps[i].major);
		jw_int(w, l->dev_bps[i].minor);
		jw_int(w, (int64_t)l->dev_bps[i].bps);
		jw_int(w, l->dev_bps[i].write);
		jw_arr_end(w);
	}
	jw_arr_end(w);
	run_limits_more_json(w, a);
	jw_obj_end(w);
	jw_obj_end(w);
}

/* -P: every ExposedPorts key not published already; then a free host port for each without one. */
static void
run_ports(struct run_args *a, const struct jv *cfg, int rootless)
{
	const struct jv *ex = json_get(cfg, "ExposedPorts");
	struct err e = {0};
	size_t i, k;
	for (i = 0; a->publish_all && i < json_len(ex); i++) {
		struct port_map p;
		if (port_parse_exposed(json_key(ex, i), &p, &e) < 0)
			die("run: image: %s", e.msg);
		for (k = 0; k < a->nports; k++)
			if (a->ports[k].ctr_port == p.ctr_port && a->ports[k].proto == p.proto)
				break;
		if (k < a->nports)
			continue;
		if (a->nports >= PORT_MAX)
			die("run: more than %d published ports", PORT_MAX);
		a->ports[a->nports++] = p;
	}
	if (a->nports && rootless && a->network && !strcmp(a->network, "host"))
		die("run: published ports need a network of dock's own, which rootless dock does not have "
		    "(no user-mode networking): run as root, or use --network host without -p");
	if (a->nports && a->network && (!strcmp(a->network, "host") || !strcmp(a->network, "none")))
		die("run: conflicting options: port publishing and the container type network mode");
	for (i = 0; i < a->nports; i++)
		if (port_pick_free(&a->ports[i], &e) < 0)
			die("run: %s", e.msg);
}

static void
run_record(struct store *st, const char *id, const char *name, const struct run_args *a,
	   const char *image_id, const struct run_spec *s, const char *created)
{
	char **argv = s->argv, **env = s->env;
	const char *hostname = s->hostname;
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
	jw_key(&w, "PortBindings");
	port_bindings_json(&w, a->ports, a->nports);
	run_hostconfig_more(&w, a);
	jw_key(&w, "RestartPolicy");
	jw_obj(&w);
	jw_key(&w, "Name");
	jw_str(&w, a->restart ? a->restart : "no");
	jw_key(&w, "MaximumRetryCount");
	jw_int(&w, a->restart_max);
	jw_obj_end(&w);
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
	jw_key(&w, "DockSpec");
	run_spec_json(&w, s, a);
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


/* ---------------------------------------------------------------- a container, prepared */


void
run_ctx_init(struct run_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->master = -1;
	c->out[0] = c->out[1] = c->err[0] = c->err[1] = -1;
	c->statusfd = -1;
	c->usernsfd = -1;
	c->ctr_lockfd = -1;
	c->stdin_w = -1;
	c->attach_fd = -1;
	memset(&c->s, 0, sizeof c->s);
	c->s.pty_slave = -1;
}

/* The image's layers, for overlayfs (topmost first) or the private copy. */
static void
run_ctx_layers(struct run_ctx *c)
{
	struct err e = {0};
	size_t i;
	if (store_image_read(&c->st, c->image_id, &c->rec, &e) < 0 ||
	    !(c->recj = json_parse(c->rec.p, c->rec.len, &e)))
		die("image %s: %s", c->image_id, e.msg);
	c->layers = json_get(json_root(c->recj), "Layers");
	c->nl = json_len(c->layers);
	c->s.lowers = xcalloc(c->nl + 1, sizeof *c->s.lowers);
	for (i = 0; i < c->nl; i++)
		c->s.lowers[i] = run_layer_link(&c->st, json_getstr(json_at(c->layers, c->nl - 1 - i), "DiffID"));
	c->s.nlowers = c->nl;
}

/* The spec's fields that follow from the options alone. */
static void
run_ctx_spec(struct run_ctx *c)
{
	struct run_spec *s = &c->s;
	s->store_path = c->st.path;
	s->storefd = c->st.fd;
	s->id = c->id;
	s->hostname = c->hostname;
	s->tty = c->a.tty;
	s->interactive = c->a.interactive && !c->detach;
	s->stdin_null = !c->a.interactive; /* detached -i: a pipe from the supervisor */
	s->init = c->a.init;
	s->read_only = c->a.read_only;
	s->net_none = c->a.network && !strcmp(c->a.network, "none");
	s->net_ns = c->a.network && strcmp(c->a.network, "none") && strcmp(c->a.network, "host");
	s->rootless = c->st.rootless;
	s->userns = c->st.rootless;
	s->privileged = c->a.privileged;
	s->transient = c->a.rm;
	s->mounts = c->a.mounts;
	s->nmounts = c->a.nmounts;
	s->ulimits = c->a.ulimits;
	s->nulimits = c->a.nulimits;
	s->oom_score_adj_set = c->a.oom_score_adj_set;
	s->oom_score_adj = c->a.oom_score_adj;
	s->shm_size = c->a.shm_size;
	s->devices = c->a.devices;
	s->ndevices = c->a.ndevices;
	if (getenv("DOCK_STORAGE") && !strcmp(getenv("DOCK_STORAGE"), "copy"))
		s->copy_root = 1;
}

/* run and create: parse, pull when missing, merge with the image config and write the record. */
static void
run_prepare(struct run_ctx *c, int argc, char **argv)
{
	struct err e = {0};
	char created[64], dir[128];
	struct buf cfgb = {0};
	struct json *cfgj;
	const struct jv *cfg;
	size_t i;
	run_parse(&c->a, argc, argv);
	c->detach = c->a.detach;
	cli_store(&c->st);
	c->a.net.network = c->a.network;
	if (!c->a.net.network)
		c->a.net.network = netw_default(&c->st);
	c->a.network = netw_mode(&c->a.net, c->st.rootless);
	if (store_lock_all(&c->st, 0, &e) < 0)
		die("run: %s", e.msg);
	run_image(&c->st, &c->a, c->image_id);
	if (store_get_blob(&c->st, c->image_id, 8 << 20, &cfgb, &e) < 0 ||
	    !(cfgj = json_parse(cfgb.p, cfgb.len, &e)))
		die("run: image %s: %s", c->a.image, e.msg);
	cfg = json_get(json_root(cfgj), "config");
	run_ports(&c->a, cfg, c->st.rootless);
	run_ctx_layers(c);

	if (ctr_create(&c->st, c->a.name, c->id, c->name, sizeof c->name, &e) < 0)
		die("run: %s", e.msg);
	snprintf(c->hostname, sizeof c->hostname, "%s", c->a.hostname ? c->a.hostname : "");
	if (!c->hostname[0])
		snprintf(c->hostname, sizeof c->hostname, "%.12s", c->id);
	ctr_now(created, sizeof created);

	run_ctx_spec(c);
	c->s.env = run_build_env(cfg, &c->a, c->hostname);
	c->s.argv = run_build_argv(cfg, &c->a);
	c->s.workdir = c->a.workdir ? c->a.workdir : json_getstr(cfg, "WorkingDir");
	c->s.user = c->a.user ? c->a.user : json_getstr(cfg, "User");
	c->s.caps = c->a.privileged ? ~0ULL >> 23 : RUN_DEFAULT_CAPS;
	if (c->a.cap_drop_all)
		c->s.caps = 0;
	c->s.caps = (c->s.caps & ~c->a.cap_drop) | c->a.cap_add;
	c->s.caps &= (1ULL << 41) - 1;
	{
		static const char *const sub[] = {"upper", "work", "merged"};
		for (i = 0; i < 3; i++) {
			snprintf(dir, sizeof dir, "containers/%s/%s", c->id, sub[i]);
			if (mkdirat(c->st.fd, dir, 0755) < 0)
				die_errno("run: mkdir %s", dir);
		}
	}
	run_write_etc(&c->st, c->id, c->name, c->hostname, &c->a.net);
	run_record(&c->st, c->id, c->name, &c->a, c->image_id, &c->s, created);
}

static char **
run_strv_json(const struct jv *arr)
{
	char **v = xcalloc(1, sizeof *v); /* NULL-terminated even when empty */
	size_t n = 0, i;
	for (i = 0; i < json_len(arr); i++)
		if (json_str(json_at(arr, i)))
			run_strv_add(&v, &n, json_str(json_at(arr, i)));
	return v;
}

static int64_t
run_jint(const struct jv *o, const char *k)
{
	int64_t v = 0;
	json_int(json_get(o, k), &v);
	return v;
}

static int
run_jbool(const struct jv *o, const char *k)
{
	return json_type(json_get(o, k)) == JSON_TRUE;
}

/* start: the spec again, from config.json's DockSpec (written by run_record).  cfgj stays alive:
 * the spec points into it. */
int
run_from_record(struct run_ctx *c, const char *id, struct json **cfgjp, struct err *e)
{
	struct buf b = {0};
	struct json *cfgj;
	const struct jv *root, *ds, *mounts, *lim, *bps;
	size_t i;
	snprintf(c->id, sizeof c->id, "%s", id);
	if (ctr_read(&c->st, id, "config.json", &b, e) < 0 || !(cfgj = json_parse(b.p, b.len, e)))
		return -1;
	*cfgjp = cfgj;
	root = json_root(cfgj);
	ds = json_get(root, "DockSpec");
	if (!ds)
		return err_set(e, ERR_FORMAT, "container %.12s was made by an older dock and cannot be "
			       "started again", id);
	snprintf(c->name, sizeof c->name, "%s", json_getstr(root, "Name") ? json_getstr(root, "Name") : "");
	snprintf(c->image_id, sizeof c->image_id, "%s", json_getstr(root, "Image") ? json_getstr(root, "Image") : "");
	snprintf(c->hostname, sizeof c->hostname, "%s",
		 json_getstr(ds, "Hostname") ? json_getstr(ds, "Hostname") : "");
	c->a.image = json_getstr(json_get(root, "Config"), "Image");
	c->a.tty = run_jbool(ds, "Tty");
	c->a.init = run_jbool(ds, "Init");
	c->a.read_only = run_jbool(ds, "ReadOnly");
	c->a.rm = run_jbool(ds, "AutoRemove");
	c->a.privileged = run_jbool(ds, "Privileged");
	c->a.network = json_getstr(ds, "Network");
	c->a.nports = port_from_json(json_get(ds, "Ports"), c->a.ports, PORT_MAX);
	c->a.seccomp_unconfined = run_jbool(ds, "SeccompUnconfined");
	if (json_getstr(ds, "SeccompProfile") && *json_getstr(ds, "SeccompProfile"))
		c->a.seccomp_profile = json_getstr(ds, "SeccompProfile");
	c->a.restart = json_getstr(ds, "RestartPolicy");
	c->a.restart_max = (int)run_jint(ds, "RestartMax");
	c->a.interactive = run_jbool(json_get(root, "Config"), "OpenStdin");
	mounts = json_get(ds, "Mounts");
	for (i = 0; i < json_len(mounts) && i < sizeof c->a.mounts / sizeof *c->a.mounts; i++) {
		const struct jv *m = json_at(mounts, i);
		struct run_mount *rm = &c->a.mounts[c->a.nmounts++];
		const char *t = json_getstr(m, "Type"), *src = json_getstr(m, "Source"),
			   *opts = json_getstr(m, "Options");
		rm->type = t && !strcmp(t, "bind") ? RUN_MOUNT_BIND : RUN_MOUNT_TMPFS;
		rm->src = src && *src ? (char *)src : NULL;
		rm->dst = (char *)json_getstr(m, "Destination");
		rm->ro = run_jbool(m, "ReadOnly");
		rm->opts = opts && *opts ? (char *)opts : NULL;
		if (!rm->dst)
			return err_set(e, ERR_FORMAT, "container %.12s: a mount without a destination", id);
	}
	cg_limits_init(&c->a.lim);
	lim = json_get(ds, "Limits");
	if (lim) {
		c->a.lim.memory = run_jint(lim, "Memory");
		c->a.lim.memory_reservation = run_jint(lim, "MemoryReservation");
		c->a.lim.memory_swap = run_jint(lim, "MemorySwap");
		c->a.lim.cpu_quota = run_jint(lim, "CpuQuota");
		c->a.lim.cpu_period = run_jint(lim, "CpuPeriod");
		c->a.lim.cpu_shares = (uint64_t)run_jint(lim, "CpuShares");
		snprintf(c->a.lim.cpuset_cpus, sizeof c->a.lim.cpuset_cpus, "%s",
			 json_getstr(lim, "CpusetCpus") ? json_getstr(lim, "CpusetCpus") : "");
		c->a.lim.pids_limit = run_jint(lim, "PidsLimit");
		c->a.lim.blkio_weight = (uint16_t)run_jint(lim, "BlkioWeight");
		bps = json_get(lim, "DeviceBps");
		for (i = 0; i < json_len(bps) && i < sizeof c->a.lim.dev_bps / sizeof *c->a.lim.dev_bps; i++) {
			const struct jv *d = json_at(bps, i);
			int64_t v[4] = {0, 0, 0, 0};
			size_t k;
			for (k = 0; k < 4; k++)
				json_int(json_at(d, k), &v[k]);
			c->a.lim.dev_bps[i].major = (uint32_t)v[0];
			c->a.lim.dev_bps[i].minor = (uint32_t)v[1];
			c->a.lim.dev_bps[i].bps = (uint64_t)v[2];
			c->a.lim.dev_bps[i].write = (int)v[3];
			c->a.lim.ndev_bps = i + 1;
		}
		run_limits_more_parse(&c->a, lim);
	}
	run_ctx_layers(c);
	run_ctx_spec(c);
	c->s.argv = run_strv_json(json_get(ds, "Argv"));
	c->s.env = run_strv_json(json_get(ds, "Env"));
	c->s.workdir = json_getstr(ds, "WorkingDir");
	c->s.user = json_getstr(ds, "User");
	if (c->s.workdir && !*c->s.workdir)
		c->s.workdir = NULL;
	if (c->s.user && !*c->s.user)
		c->s.user = NULL;
	c->s.caps = (uint64_t)run_jint(ds, "Caps");
	c->restarting = 1;
	if (!c->s.argv[0])
		return err_set(e, ERR_FORMAT, "container %.12s: no command recorded", id);
	return 0;
}

/* ---------------------------------------------------------------- start and wait */

/* The container's state when nothing was started: a new run's record goes (--rm), or stays as
 * exited; a record being started again stays. */
static void
run_failed_state(struct run_ctx *c, int status, int usernsfd)
{
	struct err e = {0};
	if (c->a.rm && !c->restarting)
		ctr_remove(&c->st, c->id, c->name, usernsfd, &e);
	else
		ctr_set_state(&c->st, c->id, "exited", 0, status, NULL, NULL, 0, &e);
}

/* The container's interfaces (network.c), set up while its process waits to be let go, and its
 * published ports (nft.c) once it has an address. */
static int
run_net_up(struct run_ctx *c, pid_t pid, struct err *e)
{
	char ip[16];
	if (netw_attach(&c->st, c->id, pid, ip, e) < 0)
		return -1;
	if (c->a.nports && ip[0] && nft_ports_add(c->id, ip, c->a.ports, c->a.nports, e) < 0) {
		netw_detach(&c->st, c->id);
		return -1;
	}
	return 0;
}

static void
run_net_down(struct run_ctx *c)
{
	struct err e = {0};
	if (c->a.nports && nft_ports_del(c->id, &e) < 0)
		warn("%s", e.msg);
	netw_detach(&c->st, c->id);
}

/* Start the container's command: cgroup, spawn (falling back to a private copy of the image where
 * overlayfs fails), go.  0 once it runs (state "running"), else -1 with *status and the error
 * printed, everything undone. */
static int
run_launch(struct run_ctx *c, int *status)
{
	struct run_proc rp;
	struct err e = {0};
	char dir[128];
	size_t i;
	int attempt;
	if (c->a.tty)
		c->master = run_open_pty(&c->s);
	run_signals(0);
	run_seccomp(&c->a, &c->s);
	c->cg = cg_create(c->id, &c->a.lim, c->st.rootless, cli_warn, &e);
	if (!c->cg) {
		fprintf(stderr, "dock: run: %s\n", e.msg);
		if (c->restarting)
			run_failed_state(c, 125, -1);
		else
			ctr_remove(&c->st, c->id, c->name, -1, &e);
		*status = 125;
		return -1;
	}
	for (attempt = 0;; attempt++) {
		int r;
		if (c->s.copy_root) {
			/* the fallback: a private copy of the image, so the image itself never changes;
			 * a container started again keeps the copy it has */
			int dst, fresh;
			struct layer_opts lo = {0};
			snprintf(dir, sizeof dir, "containers/%s/rootfs", c->id);
			fresh = mkdirat(c->st.fd, dir, 0755) == 0;
			if (!fresh && errno != EEXIST)
				die_errno("run: mkdir %s", dir);
			dst = openat(c->st.fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			lo.rootless = c->st.rootless;
			lo.warn = cli_warn;
			for (i = 0; i < c->nl && dst >= 0 && (fresh || !c->restarting); i++) {
				int src = store_layer_open(&c->st, json_getstr(json_at(c->layers, i), "DiffID"), &e);
				if (src < 0 || layer_merge(src, dst, &lo, &e) < 0)
					die("run: copying the image: %s", e.msg);
				close(src);
			}
			if (dst < 0)
				die_errno("run: %s", dir);
			close(dst);
		}
		int inp[2] = {-1, -1};
		if (c->detach && c->master < 0) {
			/* the container's stdout and stderr are the log pipes; ours, meanwhile, too; with
			 * -i its stdin is a pipe the supervisor holds open for `dock attach` */
			dup2(c->out[1], 1);
			dup2(c->err[1], 2);
			if (c->a.interactive && pipe2(inp, O_CLOEXEC) == 0)
				dup2(inp[0], 0);
		}
		struct cg_join cj;
		cg_join_open(c->cg, &cj);
		c->s.cgjoin = &cj;
		r = run_spawn(&c->s, &rp, &e);
		c->s.cgjoin = NULL;
		cg_join_close(&cj); /* the child has its own copies */
		if (c->detach && c->master < 0) {
			int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
			dup2(nul, 1);
			dup2(c->statusfd, 2);
			if (inp[0] >= 0) {
				dup2(nul, 0);
				close(inp[0]);
				if (c->stdin_w >= 0)
					close(c->stdin_w);
				c->stdin_w = inp[1];
				fcntl(inp[1], F_SETFL, O_NONBLOCK);
			}
			close(nul);
		}
		if (r < 0) {
			rp.usernsfd = -1; /* nothing ran: the files are all ours */
			*status = 125;
		} else if (cg_join_finish(c->cg, &cj, rp.pid, &e) < 0 || (c->s.net_ns && run_net_up(c, rp.pid, &e) < 0)) {
			/* the container is not let go outside its cgroup, nor without its network */
			kill(rp.pid, SIGKILL);
			waitpid(rp.pid, NULL, 0);
			*status = 125;
		} else {
			run_fg_pid = rp.pid;
			if (run_go(&rp, status, &e) == 0)
				break;
			if (c->s.net_ns)
				run_net_down(c);
		}
		if (!c->s.copy_root && attempt == 0 && strstr(e.msg, "mount overlay")) {
			warn("overlayfs is not available here (%s); using a private copy of the image", e.msg);
			c->s.copy_root = 1;
			if (rp.usernsfd >= 0)
				close(rp.usernsfd);
			continue;
		}
		fprintf(stderr, "dock: run: %s\n", e.msg);
		cg_destroy(c->cg, &e);
		cg_free(c->cg);
		c->cg = NULL;
		run_failed_state(c, *status, rp.usernsfd);
		return -1;
	}
	c->pid = rp.pid;
	c->usernsfd = rp.usernsfd;
	ctr_now(c->started, sizeof c->started);
	{
		struct ctr_state cs;
		memset(&cs, 0, sizeof cs);
		cs.status = "running";
		cs.pid = rp.pid;
		cs.sup_pid = getpid();
		cs.started = c->started;
		cs.restart_count = c->restart_count;
		if (ctr_state_write(&c->st, c->id, &cs, &e) < 0)
			warn("%s", e.msg);
	}
	if (c->master >= 0) {
		close(c->s.pty_slave);
		c->s.pty_slave = -1;
	}
	/* the layers are mounted: the store's shared lock was for setting up, and holding it while
	 * the container runs would make rmi and prune wait for every container to end (rmi refuses
	 * images that containers use instead) */
	if (c->st.lockfd >= 0) {
		close(c->st.lockfd);
		c->st.lockfd = -1;
	}
	return 0;
}

/* A disk filesystem frees a removed file's blocks when its inode goes, and ext4 mounted with
 * `discard` (without a journal, as here) sends the discards there and then: --rm would wait for
 * one per file and directory of the container.  So a child opens everything in the container's
 * directory (O_PATH: up to a few hundred), says so, and holds it until we exit; the removal only
 * unlinks, and the blocks go when the child exits, with no one waiting.  Nothing is left in the
 * store meanwhile: the names are gone, only the inodes live on.  Returns the pipe that keeps the
 * child (-1: none, on tmpfs or when it could not start). */
static int
run_hold_files(struct run_ctx *c)
{
	struct statfs sf;
	int ready[2], hold[2], nul;
	char dir[128], x;
	pid_t pid;
	if (fstatfs(c->st.fd, &sf) < 0 || sf.f_type == 0x01021994 /* TMPFS_MAGIC */)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fds[512], n = 0, top, i, keep[3] = {c->st.fd, ready[1], hold[0]}, k, j, from = 3;
		/* nothing else of ours stays open (a pty master, the caller's descriptors) */
		for (k = 0; k < 3; k++)
			for (j = k + 1; j < 3; j++)
				if (keep[j] < keep[k])
					i = keep[k], keep[k] = keep[j], keep[j] = i;
		for (k = 0; k <= 3; k++) {
			unsigned last = k < 3 ? (unsigned)keep[k] - 1 : ~0U;
			if (k < 3 && keep[k] < from)
				continue;
			if (last >= (unsigned)from && syscall(SYS_close_range, from, last, 0) < 0)
				for (i = from; i <= (int)(last > 4096 ? 4096 : last); i++)
					close(i);
			if (k < 3)
				from = keep[k] + 1;
		}
		run_fg_pid = 0; /* no signal of ours goes on to a PID that may be someone else's now */
		run_fg_master = -1;
		snprintf(dir, sizeof dir, "containers/%s", c->id);
		top = openat(c->st.fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* the caller's stdio is not ours to keep open (`$(dock run --rm ...)` waits for it) */
		nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		for (i = 0; i < 3 && nul >= 0; i++)
			dup2(nul, i);
		if (top >= 0)
			fds[n++] = top;
		/* breadth-first: fds[] is also the queue of directories still to read */
		for (i = 0; i < n; i++) {
			DIR *d;
			struct dirent *de;
			int dfd = openat(fds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0 || !(d = fdopendir(dfd))) {
				if (dfd >= 0)
					close(dfd);
				continue;
			}
			while (n < (int)(sizeof fds / sizeof *fds) && (de = readdir(d))) {
				int f;
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				f = openat(fds[i], de->d_name,
					   (de->d_type == DT_DIR ? O_RDONLY | O_DIRECTORY : O_PATH) |
						   O_NOFOLLOW | O_CLOEXEC);
				if (f >= 0)
					fds[n++] = f;
			}
			closedir(d);
		}
		close(ready[0]);
		close(hold[1]);
		if (write(ready[1], "h", 1) < 0)
			_exit(0);
		close(ready[1]);
		while (read(hold[0], &x, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid < 0 || read(ready[0], &x, 1) != 1) {
		close(ready[0]);
		close(hold[1]);
		return -1;
	}
	close(ready[0]);
	return hold[1];
}

/* Wait for the container; no process of it outlives this.  Returns its status; *oom: the OOM
 * killer acted in it. */
static int
run_wait_end(struct run_ctx *c, int *oom)
{
	struct err e = {0};
	int wstatus, status;
	while (waitpid(c->pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			wstatus = 0;
			break;
		}
	}
	run_fg_pid = 0; /* reaped: its PID may be reused, signals stop here */
	run_restore_tty();
	run_tio_saved = 0;
	status = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
	/* read before the cgroup goes */
	*oom = cg_oom_killed(c->cg);
	if (cg_kill_all(c->cg, SIGKILL, &e) < 0 && e.sys != EOPNOTSUPP)
		warn("%s", e.msg);
	if (cg_destroy(c->cg, &e) < 0)
		warn("%s", e.msg);
	cg_free(c->cg);
	c->cg = NULL;
	if (c->s.net_ns)
		run_net_down(c);
	return status;
}

static void run_clients_exit(int status);

/* Record the end: exited, or gone with --rm.  A supervisor records the exit code first (state.json,
 * then exits/ID for a `dock wait` that comes after the record went), then removes the record. */
static void
run_record_end(struct run_ctx *c, int status, int oom)
{
	struct err e = {0};
	struct ctr_state cs;
	char finished[64];
	if (c->a.rm && !c->detach) {
		/* the foreground only (a supervisor has no one waiting for it); the pipe closes
		 * when we exit, and the child with it */
		run_hold_files(c);
		if (ctr_remove(&c->st, c->id, c->name, c->usernsfd, &e) < 0)
			warn("%s", e.msg);
		return;
	}
	ctr_now(finished, sizeof finished);
	memset(&cs, 0, sizeof cs);
	cs.status = "exited";
	cs.exit_code = status;
	cs.oom_killed = oom;
	cs.started = c->started;
	cs.finished = finished;
	cs.restart_count = c->restart_count;
	if (ctr_state_write(&c->st, c->id, &cs, &e) < 0)
		warn("%s", e.msg);
	if (c->detach)
		run_clients_exit(status);
	if (!c->a.rm)
		return;
	/* a `dock wait` that comes after the record went still gets the code */
	ctr_exit_note(&c->st, c->id, c->name, status);
	if (ctr_remove(&c->st, c->id, c->name, c->usernsfd, &e) < 0)
		warn("%s", e.msg);
}

/* Wait for the container and record how it ended. */
static int
run_reap(struct run_ctx *c)
{
	int oom, status = run_wait_end(c, &oom);
	run_record_end(c, status, oom);
	return status;
}

/* ---------------------------------------------------------------- the supervisor's log */

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define RUN_LOG_MAX (10 << 20) /* container.log is rotated to container.log.1 past this */
#define RUN_LOG_LINE 16384     /* longer lines are logged in pieces, as Docker does */

struct run_log {
	struct store *st;
	const char *id;
	int fd;
	int64_t size;
	struct buf line;         /* one JSON entry, reused */
};

struct run_stream {
	int fd;
	const char *name;        /* "stdout" or "stderr" */
	char buf[RUN_LOG_LINE];
	size_t len;
};

static int
run_log_open(struct run_log *l, int trunc)
{
	char path[200];
	struct stat sb;
	snprintf(path, sizeof path, "containers/%s/container.log", l->id);
	l->fd = openat(l->st->fd, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (trunc ? O_TRUNC : 0),
		       0640);
	l->size = l->fd >= 0 && fstat(l->fd, &sb) == 0 ? (int64_t)sb.st_size : 0;
	return l->fd;
}

static void
run_log_entry(struct run_log *l, const char *stream, const char *p, size_t n)
{
	char now[64];
	struct jw w;
	if (l->fd < 0)
		return;
	ctr_now(now, sizeof now);
	buf_reset(&l->line);
	jw_init(&w, &l->line, 0);
	jw_obj(&w);
	jw_key(&w, "log");
	jw_strn(&w, p, n);
	jw_key(&w, "stream");
	jw_str(&w, stream);
	jw_key(&w, "time");
	jw_str(&w, now);
	jw_obj_end(&w);
	buf_addc(&l->line, '\n');
	if (l->size > 0 && l->size + (int64_t)l->line.len > RUN_LOG_MAX) {
		char from[200], to[200];
		snprintf(from, sizeof from, "containers/%s/container.log", l->id);
		snprintf(to, sizeof to, "containers/%s/container.log.1", l->id);
		close(l->fd);
		renameat(l->st->fd, from, l->st->fd, to);
		if (run_log_open(l, 1) < 0)
			return;
	}
	if (write_all(l->fd, l->line.p, l->line.len) == 0)
		l->size += (int64_t)l->line.len;
}

/* Whole lines go out as entries; a line longer than the buffer in pieces; at EOF the rest. */
static void
run_stream_feed(struct run_log *l, struct run_stream *s, const char *p, size_t n)
{
	while (n) {
		size_t take = sizeof s->buf - s->len < n ? sizeof s->buf - s->len : n;
		size_t start = 0, i;
		memcpy(s->buf + s->len, p, take);
		s->len += take;
		p += take;
		n -= take;
		for (i = 0; i < s->len; i++) {
			if (s->buf[i] == '\n') {
				run_log_entry(l, s->name, s->buf + start, i + 1 - start);
				start = i + 1;
			}
		}
		if (start == 0 && s->len == sizeof s->buf) {
			run_log_entry(l, s->name, s->buf, s->len);
			start = s->len;
		}
		memmove(s->buf, s->buf + start, s->len - start);
		s->len -= start;
	}
}

static void
run_stream_end(struct run_log *l, struct run_stream *s)
{
	if (s->len)
		run_log_entry(l, s->name, s->buf, s->len);
	s->len = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* ---------------------------------------------------------------- attach: the supervisor's side */

/* containers/ID/attach.sock, served by the supervisor while the container runs (`dock attach`,
 * `dock start -a`).  Frames both ways: a type byte, a 3-byte big-endian length, the payload.
 * Client to supervisor: 'H' hello [want stdin, stdin once] first, then 'I' input, 'E' end of
 * input (with "once": the container's stdin is closed), 'W' window size [rows, cols as 2-byte
 * big-endian], 'S' a signal [number] for the container's PID 1.  Supervisor to client: 'O' stdout,
 * 'R' stderr (a terminal's output is all 'O'), 'X' exit [4-byte big-endian status], then close. */
#define RUN_MAX_CLIENTS 8

struct run_client {
	int fd;                  /* -1: a free slot */
	int hello, want_in, once;
};
static struct run_client run_clients[RUN_MAX_CLIENTS];
static int run_listen_fd = -1;
static char run_inbuf[RUN_FRAME_MAX]; /* input not yet taken by the container */
static size_t run_inlen;

static int
run_read_full(int fd, void *p, size_t n)
{
	char *q = p;
	while (n) {
		ssize_t r = read(fd, q, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One frame to fd; blocking, with the socket's send timeout. */
int
run_frame_send(int fd, int type, const void *p, size_t n)
{
	unsigned char h[4];
	h[0] = (unsigned char)type;
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
	if (write_all(fd, (const char *)h, 4) < 0)
		return -1;
	return n ? write_all(fd, p, n) : 0;
}

/* One frame from fd into p (at most RUN_FRAME_MAX): its type, or -1 at EOF or on a bad frame. */
int
run_frame_read(int fd, char *p, size_t *n)
{
	unsigned char h[4];
	if (run_read_full(fd, h, 4) < 0)
		return -1;
	*n = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	if (*n > RUN_FRAME_MAX || (*n && run_read_full(fd, p, *n) < 0))
		return -1;
	return h[0];
}

static void
run_client_drop(struct run_client *cl)
{
	close(cl->fd);
	cl->fd = -1;
}

static void
run_client_add(int fd)
{
	size_t i;
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	for (i = 0; i < RUN_MAX_CLIENTS; i++)
		if (run_clients[i].fd < 0) {
			memset(&run_clients[i], 0, sizeof run_clients[i]);
			run_clients[i].fd = fd;
			return;
		}
	close(fd); /* full */
}

static void
run_clients_init(void)
{
	size_t i;
	for (i = 0; i < RUN_MAX_CLIENTS; i++)
		run_clients[i].fd = -1;
}

/* Bind containers/ID/attach.sock (through /proc/self/fd: a store's path can be longer than a
 * socket's).  Failure only costs attach. */
static void
run_attach_listen(struct run_ctx *c)
{
	struct sockaddr_un sa;
	char dir[128];
	int dfd, fd;
	snprintf(dir, sizeof dir, "containers/%s", c->id);
	if ((dfd = openat(c->st.fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	unlinkat(dfd, "attach.sock", 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach.sock", dfd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0)) {
		close(fd);
		fd = -1;
	}
	close(dfd);
	run_listen_fd = fd;
}

/* Output to every client that said hello. */
static void
run_clients_out(int type, const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < RUN_MAX_CLIENTS; i++)
		if (run_clients[i].fd >= 0 && run_clients[i].hello &&
		    run_frame_send(run_clients[i].fd, type, p, n) < 0)
			run_client_drop(&run_clients[i]);
}

/* The container's end to every client, then goodbye. */
static void
run_clients_exit(int status)
{
	unsigned char x[4] = {(unsigned char)(status >> 24), (unsigned char)(status >> 16),
			      (unsigned char)(status >> 8), (unsigned char)status};
	size_t i;
	for (i = 0; i < RUN_MAX_CLIENTS; i++)
		if (run_clients[i].fd >= 0) {
			if (run_clients[i].hello)
				run_frame_send(run_clients[i].fd, 'X', x, 4);
			run_client_drop(&run_clients[i]);
		}
}

/* Where input goes: the pty, or the stdin pipe of a container run with -i. */
static int
run_input_fd(struct run_ctx *c)
{
	return c->master >= 0 ? c->master : c->stdin_w;
}

/* A frame from client cl. */
static void
run_client_in(struct run_ctx *c, struct run_client *cl)
{
	static char p[RUN_FRAME_MAX];
	size_t n;
	int type = run_frame_read(cl->fd, p, &n), in = run_input_fd(c);
	switch (type) {
	case 'H':
		cl->hello = 1;
		cl->want_in = n >= 1 && p[0];
		cl->once = n >= 2 && p[1];
		break;
	case 'I':
		if (cl->want_in && in >= 0 && n <= sizeof run_inbuf - run_inlen) {
			memcpy(run_inbuf + run_inlen, p, n);
			run_inlen += n;
		}
		break;
	case 'E':
		if (cl->want_in && cl->once && c->master < 0 && c->stdin_w >= 0 && !run_inlen) {
			close(c->stdin_w);
			c->stdin_w = -1;
		} else if (cl->want_in && cl->once && c->master >= 0) {
			run_inbuf[run_inlen++] = 4; /* ^D: end of input to the terminal */
		}
		cl->want_in = 0;
		break;
	case 'W':
		if (c->master >= 0 && n >= 4) {
			struct winsize ws;
			memset(&ws, 0, sizeof ws);
			ws.ws_row = (unsigned short)((unsigned char)p[0] << 8 | (unsigned char)p[1]);
			ws.ws_col = (unsigned short)((unsigned char)p[2] << 8 | (unsigned char)p[3]);
			ioctl(c->master, TIOCSWINSZ, &ws);
		}
		break;
	case 'S':
		if (n >= 1 && p[0] > 0 && p[0] < 65)
			kill(c->pid, p[0]);
		break;
	default:
		run_client_drop(cl);
	}
}

/* Read 0, 1 or 2 output streams into the log (and to attached clients) until they end, or the
 * container has exited and what it left in them is read; meanwhile serve attach.sock. */
static void
run_log_loop(struct run_ctx *c)
{
	static struct run_stream ss[2];
	struct run_log l;
	char buf[16384];
	int exited = 0, k;
	/* the container's exit wakes the loop at once, even while something it left holds the pipes
	 * (a shell's background job); without pidfds, a 200 ms poll finds it */
	int pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	memset(&l, 0, sizeof l);
	l.st = &c->st;
	l.id = c->id;
	run_log_open(&l, 0);
	ss[0].fd = c->master >= 0 ? c->master : c->out[0];
	ss[0].name = "stdout";
	ss[1].fd = c->master >= 0 ? -1 : c->err[0];
	ss[1].name = "stderr";
	ss[0].len = ss[1].len = 0;
	for (;;) {
		struct pollfd p[4 + RUN_MAX_CLIENTS];
		struct run_client *pc[4 + RUN_MAX_CLIENTS];
		nfds_t np = 0, ns, pp = 0, pl = 0, pi = 0, pcs = 0, i;
		int idx[2], r, in = run_input_fd(c);
		for (k = 0; k < 2; k++)
			if (ss[k].fd >= 0) {
				p[np].fd = ss[k].fd;
				p[np].events = POLLIN;
				idx[np++] = k;
			}
		if (!np)
			break;
		ns = np;
		if (pidfd >= 0 && !exited) {
			pp = np;
			p[np].fd = pidfd;
			p[np++].events = POLLIN;
		}
		if (run_inlen && in >= 0) { /* input waits for the container to take it */
			pi = np;
			p[np].fd = in;
			p[np++].events = POLLOUT;
		} else if (!exited) {
			if (run_listen_fd >= 0) {
				pl = np;
				p[np].fd = run_listen_fd;
				p[np++].events = POLLIN;
			}
			pcs = np;
			for (k = 0; k < RUN_MAX_CLIENTS; k++)
				if (run_clients[k].fd >= 0) {
					pc[np] = &run_clients[k];
					p[np].fd = run_clients[k].fd;
					p[np++].events = POLLIN;
				}
		}
		r = poll(p, np, exited ? 0 : 200);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && exited)
			break; /* exited and drained: a process it left holding the pipe is not waited for */
		if (r > 0 && pp && (p[pp].revents & POLLIN))
			exited = 1; /* a pidfd is readable once its process has exited */
		if (r > 0 && pi && (p[pi].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in, run_inbuf, run_inlen);
			if (w > 0) {
				memmove(run_inbuf, run_inbuf + w, run_inlen - (size_t)w);
				run_inlen -= (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				run_inlen = 0; /* nobody reads it any more */
			}
		}
		if (r > 0 && pl && (p[pl].revents & POLLIN)) {
			int fd = accept4(run_listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				run_client_add(fd);
		}
		for (i = pcs ? pcs : np; r > 0 && i < np; i++)
			if (p[i].revents && pc[i]->fd == p[i].fd)
				run_client_in(c, pc[i]);
		for (k = 0; r > 0 && k < (int)ns; k++) {
			struct run_stream *s = &ss[idx[k]];
			ssize_t n;
			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(s->fd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) { /* EOF, or EIO from a pty whose slave is gone */
				run_stream_end(&l, s);
			} else {
				run_stream_feed(&l, s, buf, (size_t)n);
				run_clients_out(s == &ss[1] ? 'R' : 'O', buf, (size_t)n);
			}
		}
		if (r == 0 && !exited) {
			siginfo_t si;
			memset(&si, 0, sizeof si);
			if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == c->pid)
				exited = 1;
		}
	}
	for (k = 0; k < 2; k++)
		run_stream_end(&l, &ss[k]);
	if (pidfd >= 0)
		close(pidfd);
	if (l.fd >= 0)
		close(l.fd);
	if (c->stdin_w >= 0) {
		close(c->stdin_w);
		c->stdin_w = -1;
	}
	run_inlen = 0;
	buf_free(&l.line);
	c->master = -1;
}

/* ---------------------------------------------------------------- the supervisor */

/* Docker's backoff between restarts, shortened: 100 ms doubling up to 10 s (Docker: up to 1
 * minute), back to 100 ms after a run of 10 s or more. */
#define RUN_BACKOFF_MIN_MS 100
#define RUN_BACKOFF_MAX_MS 10000
#define RUN_BACKOFF_RESET_NS (10LL * 1000000000)

/* Has stop, kill or rm asked for the container's end (state.json's StopRequested)? */
static int
run_stop_requested(struct run_ctx *c)
{
	struct ctr_info info;
	struct ctr_state cs;
	struct err e = {0};
	int r;
	if (ctr_load(&c->st, c->id, &info, &e) < 0)
		return 1; /* gone: nothing to restart */
	ctr_state_of(&info, &cs);
	r = cs.stop_requested;
	ctr_info_free(&info);
	return r;
}

/* The restart policy's answer for an exit with status.  Caller holds the container's lock. */
static int
run_should_restart(struct run_ctx *c, int status)
{
	const char *p = c->a.restart;
	if (!p || !strcmp(p, "no") || run_stop_requested(c))
		return 0;
	if (!strcmp(p, "on-failure"))
		return status != 0 && (c->a.restart_max <= 0 || c->restart_count < c->a.restart_max);
	return 1; /* always, unless-stopped: the same while no daemon restarts */
}

/* The supervisor, once the container runs: log its output, record its end, and start it again as
 * --restart says while nobody asked it to stop. */
static void
run_supervise(struct run_ctx *c)
{
	int backoff = RUN_BACKOFF_MIN_MS;
	for (;;) {
		struct err e = {0};
		struct ctr_state cs;
		char finished[64];
		int64_t began = now_ns();
		int status, oom, lk, waited, launched;
		run_log_loop(c);
		status = run_wait_end(c, &oom);
		lk = ctr_lock(&c->st, c->id, &e);
		if (lk < 0)
			return; /* removed meanwhile */
		if (!run_should_restart(c, status)) {
			run_record_end(c, status, oom);
			close(lk);
			return;
		}
		if (now_ns() - began >= RUN_BACKOFF_RESET_NS)
			backoff = RUN_BACKOFF_MIN_MS;
		ctr_now(finished, sizeof finished);
		memset(&cs, 0, sizeof cs);
		cs.status = "restarting";
		cs.sup_pid = getpid();
		cs.exit_code = status;
		cs.oom_killed = oom;
		cs.started = c->started;
		cs.finished = finished;
		cs.restart_count = c->restart_count;
		if (ctr_state_write(&c->st, c->id, &cs, &e) < 0)
			warn("%s", e.msg);
		close(lk);
		run_clients_exit(status);
		for (waited = 0; waited < backoff && !run_stop_requested(c); waited += 20)
			usleep(20000);
		backoff = backoff * 2 > RUN_BACKOFF_MAX_MS ? RUN_BACKOFF_MAX_MS : backoff * 2;
		if ((lk = ctr_lock(&c->st, c->id, &e)) < 0)
			return;
		if (run_stop_requested(c)) {
			cs.stop_requested = 0;
			cs.status = "exited";
			cs.sup_pid = 0;
			if (ctr_state_write(&c->st, c->id, &cs, &e) < 0)
				warn("%s", e.msg);
			close(lk);
			return;
		}
		c->restart_count++;
		c->restarting = 1;
		if (!c->a.tty && (pipe2(c->out, O_CLOEXEC) < 0 || pipe2(c->err, O_CLOEXEC) < 0)) {
			close(lk);
			return;
		}
		launched = run_launch(c, &status) == 0;
		if (c->out[1] >= 0) {
			close(c->out[1]);
			close(c->err[1]);
			c->out[1] = c->err[1] = -1;
		}
		close(lk);
		if (!launched)
			return; /* run_launch recorded it as exited */
	}
}

/* ---------------------------------------------------------------- detached */

/* Fork the supervisor: it starts the container, tells us over a pipe (EOF alone: it runs; else
 * the error, as the foreground prints it, and its exit status), logs its output, and records its
 * end.  Returns 0 once the command runs, else the status to exit with. */
int
run_detached(struct run_ctx *c)
{
	int sp[2], wstatus;
	pid_t pid;
	char msg[4096];
	size_t got = 0;
	if (pipe2(sp, O_CLOEXEC) < 0)
		die_errno("run: pipe");
	if (!c->a.tty && (pipe2(c->out, O_CLOEXEC) < 0 || pipe2(c->err, O_CLOEXEC) < 0))
		die_errno("run: pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno("run: fork");
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC), fd, status = 0;
		close(sp[0]);
		setsid();
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(sp[1], 2);
		/* nothing of the caller's stays open here, or whoever reads its output would wait for
		 * the container's end */
		for (fd = 3; fd < 1024; fd++)
			if (fd != sp[1] && fd != c->st.fd && fd != c->st.lockfd && fd != c->st.tmpfd &&
			    fd != c->out[0] && fd != c->out[1] && fd != c->err[0] && fd != c->err[1] &&
			    fd != nul && fd != c->ctr_lockfd && fd != c->attach_fd)
				close(fd);
		c->statusfd = sp[1];
		c->detach = 1;
		{
			/* the container starts with default dispositions whatever the caller ignored
			 * (a shell's background job ignores SIGINT, and a shell that starts with a
			 * signal ignored cannot trap it); our writes to a gone reader get EPIPE from a
			 * blocked SIGPIPE, which the container's setup unblocks */
			sigset_t pipe_set;
			int sig;
			for (sig = 1; sig < 32; sig++) {
				struct sigaction old;
				if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &old) == 0 &&
				    old.sa_handler == SIG_IGN)
					signal(sig, SIG_DFL);
			}
			sigemptyset(&pipe_set);
			sigaddset(&pipe_set, SIGPIPE);
			sigprocmask(SIG_BLOCK, &pipe_set, NULL);
		}
		run_clients_init();
		run_attach_listen(c);
		if (c->attach_fd >= 0) /* dock start -a: attached before anything runs */
			run_client_add(c->attach_fd);
		if (run_launch(c, &status) < 0)
			_exit(status);
		if (c->ctr_lockfd >= 0) { /* the starter's lock: it runs, the rest is ours */
			close(c->ctr_lockfd);
			c->ctr_lockfd = -1;
		}
		if (c->out[1] >= 0) {
			close(c->out[1]);
			close(c->err[1]);
			c->out[1] = c->err[1] = -1;
		}
		/* a NUL ends what we said: the command runs (warnings may come before it) */
		if (write(sp[1], "", 1) < 0)
			_exit(125);
		dup2(nul, 2);
		close(sp[1]);
		c->statusfd = nul; /* where a restart's errors go */
		run_supervise(c);
		_exit(0);
	}
	close(sp[1]);
	if (c->attach_fd >= 0) {
		close(c->attach_fd);
		c->attach_fd = -1;
	}
	if (c->out[0] >= 0) {
		close(c->out[0]);
		close(c->out[1]);
		close(c->err[0]);
		close(c->err[1]);
	}
	for (;;) {
		ssize_t n = read(sp[0], msg + got, sizeof msg - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof msg - 1)
			break;
	}
	close(sp[0]);
	msg[got] = 0;
	if (got && memchr(msg, 0, got)) {
		fputs(msg, stderr);
		return 0;
	}
	if (got)
		fputs(msg, stderr);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus))
		return WEXITSTATUS(wstatus);
	if (!got)
		fprintf(stderr, "dock: run: the container's supervisor failed\n");
	return 125;
}

/* ---------------------------------------------------------------- run, create */

int
cmd_run(int argc, char **argv)
{
	struct run_ctx c;
	int status = 0;
	die_status = 125;
	run_ctx_init(&c);
	run_prepare(&c, argc, argv);
	if (c.detach) {
		status = run_detached(&c);
		if (!status)
			printf("%s\n", c.id);
		store_close(&c.st);
		return status;
	}
	if (run_launch(&c, &status) < 0) {
		store_close(&c.st);
		return status;
	}
	run_signals(1);
	if (c.master >= 0) {
		run_fg_master = c.master;
		if (c.a.interactive && isatty(0) && tcgetattr(0, &run_saved_tio) == 0) {
			struct termios raw = run_saved_tio;
			cfmakeraw(&raw);
			run_tio_saved = 1;
			atexit(run_restore_tty);
			tcsetattr(0, TCSADRAIN, &raw);
		}
		run_relay(c.master, c.a.interactive, c.pid);
	}
	status = run_reap(&c);
	store_close(&c.st);
	return status;
}

int
cmd_create(int argc, char **argv)
{
	struct run_ctx c;
	struct err e = {0};
	die_status = 125;
	run_ctx_init(&c);
	run_prepare(&c, argc, argv);
	if (ctr_set_state(&c.st, c.id, "created", 0, 0, NULL, NULL, 0, &e) < 0)
		die("create: %s", e.msg);
	printf("%s\n", c.id);
	store_close(&c.st);
	return 0;
}
