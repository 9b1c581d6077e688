/* The "paging" test guest: turns paging on through the SDK's MMU wrappers and checks what
 * the page-table calls do, as hardware defines it (A and D bits, InvalPage, FlushTLB with
 * global pages, a write to a read-only page faulting with CR2 and the error code). The same
 * binary on the native ROM (QEMU) and on vmirun's process ROM. */
#include <stdint.h>

#include <vmi/mmu.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include "vmiguest.h"

#include "../common/format.h"

#define SERIAL_THR_EMPTY  0x20u
#define WINDOW            0x40000000u          /* PD entry 256: one page table of ours */
#define IDENTITY_MIB      16                   /* 4 MiB pages, the kernel's own memory */
#define MARKER_A          0xA11CE000u
#define MARKER_B          0xB0B00000u
#define KERNEL_GATE       0x8E00u              /* present, DPL 0, 32-bit interrupt gate */

void guest_main(uint32_t magic, uint32_t info_address) __attribute__((noreturn));
void page_fault_entry(void);
void write_expecting_fault(volatile uint32_t *address);
volatile uint32_t page_faults, page_fault_error;

static volatile uint32_t page_directory[1024] __attribute__((aligned(4096)));
static volatile uint32_t page_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t frame_a[1024] __attribute__((aligned(4096)));
static volatile uint32_t frame_b[1024] __attribute__((aligned(4096)));
static uint64_t idt[256] __attribute__((aligned(8)));

static void print(const char *text)
{
	for (; *text; text++) {
		for (uint32_t polls = 0; polls < 100000; polls++)
			if (vmi_inb(VMI_PORT_COM1_LSR) & SERIAL_THR_EMPTY)
				break;
		vmi_outb((uint8_t)*text, VMI_PORT_COM1);
	}
}

static void print_line(const char *text)
{
	print(text);
	print("\n");
}

static void print_hex(uint32_t value)
{
	char text[9];
	format_hex(value, 8, text);
	print("0x");
	print(text);
}

static _Noreturn void exit_with(uint8_t code)
{
	vmi_outb(code, VMI_PORT_EXIT);
	for (;;)
		vmi_halt();
}

static unsigned checks, failures;

static void check(int ok, const char *what, uint32_t seen)
{
	checks++;
	if (ok)
		return;
	failures++;
	print("paging: FAILED: ");
	print(what);
	print(" (saw ");
	print_hex(seen);
	print(")\n");
}

static uint32_t physical(const volatile void *p)
{
	return (uint32_t)(uintptr_t)p; /* the kernel's memory is identity-mapped */
}

static volatile uint32_t *window(unsigned page)
{
	return (volatile uint32_t *)(uintptr_t)(WINDOW + page * 4096u);
}

static uint32_t code_selector(void)
{
	uint32_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs;
}

static void install_page_fault_gate(void)
{
	uint32_t handler = (uint32_t)(uintptr_t)page_fault_entry;
	idt[14] = (uint64_t)(code_selector() << 16 | (handler & 0xFFFF)) |
	          (uint64_t)((handler & 0xFFFF0000u) | KERNEL_GATE) << 32;
	struct vmi_pseudo_descriptor idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	check(vmi_set_idt(&idtr) == 0, "SetIDT", 0);
}

static void build_tables(void)
{
	for (unsigned i = 0; i < 1024; i++) {
		page_directory[i] = 0;
		page_table[i] = 0;
		frame_a[i] = MARKER_A + i;
		frame_b[i] = MARKER_B + i;
	}
	check(vmi_allocate_page(physical(page_directory) >> 12,
	                        VMI_PAGE_PD | VMI_ALLOCATE_ZEROED, 0, 0, 0) == 0,
	      "AllocatePage of the directory", 0);
	check(vmi_allocate_page(physical(page_table) >> 12, VMI_PAGE_PT | VMI_ALLOCATE_ZEROED,
	                        0, 0, 0) == 0, "AllocatePage of the table", 0);
	for (unsigned i = 0; i < IDENTITY_MIB / 4; i++)
		vmi_set_pxe(&page_directory[i], (i << 22) | VMI_PTE_PRESENT | VMI_PTE_WRITABLE |
		            VMI_PTE_LARGE | VMI_PTE_GLOBAL, VMI_PAGE_PD);
	vmi_set_pxe(&page_directory[WINDOW >> 22], physical(page_table) | VMI_PTE_PRESENT |
	            VMI_PTE_WRITABLE, VMI_PAGE_PD);
	vmi_set_pxe(&page_table[0], physical(frame_a) | VMI_PTE_PRESENT | VMI_PTE_WRITABLE,
	            VMI_PAGE_PT);
	vmi_set_pxe(&page_table[1], physical(frame_b) | VMI_PTE_PRESENT, VMI_PAGE_PT);
	check(vmi_set_linear_mapping(0, 0, IDENTITY_MIB * 256, 0) == 0, "SetLinearMapping", 0);
}

static void turn_paging_on(void)
{
	check(vmi_set_cr4(vmi_get_cr4() | VMI_CR4_PSE | VMI_CR4_PGE) == 0, "SetCR4", 0);
	check(vmi_set_cr3(physical(page_directory)) == 0, "SetCR3", 0);
	check(vmi_set_cr0(vmi_get_cr0() | VMI_CR0_PG | VMI_CR0_WP) == 0, "SetCR0 with PG", 0);
	check(vmi_get_cr0() & VMI_CR0_PG, "CR0.PG reads back", vmi_get_cr0());
}

static void check_accessed_and_dirty(void)
{
	uint32_t seen = *window(0);
	check(seen == MARKER_A, "the window maps frame A", seen);
	uint32_t entry = vmi_get_pxe(&page_table[0]);
	check((entry & VMI_PTE_ACCESSED) && !(entry & VMI_PTE_DIRTY), "a read sets A, not D", entry);
	window(0)[1] = 0x12345678;
	entry = vmi_get_pxe(&page_table[0]);
	check(entry & VMI_PTE_DIRTY, "a write sets D", entry);
	check(frame_a[1] == 0x12345678, "the write reached frame A", frame_a[1]);
	check(vmi_test_and_clear_pxe_bit(&page_table[0], VMI_PTE_DIRTY_BIT) == 1,
	      "TestAndClearPxEBit returns D's old value", 0);
	check(!(vmi_get_pxe(&page_table[0]) & VMI_PTE_DIRTY), "D cleared", page_table[0]);
	check(vmi_test_and_clear_pxe_bit(&page_table[0], VMI_PTE_DIRTY_BIT) == 0,
	      "TestAndClearPxEBit of a clear bit returns 0", 0);
	vmi_inval_page(WINDOW);
	window(0)[2] = 1;
	check(vmi_get_pxe(&page_table[0]) & VMI_PTE_DIRTY, "after InvalPage a write sets D again",
	      page_table[0]);
	check(vmi_test_and_set_pxe_bit(&page_table[0], VMI_PTE_DIRTY_BIT) == 1,
	      "TestAndSetPxEBit returns the old value", 0);
}

static void check_remapping(void)
{
	vmi_set_pxe(&page_table[0], physical(frame_b) | VMI_PTE_PRESENT | VMI_PTE_WRITABLE,
	            VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | WINDOW);
	vmi_inval_page(WINDOW);
	check(*window(0) == MARKER_B, "SetPxE then InvalPage: the window maps frame B", *window(0));
	uint32_t old = vmi_swap_pxe(&page_table[0], physical(frame_a) | VMI_PTE_PRESENT |
	                            VMI_PTE_WRITABLE);
	check((old & VMI_PTE_FRAME_MASK) == physical(frame_b) && (old & VMI_PTE_ACCESSED),
	      "SwapPxE returns the old entry, A bit included", old);
	vmi_flush_tlb(VMI_FLUSH_TLB);
	check(*window(0) == MARKER_A, "SwapPxE then FlushTLB: frame A again", *window(0));
	/* a global translation: only a flush with GLOBAL must drop it */
	vmi_set_pxe(&page_table[0], physical(frame_b) | VMI_PTE_PRESENT | VMI_PTE_WRITABLE |
	            VMI_PTE_GLOBAL, VMI_PAGE_PT | VMI_PAGE_DEFER);
	check(vmi_flush_deferred_calls(VMI_FLUSH_DEFERRED_PT) == 0, "FlushDeferredCalls", 0);
	vmi_flush_tlb(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL);
	check(*window(0) == MARKER_B, "a global entry after FlushTLB(TLB|GLOBAL)", *window(0));
}

static void check_read_only_fault(void)
{
	check(*window(1) == MARKER_B, "the read-only page reads", *window(1));
	page_faults = 0;
	write_expecting_fault(window(1));
	check(page_faults == 1, "a write to a read-only page faults", page_faults);
	check(vmi_get_cr2() == WINDOW + 4096, "CR2 holds the address written", vmi_get_cr2());
	check(page_fault_error == (VMI_PF_PRESENT | VMI_PF_WRITE),
	      "the error code says present, write, supervisor", page_fault_error);
	check(frame_b[0] == MARKER_B, "the faulting write did not land", frame_b[0]);
	check(vmi_release_page(physical(page_table) >> 12, VMI_PAGE_PT) == 0, "ReleasePage", 0);
}

void guest_main(uint32_t magic, uint32_t info_address)
{
	(void)info_address;
	const struct vmi_guest_config config = { 0 };
	const struct vmi_guest_report *report = vmi_guest_init(&config);
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		print_line("paging: not booted by a multiboot loader");
		exit_with(3);
	}
	print_line(report->native ? "paging: on the native ROM" : "paging: on vmirun's ROM");
	install_page_fault_gate();
	build_tables();
	turn_paging_on();
	check_accessed_and_dirty();
	check_remapping();
	check_read_only_fault();
	char digits[FORMAT_DECIMAL_SIZE];
	print("paging: ");
	print(format_decimal(checks - failures, digits));
	print(" of ");
	print(format_decimal(checks, digits));
	print(" checks passed\n");
	exit_with(failures ? 4 : 0);
}
