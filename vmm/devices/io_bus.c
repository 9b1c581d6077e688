/* Routes port I/O to the devices that registered the port (port_device.h): the console
 * UART, the exit port, the PIC and PIT that unmodified kernels program, and the keyboard
 * controller's reset line. Other ports read as all ones and ignore writes, as on a PC. */
#include <stddef.h>

#include "devices/io_bus.h"
#include "devices/port_device.h"

static const struct port_device *const devices[] = {
	&console_device, &exit_port_device, &pic_device, &pit_device, &reset_line_device,
};

static uint32_t all_ones(unsigned size)
{
	return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

const struct port_device *io_bus_device(uint16_t port)
{
	for (size_t d = 0; d < sizeof devices / sizeof devices[0]; d++)
		for (unsigned r = 0; r < PORT_DEVICE_RANGES; r++) {
			const struct port_range *range = &devices[d]->ranges[r];
			if (port >= range->first && port - range->first < range->count)
				return devices[d];
		}
	return NULL;
}

uint32_t io_bus_read(uint16_t port, unsigned size)
{
	const struct port_device *device = io_bus_device(port);
	if (!device || !device->read)
		return all_ones(size);
	return device->read(port) | (all_ones(size) & ~0xFFu);
}

void io_bus_write(uint16_t port, unsigned size, uint32_t value)
{
	const struct port_device *device = io_bus_device(port);
	if (device && device->write)
		device->write(port, value & all_ones(size));
}
