/* Address spaces for the reference kernel, which runs high. Every directory's kernel part
 * is the same linear map of RAM at KERNEL_BASE, supervisor-only but for the user programs'
 * sections of the image (and the ROM), global where the CPU has PGE; the low 3 GiB are user
 * space. The kernel's own directory also maps each process's user stack (USER_STACKS_WINDOW)
 * and PAGING_TEST_WINDOW; a process that asks gets its own directory whose private window,
 * filled on demand from a pool of frames and emptied when it exits, holds its stack too;
 * fork gives a child a plain copy of every present page (no copy-on-write). A CR3 load
 * switches between them (scheduler.c); the kernel's global pages stay in the TLB. */
#include <vmi/mmu.h>
#include <vmi/pc.h>

#include "kernel.h"
#include "paging.h"
#include "process.h"

#define LARGE_PAGE         0x400000u
#define PAGE               4096u
#define CPUID_PGE          (1u << 13)
#define KERNEL_FIRST_ENTRY (KERNEL_BASE >> 22)
#define KERNEL_ENTRIES_MAX (1024 - KERNEL_FIRST_ENTRY)
/* What of the first MiB the linear map leaves out: below 64 KiB (the real-mode vectors and
 * the BIOS's data; vmirun has no memory there) and the VGA hole up to the ROM area. */
#define LOW_MEMORY_START   0x10000u
#define VGA_START          0xA0000u
#define ROM_AREA_END       KERNEL_LOAD_ADDRESS
#define STACK_PAGES        (USER_STACK_BYTES / PAGE)
#define OWN_STACK_TOP      (PRIVATE_WINDOW + LARGE_PAGE)   /* the window table's last pages */
#define KERNEL_PAGE        (VMI_PTE_PRESENT | VMI_PTE_WRITABLE | VMI_PTE_ACCESSED | VMI_PTE_DIRTY)
#define USER_PAGE          (KERNEL_PAGE | VMI_PTE_USER)
#define KERNEL_READ_ONLY   (VMI_PTE_PRESENT | VMI_PTE_ACCESSED)
#define USER_READ_ONLY     (KERNEL_READ_ONLY | VMI_PTE_USER)
#define TABLE_FOR_USER     (VMI_PTE_PRESENT | VMI_PTE_WRITABLE | VMI_PTE_USER)   /* PTEs decide */

_Static_assert(KERNEL_BASE % LARGE_PAGE == 0, "the linear map starts on a directory entry");
_Static_assert(USER_STACKS_WINDOW + PROCESS_MAX * 2 * USER_STACK_BYTES <= PRIVATE_WINDOW &&
               (USER_STACKS_WINDOW >> 22) != (PRIVATE_WINDOW >> 22),
               "the stacks window is one table of its own, below the private window");
_Static_assert(PRIVATE_WINDOW_PAGES * PAGE <= LARGE_PAGE - USER_STACK_BYTES,
               "the private window and its stack share one table");

/* The linker script's bounds of what user mode may run and read, and write. */
extern char __user_text_start[], __user_data_start[], __user_end[];

static uint32_t kernel_directory[1024] __attribute__((aligned(PAGE)));
static uint32_t low_table[1024] __attribute__((aligned(PAGE)));   /* the map's first 4 MiB */
static uint32_t stacks_table[1024] __attribute__((aligned(PAGE)));
static uint32_t test_table[1024] __attribute__((aligned(PAGE)));
static uint32_t directories[PROCESS_MAX][1024] __attribute__((aligned(PAGE)));
static uint32_t window_tables[PROCESS_MAX][1024] __attribute__((aligned(PAGE)));
/* Each table slot's user stack: the same frames in the stacks window of the kernel's
 * directory and at the top of the slot's private window when it has a directory of its own. */
static uint8_t user_stacks[PROCESS_MAX][USER_STACK_BYTES] __attribute__((aligned(PAGE)));
static uint8_t frames[PAGING_FRAME_POOL][PAGE] __attribute__((aligned(PAGE)));
static uint8_t frame_used[PAGING_FRAME_POOL];
static uint32_t kernel_entry_count, global_bit, loaded_directory;
uint32_t paging_demand_faults;

uint32_t paging_physical(const volatile void *p)
{
	return (uint32_t)(uintptr_t)p - KERNEL_BASE;
}

/* A frame of the pool as it was left (0 when none is free). */
static void *frame_claim(void)
{
	for (unsigned index = 0; index < PAGING_FRAME_POOL; index++)
		if (!frame_used[index]) {
			frame_used[index] = 1;
			return frames[index];
		}
	return 0;
}

void *paging_frame_take(void)
{
	void *frame = frame_claim();
	if (frame)
		memset(frame, 0, PAGE);
	return frame;
}

void paging_frame_give(const volatile void *frame)
{
	uint32_t offset = paging_physical(frame) - paging_physical(frames);
	if (offset < sizeof(frames))   /* only the pool's frames are ours to free */
		frame_used[offset / PAGE] = 0;
}

unsigned paging_frames_in_use(void)
{
	unsigned count = 0;
	for (unsigned index = 0; index < PAGING_FRAME_POOL; index++)
		count += frame_used[index];
	return count;
}

static int inside(uint32_t value, const void *start, const void *end)
{
	return value >= paging_physical(start) && value < paging_physical(end);
}

/* The entry for physical page `physical` of the first 4 MiB: supervisor-only, but for what
 * user mode runs and reads (read-only) or shares with the kernel, and the process ROM, whose
 * code user mode runs (its system-call entry, the end of its IRET); 0 for what is left out. */
static uint32_t low_entry(uint32_t physical)
{
	if (physical < LOW_MEMORY_START || (physical >= VGA_START && physical < VMI_ROM_BASE) ||
	    physical >= platform.ram_end)
		return 0;
	if (physical < ROM_AREA_END)
		return physical | (platform.native_rom ? KERNEL_READ_ONLY : USER_READ_ONLY) | global_bit;
	if (inside(physical, __user_text_start, __user_data_start))
		return physical | USER_READ_ONLY | global_bit;
	if (inside(physical, __user_data_start, __user_end))
		return physical | USER_PAGE | global_bit;
	return physical | KERNEL_PAGE | global_bit;
}

/* Plain stores, then the page is announced as a zeroed table. */
static void announce_table(uint32_t *table, uint32_t level)
{
	memset(table, 0, PAGE);
	vmi_allocate_page(paging_physical(table) >> 12, level | VMI_ALLOCATE_ZEROED, 0, 0, 0);
}

/* The stacks window: slot s's stack pages, a gap of as many unmapped ones below each. */
static void map_stacks_window(void)
{
	announce_table(stacks_table, VMI_PAGE_PT);
	for (unsigned slot = 0; slot < PROCESS_MAX; slot++) {
		uint32_t bottom = paging_user_stack_top(slot, 0) - USER_STACK_BYTES;
		for (uint32_t page = 0; page < STACK_PAGES; page++)
			vmi_set_pxe(&stacks_table[(bottom - USER_STACKS_WINDOW) / PAGE + page],
			            (paging_physical(user_stacks[slot]) + page * PAGE) | USER_PAGE, VMI_PAGE_PT);
	}
	vmi_set_pxe(&kernel_directory[USER_STACKS_WINDOW >> 22],
	            paging_physical(stacks_table) | TABLE_FOR_USER, VMI_PAGE_PD);
}

int paging_init(const char **why)
{
	if (!(vmi_get_cr0() & VMI_CR0_PG) || !(vmi_get_cr4() & VMI_CR4_PSE)) {
		*why = "the boot path did not leave paging on with 4 MiB pages";
		return -1;
	}
	struct vmi_cpuid_result features = vmi_cpuid(1, 0);
	global_bit = (features.edx & CPUID_PGE) ? VMI_PTE_GLOBAL : 0;
	kernel_entry_count = (platform.ram_end + LARGE_PAGE - 1) / LARGE_PAGE;
	if (kernel_entry_count > KERNEL_ENTRIES_MAX)
		kernel_entry_count = KERNEL_ENTRIES_MAX;   /* main.c keeps RAM below this anyway */

	announce_table(kernel_directory, VMI_PAGE_PD);
	announce_table(low_table, VMI_PAGE_PT);
	announce_table(test_table, VMI_PAGE_PT);
	for (uint32_t page = 0; page < 1024; page++) {
		uint32_t entry = low_entry(page * PAGE);
		if (entry)
			vmi_set_pxe(&low_table[page], entry, VMI_PAGE_PT);
	}
	vmi_set_pxe(&kernel_directory[KERNEL_FIRST_ENTRY], paging_physical(low_table) | TABLE_FOR_USER,
	            VMI_PAGE_PD);
	for (uint32_t i = 1; i < kernel_entry_count; i++)
		vmi_set_pxe(&kernel_directory[KERNEL_FIRST_ENTRY + i], i * LARGE_PAGE | KERNEL_PAGE |
		            VMI_PTE_LARGE | global_bit, VMI_PAGE_PD);
	vmi_set_pxe(&kernel_directory[PAGING_TEST_WINDOW >> 22], paging_physical(test_table) |
	            VMI_PTE_PRESENT | VMI_PTE_WRITABLE, VMI_PAGE_PD);   /* the kernel's only */
	map_stacks_window();
	vmi_set_linear_mapping(0, KERNEL_BASE, kernel_entry_count * (LARGE_PAGE / PAGE), 0);

	/* Load it: the boot directory, and with it every identity mapping, is gone. */
	vmi_set_cr4(vmi_get_cr4() | VMI_CR4_PSE | (global_bit ? VMI_CR4_PGE : 0));
	vmi_set_cr3(paging_physical(kernel_directory));
	loaded_directory = paging_physical(kernel_directory);
	paging_demand_faults = 0;
	return 0;
}

void paging_switch_to(uint32_t directory)
{
	if (directory == loaded_directory)
		return;
	vmi_set_cr3(directory);
	loaded_directory = directory;
}

uint32_t paging_kernel_directory(void)
{
	return paging_physical(kernel_directory);
}

int paging_kernel_global(void)
{
	return global_bit != 0;
}

uint32_t paging_user_stack_top(unsigned slot, int own_address_space)
{
	if (own_address_space)
		return OWN_STACK_TOP;
	return USER_STACKS_WINDOW + (slot + 1) * 2 * USER_STACK_BYTES;
}

void *paging_user_stack(unsigned slot)
{
	return user_stacks[slot];
}

/* An entry of the loaded directory's walk for `linear` (the directory entry itself for a
 * 4 MiB page), or 0 where a level is not present. */
static uint32_t walk(uint32_t linear)
{
	const uint32_t *directory = physical_to_linear(loaded_directory);
	uint32_t pde = directory[linear >> 22];
	if (!(pde & VMI_PTE_PRESENT) || (pde & VMI_PTE_LARGE))
		return pde;
	const uint32_t *table = physical_to_linear(pde & VMI_PTE_FRAME_MASK);
	uint32_t pte = table[(linear >> 12) & 1023];
	/* the directory entry must allow what the table entry does */
	return pte & (pde | ~(uint32_t)(VMI_PTE_WRITABLE | VMI_PTE_USER));
}

int paging_user_range_ok(uint32_t address, uint32_t length, int write)
{
	uint32_t last = address + (length ? length - 1 : 0);
	if (last < address)
		return 0;
	uint32_t needed = VMI_PTE_PRESENT | VMI_PTE_USER | (write ? VMI_PTE_WRITABLE : 0);
	for (uint32_t page = address / PAGE; page <= last / PAGE; page++)
		if ((walk(page * PAGE) & needed) != needed)
			return 0;
	return 1;
}

/* Unmaps every present entry among the first `pages` of `table`, which maps from linear
 * `base`, and gives its frame back. `current`: the table is in use (its directory loaded),
 * so the TLB must forget each page too. */
static void unmap_table(uint32_t *table, uint32_t base, unsigned pages, int current)
{
	for (unsigned page = 0; page < pages; page++) {
		uint32_t entry = table[page];
		if (!(entry & VMI_PTE_PRESENT))
			continue;
		uint32_t linear = base + page * PAGE;
		vmi_set_pxe(&table[page], 0, VMI_PAGE_PT |
		            (current ? VMI_PAGE_CURRENT_AS | linear : 0));
		if (current)
			vmi_inval_page(linear);   /* present to not present: the TLB must forget it */
		paging_frame_give(physical_to_linear(entry & VMI_PTE_FRAME_MASK));
	}
}

void paging_reset(void)
{
	paging_switch_to(paging_physical(kernel_directory));
	unmap_table(test_table, PAGING_TEST_WINDOW, 1024, 1);
}

uint32_t paging_new_address_space(unsigned slot)
{
	uint32_t *directory = directories[slot], *table = window_tables[slot];
	for (unsigned i = 0; i < 1024; i++)
		directory[i] = table[i] = 0;   /* no longer tables (released), not yet announced */
	vmi_allocate_page(paging_physical(table) >> 12, VMI_PAGE_PT | VMI_ALLOCATE_ZEROED, 0, 0, 0);
	vmi_allocate_page(paging_physical(directory) >> 12, VMI_PAGE_PD | VMI_ALLOCATE_CLONE,
	                  paging_physical(kernel_directory) >> 12, KERNEL_FIRST_ENTRY,
	                  kernel_entry_count);
	for (uint32_t i = KERNEL_FIRST_ENTRY; i < KERNEL_FIRST_ENTRY + kernel_entry_count; i++)
		vmi_set_pxe(&directory[i], kernel_directory[i], VMI_PAGE_PD);
	/* Its stack at the top of the window's table: the same address in every such process,
	 * so a forked child's copy is where its parent's was. */
	uint32_t stack_entry = (OWN_STACK_TOP - USER_STACK_BYTES - PRIVATE_WINDOW) / PAGE;
	for (uint32_t page = 0; page < STACK_PAGES; page++)
		vmi_set_pxe(&table[stack_entry + page],
		            (paging_physical(user_stacks[slot]) + page * PAGE) | USER_PAGE, VMI_PAGE_PT);
	vmi_set_pxe(&directory[PRIVATE_WINDOW >> 22], paging_physical(table) | TABLE_FOR_USER,
	            VMI_PAGE_PD);
	return paging_physical(directory);
}

volatile uint32_t *paging_private_entry(unsigned slot, uint32_t linear)
{
	return &window_tables[slot][(linear - PRIVATE_WINDOW) / PAGE];
}

volatile uint32_t *paging_test_entry(uint32_t linear)
{
	return &test_table[(linear - PAGING_TEST_WINDOW) / PAGE];
}

void paging_release(unsigned slot)
{
	/* Never free a directory the CPU still uses: load the kernel's first, which also drops
	 * the window's translations (a slot reused with the same directory gets no CR3 load). */
	if (loaded_directory == paging_physical(directories[slot]))
		paging_switch_to(paging_physical(kernel_directory));
	unmap_table(window_tables[slot], PRIVATE_WINDOW, PRIVATE_WINDOW_PAGES, 0);
	vmi_release_page(paging_physical(window_tables[slot]) >> 12, VMI_PAGE_PT);
	vmi_release_page(paging_physical(directories[slot]) >> 12, VMI_PAGE_PD);
}

int paging_copy_private(unsigned from, unsigned to)
{
	const uint32_t *source = window_tables[from];
	for (unsigned page = 0; page < PRIVATE_WINDOW_PAGES; page++) {
		uint32_t entry = source[page];
		if (!(entry & VMI_PTE_PRESENT))
			continue;
		void *copy = frame_claim();   /* not zeroed: every byte is copied over */
		if (!copy) {
			unmap_table(window_tables[to], PRIVATE_WINDOW, PRIVATE_WINDOW_PAGES, 0);
			return -1;
		}
		memcpy(copy, physical_to_linear(entry & VMI_PTE_FRAME_MASK), PAGE);
		vmi_set_pxe(&window_tables[to][page], paging_physical(copy) |
		            (entry & ~VMI_PTE_FRAME_MASK), VMI_PAGE_PT);   /* not loaded: no flush */
	}
	return 0;
}

void paging_drop_private(unsigned slot)
{
	unmap_table(window_tables[slot], PRIVATE_WINDOW, PRIVATE_WINDOW_PAGES, 1);
}

int paging_demand_fault(const struct trapframe *frame, unsigned slot)
{
	uint32_t address = vmi_get_cr2();
	if (frame->vector != 14 || (frame->error_code & VMI_PF_PRESENT) ||
	    address < PRIVATE_WINDOW || address >= PRIVATE_WINDOW + PRIVATE_WINDOW_PAGES * PAGE)
		return 0;
	void *frame_page = paging_frame_take();
	if (!frame_page)
		return 0;   /* out of frames: the fault ends the process */
	uint32_t linear = address & ~(PAGE - 1);
	vmi_set_pxe(paging_private_entry(slot, linear),
	            paging_physical(frame_page) | VMI_PTE_PRESENT | VMI_PTE_WRITABLE |
	            VMI_PTE_USER | VMI_PTE_ACCESSED | VMI_PTE_DIRTY,   /* about to be written: vmirun maps it now */
	            VMI_PAGE_CURRENT_AS | VMI_PAGE_PT | linear);
	paging_demand_faults++;
	return 1;   /* not present before: no flush needed */
}
