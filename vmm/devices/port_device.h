/* What a port device tells the I/O bus: the ports it answers and what reads and writes of
 * them do. Each device file defines one; io_bus.c lists them. */
#ifndef VMM_DEVICES_PORT_DEVICE_H
#define VMM_DEVICES_PORT_DEVICE_H

#include <stdint.h>

#define PORT_DEVICE_RANGES 2

struct port_range {
	uint16_t first, count;   /* count 0: an unused range */
};

struct port_device {
	const char *name;
	struct port_range ranges[PORT_DEVICE_RANGES];
	/* A byte from the port (the bus gives the rest of a wider access as ones, as a PC's
	 * 8-bit devices do); NULL: the port reads as all ones. */
	uint8_t (*read)(uint16_t port);
	/* The value written, cut to the access size; NULL: writes are ignored. */
	void (*write)(uint16_t port, uint32_t value);
};

extern const struct port_device console_device, exit_port_device, pic_device, pit_device,
	reset_line_device;

#endif
