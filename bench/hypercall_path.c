/* The monitor's share of a hypercall, timed on the host without a guest: the C function the
 * world switch calls (process_hypercall), in a loop, for a few calls. Runs on every host,
 * PVM ones too, since no 32-bit code runs; the far call and the return are not in it.
 * Reports the median over 21 runs of 100,000 calls each, in TSC cycles per call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

#include <vmi/calls.h>
#include "median.h"
#include "monitor/virtual_cpu.h"
#include "platform/process/process.h"

#define RUNS  21
#define CALLS 100000

static double cycles_per_call(uint32_t call)
{
	double runs[RUNS];
	for (int r = 0; r < RUNS; r++) {
		uint64_t start = __rdtsc();
		for (int i = 0; i < CALLS; i++)
			process_hypercall(call);
		runs[r] = (double)(__rdtsc() - start) / CALLS;
	}
	return median_of_runs(runs, RUNS);
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "Usage: bench-hypercall_path (no arguments)\n");
		return 2;
	}
	virtual_cpu_reset_state();   /* the kernel ring, interrupts off: no delivery on return */
	static const struct { uint32_t call; const char *name; } calls[] = {
		{ VMI_CALL_GetCR0, "GetCR0" },
		{ VMI_CALL_SetInterruptMask, "SetInterruptMask" },
		{ VMI_CALL_GetCycleCounter, "GetCycleCounter" },
	};
	printf("| call | cycles per call, C part of the hypercall path (median of %d x %d) |\n",
	       RUNS, CALLS);
	printf("|---|---|\n");
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		printf("| %s | %.1f |\n", calls[i].name, cycles_per_call(calls[i].call));
	return 0;
}
