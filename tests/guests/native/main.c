/* The "native" test guest: an unmodified kernel that programs the PIC and the PIT, takes
 * IRQ0, prints to the UART with `out`, and probes the classic hole of running deprivileged
 * without VMI: popf cannot restore the interrupt flag, and pushf shows the real one. It
 * reports what it saw; the tests compare QEMU (ring 0) with vmirun (ring 3, trapped). */
#include <stdint.h>

#include <vmi/pc.h>

#include "../common/format.h"

#define KERNEL_CODE 0x08
#define TICKS_WANTED 10

void guest_main(uint32_t magic, uint32_t info) __attribute__((noreturn));
void unexpected_interrupt(void);
extern char timer_entry[], unexpected_entry[];
volatile uint32_t ticks;

static uint64_t idt[256] __attribute__((aligned(8)));

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static void put_char(char c)
{
	for (int i = 0; i < 100000 && !(inb(VMI_PORT_COM1_LSR) & 0x20); i++)
		;
	outb(VMI_PORT_COM1, (uint8_t)c);
}

static void put(const char *s)
{
	while (*s)
		put_char(*s++);
}

static void put_dec(uint32_t v)
{
	char digits[FORMAT_DECIMAL_SIZE];
	put(format_decimal(v, digits));
}

static _Noreturn void exit_with(uint8_t code)
{
	outb(VMI_PORT_EXIT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void unexpected_interrupt(void)
{
	put("native: unexpected interrupt\n");
	exit_with(3);
}

static void set_gate(unsigned vector, void *handler)
{
	uint32_t address = (uint32_t)handler;
	idt[vector] = (uint64_t)((address & 0xFFFF) | KERNEL_CODE << 16) |
	              (uint64_t)((address & 0xFFFF0000) | 0x8E00) << 32;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t low, high;
	__asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
	return (uint64_t)high << 32 | low;
}

/* The rest of the privileged set a kernel uses at boot: lmsw/clts, debug registers, the
 * MSRs every i386 has (SYSENTER, the APIC base), CR4. The same results in ring 0 on QEMU
 * and in ring 3 under vmirun, where each one traps and is emulated. */
static void check_privileged_set(void)
{
	int ok = 1;
	uint32_t cr0, value;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("lmsw %w0" : : "r"(cr0 | 8));            /* TS */
	__asm__ volatile("mov %%cr0, %0" : "=r"(value));
	if (!(value & 8)) {
		put("native: lmsw did not set CR0.TS\n");
		ok = 0;
	}
	__asm__ volatile("clts; mov %%cr0, %0" : "=r"(value));
	if (value & 8) {
		put("native: clts did not clear CR0.TS\n");
		ok = 0;
	}
	__asm__ volatile("mov %1, %%dr0; mov %%dr0, %0" : "=r"(value) : "r"(0x12345678));
	if (value != 0x12345678) {
		put("native: DR0 did not keep its value\n");
		ok = 0;
	}
	__asm__ volatile("wrmsr" : : "c"(0x174), "a"(KERNEL_CODE), "d"(0));   /* SYSENTER_CS */
	if (rdmsr(0x174) != KERNEL_CODE) {
		put("native: SYSENTER_CS did not keep its value\n");
		ok = 0;
	}
	if ((rdmsr(0x1B) & 0xFFFFF100u) != 0xFEE00100u) {      /* APIC base, this CPU the BSP */
		put("native: the APIC base MSR is not the PC's\n");
		ok = 0;
	}
	__asm__ volatile("mov %1, %%cr4; mov %%cr4, %0" : "=r"(value) : "r"(0x10));  /* PSE */
	if (value != 0x10) {
		put("native: CR4 did not keep PSE\n");
		ok = 0;
	}
	__asm__ volatile("mov %0, %%cr4" : : "r"(0));
	if (ok)
		put("native: lmsw, clts, debug registers, MSRs and CR4 behave as on a PC\n");
}

static uint64_t rdtsc(void)
{
	uint32_t low, high;
	__asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
	return (uint64_t)high << 32 | low;
}

/* Spins about `ms` milliseconds by the TSC, calibrated against timer ticks. */
static uint64_t cycles_per_ms;
static void spin_ms(uint32_t ms)
{
	uint64_t end = rdtsc() + cycles_per_ms * ms;
	while (rdtsc() < end)
		;
}

void guest_main(uint32_t magic, uint32_t info)
{
	(void)magic;
	(void)info;
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, unexpected_entry);
	set_gate(0x20, timer_entry);
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
	put("native: descriptor tables loaded\n");
	check_privileged_set();

	/* PICs: IRQ0-7 at 0x20, 8-15 at 0x28; only IRQ0 unmasked. PIT: 1 kHz. */
	outb(0x20, 0x11); outb(0xA0, 0x11);
	outb(0x21, 0x20); outb(0xA1, 0x28);
	outb(0x21, 0x04); outb(0xA1, 0x02);
	outb(0x21, 0x01); outb(0xA1, 0x01);
	outb(0x21, 0xFE); outb(0xA1, 0xFF);
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xFF);
	outb(0x40, 1193 >> 8);

	uint64_t start = rdtsc();
	__asm__ volatile("sti");
	while (ticks < TICKS_WANTED)
		__asm__ volatile("hlt");
	__asm__ volatile("cli");
	cycles_per_ms = (rdtsc() - start) / TICKS_WANTED;
	put("native: ");
	put_dec(TICKS_WANTED);
	put(" timer interrupts\n");

	/* pushf after cli: ring 0 sees IF clear; ring 3 sees the hardware's IF, always set. */
	uint32_t flags;
	__asm__ volatile("cli; pushfl; popl %0" : "=r"(flags));
	put(flags & 0x200 ? "native: pushf after cli shows IF=1\n" : "native: pushf after cli shows IF=0\n");

	/* popf restoring an enabled IF: in ring 3 it is silently ignored. */
	__asm__ volatile("sti");
	uint32_t before = ticks;
	__asm__ volatile("pushfl; cli; popfl" ::: "memory", "cc");
	spin_ms(30);
	int restored = ticks != before;
	put(restored ? "native: popf restored the interrupt flag\n"
	             : "native: popf did not restore the interrupt flag (the popf hole)\n");
	__asm__ volatile("sti");
	before = ticks;
	spin_ms(30);
	put(ticks != before ? "native: sti enables interrupts\n" : "native: sti did not enable interrupts\n");
	__asm__ volatile("cli");
	put("native: done\n");
	exit_with(0);
}
