# fuzz.mk - builds the libFuzzer targets into build/fuzz/ (run from the
# repository root; tests/fuzz/run.sh calls it). Every src/**/*.c except
# src/main.c is compiled with clang for libFuzzer, ASan and UBSan and linked
# into each target together with the target's own files.

FZCC     ?= clang
# the same libraries as the main build (PKGS of the top-level Makefile)
PKGS     := $(shell sed -n "s/^PKGS *:= *//p" Makefile)
FB       := build/fuzz
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $(SAN) \
             -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wno-missing-field-initializers -Wno-format-nonliteral -Wvla \
             $(shell pkg-config --cflags $(PKGS)) -Isrc -I$(FB)
# linked as there: without the media libraries, which src/files/media_dl.c opens on use
MEDIA    := $(shell sed -n "s/^MEDIA_PKGS *:= *//p" Makefile)
FZ_LIBS  := $(shell pkg-config --libs $(filter-out $(MEDIA),$(PKGS))) -lhpdf -lunistring -lpthread -lm

SRCS     := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
OBJS     := $(SRCS:%.c=$(FB)/obj/%.o)
TARGETS  := fuzz_json fuzz_query fuzz_target fuzz_handler fuzz_headers

all: $(TARGETS:%=$(FB)/%)

# the column handles and the list of tables (see the top-level Makefile): one
# run of the script writes both
$(FB)/gen/columns.h: scripts/gen-columns.py $(shell find src/domain -name '*.c')
	@mkdir -p $(dir $@)
	python3 scripts/gen-columns.py $@ src

$(FB)/gen/resources.h: $(FB)/gen/columns.h
	@test -f $@ || python3 scripts/gen-columns.py $< src

$(FB)/obj/%.o: %.c | $(FB)/gen/columns.h $(FB)/gen/resources.h
	@mkdir -p $(dir $@)
	$(FZCC) $(FZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FB)/libopsbase-fuzz.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FB)/obj/tests/fuzz/%.o: tests/fuzz/%.c | $(FB)/gen/columns.h $(FB)/gen/resources.h
	@mkdir -p $(dir $@)
	$(FZCC) $(FZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FB)/fuzz_handler $(FB)/fuzz_headers: $(FB)/obj/tests/fuzz/fuzz_app.o

$(FB)/%: $(FB)/obj/tests/fuzz/%.o $(FB)/libopsbase-fuzz.a
	$(FZCC) $(SAN) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(FB)/libopsbase-fuzz.a $(FZ_LIBS)

.PHONY: all
-include $(shell find $(FB)/obj -name '*.d' 2>/dev/null)
