/* Checked guest-memory access for the monitor, at the guest's linear addresses: translated
 * page by page when the guest pages (monitor/mmu.c), then reached through the monitor's own
 * view of guest-physical memory, never through the guest's mappings. */
#include <string.h>

#include "address_space.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"

#define PAGE_SIZE 4096u

/* Calls `step` for each piece of [addr, addr+len) that lies in one page, with its host
 * pointer; -1 as soon as a piece is not guest memory the access may use. */
static int each_piece(uint32_t addr, uint32_t len, int write, uint8_t *buffer)
{
	if ((uint64_t)addr + len > 0x100000000ull)
		return -1;
	while (len > 0) {
		uint32_t piece = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
		if (piece > len)
			piece = len;
		uint32_t physical;
		if (mmu_translate(addr, write, &physical) != 0)
			return -1;
		int paging = mmu_paging();
		if (write) {
			void *to = paging ? address_space_physical(physical, piece, 1)
			                  : address_space_guest_writable(physical, piece);
			if (!to)
				return -1;
			if (buffer)
				memcpy(to, buffer, piece);
		} else {
			const void *from = paging ? address_space_physical(physical, piece, 0)
			                          : address_space_guest_readable(physical, piece);
			if (!from)
				return -1;
			if (buffer)
				memcpy(buffer, from, piece);
		}
		addr += piece;
		len -= piece;
		if (buffer)
			buffer += piece;
	}
	return 0;
}

int guest_accessible(uint32_t addr, uint32_t len, int write)
{
	return each_piece(addr, len, write, NULL) == 0;
}

int guest_read(uint32_t addr, void *to, uint32_t len)
{
	return each_piece(addr, len, 0, to);
}

int guest_write(uint32_t addr, const void *from, uint32_t len)
{
	/* Check every page first, so that a refused write changes nothing. */
	if (each_piece(addr, len, 1, NULL) != 0)
		return -1;
	return each_piece(addr, len, 1, (uint8_t *)(uintptr_t)from);
}

int guest_read32(uint32_t addr, uint32_t *value)
{
	return guest_read(addr, value, 4);
}

int guest_write32(uint32_t addr, uint32_t value)
{
	return guest_write(addr, &value, 4);
}
