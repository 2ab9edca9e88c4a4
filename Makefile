# rcptdir — GNU make build.
#
# Targets: all (default), check, demo, bench, fuzz, install, clean, format, format-check.
# SANITIZE=1 builds everything with ASan + UBSan into build/san/.

# ---- configuration: override on the command line -------------------------------------
CC        = cc
CFLAGS    = -O2 -g
LDFLAGS   =
PREFIX    = /usr/local
DESTDIR   =
SBINDIR   = $(PREFIX)/sbin
MANDIR    = $(PREFIX)/share/man
# /etc/rcptdir for PREFIX=/usr (a distribution's layout), else under PREFIX (/usr/local/etc/rcptdir)
SYSCONFDIR = $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/etc/rcptdir
SYSTEMDDIR = $(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d
SANITIZE  = 0
FUZZ_SECONDS = 20
# ---------------------------------------------------------------------------------------

ifeq ($(SANITIZE),1)
BUILD    ?= build/san
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS  =
endif

PKGS      = ldap lber lmdb jansson libmicrohttpd libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN = -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
       -Wpointer-arith -Wcast-qual -Wsign-compare -Wformat=2 -Wvla
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -I. $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
LIBS = $(PKG_LIBS) -lz -lpthread

LIB_SRCS     = $(wildcard common/*.c) $(wildcard schema/*.c)
SYNCD_SRCS   = $(wildcard syncd/*.c)
LOOKUPD_SRCS = $(wildcard lookupd/*.c)
UNIT_SRCS    = $(wildcard tests/unit/test_*.c)
# linked into every unit test: TEST_FILTER=PATTERN runs only the cmocka tests it matches
UNIT_FILTER_SRC = tests/unit/cmocka_filter.c
TOOL_SRCS    = $(wildcard tests/tools/*.c)
BENCH_SRCS   = $(wildcard tests/bench/*.c)
FUZZ_SRCS    = $(wildcard tests/fuzz/fuzz_*.c)

# the daemons' modules without their main(), for unit tests and fuzzers
SYNCD_MODS   = $(filter-out syncd/syncd.c,$(SYNCD_SRCS))
LOOKUPD_MODS = $(filter-out lookupd/lookupd.c,$(LOOKUPD_SRCS))

LIB      = $(BUILD)/librcptdir.a
SYNCD_LIB   = $(BUILD)/libsyncd.a
LOOKUPD_LIB = $(BUILD)/liblookupd.a
SYNCD    = $(BUILD)/rcptdir-syncd
LOOKUPD  = $(BUILD)/rcptdir-lookupd
UNITS    = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOLS    = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
BENCHES  = $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
FUZZERS  = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
# every object, and the dependency file the compiler writes beside each (-MMD)
ALL_OBJS = $(call obj,$(LIB_SRCS) $(SYNCD_SRCS) $(LOOKUPD_SRCS) $(UNIT_SRCS) $(TOOL_SRCS) \
                      $(BENCH_SRCS) $(UNIT_FILTER_SRC))
DEPS     = $(ALL_OBJS:.o=.d)

.PHONY: all tests check unit integration demo bench fuzz fuzz-run install clean deps \
        format format-check
all: $(SYNCD) $(LOOKUPD)

# the benchmark's programs too, so that a change that breaks them shows
tests: all $(UNITS) $(TOOLS) $(BENCHES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# objects that only a pattern rule names (unit tests, tools, benchmarks) would be intermediate
# files, which make deletes after the link and so rebuilds on every run: keep them all
.SECONDARY: $(ALL_OBJS)

$(LIB): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(SYNCD_LIB): $(call obj,$(SYNCD_MODS))
	rm -f $@
	ar rcs $@ $^

$(LOOKUPD_LIB): $(call obj,$(LOOKUPD_MODS))
	rm -f $@
	ar rcs $@ $^

$(SYNCD): $(BUILD)/obj/syncd/syncd.o $(SYNCD_LIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(LOOKUPD): $(BUILD)/obj/lookupd/lookupd.o $(LOOKUPD_LIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(UNIT_FILTER_SRC)) $(SYNCD_LIB) \
                  $(LOOKUPD_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# libFuzzer targets: clang, ASan + UBSan, linked against the library sources directly.
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(SYNCD_MODS) $(LOOKUPD_MODS) \
              $(wildcard common/*.h schema/*.h syncd/*.h lookupd/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(SYNCD_MODS) $(LOOKUPD_MODS) $(LIBS)

fuzz: $(FUZZERS)

fuzz-run: fuzz
	scripts/fuzz-run $(FUZZ_SECONDS) $(FUZZERS)

deps:
	scripts/deps

# check: install what is missing, build, run every test; the last line is
# "N passed, M failed, K skipped".
check: deps
	$(MAKE) tests
	scripts/run-tests $(BUILD)

unit: tests
	scripts/run-tests --unit-only $(BUILD)

integration: tests
	scripts/run-tests --integration-only $(BUILD)

demo: deps
	$(MAKE) all
	scripts/demo $(BUILD)

bench: deps
	$(MAKE) all $(TOOLS) $(BENCHES)
	scripts/bench $(BUILD)

# the units and the cron example name the installed programs and configuration
INSTALL_PATHS = -e 's|/usr/sbin/rcptdir-|$(SBINDIR)/rcptdir-|g' -e 's|/etc/rcptdir/|$(SYSCONFDIR)/|g'

install: all
	install -d $(DESTDIR)$(SBINDIR)
	install -m 755 $(SYNCD) $(LOOKUPD) $(DESTDIR)$(SBINDIR)/
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 docs/rcptdir.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 docs/rcptdir-syncd.8 docs/rcptdir-lookupd.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(SYSCONFDIR)
	install -m 644 docs/rcptdir.conf.example $(DESTDIR)$(SYSCONFDIR)/rcptdir.conf.example
	sed $(INSTALL_PATHS) contrib/rcptdir.cron >$(DESTDIR)$(SYSCONFDIR)/rcptdir.cron.example
	chmod 644 $(DESTDIR)$(SYSCONFDIR)/rcptdir.cron.example
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSUSERSDIR)
	for u in rcptdir-lookupd.service rcptdir-syncd.service rcptdir-syncd.timer \
	    rcptdir-syncd-watch.service; do \
	    sed $(INSTALL_PATHS) contrib/$$u >$(DESTDIR)$(SYSTEMDDIR)/$$u && \
	    chmod 644 $(DESTDIR)$(SYSTEMDDIR)/$$u || exit 1; \
	done
	install -m 644 contrib/rcptdir.sysusers $(DESTDIR)$(SYSUSERSDIR)/rcptdir.conf

# deb: the Debian packages (rcptdir, rcptdir-dbgsym) in build/deb, built by dpkg-buildpackage
# in a clean copy of this tree (scripts/build-deb)
.PHONY: deb
deb:
	scripts/build-deb build/deb

format:
	clang-format -i $(wildcard common/*.[ch] schema/*.[ch] syncd/*.[ch] lookupd/*.[ch] \
	    tests/*/*.[ch])

format-check:
	scripts/format-check

clean:
	rm -rf build

# the dependency files of this BUILD (build/, build/san/ or BUILD=...), where they exist yet
-include $(wildcard $(DEPS))
