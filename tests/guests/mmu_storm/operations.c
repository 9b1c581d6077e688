/* The mmu_storm guest's operations: one random MMU call each, its result checked against what
 * docs/abi.md promises (on vmirun: what it refuses and why; on the native ROM: the instruction,
 * which refuses nothing, so an entry vmirun must refuse is written back at once to keep both
 * storms the same), and the touches of the playground between them. */
#include <vmi/call_names.h>
#include <vmi/pc.h>
#include "vmiguest.h"
#include "storm.h"

#define ACCESSED_DIRTY   (VMI_PTE_ACCESSED | VMI_PTE_DIRTY)
#define FRAME_NUMBERS    (1u << 20)          /* of 4 KiB frames below 4 GiB */
#define PAGE_SHIFT       12
#define SLOT_SHIFT       22
/* The PTE bits worth flipping most: P, W, U, A, D, PS/PAT, G. */
static const uint8_t interesting_bits[] = { 0, 1, 2, 5, 6, 7, 8 };

uint32_t accesses_checked, faults_as_expected;
static uint32_t made[VMI_CALL_COUNT], refused[VMI_CALL_COUNT];
static uint32_t unsettled_skipped, unknown_skipped;

/* The page the last operation was about, if any: touched next, half of the time. */
static int hint_valid;
static unsigned hint_page;

static void counted(unsigned call, int was_refused)
{
	made[call]++;
	if (was_refused)
		refused[call]++;
}

static void expect_result(unsigned call, uint32_t address, uint32_t want, uint32_t result)
{
	trace(vmi_call_names[call], address, want, result);
	if (result != want)
		fail(vmi_call_names[call], address, want, result);
}

/* --- random values ------------------------------------------------------------------------ */

struct entry_choice {
	unsigned table, index;
	enum { NOT_LIVE, LIVE_LEAF, LIVE_DIRECTORY_ENTRY } live;   /* of a page touched lately */
};

static volatile uint32_t *entry_at(struct entry_choice entry)
{
	return &tables[entry.table][entry.index];
}

static uint32_t entry_address(struct entry_choice entry)
{
	return (uint32_t)(uintptr_t)entry_at(entry);
}

/* Pages that mapped when touched lately: touched again, they are mostly still mapped on
 * vmirun, where only a stale mapping would answer differently (and a touch costs no host
 * fault, where every #PF costs a host signal). */
#define RECENT_PAGES 8u
static unsigned recent_pages[RECENT_PAGES], recent_count, recent_next;

static void remember_touch(unsigned page)
{
	recent_pages[recent_next] = page;
	recent_next = (recent_next + 1) % RECENT_PAGES;
	if (recent_count < RECENT_PAGES)
		recent_count++;
}

/* An entry on the walk of a page touched lately: changing what vmirun maps right now is what
 * leaves stale translations behind, for the TLB's rules to be checked on. */
static int recent_entry(struct entry_choice *entry)
{
	if (!recent_count)
		return 0;
	unsigned page = recent_pages[random_below(recent_count)];
	struct expected_touch touch;
	expect_touch(page, 0, &touch);
	if (touch.outcome != TOUCH_MAPS)
		return 0;
	if (one_in(4))
		*entry = (struct entry_choice){ loaded_directory,
		                                PLAYGROUND_FIRST_SLOT + page / TABLE_ENTRIES,
		                                LIVE_DIRECTORY_ENTRY };
	else
		*entry = (struct entry_choice){ touch.leaf_table, touch.leaf_index, LIVE_LEAF };
	/* Through a directory that maps itself, the leaf may be any entry of a directory: the
	 * identity map and the window's slot are not the storm's to change. */
	return entry->table >= DIRECTORIES ||
	       (entry->index >= PLAYGROUND_FIRST_SLOT && entry->index < WINDOW_SLOT);
}

/* A page-table entry, a playground directory entry, or a hostile one; never the identity. */
static struct entry_choice random_entry(void)
{
	struct entry_choice live;
	if (one_in(3) && recent_entry(&live))
		return live;
	uint32_t pick = random_below(10);
	if (pick < 6) {
		unsigned table = DIRECTORIES + random_below(PAGE_TABLES);
		return (struct entry_choice){ table, random_below(TABLE_ENTRIES), NOT_LIVE };
	}
	unsigned directory = random_below(DIRECTORIES), slot;
	if (pick < 9)
		slot = PLAYGROUND_FIRST_SLOT + random_below(PLAYGROUND_SLOTS);
	else
		slot = HOSTILE_FIRST_SLOT + random_below(WINDOW_SLOT - HOSTILE_FIRST_SLOT);
	return (struct entry_choice){ directory, slot, NOT_LIVE };
}

static uint32_t data_frame_address(unsigned n)
{
	return (uint32_t)(uintptr_t)data_frames[n];
}

/* A random page-aligned offset below `bytes`. */
static uint32_t random_pages(uint32_t bytes)
{
	return random_below(bytes / PAGE_BYTES) * PAGE_BYTES;
}

static uint32_t ram_frames(void)
{
	return (ram_end - VMI_PROCESS_RAM_BASE) / PAGE_BYTES;
}

/* A directory entry names a page table the MMU sets A (and D) in: only frames whose words the
 * storm can spare, never its own code or data. */
static int spare_as_page_table(uint32_t frame)
{
	return table_at(frame) >= 0 || data_frame(frame) || frame < VMI_PROCESS_RAM_BASE ||
	       frame >= ram_end;
}

/* Where an entry points: the storm's data frames, its own tables (a directory pointing at
 * itself too), any RAM, the ROM, low memory with the holes below 64 KiB and of the VGA area,
 * just past the end of RAM, vmirun's window. */
static uint32_t random_frame(struct entry_choice entry)
{
	uint32_t pick = random_below(32);
	if (pick < 12)
		return data_frame_address(random_below(DATA_FRAMES));
	if (pick < 15)
		return table_frame(DIRECTORIES + random_below(PAGE_TABLES));
	if (pick < 16 && entry.table < DIRECTORIES)   /* the directory holding it: maps itself */
		return table_frame(entry.table);
	if (pick < 16)
		return table_frame(random_below(DIRECTORIES));
	if (pick < 17)
		return table_frame(random_below(DIRECTORIES));
	if (pick < 21) {
		uint32_t frame = VMI_PROCESS_RAM_BASE + random_below(ram_frames()) * PAGE_BYTES;
		return spare_as_page_table(frame) || entry.table >= DIRECTORIES
		       ? frame : data_frame_address(random_below(DATA_FRAMES));
	}
	if (pick < 23)
		return VMI_ROM_BASE + random_pages(VMI_PROCESS_RAM_BASE - VMI_ROM_BASE);
	if (pick < 25)
		return random_pages(VMI_ROM_BASE);
	if (pick < 29)
		return ram_end + random_pages(4 * PAGE_BYTES);
	return VMI_PROCESS_WINDOW_BASE + random_pages(VMI_PROCESS_WINDOW_SIZE);
}

/* The base of a 4 MiB page: the identity-mapped memory, just past RAM, vmirun's window, or
 * anywhere; now and then with the PAT bit or with bits a 4 MiB page must not have. */
static uint32_t random_large_frame(void)
{
	uint32_t base;
	switch (random_below(4)) {
	case 0: case 1: base = random_below(identity_slots) * SLOT_BYTES; break;
	case 2:
		base = identity_slots * SLOT_BYTES + random_below(2) * SLOT_BYTES;   /* past RAM */
		break;
	default:
		base = one_in(2) ? WINDOW_SLOT * SLOT_BYTES : random32() & ~(SLOT_BYTES - 1);
		break;
	}
	if (one_in(8))
		base |= PAGE_BYTES;                          /* PAT */
	if (one_in(8))
		base |= random32() & (SLOT_BYTES - 1) & VMI_PTE_FRAME_MASK;
	return base;
}

static uint32_t random_entry_flags(void)
{
	uint32_t flags = random32() & 0xE00;             /* the bits left to software */
	if (!one_in(4))
		flags |= VMI_PTE_PRESENT;
	if (one_in(2))
		flags |= VMI_PTE_WRITABLE;
	if (one_in(2))
		flags |= VMI_PTE_USER;
	if (one_in(2))
		flags |= VMI_PTE_ACCESSED;
	if (one_in(2))
		flags |= VMI_PTE_DIRTY;
	if (one_in(4))
		flags |= VMI_PTE_GLOBAL;
	if (one_in(16))
		flags |= 0x18;                               /* PWT, PCD */
	return flags;
}

static uint32_t random_entry_value(struct entry_choice entry)
{
	int directory = entry.table < DIRECTORIES;
	if (one_in(10)) {   /* anything at all, but a page table the storm can spare */
		uint32_t value = random32();
		if (directory && (value & VMI_PTE_PRESENT) && !(value & VMI_PTE_LARGE) &&
		    !spare_as_page_table(value & VMI_PTE_FRAME_MASK))
			value = (value & ~VMI_PTE_FRAME_MASK) |
			        data_frame_address(random_below(DATA_FRAMES));
		return value;
	}
	uint32_t frame = random_frame(entry), flags = random_entry_flags();
	if (directory && one_in(4)) {
		flags |= VMI_PTE_LARGE;
		if (!one_in(5))
			frame = random_large_frame();
	} else if (!directory && one_in(16)) {
		flags |= VMI_PTE_LARGE;                      /* PAT, in a page-table entry */
	}
	return frame | flags;
}

/* A present mapping the storm can touch: mostly writable, A set or not, now and then global. */
static uint32_t mapping_flags(void)
{
	uint32_t flags = VMI_PTE_PRESENT;
	if (!one_in(4))
		flags |= VMI_PTE_WRITABLE;
	if (one_in(2))
		flags |= VMI_PTE_ACCESSED;
	if (one_in(8))
		flags |= VMI_PTE_GLOBAL;
	return flags;
}

/* A live entry moved to another valid target, half of the time: the page stays mapped (and
 * cheap to touch again), and a stale translation shows as other contents or rights. */
static uint32_t entry_value_for(struct entry_choice entry)
{
	if (entry.live == NOT_LIVE || one_in(2))
		return random_entry_value(entry);
	uint32_t flags = mapping_flags();
	if (entry.live == LIVE_DIRECTORY_ENTRY)
		return table_frame(DIRECTORIES + random_below(PAGE_TABLES)) | flags;
	return data_frame_address(random_below(DATA_FRAMES)) | flags;
}

/* The linear address an entry maps in the loaded address space, for VMI_PAGE_CURRENT_AS; a
 * random one when it maps none there (the storm's lie: vmirun may only trust it so far). */
static uint32_t linear_of_entry(struct entry_choice entry)
{
	if (entry.table == loaded_directory)
		return entry.index << SLOT_SHIFT | random_below(TABLE_ENTRIES) << PAGE_SHIFT;
	uint32_t frame = table_frame(entry.table);
	const uint32_t *slots = expected[loaded_directory];
	for (unsigned slot = PLAYGROUND_FIRST_SLOT; slot < HOSTILE_FIRST_SLOT; slot++)
		if ((slots[slot] & (VMI_PTE_PRESENT | VMI_PTE_LARGE)) == VMI_PTE_PRESENT &&
		    (slots[slot] & VMI_PTE_FRAME_MASK) == frame)
			return slot << SLOT_SHIFT | entry.index << PAGE_SHIFT;
	return random32() & VMI_PAGE_VA_MASK;
}

static uint32_t random_set_flags(struct entry_choice entry)
{
	static const uint32_t no_level[] = { 0, VMI_PAGE_PT | VMI_PAGE_PD, VMI_PAGE_PDP,
	                                     VMI_PAGE_PML4, VMI_PAGE_LEVEL_MASK };
	uint32_t level = entry.table < DIRECTORIES ? VMI_PAGE_PD : VMI_PAGE_PT;
	uint32_t pick = random_below(50);
	if (pick < 2)
		level ^= VMI_PAGE_PT | VMI_PAGE_PD;   /* the other level: vmirun cannot tell */
	else if (pick < 5)
		level = no_level[random_below(sizeof no_level / sizeof no_level[0])];
	uint32_t flags = level;
	if (one_in(3))
		flags |= VMI_PAGE_CURRENT_AS | linear_of_entry(entry);
	else if (one_in(12))
		flags |= VMI_PAGE_CURRENT_AS | (VMI_PROCESS_WINDOW_BASE +
		                                random_pages(VMI_PROCESS_WINDOW_SIZE));
	if (one_in(5))
		flags |= VMI_PAGE_DEFER;
	return flags;
}

/* What vmirun must refuse (docs/abi.md, "Page tables"): not exactly one level; a present
 * entry whose frame (or 4 MiB page, or page table) is not below the end of guest memory; a
 * present entry of the current address space for vmirun's window. */
static int set_pxe_refused(uint32_t value, uint32_t flags)
{
	uint32_t level = flags & VMI_PAGE_LEVEL_MASK;
	if (level != VMI_PAGE_PT && level != VMI_PAGE_PD)
		return 1;
	if (!(value & VMI_PTE_PRESENT))
		return 0;
	return (value & VMI_PTE_FRAME_MASK) >= ram_end ||
	       ((flags & VMI_PAGE_CURRENT_AS) &&
	        (flags & VMI_PAGE_VA_MASK) >= VMI_PROCESS_WINDOW_BASE);
}

/* Touch next what the operation changed: the page the entry maps in the loaded directory. */
static void hint_entry(struct entry_choice entry)
{
	hint_valid = 0;
	if (entry.table == loaded_directory && entry.index >= PLAYGROUND_FIRST_SLOT &&
	    entry.index < HOSTILE_FIRST_SLOT) {
		hint_page = (entry.index - PLAYGROUND_FIRST_SLOT) * TABLE_ENTRIES +
		            random_below(TABLE_ENTRIES);
		hint_valid = 1;
		return;
	}
	uint32_t frame = table_frame(entry.table), start = random_below(PLAYGROUND_SLOTS);
	const uint32_t *slots = &expected[loaded_directory][PLAYGROUND_FIRST_SLOT];
	for (unsigned n = 0; n < PLAYGROUND_SLOTS; n++) {
		unsigned slot = (start + n) % PLAYGROUND_SLOTS;
		if ((slots[slot] & (VMI_PTE_PRESENT | VMI_PTE_LARGE)) == VMI_PTE_PRESENT &&
		    (slots[slot] & VMI_PTE_FRAME_MASK) == frame) {
			hint_page = slot * TABLE_ENTRIES + entry.index;
			hint_valid = 1;
			return;
		}
	}
}

/* --- the operations ----------------------------------------------------------------------- */

/* The entry now holds `value` (the MMU may add A or D at once: vmirun maps an entry made
 * present with A set, walking its tables). */
static void entry_written(struct entry_choice entry, uint32_t value, const char *what)
{
	entry_changing(entry.table, entry.index);
	expected[entry.table][entry.index] = value;
	absorb_entry(entry.table, entry.index, *entry_at(entry), what);
	hint_entry(entry);
}

static void set_entry(void)
{
	struct entry_choice entry = random_entry();
	uint32_t value = entry_value_for(entry), flags = random_set_flags(entry);
	int must_refuse = set_pxe_refused(value, flags);
	int read_back = one_in(4);
	uint32_t old = read_entry(entry.table, entry.index);
	trace("SetPxE of (entry, value, flags)", entry_address(entry), value, flags);
	uint32_t result = vmi_set_pxe(entry_at(entry), value, flags);
	counted(VMI_CALL_SetPxE, must_refuse);
	if (native) {
		expect_result(VMI_CALL_SetPxE, entry_address(entry), 0, result);
		if (must_refuse) {   /* what vmirun refuses, hardware stored: put it back */
			uint32_t stored = vmi_swap_pxe(entry_at(entry), old);
			expect_result(VMI_CALL_SwapPxE, entry_address(entry), value, stored);
			return;
		}
	} else {
		expect_result(VMI_CALL_SetPxE, entry_address(entry),
		              must_refuse ? VMI_ERROR_INVALID : 0, result);
		if (must_refuse) {
			read_entry(entry.table, entry.index);
			if (expected[entry.table][entry.index] != old)
				fail("a refused SetPxE changed the entry", entry_address(entry),
				     old, expected[entry.table][entry.index]);
			return;
		}
	}
	entry_written(entry, value, "SetPxE did not write the value");
	if (read_back)
		absorb_entry(entry.table, entry.index, vmi_get_pxe(entry_at(entry)),
		             "GetPxE after SetPxE");
}

static void swap_entry(void)
{
	struct entry_choice entry = random_entry();
	uint32_t value = entry_value_for(entry);
	uint32_t old = read_entry(entry.table, entry.index);
	trace("SwapPxE of (entry, value)", entry_address(entry), value, 0);
	uint32_t result = vmi_swap_pxe(entry_at(entry), value);
	counted(VMI_CALL_SwapPxE, 0);
	expect_result(VMI_CALL_SwapPxE, entry_address(entry), old, result);
	entry_written(entry, value, "SwapPxE did not write the value");
}

static void change_bit(void)
{
	struct entry_choice entry = random_entry();
	uint32_t bit = one_in(2) ? interesting_bits[random_below(sizeof interesting_bits)]
	                         : random_below(32);
	int set = one_in(2);
	uint32_t old = read_entry(entry.table, entry.index);
	trace(set ? "TestAndSetPxEBit of (entry, bit)" : "TestAndClearPxEBit of (entry, bit)",
	      entry_address(entry), bit, 0);
	uint32_t result = set ? vmi_test_and_set_pxe_bit(entry_at(entry), bit)
	                      : vmi_test_and_clear_pxe_bit(entry_at(entry), bit);
	unsigned call = set ? VMI_CALL_TestAndSetPxEBit : VMI_CALL_TestAndClearPxEBit;
	counted(call, 0);
	expect_result(call, entry_address(entry), (old >> bit) & 1, result);
	entry_written(entry, set ? old | 1u << bit : old & ~(1u << bit),
	              set ? "TestAndSetPxEBit did not set the bit"
	                  : "TestAndClearPxEBit did not clear the bit");
}

static void get_entry(void)
{
	struct entry_choice entry = random_entry();
	uint32_t old = read_entry(entry.table, entry.index);
	uint32_t result = vmi_get_pxe(entry_at(entry));
	counted(VMI_CALL_GetPxE, 0);
	expect_result(VMI_CALL_GetPxE, entry_address(entry), old, result);
}

/* An entry pointer that is no aligned word of guest RAM the kernel may write: misaligned,
 * vmirun's window, the ROM, past RAM under the identity map, or a playground page a kernel
 * write faults on. Refused (SetPxE) or read as 0 (the rest), and nothing changes; the native
 * ROM would just use it, so there only the random numbers are drawn. */
static void entry_call_with_bad_pointer(void)
{
	static const unsigned entry_calls[] = {
		VMI_CALL_SetPxE, VMI_CALL_GetPxE, VMI_CALL_SwapPxE, VMI_CALL_TestAndSetPxEBit,
		VMI_CALL_TestAndClearPxEBit,
	};
	struct entry_choice neighbour = random_entry();
	if (neighbour.index == TABLE_ENTRIES - 1)
		neighbour.index--;   /* a misaligned word there would reach into the next frame */
	uint32_t pointer = entry_address(neighbour) + 1 + random_below(3);
	uint32_t identity_end = identity_slots * SLOT_BYTES;
	unsigned page = random_below(PLAYGROUND_PAGES);
	struct expected_touch touch;
	switch (random_below(5)) {
	case 0:
		pointer = VMI_PROCESS_WINDOW_BASE + random_below(VMI_PROCESS_WINDOW_SIZE / 4) * 4;
		break;
	case 1:
		pointer = VMI_ROM_BASE + random_below(VMI_PROCESS_RAM_BASE - VMI_ROM_BASE) / 4 * 4;
		break;
	case 2:
		if (identity_end > ram_end)
			pointer = ram_end + random_below((identity_end - ram_end) / 4) * 4;
		break;
	case 3:
		expect_touch(page, 1, &touch);
		if (touch.outcome == TOUCH_FAULTS)
			pointer = PLAYGROUND_BASE + page * PAGE_BYTES +
			          random_below(TABLE_ENTRIES) * 4;
		break;
	default:
		break;
	}
	unsigned call = entry_calls[random_below(sizeof entry_calls / sizeof entry_calls[0])];
	uint32_t value = data_frame_address(random_below(DATA_FRAMES)) | VMI_PTE_PRESENT;
	uint32_t bit = random_below(32);
	if (native)
		return;
	struct entry_choice second = { neighbour.table, neighbour.index + 1, NOT_LIVE };
	uint32_t before = read_entry(neighbour.table, neighbour.index);
	uint32_t second_before = read_entry(second.table, second.index);
	volatile uint32_t *entry = (volatile uint32_t *)(uintptr_t)pointer;
	trace("a bad entry pointer for", pointer, call, 0);
	uint32_t result, want = 0;
	switch (call) {
	case VMI_CALL_SetPxE:
		result = vmi_set_pxe(entry, value, VMI_PAGE_PT);
		want = VMI_ERROR_INVALID;
		break;
	case VMI_CALL_GetPxE: result = vmi_get_pxe(entry); break;
	case VMI_CALL_SwapPxE: result = vmi_swap_pxe(entry, value); break;
	case VMI_CALL_TestAndSetPxEBit: result = vmi_test_and_set_pxe_bit(entry, bit); break;
	default: result = vmi_test_and_clear_pxe_bit(entry, bit); break;
	}
	counted(call, 1);
	expect_result(call, pointer, want, result);
	if (read_entry(neighbour.table, neighbour.index) != before ||
	    read_entry(second.table, second.index) != second_before)
		fail("a call on a bad entry pointer changed an entry", pointer, before,
		     second_before);
}

static void invalidate_page(void)
{
	uint32_t address;
	uint32_t pick = random_below(10);
	if (pick < 4 && hint_valid)
		address = PLAYGROUND_BASE + hint_page * PAGE_BYTES + random_below(PAGE_BYTES);
	else if (pick < 7)
		address = PLAYGROUND_BASE + random32() % (PLAYGROUND_SLOTS * SLOT_BYTES);
	else if (pick < 9)
		address = HOSTILE_FIRST_SLOT * SLOT_BYTES +
		          random32() % (0u - HOSTILE_FIRST_SLOT * SLOT_BYTES);
	else if (one_in(4))   /* the storm's own memory: only slower afterwards */
		address = VMI_PROCESS_RAM_BASE + random_below(ram_frames()) * PAGE_BYTES;
	else
		address = random32();
	uint32_t result = vmi_inval_page(address);
	counted(VMI_CALL_InvalPage, 0);
	expect_result(VMI_CALL_InvalPage, address, 0, result);
	page_invalidated(address);
}

static void flush_tlb(void)
{
	/* GLOBAL drops the storm's own memory too (global, and refilled fault by fault on
	 * vmirun), so it comes less often than the rest. */
	uint32_t pick = random_below(10), flags;
	if (pick < 6)
		flags = VMI_FLUSH_TLB;
	else if (pick < 8)
		flags = VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL;
	else if (pick < 9)
		flags = random_below(2) * VMI_FLUSH_GLOBAL;      /* no VMI_FLUSH_TLB */
	else
		flags = random32() | 4;                          /* unknown bits */
	int valid = (flags & VMI_FLUSH_TLB) && !(flags & ~(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL));
	uint32_t result = vmi_flush_tlb(flags);
	counted(VMI_CALL_FlushTLB, !valid);
	/* The native ROM reloads CR3 whatever the flags; the storm counts on no flush then. */
	expect_result(VMI_CALL_FlushTLB, flags, valid || native ? 0 : VMI_ERROR_INVALID, result);
	if (valid)
		tlb_flushed((flags & VMI_FLUSH_GLOBAL) != 0);
}

/* CR0.WP and CR4.PGE, each on three times in four: vmirun drops its whole TLB when either
 * changes, and WP decides whether the kernel's writes obey W. */
static void change_control_register(void)
{
	int on = !one_in(4);
	if (one_in(2)) {
		uint32_t cr0 = (vmi_get_cr0() & ~VMI_CR0_WP) | (on ? VMI_CR0_WP : 0);
		expect_result(VMI_CALL_SetCR0, cr0, 0, vmi_set_cr0(cr0));
		counted(VMI_CALL_SetCR0, 0);
		expect_result(VMI_CALL_GetCR0, 0, cr0, vmi_get_cr0());
		write_protect_set(on);
	} else {
		uint32_t cr4 = (vmi_get_cr4() & ~VMI_CR4_PGE) | (on ? VMI_CR4_PGE : 0);
		expect_result(VMI_CALL_SetCR4, cr4, 0, vmi_set_cr4(cr4));
		counted(VMI_CALL_SetCR4, 0);
		expect_result(VMI_CALL_GetCR4, 0, cr4, vmi_get_cr4());
		global_pages_set(on);
	}
}

static void load_directory(void)
{
	unsigned directory = random_below(DIRECTORIES);
	directory_loading(directory);
	uint32_t result = vmi_set_cr3(table_frame(directory));
	counted(VMI_CALL_SetCR3, 0);
	expect_result(VMI_CALL_SetCR3, table_frame(directory), 0, result);
	expect_result(VMI_CALL_GetCR3, 0, table_frame(directory), vmi_get_cr3());
}

/* A page frame number: the storm's tables and data, RAM, low memory, below 64 KiB, the VGA
 * hole, the ROM, past RAM, past 4 GiB, anything. */
static uint32_t random_frame_number(void)
{
	uint32_t low_first = VMI_PROCESS_LOW_RAM_BASE >> PAGE_SHIFT;
	uint32_t low_end = VMI_PROCESS_LOW_RAM_END >> PAGE_SHIFT;
	uint32_t rom_end = VMI_PROCESS_RAM_BASE >> PAGE_SHIFT;
	switch (random_below(10)) {
	case 0: return table_frame(random_below(TABLES)) >> PAGE_SHIFT;
	case 1: return data_frame_address(random_below(DATA_FRAMES)) >> PAGE_SHIFT;
	case 2: case 3: return (VMI_PROCESS_RAM_BASE >> PAGE_SHIFT) + random_below(ram_frames());
	case 4: return low_first + random_below(low_end - low_first);
	case 5: return random_below(low_first);
	case 6: return low_end + 1 + random_below(rom_end - low_end - 1);
	case 7: return (ram_end >> PAGE_SHIFT) + random_below(16);
	case 8: return FRAME_NUMBERS + random_below(16);
	default: return random32();
	}
}

/* What vmirun takes as a page table or directory: a whole frame of RAM or low memory. */
static int ram_frame_number(uint32_t frame)
{
	if (frame >= FRAME_NUMBERS)
		return 0;
	uint32_t address = frame << PAGE_SHIFT;
	return (address >= VMI_PROCESS_LOW_RAM_BASE &&
	        address <= VMI_PROCESS_LOW_RAM_END - PAGE_BYTES) ||
	       (address >= VMI_PROCESS_RAM_BASE && address < ram_end);
}

static uint32_t random_level(void)
{
	uint32_t pick = random_below(10);
	if (pick < 4)
		return VMI_PAGE_PT;
	if (pick < 8)
		return VMI_PAGE_PD;
	return one_in(2) ? random_below(VMI_PAGE_LEVEL_MASK + 1) : random32();
}

static int one_level(uint32_t flags)
{
	uint32_t level = flags & VMI_PAGE_LEVEL_MASK;
	return level == VMI_PAGE_PT || level == VMI_PAGE_PD;
}

static void announce_page(void)
{
	uint32_t frame = random_frame_number(), level = random_level();
	if (one_in(2)) {
		int valid = ram_frame_number(frame) && one_level(level);
		uint32_t result = vmi_release_page(frame, level);
		counted(VMI_CALL_ReleasePage, !valid);
		expect_result(VMI_CALL_ReleasePage, frame, valid || native ? 0 : VMI_ERROR_INVALID,
		              result);
		return;
	}
	uint32_t flags = level, clone = 0, first = 0, count = 0;
	if ((level & ~VMI_PAGE_LEVEL_MASK) == 0) {
		if (one_in(2))
			flags |= VMI_ALLOCATE_ZEROED;
		if (one_in(3)) {
			flags |= VMI_ALLOCATE_CLONE;
			clone = random_frame_number();
			first = random_below(TABLE_ENTRIES + 64);
			count = random_below(TABLE_ENTRIES + 64);
		}
	}
	int valid = ram_frame_number(frame) && one_level(flags) &&
	            !(flags & ~(VMI_PAGE_LEVEL_MASK | VMI_ALLOCATE_CLONE | VMI_ALLOCATE_ZEROED)) &&
	            (!(flags & VMI_ALLOCATE_CLONE) ||
	             (ram_frame_number(clone) && first <= TABLE_ENTRIES &&
	              count <= TABLE_ENTRIES - first));
	uint32_t result = vmi_allocate_page(frame, flags, clone, first, count);
	counted(VMI_CALL_AllocatePage, !valid);
	expect_result(VMI_CALL_AllocatePage, frame, valid || native ? 0 : VMI_ERROR_INVALID,
	              result);
}

static void linear_mapping(void)
{
	uint32_t slot = random_below(VMI_LINEAR_MAP_SLOTS + 2), linear, pages, frame;
	switch (random_below(4)) {
	case 0: linear = 0; break;
	case 1: linear = PLAYGROUND_BASE + random_below(PLAYGROUND_PAGES) * PAGE_BYTES; break;
	case 2: linear = VMI_PROCESS_WINDOW_BASE - random_below(64) * PAGE_BYTES; break;
	default: linear = random32(); break;
	}
	switch (random_below(3)) {
	case 0: pages = random_below(2048); break;
	case 1:   /* up to the window: past it when the address is */
		pages = (VMI_PROCESS_WINDOW_BASE - (linear & VMI_PTE_FRAME_MASK)) / PAGE_BYTES;
		break;
	default: pages = random32(); break;
	}
	switch (random_below(3)) {
	case 0: frame = random_below(ram_end >> PAGE_SHIFT); break;
	case 1: frame = FRAME_NUMBERS - random_below(4096); break;
	default: frame = random32(); break;
	}
	int valid = slot < VMI_LINEAR_MAP_SLOTS && !(linear & (PAGE_BYTES - 1)) &&
	            (uint64_t)linear + (uint64_t)pages * PAGE_BYTES <= VMI_PROCESS_WINDOW_BASE &&
	            (uint64_t)frame + pages <= FRAME_NUMBERS;
	uint32_t result = vmi_set_linear_mapping(slot, linear, pages, frame);
	counted(VMI_CALL_SetLinearMapping, !valid);
	expect_result(VMI_CALL_SetLinearMapping, linear, valid || native ? 0 : VMI_ERROR_INVALID,
	              result);
}

static void flush_deferred(void)
{
	static const uint32_t choices[] = { 0, VMI_FLUSH_DEFERRED_PT, VMI_FLUSH_DEFERRED_CPU,
	                                    VMI_FLUSH_DEFERRED_PT | VMI_FLUSH_DEFERRED_CPU };
	uint32_t flags = one_in(5) ? random32() : choices[random_below(4)];
	int valid = !(flags & ~(VMI_FLUSH_DEFERRED_PT | VMI_FLUSH_DEFERRED_CPU));
	uint32_t result = vmi_flush_deferred_calls(flags);
	counted(VMI_CALL_FlushDeferredCalls, !valid);
	expect_result(VMI_CALL_FlushDeferredCalls, flags, valid || native ? 0 : VMI_ERROR_INVALID,
	              result);
}

static const struct {
	unsigned weight;
	void (*run)(void);
} operations[] = {
	{ 22, set_entry },
	{ 6, swap_entry },
	{ 8, change_bit },
	{ 5, get_entry },
	{ 3, entry_call_with_bad_pointer },
	{ 7, invalidate_page },
	{ 4, flush_tlb },
	{ 3, load_directory },
	{ 1, change_control_register },
	{ 3, announce_page },
	{ 2, linear_mapping },
	{ 1, flush_deferred },
};

void random_operation(void)
{
	unsigned total = 0;
	for (unsigned i = 0; i < sizeof operations / sizeof operations[0]; i++)
		total += operations[i].weight;
	unsigned pick = random_below(total);
	for (unsigned i = 0;; i++) {
		if (pick < operations[i].weight) {
			operations[i].run();
			return;
		}
		pick -= operations[i].weight;
	}
}

/* --- touching the playground -------------------------------------------------------------- */

/* A slot of the loaded directory whose walk the storm can follow: present, to one of its
 * own tables or a 4 MiB page (or, failing three tries, any slot). */
static int slot_walkable(unsigned slot)
{
	uint32_t entry = expected[loaded_directory][PLAYGROUND_FIRST_SLOT + slot];
	return (entry & VMI_PTE_PRESENT) &&
	       ((entry & VMI_PTE_LARGE) || table_at(entry & VMI_PTE_FRAME_MASK) >= 0);
}

static unsigned fresh_page_to_touch(void)
{
	if (hint_valid && one_in(2))
		return hint_page;
	unsigned slot = random_below(PLAYGROUND_SLOTS);
	for (int tries = 0; tries < 3 && !slot_walkable(slot); tries++)
		slot = random_below(PLAYGROUND_SLOTS);
	return slot * TABLE_ENTRIES + random_below(TABLE_ENTRIES);
}

/* After a successful access the MMU has set A in the entries of the walk, and D in the leaf
 * of a write, as hardware does. */
static void check_accessed(const struct expected_touch *touch, unsigned page, int write)
{
	unsigned slot = PLAYGROUND_FIRST_SLOT + page / TABLE_ENTRIES;
	uint32_t directory_entry = read_entry(loaded_directory, slot);
	uint32_t leaf = read_entry(touch->leaf_table, touch->leaf_index);
	uint32_t leaf_wants = VMI_PTE_ACCESSED | (write ? VMI_PTE_DIRTY : 0);
	if (!(directory_entry & VMI_PTE_ACCESSED))
		fail("an access left A clear in the directory entry",
		     (uint32_t)(uintptr_t)&tables[loaded_directory][slot], VMI_PTE_ACCESSED,
		     directory_entry);
	if ((leaf & leaf_wants) != leaf_wants)
		fail(write ? "a write left A or D clear in its page's entry"
		           : "a read left A clear in its page's entry",
		     (uint32_t)(uintptr_t)&tables[touch->leaf_table][touch->leaf_index], leaf_wants,
		     leaf & ACCESSED_DIRTY);
}

/* One access to `page`, if its translation is settled (else, now and then, after InvalPage
 * of it) and the storm can tell what it must do; checked against the software walk. */
static void touch_page(unsigned page)
{
	if (!page_settled(page)) {
		if (!one_in(4)) {
			unsettled_skipped++;
			return;
		}
		uint32_t linear = PLAYGROUND_BASE + page * PAGE_BYTES;
		expect_result(VMI_CALL_InvalPage, linear, 0, vmi_inval_page(linear));
		counted(VMI_CALL_InvalPage, 0);
		page_invalidated(linear);
	}
	int write = one_in(3);
	uint32_t offset = random_below(TABLE_ENTRIES) * 4, value = random32();
	struct expected_touch touch;
	expect_touch(page, write, &touch);
	if (write && touch.outcome == TOUCH_MAPS && !data_frame(touch.frame))
		write = 0;   /* a read is allowed wherever a write is; writes only to data frames */
	if (touch.outcome == TOUCH_UNKNOWN ||
	    (touch.outcome == TOUCH_MAPS && !readable_frame(touch.frame))) {
		unknown_skipped++;
		return;
	}
	if (touch.outcome == TOUCH_MAPS)
		remember_touch(page);

	uint32_t linear = PLAYGROUND_BASE + page * PAGE_BYTES + offset;
	const volatile uint32_t *identity = touch.outcome == TOUCH_MAPS
	        ? (const volatile uint32_t *)(uintptr_t)(touch.frame + offset) : &tables[0][0];
	trace(write ? "write (linear, expected #PF error code or frame)"
	            : "read (linear, expected #PF error code or frame)",
	      linear, touch.outcome == TOUCH_FAULTS ? touch.error_code : touch.frame, 0);
	uint32_t faults_before = probe_faults, read = 0, seen = 0;
	if (write)
		probe_write(linear, identity, value, &seen);
	else
		read = probe_read(linear, identity, &seen);
	int faulted = probe_faults != faults_before;
	accesses_checked++;
	if (touch.outcome == TOUCH_FAULTS) {
		if (!faulted)
			fail(write ? "a write that must fault did not"
			           : "a read that must fault did not",
			     linear, touch.error_code, write ? seen : read);
		uint32_t cr2 = vmi_get_cr2();
		if (cr2 != linear)
			fail("CR2 after a #PF", linear, linear, cr2);
		if (probe_fault_error != touch.error_code)
			fail("the #PF error code (P 1, W 2, U 4)", linear, touch.error_code,
			     probe_fault_error);
		faults_as_expected++;
		return;
	}
	if (faulted)
		fail(write ? "#PF on a write the tables allow (error code)"
		           : "#PF on a read the tables allow (error code)",
		     linear, 0, probe_fault_error);
	if (write && seen != value)
		fail("a write through the playground, read through the identity map", linear, value,
		     seen);
	if (!write && read != seen)
		fail("a read through the playground against the identity map", linear, seen, read);
	check_accessed(&touch, page, write);
}

void touch_playground(void)
{
	touch_page(fresh_page_to_touch());
	if (recent_count)
		touch_page(recent_pages[random_below(recent_count)]);
}

/* --- the start: three directories sharing the identity map, some of the playground mapped - */

static void set_up_entry(unsigned table, unsigned index, uint32_t value)
{
	uint32_t level = table < DIRECTORIES ? VMI_PAGE_PD : VMI_PAGE_PT;
	expect_result(VMI_CALL_SetPxE, (uint32_t)(uintptr_t)&tables[table][index], 0,
	              vmi_set_pxe(&tables[table][index], value, level));
	expected[table][index] = value;
}

void build_tables(void)
{
	for (unsigned table = 0; table < TABLES; table++) {
		uint32_t level = table < DIRECTORIES ? VMI_PAGE_PD : VMI_PAGE_PT;
		for (unsigned index = 0; index < TABLE_ENTRIES; index++)
			tables[table][index] = expected[table][index] = 0;
		expect_result(VMI_CALL_AllocatePage, table_frame(table), 0,
		              vmi_allocate_page(table_frame(table) >> PAGE_SHIFT,
		                                level | VMI_ALLOCATE_ZEROED, 0, 0, 0));
	}
	for (unsigned frame = 0; frame < DATA_FRAMES; frame++)
		for (unsigned word = 0; word < TABLE_ENTRIES; word++)
			data_frames[frame][word] = random32();
	/* Global and already accessed and dirty: the storm's own memory costs vmirun no refills
	 * after CR3 loads, and the MMU has nothing to write there. */
	for (unsigned directory = 0; directory < DIRECTORIES; directory++)
		for (unsigned slot = 0; slot < identity_slots; slot++)
			set_up_entry(directory, slot, slot * SLOT_BYTES | VMI_PTE_PRESENT |
			             VMI_PTE_WRITABLE | VMI_PTE_LARGE | VMI_PTE_GLOBAL |
			             ACCESSED_DIRTY);
	for (unsigned table = DIRECTORIES; table < TABLES; table++)
		for (unsigned index = 0; index < TABLE_ENTRIES; index++) {
			if (one_in(3))
				continue;
			uint32_t frame = data_frame_address(random_below(DATA_FRAMES));
			set_up_entry(table, index, frame | mapping_flags());
		}
	for (unsigned directory = 0; directory < DIRECTORIES; directory++)
		for (unsigned n = 0; n < 32; n++) {
			unsigned slot = PLAYGROUND_FIRST_SLOT + random_below(PLAYGROUND_SLOTS);
			uint32_t table = table_frame(DIRECTORIES + random_below(PAGE_TABLES));
			set_up_entry(directory, slot, table | VMI_PTE_PRESENT | VMI_PTE_WRITABLE);
		}
	expect_result(VMI_CALL_SetLinearMapping, 0, 0,
	              vmi_set_linear_mapping(0, 0, identity_slots * TABLE_ENTRIES, 0));
}

static void print_call(unsigned call)
{
	print(" ");
	print(vmi_call_names[call]);
	print(" ");
	print_decimal(made[call]);
	if (refused[call]) {
		print(" (");
		print_decimal(refused[call]);
		print(native ? " vmirun would refuse)" : " refused)");
	}
}

void print_counts(void)
{
	static const unsigned calls[] = {
		VMI_CALL_SetPxE, VMI_CALL_GetPxE, VMI_CALL_SwapPxE, VMI_CALL_TestAndSetPxEBit,
		VMI_CALL_TestAndClearPxEBit, VMI_CALL_AllocatePage, VMI_CALL_ReleasePage,
		VMI_CALL_InvalPage, VMI_CALL_FlushTLB, VMI_CALL_FlushDeferredCalls,
		VMI_CALL_SetLinearMapping, VMI_CALL_SetCR3, VMI_CALL_SetCR0, VMI_CALL_SetCR4,
	};
	print("mmu_storm: calls:");
	for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++)
		print_call(calls[i]);
	print("\nmmu_storm: touches skipped: ");
	print_decimal(unsettled_skipped);
	print(" possibly stale, ");
	print_decimal(unknown_skipped);
	print(" unknowable or out of bounds\n");
}
