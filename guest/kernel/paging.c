/* Address spaces for the reference kernel. The kernel's part of every page directory is the
 * same: identity 4 MiB pages (global where the CPU has PGE) over RAM; a process that asks
 * gets its own directory whose entry for PRIVATE_WINDOW points at a page table of its own,
 * filled on demand from a pool of frames. A CR3 load switches between them (scheduler.c);
 * the kernel's global pages stay in the TLB across it. */
#include <vmi/mmu.h>

#include "kernel.h"
#include "paging.h"
#include "process.h"

#define LARGE_PAGE      0x400000u
#define PAGE            4096u
#define FRAME_POOL      (PRIVATE_WINDOW_PAGES * 2)
#define CPUID_PSE       (1u << 3)
#define CPUID_PGE       (1u << 13)
#define KERNEL_ENTRIES  (PRIVATE_WINDOW >> 22)   /* the identity map stops below the window */

static uint32_t kernel_directory[1024] __attribute__((aligned(PAGE)));
static uint32_t directories[PROCESS_MAX][1024] __attribute__((aligned(PAGE)));
static uint32_t window_tables[PROCESS_MAX][1024] __attribute__((aligned(PAGE)));
static uint8_t frames[FRAME_POOL][PAGE] __attribute__((aligned(PAGE)));
static uint8_t frame_used[FRAME_POOL];
static uint32_t kernel_entry_count, global_bit, loaded_directory;
uint32_t paging_demand_faults;

/* The kernel runs identity-mapped: a linear address is its physical one. */
static uint32_t physical(const volatile void *p)
{
	return (uint32_t)(uintptr_t)p;
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
	vmi_allocate_page(physical(kernel_directory) >> 12, VMI_PAGE_PD | VMI_ALLOCATE_ZEROED, 0,
	                  0, 0);
	for (uint32_t i = 0; i < kernel_entry_count; i++)
		vmi_set_pxe(&kernel_directory[i], i * LARGE_PAGE | VMI_PTE_PRESENT |
		            VMI_PTE_WRITABLE | VMI_PTE_USER | VMI_PTE_LARGE | global_bit, VMI_PAGE_PD);
	paging_demand_faults = 0;
	vmi_set_cr4(vmi_get_cr4() | VMI_CR4_PSE | (global_bit ? VMI_CR4_PGE : 0));
	vmi_set_cr3(physical(kernel_directory));
	loaded_directory = physical(kernel_directory);
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

void paging_stop(void)
{
	paging_switch_to(physical(kernel_directory));
	vmi_set_cr0(vmi_get_cr0() & ~VMI_CR0_PG);
	vmi_flush_tlb(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL);
	vmi_release_page(physical(kernel_directory) >> 12, VMI_PAGE_PD);
}

uint32_t paging_new_address_space(unsigned slot)
{
	uint32_t *directory = directories[slot], *table = window_tables[slot];
	for (unsigned i = 0; i < 1024; i++)
		directory[i] = table[i] = 0;
	vmi_allocate_page(physical(table) >> 12, VMI_PAGE_PT | VMI_ALLOCATE_ZEROED, 0, 0, 0);
	vmi_allocate_page(physical(directory) >> 12, VMI_PAGE_PD | VMI_ALLOCATE_CLONE,
	                  physical(kernel_directory) >> 12, 0, kernel_entry_count);
	for (uint32_t i = 0; i < kernel_entry_count; i++)
		vmi_set_pxe(&directory[i], kernel_directory[i], VMI_PAGE_PD);
	vmi_set_pxe(&directory[PRIVATE_WINDOW >> 22], physical(table) | VMI_PTE_PRESENT |
	            VMI_PTE_WRITABLE | VMI_PTE_USER, VMI_PAGE_PD);
	return physical(directory);
}

static void unmap_window(unsigned slot, int current)
{
	uint32_t *table = window_tables[slot];
	for (unsigned page = 0; page < PRIVATE_WINDOW_PAGES; page++) {
		uint32_t entry = table[page];
		if (!(entry & VMI_PTE_PRESENT))
			continue;
		uint32_t linear = PRIVATE_WINDOW + page * PAGE;
		vmi_set_pxe(&table[page], 0, VMI_PAGE_PT |
		            (current ? VMI_PAGE_CURRENT_AS | linear : 0));
		if (current)
			vmi_inval_page(linear);   /* present to not present: the TLB must forget it */
		frame_used[((entry & VMI_PTE_FRAME_MASK) - physical(frames)) / PAGE] = 0;
	}
}

void paging_release(unsigned slot)
{
	unmap_window(slot, 0);   /* no longer anyone's current address space */
	vmi_release_page(physical(window_tables[slot]) >> 12, VMI_PAGE_PT);
	vmi_release_page(physical(directories[slot]) >> 12, VMI_PAGE_PD);
}

void paging_drop_private(unsigned slot)
{
	unmap_window(slot, 1);
}

int paging_demand_fault(const struct trapframe *frame, unsigned slot)
{
	uint32_t address = vmi_get_cr2();
	if (frame->vector != 14 || (frame->error_code & VMI_PF_PRESENT) ||
	    address < PRIVATE_WINDOW || address >= PRIVATE_WINDOW + PRIVATE_WINDOW_PAGES * PAGE)
		return 0;
	unsigned index = 0;
	while (index < FRAME_POOL && frame_used[index])
		index++;
	if (index == FRAME_POOL)
		return 0;   /* out of frames: the fault ends the process */
	frame_used[index] = 1;
	memset(frames[index], 0, PAGE);
	uint32_t linear = address & ~(PAGE - 1);
	vmi_set_pxe(&window_tables[slot][(linear - PRIVATE_WINDOW) / PAGE],
	            physical(frames[index]) | VMI_PTE_PRESENT | VMI_PTE_WRITABLE | VMI_PTE_USER |
	            VMI_PTE_ACCESSED | VMI_PTE_DIRTY,   /* about to be written: vmirun maps it now */
	            VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | linear);
	paging_demand_faults++;
	return 1;   /* not present before: no flush needed */
}
