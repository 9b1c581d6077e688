/* The mmu_storm guest's tables and what it expects of them: the value of every entry it wrote,
 * which playground pages a TLB may still translate the old way (the hardware's rules, as
 * docs/abi.md's TLB contract states them), and the walk that says what touching a page must do.
 * Nothing here depends on A or D, which only the MMU sets (and each platform at its own
 * moments), so the same seed makes the same decisions on QEMU and on vmirun. */
#include <vmi/pc.h>
#include "../common/string.h"
#include "storm.h"

volatile uint32_t (*tables)[TABLE_ENTRIES];
volatile uint32_t (*data_frames)[TABLE_ENTRIES];
uint32_t (*expected)[TABLE_ENTRIES];
unsigned loaded_directory;

/* Reserved bits of a 4 MiB directory entry without PSE-36 (bits 13-21); with PSE-36 bits
 * 13-20 are physical address bits 32-39. Either way no frame the storm can compare with. */
#define LARGE_PAGE_HIGH_BITS  0x003FE000u
#define ACCESSED_DIRTY        (VMI_PTE_ACCESSED | VMI_PTE_DIRTY)

uint32_t table_frame(unsigned table)
{
	return (uint32_t)(uintptr_t)tables[table];
}

int table_at(uint32_t frame)
{
	uint32_t first = table_frame(0);
	if (frame < first || frame >= first + TABLES * PAGE_BYTES || (frame & (PAGE_BYTES - 1)))
		return -1;
	return (int)((frame - first) / PAGE_BYTES);
}

int data_frame(uint32_t frame)
{
	uint32_t first = (uint32_t)(uintptr_t)data_frames;
	return frame >= first && frame < first + DATA_FRAMES * PAGE_BYTES;
}

/* Low memory (whole pages of it), the ROM area and RAM: guest memory on both platforms, all
 * identity-mapped. Not the first 64 KiB, which vmirun cannot map at its identity address. */
int readable_frame(uint32_t frame)
{
	return (frame >= VMI_PROCESS_LOW_RAM_BASE &&
	        frame <= VMI_PROCESS_LOW_RAM_END - PAGE_BYTES) ||
	       (frame >= VMI_ROM_BASE && frame < ram_end);
}

/* --- the entries -------------------------------------------------------------------------- */

void absorb_entry(unsigned table, unsigned index, uint32_t seen, const char *what)
{
	uint32_t want = expected[table][index];
	uint32_t added = seen & ~want;
	if ((seen & want) != want || (added & ~ACCESSED_DIRTY) ||
	    (added && !(want & VMI_PTE_PRESENT)))
		fail(what, (uint32_t)(uintptr_t)&tables[table][index], want, seen);
	expected[table][index] = seen;
}

uint32_t read_entry(unsigned table, unsigned index)
{
	absorb_entry(table, index, tables[table][index],
	             "an entry changed behind the storm's back");
	return expected[table][index];
}

/* --- the TLB's rules ---------------------------------------------------------------------- */

/* Times on the storm's clock, which every change and invalidation advances: a page can be
 * translated the old way if something on its walk changed (while present: a translation that
 * was not present is never cached) after the last invalidation that covers that kind of
 * translation. Global ones survive CR3 loads and flushes without GLOBAL. */
struct history {
	uint32_t changed;               /* a change that left non-global translations behind */
	uint32_t changed_global;        /* one that may have left global ones */
};
struct page_history {
	struct history history;
	uint32_t invalidated;           /* InvalPage of the page */
};

static uint32_t clock, flushed_nonglobal, flushed_all;
static int write_protect, global_pages;
static struct history slot_history[PLAYGROUND_SLOTS];
static struct page_history *page_history;

struct storm_memory {
	volatile uint32_t tables[TABLES][TABLE_ENTRIES];
	volatile uint32_t data_frames[DATA_FRAMES][TABLE_ENTRIES];
	uint32_t expected[TABLES][TABLE_ENTRIES];
	struct page_history page_history[PLAYGROUND_PAGES];
};

extern char _end[];

void storm_memory_reset(void)
{
	uint32_t base = ((uint32_t)(uintptr_t)_end + SLOT_BYTES - 1) & ~(SLOT_BYTES - 1);
	if (base + sizeof(struct storm_memory) > ram_end)
		fail("too little RAM for the storm's tables (end of RAM, needed)", base,
		     base + sizeof(struct storm_memory), ram_end);
	struct storm_memory *memory = (struct storm_memory *)(uintptr_t)base;
	memset(memory, 0, sizeof *memory);
	tables = memory->tables;
	data_frames = memory->data_frames;
	expected = memory->expected;
	page_history = memory->page_history;
	memset(slot_history, 0, sizeof slot_history);
	clock = flushed_nonglobal = flushed_all = 0;
	write_protect = global_pages = 1;
}

static int playground_slot(unsigned index)
{
	return index >= PLAYGROUND_FIRST_SLOT && index < HOSTILE_FIRST_SLOT;
}

static int global_translation(uint32_t leaf)
{
	return global_pages && (leaf & VMI_PTE_GLOBAL);
}

/* A directory entry that leads to a page table may sit above global translations whatever it
 * says itself; only a 4 MiB page without G is surely not global. */
static void directory_entry_changed(struct history *history, uint32_t old, uint32_t now)
{
	if (!global_pages || ((old & VMI_PTE_LARGE) && !(old & VMI_PTE_GLOBAL)))
		history->changed = now;
	else
		history->changed_global = now;
}

void entry_changing(unsigned table, unsigned index)
{
	uint32_t old = expected[table][index];
	if (!(old & VMI_PTE_PRESENT))
		return;
	uint32_t now = ++clock;
	if (table == loaded_directory && playground_slot(index))
		directory_entry_changed(&slot_history[index - PLAYGROUND_FIRST_SLOT], old, now);
	/* As a page-table entry: under every playground slot of the loaded directory that uses
	 * this table (a directory too, when an entry points back at one). */
	uint32_t frame = table_frame(table);
	const uint32_t *slots = &expected[loaded_directory][PLAYGROUND_FIRST_SLOT];
	for (unsigned slot = 0; slot < PLAYGROUND_SLOTS; slot++) {
		if ((slots[slot] & (VMI_PTE_PRESENT | VMI_PTE_LARGE)) != VMI_PTE_PRESENT ||
		    (slots[slot] & VMI_PTE_FRAME_MASK) != frame)
			continue;
		struct history *page = &page_history[slot * TABLE_ENTRIES + index].history;
		if (global_translation(old))
			page->changed_global = now;
		else
			page->changed = now;
	}
}

/* A CR3 load drops the non-global translations; global ones of the old directory's slots
 * stay, and may not be the new directory's. */
void directory_loading(unsigned directory)
{
	if (directory != loaded_directory) {
		uint32_t now = ++clock;
		const uint32_t *slots = &expected[loaded_directory][PLAYGROUND_FIRST_SLOT];
		for (unsigned slot = 0; slot < PLAYGROUND_SLOTS; slot++)
			if (slots[slot] & VMI_PTE_PRESENT)
				directory_entry_changed(&slot_history[slot], slots[slot], now);
		loaded_directory = directory;
	}
	flushed_nonglobal = ++clock;
}

void tlb_flushed(int global)
{
	if (global)
		flushed_all = ++clock;
	else
		flushed_nonglobal = ++clock;
}

void write_protect_set(int on)
{
	write_protect = on;   /* a cached translation keeps W, and WP applies at each access */
}

void global_pages_set(int on)
{
	if (on != global_pages)
		tlb_flushed(1);
	global_pages = on;
}

void page_invalidated(uint32_t linear)
{
	if (linear >= PLAYGROUND_BASE && linear - PLAYGROUND_BASE < PLAYGROUND_SLOTS * SLOT_BYTES)
		page_history[(linear - PLAYGROUND_BASE) / PAGE_BYTES].invalidated = ++clock;
}

static uint32_t later(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

int page_settled(unsigned page)
{
	const struct page_history *p = &page_history[page];
	const struct history *slot = &slot_history[page / TABLE_ENTRIES];
	uint32_t all_dropped = later(p->invalidated, flushed_all);
	uint32_t nonglobal_dropped = later(all_dropped, flushed_nonglobal);
	return later(p->history.changed_global, slot->changed_global) <= all_dropped &&
	       later(p->history.changed, slot->changed) <= nonglobal_dropped;
}

/* --- the walk ----------------------------------------------------------------------------- */

static void faults(struct expected_touch *touch, uint32_t error_code)
{
	touch->outcome = TOUCH_FAULTS;
	touch->error_code = error_code;
}

void expect_touch(unsigned page, int write, struct expected_touch *touch)
{
	unsigned slot = PLAYGROUND_FIRST_SLOT + page / TABLE_ENTRIES, index = page % TABLE_ENTRIES;
	uint32_t write_bit = write ? VMI_PF_WRITE : 0;
	uint32_t directory_entry = expected[loaded_directory][slot], leaf;
	touch->outcome = TOUCH_UNKNOWN;
	if (!(directory_entry & VMI_PTE_PRESENT)) {
		faults(touch, write_bit);
		return;
	}
	if (directory_entry & VMI_PTE_LARGE) {   /* CR4.PSE is on throughout */
		if (directory_entry & LARGE_PAGE_HIGH_BITS)
			return;
		touch->large = 1;
		touch->leaf_table = loaded_directory;
		touch->leaf_index = slot;
		leaf = directory_entry;
		touch->frame = (directory_entry & ~(SLOT_BYTES - 1)) + index * PAGE_BYTES;
	} else {
		int table = table_at(directory_entry & VMI_PTE_FRAME_MASK);
		if (table < 0)
			return;   /* a page table of random words: the walk is anyone's guess */
		leaf = expected[table][index];
		if (!(leaf & VMI_PTE_PRESENT)) {
			faults(touch, write_bit);
			return;
		}
		touch->large = 0;
		touch->leaf_table = (unsigned)table;
		touch->leaf_index = index;
		touch->frame = leaf & VMI_PTE_FRAME_MASK;
		leaf &= directory_entry;   /* W must be set at both levels */
	}
	if (write && !(leaf & VMI_PTE_WRITABLE) && write_protect)   /* else the kernel may */
		faults(touch, VMI_PF_PRESENT | VMI_PF_WRITE);
	else
		touch->outcome = TOUCH_MAPS;
}
