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
PKGS     = openssl libsodium libcdb libcurl
CPPFLAGS += -D_GNU_SOURCE -Ilib -DRELAY_BINDIR='"$(BINDIR)"'
CFLAGS  += -std=c11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           $(shell pkg-config --cflags $(PKGS))
LDFLAGS += -Wl,--as-needed
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lunbound
# events: libcurl for relay-events (--as-needed: only what calls it links it)
LDLIBS  += $(shell pkg-config --libs libcurl)
# cluster (issue 16): hiredis for relay-send's shared limits (send/redis.c)
LDLIBS  += -lhiredis

# ---- hardening (tests/hardening.bats checks it with hardening-check) ----
# PIE everywhere (relay-queue: -static-pie), stack protector, stack clash
# and CET protection, FORTIFY_SOURCE (3 where the compiler has it, else
# 2; it needs -O1 or more), full RELRO. The sanitizer build (make asan)
# turns FORTIFY off: ASan's interceptors and the _chk functions disagree.
cc_has   = $(shell $(CC) $(1) -Werror -E -x c /dev/null >/dev/null 2>&1 && echo $(1))
FORTIFY_LEVEL := $(shell printf '\043include <stdio.h>\n\043if __USE_FORTIFY_LEVEL < 3\n\043error\n\043endif\n' | \
	$(CC) -O2 -D_FORTIFY_SOURCE=3 -Werror -E -x c - >/dev/null 2>&1 && echo 3 || echo 2)
FORTIFY ?= $(if $(filter -O1 -O2 -O3 -Os -Oz -Og -Ofast,$(OPT)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=$(FORTIFY_LEVEL))
HARDEN  := -fPIE -fstack-protector-strong $(call cc_has,-fstack-clash-protection) \
	$(call cc_has,-fcf-protection)
HARDEN_LD := -pie -Wl,-z,relro,-z,now
CPPFLAGS += $(FORTIFY)
CFLAGS   += $(HARDEN)
LDFLAGS  += $(HARDEN_LD)
# ---- end of hardening ----

LIBSRC  := $(sort $(wildcard lib/*/*.c))
LIBOBJ  := $(LIBSRC:lib/%.c=$(BUILD)/obj/lib/%.o)
CMDSRC  := $(sort $(wildcard cmd/*.c))
PROGS   := $(CMDSRC:cmd/%.c=$(BUILD)/bin/%)
TSRC    := $(sort $(wildcard tests/c/t_*.c))
TPROGS  := $(TSRC:tests/c/%.c=$(BUILD)/tests/%)
HDRS    := $(wildcard lib/*/*.h)

all: $(PROGS) $(BUILD)/bin/sendmail $(BUILD)/bin/mailq $(BUILD)/bin/newaliases

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
STATIC_QUEUE ?= -static-pie -Wl,-z,relro,-z,now
$(BUILD)/bin/relay-queue: cmd/relay-queue.c $(BUILD)/librelay.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(STATIC_QUEUE) -o $@ $< $(BUILD)/librelay.a -lcdb

# ---- issue 13: relay-httpd, the only program on libmicrohttpd and
# jansson (lib/http/; the static archive keeps them out of the others).
# lib/http/page.c takes in page.html with .incbin.
HTTPD_PKGS = libmicrohttpd jansson
$(BUILD)/obj/lib/http/%.o: CFLAGS += $(shell pkg-config --cflags $(HTTPD_PKGS))
$(BUILD)/obj/lib/http/page.o: lib/http/page.html
$(BUILD)/bin/relay-httpd: cmd/relay-httpd.c $(BUILD)/librelay.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/librelay.a \
	  $(shell pkg-config --libs $(HTTPD_PKGS)) $(LDLIBS) -lpthread
# ---- end of issue 13 ----

# relay-inject behaves as sendmail, mailq or newaliases when called by
# that name.
$(BUILD)/bin/sendmail $(BUILD)/bin/mailq $(BUILD)/bin/newaliases: $(BUILD)/bin/relay-inject
	ln -sf relay-inject $@

$(BUILD)/tests/%: tests/c/%.c $(BUILD)/librelay.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/librelay.a $(LDLIBS)

tests: all $(TPROGS) $(BUILD)/tests/libfaults.so

# ---- fault injection (issue 10): an LD_PRELOAD shim for the tests that
# makes fork(), write() and fsync() fail (tests/c/faults.c says how)
$(BUILD)/tests/libfaults.so: tests/c/faults.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O2 -g -Wall -Wextra -Werror -o $@ $< -ldl
# ---- end of fault injection ----

check: tests
	RELAY_BUILD=$(abspath $(BUILD)) tests/run

# The same tests, built with AddressSanitizer and UBSan (no FORTIFY, no
# static relay-queue: neither works with the sanitizers). Its last line
# is the suite's "N passed, N failed" (.ci/run ends with it).
asan:
	$(MAKE) --no-print-directory BUILD=build-asan CC=$(CC) STATIC_QUEUE= FORTIFY= \
	  OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	  LDFLAGS='-fsanitize=address,undefined' check

# relay's Debian packages (debian/; tests/deb.bats installs them), built
# in a copy of the tree so that this one stays clean:
# $(BUILD)/deb/relay_*.deb and relay-sendmail_*.deb.
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	tar --exclude=./build --exclude=./build-asan --exclude=./build-fuzz \
	  --exclude=./$(BUILD) --exclude=./.git -cf - . | tar -C $(BUILD)/deb/src -xf -
	cd $(BUILD)/deb/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	rm -rf $(BUILD)/deb/src

bench: all
	bench/run

install: all
	scripts/install-tree "$(DESTDIR)" "$(BINDIR)" "$(MANDIR)" "$(BUILD)/bin"

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all tests check asan deb bench install clean
.SECONDARY:

# ---- fuzzing (issue 10): each libFuzzer target for FUZZ_SECONDS (by hand,
# not in CI): scripts/fuzz-run NAME for the parsers of outside input, then
# the SMTP reply parser and DKIM. A crash stops it (input in build-fuzz/).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = addr intake conf queue dsn dsnrec qqread proxy tlsa mtasts tlsrpt redis_url journal history share totals   # totals: issue 13 totals, state/counters/totals/; share: issue 16 share, the stream entries and health verdicts of Redis; dsnrec: the DSN records; qqread: relay-queue's protocol; proxy: PROXY v1/v2; tlsa, mtasts, tlsrpt: issue 15; redis_url: issue 16; journal: a worker's journal line (issue 10); history: issue 13, the 24 h files of state/history/
fuzz:
	for t in $(FUZZ_TARGETS); do FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz-run $$t || exit 1; done
	scripts/fuzz-smtp $(FUZZ_SECONDS)
	scripts/fuzz-dkim $(FUZZ_SECONDS)
	for f in aliases shape smtpd lanes events httpmsg unsub; do scripts/fuzz-$$f $(FUZZ_SECONDS) || exit 1; done
.PHONY: fuzz
