/* The i8042's reset line (port 0x64, command 0xFE), the way Linux and most PC kernels
 * reboot when they have nothing better. There is no keyboard behind it: the status port
 * reads 0 (nothing to read, room to write), so a kernel's wait for the controller ends at
 * once, and every other command is ignored. */
#include <stddef.h>

#include "devices/port_device.h"
#include "devices/machine.h"

#define I8042_STATUS_PORT 0x64
#define PULSE_RESET       0xFE

static uint8_t reset_line_status(uint16_t port)
{
	(void)port;
	return 0;
}

static void reset_line_command(uint16_t port, uint32_t command)
{
	(void)port;
	if ((uint8_t)command == PULSE_RESET)   /* an 8-bit port: the low byte */
		machine_stop_for_reboot();
}

const struct port_device reset_line_device = {
	"i8042 reset line", { { I8042_STATUS_PORT, 1 } }, reset_line_status, reset_line_command,
};
