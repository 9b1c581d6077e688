/* Checked guest-memory access for the monitor, at the guest's linear addresses: translated
 * page by page when the guest pages (monitor/mmu.c), then reached through the monitor's own
 * view of guest-physical memory, never through the guest's mappings. */
#include <string.h>

#include "platform.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"

#define PAGE_SIZE 4096u

void *guest_page_pointer(uint32_t addr, uint32_t len, int write)
{
	uint32_t physical;
	if (len == 0 || (addr & (PAGE_SIZE - 1)) + len > PAGE_SIZE ||
	    mmu_translate(addr, write, &physical) != 0)
		return NULL;
	/* Paging reaches every guest-physical page; before it, an address is also where the
	 * guest itself runs, which cannot be below 64 KiB. */
	if (mmu_paging())
		return platform_guest_physical(physical, len, write);
	return write ? platform_guest_unpaged(physical, len, 1)
	             : (void *)(uintptr_t)platform_guest_unpaged(physical, len, 0);
}

/* Copies [addr, addr+len) one page at a time into or out of `buffer` (or, with no buffer,
 * only checks it); -1 as soon as a piece is not guest memory the access may use. */
static int each_piece(uint32_t addr, uint32_t len, int write, uint8_t *buffer)
{
	if ((uint64_t)addr + len > 0x100000000ull)
		return -1;
	while (len > 0) {
		uint32_t piece = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
		if (piece > len)
			piece = len;
		uint8_t *guest = guest_page_pointer(addr, piece, write);
		if (!guest)
			return -1;
		if (buffer) {
			if (write)
				memcpy(guest, buffer, piece);
			else
				memcpy(buffer, guest, piece);
			buffer += piece;
		}
		addr += piece;
		len -= piece;
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
	/* Within one page a single translation decides (the common case: a word, a frame). */
	if (len > 0 && (addr & (PAGE_SIZE - 1)) + len <= PAGE_SIZE) {
		uint8_t *guest = guest_page_pointer(addr, len, 1);
		if (!guest)
			return -1;
		memcpy(guest, from, len);
		return 0;
	}
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
