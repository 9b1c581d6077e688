/* The exit port. QEMU computes (v << 1) | 1 and the host keeps its low 8 bits; so do we. */
#include <stddef.h>

#include <vmi/pc.h>
#include "devices/exit_port.h"
#include "devices/port_device.h"
#include "devices/machine.h"

int exit_port_status(uint32_t value)
{
	return (int)(((value << 1) | 1) & 0xFF);
}

static void exit_port_write(uint16_t port, uint32_t value)
{
	(void)port;
	machine_stop_with_status((int)value);
}

const struct port_device exit_port_device = {
	"exit port", { { VMI_PORT_EXIT, 1 } }, NULL, exit_port_write,
};
