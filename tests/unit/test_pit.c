/* Unit tests for the emulated 8254's channel 0: the host timer period it programs, and the
 * 10 kHz floor on periodic rates that keeps a reload of 1 from becoming a signal storm. */
#include <criterion/criterion.h>

#include "devices/io_bus.h"
#include "devices/pit.h"
#include "monitor/timer.h"

#define PIT_MODE0_ONE_SHOT 0x30   /* channel 0, low then high byte, mode 0, binary */
#define PIT_MODE2_RATE     0x34   /* mode 2, the periodic rate generator */
#define PIT_MODE3_SQUARE   0x36   /* mode 3, the periodic square wave */

/* What a guest does, through the port bus: the command, then the reload value low byte first. The host timer is
 * never created in these tests, so only the period the PIT asked for is recorded. */
static uint64_t program(uint8_t command, uint16_t reload)
{
	io_bus_write(PIT_COMMAND, 1, command);
	io_bus_write(PIT_CHANNEL0, 1, (uint8_t)reload);
	io_bus_write(PIT_CHANNEL0, 1, (uint8_t)(reload >> 8));
	return timer_device_armed_period_ns();
}

static uint64_t exact_ns(uint64_t count)
{
	return count * 1000000000ull / PIT_HZ;
}

Test(pit, the_floor_is_the_one_setalarm_enforces)
{
	cr_assert_eq(TIMER_MIN_PERIOD_NS, 100000u, "10 kHz is a 100 us period");
	cr_assert_eq(TIMER_MIN_PERIOD_NS * TIMER_MAX_PERIODIC_HZ, 1000000000u);
}

Test(pit, a_periodic_reload_of_1_runs_at_10_khz_not_every_838_ns)
{
	cr_assert_eq(program(PIT_MODE2_RATE, 1), TIMER_MIN_PERIOD_NS);
	cr_assert_eq(program(PIT_MODE3_SQUARE, 1), TIMER_MIN_PERIOD_NS);
}

Test(pit, a_periodic_rate_just_above_10_khz_is_clamped)
{
	/* 119 counts: 99.7 us, 10.03 kHz. */
	cr_assert_lt(exact_ns(119), TIMER_MIN_PERIOD_NS);
	cr_assert_eq(program(PIT_MODE2_RATE, 119), TIMER_MIN_PERIOD_NS);
}

Test(pit, periodic_rates_at_or_below_10_khz_are_kept)
{
	/* 120 counts: 100.6 us. */
	cr_assert_eq(program(PIT_MODE2_RATE, 120), exact_ns(120));
	cr_assert_eq(program(PIT_MODE2_RATE, 1193), exact_ns(1193));   /* the usual 1 kHz */
	cr_assert_eq(program(PIT_MODE3_SQUARE, 0), exact_ns(65536));   /* 0 means 65536 */
}

Test(pit, a_one_shot_is_armed_as_asked)
{
	/* One signal, and the guest must trap again to re-arm it: no storm, no floor. */
	cr_assert_eq(program(PIT_MODE0_ONE_SHOT, 1), exact_ns(1));
	cr_assert_eq(program(PIT_MODE0_ONE_SHOT, 1193), exact_ns(1193));
}

Test(pit, the_reload_still_reads_back_as_written)
{
	program(PIT_MODE2_RATE, 1);
	cr_assert_eq(io_bus_read(PIT_CHANNEL0, 1), 1);
	cr_assert_eq(io_bus_read(PIT_CHANNEL0, 1), 0);
}

Test(timer, device_period_floor)
{
	cr_assert_eq(timer_device_period_ns(838, 1), TIMER_MIN_PERIOD_NS);
	cr_assert_eq(timer_device_period_ns(TIMER_MIN_PERIOD_NS - 1, 1), TIMER_MIN_PERIOD_NS);
	cr_assert_eq(timer_device_period_ns(TIMER_MIN_PERIOD_NS, 1), TIMER_MIN_PERIOD_NS);
	cr_assert_eq(timer_device_period_ns(1000000, 1), 1000000);
	cr_assert_eq(timer_device_period_ns(838, 0), 838);
}
