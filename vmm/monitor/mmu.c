/* The guest's MMU on the process platform: host mappings of the memfd at the guest's linear
 * addresses are its TLB. They are made when the guest faults on an address (after a walk of
 * its page tables through the monitor's view: A set, D set on a write, read-only until the
 * first write so D stays exact) and dropped as the guest's TLB contract says (invlpg, CR3
 * loads, flushes). Global translations survive CR3 loads, as in the TLB. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vmi/mmu.h>
#include <vmi/process.h>
#include "platform.h"
#include "monitor/mmu.h"
#include "monitor/page_walk.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"

#define SMALL_PAGE 0x1000u
#define LARGE_PAGE 0x400000u
#define REGIONS    1024u               /* 4 MiB regions of the 4 GiB linear space */

/* 0 while the identity mappings of start-up stand (paging never on, nothing flushed):
 * until then a host fault is not a TLB miss. */
static int lazy;
/* The 4 MiB regions mapped whole since the last flush: invlpg there drops all 4 MiB. */
static uint32_t large_mapped[REGIONS / 32];
/* What is mapped since the last whole flush, as two sets of sorted, merged linear ranges:
 * the global translations, which a CR3 load keeps, and the others, which it drops. A set
 * that would need more than RANGES_MAX ranges stops growing and says so ("full"): a full
 * global set keeps fewer pages than it could (correct, only slower); with a full other set,
 * a CR3 load drops everything between the global ranges instead of just what it knows. */
#define RANGES_MAX 64
struct range_set {
	struct linear_range { uint32_t start, end; } ranges[RANGES_MAX];
	unsigned count;
	int full;
};
static struct range_set global_mapped, other_mapped;

static void range_set_clear(struct range_set *set)
{
	set->count = 0;
	set->full = 0;
}

static void range_set_add(struct range_set *set, uint32_t start, uint32_t size)
{
	struct linear_range *r = set->ranges;
	uint32_t end = start + size;
	unsigned i = 0;
	while (i < set->count && r[i].end < start)
		i++;
	if (i < set->count && r[i].start <= end) {   /* touches: grow it */
		if (start < r[i].start)
			r[i].start = start;
		if (end > r[i].end)
			r[i].end = end;
		while (i + 1 < set->count && r[i + 1].start <= r[i].end) {
			if (r[i + 1].end > r[i].end)
				r[i].end = r[i + 1].end;
			memmove(&r[i + 1], &r[i + 2], (set->count - i - 2) * sizeof r[0]);
			set->count--;
		}
		return;
	}
	if (set->count == RANGES_MAX) {
		set->full = 1;
		return;
	}
	memmove(&r[i + 1], &r[i], (set->count - i) * sizeof r[0]);
	r[i] = (struct linear_range){ start, end };
	set->count++;
}

/* invlpg of a global page: its range is forgotten whole, so the rest of it is dropped at
 * the next CR3 load rather than kept (dropping more is always allowed). */
static void range_set_forget_at(struct range_set *set, uint32_t linear)
{
	for (unsigned i = 0; i < set->count; i++)
		if (linear >= set->ranges[i].start && linear < set->ranges[i].end) {
			memmove(&set->ranges[i], &set->ranges[i + 1],
			        (set->count - i - 1) * sizeof set->ranges[0]);
			set->count--;
			return;
		}
}

static int range_set_covers(const struct range_set *set, uint32_t start, uint32_t size)
{
	for (unsigned i = 0; i < set->count; i++)
		if (start >= set->ranges[i].start && start + size <= set->ranges[i].end)
			return 1;
	return 0;
}

static int read_physical(void *context, uint32_t physical, uint32_t *value)
{
	(void)context;
	const void *from = platform_guest_physical(physical, 4, 0);
	if (!from)
		return -1;
	memcpy(value, from, 4);
	return 0;
}

static int or_physical(void *context, uint32_t physical, uint32_t bits)
{
	(void)context;
	uint32_t *word = platform_guest_physical(physical, 4, 1);
	if (!word || (physical & 3))
		return -1;
	__atomic_fetch_or(word, bits, __ATOMIC_SEQ_CST);
	return 0;
}

static const struct page_walk_memory physical_memory = { read_physical, or_physical, NULL };

static enum page_walk_status walk(uint32_t linear, unsigned access, struct page_walk_result *r)
{
	return page_walk(&physical_memory, virtual_cpu.cr0, virtual_cpu.cr3, virtual_cpu.cr4,
	                 linear, access, r);
}

void mmu_reset(void)
{
	lazy = 0;
	memset(large_mapped, 0, sizeof large_mapped);
	range_set_clear(&global_mapped);
	range_set_clear(&other_mapped);
}

int mmu_paging(void)
{
	return (virtual_cpu.cr0 & VMI_CR0_PG) != 0;
}

static void unmap(uint32_t linear, uint32_t size)
{
	stats_count_paging(STATS_PAGING_HOST_UNMAP, 1);
	/* Only PROT_NONE over a reserved range: it cannot fail short of a host in trouble, and
	 * a mapping left behind is a stale translation, which the TLB contract allows. */
	(void)platform_unmap_linear(linear, size);
}

/* Drops every host mapping of the guest's; the guest's next touches fill them again. */
static void drop_all(void)
{
	lazy = 1;
	memset(large_mapped, 0, sizeof large_mapped);
	range_set_clear(&global_mapped);
	range_set_clear(&other_mapped);
	stats_count_paging(STATS_PAGING_FLUSH_ALL, 1);
	unmap(VMI_PROCESS_LOW_RAM_BASE, VMI_PROCESS_WINDOW_BASE - VMI_PROCESS_LOW_RAM_BASE);
}

/* Drops every mapping but the global ones: one unmap per range of the others, or, if there
 * were too many of those to remember, per gap between the global ones. */
static void drop_all_but_global(void)
{
	if (global_mapped.count == 0) {
		drop_all();
		return;
	}
	stats_count_paging(STATS_PAGING_FLUSH_KEEPING_GLOBAL, 1);
	if (!other_mapped.full) {
		for (unsigned i = 0; i < other_mapped.count; i++)
			unmap(other_mapped.ranges[i].start,
			      other_mapped.ranges[i].end - other_mapped.ranges[i].start);
	} else {
		uint32_t from = VMI_PROCESS_LOW_RAM_BASE;
		for (unsigned i = 0; i <= global_mapped.count; i++) {
			uint32_t to = i < global_mapped.count ? global_mapped.ranges[i].start
			                                      : VMI_PROCESS_WINDOW_BASE;
			if (to > from)
				unmap(from, to - from);
			if (i < global_mapped.count)
				from = global_mapped.ranges[i].end;
		}
	}
	range_set_clear(&other_mapped);
	for (uint32_t region = 0; region < REGIONS; region++)
		if ((large_mapped[region / 32] & (1u << (region % 32))) &&
		    !range_set_covers(&global_mapped, region << 22, LARGE_PAGE))
			large_mapped[region / 32] &= ~(1u << (region % 32));
}

/* With paging off, translation is the identity and never goes stale: no flush has work. */
void mmu_flush(int global)
{
	if (!mmu_paging())
		return;
	if (global)
		drop_all();
	else
		drop_all_but_global();
}

void mmu_control_registers_written(uint32_t old_cr0, uint32_t old_cr4)
{
	const uint32_t cr0_bits = VMI_CR0_WP, cr4_bits = VMI_CR4_PSE | VMI_CR4_PGE;
	if (((old_cr0 ^ virtual_cpu.cr0) & VMI_CR0_PG) ||
	    (mmu_paging() &&
	     (((old_cr0 ^ virtual_cpu.cr0) & cr0_bits) || ((old_cr4 ^ virtual_cpu.cr4) & cr4_bits))))
		drop_all();
}

void mmu_cr3_loaded(void)
{
	if (mmu_paging())
		stats_count_paging(STATS_PAGING_CR3_LOADS, 1);
	mmu_flush(0);
}

void mmu_invalidate(uint32_t linear)
{
	if (!mmu_paging())
		return; /* the identity is never stale */
	range_set_forget_at(&global_mapped, linear);
	uint32_t region = linear >> 22;
	if (large_mapped[region / 32] & (1u << (region % 32))) {
		large_mapped[region / 32] &= ~(1u << (region % 32));
		unmap(region << 22, LARGE_PAGE);   /* a large region is mappable whole */
		return;
	}
	uint32_t page = linear & ~(SMALL_PAGE - 1);
	if (platform_linear_mappable(page, SMALL_PAGE))
		unmap(page, SMALL_PAGE);
}

int mmu_translate(uint32_t linear, int write, uint32_t *physical)
{
	if (!mmu_paging()) {
		*physical = linear;
		return 0;
	}
	struct page_walk_result r;
	if (walk(linear, write ? PAGE_WALK_WRITE : 0, &r) != PAGE_WALK_OK)
		return -1;
	*physical = r.physical;
	return 0;
}

static int map(uint32_t linear, uint32_t physical, uint32_t size, int writable)
{
	stats_count_paging(STATS_PAGING_HOST_MAP, 1);
	stats_count_paging(STATS_PAGING_PAGES_MAPPED, size / SMALL_PAGE);
	return platform_map_linear(linear, physical, size, writable);
}

/* Maps the page that holds `linear`, translated to `physical` by a page of `page_size`:
 * all 4 MiB of a large page at once when it is all RAM, else the 4 KiB page. */
static enum mmu_fault_outcome fill(uint32_t linear, uint32_t physical, uint32_t page_size,
                                   int writable, int global, int write,
                                   char reason[MMU_REASON_MAX])
{
	uint32_t large_base = linear & ~(LARGE_PAGE - 1), large_frame = physical & ~(LARGE_PAGE - 1);
	if (page_size == LARGE_PAGE && platform_linear_mappable(large_base, LARGE_PAGE) &&
	    platform_guest_physical(large_frame, LARGE_PAGE, 1)) {
		if (map(large_base, large_frame, LARGE_PAGE, writable) != 0)
			goto map_failed;
		large_mapped[linear >> 27] |= 1u << ((linear >> 22) % 32);
		range_set_add(global ? &global_mapped : &other_mapped, large_base, LARGE_PAGE);
		return MMU_FILLED;
	}
	uint32_t page = linear & ~(SMALL_PAGE - 1), frame = physical & ~(SMALL_PAGE - 1);
	if (!platform_linear_mappable(page, SMALL_PAGE)) {
		snprintf(reason, MMU_REASON_MAX, "the guest uses linear address 0x%08x, which vmirun "
		         "cannot map (below 0x%x, or vmirun's window from 0x%08x)", linear,
		         VMI_PROCESS_LOW_RAM_BASE, VMI_PROCESS_WINDOW_BASE);
		return MMU_UNSUPPORTED;
	}
	if (!platform_guest_physical(frame, SMALL_PAGE, 1)) {
		if (!platform_guest_physical(frame, SMALL_PAGE, 0)) {
			snprintf(reason, MMU_REASON_MAX, "linear address 0x%08x maps guest-physical "
			         "0x%08x, where the guest has no memory", linear, physical);
			return MMU_UNSUPPORTED;
		}
		if (write) {
			snprintf(reason, MMU_REASON_MAX, "the guest writes its ROM (linear 0x%08x, "
			         "physical 0x%08x)", linear, physical);
			return MMU_UNSUPPORTED;
		}
		writable = 0;
	}
	if (map(page, frame, SMALL_PAGE, writable) != 0)
		goto map_failed;
	range_set_add(global ? &global_mapped : &other_mapped, page, SMALL_PAGE);
	return MMU_FILLED;
map_failed:
	snprintf(reason, MMU_REASON_MAX, "cannot map linear 0x%08x: %s", linear, strerror(errno));
	return MMU_UNSUPPORTED;
}

void mmu_entry_written(uint32_t linear)
{
	struct page_walk_result r;
	char reason[MMU_REASON_MAX];
	if (!mmu_paging() || walk(linear, 0, &r) != PAGE_WALK_OK)
		return;
	/* What cannot be mapped stays unmapped: the access will fault and say why. */
	if (fill(linear, r.physical, r.page_size, r.writable && r.dirty, r.global, 0, reason) ==
	    MMU_FILLED)
		stats_count_paging(STATS_PAGING_MAPPED_AT_SETPXE, 1);
}

enum mmu_fault_outcome mmu_host_fault(uint32_t linear, uint32_t host_error, int user,
                                      uint32_t *error_code, char reason[MMU_REASON_MAX])
{
	int write = (host_error & VMI_PF_WRITE) != 0;
	enum mmu_fault_outcome outcome;
	if (!mmu_paging()) {
		/* The identity mappings after a flush, made again as the guest touches them. */
		if (!lazy || !platform_guest_unpaged(linear, 1, 0))   /* the identity's rules */
			return MMU_NOT_PAGING;
		outcome = fill(linear, linear, SMALL_PAGE, 1, 0, write, reason);
	} else {
		struct page_walk_result r;
		unsigned access = (write ? PAGE_WALK_WRITE : 0) | (user ? PAGE_WALK_USER : 0);
		switch (walk(linear, access, &r)) {
		case PAGE_WALK_FAULT:
			*error_code = r.error_code;
			return MMU_GUEST_FAULT;
		case PAGE_WALK_BAD_TABLE:
			snprintf(reason, MMU_REASON_MAX, "the guest's page tables for linear 0x%08x "
			         "(entry at physical 0x%08x, CR3 0x%08x) lie outside its memory", linear,
			         r.table_entry, virtual_cpu.cr3);
			return MMU_UNSUPPORTED;
		case PAGE_WALK_ABOVE_4G:
			snprintf(reason, MMU_REASON_MAX, "linear address 0x%08x maps a 4 MiB page above "
			         "4 GiB (PSE-36 bits in its directory entry at physical 0x%08x), where the "
			         "guest has no memory", linear, r.table_entry);
			return MMU_UNSUPPORTED;
		case PAGE_WALK_OK:
			break;
		}
		/* Writable only once dirty: the first write comes back here to set D. */
		outcome = fill(linear, r.physical, r.page_size, r.writable && r.dirty, r.global, write,
		               reason);
	}
	if (outcome == MMU_FILLED)
		stats_count_paging((host_error & VMI_PF_PRESENT) && write ? STATS_PAGING_WRITE_UPGRADE
		                                                          : STATS_PAGING_FILLED, 1);
	return outcome;
}
