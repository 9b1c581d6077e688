/* The i386 page walk, non-PAE (Intel SDM vol. 3, 4.3 and 4.6): a page-directory entry, then a
 * page-table entry unless the directory entry maps a 4 MiB page (PS with CR4.PSE). User mode
 * needs U at both levels; writes need W at both, except supervisor writes with CR0.WP clear. */
#include <string.h>

#include <vmi/mmu.h>
#include "monitor/page_walk.h"

static uint32_t fault_code(unsigned access, int present)
{
	return (present ? VMI_PF_PRESENT : 0) | ((access & PAGE_WALK_WRITE) ? VMI_PF_WRITE : 0) |
	       ((access & PAGE_WALK_USER) ? VMI_PF_USER : 0);
}

enum page_walk_status page_walk(const struct page_walk_memory *memory, uint32_t cr0,
                                uint32_t cr3, uint32_t cr4, uint32_t linear, unsigned access,
                                struct page_walk_result *result)
{
	memset(result, 0, sizeof(*result));
	uint32_t directory_entry_at = (cr3 & VMI_PTE_FRAME_MASK) + (linear >> 22) * 4;
	uint32_t directory_entry;
	if (memory->read32(memory->context, directory_entry_at, &directory_entry) != 0)
		return PAGE_WALK_BAD_TABLE;
	result->table_entry = directory_entry_at;
	if (!(directory_entry & VMI_PTE_PRESENT)) {
		result->error_code = fault_code(access, 0);
		return PAGE_WALK_FAULT;
	}

	uint32_t entry = directory_entry, entry_at = directory_entry_at;
	int large = (directory_entry & VMI_PTE_LARGE) && (cr4 & VMI_CR4_PSE);
	if (large && (directory_entry & VMI_PDE_LARGE_RESERVED)) {
		result->error_code = fault_code(access, 1) | VMI_PF_RESERVED;
		return PAGE_WALK_FAULT;
	}
	if (large && (directory_entry & VMI_PDE_LARGE_HIGH_MASK))
		return PAGE_WALK_ABOVE_4G; /* not the low alias: hardware goes above 4 GiB */
	if (!large) {
		entry_at = (directory_entry & VMI_PTE_FRAME_MASK) + ((linear >> 12) & 0x3FF) * 4;
		if (memory->read32(memory->context, entry_at, &entry) != 0)
			return PAGE_WALK_BAD_TABLE;
		result->table_entry = entry_at;
		if (!(entry & VMI_PTE_PRESENT)) {
			result->error_code = fault_code(access, 0);
			return PAGE_WALK_FAULT;
		}
	}

	uint32_t both = large ? directory_entry : directory_entry & entry;
	int user = (both & VMI_PTE_USER) != 0;
	int writable = (both & VMI_PTE_WRITABLE) ||
	               (!(access & PAGE_WALK_USER) && !(cr0 & VMI_CR0_WP));
	if (((access & PAGE_WALK_USER) && !user) || ((access & PAGE_WALK_WRITE) && !writable)) {
		result->error_code = fault_code(access, 1);
		return PAGE_WALK_FAULT;
	}

	/* The MMU's own bookkeeping: A wherever it looked, D where it wrote. */
	if (!(directory_entry & VMI_PTE_ACCESSED) &&
	    memory->or32(memory->context, directory_entry_at, VMI_PTE_ACCESSED) != 0)
		return PAGE_WALK_BAD_TABLE;
	uint32_t set = VMI_PTE_ACCESSED | ((access & PAGE_WALK_WRITE) ? VMI_PTE_DIRTY : 0);
	if (!large && (entry & set) != set && memory->or32(memory->context, entry_at, set) != 0)
		return PAGE_WALK_BAD_TABLE;
	if (large && (access & PAGE_WALK_WRITE) && !(directory_entry & VMI_PTE_DIRTY) &&
	    memory->or32(memory->context, directory_entry_at, VMI_PTE_DIRTY) != 0)
		return PAGE_WALK_BAD_TABLE;

	uint32_t size = large ? 0x400000u : 0x1000u;
	result->page_size = size;
	result->page_base = linear & ~(size - 1);
	result->physical = (entry & ~(size - 1)) | (linear & (size - 1));
	result->user = user;
	result->writable = writable;
	result->dirty = (entry & VMI_PTE_DIRTY) || (access & PAGE_WALK_WRITE);
	result->global = (entry & VMI_PTE_GLOBAL) && (cr4 & VMI_CR4_PGE);
	return PAGE_WALK_OK;
}
