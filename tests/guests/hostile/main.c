/* The "hostile" test guest: a kernel that attacks vmirun's monitor. Its command line picks
 * the attack: `garbage` (random arguments to every call that returns), `vectors` (raise all
 * 256 vectors), `stack` (take an exception with the stack outside guest RAM), `irqloop` (an
 * interrupt handler that never returns), `misaligned` (far call into the middle of a
 * hypercall entry), `window` (write to vmirun's hypercall page), `segments` (load FS and GS,
 * where the host keeps its thread pointer), `hostsel` (store through ES loaded with a
 * selector the host's GDT accepts as its own per-CPU segment), `simd` (SSE registers set
 * before hypercalls, read after), `nullfs` (load FS, then a null selector, before
 * a trap, a hypercall and an alarm), `straddle` (under --no-rom, fault at an instruction
 * that runs from the ROM area into RAM), `badiret` (IRET to a null code selector: the #GP's
 * eip), `farframe` (a hypercall that writes over its own far-return frame), `ntflag` and
 * `acflag` (EFLAGS.NT or AC set across hypercalls), `spin` (loops from the start), `longio`
 * (one trapped rep outsb longer than a short timeout), `nogate` (an exception with only a #GP
 * gate), `tfflag` (single-step into a hypercall), `readpage` (look for vmirun's addresses in the hypercall page), `userstack` (the fast system-call entry
 * with no room below the user's return address), `esp0` (a kernel stack outside guest RAM for
 * entries from user mode), `esp0fast` (the same, entered through the ROM's fast system-call
 * entry, which builds the frame itself), `transition` (hold the vCPU page's transition mark
 * with an interrupt due, so vmirun single-steps for ever), `transitionfault` (fault while
 * the mark says an IRET with a frame outside guest RAM is under way). vmirun must refuse,
 * reflect, or stop the guest with a reason, and never crash. */
#include <stdint.h>

#include <vmi/alarm.h>
#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/mmu.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/vcpu_page.h>

#include "../common/format.h"
#include "../common/string.h"

#define RESET_LINE_PORT   0x64        /* the i8042: 0xFE there reboots */
#define OWN_IMAGE_START   0x100000u   /* the guest addresses garbage() picks: */
#define OWN_IMAGE_END     0x900000u   /* the guest's own image, stack and scratch */

void guest_main(uint32_t magic, const struct multiboot_info *info) __attribute__((noreturn));
uint32_t hostile_hypercall(unsigned call, const uint32_t regs[6]);
void misaligned_far_call(void);
void enter_user_mode(const uint32_t *frame) __attribute__((noreturn));
void get_gdt_over_frame(void);
void after_gp(void) __attribute__((noreturn));
extern char counting_handler[], looping_handler[], stack_top[], user_int[], user_fast_syscall[];
void after_user_pf(void) __attribute__((noreturn));
void in_looping_handler(void) __attribute__((noreturn));
uint32_t hypercall_with_tf(void);
extern char db_handler[], after_tf_hypercall[];
volatile uint32_t db_count, db_eip;
extern char gp_recorder[], iret_far_call[], pf_recorder[], user_fast_syscall_low_stack[];
volatile uint32_t interrupts_taken, gp_eip, gp_error, pf_error, pf_cs;
static int gp_expected_from_ud2; /* the nogate attack, not badiret, raised the #GP */

static uint64_t idt[256] __attribute__((aligned(8)));
static uint32_t scratch[1024];

static uint32_t call(unsigned number, uint32_t eax, uint32_t edx, uint32_t ecx)
{
	uint32_t regs[6] = { eax, edx, ecx, 0, 0, 0 };
	return hostile_hypercall(number, regs);
}

static void put(const char *s)
{
	while (*s)
		call(VMI_CALL_OUTB, (uint8_t)*s++, VMI_PORT_COM1, 0);
}

static void put_dec(uint32_t v)
{
	char digits[FORMAT_DECIMAL_SIZE];
	put(format_decimal(v, digits));
}

static _Noreturn void exit_with(uint32_t code)
{
	call(VMI_CALL_OUTB, code, VMI_PORT_EXIT, 0);
	for (;;)
		;
}

static uint32_t random_state = 0x12345678;
static uint32_t random32(void)
{
	random_state ^= random_state << 13;
	random_state ^= random_state >> 17;
	random_state ^= random_state << 5;
	return random_state;
}

/* Writes an interrupt gate into the guest's own table; load_idt hands the table to vmirun,
 * which checks every gate. */
static void install_gate(unsigned vector, void *handler, unsigned dpl)
{
	uint32_t address = (uint32_t)handler;
	idt[vector] = (uint64_t)(VMI_PROCESS_KERNEL_CS << 16 | (address & 0xFFFF)) |
	              (uint64_t)((address & 0xFFFF0000) | 0x8E00 | dpl << 13) << 32;
}

static void load_idt(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint32_t)idt };
	if (call(VMI_CALL_SetIDT, (uint32_t)&idtr, 0, 0) != 0) {
		put("hostile: SetIDT refused a valid table\n");
		exit_with(3);
	}
}

/* Every call that returns to its caller, with random registers. Left out: the calls that
 * end or move the guest (Halt, Reboot, Shutdown, IRET, SYSEXIT, Syscall), the ones that would
 * let interrupts in with no handler (EnableInterrupts, SetInterruptMask), and port I/O to
 * the console and exit ports (output noise, or a random exit status). */
static int excluded(unsigned number, const uint32_t regs[6])
{
	switch (number) {
	case VMI_CALL_Halt: case VMI_CALL_Reboot: case VMI_CALL_Shutdown: case VMI_CALL_IRET:
	case VMI_CALL_SYSEXIT: case VMI_CALL_Syscall: case VMI_CALL_EnableInterrupts:
	case VMI_CALL_SetInterruptMask:
		return 1;
	case VMI_CALL_IN: case VMI_CALL_INB: case VMI_CALL_INW: case VMI_CALL_INS:
	case VMI_CALL_INSB: case VMI_CALL_INSW: case VMI_CALL_OUT: case VMI_CALL_OUTB:
	case VMI_CALL_OUTW: case VMI_CALL_OUTS: case VMI_CALL_OUTSB: case VMI_CALL_OUTSW: {
		uint16_t port = (uint16_t)regs[1];
		return port == VMI_PORT_EXIT || port == RESET_LINE_PORT ||
		       (port >= VMI_PORT_COM1 && port < VMI_PORT_COM1 + 8);
	}
	/* Paging on with a random CR3, or a page-table entry written into the guest's own
	 * image, would prove nothing about vmirun: the paging guest does those right. */
	case VMI_CALL_SetCR0:
		return (regs[0] & VMI_CR0_PG) != 0;
	case VMI_CALL_SetPxE: case VMI_CALL_SwapPxE: case VMI_CALL_TestAndSetPxEBit:
	case VMI_CALL_TestAndClearPxEBit:
		return regs[1] >= OWN_IMAGE_START && regs[1] < OWN_IMAGE_END;
	default:
		return 0;
	}
}

static void garbage(void)
{
	unsigned made = 0;
	for (unsigned round = 0; round < 200; round++) {
		for (unsigned number = 0; number < VMI_CALL_COUNT; number++) {
			uint32_t regs[6];
			for (int r = 0; r < 6; r++) {
				/* a mix of small numbers, guest addresses and anything at all */
				uint32_t pick = random32();
				regs[r] = pick % 3 == 0 ? pick % 64
				        : pick % 3 == 1 ? OWN_IMAGE_START + pick % (OWN_IMAGE_END - OWN_IMAGE_START)
				        : random32();
			}
			if (excluded(number, regs))
				continue;
			if (number >= VMI_CALL_OUTS && number <= VMI_CALL_OUTSW)
				regs[2] %= 4096; /* 2^32 items would only take long */
			if (number == VMI_CALL_INS || number == VMI_CALL_INSB || number == VMI_CALL_INSW) {
				/* into a scratch buffer: a guest that overwrites its own code proves
				 * nothing about vmirun */
				regs[2] %= sizeof(scratch) / 4;
				regs[5] = (uint32_t)scratch;
			}
			hostile_hypercall(number, regs);
			made++;
		}
		call(VMI_CALL_DisableInterrupts, 0, 0, 0);
		call(VMI_CALL_CancelAlarm, 0, 0, 0);
	}
	put("hostile: garbage: vmirun survived ");
	put_dec(made);
	put(" calls with random arguments\n");
	exit_with(0);
}

static void vectors(void)
{
	for (unsigned v = 0; v < 256; v++)
		install_gate(v, counting_handler, 0);
	load_idt();
	/* int n for every n, through a small code buffer: int imm8; ret */
	static uint8_t code[3] = { 0xCD, 0x00, 0xC3 };
	for (unsigned v = 0; v < 256; v++) {
		code[1] = (uint8_t)v;
		((void (*)(void))code)();
	}
	put("hostile: vectors: ");
	put_dec(interrupts_taken);
	put(" of 256 raised vectors taken\n");
	exit_with(interrupts_taken == 256 ? 0 : 3);
}

static void bad_stack(void)
{
	install_gate(6, counting_handler, 0);
	load_idt();
	put("hostile: stack: ud2 with the stack outside guest RAM\n");
	__asm__ volatile("movl $0x70000000, %%esp; ud2" ::: "memory");
}

void in_looping_handler(void)
{
	put("hostile: irqloop: in the handler, looping with interrupts disabled\n");
	for (;;)
		;
}

/* An alarm due now enters a handler that never returns; the main loop only spins. */
static void irq_loop(void)
{
	install_gate(VMI_ALARM_IRQ0_VECTOR, looping_handler, 0);
	load_idt();
	put("hostile: irqloop: an interrupt handler that never returns\n");
	call(VMI_CALL_SetAlarm, VMI_ALARM_ONE_SHOT, 0, 0);
	call(VMI_CALL_EnableInterrupts, 0, 0, 0);
	for (;;)
		;
}

/* Spins from the start: for timeouts that fire before the guest's first instruction. */
static void spin(void)
{
	for (;;)
		;
}

/* A trapped rep outsb over all of guest RAM, to a port nothing listens on: one emulation
 * inside one signal handler, long enough to outlast a short --timeout. */
static void long_io(void)
{
	put("hostile: longio: rep outsb over all of RAM, trapped\n");
	__asm__ volatile("rep outsb"
	                 : : "S"(VMI_PROCESS_RAM_BASE), "c"(0xFFFFFFFFu), "d"(0x2F0) : "memory");
	put("hostile: longio: the emulation ended\n");
	exit_with(3);
}

static uint32_t kernel_stack[1024];

/* A TSS (GDT entry 3) whose esp0 is the kernel stack for entries from user mode. */
static void load_tss(uint32_t esp0)
{
	static uint32_t tss[26];
	static uint64_t gdt[4];
	uint32_t base = (uint32_t)tss;
	tss[1] = esp0;
	gdt[3] = (uint64_t)(sizeof(tss) - 1) | (uint64_t)(base & 0xFFFFFF) << 16 |
	         (uint64_t)0x89 << 40 | (uint64_t)(base >> 24) << 56;
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {
		sizeof(gdt) - 1, (uint32_t)gdt };
	if (call(VMI_CALL_SetGDT, (uint32_t)&gdtr, 0, 0) || call(VMI_CALL_SetTR, 3 << 3, 0, 0)) {
		put("hostile: could not load the TSS\n");
		exit_with(3);
	}
}

static _Noreturn void enter_user_mode_at(const void *code)
{
	static uint32_t user_stack[256];
	static uint32_t frame[5];
	frame[0] = (uint32_t)code;
	frame[1] = VMI_PROCESS_USER_CS;
	frame[2] = 0x202;
	frame[3] = (uint32_t)&user_stack[256];
	frame[4] = VMI_PROCESS_USER_DS;
	enter_user_mode(frame);
}

void after_user_pf(void)
{
	uint32_t regs[6] = { 0 };
	uint32_t cr2 = hostile_hypercall(VMI_CALL_GetCR2, regs);
	put("hostile: userstack: #PF at cr2 ");
	put_dec(cr2);
	put((pf_cs & 3) == 3 ? " from user mode" : " from the kernel");
	put((pf_error & 6) == 6 ? ", a user write\n" : ", not a user write\n");
	exit_with(cr2 == VMI_PROCESS_RAM_BASE - 4 && (pf_cs & 3) == 3 && (pf_error & 6) == 6 ? 0 : 3);
}

void after_gp(void)
{
	if (gp_expected_from_ud2) {
		put("hostile: nogate: #GP with error code ");
		put_dec(gp_error);
		put("\n");
		exit_with(gp_error == 6 * 8 + 2 ? 0 : 3);
	}
	if (gp_eip == (uint32_t)iret_far_call) {
		put("hostile: badiret: #GP at the IRET's far call\n");
		exit_with(0);
	}
	put("hostile: badiret: #GP at eip ");
	put_dec(gp_eip);
	put(", not at the IRET's far call\n");
	exit_with(3);
}

/* An IRET whose frame names a null code selector: #GP, at the IRET itself. */
static void bad_iret(void)
{
	install_gate(13, gp_recorder, 0);
	load_idt();
	put("hostile: badiret: IRET to a null code selector\n");
	static uint32_t frame[3] = { 0x100000, 0, 0x2 };
	enter_user_mode(frame);
}

/* GetGDT writes the pseudo-descriptor over its own far-return frame: limit 0x1F and base
 * 0x00330000 make the frame's words eip 0x1F and cs 0x33, vmirun's 64-bit selector. */
static void far_frame(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = { 0x1F, 0x00330000 };
	if (call(VMI_CALL_SetGDT, (uint32_t)&gdtr, 0, 0) != 0) {
		put("hostile: farframe: SetGDT refused an empty table\n");
		exit_with(3);
	}
	put("hostile: farframe: GetGDT over its own far-return frame\n");
	get_gdt_over_frame();
	put("hostile: farframe: back in 32-bit code after the call\n");
	exit_with(0);
}

static void set_flags(uint32_t flags)
{
	__asm__ volatile("pushfl; orl %0, (%%esp); popfl" : : "r"(flags) : "memory", "cc");
}

static void clear_flags(uint32_t flags)
{
	__asm__ volatile("pushfl; notl %0; andl %0, (%%esp); popfl" : "+r"(flags) : : "memory", "cc");
}

/* EFLAGS.NT set when vmirun re-enters the guest with iretq (an interrupt delivered on a
 * hypercall's way back): iretq with NT is a #GP, in vmirun's own code. */
static void nt_flag(void)
{
	volatile struct vmi_vcpu_page *page = (struct vmi_vcpu_page *)VMI_PROCESS_VCPU_PAGE;
	install_gate(VMI_ALARM_IRQ0_VECTOR, counting_handler, 0);
	load_idt();
	put("hostile: ntflag: an interrupt taken on a hypercall's way back, with EFLAGS.NT set\n");
	call(VMI_CALL_DisableInterrupts, 0, 0, 0);
	call(VMI_CALL_SetAlarm, VMI_ALARM_ONE_SHOT, 0, 0);
	for (uint32_t spin = 0; !page->pending && spin < 0x40000000; spin++)
		;
	set_flags(0x4000);
	call(VMI_CALL_EnableInterrupts, 0, 0, 0);
	clear_flags(0x4000);
	put("hostile: ntflag: ");
	put_dec(interrupts_taken);
	put(" interrupt taken\n");
	exit_with(interrupts_taken == 1 ? 0 : 3);
}

/* EFLAGS.AC set across hypercalls: the hypercall page's own reads must be aligned. */
static void ac_flag(void)
{
	put("hostile: acflag: hypercalls with EFLAGS.AC set\n");
	set_flags(0x40000);
	uint32_t regs[6] = { 0 };
	uint32_t cr0 = hostile_hypercall(VMI_CALL_GetCR0, regs);
	clear_flags(0x40000);
	put("hostile: acflag: ");
	put(cr0 & 1 ? "a hypercall with AC set returned\n" : "GetCR0 says no protected mode\n");
	exit_with(cr0 & 1 ? 0 : 3);
}


void guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	const char *cmdline = (info->flags & MULTIBOOT_INFO_CMDLINE) ? (const char *)info->cmdline : "";
	if (cmdline_has_word(cmdline, "garbage"))
		garbage();
	if (cmdline_has_word(cmdline, "vectors"))
		vectors();
	if (cmdline_has_word(cmdline, "stack"))
		bad_stack();
	if (cmdline_has_word(cmdline, "irqloop"))
		irq_loop();
	if (cmdline_has_word(cmdline, "spin"))
		spin();
	if (cmdline_has_word(cmdline, "longio"))
		long_io();
	if (cmdline_has_word(cmdline, "transition") || cmdline_has_word(cmdline, "transitionfault")) {
		volatile struct vmi_vcpu_page *page = (struct vmi_vcpu_page *)VMI_PROCESS_VCPU_PAGE;
		install_gate(VMI_ALARM_IRQ0_VECTOR, counting_handler, 0);
		install_gate(6, counting_handler, 0);
		load_idt();
		page->frame = 0x70000000;
		if (cmdline_has_word(cmdline, "transitionfault")) {
			put("hostile: transition: a fault inside a forged IRET transition\n");
			page->transition = VMI_TRANSITION_IRET;
			__asm__ volatile("ud2");
			exit_with(3);
		}
		put("hostile: transition: holding the transition mark with an alarm due\n");
		uint32_t low, high;
		__asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
		/* 50 ms ahead: the mark is set long before, even on a slow host */
		uint32_t none[6] = { 0 };
		uint64_t due = ((uint64_t)high << 32 | low) +
		               hostile_hypercall(VMI_CALL_GetCycleFrequency, none) / 20;
		call(VMI_CALL_SetAlarm, VMI_ALARM_ONE_SHOT, (uint32_t)due, (uint32_t)(due >> 32));
		call(VMI_CALL_EnableInterrupts, 0, 0, 0);
		page->transition = VMI_TRANSITION_IRET;
		/* vmirun must hold the alarm until the mark clears, which it never does */
		while (!interrupts_taken)
			;
		put("hostile: transition: an interrupt was taken inside a held transition\n");
		exit_with(3);
	}
	if (cmdline_has_word(cmdline, "misaligned")) {
		put("hostile: misaligned: far call into the middle of a hypercall entry\n");
		misaligned_far_call();
		put("hostile: the misaligned far call returned\n");
		exit_with(3);
	}
	if (cmdline_has_word(cmdline, "segments")) {
		/* Load FS and GS with selectors the host's GDT accepts in ring 3: the host keeps
		 * its thread pointer in FS, so vmirun must not be thrown by this. */
		__asm__ volatile("movw %0, %%fs; movw %0, %%gs" : : "r"((uint16_t)VMI_PROCESS_USER_DS));
		put("hostile: segments: FS and GS loaded; a hypercall and a trap follow\n");
		install_gate(0x41, counting_handler, 0);
		load_idt();
		__asm__ volatile("int $0x41" ::: "memory");
		uint16_t fs;
		__asm__ volatile("movw %%fs, %0" : "=r"(fs));
		put(fs == VMI_PROCESS_USER_DS ? "hostile: segments: FS kept\n" : "hostile: segments: FS lost\n");
		exit_with(interrupts_taken == 1 && fs == VMI_PROCESS_USER_DS ? 0 : 3);
	}
	if (cmdline_has_word(cmdline, "simd")) {
		/* The SSE registers are the guest's: vmirun's monitor (glibc's memcpy among it)
		 * runs in the same registers at every hypercall, between two guest instructions. */
		static const uint32_t pattern[4] __attribute__((aligned(16))) = {
			0x01234567, 0x89ABCDEF, 0xFEDCBA98, 0x76543210 };
		static uint32_t back[8][4] __attribute__((aligned(16)));
		__asm__ volatile("movdqa %0, %%xmm0; movdqa %0, %%xmm1; movdqa %0, %%xmm2;"
		                 "movdqa %0, %%xmm3; movdqa %0, %%xmm4; movdqa %0, %%xmm5;"
		                 "movdqa %0, %%xmm6; movdqa %0, %%xmm7" : : "m"(pattern));
		struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr;
		call(VMI_CALL_GetGDT, (uint32_t)&gdtr, 0, 0);      /* copies to guest memory */
		call(VMI_CALL_GetCycleFrequency, 0, 0, 0);
		put("hostile: simd: three hypercalls made\n");    /* one per byte */
		__asm__ volatile("movdqa %%xmm0, 0(%0); movdqa %%xmm1, 16(%0); movdqa %%xmm2, 32(%0);"
		                 "movdqa %%xmm3, 48(%0); movdqa %%xmm4, 64(%0); movdqa %%xmm5, 80(%0);"
		                 "movdqa %%xmm6, 96(%0); movdqa %%xmm7, 112(%0)"
		                 : : "r"(back) : "memory");
		unsigned kept = 0;
		for (unsigned r = 0; r < 8; r++)
			kept += back[r][0] == pattern[0] && back[r][1] == pattern[1] &&
			        back[r][2] == pattern[2] && back[r][3] == pattern[3];
		put("hostile: simd: ");
		put_dec(kept);
		put(" of 8 SSE registers kept\n");
		exit_with(kept == 8 ? 0 : 3);
	}
	if (cmdline_has_word(cmdline, "hostsel")) {
		/* Linux's __USER_DS, 0x7b, is a flat writable segment in its GDT, and the host's
		 * per-CPU segment (read-only, its limit the CPU number) in the host's: the load
		 * does not trap, and the string store through it must still land. */
		static uint64_t gdt[16];
		gdt[15] = 0x00CFF2000000FFFFull;   /* base 0, 4 GiB, data, writable, DPL 3 */
		struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {
			sizeof(gdt) - 1, (uint32_t)gdt };
		if (call(VMI_CALL_SetGDT, (uint32_t)&gdtr, 0, 0) != 0) {
			put("hostile: hostsel: SetGDT refused\n");
			exit_with(3);
		}
		static uint32_t words[8];
		uint32_t *to = words, count = 8;
		__asm__ volatile("push %%es; movw %w2, %%es; rep stosl; pop %%es"
		                 : "+D"(to), "+c"(count) : "r"(0x7b), "a"(0x5A5A5A5Au) : "memory");
		int landed = 1;
		for (unsigned i = 0; i < 8; i++)
			landed &= words[i] == 0x5A5A5A5Au;
		put(landed ? "hostile: hostsel: 8 words stored through ES 0x7b\n"
		           : "hostile: hostsel: the store was lost\n");
		exit_with(landed ? 0 : 3);
	}
	if (cmdline_has_word(cmdline, "nullfs")) {
		/* A null FS after a non-null one, as kernels leave it on the way to user mode:
		 * Intel zeroes the base with the load, so the host's thread pointer is gone even
		 * though the selector reads 0. A trap (the signal path) comes first, then a
		 * hypercall with nothing in between, then an alarm. */
		install_gate(0x41, counting_handler, 0);
		install_gate(VMI_ALARM_IRQ0_VECTOR, counting_handler, 0);
		load_idt();
		put("hostile: nullfs: FS loaded, then nulled; a trap, a hypercall and an alarm follow\n");
		__asm__ volatile("movw %0, %%fs; movw %1, %%fs; int $0x41"
		                 : : "r"((uint16_t)VMI_PROCESS_USER_DS), "r"((uint16_t)0) : "memory");
		uint32_t regs[6] = { 0 };
		__asm__ volatile("movw %0, %%fs; movw %1, %%fs"
		                 : : "r"((uint16_t)VMI_PROCESS_USER_DS), "r"((uint16_t)0) : "memory");
		hostile_hypercall(VMI_CALL_GetCR0, regs);
		__asm__ volatile("movw %0, %%fs; movw %1, %%fs"
		                 : : "r"((uint16_t)VMI_PROCESS_USER_DS), "r"((uint16_t)0) : "memory");
		call(VMI_CALL_SetAlarm, VMI_ALARM_ONE_SHOT, 0, 0);
		call(VMI_CALL_EnableInterrupts, 0, 0, 0);
		while (interrupts_taken < 2)
			__asm__ volatile("movw %0, %%fs; movw %1, %%fs"
			                 : : "r"((uint16_t)VMI_PROCESS_USER_DS), "r"((uint16_t)0) : "memory");
		call(VMI_CALL_DisableInterrupts, 0, 0, 0);
		put("hostile: nullfs: vmirun kept its thread pointer\n");
		exit_with(0);
	}
	if (cmdline_has_word(cmdline, "nogate")) {
		/* An exception with no gate of its own is a #GP naming its vector, as on hardware */
		install_gate(13, gp_recorder, 0);
		load_idt();
		gp_expected_from_ud2 = 1;
		put("hostile: nogate: ud2 with a #GP gate only\n");
		__asm__ volatile("ud2");
		put("hostile: nogate: ud2 went on\n");
		exit_with(3);
	}
	if (cmdline_has_word(cmdline, "tfflag")) {
		install_gate(1, db_handler, 0);
		load_idt();
		put("hostile: tfflag: a hypercall single-stepped\n");
		uint32_t cr0 = hypercall_with_tf();
		put("hostile: tfflag: ");
		put_dec(db_count);
		put(" single-step traps, at ");
		put(db_eip == (uint32_t)after_tf_hypercall ? "the call's return address" : "another eip");
		put(cr0 & 1 ? ", and the call's result\n" : ", without the call's result\n");
		exit_with(db_count == 1 && db_eip == (uint32_t)after_tf_hypercall && (cr0 & 1) ? 0 : 3);
	}
	if (cmdline_has_word(cmdline, "readpage")) {
		/* The hypercall page is readable. Entry 0 jumps (E9 rel32 at offset 6) to the
		 * common stub, the one place that reaches vmirun's code: any 8 bytes there that
		 * read as a user-space address above 16 TiB (where Linux puts PIE code, libraries
		 * and mmaps, randomized) would give vmirun's ASLR away. */
		const volatile uint8_t *page = (const volatile uint8_t *)VMI_PROCESS_HYPERCALL_PAGE;
		uint32_t rel = page[7] | page[8] << 8 | page[9] << 16 | (uint32_t)page[10] << 24;
		uint32_t stub = 11 + rel, found = 0;
		for (uint32_t i = stub; i < stub + 16 && i + 8 <= 4096; i++)
			if (page[i + 7] == 0 && page[i + 6] == 0 && page[i + 5] >= 0x10)
				found++;
		put("hostile: readpage: ");
		put_dec(found);
		put(" host addresses in the hypercall page's common stub\n");
		exit_with(found == 0 ? 0 : 3);
	}
	if (cmdline_has_word(cmdline, "badiret"))
		bad_iret();
	if (cmdline_has_word(cmdline, "farframe"))
		far_frame();
	if (cmdline_has_word(cmdline, "ntflag"))
		nt_flag();
	if (cmdline_has_word(cmdline, "acflag"))
		ac_flag();
	if (cmdline_has_word(cmdline, "straddle")) {
		/* Under --no-rom: an instruction at the ROM area's last bytes runs on into RAM,
		 * and faults (a null DS) so that vmirun reads it to see whether to emulate it. */
		put("hostile: straddle: a faulting instruction across the ROM area's end\n");
		__asm__ volatile("movw %0, %%ds; jmp *%1"
		                 : : "r"((uint16_t)0), "r"(VMI_PROCESS_RAM_BASE - 8) : "memory");
	}
	int fast = cmdline_has_word(cmdline, "esp0fast");
	if (fast || cmdline_has_word(cmdline, "esp0")) {
		/* A TSS whose esp0 points outside guest RAM, then an entry from user mode. */
		load_tss(0x70000000);
		install_gate(fast ? VMI_SYSCALL_VECTOR : 0x41, counting_handler, 3);
		load_idt();
		put("hostile: esp0: entering user mode with a kernel stack outside guest RAM\n");
		enter_user_mode_at(fast ? user_fast_syscall : user_int);
	}
	if (cmdline_has_word(cmdline, "userstack")) {
		/* The fast entry saves the caller's flags below its return address; that word is
		 * outside guest RAM: a page fault of the user's, for the kernel to handle. */
		load_tss((uint32_t)&kernel_stack[1024]);
		install_gate(VMI_SYSCALL_VECTOR, counting_handler, 3);
		install_gate(14, pf_recorder, 0);
		load_idt();
		put("hostile: userstack: the fast system-call entry with no room below the return address\n");
		enter_user_mode_at(user_fast_syscall_low_stack);
	}
	if (cmdline_has_word(cmdline, "window")) {
		put("hostile: window: writing vmirun's hypercall page\n");
		*(volatile uint32_t *)VMI_PROCESS_HYPERCALL_PAGE = 0xCCCCCCCC;
		put("hostile: the write went through\n");
		exit_with(3);
	}
	put("hostile: no attack named\n");
	exit_with(2);
}
