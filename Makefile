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

.PHONY: all unit test clean check-modules
