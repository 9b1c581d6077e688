/* Calibrates the cycle counter against a nanosecond clock. A thread preempted between
 * reading one clock and the other would pair readings milliseconds apart (a loaded host
 * gave 16 MHz for a 2.1 GHz TSC), so each reading is bracketed by two cycle reads and the
 * tightest bracket of several tries wins. */
#include "monitor/clock_calibration.h"

#define PAIR_TRIES 8

struct clock_pair clock_pair_read(const struct clock_sources *clocks)
{
	struct clock_pair best = { 0, 0 };
	uint64_t best_width = UINT64_MAX;
	for (int i = 0; i < PAIR_TRIES; i++) {
		uint64_t before = clocks->cycles();
		uint64_t ns = clocks->ns();
		uint64_t after = clocks->cycles();
		if (after - before < best_width) {
			best_width = after - before;
			best.ns = ns;
			best.cycles = before + (after - before) / 2;
		}
	}
	return best;
}

uint64_t clock_calibrate(const struct clock_sources *clocks, uint64_t interval_ns)
{
	struct clock_pair start = clock_pair_read(clocks);
	while (clocks->ns() - start.ns < interval_ns)
		;
	struct clock_pair end = clock_pair_read(clocks);
	uint64_t ns = end.ns - start.ns;
	if (ns == 0)
		return 0;
	return (uint64_t)((double)(end.cycles - start.cycles) * 1e9 / (double)ns);
}
