# Benchmarks: measurements, not tests. `make bench` prints tables of medians and ratios and
# keeps them (and the chart) in build/bench/.

# Start-up: boots per platform. Kernel matrix: boots per mode (each reports in-guest medians).
BENCH_RUNS        ?= 20
BENCH_KERNEL_RUNS ?= 5
BENCH_DIR         := $(BUILD)/bench
BENCH_STARTUP     := $(BENCH_DIR)/bench-startup
BENCH_KERNEL      := $(BENCH_DIR)/bench-kernel_matrix
BENCH_NATIVE      := $(BENCH_DIR)/bench-native_flags
BENCH_HYPERCALL   := $(BENCH_DIR)/bench-hypercall_path
BENCH_PAGE_TABLE  := $(BENCH_DIR)/bench-page_table_call
REFERENCE_KERNEL  := $(BUILD)/guest/kernel.elf

# bench-NAME from bench/NAME.c, and the vmirun objects it names as prerequisites.
$(BENCH_HYPERCALL): $(VMM_LIB_OBJS) $$(HOST_SHARED_OBJS)
# It plays the platform's address spaces and counts host mappings instead of making them.
$(BENCH_PAGE_TABLE): $(VMM_LIB_OBJS) $$(HOST_SHARED_OBJS)
$(BENCH_PAGE_TABLE): BENCH_LDFLAGS := $(UNIT_WRAPS)
$(BENCH_DIR)/bench-%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) $(BENCH_LDFLAGS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_STARTUP) $(BENCH_KERNEL) $(BENCH_NATIVE) \
		$(BENCH_HYPERCALL) $(BENCH_PAGE_TABLE)
	$(BENCH_STARTUP) $(VMIRUN) $(BUILD)/tests/guests/hello.elf $(BENCH_RUNS) > $(BENCH_DIR)/startup.md
	@cat $(BENCH_DIR)/startup.md
	$(BENCH_KERNEL) $(VMIRUN) $(REFERENCE_KERNEL) $(BENCH_KERNEL_RUNS) $(BENCH_DIR)
	gnuplot -e "datafile='$(BENCH_DIR)/kernel.dat'; outbase='$(BENCH_DIR)/kernel'" bench/kernel.gp
	@cat $(BENCH_DIR)/kernel.md
	@cat $(BENCH_DIR)/host_operations.md
	@echo "chart: $(BENCH_DIR)/kernel.png, $(BENCH_DIR)/kernel.svg"
	$(BENCH_NATIVE) > $(BENCH_DIR)/native_flags.md
	@cat $(BENCH_DIR)/native_flags.md
	$(BENCH_HYPERCALL) > $(BENCH_DIR)/hypercall_path.md
	@cat $(BENCH_DIR)/hypercall_path.md
	$(BENCH_PAGE_TABLE) > $(BENCH_DIR)/page_table_call.md
	@cat $(BENCH_DIR)/page_table_call.md
