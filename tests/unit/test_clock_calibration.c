/* Unit tests for the cycle counter's calibration: on simulated clocks, a preemption of the
 * calibrating thread at any point must not skew the measured frequency. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "monitor/clock_calibration.h"

#define TRUE_HZ 2100000000ull        /* the simulated cycle counter: 2.1 GHz */
#define READ_COST_NS 25              /* each clock read takes this long */
#define PREEMPTION_NS 5000000ull     /* the host takes the CPU away for 5 ms */
#define INTERVAL_NS 2000000ull

static uint64_t now_ns, reads;
static uint64_t preempt_after_read;  /* 0: never */

static void advance(void)
{
	now_ns += READ_COST_NS;
	if (++reads == preempt_after_read)
		now_ns += PREEMPTION_NS;
}

static uint64_t fake_ns(void)
{
	uint64_t value = now_ns;
	advance();
	return value;
}

static uint64_t fake_cycles(void)
{
	uint64_t value = (uint64_t)((double)now_ns * TRUE_HZ / 1e9);
	advance();
	return value;
}

static const struct clock_sources fake = { fake_ns, fake_cycles };

static uint64_t calibrate_preempted_after(uint64_t read)
{
	now_ns = 1000000000ull;
	reads = 0;
	preempt_after_read = read;
	return clock_calibrate(&fake, INTERVAL_NS);
}

static void assert_close(uint64_t hz, uint64_t read)
{
	double error = ((double)hz - (double)TRUE_HZ) / (double)TRUE_HZ;
	cr_assert(error > -0.001 && error < 0.001,
		  "preempted after read %llu: %llu Hz, %.3f%% off a true %llu Hz",
		  (unsigned long long)read, (unsigned long long)hz, error * 100,
		  (unsigned long long)TRUE_HZ);
}

Test(clock_calibration, an_unpreempted_calibration_is_exact)
{
	assert_close(calibrate_preempted_after(0), 0);
}

Test(clock_calibration, a_preemption_while_reading_the_start_does_not_skew_it)
{
	for (uint64_t read = 1; read <= 40; read++)
		assert_close(calibrate_preempted_after(read), read);
}

Test(clock_calibration, a_preemption_while_reading_the_end_does_not_skew_it)
{
	calibrate_preempted_after(0);
	uint64_t total = reads;
	for (uint64_t read = total - 40; read <= total; read++)
		assert_close(calibrate_preempted_after(read), read);
}

Test(clock_calibration, a_preemption_while_waiting_does_not_skew_it)
{
	calibrate_preempted_after(0);
	for (uint64_t read = 100; read < reads; read += reads / 50)
		assert_close(calibrate_preempted_after(read), read);
}

Test(clock_calibration, a_reading_pairs_the_clocks_from_the_tightest_try)
{
	now_ns = 0;
	reads = 0;
	preempt_after_read = 2;   /* between the first try's clock read and its closing cycle read */
	struct clock_pair pair = clock_pair_read(&fake);
	double paired_ns = (double)pair.cycles * 1e9 / TRUE_HZ;
	cr_assert(paired_ns - (double)pair.ns < 2 * READ_COST_NS && (double)pair.ns - paired_ns < 2 * READ_COST_NS,
		  "clock read at %llu ns paired with cycles of %.0f ns", (unsigned long long)pair.ns, paired_ns);
}
