/* Unit tests for the port bus (vmm/devices/io_bus.c): every device answers all of the ports
 * it registered and no other device takes them; ports nobody registered read as all ones at
 * every width; an 8-bit device's byte comes back with ones above it, as on a PC. */
#include <criterion/criterion.h>

#include <vmi/pc.h>
#include "devices/io_bus.h"
#include "devices/port_device.h"

static const struct port_device *const every_device[] = {
	&console_device, &exit_port_device, &pic_device, &pit_device, &reset_line_device,
};

Test(io_bus, each_device_answers_every_port_it_registered)
{
	for (size_t d = 0; d < sizeof every_device / sizeof every_device[0]; d++) {
		const struct port_device *device = every_device[d];
		unsigned ports = 0;
		for (unsigned r = 0; r < PORT_DEVICE_RANGES; r++)
			for (unsigned i = 0; i < device->ranges[r].count; i++, ports++) {
				uint16_t port = (uint16_t)(device->ranges[r].first + i);
				cr_assert_eq(io_bus_device(port), device, "port 0x%x goes to %s, not %s",
				             port, io_bus_device(port) ? io_bus_device(port)->name : "nobody",
				             device->name);
			}
		cr_assert_gt(ports, 0, "%s registered no port", device->name);
	}
}

Test(io_bus, ports_nobody_registered_read_all_ones_and_ignore_writes)
{
	cr_assert_null(io_bus_device(0x3F0));
	cr_assert_eq(io_bus_read(0x3F0, 1), 0xFFu);
	cr_assert_eq(io_bus_read(0x3F0, 2), 0xFFFFu);
	cr_assert_eq(io_bus_read(0x3F0, 4), 0xFFFFFFFFu);
	io_bus_write(0x3F0, 4, 0x12345678);   /* nothing to reach, nothing to crash */
	cr_assert_eq(io_bus_read(0x3F0, 1), 0xFFu);
}

Test(io_bus, an_eight_bit_device_fills_a_wider_read_with_ones)
{
	cr_assert_eq(io_bus_read(VMI_PORT_COM1_LSR, 1), 0x60u, "the UART is ready");
	cr_assert_eq(io_bus_read(VMI_PORT_COM1_LSR, 2), 0xFF60u);
	cr_assert_eq(io_bus_read(0x64, 1), 0x00u, "the i8042 has nothing to read, room to write");
	cr_assert_eq(io_bus_read(0x64, 4), 0xFFFFFF00u);
}
