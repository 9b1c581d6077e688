/* The i8042's reset line (port 0x64, command 0xFE), the way Linux and most PC kernels
 * reboot when they have nothing better. There is no keyboard behind it. */
#include <stddef.h>

#include "devices/reset_line.h"
#include "vcpu/vcpu.h"

#define PULSE_RESET 0xFE

uint8_t reset_line_read_status(void)
{
	return 0;
}

void reset_line_write_command(uint8_t command)
{
	if (command == PULSE_RESET)
		vcpu_stop_guest(VCPU_STOP_REBOOT, NULL);
}
