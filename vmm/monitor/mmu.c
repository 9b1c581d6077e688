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

/* A TLB context: the mappings of one address space, which the platform keeps apart from
 * the others' (platform_address_space_count; a process each on this platform), tagged with
 * its page directory as a CPU tags TLB entries with a PCID. Switching back to it keeps what
 * it had mapped; what changed in its tables meanwhile is queued ("pending") and dropped
 * when it runs again, as the CR3 load would have on hardware. Which page table each of its
 * 4 MiB slots' small pages came through is kept to find them (table_under), with an index
 * from table to slots, so a page-table call finds them without looking at every slot. */
#define CONTEXTS_MAX 16
#define PENDING_MAX  32
#define FILLS_MAX    16
/* Where the guest writes its tables with plain stores (trap-and-emulate), the calls tell
 * nothing: a context keeps copies of its directory and of up to SNAPSHOTS_MAX page tables it
 * mapped through, as they were when it last ran, and compares them when it runs again. */
#define SNAPSHOTS_MAX 16
#define TABLE_BUCKETS 1024   /* by table frame: consecutive tables land apart */
struct table_snapshot {
	uint32_t table;                        /* page table address | 1, or 0 */
	uint32_t entries[1024];
};
struct tlb_context {
	uint32_t directory;                    /* the CR3 page it is for, if tagged */
	int tagged;
	uint64_t last_used;
	uint32_t large_mapped[REGIONS / 32];   /* 4 MiB regions mapped from a large page, whole
	                                          or in pieces: invlpg drops all of it */
	struct range_set global_mapped, other_mapped;
	uint32_t table_under[REGIONS];         /* page table address | 1, or 0 */
	uint16_t bucket_first[TABLE_BUCKETS];  /* a slot (+1) of a table in this bucket, or 0 */
	uint16_t bucket_next[REGIONS];         /* the next slot (+1) of the same bucket, or 0 */
	struct linear_range pending[PENDING_MAX];
	unsigned pending_count;
	int pending_drop_all;
	unsigned carry_from;                   /* 1 + the context whose global pages it takes
	                                          at its first entry, or 0 */
	uint32_t unmapped_page;                /* page | 1: the last one invalidated, with
	                                          nothing mapped since; or 0 */
	uint32_t fills[FILLS_MAX];             /* a user context: pages SetPxE made present for
	                                          user mode, mapped at its next entry */
	unsigned fill_count;
	/* Only while tables_compared: */
	int directory_copied;
	uint32_t directory_copy[1024];
	struct table_snapshot snapshots[SNAPSHOTS_MAX];
	uint32_t uncopied[REGIONS / 32];       /* slots mapped through a table not copied */
};
static int tables_compared;
static struct tlb_context contexts[CONTEXTS_MAX];
/* SetLinearMapping's ranges: [start, end) maps consecutive frames from first_frame. */
static struct linear_map { uint32_t start, end, first_frame; } linear_maps[VMI_LINEAR_MAP_SLOTS];
static unsigned current;                   /* the context the guest's CR3 selects */
static uint64_t use_clock;

static unsigned context_count(void)
{
	unsigned count = platform_address_space_count();
	return count < 1 ? 1 : count > CONTEXTS_MAX ? CONTEXTS_MAX : count;
}

/* Under strict isolation the contexts come in pairs: the kernel's (the first half), which
 * the kernel runs in and CR3 loads choose among, and the user's of the same directory (the
 * same index in the second half), which maps only what user mode may reach. */
static int isolating(void)
{
	return virtual_cpu_user_isolated() && context_count() >= 2;
}

static unsigned kernel_context_count(void)
{
	return isolating() ? context_count() / 2 : context_count();
}

static int is_user_context(unsigned i)
{
	return isolating() && i >= kernel_context_count();
}

/* The other context of the running one's pair, if it holds anything (tagged); else, and
 * without isolation, NULL. */
static struct tlb_context *other_side(void)
{
	unsigned kernels = kernel_context_count();
	if (!isolating())
		return NULL;
	struct tlb_context *other = &contexts[current < kernels ? current + kernels
	                                                        : current - kernels];
	return other->tagged ? other : NULL;
}

/* Its mappings are this process's: they can be changed now, not only queued. */
static int executing(const struct tlb_context *c)
{
	return (unsigned)(c - contexts) == platform_mapping_address_space();
}

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

/* The end of the range holding `linear`, or 0 if none does. */
static uint32_t range_set_end_at(const struct range_set *set, uint32_t linear)
{
	for (unsigned i = 0; i < set->count; i++)
		if (linear >= set->ranges[i].start && linear < set->ranges[i].end)
			return set->ranges[i].end;
	return 0;
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
	memset(contexts, 0, sizeof contexts);
	memset(linear_maps, 0, sizeof linear_maps);
	current = 0;
	use_clock = 0;
}

int mmu_paging(void)
{
	return (virtual_cpu.cr0 & VMI_CR0_PG) != 0;
}

/* An entry changed in a way a mapping made from it can hide: nothing of an entry that was
 * not present, nor A or D becoming set (a mapping without them faults to have them set). */
static int entry_differs(uint32_t then, uint32_t now)
{
	uint32_t became_set = now & ~then & (VMI_PTE_ACCESSED | VMI_PTE_DIRTY);
	return (then & VMI_PTE_PRESENT) && ((then ^ now) & ~became_set);
}

static uint32_t directory_of_cr3(void)
{
	return virtual_cpu.cr3 & ~(SMALL_PAGE - 1);
}

static unsigned bucket_of(uint32_t table)
{
	return (table >> 12) % TABLE_BUCKETS;
}

/* The slots `c` maps through `table`, one after another: first_slot_under, then
 * next_slot_under until REGIONS. */
static uint32_t slot_under_from(const struct tlb_context *c, unsigned link, uint32_t table)
{
	for (; link; link = c->bucket_next[link - 1])
		if (c->table_under[link - 1] == (table | 1))
			return link - 1;
	return REGIONS;
}

static uint32_t first_slot_under(const struct tlb_context *c, uint32_t table)
{
	return slot_under_from(c, c->bucket_first[bucket_of(table)], table);
}

static uint32_t next_slot_under(const struct tlb_context *c, uint32_t region, uint32_t table)
{
	return slot_under_from(c, c->bucket_next[region], table);
}

/* table_under[region] = value (a table | 1, or 0), keeping the index. */
static void set_table_under(struct tlb_context *c, uint32_t region, uint32_t value)
{
	uint32_t old = c->table_under[region];
	if (old == value)
		return;
	if (old) {
		uint16_t *link = &c->bucket_first[bucket_of(old)];
		while (*link != region + 1)
			link = &c->bucket_next[*link - 1];
		*link = c->bucket_next[region];
	}
	c->table_under[region] = value;
	if (value) {
		uint16_t *first = &c->bucket_first[bucket_of(value)];
		c->bucket_next[region] = *first;
		*first = (uint16_t)(region + 1);
	}
}

static void forget_mappings(struct tlb_context *c)
{
	memset(c->large_mapped, 0, sizeof c->large_mapped);
	memset(c->table_under, 0, sizeof c->table_under);
	memset(c->bucket_first, 0, sizeof c->bucket_first);
	memset(c->uncopied, 0, sizeof c->uncopied);
	for (unsigned i = 0; i < SNAPSHOTS_MAX; i++)
		c->snapshots[i].table = 0;
	range_set_clear(&c->global_mapped);
	range_set_clear(&c->other_mapped);
}

/* Only PROT_NONE over a reserved range: it cannot fail short of a host in trouble, and a
 * mapping left behind is a stale translation, which the TLB contract allows. Cut to what
 * can hold guest mappings (a large page's region may reach below it, or into the window). */
static void host_unmap(uint32_t linear, uint32_t size)
{
	uint64_t start = linear, end = (uint64_t)linear + size;
	if (start < VMI_PROCESS_LOW_RAM_BASE)
		start = VMI_PROCESS_LOW_RAM_BASE;
	if (end > VMI_PROCESS_WINDOW_BASE)
		end = VMI_PROCESS_WINDOW_BASE;
	if (start >= end)
		return;
	stats_count_paging(STATS_PAGING_HOST_UNMAP, 1);
	(void)platform_unmap_linear((uint32_t)start, (uint32_t)(end - start));
}

static void unmap_everything(void)
{
	stats_count_paging(STATS_PAGING_FLUSH_ALL, 1);
	host_unmap(VMI_PROCESS_LOW_RAM_BASE, VMI_PROCESS_WINDOW_BASE - VMI_PROCESS_LOW_RAM_BASE);
}

/* Drops every mapping of `c`, now if they are this process's, else when it runs next. */
static void drop_all(struct tlb_context *c)
{
	lazy = 1;
	forget_mappings(c);
	c->pending_count = 0;
	c->fill_count = 0;
	if (executing(c)) {
		c->pending_drop_all = 0;
		unmap_everything();
	} else {
		c->pending_drop_all = 1;
	}
}

/* Drops [linear, linear+size) of `c` now, or queues it for when `c` runs (see
 * queue_unmap). */
static void unmap(struct tlb_context *c, uint32_t linear, uint32_t size)
{
	if (executing(c))
		host_unmap(linear, size);
	else if (!c->pending_drop_all && c->pending_count < PENDING_MAX)
		c->pending[c->pending_count++] = (struct linear_range){ linear, linear + size };
	else
		drop_all(c);
}

/* A change the guest's TLB may still hide on hardware, until InvalPage or a CR3 load: queued
 * even for the running context, and applied when a context runs again after others (its
 * CR3 load) or flushes. */
static void queue_unmap(struct tlb_context *c, uint32_t linear, uint32_t size)
{
	if (c->pending_drop_all)
		return;
	stats_count_paging(STATS_PAGING_QUEUED_UNMAPS, 1);
	if (c->pending_count < PENDING_MAX)
		c->pending[c->pending_count++] = (struct linear_range){ linear, linear + size };
	else
		drop_all(c);
}

static void apply_pending(struct tlb_context *c)
{
	if (c->pending_drop_all) {
		c->pending_drop_all = 0;
		unmap_everything();
	}
	for (unsigned i = 0; i < c->pending_count; i++)
		host_unmap(c->pending[i].start, c->pending[i].end - c->pending[i].start);
	c->pending_count = 0;
}

static void compare_tables(struct tlb_context *c);
static void copy_tables(struct tlb_context *c);
static void carry_global_pages(struct tlb_context *c, const struct range_set *globals);

static void make_queued_fills(struct tlb_context *c);

void monitor_address_space_entered(unsigned id)
{
	if (id >= CONTEXTS_MAX)
		return;
	struct tlb_context *c = &contexts[id];
	apply_pending(c);
	if (c->fill_count && executing(c) && c == &contexts[current])
		make_queued_fills(c);
	if (tables_compared)
		compare_tables(c);
	if (c->carry_from) {
		const struct tlb_context *from = &contexts[c->carry_from - 1];
		c->carry_from = 0;
		if (!from->global_mapped.full)
			carry_global_pages(c, &from->global_mapped);
	}
}

void monitor_address_space_lost(unsigned id)
{
	if (id >= CONTEXTS_MAX)
		return;
	drop_all(&contexts[id]);   /* made again as the next process there faults them in */
}

/* Drops every mapping but the global ones: one unmap per range of the others, or, if there
 * were too many of those to remember, per gap between the global ones. */
static void drop_all_but_global(struct tlb_context *c)
{
	if (c->global_mapped.count == 0) {
		drop_all(c);
		return;
	}
	stats_count_paging(STATS_PAGING_FLUSH_KEEPING_GLOBAL, 1);
	if (!c->other_mapped.full) {
		for (unsigned i = 0; i < c->other_mapped.count; i++)
			unmap(c, c->other_mapped.ranges[i].start,
			      c->other_mapped.ranges[i].end - c->other_mapped.ranges[i].start);
	} else {
		uint32_t from = VMI_PROCESS_LOW_RAM_BASE;
		for (unsigned i = 0; i <= c->global_mapped.count; i++) {
			uint32_t to = i < c->global_mapped.count ? c->global_mapped.ranges[i].start
			                                         : VMI_PROCESS_WINDOW_BASE;
			if (to > from)
				unmap(c, from, to - from);
			if (i < c->global_mapped.count)
				from = c->global_mapped.ranges[i].end;
		}
	}
	range_set_clear(&c->other_mapped);
	for (uint32_t region = 0; region < REGIONS; region++)
		if ((c->large_mapped[region / 32] & (1u << (region % 32))) &&
		    !range_set_covers(&c->global_mapped, region << 22, LARGE_PAGE))
			c->large_mapped[region / 32] &= ~(1u << (region % 32));
}

/* With paging off, translation is the identity and never goes stale: no flush has work.
 * A global flush is every context's: the other address spaces' global pages are the same
 * translations on hardware, in one TLB. */
void mmu_flush(int global)
{
	if (!mmu_paging())
		return;
	struct tlb_context *c = &contexts[current];
	if (global) {
		for (unsigned i = 0; i < context_count(); i++)
			if (i == current || contexts[i].tagged)
				drop_all(&contexts[i]);
	} else {
		if (executing(c))
			apply_pending(c);
		drop_all_but_global(c);
		struct tlb_context *other = other_side();
		if (other)
			drop_all_but_global(other);
	}
}

void mmu_control_registers_written(uint32_t old_cr0, uint32_t old_cr4)
{
	const uint32_t cr0_bits = VMI_CR0_WP, cr4_bits = VMI_CR4_PSE | VMI_CR4_PGE;
	if (!((old_cr0 ^ virtual_cpu.cr0) & VMI_CR0_PG) &&
	    !(mmu_paging() &&
	      (((old_cr0 ^ virtual_cpu.cr0) & cr0_bits) || ((old_cr4 ^ virtual_cpu.cr4) & cr4_bits))))
		return;
	/* Every translation of every address space changes meaning. */
	for (unsigned i = 0; i < context_count(); i++) {
		if (i == current || contexts[i].tagged)
			drop_all(&contexts[i]);
		contexts[i].tagged = 0;
	}
	if (mmu_paging()) {
		contexts[current].directory = directory_of_cr3();
		contexts[current].tagged = 1;
		copy_tables(&contexts[current]);
	}
}

/* The context to take for a directory no context has: a free one, else the least recently
 * used (never the running one). */
static unsigned context_to_take(void)
{
	unsigned chosen = current;
	for (unsigned i = 0; i < kernel_context_count(); i++) {
		if (i == current)
			continue;
		if (!contexts[i].tagged)
			return i;
		if (chosen == current || contexts[i].last_used < contexts[chosen].last_used)
			chosen = i;
	}
	return chosen;
}

/* The CR3 load of a directory another context holds, or can hold: the guest goes on in
 * that context, whose mappings stand; 0, or -1 if the platform has no other for it. */
static int switch_context(uint32_t directory)
{
	unsigned target = CONTEXTS_MAX;
	for (unsigned i = 0; i < kernel_context_count(); i++)
		if (contexts[i].tagged && contexts[i].directory == directory)
			target = i;
	if (target == CONTEXTS_MAX) {
		target = context_to_take();
		if (target == current)
			return -1;
		if (contexts[target].tagged)
			stats_count_paging(STATS_PAGING_EVICTED, 1);
		drop_all(&contexts[target]);
		contexts[target].directory = directory;
		contexts[target].tagged = 1;
		/* A CPU keeps its global TLB entries across the CR3 load: the new address space
		 * starts with them, mapped at its first entry, not one host fault each. */
		contexts[target].carry_from = current + 1;
		copy_tables(&contexts[target]);
	}
	if (platform_switch_address_space(target) != 0) {
		contexts[target].tagged = 0;
		return -1;
	}
	current = target;
	contexts[target].last_used = ++use_clock;
	stats_count_paging(STATS_PAGING_SWITCHES, 1);
	return 0;
}

void mmu_cr3_loaded(void)
{
	if (!mmu_paging())
		return; /* the identity is never stale */
	stats_count_paging(STATS_PAGING_CR3_LOADS, 1);
	uint32_t directory = directory_of_cr3();
	struct tlb_context *c = &contexts[current];
	if (kernel_context_count() > 1 && !(c->tagged && c->directory == directory) &&
	    switch_context(directory) == 0)
		return;
	/* The user's side of this address space is the same TLB: it drops as much. */
	struct tlb_context *user = other_side();
	if (user)
		drop_all_but_global(user);
	/* The same directory again, or one context for all: what the TLB drops. */
	if (executing(c))
		apply_pending(c);
	if (tables_compared && c->tagged && c->directory == directory && executing(c))
		compare_tables(c);   /* what stays (the global pages) must still be right */
	drop_all_but_global(c);
	c->directory = directory;
	c->tagged = 1;
	copy_tables(c);
}

/* --- tables written with plain stores: copies compared when a context runs again ------- */

/* The copy of `table` (address | 1) `c` keeps, or NULL. */
static struct table_snapshot *snapshot_of(struct tlb_context *c, uint32_t table)
{
	for (unsigned i = 0; i < SNAPSHOTS_MAX; i++)
		if (c->snapshots[i].table == table)
			return &c->snapshots[i];
	return NULL;
}

void mmu_compare_tables_at_switch(int on)
{
	tables_compared = on;
}

static const uint32_t *table_now(uint32_t table)
{
	return platform_guest_physical(table, SMALL_PAGE, 0);
}

static void copy_table(struct tlb_context *c, uint32_t region, uint32_t table)
{
	const uint32_t *now = table_now(table);
	if (snapshot_of(c, table | 1))
		return;   /* copied already: a table under two slots */
	struct table_snapshot *free_one = snapshot_of(c, 0);
	if (!now || !free_one) {
		c->uncopied[region / 32] |= 1u << (region % 32);   /* dropped at every return */
		return;
	}
	free_one->table = table | 1;
	memcpy(free_one->entries, now, SMALL_PAGE);
}

/* The entries [low, high) are mapped from, into the copies: a change of any of them after
 * this is one to find when the context runs again. */
static void copy_entries_mapped(struct tlb_context *c, uint32_t low, uint32_t high)
{
	const uint32_t *directory = table_now(c->directory);
	for (uint32_t page = low; page < high; page += SMALL_PAGE) {
		uint32_t region = page >> 22, index = (page >> 12) & 0x3FF;
		if (directory && c->directory_copied)
			c->directory_copy[region] = directory[region];
		struct table_snapshot *copy = c->table_under[region]
		                            ? snapshot_of(c, c->table_under[region]) : NULL;
		const uint32_t *table = copy ? table_now(copy->table & ~1u) : NULL;
		if (table)
			copy->entries[index] = table[index];
	}
}

/* The directory and every copied table as they are now (what the context's mappings may
 * come from from now on). */
static void copy_tables(struct tlb_context *c)
{
	if (!tables_compared)
		return;
	const uint32_t *directory = table_now(c->directory);
	c->directory_copied = directory != NULL;
	if (directory)
		memcpy(c->directory_copy, directory, SMALL_PAGE);
	for (unsigned i = 0; i < SNAPSHOTS_MAX; i++) {
		const uint32_t *now = c->snapshots[i].table ? table_now(c->snapshots[i].table & ~1u)
		                                            : NULL;
		if (now)
			memcpy(c->snapshots[i].entries, now, SMALL_PAGE);
		else
			c->snapshots[i].table = 0;
	}
}

/* Drops, in the running context, what it mapped through entries that changed since it last
 * ran (what the CR3 load that brought it back would have dropped on hardware); then copies
 * the tables again. */
static void compare_tables(struct tlb_context *c)
{
	const uint32_t *directory = table_now(c->directory);
	if (!c->directory_copied || !directory) {
		drop_all(c);
		copy_tables(c);
		return;
	}
	for (uint32_t region = 0; region < REGIONS; region++) {
		int changed = entry_differs(c->directory_copy[region], directory[region]);
		if (changed || (c->uncopied[region / 32] & (1u << (region % 32)))) {
			if (changed || c->table_under[region] ||
			    (c->large_mapped[region / 32] & (1u << (region % 32))))
				unmap(c, region << 22, LARGE_PAGE);
			set_table_under(c, region, 0);
			c->large_mapped[region / 32] &= ~(1u << (region % 32));
			c->uncopied[region / 32] &= ~(1u << (region % 32));
		}
	}
	for (unsigned i = 0; i < SNAPSHOTS_MAX; i++) {
		struct table_snapshot *s = &c->snapshots[i];
		const uint32_t *now = s->table ? table_now(s->table & ~1u) : NULL;
		if (!now || !memcmp(s->entries, now, SMALL_PAGE))
			continue;
		uint32_t regions[REGIONS];   /* the slots mapped through it: one, as a rule */
		unsigned count = 0;
		uint32_t table = s->table & ~1u;
		for (uint32_t region = first_slot_under(c, table); region < REGIONS;
		     region = next_slot_under(c, region, table))
			regions[count++] = region;
		for (unsigned index = 0; index < 1024; index++)
			for (unsigned k = 0; k < count && entry_differs(s->entries[index], now[index]); k++)
				unmap(c, regions[k] << 22 | index << 12, SMALL_PAGE);
	}
	copy_tables(c);
}

/* Forgets what is queued for the page at `linear`: it is being dropped now anyway. */
static void forget_pending_at(struct tlb_context *c, uint32_t linear)
{
	for (unsigned i = 0; i < c->pending_count; i++)
		if (c->pending[i].start == linear && c->pending[i].end - linear == SMALL_PAGE) {
			c->pending[i] = c->pending[--c->pending_count];
			return;
		}
}

static void invalidate_in(struct tlb_context *c, uint32_t linear);

void mmu_invalidate(uint32_t linear)
{
	if (!mmu_paging())
		return; /* the identity is never stale */
	invalidate_in(&contexts[current], linear);
	struct tlb_context *other = other_side();
	if (other)
		invalidate_in(other, linear);
}

static void invalidate_in(struct tlb_context *c, uint32_t linear)
{
	range_set_forget_at(&c->global_mapped, linear);
	uint32_t region = linear >> 22;
	if (c->large_mapped[region / 32] & (1u << (region % 32))) {
		c->large_mapped[region / 32] &= ~(1u << (region % 32));
		unmap(c, region << 22, LARGE_PAGE);   /* a large region is mappable whole */
		return;
	}
	uint32_t page = linear & ~(SMALL_PAGE - 1);
	if (!platform_linear_mappable(page, SMALL_PAGE))
		return;
	/* SetPxE naming the page drops it at once, and the kernel's InvalPage follows: once. */
	if (executing(c) && c->unmapped_page == (page | 1))
		return;
	forget_pending_at(c, page);
	unmap(c, page, SMALL_PAGE);
	if (executing(c))
		c->unmapped_page = page | 1;
}

/* Queues dropping what `c` mapped through directory slot `region`. What it knows of the
 * region stays until then: an invlpg there must still drop a large page whole. */
static void region_changed(struct tlb_context *c, uint32_t region)
{
	if ((c->large_mapped[region / 32] & (1u << (region % 32))) || c->table_under[region])
		queue_unmap(c, region << 22, LARGE_PAGE);
}

void mmu_table_entry_changed(uint32_t entry_linear, uint32_t old, uint32_t value)
{
	uint32_t entry;
	if (!mmu_paging() || !entry_differs(old, value) || mmu_translate(entry_linear, 0, &entry) != 0)
		return;
	uint32_t table = entry & ~(SMALL_PAGE - 1), index = (entry & (SMALL_PAGE - 1)) / 4;
	for (unsigned i = 0; i < context_count(); i++) {
		struct tlb_context *c = &contexts[i];
		if (!c->tagged)
			continue;
		if (c->directory == table)
			region_changed(c, index);
		/* Queuing may drop everything (a full queue), which empties the index: stop. */
		for (uint32_t region = first_slot_under(c, table);
		     region < REGIONS && !c->pending_drop_all;
		     region = next_slot_under(c, region, table))
			queue_unmap(c, region << 22 | index << 12, SMALL_PAGE);
	}
}

void mmu_table_page_announced(uint32_t frame)
{
	uint32_t table = frame << 12;
	for (unsigned i = 0; i < context_count(); i++) {
		struct tlb_context *c = &contexts[i];
		if (!c->tagged)
			continue;
		if (c->directory == table && i != current) {
			drop_all(c);   /* a directory again, with whatever it holds now */
			c->tagged = 0;
			continue;
		}
		for (uint32_t region = first_slot_under(c, table);
		     region < REGIONS && !c->pending_drop_all;
		     region = next_slot_under(c, region, table))
			region_changed(c, region);
	}
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

/* The page table a small page's walk read its entry from. */
static uint32_t table_of(const struct page_walk_result *r)
{
	return r->page_size == SMALL_PAGE ? r->table_entry & ~(SMALL_PAGE - 1) : 0;
}

static int map(uint32_t linear, uint32_t physical, uint32_t size, int writable)
{
	contexts[current].unmapped_page = 0;
	stats_count_paging(STATS_PAGING_HOST_MAP, 1);
	stats_count_paging(STATS_PAGING_PAGES_MAPPED, size / SMALL_PAGE);
	return platform_map_linear(linear, physical, size, writable);
}

/* Notes that `c` maps a small page of `region` through the page table at `table`; pages
 * it mapped there through another (the directory entry changed) go first. */
static void copy_table(struct tlb_context *c, uint32_t region, uint32_t table);
static void copy_entries_mapped(struct tlb_context *c, uint32_t low, uint32_t high);

static void note_table(struct tlb_context *c, uint32_t region, uint32_t table)
{
	if (c->table_under[region] && c->table_under[region] != (table | 1))
		unmap(c, region << 22, LARGE_PAGE);
	if (tables_compared && c->table_under[region] != (table | 1))
		copy_table(c, region, table);
	set_table_under(c, region, table | 1);
}

/* --- fault-around: the present neighbours of a faulting page, in the same mapping ------ */

#define FAULT_AROUND_PAGES 16u      /* the aligned block around a faulting page */
#define LINEAR_MAP_RUN_MAX 1024u    /* pages looked at per fault inside a linear map */


void mmu_linear_mapping_named(unsigned slot, uint32_t linear, uint32_t pages,
                              uint32_t first_frame)
{
	if (slot < VMI_LINEAR_MAP_SLOTS)
		linear_maps[slot] = (struct linear_map){ linear, linear + pages * SMALL_PAGE,
		                                         first_frame };
}

/* What a small page's mapping must share with its neighbours to be one host mapping. */
struct mapping_class {
	int writable, global, user;
};

/* The class of the page at `linear` if the walk that maps it would set nothing (A already
 * set in both entries: mapping it unwalked must not hide an A the guest would see), it maps
 * `frame` (of RAM) through a page table; else -1. */
static int neighbour_class(uint32_t linear, uint32_t frame, struct mapping_class *class)
{
	uint32_t pde, pte;
	const uint32_t present = VMI_PTE_PRESENT | VMI_PTE_ACCESSED;
	if (!platform_linear_mappable(linear, SMALL_PAGE) ||
	    read_physical(NULL, directory_of_cr3() + (linear >> 22) * 4, &pde) != 0 ||
	    (pde & (present | VMI_PTE_LARGE)) != present ||
	    read_physical(NULL, (pde & VMI_PTE_FRAME_MASK) + ((linear >> 12) & 0x3FF) * 4,
	                  &pte) != 0 ||
	    (pte & present) != present || (pte & VMI_PTE_FRAME_MASK) != frame ||
	    !platform_guest_physical(frame, SMALL_PAGE, 1))
		return -1;
	class->writable = (pde & pte & VMI_PTE_WRITABLE) && (pte & VMI_PTE_DIRTY);
	class->global = (virtual_cpu.cr4 & VMI_CR4_PGE) && (pte & VMI_PTE_GLOBAL);
	class->user = (pde & pte & VMI_PTE_USER) != 0;
	return 0;
}

static int same_class(uint32_t linear, uint32_t frame, const struct mapping_class *class)
{
	struct mapping_class other;
	return neighbour_class(linear, frame, &other) == 0 && other.writable == class->writable &&
	       other.global == class->global && other.user == class->user;
}

/* The pages around `page` (mapping `frame`) that one mapping can take with it: inside the
 * aligned block of FAULT_AROUND_PAGES, or inside a linear map that `page` is part of. */
static void fault_around(uint32_t page, uint32_t frame, const struct mapping_class *class,
                         uint32_t *low, uint32_t *high)
{
	uint64_t window_low = page & ~(FAULT_AROUND_PAGES * SMALL_PAGE - 1);
	uint64_t window_high = window_low + FAULT_AROUND_PAGES * SMALL_PAGE;
	for (unsigned i = 0; i < VMI_LINEAR_MAP_SLOTS; i++) {
		const struct linear_map *m = &linear_maps[i];
		if (page >= m->start && page < m->end &&
		    frame == m->first_frame * SMALL_PAGE + (page - m->start)) {
			window_low = m->start;
			window_high = m->end;
			if (page - window_low > LINEAR_MAP_RUN_MAX / 2 * SMALL_PAGE)
				window_low = page - LINEAR_MAP_RUN_MAX / 2 * SMALL_PAGE;
			if (window_high - page > LINEAR_MAP_RUN_MAX / 2 * SMALL_PAGE)
				window_high = page + LINEAR_MAP_RUN_MAX / 2 * SMALL_PAGE;
			break;
		}
	}
	*low = page;
	*high = page + SMALL_PAGE;
	while (*low > window_low &&
	       same_class(*low - SMALL_PAGE, frame - (page - *low) - SMALL_PAGE, class))
		*low -= SMALL_PAGE;
	while (*high < window_high && same_class(*high, frame + (*high - page), class))
		*high += SMALL_PAGE;
}

/* Of a large page that is not all memory (the first 4 MiB: the holes and the ROM), the
 * piece around `page` that is one kind of memory (RAM, or ROM) and mappable: one TLB entry
 * on a CPU, so one mapping here rather than a host fault per page. */
static int same_memory(uint32_t page, uint32_t frame, int ram)
{
	return platform_linear_mappable(page, SMALL_PAGE) &&
	       platform_guest_physical(frame, SMALL_PAGE, ram) != NULL &&
	       (ram || platform_guest_physical(frame, SMALL_PAGE, 1) == NULL);
}

static void piece_of_large_page(uint32_t page, uint32_t frame, uint32_t *low, uint32_t *high)
{
	uint32_t base = page & ~(LARGE_PAGE - 1);
	int ram = platform_guest_physical(frame, SMALL_PAGE, 1) != NULL;
	*low = page;
	*high = page + SMALL_PAGE;
	while (*low > base && same_memory(*low - SMALL_PAGE, frame - (page - *low) - SMALL_PAGE, ram))
		*low -= SMALL_PAGE;
	while (*high < base + LARGE_PAGE && same_memory(*high, frame + (*high - page), ram))
		*high += SMALL_PAGE;
}

/* Maps, in the running context, the page that holds `linear`, translated to `physical` by
 * a page of `page_size` (a small one through a page table, as `walked` says; NULL for the
 * identity): all 4 MiB of a large page at once when it is all RAM, else the piece of it
 * that is one kind of memory; a 4 KiB page with those around it fault_around finds. */
static enum mmu_fault_outcome fill(uint32_t linear, uint32_t physical, uint32_t page_size,
                                   const struct page_walk_result *walked, int writable,
                                   int global, int write, char reason[MMU_REASON_MAX])
{
	struct tlb_context *c = &contexts[current];
	uint32_t large_base = linear & ~(LARGE_PAGE - 1), large_frame = physical & ~(LARGE_PAGE - 1);
	if (page_size == LARGE_PAGE && platform_linear_mappable(large_base, LARGE_PAGE) &&
	    platform_guest_physical(large_frame, LARGE_PAGE, 1)) {
		if (tables_compared)
			copy_entries_mapped(c, large_base, large_base + SMALL_PAGE);   /* its PDE */
		if (map(large_base, large_frame, LARGE_PAGE, writable) != 0)
			goto map_failed;
		c->large_mapped[linear >> 27] |= 1u << ((linear >> 22) % 32);
		range_set_add(global ? &c->global_mapped : &c->other_mapped, large_base, LARGE_PAGE);
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
	uint32_t low = page, high = page + SMALL_PAGE;
	if (page_size == LARGE_PAGE)
		piece_of_large_page(page, frame, &low, &high);
	if (walked && page_size == SMALL_PAGE && platform_guest_physical(frame, SMALL_PAGE, 1)) {
		const struct mapping_class class = { writable, global, walked->user };
		fault_around(page, frame, &class, &low, &high);
		stats_count_paging(STATS_PAGING_MAPPED_AROUND, (high - low) / SMALL_PAGE - 1);
	}
	if (walked && page_size == SMALL_PAGE) {
		/* every region of the run: its page table, as the walk's for the faulting one */
		for (uint32_t region = low >> 22; region <= (high - 1) >> 22; region++) {
			uint32_t pde = 0;
			if (region == linear >> 22)
				note_table(c, region, table_of(walked));
			else if (read_physical(NULL, directory_of_cr3() + region * 4, &pde) == 0)
				note_table(c, region, pde & VMI_PTE_FRAME_MASK);
		}
	}
	if (page_size == LARGE_PAGE)   /* a piece of one: the TLB holds the whole */
		c->large_mapped[linear >> 27] |= 1u << ((linear >> 22) % 32);
	if (tables_compared)
		copy_entries_mapped(c, page_size == LARGE_PAGE ? page : low,
		                    page_size == LARGE_PAGE ? page + SMALL_PAGE : high);
	if (map(low, frame - (page - low), high - low, writable) != 0)
		goto map_failed;
	range_set_add(global ? &c->global_mapped : &c->other_mapped, low, high - low);
	return MMU_FILLED;
map_failed:
	snprintf(reason, MMU_REASON_MAX, "cannot map linear 0x%08x: %s", linear, strerror(errno));
	return MMU_UNSUPPORTED;
}

void mmu_entry_written(uint32_t linear)
{
	struct page_walk_result r;
	char reason[MMU_REASON_MAX];
	/* Only into this process's mappings (the guest may have switched away in this exit). */
	if (!mmu_paging() || !executing(&contexts[current]) || is_user_context(current) ||
	    walk(linear, 0, &r) != PAGE_WALK_OK)
		return;
	/* What cannot be mapped stays unmapped: the access will fault and say why. */
	if (fill(linear, r.physical, r.page_size, &r, r.writable && r.dirty, r.global, 0,
	         reason) == MMU_FILLED)
		stats_count_paging(STATS_PAGING_MAPPED_AT_SETPXE, 1);
	/* Under strict isolation user mode runs elsewhere: its context maps the page when it
	 * runs next (walked then, as a user access), sparing the host fault there. */
	struct tlb_context *user = other_side();
	if (r.user && user && user->directory == contexts[current].directory &&
	    user->fill_count < FILLS_MAX)
		user->fills[user->fill_count++] = linear;
}

static void make_queued_fills(struct tlb_context *c)
{
	char reason[MMU_REASON_MAX];
	unsigned count = c->fill_count;
	c->fill_count = 0;
	for (unsigned i = 0; i < count; i++) {
		struct page_walk_result r;
		if (walk(c->fills[i], PAGE_WALK_USER, &r) == PAGE_WALK_OK &&
		    fill(c->fills[i], r.physical, r.page_size, &r, r.writable && r.dirty, r.global, 0,
		         reason) == MMU_FILLED)
			stats_count_paging(STATS_PAGING_MAPPED_AT_SETPXE, 1);
	}
}

/* Maps in `c`, the running context just taken for a new directory, the pages of `globals`
 * (another context's global mappings) that its directory maps as global: what the CPU's
 * global TLB entries would have kept across the CR3 load. Through the ordinary fill, so
 * large pages go whole and small ones with their neighbours. */
static void carry_global_pages(struct tlb_context *c, const struct range_set *globals)
{
	char reason[MMU_REASON_MAX];
	for (unsigned i = 0; i < globals->count; i++) {
		for (uint32_t linear = globals->ranges[i].start; linear < globals->ranges[i].end &&
		     linear >= globals->ranges[i].start; linear += SMALL_PAGE) {
			/* what is mapped already (a large page just filled) is stepped over whole */
			uint32_t mapped_to = range_set_end_at(&c->global_mapped, linear);
			if (mapped_to) {
				linear = mapped_to - SMALL_PAGE;
				continue;
			}
			struct page_walk_result r;
			if (walk(linear, 0, &r) != PAGE_WALK_OK || !r.global)
				continue;
			if (fill(linear, r.physical, r.page_size, &r, r.writable && r.dirty, 1, 0,
			         reason) == MMU_FILLED)
				stats_count_paging(STATS_PAGING_GLOBAL_CARRIED, 1);
		}
	}
}

enum mmu_fault_outcome mmu_host_fault(uint32_t linear, uint32_t host_error, int user,
                                      uint32_t *error_code, char reason[MMU_REASON_MAX])
{
	int write = (host_error & VMI_PF_WRITE) != 0;
	enum mmu_fault_outcome outcome;
	/* Only user code runs in a user context: whatever it touches, it touches as the user. */
	if (is_user_context(current))
		user = 1;
	if (!mmu_paging()) {
		/* The identity mappings after a flush, made again as the guest touches them. */
		if (!lazy || !platform_guest_unpaged(linear, 1, 0))   /* the identity's rules */
			return MMU_NOT_PAGING;
		outcome = fill(linear, linear, SMALL_PAGE, NULL, 1, 0, write, reason);
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
		outcome = fill(linear, r.physical, r.page_size, &r, r.writable && r.dirty,
		               r.global, write, reason);
	}
	if (outcome == MMU_FILLED)
		stats_count_paging((host_error & VMI_PF_PRESENT) && write ? STATS_PAGING_WRITE_UPGRADE
		                                                          : STATS_PAGING_FILLED, 1);
	return outcome;
}

int mmu_ring_entered(int user)
{
	if (!isolating() || !mmu_paging())
		return 0;   /* without paging nothing is the kernel's alone */
	unsigned kernels = kernel_context_count();
	unsigned kernel = current < kernels ? current : current - kernels;
	unsigned target = user ? kernel + kernels : kernel;
	if (target == current)
		return 0;
	struct tlb_context *t = &contexts[target];
	if (user && (!t->tagged || t->directory != contexts[kernel].directory)) {
		drop_all(t);
		t->directory = contexts[kernel].directory;
		t->tagged = 1;
		copy_tables(t);
	}
	if (platform_switch_address_space(target) != 0) {
		platform_request_stop(GUEST_STOP_NOT_IMPLEMENTED, NULL, "vmirun could not create the "
		                      "host process that runs the guest's user mode apart from its "
		                      "kernel (--isolation=strict)");
		return -1;
	}
	current = target;
	stats_count_paging(STATS_PAGING_RING_SWITCHES, 1);
	return 0;
}
