/* system.c: `dock system`, the store-wide commands: prune (stopped containers, unused networks,
 * dangling or unused images, in one go), df (what the store holds and what a prune would give
 * back, in Docker's layout) and check (verifies the store; the work is store_check's).  Owns
 * nothing on disk: it drives container, network and image removal through their modules. */

/* ---------------------------------------------------------------- prune */

/* Networks no container uses (network.c's prune, under the network lock); as an ordinary user
 * there are none: rootless dock has no bridge networks. */
static int
sys_prune_networks(struct store *st, struct err *e)
{
	int lk, failed;
	if (st->rootless)
		return 0;
	if (mkdir_p(st->fd, "networks", 0755, e) < 0 || (lk = store_lock(st, "network", 1, e)) < 0)
		return -1;
	failed = netw_prune(st);
	close(lk);
	if (failed)
		return err_set(e, ERR_SYS, "%d networks could not be removed", failed);
	return 0;
}

static int
sys_prune(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	int all = 0, force = 0, failed, i;
	int64_t freed = 0;
	char sz[32];
	cli_help_exit(argc, argv, "Usage: dock system prune [OPTIONS]\n\n"
				  "Remove all stopped containers, unused networks and dangling images.\n\n"
				  "Options:\n"
				  "  -a, --all     remove all images no container uses, not just dangling ones\n"
				  "  -f, --force   do not prompt for confirmation\n");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
			all = 1;
		else if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
			force = 1;
		else if (!strcmp(argv[i], "-af") || !strcmp(argv[i], "-fa"))
			all = force = 1;
		else
			die("system prune: unknown option %s (see 'dock system prune --help')", argv[i]);
	}
	if (!force && !image_confirm(all ? "WARNING! This will remove:\n"
					   "  - all stopped containers\n"
					   "  - all networks not used by at least one container\n"
					   "  - all images without at least one container associated to them\n"
					 : "WARNING! This will remove:\n"
					   "  - all stopped containers\n"
					   "  - all networks not used by at least one container\n"
					   "  - all dangling images\n"))
		return 0;
	cli_store(&st);
	failed = ctr_prune_stopped(&st, &freed);
	if (sys_prune_networks(&st, &e) < 0) {
		fprintf(stderr, "dock: system prune: networks: %s\n", e.msg);
		failed++;
	}
	if (image_prune(&st, all, &freed, &e) < 0) {
		fprintf(stderr, "dock: system prune: images: %s\n", e.msg);
		failed++;
	}
	cli_size(freed, sz, sizeof sz);
	printf("Total reclaimed space: %s\n", sz);
	store_close(&st);
	return failed != 0;
}

/* ---------------------------------------------------------------- df */

/* Is this diff ID among those listed (one per line) in b? */
static int
sys_listed(const struct buf *b, const char *diff)
{
	size_t n = strlen(diff);
	const char *p = b->p;
	while (p && (p = strstr(p, diff))) {
		if ((p == b->p || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/* Add an image's layers to seen (once each): their bytes to *total. */
static void
sys_add_layers(struct store *st, const char *image_id, struct buf *seen, int64_t *total)
{
	struct buf b = {0};
	struct err e = {0};
	struct json *j;
	size_t i;
	if (store_image_read(st, image_id, &b, &e) < 0 || !(j = json_parse(b.p, b.len, &e))) {
		buf_free(&b);
		return;
	}
	for (i = 0; i < json_len(json_get(json_root(j), "Layers")); i++) {
		const char *d = json_getstr(json_at(json_get(json_root(j), "Layers"), i), "DiffID");
		if (!d || sys_listed(seen, d))
			continue;
		buf_adds(seen, d);
		buf_addc(seen, '\n');
		*total += store_layer_size(st, d);
	}
	json_free(j);
	buf_free(&b);
}

static void
sys_df_row(struct buf *t, const char *type, size_t total, size_t active, int64_t size,
	   int64_t reclaim, int pct)
{
	char s1[32], s2[32];
	cli_size(size, s1, sizeof s1);
	cli_size(reclaim, s2, sizeof s2);
	if (pct)
		buf_printf(t, "%s\t%zu\t%zu\t%s\t%s (%d%%)\n", type, total, active, s1, s2,
			   size > 0 ? (int)(reclaim * 100 / size) : 0);
	else
		buf_printf(t, "%s\t%zu\t%zu\t%s\t%s\n", type, total, active, s1, s2);
}

static int
sys_df(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	struct buf all_layers = {0}, used_layers = {0}, used_images = {0}, t = {0};
	size_t nimg, nctr, k, img_active = 0, ctr_active = 0;
	char **imgs, **ctrs;
	int64_t img_size = 0, img_used = 0, ctr_size = 0, ctr_reclaim = 0;
	cli_help_exit(argc, argv, "Usage: dock system df\n\nShow dock's disk usage.\n");
	if (argc > 1)
		die("system df: unknown option %s (see 'dock system df --help')", argv[1]);
	cli_store(&st);
	ctrs = ctr_list(&st, &nctr);
	for (k = 0; k < nctr; k++) {
		struct ctr_info c;
		if (ctr_load(&st, ctrs[k], &c, &e) == 0) {
			const char *img = json_getstr(json_root(c.cfg), "Image");
			int64_t sz = ctr_size_rw(&st, ctrs[k]);
			int up = !strcmp(c.status, "running") || !strcmp(c.status, "paused") ||
				 !strcmp(c.status, "restarting");
			ctr_size += sz;
			if (up)
				ctr_active++;
			else
				ctr_reclaim += sz;
			if (img && !sys_listed(&used_images, img)) {
				buf_adds(&used_images, img);
				buf_addc(&used_images, '\n');
			}
			ctr_info_free(&c);
		}
		free(ctrs[k]);
	}
	free(ctrs);
	imgs = store_image_list(&st, &nimg);
	for (k = 0; k < nimg; k++) {
		sys_add_layers(&st, imgs[k], &all_layers, &img_size);
		if (sys_listed(&used_images, imgs[k])) {
			img_active++;
			sys_add_layers(&st, imgs[k], &used_layers, &img_used);
		}
		free(imgs[k]);
	}
	free(imgs);
	buf_adds(&t, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE\n");
	sys_df_row(&t, "Images", nimg, img_active, img_size, img_size - img_used, 1);
	sys_df_row(&t, "Containers", nctr, ctr_active, ctr_size, ctr_reclaim, 1);
	sys_df_row(&t, "Local Volumes", 0, 0, 0, 0, 0);
	sys_df_row(&t, "Build Cache", 0, 0, 0, 0, 0);
	ctr_table(t.p, stdout);
	buf_free(&t);
	buf_free(&all_layers);
	buf_free(&used_layers);
	buf_free(&used_images);
	store_close(&st);
	return 0;
}

/* ---------------------------------------------------------------- check */

static void
sys_check_line(void *ctx, const char *line, int repaired)
{
	(void)ctx;
	printf("%s%s\n", repaired < 0 ? "note: " : repaired ? "removed: " : "damaged: ", line);
}

static const char sys_check_usage[] =
	"Usage: dock system check [--repair]\n\n"
	"Verify the store: every blob against its digest, every layer's tree against the digest\n"
	"taken when it was pulled, every record and what it refers to, and leftovers of interrupted\n"
	"commands.  One line per problem (\"note:\" lines are not problems); exits 1 when something\n"
	"is damaged (with --repair: when something could not be removed).\n\n"
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

/* ---------------------------------------------------------------- the system group */

int
cmd_system(int argc, char **argv)
{
	static const char usage[] = "Usage: dock system COMMAND\n\nManage dock.\n\nCommands:\n"
				    "  check     Verify the store (--repair removes what is damaged)\n"
				    "  df        Show dock's disk usage\n"
				    "  prune     Remove unused data\n";
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (!strcmp(argv[1], "prune"))
		return sys_prune(argc - 1, argv + 1);
	if (!strcmp(argv[1], "df"))
		return sys_df(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return sys_check(argc - 1, argv + 1);
	die("system: unknown command %s (see 'dock system --help')", argv[1]);
}
