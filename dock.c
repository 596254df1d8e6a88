/* dock.c: the one translation unit.  main(), global options, the command table, and the modules of
 * src/ included in dependency order (a unity build, like Lua's onelua.c). */
#include "dock.h"

#include "src/util.c"
#include "src/sha256.c"
#include "src/json.c"
#include "src/ref.c"
#include "src/inflate.c"
#include "src/tar.c"
#include "src/layer.c"
#include "src/net.c"
#include "src/tls.c"
#include "src/http.c"
#include "src/auth.c"

/* ---------------------------------------------------------------- global options */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct cmd commands[] = {
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

int
main(int argc, char **argv)
{
	const struct cmd *c;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cmd_help(0, NULL);
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v"))
			return cmd_version(0, NULL);
		die("unknown option: %s (see 'dock --help')", argv[i]);
	}
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[i]))
			return c->fn(argc - i, argv + i);
	die("'%s' is not a dock command (see 'dock --help')", argv[i]);
}
