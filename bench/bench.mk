# Benchmarks: measurements, not tests. `make bench` prints tables of medians and ratios and
# keeps them in build/bench/.

BENCH_RUNS ?= 20
BENCH_STARTUP := $(BUILD)/bench/bench-startup

$(BENCH_STARTUP): bench/startup.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $(filter %.c,$<)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_STARTUP)
	$(BENCH_STARTUP) $(VMIRUN) $(BUILD)/tests/guests/hello.elf $(BENCH_RUNS) > $(BUILD)/bench/startup.md
	@cat $(BUILD)/bench/startup.md
