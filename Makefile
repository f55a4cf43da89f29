# mvpmu build: GNU Make, C17, no configure step.
#   make            build/mvpmu and build/libmvpmu.a
#   make run        build, then run `mvpmu run` on its built-in default
#   make test       install test dependencies if missing, build, run every
#                   test, then again under ASan+UBSan
#   make bench      benchmarks (figures, not pass/fail)
#   make mutants    plants each bug of tests/mutants/list in a scratch copy
#                   (build-mutants/) and runs the fast suite: the score
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS each (default 60)
#   make CC=clang   any of the above with clang
#   make guest SRC=my_test.c [OUT=my_test.elf]
#                   a guest program of your own against the guest runtime
#   make install    mvpmu, and the guest runtime (header, linker script,
#                   library, pkg-config file) under PREFIX (DESTDIR too)

CC      ?= cc
BUILD   ?= build
CSTD    := -std=c17
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
CPPFLAGS += -Iinclude -Isrc -D_DEFAULT_SOURCE -MMD -MP
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)

CORE_SRC := $(wildcard src/sim/*.c src/hw/*.c src/host/*.c src/kvm/*.c src/guest/*.c)
CLI_SRC  := $(filter-out src/cli/main.c,$(wildcard src/cli/*.c))
TEST_SRC := $(wildcard tests/*/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
# Built-in scenarios: scenarios/ YAML files embedded as C strings (sh + awk).
SCENARIOS := $(sort $(wildcard scenarios/*.yaml))
CLI_OBJ  += $(BUILD)/gen/cli_builtin_data.o
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

LIB      := $(BUILD)/libmvpmu.a
CLILIB   := $(BUILD)/libmvpmu_cli.a
BIN      := $(BUILD)/mvpmu
# libunicorn: the CPU of real-code guests; libZydis: its instruction
# decoder; libelf: ELF images and their symbols (README "Dependencies").
CORE_LIBS := -lunicorn -lZydis -lelf
CLI_LIBS := -ljansson -lyaml $(CORE_LIBS)

# ---- guest programs: real x86-64 code, built with the system gcc ----
GUEST_CC ?= gcc
GUEST_CFLAGS := -std=gnu17 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -Wall -Wextra -Werror -Iguest/include
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,guest/mvpmu-guest.ld \
	-Wl,--build-id=none -Wl,-z,noexecstack
GUEST_LIB_SRC := $(sort $(wildcard guest/lib/*.c guest/lib/*.S))
GUEST_LIB_OBJ := $(patsubst guest/lib/%,$(BUILD)/guest/lib/%.o,$(GUEST_LIB_SRC))
GUEST_LIB := $(BUILD)/guest/libmvpmu-guest.a
GUEST_PROG_SRC := $(sort $(wildcard guest/tests/*.c guest/tests/*.S guest/examples/*.c guest/bench/loop.c))
GUEST_IMAGES := $(patsubst guest/%,$(BUILD)/guest/%.elf,$(basename $(GUEST_PROG_SRC)))
# Multiboot v1 kernels, built as kvm-unit-tests builds its x86 tests: x86-64
# objects (the 32-bit entry is .code32 assembly) linked at 4 MiB, then
# `objcopy -O elf32-i386` (guest/multiboot/, docs/realcode.md).  Their own
# small runtime, none of guest/lib.
MB_CFLAGS := -std=gnu17 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -Wall -Wextra -Werror
MB_LIB := guest/multiboot/boot.S guest/multiboot/mb_lib.c
MB_PROG_SRC := $(sort $(filter-out guest/multiboot/mb_lib.c,$(wildcard guest/multiboot/mb_*.c)))
GUEST_IMAGES += $(patsubst guest/%.c,$(BUILD)/guest/%.elf,$(MB_PROG_SRC))
# Kernels written the way kvm-unit-tests writes its x86 tests, in assembly
# with none of our runtime, built the same way as the multiboot ones.
KUT_SRC := $(sort $(wildcard guest/kut/*.S))
GUEST_IMAGES += $(patsubst guest/%.S,$(BUILD)/guest/%.elf,$(KUT_SRC))
# Images that use none of the runtime, linked with gcc's default static
# layout, as someone else's image would be (guest/foreign/).
FOREIGN_SRC := $(sort $(wildcard guest/foreign/*.S))
GUEST_IMAGES += $(patsubst guest/%.S,$(BUILD)/guest/%.elf,$(FOREIGN_SRC))

.PHONY: all run test check test-asan bench deps clean fuzz guest install tests-bin mutants
all: $(BIN) $(LIB) $(GUEST_LIB) $(GUEST_IMAGES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/cli_builtin_data.c: $(SCENARIOS) src/cli/cli_builtin_gen.awk
	@mkdir -p $(dir $@)
	awk -f src/cli/cli_builtin_gen.awk $(SCENARIOS) </dev/null >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/cli_builtin_data.o: $(BUILD)/gen/cli_builtin_data.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CLILIB): $(CLI_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/src/cli/main.o $(CLILIB) $(LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(CLI_LIBS)

$(BUILD)/tests/%: tests/%.c $(CLILIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMV_GUEST_DIR='"$(BUILD)/guest"' $(CFLAGS) $< $(CLILIB) $(LIB) -o $@ \
	  $(LDFLAGS) -lcmocka $(CLI_LIBS)

$(BUILD)/bench/%: bench/%.c $(CLILIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMV_GUEST_DIR='"$(BUILD)/guest"' $(CFLAGS) $< $(CLILIB) $(LIB) -o $@ $(LDFLAGS) $(CLI_LIBS)

# ---- guest program rules ----
$(BUILD)/guest/lib/%.o: guest/lib/% guest/include/mvpmu-guest.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_LIB): $(GUEST_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/guest/%.elf: guest/%.c $(GUEST_LIB) guest/mvpmu-guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $< $(GUEST_LDFLAGS) $(GUEST_LIB) -lgcc -o $@

$(BUILD)/guest/%.elf: guest/%.S $(GUEST_LIB) guest/mvpmu-guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $< $(GUEST_LDFLAGS) $(GUEST_LIB) -lgcc -o $@

# The benchmark's loop is in assembly beside its C main.
$(BUILD)/guest/bench/loop.elf: guest/bench/loop.c guest/bench/loop_body.S $(GUEST_LIB) guest/mvpmu-guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) guest/bench/loop.c guest/bench/loop_body.S $(GUEST_LDFLAGS) $(GUEST_LIB) -lgcc -o $@

$(BUILD)/guest/multiboot/%.elf: guest/multiboot/%.c $(MB_LIB) guest/multiboot/mb_lib.h guest/multiboot/mb.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(MB_CFLAGS) $< $(MB_LIB) -nostdlib -static -no-pie -Wl,-T,guest/multiboot/mb.ld -Wl,-z,noseparate-code \
	  -Wl,--build-id=none -Wl,-z,noexecstack -lgcc -o $@.64
	objcopy -O elf32-i386 $@.64 $@

# kut kernels keep binutils' default layout, as kvm-unit-tests' builds do:
# the ELF headers get a load segment of their own, without sections, which
# objcopy warns about ("empty loadable segment") and the loader must take.
# mb_check is linked with -z noseparate-code instead, so both layouts boot.
$(BUILD)/guest/kut/%.elf: guest/kut/%.S guest/multiboot/mb.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) -nostdlib -static -no-pie -Wl,-T,guest/multiboot/mb.ld -Wl,-e,start \
	  -Wl,--build-id=none -Wl,-z,noexecstack $< -o $@.64
	objcopy -O elf32-i386 $@.64 $@

$(BUILD)/guest/foreign/%.elf: guest/foreign/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack $< -o $@

# A guest program of your own: make guest SRC=my_test.c [OUT=my_test.elf]
guest: $(GUEST_LIB)
	@test -n "$(SRC)" || { echo "usage: make guest SRC=file.c [OUT=file.elf]" >&2; exit 2; }
	$(GUEST_CC) $(filter-out -Werror,$(GUEST_CFLAGS)) $(SRC) $(GUEST_LDFLAGS) $(GUEST_LIB) -lgcc \
	  -o $(or $(OUT),$(basename $(firstword $(SRC))).elf)

PREFIX ?= /usr/local
install: $(BIN) $(GUEST_LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/mvpmu-guest $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mvpmu
	install -m 644 guest/include/mvpmu-guest.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(GUEST_LIB) guest/mvpmu-guest.ld $(DESTDIR)$(PREFIX)/lib/mvpmu-guest/
	sed 's|@PREFIX@|$(PREFIX)|' guest/mvpmu-guest.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/mvpmu-guest.pc

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) run

deps:
	@sh scripts/deps.sh

# Every test binary, then the command-line scenario tests; then the same
# under ASan+UBSan in a separate build tree.
check: $(TESTS) $(BIN) $(GUEST_IMAGES)
	@sh scripts/run-tests.sh $(BUILD)

# What a test run needs, built and not run (make mutants' scratch tree).
tests-bin: $(TESTS) $(BIN) $(GUEST_IMAGES)

# Mutation testing, not part of `make test` (slow: about half a minute per
# planted bug).  MUTANT_JOBS: make's -j in the scratch tree (default 2);
# MUTANTS=a,b: only those.
MUTANT_JOBS ?= 2
mutants:
	@python3 tests/mutants/run.py --jobs $(MUTANT_JOBS) $(if $(MUTANTS),--only $(MUTANTS))

test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory test-asan

test-asan:
	@$(MAKE) --no-print-directory check BUILD=build-asan OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined"

bench: $(BENCHES) $(BIN) $(GUEST_IMAGES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

# libFuzzer (clang, -fsanitize=fuzzer,address,undefined): the parser, the
# run path and the real-code guest surface, each for FUZZ_SECONDS, then the
# error-line contract of the real command over the corpora and any crash
# (fuzz/run.sh, fuzz/README.md).
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz:
	@$(MAKE) --no-print-directory $(BIN)
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  $(FUZZ_BUILD)/libmvpmu.a $(FUZZ_BUILD)/libmvpmu_cli.a
	@for h in scenario run image; do \
	  clang $(CPPFLAGS) $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -Ifuzz \
	    fuzz/fuzz_$$h.c $(FUZZ_BUILD)/libmvpmu_cli.a $(FUZZ_BUILD)/libmvpmu.a \
	    -o $(FUZZ_BUILD)/fuzz_$$h $(CLI_LIBS) || exit 1; \
	done
	@sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(BIN)

clean:
	rm -rf build build-asan build-fuzz build-mutants

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
