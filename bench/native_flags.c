/* The hardware reference for the hot interrupt-flag calls: what the native ROM's templates
 * for GetInterruptMask / SetInterruptMask (pushf; pop and push; popf) cost on this CPU, run
 * here in host user mode where popf is legal (it leaves IF alone, as in any ring 3). cli and
 * sti cannot run in user mode, so they have no reference here. Same method as the kernel's
 * in-guest benchmarks: medians of repeated timed loops, cycles per iteration, no loop overhead
 * subtracted (the empty loop is reported beside them). Writes a markdown table to stdout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#define REPETITIONS 15
#define ITERATIONS  100000

static volatile uint64_t counter;

static int compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* `body` is run ITERATIONS times per repetition; returns median cycles per iteration. */
static double measure(void (*body)(void))
{
	uint64_t cycles[REPETITIONS];
	for (int r = 0; r < REPETITIONS; r++) {
		uint64_t start = __rdtsc();
		body();
		cycles[r] = __rdtsc() - start;
	}
	qsort(cycles, REPETITIONS, sizeof(cycles[0]), compare);
	return (double)cycles[REPETITIONS / 2] / ITERATIONS;
}

static void empty_loop(void)
{
	for (int i = 0; i < ITERATIONS; i++)
		__asm__ volatile("" ::: "memory");
}

/* irq_save then irq_restore, as the native ROM inlines them. */
static void save_restore(void)
{
	for (int i = 0; i < ITERATIONS; i++) {
		uint64_t flags;
		__asm__ volatile("pushf; pop %0" : "=r"(flags) : : "memory");
		__asm__ volatile("push %0; popf" : : "r"(flags) : "memory", "cc");
	}
}

/* The same around a counter increment: the kernel's irq_critical_section. */
static void critical_section(void)
{
	for (int i = 0; i < ITERATIONS; i++) {
		uint64_t flags;
		__asm__ volatile("pushf; pop %0" : "=r"(flags) : : "memory");
		counter++;
		__asm__ volatile("push %0; popf" : : "r"(flags) : "memory", "cc");
	}
}

/* GetInterruptMask alone. */
static void read_flags(void)
{
	for (int i = 0; i < ITERATIONS; i++) {
		uint64_t flags;
		__asm__ volatile("pushf; pop %0" : "=r"(flags) : : "memory");
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: %s\nMeasures the native pushf/popf sequences behind the hot "
		       "interrupt-flag calls in host user mode; prints a markdown table.\n", argv[0]);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: takes no arguments (see --help)\n", argv[0]);
		return 2;
	}
	printf("Native instructions of the native ROM's interrupt-flag templates, in host user mode "
	       "(64-bit forms), medians of %d loops of %d: cycles per iteration.\n\n",
	       REPETITIONS, ITERATIONS);
	printf("| sequence | cycles |\n|---|---:|\n");
	printf("| empty loop | %.1f |\n", measure(empty_loop));
	printf("| pushf; pop (GetInterruptMask) | %.1f |\n", measure(read_flags));
	printf("| pushf; pop + push; popf (irq_save_restore) | %.1f |\n", measure(save_restore));
	printf("| the same around counter++ (irq_critical_section) | %.1f |\n",
	       measure(critical_section));
	return 0;
}
