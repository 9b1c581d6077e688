# Tests: unit tests (normal and ASan+UBSan builds), test guests, integration tests that boot
# guests under vmirun and QEMU, and bounded fuzzing. All use Criterion.

CRITERION_LIBS := -lcriterion
CAPSTONE_LIBS  := -lcapstone

# --- test guests: tests/guests/NAME/*.{S,c} -> build/tests/guests/NAME.elf -------------
# tests/guests/common/ is not a guest: what it holds (memcpy/memset, number formatting) is
# linked into every one.
GUEST_LD      := tests/guests/guest.ld
TEST_GUESTS   := $(filter-out common,$(notdir $(patsubst %/,%,$(dir $(wildcard tests/guests/*/)))))
TEST_GUEST_COMMON_OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(wildcard tests/guests/common/*.c)))
TEST_GUEST_ELFS := $(foreach g,$(TEST_GUESTS),$(BUILD)/tests/guests/$(g).elf)

define test_guest_rule
$(BUILD)/tests/guests/$(1).elf: $(patsubst %,$(BUILD)/%.o,$(basename $(wildcard tests/guests/$(1)/*.S tests/guests/$(1)/*.c))) $(TEST_GUEST_COMMON_OBJS) $(GUEST_LD)
	$$(CC) $$(GUEST_LDFLAGS) -T $(GUEST_LD) -o $$@ $$(filter %.o,$$^) $$(GUEST_LIBS)
endef
$(foreach g,$(TEST_GUESTS),$(eval $(call test_guest_rule,$(g))))
all: $(TEST_GUEST_ELFS)

# --- unit tests --------------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_TESTS := $(BUILD)/tests/unit_tests
UNIT_TESTS_SAN := $(BUILD)/san/tests/unit_tests
# test_mmu.c records the guest's host mappings instead of making them, and plays the
# platform's address spaces.
UNIT_WRAPS := -Wl,--wrap=platform_map_linear,--wrap=platform_unmap_linear \
              -Wl,--wrap=platform_address_space_count,--wrap=platform_switch_address_space \
              -Wl,--wrap=platform_mapping_address_space

$(UNIT_TESTS): $(UNIT_SRCS) $(VMM_LIB_OBJS) $$(HOST_SHARED_OBJS) $$(UNIT_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DBUILD_DIR='"$(abspath $(BUILD))"' -o $@ $(filter %.c %.o,$^) $(UNIT_WRAPS) $(VMM_LIBS) $(CRITERION_LIBS) $(CAPSTONE_LIBS)

$(UNIT_TESTS_SAN): $(UNIT_SRCS) $(VMM_SAN_OBJS) $$(HOST_SHARED_SAN_OBJS) $$(UNIT_SAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -DBUILD_DIR='"$(abspath $(BUILD))"' -o $@ $(filter %.c %.o,$^) $(UNIT_WRAPS) $(VMM_LIBS) $(CRITERION_LIBS) $(CAPSTONE_LIBS)

# --- integration tests: boot guests for real ---------------------------------------------
INTEGRATION_SRCS := $(wildcard tests/integration/*.c)
INTEGRATION_TESTS := $(BUILD)/tests/integration_tests

$(INTEGRATION_TESTS): $(INTEGRATION_SRCS) $(wildcard tests/integration/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DBUILD_DIR='"$(abspath $(BUILD))"' -o $@ \
		$(INTEGRATION_SRCS) $(CRITERION_LIBS)

# --- fuzzing (libFuzzer) -----------------------------------------------------------------
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -Ivmm -Iguest/vmiguest \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS :=
FUZZ_SECONDS ?= 15
FUZZ_LONG_SECONDS ?= 600
-include tests/fuzz/fuzz.mk

fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $$t for $(FUZZ_LONG_SECONDS)s"; \
		mkdir -p $(BUILD)/fuzz/corpus/$$(basename $$t); \
		$$t -max_total_time=$(FUZZ_LONG_SECONDS) $(BUILD)/fuzz/corpus/$$(basename $$t) \
			tests/fuzz/seeds/$$(basename $$t) || exit 1; \
	done

# --- make check ----------------------------------------------------------------------------
# Criterion runs tests in parallel by default; --jobs keeps it to the 2 cores we have. The
# Linux guest's build (minutes when cold, guest/linux/linux.mk) runs beside everything else
# (check-build, then check-core), at the lowest CPU and I/O priority so that it takes only
# what the tests leave (the guests' timer self-tests measure time); its own tests
# (check-linux) follow it and the build. The two sides take the VM runner one at a time
# (run_suites.sh).
check: deps
	@$(MAKE) --no-print-directory -j2 check-core check-linux
	@echo "== all tests passed"

.PHONY: check-build check-core check-linux check-linux-build
check-build:
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(UNIT_TESTS_SAN) $(INTEGRATION_TESTS) $(FUZZ_TARGETS) $(VMIRUN_UBSAN)

check-core: check-build
	@echo "== unit tests (normal build)"
	$(UNIT_TESTS) --jobs 2
	@echo "== unit tests (ASan+UBSan build)"
	$(UNIT_TESTS_SAN) --jobs 2
	@bash tests/integration/run_suites.sh $(BUILD) core
	@echo "== bounded fuzzing ($(FUZZ_SECONDS)s per target)"
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$(basename $$t); \
		$$t -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus/$$(basename $$t) \
			tests/fuzz/seeds/$$(basename $$t) 2>$(BUILD)/fuzz/$$(basename $$t).log \
			|| { tail -40 $(BUILD)/fuzz/$$(basename $$t).log; exit 1; }; \
		echo "fuzz: $$(basename $$t): $$(grep -o 'Done [0-9]* runs in [0-9]* second' $(BUILD)/fuzz/$$(basename $$t).log), no crash"; \
	done

check-linux-build:
	@echo "== Linux guest: make linux (its output in $(BUILD)/linux-build.log)"
	@mkdir -p $(BUILD); start=$$(date +%s); \
	nice -n 19 ionice -c 3 $(MAKE) --no-print-directory linux-files > $(BUILD)/linux-build.log 2>&1 || { \
		tail -40 $(BUILD)/linux-build.log; echo "== FAILED: make linux"; exit 1; }; \
	echo "== Linux guest: make linux done in $$(( $$(date +%s) - start )) s"

check-linux: check-linux-build check-build
	@bash tests/integration/run_suites.sh $(BUILD) linux
