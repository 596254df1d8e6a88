/* system.c: `dock system`, commands about the store as a whole.  `check` verifies it (the work is
 * store_check's) and prints one line per problem. */

/* ---------------------------------------------------------------- check */

static void
sys_check_line(void *ctx, const char *line, int repaired)
{
	(void)ctx;
	printf("%s%s\n", repaired ? "removed: " : "damaged: ", line);
}

static const char sys_check_usage[] =
	"Usage: dock system check [--repair]\n\n"
	"Verify the store: every blob against its digest, every layer's shape, every record and\n"
	"what it refers to, and leftovers of interrupted commands.  One line per problem; exits 1\n"
	"when something is damaged (with --repair: when something could not be removed).\n\n"
	"Options:\n"
	"      --repair   remove what is damaged, and the images that need it\n";

static int
sys_check(int argc, char **argv)
{
	struct store st;
	struct store_check c;
	struct err e = {0};
	int i;
	memset(&c, 0, sizeof c);
	cli_help_exit(argc, argv, sys_check_usage);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repair"))
			c.repair = 1;
		else
			die("system check: unknown argument %s (see 'dock system check --help')", argv[i]);
	}
	c.report = sys_check_line;
	cli_store(&st);
	if (store_check(&st, &c, &e) < 0)
		die("system check: %s", e.msg);
	printf("checked %u blobs, %u layers, %u images: ", c.blobs, c.layers, c.images);
	if (!c.problems)
		printf("no problems\n");
	else if (c.repair)
		printf("%u problems, %u repaired\n", c.problems, c.repaired);
	else
		printf("%u problems\n", c.problems);
	fflush(stdout);
	store_close(&st);
	if (c.problems > c.repaired) {
		fprintf(stderr, "dock: system check: %u problems%s\n", c.problems - c.repaired,
			c.repair ? " could not be repaired" : " (dock system check --repair removes them)");
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- the command */

static const char sys_usage[] =
	"Usage: dock system COMMAND\n\n"
	"Manage the store.\n\n"
	"Commands:\n"
	"  check      Verify the store (--repair removes what is damaged)\n";

int
cmd_system(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(sys_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	if (!strcmp(argv[1], "check"))
		return sys_check(argc - 1, argv + 1);
	die("system: unknown command %s (see 'dock system --help')", argv[1]);
}
