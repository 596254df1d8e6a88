/* Unit tests for src/ref.c: a table of references with the domain, path, tag and digest Docker's
 * ParseNormalizedNamed gives them (or the error it raises), the derived names, digest_valid. */
#include "dock.h"
#include "src/util.c"
#include "src/ref.c"
#include "tests/unit/check.h"

#define H64 "c1aabb73d2339c5ebaa3681de2e9d9c18d57485045a4e311d9f8004bec208d67"
#define D64 "sha256:" H64

struct ok_case {
	const char *in, *domain, *path, *tag, *digest;
};

static const struct ok_case ok_cases[] = {
	/* Docker Hub short forms get docker.io, library/ and :latest */
	{"alpine", "docker.io", "library/alpine", "latest", ""},
	{"alpine:3.19", "docker.io", "library/alpine", "3.19", ""},
	{"alpine:latest", "docker.io", "library/alpine", "latest", ""},
	{"library/alpine", "docker.io", "library/alpine", "latest", ""},
	{"docker.io/alpine", "docker.io", "library/alpine", "latest", ""},
	{"docker.io/library/alpine:edge", "docker.io", "library/alpine", "edge", ""},
	{"index.docker.io/library/alpine", "docker.io", "library/alpine", "latest", ""},
	{"index.docker.io/alpine", "docker.io", "library/alpine", "latest", ""},
	{"user/repo", "docker.io", "user/repo", "latest", ""},
	{"user/repo:v1.0", "docker.io", "user/repo", "v1.0", ""},
	{"docker.io/user/repo", "docker.io", "user/repo", "latest", ""},
	{"a/b/c", "docker.io", "a/b/c", "latest", ""},
	{"0/x", "docker.io", "0/x", "latest", ""},
	{"registry-1.docker.io/library/alpine", "registry-1.docker.io", "library/alpine", "latest", ""},
	/* localhost is a domain with or without a port; alone it is an image name */
	{"localhost/x", "localhost", "x", "latest", ""},
	{"localhost:5000/x", "localhost:5000", "x", "latest", ""},
	{"localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", ""},
	{"localhost", "docker.io", "library/localhost", "latest", ""},
	{"localhost:5000", "docker.io", "library/localhost", "5000", ""},
	{"a.com:5000", "docker.io", "library/a.com", "5000", ""},
	/* other registries */
	{"host.tld/a/b:tag", "host.tld", "a/b", "tag", ""},
	{"quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", ""},
	{"ghcr.io/owner/img@" D64, "ghcr.io", "owner/img", "", D64},
	{"127.0.0.1:5443/busybox:1.36", "127.0.0.1:5443", "busybox", "1.36", ""},
	{"[::1]:5000/x", "[::1]:5000", "x", "latest", ""},
	{"[::1]/x", "[::1]", "x", "latest", ""},
	{"[2001:DB8::1]:443/ns/x:y", "[2001:DB8::1]:443", "ns/x", "y", ""},
	{"registry.example.com:443/team/app:2024.01.01-rc_1", "registry.example.com:443", "team/app",
	 "2024.01.01-rc_1", ""},
	{"my-registry.local/ns/app", "my-registry.local", "ns/app", "latest", ""},
	{"sub.domain.example.com:5000/a/b/c/d:t", "sub.domain.example.com:5000", "a/b/c/d", "t", ""},
	{"a.b-c.d/e", "a.b-c.d", "e", "latest", ""},
	{"x--y.com/e", "x--y.com", "e", "latest", ""},
	{"host:0/x", "host:0", "x", "latest", ""},
	/* an uppercase first component can only be a domain */
	{"Foo/bar", "Foo", "bar", "latest", ""},
	{"EXAMPLE.COM/x", "EXAMPLE.COM", "x", "latest", ""},
	/* path separators */
	{"x/a.b_c__d-e---f", "docker.io", "x/a.b_c__d-e---f", "latest", ""},
	{"a-b/c_d", "docker.io", "a-b/c_d", "latest", ""},
	{"a0/9z", "docker.io", "a0/9z", "latest", ""},
	/* tags */
	{"a:_tag", "docker.io", "library/a", "_tag", ""},
	{"a:TAG.With-Dots_", "docker.io", "library/a", "TAG.With-Dots_", ""},
	{"a:0", "docker.io", "library/a", "0", ""},
	/* digests: tag and digest are both kept */
	{"alpine@" D64, "docker.io", "library/alpine", "", D64},
	{"alpine:3.19@" D64, "docker.io", "library/alpine", "3.19", D64},
	{"localhost:5000/x@" D64, "localhost:5000", "x", "", D64},
	{"[::1]:5000/a/b:t@" D64, "[::1]:5000", "a/b", "t", D64},
};

struct bad_case {
	const char *in, *msg; /* msg: a substring the error must hold */
};

static const struct bad_case bad_cases[] = {
	{"", "empty reference"},
	{"Alpine", "repository name must be lowercase"},
	{"ALPINE:latest", "repository name must be lowercase"},
	{"user/Repo", "repository name must be lowercase"},
	{"docker.io/Library/alpine", "repository name must be lowercase"},
	{"host.com/Foo", "repository name must be lowercase"},
	{"UPPER.com:5000", "repository name must be lowercase"},
	{"Foo_Bar/x", "repository name must be lowercase"},
	{"alpine:", "tag must be"},
	{"alpine:-tag", "tag must be"},
	{"alpine:.tag", "tag must be"},
	{"alpine:1.0:2", "tag must be"},
	{"alpine:t+g", "tag must be"},
	{"alpine@", "invalid digest"},
	{"alpine@sha256:abc", "invalid digest"},
	{"alpine@sha256", "invalid digest"},
	{"alpine@:" H64, "invalid digest"},
	{"alpine@sha256:" H64 "x", "invalid digest"},
	{"alpine@sha256:" "c1aabb73d2339c5ebaa3681de2e9d9c18d57485045a4e311d9f8004bec208d6",
	 "invalid checksum digest length"},
	{"alpine@sha256:" "C1AABB73D2339C5EBAA3681DE2E9D9C18D57485045A4E311D9F8004BEC208D67",
	 "invalid checksum digest format"},
	{"alpine@sha512:" H64 H64, "unsupported digest algorithm sha512"},
	{"alpine@md5:" "d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm md5"},
	{"alpine@@" D64, "invalid digest"},
	{"alpine@" D64 "@" D64, "invalid digest"},
	{"alpine@" D64 ":tag", "invalid digest"},
	{H64, "cannot specify 64-byte hexadecimal strings"},
	{"/alpine", "repository name may only hold"},
	{"alpine/", "repository name may only hold"},
	{"a//b", "repository name may only hold"},
	{"-alpine", "repository name may only hold"},
	{"alpine-", "repository name may only hold"},
	{"a..b", "repository name may only hold"},
	{"a._b", "repository name may only hold"},
	{"a___b", "repository name may only hold"},
	{"_a", "repository name may only hold"},
	{"a b", "repository name may only hold"},
	{"alpine\n", "repository name may only hold"},
	{"caf\xc3\xa9", "repository name may only hold"},
	{"docker.io/", "missing repository name"},
	{":tag", "missing repository name"},
	{"@" D64, "missing repository name"},
	{"a_b.com/x", "invalid registry host"},
	{"host-.com/x", "invalid registry host"},
	{"-host.com/x", "invalid registry host"},
	{"a..com/x", "invalid registry host"},
	{".com/x", "invalid registry host"},
	{"localhost:/x", "invalid registry host"},
	{"localhost:50a/x", "invalid registry host"},
	{"host:5000:1/x", "invalid registry host"},
	{"[::1/x", "invalid registry host"},
	{"[]:5000/x", "invalid registry host"},
	{"[::g]/x", "invalid registry host"},
	{"[::1]x/y", "invalid registry host"},
	{"alpine:ta/g", "invalid registry host"},
};

static void
t_ok_table(void)
{
	size_t i;
	for (i = 0; i < sizeof ok_cases / sizeof *ok_cases; i++) {
		const struct ok_case *c = &ok_cases[i];
		struct ref r;
		struct err e = {0};
		int rc = ref_parse(&r, c->in, &e);
		int good = rc == 0 && !strcmp(r.domain, c->domain) && !strcmp(r.path, c->path) &&
			   !strcmp(r.tag, c->tag) && !strcmp(r.digest, c->digest);
		if (!good)
			printf("  %s: rc %d (%s) got %s | %s | %s | %s\n", c->in, rc, e.msg, r.domain, r.path,
			       r.tag, r.digest);
		CHECK(good);
	}
}

static void
t_bad_table(void)
{
	size_t i;
	for (i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		const struct bad_case *c = &bad_cases[i];
		struct ref r;
		struct err e = {0};
		int rc = ref_parse(&r, c->in, &e);
		int good = rc == -1 && e.code == ERR_FORMAT && strstr(e.msg, c->msg) &&
			   !strchr(e.msg, '\n');
		if (!good)
			printf("  %s: rc %d, msg \"%s\", wanted \"%s\"\n", c->in, rc, e.msg, c->msg);
		CHECK(good);
		/* Every reference error but one says so the way Docker does. */
		if (!strstr(c->msg, "64-byte"))
			CHECK(!strncmp(e.msg, "invalid reference format: ", 26));
	}
}

/* The full name (domain/path) may be 255 characters, not 256. */
static void
t_name_length(void)
{
	char in[400], want[300];
	struct ref r;
	struct err e;
	size_t n = 255 - strlen("docker.io/library/");

	memset(in, 'a', n);
	in[n] = 0;
	CHECK(ref_parse(&r, in, &e) == 0);
	ref_name(&r, want, sizeof want);
	CHECK(strlen(want) == 255);
	in[n] = 'a';
	in[n + 1] = 0;
	CHECK(ref_parse(&r, in, &e) == -1);
	CHECK(strstr(e.msg, "must not be more than 255 characters") != NULL);

	/* The same with a registry of our own: "h.io/" + path. */
	memcpy(in, "h.io/", 5);
	memset(in + 5, 'b', 250);
	in[255] = 0;
	CHECK(ref_parse(&r, in, &e) == 0);
	CHECK(strlen(r.path) == 250);
	strcpy(in + 255, ":tag");
	CHECK(ref_parse(&r, in, &e) == 0 && !strcmp(r.tag, "tag")); /* the tag does not count */
	in[255] = 'b';
	in[256] = 0;
	CHECK(ref_parse(&r, in, &e) == -1);

	/* A tag of 128 characters is the most. */
	strcpy(in, "a:");
	memset(in + 2, 't', 128);
	in[130] = 0;
	CHECK(ref_parse(&r, in, &e) == 0 && strlen(r.tag) == 128);
	in[130] = 't';
	in[131] = 0;
	CHECK(ref_parse(&r, in, &e) == -1 && strstr(e.msg, "tag must be"));

	/* Huge input is refused before any work. */
	{
		char *big = xmalloc(100001);
		memset(big, 'a', 100000);
		big[100000] = 0;
		CHECK(ref_parse(&r, big, &e) == -1 && e.code == ERR_FORMAT);
		free(big);
	}
}

static void
t_failure_clears(void)
{
	struct ref r;
	struct err e;
	CHECK(ref_parse(&r, "alpine", &e) == 0);
	CHECK(ref_parse(&r, "Alpine", &e) == -1);
	CHECK(r.domain[0] == 0 && r.path[0] == 0 && r.tag[0] == 0 && r.digest[0] == 0);
}

static void
t_names(void)
{
	static const struct {
		const char *in, *name, *familiar, *api;
	} cases[] = {
		{"alpine", "docker.io/library/alpine", "alpine", "registry-1.docker.io"},
		{"docker.io/library/alpine:3", "docker.io/library/alpine", "alpine", "registry-1.docker.io"},
		{"index.docker.io/alpine@" D64, "docker.io/library/alpine", "alpine",
		 "registry-1.docker.io"},
		{"user/repo:x", "docker.io/user/repo", "user/repo", "registry-1.docker.io"},
		{"library/a/b", "docker.io/library/a/b", "library/a/b", "registry-1.docker.io"},
		{"localhost:5000/a/b:t", "localhost:5000/a/b", "localhost:5000/a/b", "localhost:5000"},
		{"localhost/library/x", "localhost/library/x", "localhost/library/x", "localhost"},
		{"127.0.0.1:5443/busybox:1.36", "127.0.0.1:5443/busybox", "127.0.0.1:5443/busybox",
		 "127.0.0.1:5443"},
		{"[::1]:5000/x", "[::1]:5000/x", "[::1]:5000/x", "[::1]:5000"},
		{"quay.io/coreos/etcd", "quay.io/coreos/etcd", "quay.io/coreos/etcd", "quay.io"},
	};
	size_t i;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct ref r;
		struct err e;
		char name[300], fam[300];
		CHECK(ref_parse(&r, cases[i].in, &e) == 0);
		ref_name(&r, name, sizeof name);
		ref_familiar(&r, fam, sizeof fam);
		CHECK(!strcmp(name, cases[i].name));
		CHECK(!strcmp(fam, cases[i].familiar));
		CHECK(!strcmp(ref_api_host(&r), cases[i].api));
	}
	/* Small buffers are cut short, always terminated. */
	{
		struct ref r;
		struct err e;
		char small[8];
		CHECK(ref_parse(&r, "quay.io/coreos/etcd", &e) == 0);
		memset(small, 'x', sizeof small);
		ref_name(&r, small, sizeof small);
		CHECK(!strcmp(small, "quay.io"));
		ref_familiar(&r, small, 4);
		CHECK(!strcmp(small, "qua"));
		ref_familiar(&r, small, 1);
		CHECK(small[0] == 0);
		small[0] = 'x';
		ref_name(&r, small, 0); /* no room: nothing written */
		CHECK(small[0] == 'x');
		CHECK(ref_parse(&r, "alpine", &e) == 0);
		ref_familiar(&r, small, sizeof small);
		CHECK(!strcmp(small, "alpine"));
		ref_familiar(&r, small, 3);
		CHECK(!strcmp(small, "al"));
	}
	/* The familiar name parses back to the same reference. */
	for (i = 0; i < sizeof ok_cases / sizeof *ok_cases; i++) {
		struct ref a, b;
		struct err e;
		char fam[300];
		if (ref_parse(&a, ok_cases[i].in, &e) < 0)
			continue;
		ref_familiar(&a, fam, sizeof fam);
		CHECK(ref_parse(&b, fam, &e) == 0);
		CHECK(!strcmp(a.domain, b.domain) && !strcmp(a.path, b.path));
	}
}

static void
t_digest_valid(void)
{
	CHECK(digest_valid(D64));
	CHECK(digest_valid("sha256:0000000000000000000000000000000000000000000000000000000000000000"));
	CHECK(!digest_valid(NULL));
	CHECK(!digest_valid(""));
	CHECK(!digest_valid("sha256:"));
	CHECK(!digest_valid(H64));
	CHECK(!digest_valid(D64 "0"));
	CHECK(!digest_valid("sha256:c1aabb73d2339c5ebaa3681de2e9d9c18d57485045a4e311d9f8004bec208d6"));
	CHECK(!digest_valid("sha256:C1AABB73D2339C5EBAA3681DE2E9D9C18D57485045A4E311D9F8004BEC208D67"));
	CHECK(!digest_valid("sha256:g1aabb73d2339c5ebaa3681de2e9d9c18d57485045a4e311d9f8004bec208d67"));
	CHECK(!digest_valid("SHA256:" H64));
	CHECK(!digest_valid("sha512:" H64));
	CHECK(!digest_valid("sha256-" H64));
	CHECK(!digest_valid(" sha256:" H64));
	CHECK(!digest_valid(D64 "\n"));
}

int
main(void)
{
	RUN(t_ok_table);
	RUN(t_bad_table);
	RUN(t_name_length);
	RUN(t_failure_clears);
	RUN(t_names);
	RUN(t_digest_valid);
	CHECK_MAIN_END;
}
