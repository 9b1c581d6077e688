/* Address spaces for the reference kernel. The kernel's part of every page directory is the
 * same: identity 4 MiB pages (global where the CPU has PGE) over RAM; a process that asks
 * gets its own directory whose entry for PRIVATE_WINDOW points at a page table of its own,
 * filled on demand from a pool of frames and emptied (frames back to the pool) when it
 * exits; fork gives a child a plain copy of every present page (no copy-on-write). A CR3
 * load switches between them (scheduler.c); the kernel's global pages stay in
 * the TLB across it. The kernel's directory alone also maps PAGING_TEST_WINDOW, a page
 * table the self-tests fill themselves. */
#include <vmi/mmu.h>

#include "kernel.h"
#include "paging.h"
#include "process.h"

#define LARGE_PAGE      0x400000u
#define PAGE            4096u
#define CPUID_PSE       (1u << 3)
#define CPUID_PGE       (1u << 13)
#define KERNEL_ENTRIES  (PRIVATE_WINDOW >> 22)   /* the identity map stops below the window */

static uint32_t kernel_directory[1024] __attribute__((aligned(PAGE)));
static uint32_t test_table[1024] __attribute__((aligned(PAGE)));
static uint32_t directories[PROCESS_MAX][1024] __attribute__((aligned(PAGE)));
static uint32_t window_tables[PROCESS_MAX][1024] __attribute__((aligned(PAGE)));
static uint8_t frames[PAGING_FRAME_POOL][PAGE] __attribute__((aligned(PAGE)));
static uint8_t frame_used[PAGING_FRAME_POOL];
static uint32_t kernel_entry_count, global_bit, loaded_directory;
uint32_t paging_demand_faults;

/* The kernel runs identity-mapped: a linear address is its physical one. */
uint32_t paging_physical(const volatile void *p)
{
	return (uint32_t)(uintptr_t)p;
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

int paging_start(const char **why)
{
	struct vmi_cpuid_result features = vmi_cpuid(1, 0);
	if (!(features.edx & CPUID_PSE)) {
		*why = "the CPU has no 4 MiB pages (CPUID PSE)";
		return -1;
	}
	global_bit = (features.edx & CPUID_PGE) ? VMI_PTE_GLOBAL : 0;
	kernel_entry_count = (platform.ram_end + LARGE_PAGE - 1) / LARGE_PAGE;
	if (kernel_entry_count > KERNEL_ENTRIES)
		kernel_entry_count = KERNEL_ENTRIES;
	/* Paging is off: plain stores, then the pages are announced as zeroed tables. */
	memset(kernel_directory, 0, PAGE);
	memset(test_table, 0, PAGE);
	vmi_allocate_page(paging_physical(kernel_directory) >> 12,
	                  VMI_PAGE_PD | VMI_ALLOCATE_ZEROED, 0, 0, 0);
	vmi_allocate_page(paging_physical(test_table) >> 12, VMI_PAGE_PT | VMI_ALLOCATE_ZEROED,
	                  0, 0, 0);
	for (uint32_t i = 0; i < kernel_entry_count; i++)
		vmi_set_pxe(&kernel_directory[i], i * LARGE_PAGE | VMI_PTE_PRESENT |
		            VMI_PTE_WRITABLE | VMI_PTE_USER | VMI_PTE_LARGE | global_bit, VMI_PAGE_PD);
	vmi_set_pxe(&kernel_directory[PAGING_TEST_WINDOW >> 22], paging_physical(test_table) |
	            VMI_PTE_PRESENT | VMI_PTE_WRITABLE, VMI_PAGE_PD);   /* the kernel's only */
	paging_demand_faults = 0;
	vmi_set_cr4(vmi_get_cr4() | VMI_CR4_PSE | (global_bit ? VMI_CR4_PGE : 0));
	vmi_set_cr3(paging_physical(kernel_directory));
	loaded_directory = paging_physical(kernel_directory);
	if (vmi_set_cr0(vmi_get_cr0() | VMI_CR0_PG) != 0 || !(vmi_get_cr0() & VMI_CR0_PG)) {
		*why = "the platform refused CR0.PG";
		return -1;
	}
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
		paging_frame_give((const void *)(uintptr_t)(entry & VMI_PTE_FRAME_MASK));
	}
}

void paging_stop(void)
{
	paging_switch_to(paging_physical(kernel_directory));
	unmap_table(test_table, PAGING_TEST_WINDOW, 1024, 1);
	vmi_set_cr0(vmi_get_cr0() & ~VMI_CR0_PG);
	vmi_flush_tlb(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL);
	vmi_release_page(paging_physical(test_table) >> 12, VMI_PAGE_PT);
	vmi_release_page(paging_physical(kernel_directory) >> 12, VMI_PAGE_PD);
}

uint32_t paging_new_address_space(unsigned slot)
{
	uint32_t *directory = directories[slot], *table = window_tables[slot];
	for (unsigned i = 0; i < 1024; i++)
		directory[i] = table[i] = 0;   /* no longer tables (released), not yet announced */
	vmi_allocate_page(paging_physical(table) >> 12, VMI_PAGE_PT | VMI_ALLOCATE_ZEROED, 0, 0, 0);
	vmi_allocate_page(paging_physical(directory) >> 12, VMI_PAGE_PD | VMI_ALLOCATE_CLONE,
	                  paging_physical(kernel_directory) >> 12, 0, kernel_entry_count);
	for (uint32_t i = 0; i < kernel_entry_count; i++)
		vmi_set_pxe(&directory[i], kernel_directory[i], VMI_PAGE_PD);
	vmi_set_pxe(&directory[PRIVATE_WINDOW >> 22], paging_physical(table) | VMI_PTE_PRESENT |
	            VMI_PTE_WRITABLE | VMI_PTE_USER, VMI_PAGE_PD);
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
		memcpy(copy, (const void *)(uintptr_t)(entry & VMI_PTE_FRAME_MASK), PAGE);
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
