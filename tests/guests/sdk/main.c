/* The "sdk" test guest: links itself with the guest SDK (vmi_guest_init, vmi.link= from its
 * command line), prints the report, then exercises the wrappers and checks what they do. */
#include <stddef.h>
#include <stdint.h>

#include <vmi/cpu.h>
#include <vmi/init.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include "vmiguest.h"

#include "../common/format.h"

#define SERIAL_THR_EMPTY   0x20u
#define SERIAL_POLL_LIMIT  100000u

#define PIC_MASTER_DATA    0x21
#define PIC_SLAVE_DATA     0xA1

#define EXIT_OK            0
#define EXIT_BAD_MAGIC     3
#define EXIT_SELF_CHECK    4

void guest_main(uint32_t magic, uint32_t info_address) __attribute__((noreturn));
void sdk_iret_here(uint32_t cs, uint32_t eflags);   /* entry.S */

extern const struct vmi_site __vmi_sites_start[], __vmi_sites_end[];


/* --- console, through the SDK's INB/OUTB sites ------------------------------------------- */

static void console_char(char c)
{
	for (uint32_t polls = 0; polls < SERIAL_POLL_LIMIT; polls++)
		if (vmi_inb(VMI_PORT_COM1_LSR) & SERIAL_THR_EMPTY)
			break;
	vmi_outb((uint8_t)c, VMI_PORT_COM1);
}

static void print(const char *text)
{
	while (*text)
		console_char(*text++);
}

static void print_decimal(uint32_t value)
{
	char digits[FORMAT_DECIMAL_SIZE];
	print(format_decimal(value, digits));
}

static void print_hex(uint32_t value, int digit_count)
{
	char text[9];
	format_hex(value, digit_count, text);
	print("0x");
	print(text);
}

static void __attribute__((noreturn)) exit_with(uint8_t code)
{
	vmi_outb(code, VMI_PORT_EXIT);
	print("sdk: exit port did not stop the machine\n");
	vmi_shutdown();
	for (;;) {
		vmi_disable_interrupts();
		vmi_halt();
	}
}

static unsigned failures;

static void check(int ok, const char *what)
{
	if (ok)
		return;
	failures++;
	print("sdk: FAILED: ");
	print(what);
	print("\n");
}

/* --- the report ---------------------------------------------------------------------------- */

static const char *rom_name(const struct vmi_guest_report *report)
{
	if (report->native)
		return "native";
	return report->platform == VMI_PLATFORM_PROCESS ? "process" : "other";
}

static void print_report(const struct vmi_guest_report *report)
{
	const struct vmi_patch_counts *counts = &report->patch.counts;
	print("sdk: rom=");
	print(rom_name(report));
	print(" link=");
	print(vmi_link_mode_name(report->link.mode));
	print(" inlined=");
	print_decimal(counts->inlined);
	print(" called=");
	print_decimal(counts->called);
	print(" nop=");
	print_decimal(counts->nopped);
	print(" table=");
	print_decimal(counts->table);
	print(" refused=");
	print_decimal(counts->refused);
	print("\n");
	print("sdk: sites=");
	print_decimal(report->sites);
	print(" rom_address=");
	print_hex(report->rom_address, 8);
	print(" kernel_ring=");
	print_decimal(report->info.kernel_ring);
	print("\n");
}

/* The first bytes of the first site recorded for `call`, as they are after patching. */
static void print_site(const char *name, unsigned call)
{
	for (const struct vmi_site *site = __vmi_sites_start; site < __vmi_sites_end; site++) {
		if (site->call != call)
			continue;
		const uint8_t *bytes = (const uint8_t *)(uintptr_t)site->address;
		print("sdk: site ");
		print(name);
		print(" length=");
		print_decimal(site->length);
		print(" bytes=");
		for (unsigned i = 0; i < 2; i++) {
			print(i ? " " : "");
			print_hex(bytes[i], 2);
		}
		print("\n");
		return;
	}
	print("sdk: site ");
	print(name);
	print(" not found\n");
}

/* --- exercises ----------------------------------------------------------------------------- */

static void exercise_interrupt_flag(void)
{
	vmi_enable_interrupts();
	uint32_t on = vmi_get_interrupt_mask();
	vmi_disable_interrupts();
	uint32_t off = vmi_get_interrupt_mask();
	print("sdk: flags on=");
	print_hex(on, 8);
	print(" off=");
	print_hex(off, 8);
	print("\n");
	check(on & VMI_EFLAGS_IF, "IF set after EnableInterrupts");
	check(!(off & VMI_EFLAGS_IF), "IF clear after DisableInterrupts");

	/* Nested save-and-disable / restore, as spinlocks do it. */
	vmi_enable_interrupts();
	uint32_t outer = vmi_irq_save();
	uint32_t inner = vmi_irq_save();
	uint32_t inside = vmi_get_interrupt_mask();
	vmi_irq_restore(inner);
	uint32_t after_inner = vmi_get_interrupt_mask();
	vmi_irq_restore(outer);
	uint32_t after_outer = vmi_get_interrupt_mask();
	vmi_disable_interrupts();

	int nesting_ok = (outer & VMI_EFLAGS_IF) && !(inner & VMI_EFLAGS_IF) &&
	                 !(inside & VMI_EFLAGS_IF) && !(after_inner & VMI_EFLAGS_IF) &&
	                 (after_outer & VMI_EFLAGS_IF);
	check(nesting_ok, "nested save/restore of the interrupt flag");
	if (nesting_ok)
		print("sdk: irq nesting ok\n");
}

static void exercise_rdtsc(void)
{
	uint64_t first = vmi_rdtsc();
	uint64_t second = vmi_rdtsc();
	int ok = first != 0 && second > first;
	check(ok, "RDTSC monotonic");
	if (ok)
		print("sdk: rdtsc monotonic\n");
}

/* An IRET back into the kernel, with the frame a kernel would build: its code selector as
 * Init reported it (0: its own), EFLAGS with the virtual IF. */
static void exercise_iret(const struct vmi_guest_report *report)
{
	uint32_t cs = report->info.kernel_cs;
	if (cs == 0)
		__asm__ volatile("movl %%cs, %0" : "=r"(cs));
	if (cs & 3) {
		print("sdk: iret skipped: the kernel code selector ");
		print_hex(cs, 4);
		print(" is not ring 0\n");
		return;
	}
	uint32_t eflags;
	__asm__ volatile("pushfl; popl %0" : "=r"(eflags));
	eflags = (eflags & ~VMI_EFLAGS_IF) | (vmi_get_interrupt_mask() & VMI_EFLAGS_IF);
	sdk_iret_here(cs, eflags);
	check(!(vmi_get_interrupt_mask() & VMI_EFLAGS_IF), "IF still clear after IRET");
	print("sdk: iret ok\n");
}

/* --- boot ---------------------------------------------------------------------------------- */

static const char *cmdline_of(const struct multiboot_info *info)
{
	if (!(info->flags & MULTIBOOT_INFO_CMDLINE) || info->cmdline == 0)
		return "";
	return (const char *)(uintptr_t)info->cmdline;
}

void guest_main(uint32_t magic, uint32_t info_address)
{
	/* Before linking, every site already works: the table points at the native ROM. */
	print("sdk: start\n");
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		print("sdk: bad multiboot magic\n");
		exit_with(EXIT_BAD_MAGIC);
	}
	const struct multiboot_info *info = (const struct multiboot_info *)(uintptr_t)info_address;

	const struct vmi_guest_config config = {
		.cmdline = cmdline_of(info),
		.print = print,
		.sites = NULL,   /* __vmi_sites_start/__vmi_sites_end, from vmi_sites.ld */
	};
	const struct vmi_guest_report *report = vmi_guest_init(&config);
	print_report(report);
	check(report->patch.counts.refused == 0, "no site refused");
	check(report->patch.clobber_conflicts == 0, "no site calls a stub that clobbers too much");
	check(vmi_guest_init(&config)->repeated, "a second vmi_guest_init does nothing");

	print_site("DisableInterrupts", VMI_CALL_DisableInterrupts);
	print_site("OUTB", VMI_CALL_OUTB);
	print_site("IRET", VMI_CALL_IRET);

	/* On a PC the legacy PIC may have a timer interrupt waiting and there is no IDT:
	 * mask every line before interrupts are enabled for the first time. */
	if (report->platform == VMI_PLATFORM_NATIVE) {
		vmi_outb(0xFF, PIC_MASTER_DATA);
		vmi_outb(0xFF, PIC_SLAVE_DATA);
	}

	exercise_interrupt_flag();
	exercise_rdtsc();
	exercise_iret(report);

	if (failures) {
		print("sdk: self-check failed\n");
		exit_with(EXIT_SELF_CHECK);
	}
	print("sdk: self-check ok\n");
	exit_with(EXIT_OK);
}
