/* tests/fuzz/manifest.c: manifest, index and image config decoding as `dock pull` and `dock image
 * inspect` do it, with pull.c's and images.c's own functions on hostile documents.
 *
 * Input: [platform] [media type] [manifest or index JSON] (NUL [image config JSON]).  The first
 * byte picks the platform asked for, the second the Content-Type the registry claimed (JSON holds
 * no raw NUL, so the config follows one).  Then, as pull_resolve does: schema 1 is refused, an
 * index gives the digest for the platform, a manifest its config and layer digests; the config
 * its diff_ids.  Everything that comes out must be a valid digest; the config is also rendered
 * by `image inspect`, whose output must be JSON. */
#include "dock.h"
#include "src/util.c"
#include "src/sha256.c"
#include "src/json.c"
#include "src/ref.c"
#include "src/inflate.c"
#include "src/tar.c"
#include "src/layer.c"
#include "src/tree.c"
#include "src/net.c"
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
#include "tests/fuzz/fuzz.h"

static const char *const platforms[] = {
	"linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v6", "linux/386",
	"windows/amd64", "linux/s390x",
};

static const char *const media_types[] = {
	"",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
};

static void
inspect(const char *cfg, size_t n)
{
	struct image_info im;
	struct err e;
	struct buf out = {0};
	struct jw w;
	struct json *check;
	static const char rec[] = "{\"RepoDigests\":[\"reg.test/a/b@sha256:"
				  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"],"
				  "\"Size\":1234}";
	char ago[64];
	memset(&im, 0, sizeof im);
	snprintf(im.id, sizeof im.id, "sha256:%064d", 0);
	im.cfgj = json_parse(cfg, n, &e);
	if (!im.cfgj)
		return;
	im.recj = json_parse(rec, sizeof rec - 1, &e);
	FUZZ_CHECK(im.recj != NULL);
	im.created = cli_parse_time(json_getstr(json_root(im.cfgj), "created"));
	cli_ago(json_getstr(json_root(im.cfgj), "created"), ago, sizeof ago);
	jw_init(&w, &out, 4);
	image_inspect_json(NULL, &im, &w);
	check = json_parse(out.p, out.len, &e);
	FUZZ_CHECK(check != NULL);
	json_free(check);
	buf_free(&out);
	image_info_free(&im);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pull p;
	struct err e;
	struct json *j;
	const struct jv *root;
	const char *body, *cfg = NULL;
	size_t blen, clen = 0, i;
	char pick[72];
	const uint8_t *nul;

	if (size < 2)
		return 0;
	memset(&p, 0, sizeof p);
	FUZZ_CHECK(platform_parse(platforms[data[0] % (sizeof platforms / sizeof *platforms)], &p.plat,
				  &e) == 0);
	snprintf(p.man.media_type, sizeof p.man.media_type, "%s",
		 media_types[data[1] % (sizeof media_types / sizeof *media_types)]);
	body = (const char *)data + 2;
	blen = size - 2;
	nul = memchr(body, 0, blen);
	if (nul) {
		cfg = (const char *)nul + 1;
		clen = blen - (size_t)(cfg - body);
		blen = (size_t)((const char *)nul - body);
	}

	if (!(j = json_parse(body, blen, &e)))
		return 0;
	root = json_root(j);
	if (json_int(json_get(root, "schemaVersion"), &(int64_t){0}) == 0 && json_get(root, "fsLayers")) {
		json_free(j);
		return 0;
	}
	if (pull_is_index(&p.man, root)) {
		if (pull_pick(&p, root, pick, &e) == 0)
			FUZZ_CHECK(digest_valid(pick));
		else
			FUZZ_CHECK(e.code == ERR_FORMAT || e.code == ERR_NOTFOUND);
		json_free(j);
		return 0;
	}
	if (pull_parse_manifest(&p, root, &e) == 0) {
		FUZZ_CHECK(digest_valid(p.config_digest) && p.nlayers <= 1000);
		for (i = 0; i < p.nlayers; i++)
			FUZZ_CHECK(digest_valid(p.layers[i].digest));
		if (cfg) {
			buf_add(&p.config, cfg, clen);
			if (pull_parse_config(&p, &e) == 0)
				for (i = 0; i < p.nlayers; i++)
					FUZZ_CHECK(digest_valid(p.layers[i].diff_id));
			inspect(cfg, clen);
		}
	}
	json_free(j);
	free(p.layers);
	buf_free(&p.config);
	return 0;
}
