# mvpmu build: GNU Make, C17, no configure step.
#   make            build/mvpmu and build/libmvpmu.a
#   make run        build, then run `mvpmu run` on its built-in default
#   make test       install test dependencies if missing, build, run every
#                   test, then again under ASan+UBSan
#   make bench      benchmarks (figures, not pass/fail)
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS each (default 60)
#   make CC=clang   any of the above with clang

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
CLI_LIBS := -ljansson -lyaml

.PHONY: all run test check test-asan bench deps clean fuzz
all: $(BIN) $(LIB)

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
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(CLILIB) $(LIB) -o $@ $(LDFLAGS) -lcmocka $(CLI_LIBS)

$(BUILD)/bench/%: bench/%.c $(CLILIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(CLILIB) $(LIB) -o $@ $(LDFLAGS) $(CLI_LIBS)

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) run

deps:
	@sh scripts/deps.sh

# Every test binary, then the command-line scenario tests; then the same
# under ASan+UBSan in a separate build tree.
check: $(TESTS) $(BIN)
	@sh scripts/run-tests.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory test-asan

test-asan:
	@$(MAKE) --no-print-directory check BUILD=build-asan OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined"

bench: $(BENCHES) $(BIN)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

# libFuzzer (clang, -fsanitize=fuzzer,address,undefined): the parser and the
# run path, each for FUZZ_SECONDS, then the error-line contract of the real
# command over the corpora and any crash (fuzz/run.sh, fuzz/README.md).
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz:
	@$(MAKE) --no-print-directory $(BIN)
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  $(FUZZ_BUILD)/libmvpmu.a $(FUZZ_BUILD)/libmvpmu_cli.a
	@for h in scenario run; do \
	  clang $(CPPFLAGS) $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -Ifuzz \
	    fuzz/fuzz_$$h.c $(FUZZ_BUILD)/libmvpmu_cli.a $(FUZZ_BUILD)/libmvpmu.a \
	    -o $(FUZZ_BUILD)/fuzz_$$h $(CLI_LIBS) || exit 1; \
	done
	@sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(BIN)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
