/* Port I/O as the guest sees it, whether it came through an I/O call or a trapped in/out:
 * routes each access to the device that owns the port. */
#ifndef VMM_DEVICES_IO_BUS_H
#define VMM_DEVICES_IO_BUS_H

#include <stdint.h>

/* size is 1, 2 or 4 bytes. Reads of ports no device owns return all ones, as on a PC;
 * writes to them are dropped. */
uint32_t io_bus_read(uint16_t port, unsigned size);
void io_bus_write(uint16_t port, unsigned size, uint32_t value);

struct port_device;
/* The device that answers `port`, or NULL. */
const struct port_device *io_bus_device(uint16_t port);

#endif
