/* The benchmarks: rdtsc-timed loops of hot operations, system calls, process switches,
 * alarms and a mixed workload, each printed as "bench: NAME MEDIAN_CYCLES". */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

/* 1 if the command line asks for benchmarks: `bench` (all of them) or `bench=NAME` (that
 * one alone; `bench=none` runs none, for a boot to compare with). */
int bench_requested(const char *cmdline);

/* Runs those asked for (interrupts enabled, periodic tick running on entry and on return).
 * Besides "bench: NAME CYCLES", each prints "bench-operations: NAME N": how many of the
 * operations its cycles are per it performed in all, so what the host did during the boot
 * can be divided by it. */
void bench_run(const char *cmdline);

#endif
