/* Unit tests for the i386 page walk, against the rules of the Intel SDM (vol. 3, 4.3, 4.6,
 * 4.8): translation through 4 KiB and 4 MiB pages, the #PF error code for not-present and
 * protection faults, U and W combined across levels, CR0.WP, and the A and D bits. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/mmu.h>
#include "monitor/page_walk.h"

#define MEMORY_BYTES (16u << 20)
#define DIRECTORY    0x100000u
#define TABLE        0x101000u
#define LINEAR       0x40001234u            /* directory entry 256, table entry 1 */
#define FRAME        0x00345000u
#define RW_USER      (VMI_PTE_PRESENT | VMI_PTE_WRITABLE | VMI_PTE_USER)

static uint8_t *memory_bytes;

static int fake_read32(void *context, uint32_t physical, uint32_t *value)
{
	(void)context;
	if (physical > MEMORY_BYTES - 4)
		return -1;
	memcpy(value, memory_bytes + physical, 4);
	return 0;
}

static int fake_or32(void *context, uint32_t physical, uint32_t bits)
{
	uint32_t value;
	if (fake_read32(context, physical, &value) != 0)
		return -1;
	value |= bits;
	memcpy(memory_bytes + physical, &value, 4);
	return 0;
}

static const struct page_walk_memory fake = { fake_read32, fake_or32, NULL };

static uint32_t *word(uint32_t physical)
{
	return (uint32_t *)(memory_bytes + physical);
}

static uint32_t *directory_entry(void) { return word(DIRECTORY + (LINEAR >> 22) * 4); }
static uint32_t *table_entry(void) { return word(TABLE + ((LINEAR >> 12) & 0x3FF) * 4); }

static void setup(void)
{
	memory_bytes = calloc(1, MEMORY_BYTES);
	cr_assert_not_null(memory_bytes);
	*directory_entry() = TABLE | RW_USER;
	*table_entry() = FRAME | RW_USER;
}

static void teardown(void)
{
	free(memory_bytes);
}

static enum page_walk_status walk(uint32_t cr0, uint32_t cr4, uint32_t linear, unsigned access,
                                  struct page_walk_result *result)
{
	return page_walk(&fake, cr0, DIRECTORY, cr4, linear, access, result);
}

TestSuite(page_walk, .init = setup, .fini = teardown);

Test(page_walk, a_4k_page_translates_and_a_read_sets_accessed_not_dirty)
{
	struct page_walk_result r;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, PAGE_WALK_USER, &r), PAGE_WALK_OK);
	cr_assert_eq(r.physical, FRAME | 0x234, "physical %08x", r.physical);
	cr_assert_eq(r.page_base, LINEAR & ~0xFFFu);
	cr_assert_eq(r.page_size, 4096);
	cr_assert(r.user && r.writable && !r.dirty);
	cr_assert(*directory_entry() & VMI_PTE_ACCESSED);
	cr_assert(*table_entry() & VMI_PTE_ACCESSED);
	cr_assert_not(*table_entry() & VMI_PTE_DIRTY);
}

Test(page_walk, a_write_sets_dirty_in_the_last_entry_only)
{
	struct page_walk_result r;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, PAGE_WALK_WRITE, &r), PAGE_WALK_OK);
	cr_assert(r.dirty);
	cr_assert(*table_entry() & VMI_PTE_DIRTY);
	cr_assert_not(*directory_entry() & VMI_PTE_DIRTY);
}

Test(page_walk, not_present_entries_fault_with_p_clear)
{
	struct page_walk_result r;
	*table_entry() &= ~VMI_PTE_PRESENT;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, PAGE_WALK_WRITE | PAGE_WALK_USER, &r),
	             PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, VMI_PF_WRITE | VMI_PF_USER);
	*directory_entry() &= ~VMI_PTE_PRESENT;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, 0, &r), PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, 0);
	cr_assert_not(*table_entry() & VMI_PTE_ACCESSED, "a failed walk sets no A bit");
}

Test(page_walk, user_mode_needs_u_at_both_levels)
{
	struct page_walk_result r;
	*directory_entry() &= ~VMI_PTE_USER;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, PAGE_WALK_USER, &r), PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, VMI_PF_PRESENT | VMI_PF_USER);
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, 0, &r), PAGE_WALK_OK, "the kernel may");
	cr_assert_not(r.user);
}

Test(page_walk, writes_need_w_at_both_levels_and_wp_binds_the_kernel)
{
	struct page_walk_result r;
	*table_entry() &= ~VMI_PTE_WRITABLE;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, PAGE_WALK_WRITE | PAGE_WALK_USER, &r),
	             PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, VMI_PF_PRESENT | VMI_PF_WRITE | VMI_PF_USER);
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, PAGE_WALK_WRITE, &r), PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, VMI_PF_PRESENT | VMI_PF_WRITE);
	cr_assert_eq(walk(0, 0, LINEAR, PAGE_WALK_WRITE, &r), PAGE_WALK_OK,
	             "CR0.WP clear: the kernel writes read-only pages");
	cr_assert_eq(walk(0, 0, LINEAR, PAGE_WALK_WRITE | PAGE_WALK_USER, &r), PAGE_WALK_FAULT,
	             "but user mode never does");
	*table_entry() |= VMI_PTE_WRITABLE;
	*directory_entry() &= ~VMI_PTE_WRITABLE;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, PAGE_WALK_WRITE, &r), PAGE_WALK_FAULT);
}

Test(page_walk, a_4m_page_needs_cr4_pse)
{
	struct page_walk_result r;
	*directory_entry() = 0x00800000u | RW_USER | VMI_PTE_LARGE | VMI_PTE_GLOBAL;
	cr_assert_eq(walk(VMI_CR0_WP, VMI_CR4_PSE | VMI_CR4_PGE, LINEAR, PAGE_WALK_WRITE, &r),
	             PAGE_WALK_OK);
	cr_assert_eq(r.physical, 0x00800000u | (LINEAR & 0x3FFFFF), "physical %08x", r.physical);
	cr_assert_eq(r.page_size, 0x400000u);
	cr_assert_eq(r.page_base, LINEAR & 0xFFC00000u);
	cr_assert(r.global && r.dirty);
	cr_assert(*directory_entry() & VMI_PTE_DIRTY, "D in the directory entry that maps it");
	/* without CR4.PSE, PS means nothing: the entry names a page table (here at 8 MiB,
	 * empty), whose entry is not present */
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, 0, &r), PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, 0);
}

Test(page_walk, a_4m_entrys_bits_13_to_21_are_never_a_low_alias)
{
	struct page_walk_result r;
	/* bit 21 is reserved: #PF with RSVD and P, whatever the access */
	*directory_entry() = 0x00800000u | VMI_PDE_LARGE_RESERVED | RW_USER | VMI_PTE_LARGE;
	cr_assert_eq(walk(VMI_CR0_WP, VMI_CR4_PSE, LINEAR, PAGE_WALK_WRITE, &r), PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, VMI_PF_RESERVED | VMI_PF_PRESENT | VMI_PF_WRITE);
	cr_assert_eq(*directory_entry() & VMI_PTE_ACCESSED, 0, "no A for an entry that faults");
	/* bits 13-20 are physical-address bits 32-39 (PSE-36): above all guest memory */
	*directory_entry() = 0x00800000u | 0x2000u | RW_USER | VMI_PTE_LARGE;
	cr_assert_eq(walk(VMI_CR0_WP, VMI_CR4_PSE, LINEAR, 0, &r), PAGE_WALK_ABOVE_4G);
	*directory_entry() = 0x00800000u | 0x00100000u | RW_USER | VMI_PTE_LARGE;
	cr_assert_eq(walk(VMI_CR0_WP, VMI_CR4_PSE, LINEAR, 0, &r), PAGE_WALK_ABOVE_4G);
	/* without CR4.PSE the same bits are a page table's address, as any */
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, 0, &r), PAGE_WALK_FAULT);
	cr_assert_eq(r.error_code, 0);
}

Test(page_walk, global_needs_cr4_pge)
{
	struct page_walk_result r;
	*table_entry() |= VMI_PTE_GLOBAL;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, 0, &r), PAGE_WALK_OK);
	cr_assert_not(r.global);
	cr_assert_eq(walk(VMI_CR0_WP, VMI_CR4_PGE, LINEAR, 0, &r), PAGE_WALK_OK);
	cr_assert(r.global);
}

Test(page_walk, a_table_outside_guest_memory_is_reported)
{
	struct page_walk_result r;
	*directory_entry() = 0xFFFFF000u | RW_USER;
	cr_assert_eq(walk(VMI_CR0_WP, 0, LINEAR, 0, &r), PAGE_WALK_BAD_TABLE);
	cr_assert_eq(page_walk(&fake, VMI_CR0_WP, 0xFFFFF000u, 0, LINEAR, 0, &r),
	             PAGE_WALK_BAD_TABLE);
}
