/* Guest time on the host's invariant TSC. rdtsc runs natively in the guest, so the cycle
 * counter the guest reads and the one alarms are set against are the same clock; alarms are
 * POSIX timers on CLOCK_MONOTONIC, converted with a frequency calibrated once. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <vmi/alarm.h>
#include <vmi/calls.h>
#include "monitor/clock_calibration.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"

#define CALIBRATION_NS 2000000  /* 2 ms, on first use: a few ppm on an invariant TSC */

/* Host timers belong to the process that created them: each address-space process has its
 * own (thread-local is per process), and the one that holds the vCPU keeps its alarm on
 * the shared schedule below (timer_process_entered). */
static __thread timer_t alarm_timer;
static __thread int alarm_timer_ready;
static __thread uint64_t alarm_generation_armed;   /* of the schedule this one follows */
static volatile int alarm_armed, alarm_periodic;
/* The alarm as times on CLOCK_MONOTONIC: the next expiry not yet handled, and the period
 * (0: one-shot); a new generation with each arming. */
static uint64_t alarm_next_ns, alarm_period_ns, alarm_generation;
static unsigned alarm_vector = VMI_ALARM_IRQ0_VECTOR;
static void (*volatile device_tick)(void); /* set while an emulated device owns the timer */
static uint64_t cycles_per_second;
static __thread int schedstat_fd = -1;

static uint64_t monotonic_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The host timers' clock. */
static uint64_t timer_clock_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static struct timespec ns_to_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ull),
	                          .tv_nsec = (long)(ns % 1000000000ull) };
}

static uint64_t timespec_to_ns(struct timespec t)
{
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Arms this process's alarm timer on the schedule. */
static int arm_on_schedule(void)
{
	struct itimerspec when = { .it_value = ns_to_timespec(alarm_next_ns),
	                           .it_interval = ns_to_timespec(alarm_period_ns) };
	alarm_generation_armed = alarm_generation;
	return timer_settime(alarm_timer, TIMER_ABSTIME, &when, NULL);
}

/* A new schedule: first expiry `delay` from now, then every `period` (0: none). */
static int schedule_alarm(struct timespec delay, struct timespec period)
{
	alarm_next_ns = timer_clock_ns() + timespec_to_ns(delay);
	alarm_period_ns = timespec_to_ns(period);
	alarm_generation++;
	return arm_on_schedule();
}

void timer_process_entered(void)
{
	if (alarm_timer_ready && alarm_armed && alarm_generation_armed != alarm_generation)
		arm_on_schedule();   /* a past expiry fires at once: no tick is lost */
}

void timer_on_signal_elsewhere(void)
{
	struct itimerspec off;
	memset(&off, 0, sizeof(off));
	if (alarm_timer_ready)
		timer_settime(alarm_timer, 0, &off, NULL);
	alarm_generation_armed = 0;
}

static uint64_t cycle_counter(void)
{
	return __rdtsc();
}

static void calibrate(void)
{
	const struct clock_sources clocks = { monotonic_ns, cycle_counter };
	cycles_per_second = clock_calibrate(&clocks, CALIBRATION_NS);
}

int timer_signal(void)
{
	return SIGRTMIN;
}

int timer_kick_signal(void)
{
	return SIGRTMIN + 1;
}

/* A second timer, only to look again at a pending interrupt (platform/process/signals.c). */
static __thread timer_t kick_timer;
static __thread int kick_timer_ready;

void timer_kick_soon(void)
{
	struct itimerspec when;
	memset(&when, 0, sizeof(when));
	when.it_value.tv_nsec = 100000;
	if (kick_timer_ready)
		timer_settime(kick_timer, 0, &when, NULL);
}

int timer_setup(void)
{
	struct sigevent event;
	memset(&event, 0, sizeof(event));
	event.sigev_notify = SIGEV_SIGNAL;
	event.sigev_signo = timer_signal();
	if (timer_create(CLOCK_MONOTONIC, &event, &alarm_timer) != 0)
		return -1;
	alarm_timer_ready = 1;
	event.sigev_signo = timer_kick_signal();
	if (timer_create(CLOCK_MONOTONIC, &event, &kick_timer) != 0)
		return -1;
	kick_timer_ready = 1;
	/* Opened now: the sandbox allows reads, not opens, once the guest runs. An
	 * address-space process keeps the first process's (its number is the one the sandbox
	 * allows): stolen time stays one count that never goes back, if only that thread's. */
	if (schedstat_fd < 0)
		schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	return 0;
}

int timer_schedstat_fd(void)
{
	return schedstat_fd;
}

uint64_t timer_cycle_frequency(void)
{
	if (!cycles_per_second)
		calibrate();
	return cycles_per_second;
}

/* Stolen time: how long this thread waited on a run queue, as the host scheduler counts. */
static uint64_t stolen_cycles(void)
{
	char text[96];
	if (schedstat_fd < 0 || pread(schedstat_fd, text, sizeof(text) - 1, 0) <= 0)
		return 0;
	text[sizeof(text) - 1] = 0;
	char *field = strchr(text, ' ');
	uint64_t waited_ns = field ? strtoull(field + 1, NULL, 10) : 0;
	return (uint64_t)((double)waited_ns * (double)timer_cycle_frequency() / 1e9);
}

int timer_cycle_counter(uint32_t which, uint64_t *cycles)
{
	uint64_t real = __rdtsc();
	switch (which) {
	case VMI_CYCLES_REAL: *cycles = real; return 0;
	case VMI_CYCLES_AVAILABLE: *cycles = real - stolen_cycles(); return 0;
	case VMI_CYCLES_STOLEN: *cycles = stolen_cycles(); return 0;
	default: return -1;
	}
}

uint64_t timer_wallclock_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static struct timespec cycles_to_timespec(uint64_t cycles)
{
	double ns = (double)cycles * 1e9 / (double)timer_cycle_frequency();
	struct timespec t = { .tv_sec = (time_t)(ns / 1e9) };
	t.tv_nsec = (long)(ns - (double)t.tv_sec * 1e9);
	return t;
}

uint32_t timer_set_alarm(uint32_t flags, uint64_t expiry, uint64_t period)
{
	uint32_t counter = flags & VMI_ALARM_COUNTER_MASK;
	uint32_t known = VMI_ALARM_COUNTER_MASK | VMI_ALARM_PERIODIC | VMI_ALARM_WIRED_LVTT;
	if (!alarm_timer_ready)
		return VMI_ERROR_NOT_IMPLEMENTED;
	if ((flags & ~known) || (counter != VMI_CYCLES_REAL && counter != VMI_CYCLES_AVAILABLE))
		return VMI_ERROR_INVALID;
	int periodic = (flags & VMI_ALARM_PERIODIC) != 0;
	/* A periodic alarm faster than 10 kHz would only feed the host signal storm. */
	if (periodic && period < timer_cycle_frequency() / TIMER_MAX_PERIODIC_HZ)
		return VMI_ERROR_INVALID;

	uint64_t now = __rdtsc();
	struct itimerspec when;
	memset(&when, 0, sizeof(when));
	when.it_value = cycles_to_timespec(expiry > now ? expiry - now : 0);
	if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
		when.it_value.tv_nsec = 1; /* already due: fire at once (zero would disarm) */
	if (periodic)
		when.it_interval = cycles_to_timespec(period);
	alarm_vector = (flags & VMI_ALARM_WIRED_LVTT) ? VMI_ALARM_LVTT_VECTOR : VMI_ALARM_IRQ0_VECTOR;
	device_tick = NULL;
	alarm_periodic = periodic;
	alarm_armed = 1;
	if (schedule_alarm(when.it_value, when.it_interval) != 0) {
		alarm_armed = 0;
		return VMI_ERROR_INVALID;
	}
	return 0;
}

uint32_t timer_cancel_alarm(uint32_t flags)
{
	(void)flags;
	if (!alarm_timer_ready)
		return 0;
	struct itimerspec off;
	memset(&off, 0, sizeof(off));
	int was = alarm_armed;
	alarm_armed = 0;
	alarm_generation++;   /* other processes' timers are stale: they stop at their next fire */
	alarm_generation_armed = alarm_generation;
	timer_settime(alarm_timer, 0, &off, NULL);
	return was ? 1 : 0;
}

uint64_t timer_device_period_ns(uint64_t period_ns, int periodic)
{
	/* A device cannot be told "invalid" as SetAlarm's caller is: it gets the fastest rate
	 * allowed instead. One-shots need no floor: each costs the guest a trapped re-arm. */
	if (periodic && period_ns < TIMER_MIN_PERIOD_NS)
		return TIMER_MIN_PERIOD_NS;
	return period_ns;
}

static uint64_t device_armed_period_ns;

uint64_t timer_device_armed_period_ns(void)
{
	return device_armed_period_ns;
}

void timer_arm_device(void (*tick)(void), uint64_t period_ns, int periodic)
{
	period_ns = timer_device_period_ns(period_ns, periodic);
	device_armed_period_ns = period_ns;
	struct itimerspec when;
	memset(&when, 0, sizeof(when));
	when.it_value.tv_sec = (time_t)(period_ns / 1000000000ull);
	when.it_value.tv_nsec = (long)(period_ns % 1000000000ull);
	if (periodic)
		when.it_interval = when.it_value;
	if (!alarm_timer_ready)
		return;
	device_tick = tick;
	alarm_periodic = periodic;
	alarm_armed = 1;
	schedule_alarm(when.it_value, when.it_interval);
}

int timer_alarm_armed(void)
{
	return alarm_armed;
}

uint64_t timer_next_alarm_ns(void)
{
	return alarm_armed ? alarm_next_ns : 0;
}

void timer_on_signal(void)
{
	if (!alarm_armed)
		return; /* a late signal from a cancelled alarm */
	/* Two processes' timers may both fire for an expiry the vCPU's handoff straddled: the
	 * first handles it, and moves the schedule on. */
	uint64_t now = timer_clock_ns();
	if (now < alarm_next_ns)
		return;
	if (alarm_period_ns)
		alarm_next_ns += ((now - alarm_next_ns) / alarm_period_ns + 1) * alarm_period_ns;
	if (!alarm_periodic)
		alarm_armed = 0;
	if (device_tick)
		device_tick();
	else
		virtual_cpu_raise(alarm_vector);
}
