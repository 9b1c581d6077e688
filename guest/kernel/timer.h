/* The timer, one interface over two backends: VMI alarms (SetAlarm/CancelAlarm, arriving at
 * vector 0x20) where the ROM has them, the 8254 PIT behind remapped 8259 PICs otherwise.
 * Periodic ticks or a single one-shot expiry; the TSC is the clock for both. */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <stdint.h>

#define TIMER_TICK_HZ 1000

/* Chooses the backend, programs the PICs where needed, and learns the TSC frequency
 * (GetCycleFrequency, or by counting PIT ticks). Interrupts must be disabled; they are
 * enabled for a moment to calibrate. Returns 0, or -1 with a reason printed. */
int timer_init(void);

void timer_start_periodic(uint32_t hz);
/* One interrupt after `delay_cycles` (0: as soon as the timer can). */
void timer_start_one_shot(uint64_t delay_cycles);
void timer_stop(void);

/* From trap(): counts the tick and acknowledges it. */
void timer_interrupt(void);
/* Acknowledges another IRQ line at the PICs (PIT backend only). */
void timer_acknowledge_irq(unsigned line);

uint64_t timer_cycles_per_second(void);
const char *timer_backend_name(void);
/* How the TSC frequency was learned, for the log. */
const char *timer_frequency_source(void);

/* A consistent pair: how many ticks so far, and the TSC at the last one's handler. */
struct timer_tick {
	uint32_t count;
	uint64_t cycles;
};
struct timer_tick timer_read_tick(void);
/* Spins (interrupts enabled) until the next tick: 1 and the tick, or 0 after `timeout_cycles`. */
int timer_wait_for_tick(uint64_t timeout_cycles, struct timer_tick *tick);

extern volatile uint32_t timer_ticks;
extern volatile uint64_t timer_last_tick_cycles;   /* rdtsc at the last tick's handler */

static inline uint64_t cycles_from_microseconds(uint64_t us)
{
	return timer_cycles_per_second() * us / 1000000;
}

static inline uint64_t microseconds_from_cycles(uint64_t cycles)
{
	return cycles * 1000000 / timer_cycles_per_second();
}

#endif
