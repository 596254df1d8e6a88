/* images.c: the image commands that read and change the store's records: images, rmi,
 * image inspect, unpack, and the `image` command group.  Owns name resolution (tag, digest,
 * ID or ID prefix → image ID) and the removal of layers no image uses any more. */

#include <dirent.h>

/* ---------------------------------------------------------------- resolution */


void
image_info_free(struct image_info *im)
{
	size_t i;
	buf_free(&im->rec);
	buf_free(&im->config);
	json_free(im->recj);
	json_free(im->cfgj);
	for (i = 0; i < im->ntags; i++)
		free(im->tags[i]);
	free(im->tags);
	memset(im, 0, sizeof *im);
}

int
image_load(struct store *st, const char *id, const struct jv *tags, struct image_info *im,
	   struct err *e)
{
	size_t i;
	memset(im, 0, sizeof *im);
	snprintf(im->id, sizeof im->id, "%s", id);
	if (store_image_read(st, id, &im->rec, e) < 0 || !(im->recj = json_parse(im->rec.p, im->rec.len, e)))
		return err_ctx(e, "image %.19s", id);
	if (store_get_blob(st, id, 8 << 20, &im->config, e) < 0 ||
	    !(im->cfgj = json_parse(im->config.p, im->config.len, e)))
		return err_ctx(e, "image %.19s: config", id);
	im->created = cli_parse_time(json_getstr(json_root(im->cfgj), "created"));
	for (i = 0; i < json_len(tags); i++) {
		const char *v = json_str(json_at(tags, i));
		if (v && !strcmp(v, id)) {
			im->tags = xrealloc(im->tags, (im->ntags + 1) * sizeof *im->tags);
			im->tags[im->ntags++] = xstrdup(json_key(tags, i));
		}
	}
	return 0;
}

/* Name (tag, name@digest, ID, ID prefix) → image ID.  *tagkey gets the tag key when the name was
 * a tag.  Returns 0, or -1 with ERR_NOTFOUND / ERR_USAGE (ambiguous). */
int
image_resolve(struct store *st, const char *name, char id[72], char *tagkey, size_t tklen,
	      struct err *e)
{
	struct json *tags = store_tags_load(st, e);
	struct ref r;
	struct err ignore;
	char full[560], key[700], **ids;
	const char *hit = NULL;
	size_t n, i, matches = 0, plen;
	const char *pfx = name;
	int ret = -1;
	if (tagkey)
		tagkey[0] = 0;
	if (!tags)
		return -1;
	if (ref_parse(&r, name, &ignore) == 0) {
		ref_name(&r, full, sizeof full);
		if (r.tag[0] && !r.digest[0]) {
			snprintf(key, sizeof key, "%s:%s", full, r.tag);
			hit = json_getstr(json_root(tags), key);
			if (hit) {
				snprintf(id, 72, "%s", hit);
				if (tagkey)
					snprintf(tagkey, tklen, "%s", key);
				json_free(tags);
				return 0;
			}
		}
		if (r.digest[0]) {
			snprintf(key, sizeof key, "%s@%s", full, r.digest);
			ids = store_image_list(st, &n);
			for (i = 0; i < n; i++) {
				struct buf b = {0};
				struct json *j = NULL;
				size_t k;
				const struct jv *rd;
				if (!hit && store_image_read(st, ids[i], &b, &ignore) == 0 &&
				    (j = json_parse(b.p, b.len, &ignore))) {
					rd = json_get(json_root(j), "RepoDigests");
					for (k = 0; k < json_len(rd); k++)
						if (json_str(json_at(rd, k)) && !strcmp(json_str(json_at(rd, k)), key)) {
							snprintf(id, 72, "%s", ids[i]);
							hit = id;
						}
				}
				json_free(j);
				buf_free(&b);
				free(ids[i]);
			}
			free(ids);
			if (hit) {
				json_free(tags);
				return 0;
			}
		}
	}
	/* an ID or a prefix of one */
	if (!strncmp(pfx, "sha256:", 7))
		pfx += 7;
	plen = strlen(pfx);
	if (plen && plen <= 64 && strspn(pfx, "0123456789abcdef") == plen) {
		ids = store_image_list(st, &n);
		for (i = 0; i < n; i++) {
			if (!strncmp(ids[i] + 7, pfx, plen)) {
				if (!matches++)
					snprintf(id, 72, "%s", ids[i]);
			}
			free(ids[i]);
		}
		free(ids);
		if (matches == 1)
			ret = 0;
		else if (matches > 1)
			err_set(e, ERR_USAGE, "%s: ambiguous image ID prefix", name);
	}
	if (ret < 0 && !matches)
		err_set(e, ERR_NOTFOUND, "No such image: %s", name);
	json_free(tags);
	return ret;
}

/* ---------------------------------------------------------------- dock images */

static int
image_cmp_created(const void *a, const void *b)
{
	const struct image_info *x = a, *y = b;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : strcmp(x->id, y->id);
}

/* Split a tag key "host/path:tag" into familiar repository and tag. */
static void
image_split_tag(const char *key, char *repo, size_t rl, char *tag, size_t tl)
{
	struct ref r;
	struct err ignore;
	if (ref_parse(&r, key, &ignore) == 0) {
		ref_familiar(&r, repo, rl);
		snprintf(tag, tl, "%s", r.tag);
	} else {
		snprintf(repo, rl, "%s", key);
		snprintf(tag, tl, "<none>");
	}
}

static struct image_info *
images_load_all(struct store *st, size_t *count)
{
	struct err e = {0};
	struct json *tags = store_tags_load(st, &e);
	size_t n, i, k = 0;
	char **ids;
	struct image_info *all;
	if (!tags)
		die("%s", e.msg);
	ids = store_image_list(st, &n);
	all = xcalloc(n, sizeof *all);
	for (i = 0; i < n; i++) {
		if (image_load(st, ids[i], json_root(tags), &all[k], &e) == 0)
			k++;
		else {
			warn("%s", e.msg);
			image_info_free(&all[k]);
		}
		free(ids[i]);
	}
	free(ids);
	json_free(tags);
	qsort(all, k, sizeof *all, image_cmp_created);
	*count = k;
	return all;
}

static const char images_usage[] =
	"Usage: dock images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
	"List images.\n\n"
	"Options:\n"
	"  -a, --all        show all images\n"
	"      --digests    show digests\n"
	"      --no-trunc   do not truncate IDs\n"
	"  -q, --quiet      only show image IDs\n";

struct image_row {
	char repo[300], tag[130], digest[72], id[72], created[64], size[32];
};

int
cmd_images(int argc, char **argv)
{
	int quiet = 0, digests = 0, notrunc = 0, i;
	const char *filter = NULL;
	struct store st;
	struct image_info *all;
	struct image_row *rows = NULL;
	size_t n, k, nrows = 0, w[5] = {10, 3, 6, 8, 7};
	cli_help_exit(argc, argv, images_usage);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[i], "--digests"))
			digests = 1;
		else if (!strcmp(argv[i], "--no-trunc"))
			notrunc = 1;
		else if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
			;
		else if (argv[i][0] == '-')
			die("images: unknown option %s", argv[i]);
		else
			filter = argv[i];
	}
	cli_store(&st);
	all = images_load_all(&st, &n);
	for (k = 0; k < n; k++) {
		struct image_info *im = &all[k];
		size_t t, ntags = im->ntags ? im->ntags : 1;
		const struct jv *rd = json_get(json_root(im->recj), "RepoDigests");
		for (t = 0; t < ntags; t++) {
			struct image_row *r;
			char fam[300];
			rows = xrealloc(rows, (nrows + 1) * sizeof *rows);
			r = &rows[nrows];
			memset(r, 0, sizeof *r);
			if (im->ntags)
				image_split_tag(im->tags[t], r->repo, sizeof r->repo, r->tag, sizeof r->tag);
			else {
				snprintf(r->repo, sizeof r->repo, "<none>");
				snprintf(r->tag, sizeof r->tag, "<none>");
				if (json_str(json_at(rd, 0))) {
					/* an image pulled by digest keeps its repository name */
					char tmp[700], tg[8];
					snprintf(tmp, sizeof tmp, "%s", json_str(json_at(rd, 0)));
					tmp[strcspn(tmp, "@")] = 0;
					image_split_tag(tmp, r->repo, sizeof r->repo, tg, sizeof tg);
				}
			}
			snprintf(fam, sizeof fam, "%s", r->repo);
			if (filter) {
				char want_repo[300], want_tag[130];
				image_split_tag(filter, want_repo, sizeof want_repo, want_tag, sizeof want_tag);
				if (strcmp(fam, want_repo) || (strchr(filter, ':') && strcmp(r->tag, want_tag)))
					continue;
			}
			snprintf(r->digest, sizeof r->digest, "<none>");
			{
				size_t d;
				char full[600];
				struct ref rr;
				struct err ignore;
				for (d = 0; d < json_len(rd); d++) {
					const char *s = json_str(json_at(rd, d)), *at = s ? strchr(s, '@') : NULL;
					if (!at || ref_parse(&rr, r->repo, &ignore) < 0)
						continue;
					ref_name(&rr, full, sizeof full);
					if (!strncmp(s, full, (size_t)(at - s)) && strlen(full) == (size_t)(at - s))
						snprintf(r->digest, sizeof r->digest, "%s", at + 1);
				}
			}
			snprintf(r->id, sizeof r->id, "%.*s", notrunc ? 71 : 12, notrunc ? im->id : im->id + 7);
			cli_ago(json_getstr(json_root(im->cfgj), "created"), r->created, sizeof r->created);
			{
				int64_t sz = 0;
				json_int(json_get(json_root(im->recj), "Size"), &sz);
				cli_size(sz, r->size, sizeof r->size);
			}
			nrows++;
		}
	}
	if (quiet) {
		for (k = 0; k < nrows; k++) {
			size_t j;
			for (j = 0; j < k && strcmp(rows[j].id, rows[k].id); j++)
				;
			if (j == k)
				printf("%s\n", rows[k].id);
		}
	} else {
		for (k = 0; k < nrows; k++) {
			size_t l[5] = {strlen(rows[k].repo), strlen(rows[k].tag), strlen(rows[k].digest),
				       strlen(rows[k].id), strlen(rows[k].created)};
			size_t j;
			for (j = 0; j < 5; j++)
				if (l[j] > w[j])
					w[j] = l[j];
		}
		printf("%-*s   %-*s   ", (int)w[0], "REPOSITORY", (int)w[1], "TAG");
		if (digests)
			printf("%-*s   ", (int)w[2], "DIGEST");
		printf("%-*s   %-*s   SIZE\n", (int)w[3], "IMAGE ID", (int)w[4], "CREATED");
		for (k = 0; k < nrows; k++) {
			printf("%-*s   %-*s   ", (int)w[0], rows[k].repo, (int)w[1], rows[k].tag);
			if (digests)
				printf("%-*s   ", (int)w[2], rows[k].digest);
			printf("%-*s   %-*s   %s\n", (int)w[3], rows[k].id, (int)w[4], rows[k].created,
			       rows[k].size);
		}
	}
	for (k = 0; k < n; k++)
		image_info_free(&all[k]);
	free(all);
	free(rows);
	store_close(&st);
	return 0;
}

/* ---------------------------------------------------------------- removal */

/* Remove layers no image record references, printing "VERB sha256:..." for each (verb NULL:
 * quiet) and adding their sizes to *freed (may be NULL).  Caller holds the store lock
 * exclusively. */
static int
image_gc_layers(struct store *st, const char *verb, int64_t *freed, struct err *e)
{
	size_t n, i, k;
	char **ids = store_image_list(st, &n);
	struct buf used = {0};
	int lfd, tmp;
	DIR *d;
	struct dirent *de;
	for (i = 0; i < n; i++) {
		struct buf b = {0};
		struct json *j;
		struct err ignore;
		if (store_image_read(st, ids[i], &b, &ignore) == 0 && (j = json_parse(b.p, b.len, &ignore))) {
			const struct jv *ls = json_get(json_root(j), "Layers");
			for (k = 0; k < json_len(ls); k++) {
				const char *diff = json_getstr(json_at(ls, k), "DiffID");
				if (diff) {
					buf_adds(&used, diff);
					buf_addc(&used, '\n');
				}
			}
			json_free(j);
		} else {
			/* an unreadable record: keep every layer rather than guess */
			buf_free(&b);
			for (; i < n; i++)
				free(ids[i]);
			free(ids);
			buf_free(&used);
			return 0;
		}
		buf_free(&b);
		free(ids[i]);
	}
	free(ids);
	if (!used.p)
		buf_adds(&used, "");
	lfd = openat(st->fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tmp = store_tmp(st, e);
	if (lfd < 0 || tmp < 0 || !(d = fdopendir(lfd))) {
		if (lfd >= 0)
			close(lfd);
		return lfd < 0 ? err_sys(e, "store: layers") : -1;
	}
	while ((de = readdir(d))) {
		char needle[80], gone[100];
		if (strlen(de->d_name) != 64)
			continue;
		snprintf(needle, sizeof needle, "sha256:%s\n", de->d_name);
		if (strstr(used.p, needle))
			continue;
		/* rename out of layers/ first: a half-deleted layer is never visible */
		snprintf(gone, sizeof gone, "gone-%s", de->d_name);
		if (freed) {
			int64_t sz = store_layer_size(st, de->d_name);
			if (sz > 0)
				*freed += sz;
		}
		if (renameat(dirfd(d), de->d_name, tmp, gone) < 0)
			continue;
		rm_rf(tmp, gone, e);
		if (verb)
			printf("%s sha256:%s\n", verb, de->d_name);
	}
	closedir(d);
	buf_free(&used);
	return 0;
}

/* Does a container (running or not) use image id?  user gets its ID. */
static int
image_used_by(struct store *st, const char *id, char user[65])
{
	int cfd = openat(st->fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC), found = 0;
	DIR *d = cfd >= 0 ? fdopendir(cfd) : NULL;
	struct dirent *de;
	while (d && !found && (de = readdir(d))) {
		char path[200];
		struct buf b = {0};
		struct err e;
		struct json *j;
		if (strlen(de->d_name) != 64)
			continue;
		snprintf(path, sizeof path, "containers/%s/config.json", de->d_name);
		if (file_read(st->fd, path, 4 << 20, &b, &e) == 0 && (j = json_parse(b.p, b.len, &e))) {
			const char *img = json_getstr(json_root(j), "Image");
			if (img && !strcmp(img, id)) {
				found = 1;
				snprintf(user, 65, "%s", de->d_name);
			}
			json_free(j);
		}
		buf_free(&b);
	}
	if (d)
		closedir(d);
	else if (cfd >= 0)
		close(cfd);
	return found;
}

/* Remove one name (or the whole image with -f / an ID).  Prints Docker's Untagged/Deleted lines. */
static int
image_remove(struct store *st, const char *name, int force, struct err *e)
{
	char id[72], tagkey[700], repo[300], tag[130];
	struct json *tags;
	struct image_info im;
	size_t i;
	int by_tag;
	if (image_resolve(st, name, id, tagkey, sizeof tagkey, e) < 0)
		return -1;
	by_tag = tagkey[0] != 0;
	tags = store_tags_load(st, e);
	if (!tags)
		return -1;
	if (image_load(st, id, json_root(tags), &im, e) < 0) {
		json_free(tags);
		return -1;
	}
	json_free(tags);
	if (!by_tag || im.ntags <= 1) {
		/* even with -f: its layers are a container's root */
		char user[65];
		if (image_used_by(st, id, user)) {
			err_set(e, ERR_USAGE, "conflict: unable to delete %.12s (cannot be forced) - image is "
				"being used by container %.12s; remove the container first", id + 7, user);
			image_info_free(&im);
			return -1;
		}
	}
	if (!by_tag && im.ntags > 1 && !force) {
		err_set(e, ERR_USAGE, "conflict: unable to delete %.12s (must be forced) - image is "
			"referenced in multiple repositories", id + 7);
		image_info_free(&im);
		return -1;
	}
	for (i = 0; i < im.ntags; i++) {
		if (by_tag && strcmp(im.tags[i], tagkey))
			continue;
		if (store_tag_set(st, im.tags[i], NULL, e) < 0) {
			image_info_free(&im);
			return -1;
		}
		image_split_tag(im.tags[i], repo, sizeof repo, tag, sizeof tag);
		printf("Untagged: %s:%s\n", repo, tag);
	}
	if (!by_tag || im.ntags <= 1) {
		const struct jv *rd = json_get(json_root(im.recj), "RepoDigests");
		for (i = 0; i < json_len(rd); i++) {
			struct ref r;
			struct err ignore;
			char fam[300];
			if (json_str(json_at(rd, i)) && ref_parse(&r, json_str(json_at(rd, i)), &ignore) == 0) {
				ref_familiar(&r, fam, sizeof fam);
				printf("Untagged: %s@%s\n", fam, r.digest);
			}
		}
		if (store_image_remove(st, id, e) < 0) {
			image_info_free(&im);
			return -1;
		}
		printf("Deleted: %s\n", id);
	}
	image_info_free(&im);
	return 0;
}

int
cmd_rmi(int argc, char **argv)
{
	int force = 0, i, failed = 0, any = 0;
	struct store st;
	struct err e = {0};
	cli_help_exit(argc, argv, "Usage: dock rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
				  "Remove images.\n\nOptions:\n  -f, --force   remove the image even when "
				  "it has several tags\n");
	cli_store(&st);
	if (store_lock_all(&st, 1, &e) < 0)
		die("rmi: %s", e.msg);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force")) {
			force = 1;
			continue;
		}
		if (argv[i][0] == '-')
			die("rmi: unknown option %s", argv[i]);
	}
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		any = 1;
		if (image_remove(&st, argv[i], force, &e) < 0) {
			fprintf(stderr, "dock: rmi %s: %s\n", argv[i], e.msg);
			failed = 1;
		}
	}
	if (!any)
		die("rmi: requires at least one argument (see 'dock rmi --help')");
	if (image_gc_layers(&st, "Deleted:", NULL, &e) < 0) {
		fprintf(stderr, "dock: rmi: %s\n", e.msg);
		failed = 1;
	}
	store_close(&st);
	return failed;
}

/* ---------------------------------------------------------------- prune */

/* Docker's prompt before a prune: 1 when the answer is y or yes. */
int
image_confirm(const char *warning)
{
	char line[64];
	fprintf(stderr, "%s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stderr);
	if (!fgets(line, sizeof line, stdin))
		return 0;
	line[strcspn(line, "\r\n")] = 0;
	return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

/* Remove the images no container uses: the untagged (dangling) ones, or with all every one, then
 * the layers left unused.  Prints Docker's "Deleted Images:" block when anything went; *freed gets
 * the bytes of the layers removed added.  Takes the store lock exclusively. */
int
image_prune(struct store *st, int all, int64_t *freed, struct err *e)
{
	struct image_info *ims;
	size_t n, k, i;
	int header = 0, r = 0;
	if (store_lock_all(st, 1, e) < 0)
		return -1;
	ims = images_load_all(st, &n);
	for (k = 0; k < n; k++) {
		struct image_info *im = &ims[k];
		const struct jv *rd = json_get(json_root(im->recj), "RepoDigests");
		char user[65], repo[300], tag[130];
		if ((!all && im->ntags) || image_used_by(st, im->id, user))
			continue;
		if (!header++)
			printf("Deleted Images:\n");
		for (i = 0; i < im->ntags; i++) {
			if (store_tag_set(st, im->tags[i], NULL, e) < 0) {
				r = -1;
				break;
			}
			image_split_tag(im->tags[i], repo, sizeof repo, tag, sizeof tag);
			printf("untagged: %s:%s\n", repo, tag);
		}
		if (r < 0)
			break;
		for (i = 0; i < json_len(rd); i++) {
			struct ref rf;
			struct err ignore;
			if (json_str(json_at(rd, i)) && ref_parse(&rf, json_str(json_at(rd, i)), &ignore) == 0) {
				ref_familiar(&rf, repo, sizeof repo);
				printf("untagged: %s@%s\n", repo, rf.digest);
			}
		}
		if (store_image_remove(st, im->id, e) < 0) {
			r = -1;
			break;
		}
		printf("deleted: %s\n", im->id);
	}
	for (k = 0; k < n; k++)
		image_info_free(&ims[k]);
	free(ims);
	if (r == 0 && image_gc_layers(st, header ? "deleted:" : NULL, freed, e) < 0)
		r = -1;
	if (header)
		printf("\n");
	return r;
}

static int
image_prune_cmd(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	int all = 0, force = 0, i;
	int64_t freed = 0;
	char sz[32];
	cli_help_exit(argc, argv, "Usage: dock image prune [OPTIONS]\n\nRemove unused images.\n\n"
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
			die("image prune: unknown option %s (see 'dock image prune --help')", argv[i]);
	}
	if (!force && !image_confirm(all ? "WARNING! This will remove all images without at least one "
					   "container associated to them."
					 : "WARNING! This will remove all dangling images."))
		return 0;
	cli_store(&st);
	if (image_prune(&st, all, &freed, &e) < 0)
		die("image prune: %s", e.msg);
	cli_size(freed, sz, sizeof sz);
	printf("Total reclaimed space: %s\n", sz);
	store_close(&st);
	return 0;
}

/* ---------------------------------------------------------------- inspect */

void
image_inspect_json(struct store *st, const struct image_info *im, struct jw *w)
{
	const struct jv *cfg = json_root(im->cfgj), *rec = json_root(im->recj);
	const struct jv *diff = json_get(json_get(cfg, "rootfs"), "diff_ids");
	size_t i;
	int64_t size = 0;
	(void)st;
	jw_obj(w);
	jw_key(w, "Id");
	jw_str(w, im->id);
	jw_key(w, "RepoTags");
	jw_arr(w);
	for (i = 0; i < im->ntags; i++) {
		char repo[300], tag[130], both[440];
		image_split_tag(im->tags[i], repo, sizeof repo, tag, sizeof tag);
		snprintf(both, sizeof both, "%s:%s", repo, tag);
		jw_str(w, both);
	}
	jw_arr_end(w);
	jw_key(w, "RepoDigests");
	{
		const struct jv *rd = json_get(rec, "RepoDigests");
		jw_arr(w);
		for (i = 0; i < json_len(rd); i++) {
			struct ref r;
			struct err ignore;
			char fam[300], both[400];
			if (json_str(json_at(rd, i)) && ref_parse(&r, json_str(json_at(rd, i)), &ignore) == 0) {
				ref_familiar(&r, fam, sizeof fam);
				snprintf(both, sizeof both, "%s@%s", fam, r.digest);
				jw_str(w, both);
			}
		}
		jw_arr_end(w);
	}
	jw_key(w, "Parent");
	jw_str(w, "");
	jw_key(w, "Comment");
	jw_str(w, json_getstr(cfg, "comment") ? json_getstr(cfg, "comment") : "");
	jw_key(w, "Created");
	jw_str(w, json_getstr(cfg, "created") ? json_getstr(cfg, "created") : "");
	jw_key(w, "DockerVersion");
	jw_str(w, json_getstr(cfg, "docker_version") ? json_getstr(cfg, "docker_version") : "");
	jw_key(w, "Author");
	jw_str(w, json_getstr(cfg, "author") ? json_getstr(cfg, "author") : "");
	jw_key(w, "Config");
	if (json_get(cfg, "config"))
		jw_value(w, json_get(cfg, "config"));
	else
		jw_null(w);
	jw_key(w, "Architecture");
	jw_str(w, json_getstr(cfg, "architecture") ? json_getstr(cfg, "architecture") : "");
	if (json_getstr(cfg, "variant")) {
		jw_key(w, "Variant");
		jw_str(w, json_getstr(cfg, "variant"));
	}
	jw_key(w, "Os");
	jw_str(w, json_getstr(cfg, "os") ? json_getstr(cfg, "os") : "");
	json_int(json_get(rec, "Size"), &size);
	jw_key(w, "Size");
	jw_int(w, size);
	jw_key(w, "RootFS");
	jw_obj(w);
	jw_key(w, "Type");
	jw_str(w, "layers");
	jw_key(w, "Layers");
	if (diff)
		jw_value(w, diff);
	else {
		jw_arr(w);
		jw_arr_end(w);
	}
	jw_obj_end(w);
	jw_key(w, "Metadata");
	jw_obj(w);
	jw_key(w, "LastTagTime");
	jw_str(w, "0001-01-01T00:00:00Z");
	jw_obj_end(w);
	jw_obj_end(w);
}

/* Print one inspect document (JSON in doc) through a --format template; dies on a bad one.  Shared
 * by image and container inspect. */
void
inspect_print(const char *format, const struct buf *doc)
{
	struct err e = {0};
	struct buf line = {0};
	struct json *j = json_parse(doc->p, doc->len, &e);
	if (!j || fmt_render(format, json_root(j), &line, &e) < 0)
		die("inspect: %s", e.msg);
	printf("%s\n", line.p ? line.p : "");
	json_free(j);
	buf_free(&line);
}

static const char inspect_usage[] =
	"Usage: dock image inspect [OPTIONS] IMAGE [IMAGE...]\n\n"
	"Show low-level information on images as JSON.\n\n"
	"Options:\n"
	"  -f, --format TEMPLATE   Go-template to render for each image, e.g. '{{.Id}}'\n";

int
cmd_image_inspect(int argc, char **argv)
{
	const char *format = NULL;
	struct store st;
	struct buf out = {0};
	struct jw w;
	struct err e = {0};
	struct json *tags;
	int i, failed = 0, any = 0;
	cli_help_exit(argc, argv, inspect_usage);
	cli_store(&st);
	tags = store_tags_load(&st, &e);
	if (!tags)
		die("inspect: %s", e.msg);
	jw_init(&w, &out, 4);
	if (!format)
		jw_arr(&w);
	for (i = 1; i < argc; i++) {
		char id[72];
		struct image_info im;
		if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) && i + 1 < argc) {
			format = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--format=", 9)) {
			format = argv[i] + 9;
			continue;
		}
		if (argv[i][0] == '-')
			die("inspect: unknown option %s", argv[i]);
		any = 1;
		if (image_resolve(&st, argv[i], id, NULL, 0, &e) < 0 ||
		    image_load(&st, id, json_root(tags), &im, &e) < 0) {
			fprintf(stderr, "dock: inspect %s: %s\n", argv[i], e.msg);
			failed = 1;
			continue;
		}
		if (format) {
			struct buf one = {0};
			struct jw w1;
			jw_init(&w1, &one, 0);
			image_inspect_json(&st, &im, &w1);
			inspect_print(format, &one);
			buf_free(&one);
		} else {
			image_inspect_json(&st, &im, &w);
		}
		image_info_free(&im);
	}
	if (!any)
		die("inspect: requires at least one argument (see 'dock image inspect --help')");
	if (!format) {
		jw_arr_end(&w);
		printf("%s\n", out.p);
	}
	buf_free(&out);
	json_free(tags);
	store_close(&st);
	return failed;
}

/* ---------------------------------------------------------------- unpack */

int
cmd_unpack(int argc, char **argv)
{
	struct store st;
	struct err e = {0};
	char id[72], tmpname[4200];
	struct buf rec = {0};
	struct json *j;
	const struct jv *layers;
	struct layer_opts lo;
	const char *dir;
	size_t i;
	int dst;
	cli_help_exit(argc, argv, "Usage: dock unpack IMAGE DIR\n\n"
				  "Write the image's root filesystem, all layers applied, into DIR (which must "
				  "not exist or be empty).\n");
	if (argc != 3)
		die("unpack: requires exactly two arguments (see 'dock unpack --help')");
	dir = argv[2];
	cli_store(&st);
	if (image_resolve(&st, argv[1], id, NULL, 0, &e) < 0)
		die("unpack %s: %s", argv[1], e.msg);
	if (store_image_read(&st, id, &rec, &e) < 0 || !(j = json_parse(rec.p, rec.len, &e)))
		die("unpack %s: %s", argv[1], e.msg);
	if (rmdir(dir) < 0 && errno != ENOENT)
		die_errno("unpack: %s must not exist or be empty", dir);
	/* build beside DIR, then rename: a failed unpack leaves no half tree at DIR */
	snprintf(tmpname, sizeof tmpname, "%s.dock-tmp-%ld", dir, (long)getpid());
	if (mkdir(tmpname, 0755) < 0)
		die_errno("unpack: mkdir %s", tmpname);
	dst = open(tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst < 0)
		die_errno("unpack: %s", tmpname);
	memset(&lo, 0, sizeof lo);
	lo.rootless = st.rootless;
	lo.warn = cli_warn;
	layers = json_get(json_root(j), "Layers");
	for (i = 0; i < json_len(layers); i++) {
		const char *d = json_getstr(json_at(layers, i), "DiffID");
		int src = d ? store_layer_open(&st, d, &e) : -1;
		if (src < 0 || layer_merge(src, dst, &lo, &e) < 0) {
			struct err ignore;
			rm_rf(AT_FDCWD, tmpname, &ignore);
			die("unpack %s: layer %zu: %s", argv[1], i + 1, d ? e.msg : "no DiffID");
		}
		close(src);
	}
	if (layer_sync(dst, &e) < 0 || rename(tmpname, dir) < 0) {
		struct err ignore;
		rm_rf(AT_FDCWD, tmpname, &ignore);
		die("unpack: %s: %s", dir, e.msg[0] ? e.msg : strerror(errno));
	}
	close(dst);
	json_free(j);
	buf_free(&rec);
	store_close(&st);
	return 0;
}

/* ---------------------------------------------------------------- the image group */

int
cmd_image(int argc, char **argv)
{
	static const char usage[] = "Usage: dock image COMMAND\n\nManage images.\n\nCommands:\n"
				    "  inspect   Show low-level information on images\n"
				    "  ls        List images\n"
				    "  prune     Remove unused images\n"
				    "  pull      Download an image from a registry\n"
				    "  rm        Remove images\n";
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (!strcmp(argv[1], "inspect"))
		return cmd_image_inspect(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls") || !strcmp(argv[1], "list"))
		return cmd_images(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pull"))
		return cmd_pull(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rm"))
		return cmd_rmi(argc - 1, argv + 1);
	if (!strcmp(argv[1], "prune"))
		return image_prune_cmd(argc - 1, argv + 1);
	die("image: unknown command %s (see 'dock image --help')", argv[1]);
}
