/* The machine as its devices see it (devices/machine.h): each request forwarded to the part
 * of vmirun that owns it, so no device reaches into the monitor or the platform. */
#include <stddef.h>

#include "devices/machine.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "platform.h"

void machine_raise_vector(unsigned vector)
{
	virtual_cpu_raise(vector);
}

void machine_arm_timer(void (*tick)(void), uint64_t period_ns, int periodic)
{
	timer_arm_device(tick, period_ns, periodic);
}

void machine_stop_for_reboot(void)
{
	platform_request_stop(GUEST_STOP_REBOOT, NULL, NULL);
}

void machine_stop_for_output_failure(void)
{
	platform_request_stop(GUEST_STOP_OUTPUT_FAILED, NULL, NULL);
}

void machine_stop_with_status(int value)
{
	platform_request_exit_port_stop(value);
}
