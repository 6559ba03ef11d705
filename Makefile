# relay: one Makefile. Every cmd/relay-X.c becomes $(BUILD)/bin/relay-X,
# linked against $(BUILD)/librelay.a made of every lib/WING/*.c
# (doc/architecture.md: one folder per stage of the mail's way).
# Every tests/c/t_*.c becomes $(BUILD)/tests/t_* (run by tests/unit.bats).
CC      ?= cc
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD   ?= build
OPT     ?= -O2 -g
PKGS     = openssl libsodium libcdb
CPPFLAGS += -D_GNU_SOURCE -Ilib -DRELAY_BINDIR='"$(BINDIR)"'
CFLAGS  += -std=c11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           $(shell pkg-config --cflags $(PKGS))
LDFLAGS += -Wl,--as-needed
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lunbound

LIBSRC  := $(sort $(wildcard lib/*/*.c))
LIBOBJ  := $(LIBSRC:lib/%.c=$(BUILD)/obj/lib/%.o)
CMDSRC  := $(sort $(wildcard cmd/*.c))
PROGS   := $(CMDSRC:cmd/%.c=$(BUILD)/bin/%)
TSRC    := $(sort $(wildcard tests/c/t_*.c))
TPROGS  := $(TSRC:tests/c/%.c=$(BUILD)/tests/%)
HDRS    := $(wildcard lib/*/*.h)

all: $(PROGS) $(BUILD)/bin/sendmail

$(BUILD)/obj/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/librelay.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: cmd/%.c $(BUILD)/librelay.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/librelay.a $(LDLIBS)

# relay-queue runs once per message (and setuid): linked statically it
# starts in a fraction of the time (no dynamic loader); it needs only
# libc and tinycdb (lib/queue/info.c, which decodes the S line with
# libsodium's base64, is relay-send's, not relay-queue's).
# The sanitizer build links it like the others.
STATIC_QUEUE ?= -static
$(BUILD)/bin/relay-queue: cmd/relay-queue.c $(BUILD)/librelay.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(STATIC_QUEUE) -o $@ $< $(BUILD)/librelay.a -lcdb

# relay-inject behaves as sendmail when called by that name.
$(BUILD)/bin/sendmail: $(BUILD)/bin/relay-inject
	ln -sf relay-inject $@

$(BUILD)/tests/%: tests/c/%.c $(BUILD)/librelay.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/librelay.a $(LDLIBS)

tests: all $(TPROGS)

check: tests
	RELAY_BUILD=$(abspath $(BUILD)) tests/run

# The same tests, built with AddressSanitizer and UBSan.
asan:
	$(MAKE) BUILD=build-asan CC=$(CC) STATIC_QUEUE= \
	  OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	  LDFLAGS='-fsanitize=address,undefined' check

bench: all
	bench/run

install: all
	scripts/install-tree "$(DESTDIR)" "$(BINDIR)" "$(MANDIR)" "$(BUILD)/bin"

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all tests check asan bench install clean
.SECONDARY:

# ---- fuzzing (issue 10): each libFuzzer target for FUZZ_SECONDS (by hand,
# not in CI): scripts/fuzz-run NAME for the parsers of outside input, then
# the SMTP reply parser and DKIM. A crash stops it (input in build-fuzz/).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = addr intake conf queue dsn
fuzz:
	for t in $(FUZZ_TARGETS); do FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz-run $$t || exit 1; done
	scripts/fuzz-smtp $(FUZZ_SECONDS)
	scripts/fuzz-dkim $(FUZZ_SECONDS)
.PHONY: fuzz
