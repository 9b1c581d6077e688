/* Time for the guest: the cycle counter and its frequency, stolen time, the wallclock, and
 * alarms backed by a host timer that raise the alarm vector when due. */
#ifndef VMM_MONITOR_TIMER_H
#define VMM_MONITOR_TIMER_H

#include <stdint.h>

/* Creates this process's host timers; before the sandbox locks it. 0 or -1 (errno set). */
int timer_setup(void);

uint64_t timer_cycle_frequency(void);

/* The file stolen time is read from (-1 if none), for the sandbox's list of readable files. */
int timer_schedstat_fd(void);
/* `which` is VMI_CYCLES_*; returns 0 and the count, or -1 for an unknown counter. */
int timer_cycle_counter(uint32_t which, uint64_t *cycles);
uint64_t timer_wallclock_ns(void);

/* The fastest a host timer may fire periodically for the guest, 10 kHz: SetAlarm refuses a
 * shorter period, and an emulated device's shorter period is raised to it. Faster would only
 * feed a host signal storm (a PIT reload of 1 asks for a tick every 838 ns). */
#define TIMER_MAX_PERIODIC_HZ 10000u
#define TIMER_MIN_PERIOD_NS   (1000000000u / TIMER_MAX_PERIODIC_HZ)

/* SetAlarm and CancelAlarm as docs/abi.md says. */
uint32_t timer_set_alarm(uint32_t flags, uint64_t expiry, uint64_t period);
uint32_t timer_cancel_alarm(uint32_t flags);

/* For emulated timer devices (the PIT): call `tick` (from the signal handler) after
 * period_ns, and every period_ns after that if `periodic` (a periodic period_ns is raised to
 * TIMER_MIN_PERIOD_NS; a one-shot is left as asked). Shares the one host timer with SetAlarm:
 * the last one armed wins. */
void timer_arm_device(void (*tick)(void), uint64_t period_ns, int periodic);

/* The period timer_arm_device gives the host timer when a device asks for period_ns. */
uint64_t timer_device_period_ns(uint64_t period_ns, int periodic);

/* The period (ns) of the last timer_arm_device call, after the clamp; 0 before any. Lets the
 * unit tests see what a device programmed, host timer or not. */
uint64_t timer_device_armed_period_ns(void);

/* Nonzero while an alarm is armed, so a halted guest can still be woken. */
int timer_alarm_armed(void);

/* The alarm's next expiry, CLOCK_MONOTONIC nanoseconds, or 0 if none is armed. */
uint64_t timer_next_alarm_ns(void);

/* The signal the alarm timer raises (handled by the monitor's trap code). */
int timer_signal(void);

/* The signal of the kick timer, which only makes the monitor look again at a pending
 * interrupt; timer_kick_soon arms it 100 us ahead. */
int timer_kick_signal(void);
void timer_kick_soon(void);

/* Called from the alarm signal handler: marks the alarm vector pending. */
void timer_on_signal(void);

/* Address-space processes (platform/process/address_space_processes.c), each with host
 * timers of its own (timer_setup in each): the process that takes the vCPU arms its alarm
 * on the shared schedule if it is not already; one that fires in a process that no longer
 * holds it is stopped there. */
void timer_process_entered(void);
void timer_on_signal_elsewhere(void);

#endif
