/* The benchmarks. Each times `repetitions` loops of many iterations with the TSC and prints
 * "bench: NAME CYCLES": the median loop's cycles per iteration (or, for mixed_workload, the
 * median total). The timer is stopped for the micro-benchmarks, so no tick lands in a loop.
 * Deprivileged on the native ROM every trapped instruction costs ~25,000 cycles: iteration
 * counts are divided by platform.bench_divisor there; mixed_workload keeps its fixed work. */
#include "bench.h"
#include "console.h"
#include "kernel.h"
#include "paging.h"
#include "process.h"
#include "scheduler.h"
#include "timer.h"
#include "user.h"

#define REPETITIONS        15
#define QUICK_REPETITIONS  5
#define MIXED_REPETITIONS  5
#define IRQ_ITERATIONS     100000
#define SYSCALL_ITERATIONS 2000
#define YIELD_ITERATIONS   2000
#define ALARM_ITERATIONS   20
#define MIXED_ROUNDS       300
#define MIXED_WORK         4
#define MIXED_UNITS        1000
#define COMPUTE_UNITS      100

static unsigned repetitions;
static const char *bench_cmdline;

int bench_requested(const char *cmdline)
{
	return cmdline_has_word(cmdline, "bench") || cmdline_has_prefix(cmdline, "bench=");
}

/* `bench` runs every benchmark; `bench=NAME` that one. */
static int wanted(const char *name)
{
	if (cmdline_has_word(bench_cmdline, "bench"))
		return 1;
	char word[64] = "bench=";
	size_t length = strlen(word), name_length = strlen(name);
	if (length + name_length >= sizeof word)
		return 0;
	memcpy(word + length, name, name_length + 1);
	return cmdline_has_word(bench_cmdline, word);
}

static void report_operations(const char *name, uint64_t operations)
{
	kprintf("bench-operations: %s %llu\n", name, (unsigned long long)operations);
}

static uint32_t scaled(uint32_t iterations)
{
	uint32_t n = iterations / platform.bench_divisor;
	return n ? n : 1;
}

static uint64_t median(uint64_t *values, unsigned count)
{
	sort_u64(values, count);
	return values[count / 2];
}

/* "bench: NAME C.D": the median loop's cycles per iteration, one decimal. */
static void report(const char *name, uint64_t *cycles, uint32_t iterations)
{
	uint64_t tenths = median(cycles, repetitions) * 10 / iterations;
	kprintf("bench: %s %llu.%llu\n", name, (unsigned long long)(tenths / 10),
	        (unsigned long long)(tenths % 10));
	report_operations(name, (uint64_t)iterations * repetitions);
}

/* --- the hot interrupt-flag operations, in the kernel ---------------------------------------- */

static void bench_irq_disable_enable(void)
{
	uint64_t cycles[BENCH_REPETITIONS_MAX];
	uint32_t iterations = scaled(IRQ_ITERATIONS);
	for (unsigned r = 0; r < repetitions; r++) {
		uint64_t start = cycles_now();
		for (uint32_t i = 0; i < iterations; i++) {
			vmi_disable_interrupts();
			vmi_enable_interrupts();
		}
		cycles[r] = cycles_now() - start;
	}
	report("irq_disable_enable", cycles, iterations);
}

static void bench_irq_save_restore(void)
{
	uint64_t cycles[BENCH_REPETITIONS_MAX];
	uint32_t iterations = scaled(IRQ_ITERATIONS);
	for (unsigned r = 0; r < repetitions; r++) {
		uint64_t start = cycles_now();
		for (uint32_t i = 0; i < iterations; i++) {
			uint32_t flags = vmi_irq_save();
			vmi_irq_restore(flags);
		}
		cycles[r] = cycles_now() - start;
	}
	vmi_enable_interrupts();   /* deprivileged, the restores above could not (popf hole) */
	report("irq_save_restore", cycles, iterations);
}

static void bench_irq_critical_section(void)
{
	uint64_t cycles[BENCH_REPETITIONS_MAX];
	static volatile uint32_t counter;
	uint32_t iterations = scaled(IRQ_ITERATIONS);
	for (unsigned r = 0; r < repetitions; r++) {
		uint64_t start = cycles_now();
		for (uint32_t i = 0; i < iterations; i++) {
			uint32_t flags = vmi_irq_save();
			counter++;
			vmi_irq_restore(flags);
		}
		cycles[r] = cycles_now() - start;
	}
	vmi_enable_interrupts();
	report("irq_critical_section", cycles, iterations);
}

/* --- user mode: system calls and switches ------------------------------------------------------ */

/* Runs one benchmark process to its end, in an address space of its own if asked: 0, or -1
 * (said) if it faulted, when the numbers it left mean nothing. */
static int run_alone(const char *name, user_entry entry, void *bench, int own_address_space)
{
	uint32_t argument = (uint32_t)(uintptr_t)bench;
	int pid = own_address_space ? process_create_with_address_space(name, entry, argument)
	                            : process_create(name, entry, argument);
	scheduler_run();
	const struct process *p = process_find(pid);
	int faulted = !p || p->faulted;
	process_reap_all();
	if (faulted)
		kprintf("kernel: bench %s: the process faulted\n", name);
	return faulted ? -1 : 0;
}

static void bench_syscall(const char *name, int fast)
{
	static struct syscall_bench bench USER_SHARED;
	memset(&bench, 0, sizeof(bench));
	bench.fast = fast;
	bench.iterations = scaled(SYSCALL_ITERATIONS);
	bench.repetitions = repetitions;
	if (run_alone(name, user_bench_null_syscall, &bench, 0) == 0)
		report(name, bench.cycles, bench.iterations);
}

/* Two processes yielding to each other, each in an address space of its own or not: every
 * yield is one switch. Cycles per iteration of the leader's loop: its yield and the
 * partner's, so two switches (two CR3 loads with address spaces of their own). */
static void yield_pair(const char *name, int own_address_spaces)
{
	static volatile uint32_t done USER_SHARED;
	int (*create)(const char *, user_entry, uint32_t) =
		own_address_spaces ? process_create_with_address_space : process_create;
	static struct yield_bench leader USER_SHARED, partner USER_SHARED;
	memset(&leader, 0, sizeof(leader));
	memset(&partner, 0, sizeof(partner));
	done = 0;
	leader.leader = 1;
	leader.iterations = scaled(YIELD_ITERATIONS);
	leader.repetitions = repetitions;
	leader.done = partner.done = &done;
	create("yield-leader", user_bench_yield, (uint32_t)(uintptr_t)&leader);
	create("yield-partner", user_bench_yield, (uint32_t)(uintptr_t)&partner);
	scheduler_run();
	process_reap_all();
	report(name, leader.cycles, leader.iterations);
}

static void bench_process_switch(void)
{
	yield_pair("process_switch", 0);
}

/* Plain user-mode arithmetic (the mixed workload's own), no kernel entry in a loop: what
 * ordinary code costs on the platform, and so how far any platform can pull ahead of
 * another on a workload that computes. Cycles per unit. */
static void bench_compute(void)
{
	static struct compute_bench bench USER_SHARED;
	memset(&bench, 0, sizeof(bench));
	bench.units = COMPUTE_UNITS;
	bench.repetitions = repetitions;
	if (run_alone("compute", user_bench_compute, &bench, 0) == 0)
		report("compute", bench.cycles, bench.units);
}

/* --- address spaces (paging.c) -------------------------------------------------------------- */

#define PAGE_FAULT_PAGES 32

/* process_switch with each process in an address space of its own: every switch is a CR3
 * load. Cycles per switch. */
static void bench_address_space_switch(void)
{
	yield_pair("address_space_switch", 1);
}

/* A user write to an unmapped page of the private window: the #PF, the kernel's handler
 * mapping a zeroed frame through SetPxE, the return and the write again. Cycles per fault. */
static void bench_page_fault(void)
{
	static struct page_fault_bench bench USER_SHARED;
	memset(&bench, 0, sizeof(bench));
	bench.pages = PAGE_FAULT_PAGES;
	bench.repetitions = repetitions;
	if (run_alone("page_fault", user_bench_page_fault, &bench, 1) == 0)
		report("page_fault", bench.cycles, bench.pages);
}

/* Process creation and exit with a 64-page working set, by plain copying: a parent in an
 * address space of its own fills every page of its private window, then forks (each of the
 * 64 pages copied into a frame of the child's), the child exits at once (its frames and
 * tables freed) and the parent waits for it (its slot reaped). Cycles per fork+exit+reap,
 * timed in the parent. */
#define CREATE_EXIT_ITERATIONS 10
static void bench_process_create_exit(void)
{
	static struct fork_bench bench USER_SHARED;
	memset(&bench, 0, sizeof(bench));
	bench.pages = PRIVATE_WINDOW_PAGES;
	bench.iterations = scaled(CREATE_EXIT_ITERATIONS);
	bench.repetitions = repetitions;
	if (run_alone("process_create_exit", user_bench_fork, &bench, 1) != 0)
		return;
	if (bench.failures)
		kprintf("kernel: bench process_create_exit: %u forks or waits failed\n", bench.failures);
	else
		report("process_create_exit", bench.cycles, bench.iterations);
}

static void bench_address_spaces(void)
{
	if (wanted("address_space_switch"))
		bench_address_space_switch();
	if (wanted("page_fault"))
		bench_page_fault();
	if (wanted("process_create_exit"))
		bench_process_create_exit();
	paging_reset();
}

/* --- the timer ------------------------------------------------------------------------------ */

/* Arm a one-shot timer for "now" and wait until its handler has run and returned. */
static void bench_alarm_roundtrip(void)
{
	uint64_t cycles[BENCH_REPETITIONS_MAX];
	uint32_t iterations = ALARM_ITERATIONS;
	uint64_t timeout = cycles_from_microseconds(100000);
	for (unsigned r = 0; r < repetitions; r++) {
		uint64_t total = 0;
		for (uint32_t i = 0; i < iterations; i++) {
			uint32_t before = timer_ticks;
			uint64_t start = cycles_now();
			timer_start_one_shot(0);
			while (timer_ticks == before) {
				if (cycles_now() - start > timeout) {
					kprintf("bench: alarm_roundtrip skipped: a one-shot timer for now did not "
					        "arrive within 100 ms\n");
					return;
				}
				cpu_relax();
			}
			total += cycles_now() - start;
		}
		cycles[r] = total;
	}
	report("alarm_roundtrip", cycles, iterations);
}

/* --- everything at once -------------------------------------------------------------------- */

/* A client and a server exchanging request/reply messages through the fast entry (each
 * request costing the server some computation) while a third process crunches numbers, all
 * preempted by the 1 kHz tick: total cycles from the first switch to the last exit, for the
 * same work on every platform; and the part of it that was the processes' arithmetic. */
static void mixed_workload(const char *name, const char *compute_name, int own_address_spaces)
{
	int (*create)(const char *, user_entry, uint32_t) =
		own_address_spaces ? process_create_with_address_space : process_create;
	uint64_t cycles[BENCH_REPETITIONS_MAX], compute[BENCH_REPETITIONS_MAX];
	unsigned runs = repetitions < MIXED_REPETITIONS ? repetitions : MIXED_REPETITIONS;
	uint32_t expected = 0;
	timer_start_periodic(TIMER_TICK_HZ);
	for (unsigned r = 0; r < runs; r++) {
		static struct ping_pong client USER_SHARED, server USER_SHARED;
		static struct cruncher cruncher USER_SHARED;
		memset(&client, 0, sizeof(client));
		memset(&server, 0, sizeof(server));
		memset(&cruncher, 0, sizeof(cruncher));
		client.rounds = server.rounds = MIXED_ROUNDS;
		client.work = server.work = MIXED_WORK;
		client.fast = server.fast = 1;
		cruncher.units = MIXED_UNITS;
		int server_pid = create("server", user_ponger, (uint32_t)(uintptr_t)&server);
		client.peer = server_pid;
		create("client", user_pinger, (uint32_t)(uintptr_t)&client);
		create("cruncher", user_cruncher, (uint32_t)(uintptr_t)&cruncher);
		uint64_t start = cycles_now();
		scheduler_run();
		cycles[r] = cycles_now() - start;
		compute[r] = client.compute_cycles + server.compute_cycles + cruncher.compute_cycles;
		process_reap_all();
		if (client.completed != MIXED_ROUNDS || client.errors || (r && cruncher.result != expected)) {
			kprintf("bench: %s skipped: wrong results (%u of %u rounds, %u errors)\n", name,
			        client.completed, MIXED_ROUNDS, client.errors);
			return;
		}
		expected = cruncher.result;
	}
	uint64_t total = median(cycles, runs);
	kprintf("bench: %s %llu\n", name, (unsigned long long)total);
	report_operations(name, runs);
	/* how much of it was the processes' own arithmetic (timed in user mode; a tick that
	 * lands inside a timed stretch counts there) */
	kprintf("bench: %s %llu\n", compute_name, (unsigned long long)median(compute, runs));
}

static void bench_mixed_workload(void)
{
	mixed_workload("mixed_workload", "mixed_workload_compute", 0);
}

/* The same with each of the three processes in an address space of its own: every switch
 * between them is a CR3 load. */
static void bench_mixed_workload_address_spaces(void)
{
	mixed_workload("mixed_workload_address_spaces", "mixed_workload_address_spaces_compute", 1);
}

void bench_run(const char *cmdline)
{
	bench_cmdline = cmdline;
	repetitions = platform.quick ? QUICK_REPETITIONS : REPETITIONS;
	kprintf("kernel: benchmarks: median of %u loops each, cycles per iteration (compute: per "
	        "pass; the mixed workloads and their compute parts: total cycles)%s\n", repetitions,
	        platform.deprivileged_native ? "; iteration counts reduced for trap-and-emulate" : "");
	timer_stop();
	if (wanted("irq_disable_enable"))
		bench_irq_disable_enable();
	if (wanted("irq_save_restore"))
		bench_irq_save_restore();
	if (wanted("irq_critical_section"))
		bench_irq_critical_section();
	if (wanted("syscall_int80"))
		bench_syscall("syscall_int80", 0);
	if (wanted("syscall_fast"))
		bench_syscall("syscall_fast", 1);
	if (wanted("process_switch"))
		bench_process_switch();
	bench_address_spaces();
	if (wanted("compute"))
		bench_compute();
	if (wanted("alarm_roundtrip"))
		bench_alarm_roundtrip();
	if (wanted("mixed_workload"))
		bench_mixed_workload();
	if (wanted("mixed_workload_address_spaces")) {
		bench_mixed_workload_address_spaces();
		paging_reset();
	}
	timer_start_periodic(TIMER_TICK_HZ);
	kprintf("bench: done\n");
}
