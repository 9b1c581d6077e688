/* Unit tests for the guest's TLB on the process platform (vmm/monitor/mmu.c) and the MMU
 * calls (mmu_calls.c): which host mappings a guest fault makes, with what permission, which
 * faults go back to the guest with which error code, and what each flush drops. Guest
 * memory is lent (address_space_use_memory); the host mapping calls are recorded instead of
 * made (linked with --wrap, see tests/tests.mk). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/calls.h>
#include <vmi/mmu.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include "platform/process/address_space.h"
#include "monitor/mmu.h"
#include "monitor/mmu_calls.h"
#include "monitor/virtual_cpu.h"

#define RAM_BYTES   (32u << 20)
#define ROM_BYTES   0x4000u
#define DIRECTORY   0x00200000u
#define TABLE       0x00201000u
#define FRAME       0x00345000u
#define LINEAR      0x40001234u            /* directory entry 256, table entry 1 */
#define LARGE_FRAME 0x00800000u
#define LARGE_LINEAR 0x80000000u
#define RW          (VMI_PTE_PRESENT | VMI_PTE_WRITABLE)
#define HOST_WRITE  VMI_PF_WRITE
#define HOST_WRITE_TO_READ_ONLY (VMI_PF_PRESENT | VMI_PF_WRITE)
#define ALL_LINEAR  (VMI_PROCESS_WINDOW_BASE - VMI_PROCESS_LOW_RAM_BASE)

/* What the MMU asked the host to do. */
struct host_call { int map; uint32_t linear, physical, size; int writable; };
static struct host_call calls[16];
static unsigned call_count;

int __wrap_platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size,
                                    int writable);
int __wrap_platform_unmap_linear(uint32_t linear, uint32_t size);

int __wrap_platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size,
                                    int writable)
{
	if (call_count < 16)
		calls[call_count] = (struct host_call){ 1, linear, physical, size, writable };
	call_count++;
	return 0;
}

int __wrap_platform_unmap_linear(uint32_t linear, uint32_t size)
{
	if (call_count < 16)
		calls[call_count] = (struct host_call){ 0, linear, 0, size, 0 };
	call_count++;
	return 0;
}

/* The platform's address spaces, as the tests set them: how many, the one whose mappings
 * the calls above reach (this "process"), the last one the MMU switched to. */
static unsigned address_spaces = 1, mapping_space;
static int switched_to = -1;

unsigned __wrap_platform_address_space_count(void);
unsigned __wrap_platform_mapping_address_space(void);
int __wrap_platform_switch_address_space(unsigned id);

unsigned __wrap_platform_address_space_count(void) { return address_spaces; }
unsigned __wrap_platform_mapping_address_space(void) { return mapping_space; }
int __wrap_platform_switch_address_space(unsigned id)
{
	switched_to = (int)id;
	return 0;
}

static uint8_t *memory;
static char reason[MMU_REASON_MAX];

static uint32_t *word(uint32_t physical) { return (uint32_t *)(memory + physical); }
static uint32_t *directory_entry(uint32_t linear) { return word(DIRECTORY + (linear >> 22) * 4); }
static uint32_t *table_entry(uint32_t linear)
{
	return word(TABLE + ((linear >> 12) & 0x3FF) * 4);
}

static void expect_calls(unsigned count)
{
	cr_assert_eq(call_count, count, "%u host calls, expected %u", call_count, count);
}

static void expect_map(unsigned i, uint32_t linear, uint32_t physical, uint32_t size,
                       int writable)
{
	cr_assert(calls[i].map, "call %u is not a map", i);
	cr_assert_eq(calls[i].linear, linear, "mapped at 0x%x", calls[i].linear);
	cr_assert_eq(calls[i].physical, physical, "mapped 0x%x", calls[i].physical);
	cr_assert_eq(calls[i].size, size, "mapped 0x%x bytes", calls[i].size);
	cr_assert_eq(calls[i].writable, writable, "writable %d", calls[i].writable);
}

static void expect_unmap(unsigned i, uint32_t linear, uint32_t size)
{
	cr_assert(!calls[i].map, "call %u is not an unmap", i);
	cr_assert_eq(calls[i].linear, linear, "unmapped at 0x%x", calls[i].linear);
	cr_assert_eq(calls[i].size, size, "unmapped 0x%x bytes", calls[i].size);
}

static void turn_paging_on(uint32_t cr4)
{
	uint32_t old_cr0 = virtual_cpu.cr0, old_cr4 = virtual_cpu.cr4;
	virtual_cpu.cr3 = DIRECTORY;
	virtual_cpu.cr4 = cr4;
	virtual_cpu.cr0 |= VMI_CR0_PG | VMI_CR0_WP;
	mmu_control_registers_written(old_cr0, old_cr4);
	call_count = 0;
}

static void setup(void)
{
	memory = calloc(1, VMI_PROCESS_RAM_BASE + RAM_BYTES);
	cr_assert_not_null(memory);
	address_space_use_memory(memory, RAM_BYTES, ROM_BYTES);
	address_spaces = 1;
	mapping_space = 0;
	switched_to = -1;
	virtual_cpu_reset_state();
	*directory_entry(LINEAR) = TABLE | RW;
	*table_entry(LINEAR) = FRAME | RW;
	call_count = 0;
}

static void teardown(void)
{
	mmu_compare_tables_at_switch(0);
	free(memory);
}

TestSuite(mmu, .init = setup, .fini = teardown);

Test(mmu, before_paging_a_host_fault_is_no_tlb_miss_and_flushes_do_nothing)
{
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(FRAME, HOST_WRITE, 0, &error, reason), MMU_NOT_PAGING);
	mmu_flush(0);
	mmu_flush(1);
	mmu_invalidate(FRAME);
	mmu_cr3_loaded();
	expect_calls(0);
	uint32_t physical;
	cr_assert_eq(mmu_translate(LINEAR, 1, &physical), 0);
	cr_assert_eq(physical, LINEAR, "identity before paging");
}

Test(mmu, turning_paging_on_drops_every_mapping_of_the_guest)
{
	virtual_cpu.cr3 = DIRECTORY;
	uint32_t old_cr0 = virtual_cpu.cr0;
	virtual_cpu.cr0 |= VMI_CR0_PG;
	mmu_control_registers_written(old_cr0, virtual_cpu.cr4);
	expect_calls(1);
	expect_unmap(0, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
	cr_assert(mmu_paging());
}

Test(mmu, a_read_maps_the_frame_read_only_until_the_first_write_sets_dirty)
{
	turn_paging_on(0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	expect_calls(1);
	expect_map(0, LINEAR & ~0xFFFu, FRAME, 0x1000, 0);
	cr_assert(*table_entry(LINEAR) & VMI_PTE_ACCESSED, "A set");
	cr_assert(*directory_entry(LINEAR) & VMI_PTE_ACCESSED, "A set in the directory");
	cr_assert_not(*table_entry(LINEAR) & VMI_PTE_DIRTY, "a read leaves D clear");

	cr_assert_eq(mmu_host_fault(LINEAR, HOST_WRITE_TO_READ_ONLY, 0, &error, reason),
	             MMU_FILLED, "%s", reason);
	expect_calls(2);
	expect_map(1, LINEAR & ~0xFFFu, FRAME, 0x1000, 1);
	cr_assert(*table_entry(LINEAR) & VMI_PTE_DIRTY, "the write set D");
}

Test(mmu, a_dirty_entry_is_mapped_writable_at_once)
{
	*table_entry(LINEAR) |= VMI_PTE_DIRTY;
	turn_paging_on(0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	expect_map(0, LINEAR & ~0xFFFu, FRAME, 0x1000, 1);
}

Test(mmu, what_the_tables_refuse_is_a_guest_page_fault_with_the_hardware_error_code)
{
	turn_paging_on(0);
	uint32_t error = 0;
	*table_entry(LINEAR) = FRAME | VMI_PTE_PRESENT;           /* read-only, supervisor */
	cr_assert_eq(mmu_host_fault(LINEAR, HOST_WRITE, 0, &error, reason), MMU_GUEST_FAULT);
	cr_assert_eq(error, VMI_PF_PRESENT | VMI_PF_WRITE, "error code 0x%x", error);
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 1, &error, reason), MMU_GUEST_FAULT);
	cr_assert_eq(error, VMI_PF_PRESENT | VMI_PF_USER, "error code 0x%x", error);
	*table_entry(LINEAR) = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, HOST_WRITE, 1, &error, reason), MMU_GUEST_FAULT);
	cr_assert_eq(error, VMI_PF_WRITE | VMI_PF_USER, "error code 0x%x", error);
	expect_calls(0);
	uint32_t physical;
	cr_assert_eq(mmu_translate(LINEAR, 0, &physical), -1, "the monitor is refused too");
}

Test(mmu, the_monitor_translates_through_the_tables_and_sets_a_and_d)
{
	turn_paging_on(0);
	uint32_t physical;
	cr_assert_eq(mmu_translate(LINEAR, 1, &physical), 0);
	cr_assert_eq(physical, FRAME | (LINEAR & 0xFFF), "0x%x", physical);
	cr_assert_eq(*table_entry(LINEAR) & (VMI_PTE_ACCESSED | VMI_PTE_DIRTY),
	             VMI_PTE_ACCESSED | VMI_PTE_DIRTY);
	expect_calls(0);
}

Test(mmu, a_large_page_of_ram_is_one_mapping_and_invlpg_drops_all_of_it)
{
	*directory_entry(LARGE_LINEAR) = LARGE_FRAME | RW | VMI_PTE_LARGE | VMI_PTE_DIRTY;
	turn_paging_on(VMI_CR4_PSE);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LARGE_LINEAR + 0x12345, 0, 0, &error, reason), MMU_FILLED,
	             "%s", reason);
	expect_map(0, LARGE_LINEAR, LARGE_FRAME, 0x400000, 1);
	mmu_invalidate(LARGE_LINEAR + 0x300000);
	expect_unmap(1, LARGE_LINEAR, 0x400000);
	mmu_invalidate(LINEAR);
	expect_unmap(2, LINEAR & ~0xFFFu, 0x1000);
	expect_calls(3);
}

/* Not all memory, so not one mapping: the piece around a fault that is one kind of memory
 * (one mapping for it, as the CPU's one TLB entry), the ROM read-only, the holes refused. */
Test(mmu, the_first_large_page_is_mapped_in_pieces_its_rom_read_only_its_holes_not)
{
	*directory_entry(0) = 0 | RW | VMI_PTE_LARGE | VMI_PTE_DIRTY;
	turn_paging_on(VMI_CR4_PSE);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(VMI_ROM_BASE + 0x20, 0, 0, &error, reason), MMU_FILLED,
	             "%s", reason);
	/* the ROM area (the ROM and the zeros after it to 1 MiB, as a PC's other ROMs), whole */
	expect_map(0, VMI_ROM_BASE, VMI_ROM_BASE, 0x100000 - VMI_ROM_BASE, 0);
	cr_assert_eq(mmu_host_fault(VMI_ROM_BASE + 0x20, HOST_WRITE_TO_READ_ONLY, 0, &error,
	                            reason), MMU_UNSUPPORTED);
	cr_assert(strstr(reason, "writes its ROM"), "%s", reason);
	cr_assert_eq(mmu_host_fault(0x2000, 0, 0, &error, reason), MMU_UNSUPPORTED);
	cr_assert(strstr(reason, "cannot map"), "%s", reason);
	cr_assert_eq(mmu_host_fault(0xA0000, 0, 0, &error, reason), MMU_UNSUPPORTED);
	cr_assert(strstr(reason, "no memory"), "%s", reason);
	expect_calls(1);
	/* RAM from 1 MiB to the end of the large page: one mapping, from a fault inside */
	cr_assert_eq(mmu_host_fault(0x234567, HOST_WRITE, 0, &error, reason), MMU_FILLED, "%s",
	             reason);
	expect_map(1, 0x100000, 0x100000, 0x300000, 1);
	/* physical page 0 (the BIOS data area on a PC) is memory, at any linear address */
	*table_entry(LINEAR) = 0 | RW;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	expect_map(2, LINEAR & ~0xFFFu, 0, 0x1000, 0);
}

Test(mmu, tables_outside_guest_memory_stop_the_guest_with_the_reason)
{
	*directory_entry(LINEAR) = 0xF0000000u | RW;
	turn_paging_on(0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_UNSUPPORTED);
	cr_assert(strstr(reason, "lie outside its memory"), "%s", reason);
}

Test(mmu, cr3_loads_and_flushes_drop_everything_and_paging_off_maps_the_identity_again)
{
	turn_paging_on(VMI_CR4_PGE);
	mmu_cr3_loaded();   /* no global page mapped: everything goes */
	mmu_flush(1);
	expect_calls(2);
	expect_unmap(0, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
	expect_unmap(1, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
	uint32_t old_cr0 = virtual_cpu.cr0;
	virtual_cpu.cr0 &= ~VMI_CR0_PG;
	mmu_control_registers_written(old_cr0, virtual_cpu.cr4);
	expect_unmap(2, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(FRAME + 8, HOST_WRITE, 0, &error, reason), MMU_FILLED);
	expect_map(3, FRAME, FRAME, 0x1000, 1);
	cr_assert_eq(mmu_host_fault(0xF0000000u, 0, 0, &error, reason), MMU_NOT_PAGING,
	             "not guest memory: the fault is the guest's, as before paging");
}

Test(mmu, set_pxe_writes_the_entry_and_drops_a_present_mapping_it_names)
{
	turn_paging_on(0);
	/* the tables are reached through the guest's own mapping: identity here */
	*directory_entry(DIRECTORY) = (DIRECTORY & VMI_PDE_LARGE_FRAME_MASK) | RW | VMI_PTE_LARGE;
	virtual_cpu.cr4 |= VMI_CR4_PSE;
	uint32_t entry = TABLE + ((LINEAR >> 12) & 0x3FF) * 4;
	cr_assert_eq(mmu_call_set_pxe((FRAME + 0x1000) | RW, entry,
	                              VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | (LINEAR & ~0xFFFu)), 0);
	cr_assert_eq(*table_entry(LINEAR), (FRAME + 0x1000) | RW);
	expect_calls(1);
	expect_unmap(0, LINEAR & ~0xFFFu, 0x1000);
	/* deferred, or without the linear address: the guest's InvalPage will come */
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW, entry, VMI_PAGE_PT | VMI_PAGE_CURRENT_AS |
	                              VMI_PAGE_DEFER | (LINEAR & ~0xFFFu)), 0);
	cr_assert_eq(mmu_call_set_pxe((FRAME + 0x2000) | RW, entry, VMI_PAGE_PT), 0);
	expect_calls(1);
	cr_assert_eq(mmu_call_get_pxe(entry), (FRAME + 0x2000) | RW);
	cr_assert_eq(mmu_call_swap_pxe(FRAME | RW, entry), (FRAME + 0x2000) | RW);
	cr_assert_eq(mmu_call_test_and_change_bit(VMI_PTE_DIRTY_BIT, entry, 1), 0);
	cr_assert_eq(mmu_call_test_and_change_bit(VMI_PTE_DIRTY_BIT, entry, 0), 1);
	cr_assert_eq(*table_entry(LINEAR), FRAME | RW);
}

Test(mmu, the_calls_refuse_what_vmirun_cannot_honour)
{
	uint32_t entry = TABLE + 8;   /* an entry still zero */
	cr_assert_eq(mmu_call_set_pxe(0xF0000000u | RW, entry, VMI_PAGE_PT), VMI_ERROR_INVALID,
	             "a frame outside guest memory");
	cr_assert_eq(mmu_call_set_pxe(VMI_PROCESS_RAM_BASE + RAM_BYTES, entry, VMI_PAGE_PT),
	             0, "not present: anything goes");
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW, entry, VMI_PAGE_PT | VMI_PAGE_PD),
	             VMI_ERROR_INVALID, "two levels at once");
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW, entry, VMI_PAGE_PT | VMI_PAGE_CURRENT_AS |
	                              VMI_PROCESS_WINDOW_BASE), VMI_ERROR_INVALID,
	             "a mapping over vmirun's window");
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW, entry + 1, VMI_PAGE_PT), VMI_ERROR_INVALID,
	             "a misaligned entry");
	cr_assert_eq(*word(entry), VMI_PROCESS_RAM_BASE + RAM_BYTES);
	/* a 4 MiB page over the first 4 MiB, holes and all, as kernels map it */
	cr_assert_eq(mmu_call_set_pxe(RW | VMI_PTE_LARGE, entry, VMI_PAGE_PD), 0);
	cr_assert_eq(mmu_call_allocate_page(0xF0000, VMI_PAGE_PT, 0, 0, 0), VMI_ERROR_INVALID);
	cr_assert_eq(mmu_call_allocate_page(TABLE >> 12, VMI_PAGE_PT | VMI_ALLOCATE_CLONE,
	                                    DIRECTORY >> 12, 768, 257), VMI_ERROR_INVALID);
	cr_assert_eq(mmu_call_allocate_page(TABLE >> 12, VMI_PAGE_PD | VMI_ALLOCATE_CLONE,
	                                    DIRECTORY >> 12, 768, 256), 0);
	cr_assert_eq(mmu_call_flush_tlb(0), VMI_ERROR_INVALID);
	cr_assert_eq(mmu_call_set_linear_mapping(4, 0, 1, 0), VMI_ERROR_INVALID);
	cr_assert_eq(mmu_call_set_linear_mapping(0, 0xFFFF0000u, 1, 0), VMI_ERROR_INVALID);
	cr_assert_eq(mmu_call_set_linear_mapping(0, 0xC0000000u, 0x4000, 0), 0);
	expect_calls(0);
}

Test(mmu, a_cr3_load_drops_just_the_ordinary_mappings_and_keeps_the_global_ones)
{
	*directory_entry(LARGE_LINEAR) = LARGE_FRAME | RW | VMI_PTE_LARGE | VMI_PTE_DIRTY |
	                                 VMI_PTE_GLOBAL;
	turn_paging_on(VMI_CR4_PSE | VMI_CR4_PGE);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LARGE_LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	expect_calls(2);
	mmu_cr3_loaded();
	/* the one ordinary page, in one unmap; the global 4 MiB page stays */
	expect_calls(3);
	expect_unmap(2, LINEAR & ~0xFFFu, 0x1000);
	mmu_cr3_loaded();
	mmu_flush(0);       /* FlushTLB without GLOBAL: the same, and nothing is left to drop */
	expect_calls(3);
	/* invlpg of the global page drops it, and it is no longer kept */
	mmu_invalidate(LARGE_LINEAR + 0x1000);
	expect_unmap(3, LARGE_LINEAR, 0x400000);
	mmu_cr3_loaded();
	expect_calls(5);
	expect_unmap(4, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
	/* and FlushTLB with GLOBAL drops a global page too */
	cr_assert_eq(mmu_host_fault(LARGE_LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	mmu_flush(1);
	expect_calls(7);
	expect_unmap(6, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
}

Test(mmu, without_cr4_pge_the_global_bit_keeps_nothing)
{
	*directory_entry(LARGE_LINEAR) = LARGE_FRAME | RW | VMI_PTE_LARGE | VMI_PTE_GLOBAL;
	turn_paging_on(VMI_CR4_PSE);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LARGE_LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	mmu_cr3_loaded();
	expect_calls(2);
	expect_unmap(1, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
}

Test(mmu, past_64_ordinary_ranges_a_cr3_load_drops_the_gaps_between_global_ones)
{
	*directory_entry(LINEAR) = TABLE | RW;
	for (unsigned i = 0; i < 3; i++)   /* three adjacent global pages */
		*table_entry(LINEAR + i * 0x1000) = (FRAME + i * 0x1000) | RW | VMI_PTE_GLOBAL;
	for (unsigned i = 0; i < 65; i++)  /* and 65 ordinary ones, apart */
		*table_entry(LINEAR + (10 + 2 * i) * 0x1000) = FRAME | RW;
	turn_paging_on(VMI_CR4_PGE);
	uint32_t error = 0;
	/* the global ones out of order: the middle page last */
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	cr_assert_eq(mmu_host_fault(LINEAR + 0x2000, 0, 0, &error, reason), MMU_FILLED);
	cr_assert_eq(mmu_host_fault(LINEAR + 0x1000, 0, 0, &error, reason), MMU_FILLED);
	for (unsigned i = 0; i < 65; i++)
		cr_assert_eq(mmu_host_fault(LINEAR + (10 + 2 * i) * 0x1000, 0, 0, &error, reason),
		             MMU_FILLED);
	call_count = 0;
	mmu_cr3_loaded();
	expect_calls(2);
	uint32_t first = LINEAR & ~0xFFFu;
	expect_unmap(0, VMI_PROCESS_LOW_RAM_BASE, first - VMI_PROCESS_LOW_RAM_BASE);
	expect_unmap(1, first + 0x3000, VMI_PROCESS_WINDOW_BASE - first - 0x3000);
	/* with the ordinary ones forgotten, the next load drops nothing */
	mmu_cr3_loaded();
	expect_calls(2);
}

Test(mmu, set_pxe_of_an_entry_about_to_be_used_maps_it_at_once_as_the_fault_would)
{
	turn_paging_on(0);
	/* the tables, identity */
	*directory_entry(DIRECTORY) = (DIRECTORY & VMI_PDE_LARGE_FRAME_MASK) | RW | VMI_PTE_LARGE;
	virtual_cpu.cr4 |= VMI_CR4_PSE;
	uint32_t entry = TABLE + ((LINEAR >> 12) & 0x3FF) * 4, page = LINEAR & ~0xFFFu;
	*table_entry(LINEAR) = 0;
	uint32_t flags = VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | page;
	/* present, not accessed: nothing to do until the guest touches it */
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW, entry, flags), 0);
	expect_calls(0);
	*table_entry(LINEAR) = 0;
	/* accessed, not dirty: mapped, read-only (a write will set D) */
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW | VMI_PTE_ACCESSED, entry, flags), 0);
	expect_calls(1);
	expect_map(0, page, FRAME, 0x1000, 0);
	*table_entry(LINEAR) = 0;
	/* accessed and dirty: mapped writable; deferred: not yet */
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW | VMI_PTE_ACCESSED | VMI_PTE_DIRTY, entry, flags),
	             0);
	expect_calls(2);
	expect_map(1, page, FRAME, 0x1000, 1);
	*table_entry(LINEAR) = 0;
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW | VMI_PTE_ACCESSED, entry,
	                              flags | VMI_PAGE_DEFER), 0);
	expect_calls(2);
}

Test(mmu, invlpg_in_a_large_page_mapped_in_pieces_drops_all_of_it_where_it_can_be_mapped)
{
	/* The first 4 MiB are not all RAM (holes, the ROM): mapped page by page, yet one TLB
	 * entry on hardware, which invlpg anywhere in it drops whole. */
	*directory_entry(0) = 0 | RW | VMI_PTE_LARGE | VMI_PTE_DIRTY;
	turn_paging_on(VMI_CR4_PSE);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(0x200000, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	cr_assert_eq(mmu_host_fault(0x300000, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	mmu_invalidate(0x200000);
	expect_calls(3);
	expect_unmap(2, VMI_PROCESS_LOW_RAM_BASE, 0x400000 - VMI_PROCESS_LOW_RAM_BASE);
}

/* SetPxE naming the page drops its mapping at once; the InvalPage a kernel issues after it
 * (the native ROM needs it) finds nothing to drop: one host unmap, not two. Once the page is
 * mapped again, InvalPage unmaps again. */
Test(mmu, a_page_setpxe_dropped_is_not_unmapped_again_by_the_invalpage_after_it)
{
	*directory_entry(TABLE) = (TABLE & VMI_PDE_LARGE_FRAME_MASK) | RW | VMI_PTE_LARGE;
	turn_paging_on(VMI_CR4_PSE);
	uint32_t error = 0, entry = TABLE + ((LINEAR >> 12) & 0x3FF) * 4;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	call_count = 0;
	cr_assert_eq(mmu_call_set_pxe(0, entry, VMI_PAGE_PT | VMI_PAGE_CURRENT_AS |
	                              (LINEAR & ~0xFFFu)), 0);
	expect_calls(1);
	expect_unmap(0, LINEAR & ~0xFFFu, 0x1000);
	cr_assert_eq(mmu_call_inval_page(LINEAR), 0);
	expect_calls(1);
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW, entry, VMI_PAGE_PT), 0);
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	cr_assert_eq(mmu_call_inval_page(LINEAR), 0);
	expect_calls(3);
	expect_unmap(2, LINEAR & ~0xFFFu, 0x1000);
}

/* Two address spaces: DIRECTORY and a second directory that maps LINEAR through the same
 * page table (as kernels share the tables of their kernel half). */
#define DIRECTORY_2 0x00202000u
static void two_address_spaces(void)
{
	address_spaces = 2;
	*word(DIRECTORY_2 + (LINEAR >> 22) * 4) = TABLE | RW;
	turn_paging_on(0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	call_count = 0;
}

static void load_cr3(uint32_t directory)
{
	virtual_cpu.cr3 = directory;
	mmu_cr3_loaded();
}

/* The CR3 load of `directory`, then address space `id` running it (as its process would). */
static void run_in(unsigned id, uint32_t directory)
{
	load_cr3(directory);
	mapping_space = id;
	monitor_address_space_entered(id);
}

/* Running in the second address space, with the tables' frames identity-mapped in both (for
 * the page-table calls, which name entries by linear address). */
static void in_the_second_with_the_tables_mapped(void)
{
	two_address_spaces();
	run_in(1, DIRECTORY_2);
	call_count = 0;
	uint32_t identity = (TABLE & VMI_PDE_LARGE_FRAME_MASK) | RW | VMI_PTE_LARGE;
	*directory_entry(TABLE) = identity;
	*word(DIRECTORY_2 + (TABLE >> 22) * 4) = identity;
	virtual_cpu.cr4 |= VMI_CR4_PSE;
}

Test(mmu, a_cr3_load_of_another_directory_switches_address_space_and_keeps_the_mappings)
{
	two_address_spaces();
	load_cr3(DIRECTORY_2);
	cr_assert_eq(switched_to, 1, "switched to %d", switched_to);
	expect_calls(0);   /* the first address space's mappings stay, for its return */
	mapping_space = 1;
	monitor_address_space_entered(1);
	expect_calls(1);   /* a new one starts empty */
	expect_unmap(0, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
	load_cr3(DIRECTORY);
	cr_assert_eq(switched_to, 0);
	mapping_space = 0;
	monitor_address_space_entered(0);
	expect_calls(1);   /* back: nothing to drop, nothing to refill */
}

Test(mmu, an_entry_changed_while_its_address_space_is_away_is_dropped_when_it_returns)
{
	in_the_second_with_the_tables_mapped();
	/* through the shared table, without naming the address space: hardware would refill
	 * the first one's TLB at its CR3 load, so vmirun drops its stale page then */
	uint32_t entry = TABLE + ((LINEAR >> 12) & 0x3FF) * 4;
	cr_assert_eq(mmu_call_set_pxe(0, entry, VMI_PAGE_PT), 0);
	unsigned before_return = call_count;
	run_in(0, DIRECTORY);
	cr_assert_eq(call_count, before_return + 1, "one unmap at the return");
	expect_unmap(before_return, LINEAR & ~0xFFFu, 0x1000);
}

/* The index from a page table to the slots mapped through it: a table under two slots, and
 * another table in the same bucket of the index (4 MiB further on), under a third. */
#define COLLIDING_TABLE (TABLE + 0x400000u)
#define FRAME_2         (FRAME + 0x1000u)
#define SLOT_BYTES      0x400000u

static uint32_t entry_of(uint32_t table) { return table + ((LINEAR >> 12) & 0x3FF) * 4; }

/* The unmaps since `from`, as a bit per slot after LINEAR's (0, 1, 2) of its page. */
static unsigned slots_dropped(unsigned from)
{
	unsigned slots = 0;
	for (unsigned i = from; i < call_count; i++) {
		cr_assert(!calls[i].map && calls[i].size == 0x1000, "call %u: not a page unmap", i);
		uint32_t slot = (calls[i].linear - (LINEAR & ~0xFFFu)) / SLOT_BYTES;
		cr_assert(slot < 3 && calls[i].linear == (LINEAR & ~0xFFFu) + slot * SLOT_BYTES,
		          "unmapped 0x%x", calls[i].linear);
		slots |= 1u << slot;
	}
	return slots;
}

/* Changes the entry for LINEAR's page in `table` (away in the second address space), then
 * returns to the first: the slots whose page was dropped. */
static unsigned change_away(uint32_t table, uint32_t value)
{
	load_cr3(DIRECTORY_2);
	mapping_space = 1;
	monitor_address_space_entered(1);
	cr_assert_eq(mmu_call_set_pxe(value, entry_of(table), VMI_PAGE_PT), 0);
	unsigned before_return = call_count;
	run_in(0, DIRECTORY);
	return slots_dropped(before_return);
}

static void fault_in_slot(unsigned slot)
{
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LINEAR + slot * SLOT_BYTES, 0, 0, &error, reason), MMU_FILLED,
	             "%s", reason);
}

/* A broken index can loop for ever: a time limit makes that a failure. */
Test(mmu, a_change_drops_the_page_in_every_slot_mapped_through_its_table_and_in_no_other,
     .timeout = 10.0)
{
	uint32_t slot = LINEAR >> 22;
	*word(DIRECTORY + (slot + 1) * 4) = TABLE | RW;
	*word(DIRECTORY + (slot + 2) * 4) = COLLIDING_TABLE | RW;
	*word(entry_of(COLLIDING_TABLE)) = FRAME | RW;
	in_the_second_with_the_tables_mapped();
	*word(DIRECTORY + (COLLIDING_TABLE >> 22) * 4) = (COLLIDING_TABLE & VMI_PDE_LARGE_FRAME_MASK) |
	                                                 RW | VMI_PTE_LARGE;
	*word(DIRECTORY_2 + (COLLIDING_TABLE >> 22) * 4) = *word(DIRECTORY +
	                                                         (COLLIDING_TABLE >> 22) * 4);
	run_in(0, DIRECTORY);
	fault_in_slot(1);
	fault_in_slot(2);

	cr_assert_eq(change_away(TABLE, FRAME_2 | RW), 0x3, "the table's two slots, not the third");
	cr_assert_eq(change_away(COLLIDING_TABLE, FRAME_2 | RW), 0x4, "the third slot alone");

	/* The second slot now maps through the colliding table: in its bucket once, out of the
	 * first table's. */
	*word(DIRECTORY + (slot + 1) * 4) = COLLIDING_TABLE | RW;
	mmu_invalidate(LINEAR + SLOT_BYTES);
	fault_in_slot(0);
	fault_in_slot(1);
	fault_in_slot(2);
	cr_assert_eq(change_away(TABLE, FRAME | RW), 0x1, "the first slot alone");
	cr_assert_eq(change_away(COLLIDING_TABLE, FRAME | RW), 0x6, "the second and third slots");
}

/* A CPU keeps its global TLB entries across a CR3 load: a new address space maps the global
 * pages the last one had at its first entry (through its own directory), not one host fault
 * each, and nothing else. */
Test(mmu, a_new_address_space_starts_with_the_global_pages_of_the_last_one)
{
	uint32_t other = LINEAR + 0x10000;   /* outside LINEAR's block of fault-around */
	*table_entry(LINEAR) = FRAME | RW | VMI_PTE_GLOBAL | VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	*table_entry(other) = FRAME_2 | RW | VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	/* global in the first directory, but not in the second one's table for it */
	uint32_t elsewhere = LINEAR + 0x400000, table_1 = TABLE + 0x10000,
	         table_2 = TABLE + 0x11000;
	*directory_entry(elsewhere) = table_1 | RW;
	*word(table_1 + ((elsewhere >> 12) & 0x3FF) * 4) = FRAME | RW | VMI_PTE_GLOBAL |
	                                                   VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	*word(DIRECTORY_2 + (elsewhere >> 22) * 4) = table_2 | RW;
	*word(table_2 + ((elsewhere >> 12) & 0x3FF) * 4) = FRAME | RW | VMI_PTE_ACCESSED |
	                                                   VMI_PTE_DIRTY;
	address_spaces = 2;
	*word(DIRECTORY_2 + (LINEAR >> 22) * 4) = TABLE | RW;
	turn_paging_on(VMI_CR4_PGE);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	cr_assert_eq(mmu_host_fault(other, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	cr_assert_eq(mmu_host_fault(elsewhere, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	call_count = 0;
	run_in(1, DIRECTORY_2);
	expect_calls(2);
	expect_unmap(0, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);   /* a new one starts empty */
	expect_map(1, LINEAR & ~0xFFFu, FRAME, 0x1000, 1);         /* but for the global page */
	call_count = 0;
	run_in(1, DIRECTORY_2);   /* reloaded: nothing carried again, the global page stays */
	expect_calls(0);
}

Test(mmu, an_entry_that_only_gains_a_or_d_drops_nothing)
{
	in_the_second_with_the_tables_mapped();
	uint32_t entry = TABLE + ((LINEAR >> 12) & 0x3FF) * 4;
	cr_assert_eq(mmu_call_test_and_change_bit(6, entry, 1), 0);   /* D */
	run_in(0, DIRECTORY);
	expect_calls(0);
}

Test(mmu, a_third_directory_takes_the_least_recently_used_address_space_emptied)
{
	two_address_spaces();
	load_cr3(DIRECTORY_2);                   /* address space 1 */
	load_cr3(DIRECTORY);                     /* back to 0: 1 is the least recent */
	mapping_space = 0;
	switched_to = -1;
	load_cr3(0x00203000u);
	cr_assert_eq(switched_to, 1, "the third took address space %d", switched_to);
	mapping_space = 1;
	call_count = 0;
	monitor_address_space_entered(1);
	expect_calls(1);
	expect_unmap(0, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
	load_cr3(DIRECTORY_2);                   /* evicted: it must take one again */
	cr_assert_eq(switched_to, 0);
}

Test(mmu, the_same_directory_loaded_again_flushes_as_the_tlb_does)
{
	two_address_spaces();
	load_cr3(DIRECTORY);
	cr_assert_eq(switched_to, -1, "no switch");
	expect_calls(1);
	expect_unmap(0, VMI_PROCESS_LOW_RAM_BASE, ALL_LINEAR);
}

/* --- tables written with plain stores (trap-and-emulate): compared at the return ---- */

/* The first address space mapped LINEAR through TABLE, then ran the second: what a store
 * to its tables meanwhile does when it runs again. */
static void away_with_plain_stores(void)
{
	mmu_compare_tables_at_switch(1);
	two_address_spaces();
	run_in(1, DIRECTORY_2);
	call_count = 0;
}

Test(mmu, without_the_calls_a_table_entry_stored_while_away_is_dropped_at_the_return)
{
	away_with_plain_stores();
	*table_entry(LINEAR) = (FRAME + 0x1000) | RW;           /* another frame */
	run_in(0, DIRECTORY);
	expect_calls(1);
	expect_unmap(0, LINEAR & ~0xFFFu, 0x1000);
	run_in(1, DIRECTORY_2);
	run_in(0, DIRECTORY);
	expect_calls(1);                                         /* once only */
}

Test(mmu, without_the_calls_a_directory_entry_stored_while_away_drops_its_4_mib)
{
	away_with_plain_stores();
	*directory_entry(LINEAR) = 0;
	run_in(0, DIRECTORY);
	expect_calls(1);
	expect_unmap(0, LINEAR & 0xFFC00000u, 0x400000);
}

Test(mmu, without_the_calls_a_or_d_set_while_away_drops_nothing)
{
	away_with_plain_stores();
	*table_entry(LINEAR) |= VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	*directory_entry(LINEAR) |= VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	run_in(0, DIRECTORY);
	expect_calls(0);
}

/* --- fault-around ----------------------------------------------------------------------- */

#define RUN_FRAMES 0x00340000u   /* page table entry i maps RUN_FRAMES + i pages */
#define RUN_BASE   (LINEAR & 0xFFC00000u)
#define ACCESSED_RW (RW | VMI_PTE_ACCESSED | VMI_PTE_DIRTY)

static void entries_in_order(unsigned first, unsigned count, uint32_t flags)
{
	for (unsigned i = first; i < first + count; i++)
		*word(TABLE + i * 4) = (RUN_FRAMES + i * 0x1000) | flags;
}

Test(mmu, a_fault_maps_its_accessed_neighbours_in_the_same_block_in_one_call)
{
	entries_in_order(0, 40, ACCESSED_RW);
	turn_paging_on(0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(RUN_BASE + 0x5123, 0, 0, &error, reason), MMU_FILLED, "%s",
	             reason);
	expect_calls(1);
	expect_map(0, RUN_BASE, RUN_FRAMES, 16 * 0x1000, 1);   /* the aligned 16 pages */
}

Test(mmu, fault_around_stops_at_a_neighbour_unaccessed_elsewhere_or_of_another_kind)
{
	entries_in_order(0, 16, ACCESSED_RW);
	*word(TABLE + 1 * 4) &= ~VMI_PTE_DIRTY;                 /* read-only until written */
	*word(TABLE + 6 * 4) &= ~VMI_PTE_ACCESSED;              /* its walk would set A */
	*word(TABLE + 9 * 4) += 0x1000;                         /* not the next frame */
	*word(TABLE + 12 * 4) |= VMI_PTE_USER;                  /* user's, not the kernel's */
	*directory_entry(LINEAR) |= VMI_PTE_USER;
	turn_paging_on(0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(RUN_BASE + 0x3000, 0, 0, &error, reason), MMU_FILLED);
	cr_assert_eq(mmu_host_fault(RUN_BASE + 0x7000, 0, 0, &error, reason), MMU_FILLED);
	cr_assert_eq(mmu_host_fault(RUN_BASE + 0xA000, 0, 0, &error, reason), MMU_FILLED);
	expect_calls(3);
	expect_map(0, RUN_BASE + 0x2000, RUN_FRAMES + 0x2000, 4 * 0x1000, 1);   /* 2-5 */
	expect_map(1, RUN_BASE + 0x7000, RUN_FRAMES + 0x7000, 2 * 0x1000, 1);   /* 7-8 */
	expect_map(2, RUN_BASE + 0xA000, RUN_FRAMES + 0xA000, 2 * 0x1000, 1);   /* 10-11 */
	cr_assert_not(*word(TABLE + 6 * 4) & VMI_PTE_ACCESSED, "A set without an access");
}

Test(mmu, inside_the_named_linear_map_a_fault_maps_the_whole_run_of_it)
{
	entries_in_order(0, 64, ACCESSED_RW);
	turn_paging_on(0);
	cr_assert_eq(mmu_call_set_linear_mapping(0, RUN_BASE, 64, RUN_FRAMES >> 12), 0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(RUN_BASE + 20 * 0x1000, HOST_WRITE, 0, &error, reason),
	             MMU_FILLED, "%s", reason);
	expect_calls(1);
	expect_map(0, RUN_BASE, RUN_FRAMES, 64 * 0x1000, 1);
	/* a range the linear map does not describe (another frame) keeps to its block */
	cr_assert_eq(mmu_call_set_linear_mapping(0, RUN_BASE, 64, (RUN_FRAMES >> 12) + 1), 0);
	mmu_flush(1);
	call_count = 0;
	cr_assert_eq(mmu_host_fault(RUN_BASE + 20 * 0x1000, 0, 0, &error, reason), MMU_FILLED);
	expect_map(0, RUN_BASE + 16 * 0x1000, RUN_FRAMES + 16 * 0x1000, 16 * 0x1000, 1);
}

Test(mmu, without_the_calls_every_entry_mapped_from_is_compared_not_only_the_first)
{
	/* The table is copied at its first fill; entries made present after that and mapped
	 * must be compared too (a process that exits and a new one in the same tables). */
	mmu_compare_tables_at_switch(1);
	two_address_spaces();
	uint32_t second = LINEAR + 0x1000, error = 0;
	*table_entry(second) = (FRAME + 0x1000) | RW | VMI_PTE_ACCESSED;
	cr_assert_eq(mmu_host_fault(second, 0, 0, &error, reason), MMU_FILLED, "%s", reason);
	run_in(1, DIRECTORY_2);
	call_count = 0;
	*table_entry(second) = 0;
	run_in(0, DIRECTORY);
	expect_calls(1);
	expect_unmap(0, second & ~0xFFFu, 0x1000);
}

/* Strict isolation: contexts come in pairs, and user mode runs in the second of its
 * directory's, which maps only what user mode may reach, whatever ring the fault names. */
Test(mmu, user_mode_runs_in_a_context_of_its_own_that_maps_only_user_pages)
{
	const uint32_t accessed = VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	const uint32_t user_linear = (LINEAR & ~0xFFFu) + 0x1000, user_frame = FRAME + 0x1000;
	virtual_cpu_set_user_isolation(1);
	address_spaces = 2;   /* one address space: the kernel's context and the user's */
	*directory_entry(LINEAR) = TABLE | RW | VMI_PTE_USER | VMI_PTE_ACCESSED;
	*table_entry(LINEAR) = FRAME | RW | accessed;                          /* the kernel's */
	*table_entry(user_linear) = user_frame | RW | VMI_PTE_USER | accessed;  /* the user's */
	turn_paging_on(0);
	uint32_t error = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_FILLED, "%s", reason);

	cr_assert_eq(mmu_ring_entered(1), 0);
	cr_assert_eq(switched_to, 1, "user mode goes to the pair's second context");
	mapping_space = 1;
	monitor_address_space_entered(1);
	call_count = 0;
	cr_assert_eq(mmu_host_fault(LINEAR, 0, 0, &error, reason), MMU_GUEST_FAULT,
	             "the kernel's page is a #PF there, though the fault named the kernel");
	cr_assert_eq(error, VMI_PF_PRESENT | VMI_PF_USER);
	cr_assert_eq(mmu_host_fault(user_linear, 0, 1, &error, reason), MMU_FILLED, "%s", reason);
	expect_calls(1);
	expect_map(0, user_linear, user_frame, 0x1000, 1);   /* alone: not the kernel's with it */

	cr_assert_eq(mmu_ring_entered(0), 0);
	cr_assert_eq(switched_to, 0, "the kernel goes back to the first");
	mapping_space = 0;
	monitor_address_space_entered(0);
	call_count = 0;
	mmu_invalidate(user_linear);   /* one TLB: the user's context drops it too, on return */
	cr_assert_eq(mmu_ring_entered(1), 0);
	mapping_space = 1;
	monitor_address_space_entered(1);
	expect_calls(2);
	expect_unmap(0, user_linear, 0x1000);
	expect_unmap(1, user_linear, 0x1000);
}

/* Strict isolation: a page SetPxE makes present for user mode is mapped in the user's
 * context when user mode runs next, walked then as a user access: no host fault there. */
Test(mmu, a_user_page_setpxe_made_present_is_mapped_when_user_mode_runs_next)
{
	const uint32_t accessed = VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	const uint32_t page = LINEAR & ~0xFFFu;
	virtual_cpu_set_user_isolation(1);
	address_spaces = 2;
	*directory_entry(LINEAR) = TABLE | RW | VMI_PTE_USER | VMI_PTE_ACCESSED;
	turn_paging_on(0);
	/* the tables, identity (the kernel's), so SetPxE can name the entry */
	*directory_entry(DIRECTORY) = (DIRECTORY & VMI_PDE_LARGE_FRAME_MASK) | RW | VMI_PTE_LARGE;
	virtual_cpu.cr4 |= VMI_CR4_PSE;
	cr_assert_eq(mmu_ring_entered(1), 0);   /* user mode once: its context is tagged */
	mapping_space = 1;
	monitor_address_space_entered(1);
	cr_assert_eq(mmu_ring_entered(0), 0);
	mapping_space = 0;
	monitor_address_space_entered(0);
	call_count = 0;

	uint32_t entry = TABLE + ((LINEAR >> 12) & 0x3FF) * 4;
	*table_entry(LINEAR) = 0;
	*table_entry(LINEAR + 0x1000) = 0;
	cr_assert_eq(mmu_call_set_pxe(FRAME | RW | VMI_PTE_USER | accessed, entry,
	                              VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | page), 0);
	expect_calls(1);   /* the kernel's context maps it at once, as before */
	expect_map(0, page, FRAME, 0x1000, 1);
	call_count = 0;
	cr_assert_eq(mmu_ring_entered(1), 0);
	mapping_space = 1;
	monitor_address_space_entered(1);
	expect_calls(1);   /* and the user's at its entry, with no fault */
	expect_map(0, page, FRAME, 0x1000, 1);
	call_count = 0;
	/* a supervisor page made present is not queued for user mode */
	cr_assert_eq(mmu_ring_entered(0), 0);
	mapping_space = 0;
	monitor_address_space_entered(0);
	uint32_t other = entry + 4;
	cr_assert_eq(mmu_call_set_pxe((FRAME + 0x1000) | RW | accessed, other,
	                              VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | (page + 0x1000)), 0);
	call_count = 0;
	cr_assert_eq(mmu_ring_entered(1), 0);
	mapping_space = 1;
	monitor_address_space_entered(1);
	expect_calls(0);
}
