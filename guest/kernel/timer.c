/* The timer backends. VMI alarms: absolute TSC expiries, periodic or one-shot, delivered at
 * VMI_ALARM_IRQ0_VECTOR with nothing to acknowledge. Natively: 8259 pair remapped so IRQ0
 * is vector 0x20 (only IRQ0 unmasked), 8254 channel 0 in mode 2 (periodic) or mode 0 (one
 * shot), EOI after each tick, and the TSC calibrated against the PIT, because the native
 * ROM has no GetCycleFrequency. */
#include "console.h"
#include "descriptors.h"
#include "kernel.h"
#include "timer.h"
#include <vmi/alarm.h>

#define PIC_MASTER_COMMAND 0x20
#define PIC_MASTER_DATA    0x21
#define PIC_SLAVE_COMMAND  0xA0
#define PIC_SLAVE_DATA     0xA1
#define PIC_ICW1_INIT_ICW4 0x11   /* edge triggered, cascaded, ICW4 follows */
#define PIC_ICW4_8086      0x01
#define PIC_SLAVE_ON_IRQ2  0x04
#define PIC_SLAVE_IDENTITY 0x02
#define PIC_EOI            0x20
#define PIC_ONLY_IRQ0      0xFE
#define PIC_ALL_MASKED     0xFF

#define PIT_CHANNEL0       0x40
#define PIT_COMMAND        0x43
#define PIT_HZ             1193182u
#define PIT_MODE0_ONE_SHOT 0x30   /* channel 0, low then high byte, mode 0, binary */
#define PIT_MODE2_PERIODIC 0x34   /* channel 0, low then high byte, mode 2, binary */
#define PIT_MAX_COUNT      0xFFFFu
#define PIT_LATCH_CHANNEL0 0x00
#define PIT_SAMPLE_MAX_CYCLES 200000ull           /* a slower read lost the CPU meanwhile */
#define PIT_SAMPLE_RETRIES 100
#define PIT_SAMPLE_GAP_MAX 5000000ull             /* < 50 ms at any TSC of 100 MHz or more */
#define CALIBRATION_COUNTS (PIT_HZ / 20)          /* 50 ms */

#define CALIBRATION_TICKS  25
#define CALIBRATION_TIMEOUT_CYCLES 10000000000ull   /* seconds, at any plausible TSC rate */
#define PLAUSIBLE_MIN_HZ   10000000ull        /* 10 MHz */
#define PLAUSIBLE_MAX_HZ   100000000000ull    /* 100 GHz */

enum backend { BACKEND_VMI_ALARM, BACKEND_PIT };

static enum backend backend;
static uint64_t cycles_per_second;
static const char *frequency_source = "unknown";
volatile uint32_t timer_ticks;
volatile uint64_t timer_last_tick_cycles;

uint64_t timer_cycles_per_second(void)
{
	return cycles_per_second;
}

const char *timer_backend_name(void)
{
	return backend == BACKEND_VMI_ALARM ? "VMI alarms (SetAlarm)" : "8254 PIT + 8259 PICs";
}

const char *timer_frequency_source(void)
{
	return frequency_source;
}

/* --- the PIT and the PICs ---------------------------------------------------------------- */

static void pic_init(void)
{
	vmi_outb(PIC_ICW1_INIT_ICW4, PIC_MASTER_COMMAND);
	vmi_outb(PIC_ICW1_INIT_ICW4, PIC_SLAVE_COMMAND);
	vmi_outb(VECTOR_IRQ_BASE, PIC_MASTER_DATA);
	vmi_outb(VECTOR_IRQ_BASE + 8, PIC_SLAVE_DATA);
	vmi_outb(PIC_SLAVE_ON_IRQ2, PIC_MASTER_DATA);
	vmi_outb(PIC_SLAVE_IDENTITY, PIC_SLAVE_DATA);
	vmi_outb(PIC_ICW4_8086, PIC_MASTER_DATA);
	vmi_outb(PIC_ICW4_8086, PIC_SLAVE_DATA);
	vmi_outb(PIC_ONLY_IRQ0, PIC_MASTER_DATA);
	vmi_outb(PIC_ALL_MASKED, PIC_SLAVE_DATA);
}

/* Writing the mode restarts the channel: an expiry still counting down is cancelled. */
static void pit_program(uint8_t mode, uint32_t count)
{
	if (count < 1)
		count = 1;
	if (count > PIT_MAX_COUNT)
		count = PIT_MAX_COUNT;
	vmi_outb(mode, PIT_COMMAND);
	vmi_outb((uint8_t)count, PIT_CHANNEL0);
	vmi_outb((uint8_t)(count >> 8), PIT_CHANNEL0);
}

static uint32_t pit_count_for_hz(uint32_t hz)
{
	return (PIT_HZ + hz / 2) / hz;
}

/* Channel 0's current count, latched so the two bytes belong together. */
static uint32_t pit_read_count(void)
{
	vmi_outb(PIT_LATCH_CHANNEL0, PIT_COMMAND);
	uint32_t low = vmi_inb(PIT_CHANNEL0);
	uint32_t high = vmi_inb(PIT_CHANNEL0);
	return high << 8 | low;
}

/* One (TSC, count) pair, retaken if the read was slow (the host took the CPU away). */
static void pit_sample(uint64_t *cycles, uint32_t *count)
{
	uint64_t before, after;
	int tries = 0;
	do {
		before = cycles_now();
		*count = pit_read_count();
		after = cycles_now();
	} while (after - before > PIT_SAMPLE_MAX_CYCLES && ++tries < PIT_SAMPLE_RETRIES);
	*cycles = before + (after - before) / 2;
}

/* On a CPU that lets us read the PIT back (ring 0): the TSC against the counter itself over
 * CALIBRATION_COUNTS (50 ms), no interrupts involved, so a tick an emulator lost or delayed
 * on a busy host cannot skew it. Each step between two samples adds its TSC and its PIT
 * deltas; the count wraps every 55 ms, so a step longer than PIT_SAMPLE_GAP_MAX (under
 * 50 ms at any TSC of 100 MHz or more: the host took the CPU away) is left out, both sides. */
static uint64_t calibrate_by_reading_pit(void)
{
	uint64_t start_cycles, previous_cycles, cycles, measured_cycles = 0;
	uint32_t previous_count, count, elapsed = 0;
	pit_program(PIT_MODE0_ONE_SHOT, PIT_MAX_COUNT);
	pit_sample(&start_cycles, &previous_count);
	previous_cycles = start_cycles;
	while (elapsed < CALIBRATION_COUNTS) {
		pit_sample(&cycles, &count);
		if (cycles - start_cycles > CALIBRATION_TIMEOUT_CYCLES) {
			kprintf("kernel: the PIT count does not go down (stays at %u)\n", count);
			return 0;
		}
		if (cycles - previous_cycles <= PIT_SAMPLE_GAP_MAX) {
			elapsed += (previous_count - count) & 0xFFFF;
			measured_cycles += cycles - previous_cycles;
		}
		previous_count = count;
		previous_cycles = cycles;
	}
	return measured_cycles * PIT_HZ / elapsed;
}

/* Where the PIT cannot be read back (vmirun's trap-and-emulate PIT): times CALIBRATION_TICKS
 * periodic tick intervals with the TSC, handler to handler, and takes the median: a tick
 * the host delivered late makes one interval long and the next short, but moves the median
 * very little. */
static uint64_t calibrate_against_pit_ticks(void)
{
	uint64_t intervals[CALIBRATION_TICKS];
	uint32_t count = pit_count_for_hz(TIMER_TICK_HZ);
	pit_program(PIT_MODE2_PERIODIC, count);
	vmi_enable_interrupts();
	struct timer_tick previous = { 0, 0 }, tick = { 0, 0 };
	unsigned measured = 0;
	int ticking = timer_wait_for_tick(CALIBRATION_TIMEOUT_CYCLES, &previous);
	while (ticking && measured < CALIBRATION_TICKS) {
		ticking = timer_wait_for_tick(CALIBRATION_TIMEOUT_CYCLES, &tick);
		if (tick.count == previous.count + 1)   /* not two ticks between our looks */
			intervals[measured++] = tick.cycles - previous.cycles;
		previous = tick;
	}
	vmi_disable_interrupts();
	if (!ticking) {
		kprintf("kernel: no PIT tick within %llu cycles\n", (unsigned long long)CALIBRATION_TIMEOUT_CYCLES);
		return 0;
	}
	sort_u64(intervals, CALIBRATION_TICKS);
	return intervals[CALIBRATION_TICKS / 2] * PIT_HZ / count;
}

/* --- the interface ------------------------------------------------------------------------ */

int timer_init(void)
{
	if (!platform.native_rom) {
		uint64_t hz = vmi_get_cycle_frequency();
		if (hz >= PLAUSIBLE_MIN_HZ && hz <= PLAUSIBLE_MAX_HZ) {
			backend = BACKEND_VMI_ALARM;
			cycles_per_second = hz;
			frequency_source = "GetCycleFrequency";
			return 0;
		}
		kprintf("kernel: GetCycleFrequency gave %llu: using the PIT instead\n",
		        (unsigned long long)hz);
	}
	backend = BACKEND_PIT;
	pic_init();
	/* vmirun's trap-and-emulate PIT only interrupts; reading it back gives the reload. */
	if (platform.deprivileged_native) {
		cycles_per_second = calibrate_against_pit_ticks();
		frequency_source = "median of 25 PIT tick intervals";
	} else {
		cycles_per_second = calibrate_by_reading_pit();
		frequency_source = "50 ms of PIT channel 0 count";
	}
	timer_stop();
	if (cycles_per_second < PLAUSIBLE_MIN_HZ || cycles_per_second > PLAUSIBLE_MAX_HZ) {
		kprintf("kernel: TSC calibration gave %llu Hz\n", (unsigned long long)cycles_per_second);
		return -1;
	}
	return 0;
}

struct timer_tick timer_read_tick(void)
{
	struct timer_tick tick;
	do {
		tick.count = timer_ticks;
		tick.cycles = timer_last_tick_cycles;
	} while (tick.count != timer_ticks);   /* a tick came between the two reads */
	return tick;
}

int timer_wait_for_tick(uint64_t timeout_cycles, struct timer_tick *tick)
{
	uint32_t seen = timer_ticks;
	uint64_t start = cycles_now();
	while (timer_ticks == seen)
		if (cycles_now() - start > timeout_cycles)
			return 0;
		else
			cpu_relax();
	*tick = timer_read_tick();
	return 1;
}

void timer_start_periodic(uint32_t hz)
{
	if (backend == BACKEND_PIT) {
		pit_program(PIT_MODE2_PERIODIC, pit_count_for_hz(hz));
		return;
	}
	uint64_t period = cycles_per_second / hz;
	uint32_t status = vmi_set_alarm(VMI_ALARM_PERIODIC | VMI_ALARM_WIRED_IRQ0 | VMI_CYCLES_REAL,
	                                cycles_now() + period, period);
	if (status != 0)
		kprintf("kernel: SetAlarm (periodic, %u Hz) failed: 0x%x\n", hz, status);
}

void timer_start_one_shot(uint64_t delay_cycles)
{
	if (backend == BACKEND_PIT) {
		pit_program(PIT_MODE0_ONE_SHOT, (uint32_t)(delay_cycles * PIT_HZ / cycles_per_second));
		return;
	}
	uint32_t status = vmi_set_alarm(VMI_ALARM_ONE_SHOT | VMI_ALARM_WIRED_IRQ0 | VMI_CYCLES_REAL,
	                                cycles_now() + delay_cycles, 0);
	if (status != 0)
		kprintf("kernel: SetAlarm (one shot) failed: 0x%x\n", status);
}

/* The PIT cannot be switched off: a one-shot at its longest count leaves at most one late
 * tick (55 ms on), which the handler counts like any other. Masking IRQ0 instead would
 * latch that edge and deliver it the moment the line is unmasked. */
void timer_stop(void)
{
	if (backend == BACKEND_PIT)
		pit_program(PIT_MODE0_ONE_SHOT, PIT_MAX_COUNT);
	else
		vmi_cancel_alarm(VMI_ALARM_WIRED_IRQ0);
}

void timer_interrupt(void)
{
	timer_last_tick_cycles = cycles_now();
	timer_ticks++;
	if (backend == BACKEND_PIT)
		vmi_outb(PIC_EOI, PIC_MASTER_COMMAND);
}

void timer_acknowledge_irq(unsigned line)
{
	if (backend != BACKEND_PIT)
		return;
	if (line >= 8)
		vmi_outb(PIC_EOI, PIC_SLAVE_COMMAND);
	vmi_outb(PIC_EOI, PIC_MASTER_COMMAND);
}
