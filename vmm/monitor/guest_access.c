/* Checked guest-memory access for the monitor. */
#include <string.h>

#include "address_space.h"
#include "monitor/guest_access.h"

int guest_read(uint32_t addr, void *to, uint32_t len)
{
	const void *from = address_space_guest_readable(addr, len);
	if (!from)
		return -1;
	memcpy(to, from, len);
	return 0;
}

int guest_write(uint32_t addr, const void *from, uint32_t len)
{
	void *to = address_space_guest_writable(addr, len);
	if (!to)
		return -1;
	memcpy(to, from, len);
	return 0;
}

int guest_read32(uint32_t addr, uint32_t *value)
{
	return guest_read(addr, value, 4);
}

int guest_write32(uint32_t addr, uint32_t value)
{
	return guest_write(addr, &value, 4);
}
