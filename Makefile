# opsbase build. `make run` and `make test` are the two commands a new user needs;
# both install missing Debian packages first (scripts/deps.sh).

PKGS    := libmicrohttpd sqlite3 jansson libsodium liboath uuid libpq libzstd libcurl libmagic xlsxwriter vips tesseract poppler-glib cairo
CC      ?= cc
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wvla \
           -Wno-missing-field-initializers
CSTD    := -std=c11 -D_GNU_SOURCE
# Images and OCR (src/files/media_dl.c) open these on first use instead of being
# linked: with what they bring (GLib, Leptonica, codecs) they were some eighty of
# the binary's shared libraries, loaded and relocated by every CLI command and
# server start. Their headers are still used; media_dl.c gets their sonames.
MEDIA_PKGS := vips tesseract poppler-glib cairo glib-2.0 gobject-2.0
LINK_PKGS  := $(filter-out $(MEDIA_PKGS),$(PKGS))
# -DOB_SONAME_X='"libx.so.N"' from the development link (none when it cannot be
# read: media_dl.c then uses the sonames of Debian 12)
soname = $(shell objdump -p $$(pkg-config --variable=libdir $(1) 2>/dev/null)/lib$(1).so 2>/dev/null | sed -n 's/^ *SONAME *//p')
soname_def = $(foreach n,$(call soname,$(1)),-DOB_SONAME_$(2)='"$(n)"')
MEDIA_SONAMES = $(call soname_def,vips,VIPS) $(call soname_def,tesseract,TESS) $(call soname_def,poppler-glib,POPPLER) \
                $(call soname_def,cairo,CAIRO) $(call soname_def,glib-2.0,GLIB) $(call soname_def,gobject-2.0,GOBJECT)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libunistring (Unicode case mapping and normalization) has no pkg-config file on Debian,
# nor has libharu (PDF exports)
PKG_LIBS   = $(shell pkg-config --libs $(LINK_PKGS) 2>/dev/null) -lhpdf -lunistring -lpthread -lm

# Build flavours: the default build and an ASan+UBSan build in its own tree.
ifeq ($(SAN),1)
  B      := build-san
  OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDSAN  := -fsanitize=address,undefined
else ifeq ($(RELEASE),1)
  B      := build-release
  OPT    := -O2 -g -DNDEBUG
  LDSAN  :=
else
  B      := build
  OPT    := -O2 -g
  LDSAN  :=
endif

CFLAGS  := $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) -Isrc -I$(B)
LDFLAGS := $(LDSAN)

SRCS     := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all run test test-long move-long unit e2e openapi-lint deps clean bench bench-pg bench-reserve bench-jobs bench-workflows bench-smoke fmt docs fuzz reliability crash crash-long \
        console console-check console-test

all: $(B)/opsbase

# Column handles (TICKETS_STATUS) and the list of tables (gen/resources.h)
# generated from the table declarations. Every object waits for the headers on
# a fresh tree; after that the .d files say which objects include them. The
# script rewrites a header only when its text changes (the stamp records the
# run), so editing a hook rebuilds only what includes it.
GEN_COLUMNS := $(B)/gen/columns.h
GEN_RESOURCES := $(B)/gen/resources.h
GEN_HEADERS := $(GEN_COLUMNS) $(GEN_RESOURCES)
DECL_SRCS   := $(shell find src/domain -name '*.c' | sort)

$(B)/gen/columns.stamp: scripts/gen-columns.py $(DECL_SRCS)
	@mkdir -p $(dir $@)
	python3 scripts/gen-columns.py $(GEN_COLUMNS) src
	@touch $@

$(GEN_HEADERS): $(B)/gen/columns.stamp
	@test -f $@ || python3 scripts/gen-columns.py $(GEN_COLUMNS) src

$(B)/obj/%.o: %.c | $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/src/files/media_dl.o: CFLAGS += $(MEDIA_SONAMES)

$(B)/libopsbase.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/opsbase: $(B)/obj/src/main.o $(B)/libopsbase.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libopsbase.a | $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(B)/libopsbase.a $(LDFLAGS) $(PKG_LIBS) -lcmocka

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

# Two pytest-xdist workers per core, each with its own data directory, server and
# (OPSBASE_TEST_DB=postgres) PostgreSQL cluster; a file stays on one worker, in
# order. Two a core because the suite mostly waits (a schedule's next minute, a
# job's poll, a server's start): one worker a core left the cores a third busy.
# E2E_JOBS=0 runs everything in one process.
E2E_JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
# Servers that tests start seal secret columns under this key (serve requires
# one; tests/e2e/conftest.py holds the same): it seals test data only. They also
# run without the tenants' per-user request limits (100 a minute by the seed's
# default), as the e2e harness does: tests/e2e/test_rate_limits.py tests those.
TEST_MASTER_KEY := 6f70736261736520746573742d6f6e6c79206d6173746572206b657920303031

e2e: $(B)/opsbase
	OPSBASE_BIN=$(CURDIR)/$(B)/opsbase /usr/bin/python3 -m pytest -q -n $(E2E_JOBS) --dist loadfile tests/e2e

# The OpenAPI document through Redocly and Spectral (tools/openapi-lint, npm).
openapi-lint: $(B)/opsbase
	@tools/openapi-lint/lint.sh $(CURDIR)/$(B)/opsbase

# The web console (web/, docs/console.md). Its built files are committed as
# src/api/console_bundle.c, so building the binary needs no npm; `make console`
# rebuilds them from the sources, `console-check` fails when the committed file
# is not what the sources build, `console-test` drives it in Chromium.
console:
	@scripts/deps.sh console
	cd web && npm run --silent build

console-check:
	@scripts/deps.sh console
	@mkdir -p $(B)
	@cd web && npx tsc --noEmit && node build.mjs --out $(CURDIR)/$(B)/console_bundle.c >/dev/null
	@cmp -s src/api/console_bundle.c $(B)/console_bundle.c \
	  || { echo "src/api/console_bundle.c does not match web/src: run make console and commit it"; exit 1; }
	@echo "console bundle matches its sources"

console-test: $(B)/opsbase
	cd web && OPSBASE_MASTER_KEY=$${OPSBASE_MASTER_KEY:-$(TEST_MASTER_KEY)} OPSBASE_SETTINGS_RATE_LIMITS=off OPSBASE_BIN=$(CURDIR)/$(B)/opsbase node --test --test-concurrency=1 ../tests/console/

# Benchmarks: a release build measured against the ceiling and a peer (bench/README.md).
bench:
	@$(MAKE) --no-print-directory RELEASE=1 all
	@bench/run.sh build-release/opsbase

# Only the PostgreSQL part of `make bench` (bench/pg.sh): opsbase against the libpq ceiling and Directus.
bench-pg:
	@$(MAKE) --no-print-directory RELEASE=1 all
	@BENCH_ONLY=pg bench/run.sh build-release/opsbase

# Stock reservations against the engines' bare conditional UPDATE (bench/README.md).
bench-reserve:
	@$(MAKE) --no-print-directory RELEASE=1 all
	@/usr/bin/python3 bench/reserve/run.py build-release/opsbase

# The job queue and webhook delivery against their baselines (bench/README.md).
bench-jobs:
	@$(MAKE) --no-print-directory RELEASE=1 all
	@/usr/bin/python3 bench/jobs/run.py build-release/opsbase

# The workflows' hot paths alone, the section `make bench` runs (bench/README.md).
bench-workflows:
	@$(MAKE) --no-print-directory RELEASE=1 all
	@mkdir -p build-release/bench-workflows
	@BENCH_WF_PRINT=1 /usr/bin/python3 bench/workflows/run.py build-release/opsbase build-release/bench-workflows

bench-smoke: $(B)/opsbase
	@bench/smoke.sh $(B)/opsbase

# Fuzzing with libFuzzer (clang): FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 600
fuzz:
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# Bad input, authorization matrix, races, slow clients, valgrind (default build:
# valgrind and ASan do not mix).
reliability: $(B)/opsbase
	OPSBASE_MASTER_KEY=$${OPSBASE_MASTER_KEY:-$(TEST_MASTER_KEY)} OPSBASE_SETTINGS_RATE_LIMITS=off OPSBASE_BIN=$(CURDIR)/$(B)/opsbase /usr/bin/python3 -m pytest -q tests/reliability
	OPSBASE_MASTER_KEY=$${OPSBASE_MASTER_KEY:-$(TEST_MASTER_KEY)} OPSBASE_SETTINGS_RATE_LIMITS=off tests/reliability/valgrind.sh $(CURDIR)/$(B)/opsbase

# Crash safety (SIGKILL under concurrent writers) and fault injection.
crash: $(B)/opsbase
	OPSBASE_MASTER_KEY=$${OPSBASE_MASTER_KEY:-$(TEST_MASTER_KEY)} OPSBASE_SETTINGS_RATE_LIMITS=off OPSBASE_BIN=$(CURDIR)/$(B)/opsbase /usr/bin/python3 -m pytest -q tests/crash

crash-long: $(B)/opsbase
	OPSBASE_MASTER_KEY=$${OPSBASE_MASTER_KEY:-$(TEST_MASTER_KEY)} OPSBASE_SETTINGS_RATE_LIMITS=off OPSBASE_CRASH_KILLS=100 OPSBASE_BIN=$(CURDIR)/$(B)/opsbase /usr/bin/python3 -m pytest -q tests/crash/test_crash.py

deps:
	@scripts/deps.sh test

run:
	@scripts/deps.sh run
	@echo "opsbase: building"
	@$(MAKE) -s --no-print-directory all
	@scripts/run.sh $(B)/opsbase

test:
	@scripts/deps.sh test
	@scripts/test.sh

# The long versions of the reliability checks: an hour of fuzzing per target and
# 100 SIGKILLs under load; record the figures in docs/reliability.md.
test-long:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all
	OPSBASE_TEST_DB=postgres $(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=3600
	@$(MAKE) --no-print-directory crash-long
	@$(MAKE) --no-print-directory move-long

# The tenant move under load with a larger tenant and a minute of writing after
# the switch (the short form runs in make test's end-to-end stages).
move-long: $(B)/opsbase
	OPSBASE_MASTER_KEY=$${OPSBASE_MASTER_KEY:-$(TEST_MASTER_KEY)} OPSBASE_SETTINGS_RATE_LIMITS=off OPSBASE_MOVE_SEED=5000 OPSBASE_MOVE_AFTER_S=60 OPSBASE_BIN=$(CURDIR)/$(B)/opsbase /usr/bin/python3 -m pytest -q -s -n 0 tests/e2e/test_tenant_move.py

clean:
	rm -rf build build-san build-release

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
