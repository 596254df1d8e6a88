/* fuzz.h: what the fuzz harnesses share.  Each tests/fuzz/NAME.c includes dock.h, src/util.c, the
 * modules it fuzzes, then this file, and defines LLVMFuzzerTestOneInput.  Built with
 * -DDOCK_LIBFUZZER it is a libFuzzer target (`make fuzz`); without, the main() below replays every
 * file of the directories it is given (the seed corpus and past crashes: `make fuzz-replay`), so
 * the ordinary sanitizer build re-checks them on every test run.
 *
 * Streaming harnesses take their first input byte as the split selector: 0 feeds the rest whole,
 * 1..127 in pieces of 1 + b % 64 bytes, 128..255 in pieces of irregular sizes from 1 to 4096 drawn
 * from a generator seeded by b, so every resumption path of a decoder gets its turn. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed check is a crash, so libFuzzer keeps the input and the replay run fails. */
#define FUZZ_CHECK(c)                                                                             \
	do {                                                                                      \
		if (!(c)) {                                                                       \
			fprintf(stderr, "fuzz check failed %s:%d: %s\n", __FILE__, __LINE__, #c);  \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* ---------------------------------------------------------------- splitting */

struct fuzz_split {
	uint8_t sel;
	uint32_t rng;
};

static void
fuzz_split_init(struct fuzz_split *s, uint8_t sel)
{
	s->sel = sel;
	s->rng = 0x9e3779b9u ^ sel;
}

/* Size of the next piece when left bytes remain (never 0 unless left is 0). */
static size_t
fuzz_piece(struct fuzz_split *s, size_t left)
{
	size_t k;
	if (s->sel == 0)
		k = left;
	else if (s->sel < 128)
		k = 1 + s->sel % 64;
	else {
		s->rng = s->rng * 1103515245u + 12345u;
		k = 1 + (s->rng >> 8) % 4096;
	}
	return k < left ? k : left;
}

/* ---------------------------------------------------------------- replay without libFuzzer */

#ifndef DOCK_LIBFUZZER
static int
fuzz_replay_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0, r;
	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			p = xrealloc(p, cap);
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	/* libFuzzer hands out a private copy, so reads past its end are caught; do the same. */
	{
		uint8_t *copy = xmalloc(n ? n : 1);
		memcpy(copy, p, n);
		free(p);
		LLVMFuzzerTestOneInput(copy, n);
		free(copy);
	}
	(*count)++;
	return 0;
}

/* Each argument: a directory (every regular file in it, sorted order not needed) or a file.  A
 * missing directory holds nothing (tests/corpus/NAME exists only once something was found). */
int
main(int argc, char **argv)
{
	int i, bad = 0;
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	for (i = 1; i < argc; i++) {
		size_t count = 0;
		struct stat st;
		DIR *d;
		struct dirent *de;
		if (stat(argv[i], &st) < 0) {
			if (errno == ENOENT)
				continue;
			perror(argv[i]);
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (fuzz_replay_file(argv[i], &count) < 0)
				bad = 1;
			continue;
		}
		if (!(d = opendir(argv[i]))) {
			perror(argv[i]);
			bad = 1;
			continue;
		}
		while ((de = readdir(d))) {
			char *path;
			if (de->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", argv[i], de->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && fuzz_replay_file(path, &count) < 0)
				bad = 1;
			free(path);
		}
		closedir(d);
		printf("fuzz-replay %s: %zu inputs from %s\n", name, count, argv[i]);
	}
	return bad;
}
#endif
