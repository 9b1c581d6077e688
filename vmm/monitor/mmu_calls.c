/* The VMI page-table calls on the process platform. Entries are the guest's own memory, at
 * the linear addresses it gives (translated as the kernel's accesses); updates reach the
 * host mappings (the guest's TLB) when the guest flushes, as on hardware, or at once for an
 * entry of the current address space whose old value was present; one made present with A
 * set is mapped at once. Nothing is deferred, so FlushDeferredCalls has nothing to do. */
#include <stddef.h>

#include <vmi/calls.h>
#include <vmi/mmu.h>
#include <vmi/process.h>
#include "platform.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "monitor/mmu_calls.h"

#define PAGE_SIZE 4096u

/* The monitor's pointer to the entry at linear `entry`, for atomic updates; NULL if it is
 * not an aligned word of guest RAM the kernel may write. */
static uint32_t *entry_pointer(uint32_t entry)
{
	return (entry & 3) ? NULL : guest_page_pointer(entry, 4, 1);
}

static int one_level(uint32_t flags)
{
	uint32_t level = flags & VMI_PAGE_LEVEL_MASK;
	return level == VMI_PAGE_PT || level == VMI_PAGE_PD;
}

/* A present entry must map below the end of guest-physical memory (a frame, a page table,
 * or a 4 MiB page that starts there). Holes below it (under 64 KiB, the VGA area) may be
 * mapped, as on a PC; the guest is stopped only if it touches them. */
static int entry_allowed(uint32_t value)
{
	if (!(value & VMI_PTE_PRESENT))
		return 1;
	return (uint64_t)(value & VMI_PTE_FRAME_MASK) <
	       VMI_PROCESS_RAM_BASE + platform_guest_ram_bytes();
}

uint32_t mmu_call_set_pxe(uint32_t value, uint32_t entry, uint32_t flags)
{
	uint32_t *word = entry_pointer(entry);
	if (!word || !one_level(flags) || !entry_allowed(value))
		return VMI_ERROR_INVALID;
	uint32_t linear = flags & VMI_PAGE_VA_MASK;
	if ((flags & VMI_PAGE_CURRENT_AS) && (value & VMI_PTE_PRESENT) &&
	    linear >= VMI_PROCESS_WINDOW_BASE)
		return VMI_ERROR_INVALID; /* vmirun's window is not the guest's to map */
	uint32_t old = __atomic_exchange_n(word, value, __ATOMIC_SEQ_CST);
	mmu_table_entry_changed(entry, old, value);
	/* The TLB contract lets a changed entry wait for InvalPage; drop it now when the guest
	 * says where it is mapped and the update cannot wait. */
	if ((flags & VMI_PAGE_CURRENT_AS) && !(flags & VMI_PAGE_DEFER)) {
		if ((old & VMI_PTE_PRESENT) && old != value)
			mmu_invalidate(linear);
		if ((value & (VMI_PTE_PRESENT | VMI_PTE_ACCESSED)) ==
		    (VMI_PTE_PRESENT | VMI_PTE_ACCESSED))
			mmu_entry_written(linear);
	}
	return 0;
}

uint32_t mmu_call_get_pxe(uint32_t entry)
{
	const uint32_t *word = entry_pointer(entry);
	return word ? __atomic_load_n(word, __ATOMIC_SEQ_CST) : 0;
}

uint32_t mmu_call_swap_pxe(uint32_t value, uint32_t entry)
{
	uint32_t *word = entry_pointer(entry);
	if (!word)
		return 0;
	uint32_t old = __atomic_exchange_n(word, value, __ATOMIC_SEQ_CST);
	mmu_table_entry_changed(entry, old, value);
	return old;
}

uint32_t mmu_call_test_and_change_bit(uint32_t bit, uint32_t entry, int set)
{
	uint32_t *word = entry_pointer(entry);
	if (!word || bit > 31)
		return 0;
	uint32_t mask = 1u << bit;
	uint32_t old = set ? __atomic_fetch_or(word, mask, __ATOMIC_SEQ_CST)
	                   : __atomic_fetch_and(word, ~mask, __ATOMIC_SEQ_CST);
	mmu_table_entry_changed(entry, old, set ? old | mask : old & ~mask);
	return (old & mask) != 0;
}

static int ram_frame(uint32_t frame)
{
	return frame < (1u << 20) && platform_guest_unpaged(frame << 12, PAGE_SIZE, 1);
}

uint32_t mmu_call_allocate_page(uint32_t frame, uint32_t flags, uint32_t clone_frame,
                                uint32_t first, uint32_t count)
{
	if (!ram_frame(frame) || !one_level(flags) ||
	    (flags & ~(VMI_PAGE_LEVEL_MASK | VMI_ALLOCATE_CLONE | VMI_ALLOCATE_ZEROED)))
		return VMI_ERROR_INVALID;
	if ((flags & VMI_ALLOCATE_CLONE) &&
	    (!ram_frame(clone_frame) || first > 1024 || count > 1024 - first))
		return VMI_ERROR_INVALID;
	mmu_table_page_announced(frame);
	return 0; /* the guest fills the page itself; vmirun keeps no shadow of it */
}

uint32_t mmu_call_release_page(uint32_t frame, uint32_t flags)
{
	if (!ram_frame(frame) || !one_level(flags))
		return VMI_ERROR_INVALID;
	mmu_table_page_announced(frame);
	return 0;
}

uint32_t mmu_call_inval_page(uint32_t linear)
{
	mmu_invalidate(linear);
	return 0;
}

uint32_t mmu_call_flush_tlb(uint32_t flags)
{
	if (!(flags & VMI_FLUSH_TLB) || (flags & ~(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL)))
		return VMI_ERROR_INVALID;
	mmu_flush(flags & VMI_FLUSH_GLOBAL);
	return 0;
}

uint32_t mmu_call_flush_deferred(uint32_t flags)
{
	if (flags & ~(VMI_FLUSH_DEFERRED_PT | VMI_FLUSH_DEFERRED_CPU))
		return VMI_ERROR_INVALID;
	return 0;
}

uint32_t mmu_call_set_linear_mapping(uint32_t slot, uint32_t linear, uint32_t pages,
                                     uint32_t first_frame)
{
	uint64_t end = (uint64_t)linear + (uint64_t)pages * PAGE_SIZE;
	if (slot >= VMI_LINEAR_MAP_SLOTS || (linear & (PAGE_SIZE - 1)) ||
	    end > VMI_PROCESS_WINDOW_BASE || (uint64_t)first_frame + pages > (1u << 20))
		return VMI_ERROR_INVALID;
	mmu_linear_mapping_named(slot, linear, pages, first_frame);
	return 0;
}
