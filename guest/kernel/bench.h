/* The benchmarks: rdtsc-timed loops of hot operations, system calls, process switches,
 * alarms and a mixed workload, each printed as "bench: NAME MEDIAN_CYCLES". */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

/* Runs them all (interrupts enabled, periodic tick running on entry and on return). */
void bench_run_all(void);

#endif
