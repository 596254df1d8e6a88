# dock: one static executable from one translation unit (dock.c includes src/*.c).
MUSL_CC   ?= musl-gcc
HOST_CC   ?= gcc
SAN_CC    ?= clang
WARN       = -Wall -Wextra -Werror
CFLAGS    ?= -O2
BR_INC     = vendor/src/bearssl-0.6/inc
BR_MUSL    = vendor/build/musl/libbearssl.a
BR_GLIBC   = vendor/build/glibc/libbearssl.a
# musl-gcc does not see the kernel's UAPI headers: build/kinc points at Debian's linux-libc-dev.
KINC       = build/kinc
COMMON     = -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -Ibuild -I$(BR_INC)
SRCS       = dock.c dock.h $(wildcard src/*.c)
UNIT_SRCS  = $(wildcard tests/unit/*.c)
UNIT_BINS  = $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
SANFLAGS   = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

all: dock

dock: $(SRCS) build/anchors.h $(BR_MUSL) $(KINC)/.ok
	$(MUSL_CC) $(COMMON) $(CFLAGS) -isystem $(KINC) -static -s -o $@ dock.c $(BR_MUSL)

# bench/run.sh: dock without the sealed re-exec (src/confine.c), to time what the re-exec costs
build/dock-unsealed: $(SRCS) build/anchors.h $(BR_MUSL) $(KINC)/.ok
	$(MUSL_CC) $(COMMON) $(CFLAGS) -DDOCK_UNSEALED -isystem $(KINC) -static -s -o $@ dock.c $(BR_MUSL)

$(BR_MUSL) $(BR_GLIBC):
	vendor/bearssl.sh

$(KINC)/.ok:
	mkdir -p $(KINC)
	ln -sfn /usr/include/linux $(KINC)/linux
	ln -sfn /usr/include/asm-generic $(KINC)/asm-generic
	ln -sfn /usr/include/$$($(HOST_CC) -print-multiarch)/asm $(KINC)/asm
	touch $@

# Trust anchors: the build machine's CA bundle, converted by our own generator.
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
build/mkanchors: tools/mkanchors.c $(BR_GLIBC)
	@mkdir -p build
	$(HOST_CC) $(COMMON) -O2 -o $@ tools/mkanchors.c $(BR_GLIBC)
build/anchors.h: build/mkanchors $(CA_BUNDLE)
	build/mkanchors $(CA_BUNDLE) > $@.tmp && mv $@.tmp $@

# Unit tests: each tests/unit/X.c includes only the modules it tests; built with ASan+UBSan on glibc.
unit: $(UNIT_BINS)
build/unit/%: tests/unit/%.c tests/unit/check.h $(SRCS) build/anchors.h $(BR_GLIBC)
	@mkdir -p build/unit
	$(SAN_CC) $(COMMON) $(SANFLAGS) -Wno-unused-function -o $@ $< $(BR_GLIBC)

# Each module must compile on its own with only dock.h (keeps modules honest about what they use).
check-modules: build/anchors.h $(KINC)/.ok
	for f in src/*.c; do $(MUSL_CC) $(COMMON) -isystem $(KINC) -fsyntax-only -include dock.h $$f || exit 1; done

test: dock unit
	./test.sh

clean:
	rm -rf build dock

.PHONY: all unit test clean check-modules fuzz fuzz-replay fuzz-seeds lint

# ---- static checks: a small, explicit list the code keeps clean (a finding fails the build; a false
# positive is suppressed on its line with NOLINT(check) or cppcheck-suppress and the reason).
# cppcheck: per module with dock.h, the categories "warning", "portability" and "performance".
# cppcheck 2.10 cannot parse a compound literal inside ?: (src/cp.c): that one file's parse error
# is suppressed, so cp.c is checked by clang-tidy only.
# clang-tidy: the unity build (dock.c, every module) with these checks:
LINT_TIDY_CHECKS = -*,$\
	bugprone-assignment-in-if-condition,$\
	bugprone-bool-pointer-implicit-conversion,$\
	bugprone-incorrect-roundings,$\
	bugprone-infinite-loop,$\
	bugprone-integer-division,$\
	bugprone-misplaced-widening-cast,$\
	bugprone-not-null-terminated-result,$\
	bugprone-posix-return,$\
	bugprone-redundant-branch-condition,$\
	bugprone-signed-char-misuse,$\
	bugprone-sizeof-expression,$\
	bugprone-suspicious-memset-usage,$\
	bugprone-suspicious-missing-comma,$\
	bugprone-suspicious-semicolon,$\
	bugprone-too-small-loop-variable,$\
	cert-flp30-c,$\
	misc-redundant-expression,$\
	readability-misleading-indentation,$\
	clang-analyzer-core.*,$\
	clang-analyzer-unix.*,$\
	clang-analyzer-deadcode.DeadStores
LINT_DEFS = -std=gnu11 -D_GNU_SOURCE -I. -Ibuild -I$(BR_INC)

lint: build/anchors.h
	cppcheck --quiet --std=c11 -D_GNU_SOURCE -D__linux__ -D__x86_64__ -I. -Ibuild --include=dock.h \
		--enable=warning,portability,performance --inline-suppr --error-exitcode=1 \
		--suppress=missingIncludeSystem --suppress=internalAstError:src/cp.c -j2 src/*.c
	clang-tidy --quiet --warnings-as-errors='*' -checks='$(LINT_TIDY_CHECKS)' -header-filter='.*' \
		dock.c -- $(LINT_DEFS)

# ---- fuzzing: one harness per parser of untrusted input, tests/fuzz/NAME.c.
# `make fuzz` builds each with libFuzzer and runs it FUZZ_SECONDS; new inputs go to build/fuzz/corpus/NAME
# (the committed seeds in tests/fuzz/corpus/NAME are read, never written), crashes to tests/corpus/NAME/.
# `make fuzz-replay` builds the same harnesses without libFuzzer (a main() that replays files) into
# build/fuzz/ (at -O0: they build fast and replay little) and runs them over the seeds and every
# stored crash.  `make fuzz FUZZ_NAMES=tar` picks one.
FUZZ_SRCS      = $(wildcard tests/fuzz/*.c)
FUZZ_NAMES     = $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_SECONDS  ?= 60
FUZZ_ARGS     ?=
FUZZ_WRAP     ?=
FUZZ_DEPS      = tests/fuzz/fuzz.h $(wildcard tests/fuzz/*.h) $(SRCS) build/anchors.h $(BR_GLIBC)
FUZZ_CFLAGS    = -g -fno-omit-frame-pointer -fno-sanitize-recover=all -Wno-unused-function
# longest input each harness is given
FUZZ_LEN_inflate  = 32768
FUZZ_LEN_tar      = 32768
FUZZ_LEN_json     = 16384
FUZZ_LEN_manifest = 16384
FUZZ_LEN_http     = 16384
FUZZ_LEN_chunked  = 8192
FUZZ_LEN_user     = 8192
FUZZ_LEN_san      = 4096
FUZZ_LEN_url      = 9000
FUZZ_LEN_auth     = 4096
FUZZ_LEN_ref      = 1200
FUZZ_LEN_dns      = 1500

build/fuzz/%: tests/fuzz/%.c $(FUZZ_DEPS)
	@mkdir -p build/fuzz
	$(SAN_CC) $(COMMON) -O0 $(FUZZ_CFLAGS) -fsanitize=address,undefined -o $@ $< $(BR_GLIBC)

build/fuzz/lf/%: tests/fuzz/%.c $(FUZZ_DEPS)
	@mkdir -p build/fuzz/lf
	$(SAN_CC) $(COMMON) -O1 $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -DDOCK_LIBFUZZER \
		-o $@ $< $(BR_GLIBC)

fuzz: $(FUZZ_NAMES:%=build/fuzz/lf/%)
	@failed=""; for nl in $(foreach n,$(FUZZ_NAMES),$(n)=$(or $(FUZZ_LEN_$(n)),4096)); do \
		n=$${nl%=*}; len=$${nl#*=}; \
		mkdir -p build/fuzz/corpus/$$n tests/corpus/$$n; \
		dict=""; [ -f tests/fuzz/$$n.dict ] && dict=-dict=tests/fuzz/$$n.dict; \
		echo "fuzz $$n: $(FUZZ_SECONDS) s, max_len $$len"; \
		$(FUZZ_WRAP) build/fuzz/lf/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=$$len \
			-print_final_stats=1 -timeout=25 -artifact_prefix=tests/corpus/$$n/ $$dict $(FUZZ_ARGS) \
			build/fuzz/corpus/$$n tests/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 \
			|| failed="$$failed $$n"; \
		grep -E '^#[0-9]+ *DONE|stat::number_of_executed_units|^==[0-9]+==ERROR|^SUMMARY' build/fuzz/$$n.log; \
		rmdir tests/corpus/$$n 2>/dev/null; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed (build/fuzz/NAME.log, tests/corpus/NAME/)"; exit 1; fi

# `make fuzz-seeds`: what `make fuzz` found that reaches edges the committed seeds do not (libFuzzer's
# merge on edges alone, inputs up to 2 KiB) is added to tests/fuzz/corpus/NAME as lf-* files.
fuzz-seeds: $(FUZZ_NAMES:%=build/fuzz/lf/%)
	@for n in $(FUZZ_NAMES); do \
		m=build/fuzz/merge/$$n; rm -rf $$m; mkdir -p $$m; cp tests/fuzz/corpus/$$n/* $$m/; \
		mkdir -p build/fuzz/corpus/$$n; \
		build/fuzz/lf/$$n -merge=1 -use_counters=0 -max_len=2048 $$m build/fuzz/corpus/$$n \
			>$$m.log 2>&1 || { tail $$m.log; exit 1; }; \
		added=0; for f in $$m/*; do b=$${f##*/}; [ -e tests/fuzz/corpus/$$n/$$b ] && continue; \
			cp $$f tests/fuzz/corpus/$$n/lf-$$b; added=$$((added + 1)); done; \
		echo "fuzz-seeds $$n: $$added inputs added"; \
	done

fuzz-replay: $(FUZZ_NAMES:%=build/fuzz/%)
	@failed=""; for n in $(FUZZ_NAMES); do \
		build/fuzz/$$n tests/fuzz/corpus/$$n tests/corpus/$$n || failed="$$failed $$n"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-replay: failed:$$failed"; exit 1; fi
