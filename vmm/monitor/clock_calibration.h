/* The cycle counter's frequency, measured against a nanosecond clock in a way a preempted
 * thread cannot skew. Pure: both clocks are passed in, so tests can preempt on purpose. */
#ifndef VMM_MONITOR_CLOCK_CALIBRATION_H
#define VMM_MONITOR_CLOCK_CALIBRATION_H

#include <stdint.h>

struct clock_pair {
	uint64_t ns;
	uint64_t cycles;
};

struct clock_sources {
	uint64_t (*ns)(void);
	uint64_t (*cycles)(void);
};

/* One reading of both clocks at (nearly) the same instant: the tightest of a few tries. */
struct clock_pair clock_pair_read(const struct clock_sources *clocks);

/* Cycles per second over at least interval_ns. */
uint64_t clock_calibrate(const struct clock_sources *clocks, uint64_t interval_ns);

#endif
