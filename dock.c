/* dock.c: the one translation unit.  main(), global options, the command table, and the modules of
 * src/ included in dependency order (a unity build, like Lua's onelua.c). */
#include "dock.h"

#include "src/util.c"
#include "src/sha256.c"
#include "src/json.c"
#include "src/seccomp.c"
#include "src/confine.c"
#include "src/ref.c"
#include "src/inflate.c"
#include "src/tar.c"
#include "src/layer.c"
#include "src/tree.c"
#include "src/net.c"
#include "src/netlink.c"
#include "src/nft.c"
#include "src/tls.c"
#include "src/http.c"
#include "src/auth.c"
#include "src/store.c"
#include "src/registry.c"
#include "src/format.c"
#include "src/cli.c"
#include "src/login.c"
#include "src/pull.c"
#include "src/images.c"
#include "src/user.c"
#include "src/cgroup.c"
#include "src/container.c"
#include "src/network.c"
#include "src/run.c"
#include "src/runcmd.c"
#include "src/info.c"
#include "src/ps.c"
#include "src/stats.c"
#include "src/lifecycle.c"
#include "src/tarw.c"
#include "src/exec.c"
#include "src/cp.c"
#include "src/system.c"

/* ---------------------------------------------------------------- global options */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct cmd commands[] = {
	{"run", cmd_run, "Create and run a container from an image"},
	{"pull", cmd_pull, "Download an image from a registry"},
	{"info", cmd_info, "Show what this machine offers and what dock will use"},
	{"images", cmd_images, "List images"},
	{"rmi", cmd_rmi, "Remove images"},
	{"image", cmd_image, "Manage images (inspect, ls, pull, rm)"},
	{"create", cmd_create, "Create a container without starting it"},
	{"start", cmd_start, "Start created or stopped containers"},
	{"stop", cmd_stop, "Stop running containers"},
	{"restart", cmd_restart, "Restart containers"},
	{"kill", cmd_kill, "Send a signal to running containers"},
	{"wait", cmd_wait, "Wait for containers to stop and print their exit codes"},
	{"logs", cmd_logs, "Print a container's output"},
	{"ps", cmd_ps, "List containers"},
	{"exec", cmd_exec, "Execute a command in a running container"},
	{"top", cmd_top, "Display the running processes of a container"},
	{"stats", cmd_stats, "Display a live stream of containers' resource usage"},
	{"cp", cmd_cp, "Copy files between a container and the host"},
	{"port", cmd_port, "List a container's published ports"},
	{"export", cmd_export, "Write a running container's filesystem as a tar archive"},
	{"pause", cmd_pause, "Pause all processes within containers"},
	{"unpause", cmd_unpause, "Unpause all processes within containers"},
	{"rename", cmd_rename, "Rename a container"},
	{"attach", cmd_attach, "Attach to a running container's input and output"},
	{"rm", cmd_rm, "Remove containers"},
	{"container", cmd_container, "Manage containers (inspect, ls, prune, rm, run)"},
	{"inspect", cmd_inspect, "Show low-level information on containers and images"},
	{"network", cmd_network, "Manage networks (create, ls, inspect, rm, connect, disconnect, prune)"},
	{"system", cmd_system, "Manage dock (check, df, prune)"},
	{"unpack", cmd_unpack, "Write an image's root filesystem into a directory"},
	{"login", cmd_login, "Log in to a registry"},
	{"logout", cmd_logout, "Log out from a registry"},
	{"version", cmd_version, "Show the dock and BearSSL versions"},
	{"help", cmd_help, "Show this help"},
	{NULL, NULL, NULL},
};

static void
usage(FILE *f)
{
	const struct cmd *c;
	fprintf(f, "Usage: dock [OPTIONS] COMMAND [ARG...]\n\n"
		   "Pull and run OCI and Docker images with no daemon.\n\n"
		   "Global options (each also has an environment variable):\n"
		   "  --root DIR                 store directory (DOCK_ROOT; /var/lib/dock as root,\n"
		   "                             $XDG_DATA_HOME/dock otherwise)\n"
		   "  --ca-file FILE             trust this CA certificate too (DOCK_CA_FILE)\n"
		   "  --certs-dir DIR            per-registry CA directories HOST:PORT/*.crt\n"
		   "                             (DOCK_CERTS_DIR; default /etc/docker/certs.d and\n"
		   "                             /etc/dock/certs.d)\n"
		   "  --insecure-registry HOST   no TLS verification (or plain HTTP) for HOST\n"
		   "                             (DOCK_INSECURE_REGISTRY, comma-separated)\n"
		   "  --dns IP                   name server when /etc/resolv.conf is missing (DOCK_DNS)\n"
		   "  -v, --version              print version information\n\n"
		   "Commands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'dock COMMAND --help' for more information on a command.\n");
}

static int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("dock version %s\nBearSSL 0.6 (Debian 0.6+dfsg.1-3)\nsha256: %s\n", DOCK_VERSION,
	       sha256_impl());
	return 0;
}

static int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL if argv[*i] is not opt. */
static const char *
opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);
	if (strncmp(argv[*i], opt, n)) /* NOLINT(clang-analyzer-core.NonNullParamChecker): i < argc */
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc)
		die("option %s needs a value", opt);
	return argv[++*i];
}

static void
add_insecure(const char *list)
{
	/* never freed: opt_insecure points into it for the process's life */
	char *copy = xstrdup(list), *save = NULL, *tok;
	size_t n = 0;
	while (opt_insecure[n])
		n++;
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (n + 1 >= sizeof opt_insecure / sizeof *opt_insecure)
			die("too many insecure registries");
		opt_insecure[n++] = tok;
	}
}

static void
env_options(void)
{
	const char *v;
	opt_root = getenv("DOCK_ROOT");
	opt_ca_file = getenv("DOCK_CA_FILE");
	opt_certs_dir = getenv("DOCK_CERTS_DIR");
	opt_dns = getenv("DOCK_DNS");
	if ((v = getenv("DOCK_INSECURE_REGISTRY")) && *v)
		add_insecure(v);
}

int
main(int argc, char **argv)
{
	const struct cmd *c;
	const char *v;
	int i = 1;
	env_options();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cmd_help(0, NULL);
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v"))
			return cmd_version(0, NULL);
		if ((v = opt_value(argc, argv, &i, "--root")))
			opt_root = v;
		else if ((v = opt_value(argc, argv, &i, "--ca-file")))
			opt_ca_file = v;
		else if ((v = opt_value(argc, argv, &i, "--certs-dir")))
			opt_certs_dir = v;
		else if ((v = opt_value(argc, argv, &i, "--dns")))
			opt_dns = v;
		else if ((v = opt_value(argc, argv, &i, "--insecure-registry")))
			add_insecure(v);
		else
			die("unknown option: %s (see 'dock --help')", argv[i]);
	}
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[i])) {
			/* the commands that enter a container run from a sealed copy of dock (confine.c) */
			static const char *const enter[] = {"run", "start", "restart", "exec", "cp",
							    "export", "container", NULL};
			struct err e = {0};
			size_t k;
			for (k = 0; enter[k]; k++)
				if (!strcmp(enter[k], c->name) && confine_sealed_self(argv, &e) < 0) {
					die_status = 125;
					die("%s", e.msg);
				}
			return c->fn(argc - i, argv + i);
		}
	die("'%s' is not a dock command (see 'dock --help')", argv[i]);
}
