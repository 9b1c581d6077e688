/* Routes port I/O to the console UART, the exit port, the PIC and PIT that unmodified
 * kernels program, and the keyboard controller's reset line. */
#include <vmi/process.h>
#include "devices/console.h"
#include "devices/exit_port.h"
#include "devices/io_bus.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/reset_line.h"

static uint32_t all_ones(unsigned size)
{
	return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

uint32_t io_bus_read(uint16_t port, unsigned size)
{
	if (port >= VMI_PORT_COM1 && port < VMI_PORT_COM1 + 8)
		return console_port_read(port - VMI_PORT_COM1) | (all_ones(size) & ~0xFFu);
	if (pic_owns_port(port))
		return pic_read(port) | (all_ones(size) & ~0xFFu);
	if (pit_owns_port(port))
		return pit_read(port) | (all_ones(size) & ~0xFFu);
	if (port == RESET_LINE_STATUS_PORT)
		return reset_line_read_status() | (all_ones(size) & ~0xFFu);
	return all_ones(size);
}

void io_bus_write(uint16_t port, unsigned size, uint32_t value)
{
	if (port >= VMI_PORT_COM1 && port < VMI_PORT_COM1 + 8)
		console_port_write(port - VMI_PORT_COM1, (uint8_t)value);
	else if (port == VMI_PORT_EXIT)
		exit_port_write(value & all_ones(size));
	else if (pic_owns_port(port))
		pic_write(port, (uint8_t)value);
	else if (pit_owns_port(port))
		pit_write(port, (uint8_t)value);
	else if (port == RESET_LINE_STATUS_PORT)
		reset_line_write_command((uint8_t)value);
}
