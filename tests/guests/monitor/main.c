/* The "monitor" test guest: drives vmirun's virtual CPU through the process ROM's calls and
 * checks the documented semantics: Init, interrupt masking and delivery, alarms, halt,
 * exceptions with vectors and error codes, descriptor validation, control registers, trips
 * to virtual user mode and back, and the ROM's own ring switches under interrupt fire. Prints one line per check; exits with the failures. */
#include <stddef.h>
#include <stdint.h>

#include <vmi/alarm.h>
#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/init.h>
#include <vmi/mmu.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/rom.h>
#include <vmi/vcpu_page.h>

#include "../common/format.h"
#include "../common/string.h"

#define REGPARM __attribute__((regparm(3)))
#define ROM_CALL(n) ((uintptr_t)VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(n))

typedef uint32_t (*call0_fn)(void) REGPARM;
typedef uint32_t (*call1_fn)(uint32_t) REGPARM;
typedef uint32_t (*call2_fn)(uint32_t, uint32_t) REGPARM;
typedef uint32_t (*call4_fn)(uint32_t, uint32_t, uint32_t, uint32_t) REGPARM;
typedef uint64_t (*call64_fn)(uint32_t) REGPARM;
typedef uint32_t (*alarm_fn)(uint32_t, uint64_t, uint64_t) REGPARM;

static uint32_t vmi0(unsigned call) { return ((call0_fn)ROM_CALL(call))(); }
static uint32_t vmi1(unsigned call, uint32_t a) { return ((call1_fn)ROM_CALL(call))(a); }
static uint32_t vmi2(unsigned call, uint32_t a, uint32_t b) { return ((call2_fn)ROM_CALL(call))(a, b); }
static uint32_t vmi4(unsigned call, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return ((call4_fn)ROM_CALL(call))(a, b, c, d);
}
static uint64_t vmi64(unsigned call, uint32_t a) { return ((call64_fn)ROM_CALL(call))(a); }

struct frame {
	uint32_t edi, esi, ebp, esp_ignored, ebx, edx, ecx, eax;
	uint32_t vector, error_code, eip, cs, eflags;
	uint32_t user_esp, user_ss; /* only from user mode */
};

struct tss {
	uint32_t link, esp0, ss0, rest[23];
};

void guest_main(uint32_t magic, uint32_t info) __attribute__((noreturn));
void trap(struct frame *frame);
extern char interrupt_entry_0[], interrupt_entry_3[], interrupt_entry_6[], interrupt_entry_13[],
	interrupt_entry_14[], interrupt_entry_32[], interrupt_entry_64[], interrupt_entry_65[],
	interrupt_entry_128[], user_entry[], user_storm[], user_bad_stack[], user_after_sysexit[],
	user_touch[],
	interrupt_stack_top[], user_stack_top[];

uint32_t user_syscall_result, user_privileged_returned;
uint32_t user_touch_address, user_touch_write, user_touch_returned;
volatile uint32_t user_storm_calls, user_storm_errors, user_storm_stop, user_storm_simd_lost;
volatile uint32_t user_storm_simd_ticks, user_ticks_counted, user_storm_counting;
const uint32_t storm_simd_pattern[4] = { 0x0BADF00D, 0xFEEDFACE, 0x13579BDF, 0x2468ACE0 };
static const uint32_t storm_simd_one[4] __attribute__((aligned(16))) = { 1, 0, 0, 0 };
uint32_t user_privileged_call = ROM_CALL(VMI_CALL_GetCR0);
/* Where the kernel and user mode reach the ROM's IRET and system-call stubs: its own
 * address, or an alias the guest's page tables give it (check_paging). */
uint32_t iret_stub = ROM_CALL(VMI_CALL_IRET);
extern uint32_t fast_syscall_stub;

static uint64_t idt[256] __attribute__((aligned(8)));
static uint64_t gdt[8] __attribute__((aligned(8)));
static struct tss tss;
volatile uint32_t ticks, user_ticks_seen;
static volatile uint32_t last_vector, last_error, last_eip, last_cs, skip_bytes;
static volatile uint32_t syscall_number, syscall_ebx, syscall_cs, user_gp_cs, user_gp_count;
static volatile uint32_t resume_eip, resume_esp, syscall_flags, storm_ticks_wanted;
#define STORM_CALLS_WANTED 1000
static volatile uint32_t user_fault_vector, user_fault_cs, user_fault_eip, user_fault_error;
static unsigned failures, checks;


/* --- output through the ROM's OUTB ------------------------------------------------------- */

static void put_char(char c) { vmi2(VMI_CALL_OUTB, (uint8_t)c, VMI_PORT_COM1); }
static void put(const char *s) { while (*s) put_char(*s++); }
static void put_hex(uint32_t v)
{
	char text[9];
	format_hex(v, 8, text);
	put("0x");
	put(text);
}
static void put_dec(uint32_t v)
{
	char digits[FORMAT_DECIMAL_SIZE];
	put(format_decimal(v, digits));
}

static void check(int ok, const char *name, uint32_t seen)
{
	checks++;
	put(ok ? "monitor: ok   " : "monitor: FAIL ");
	put(name);
	if (!ok) {
		put(" (saw ");
		put_hex(seen);
		put(")");
		failures++;
	}
	put("\n");
}

static _Noreturn void finish(void)
{
	put("monitor: ");
	put_dec(checks - failures);
	put(" of ");
	put_dec(checks);
	put(" checks passed\n");
	vmi2(VMI_CALL_OUTB, failures, VMI_PORT_EXIT);
	for (;;)
		;
}

/* --- interrupts -------------------------------------------------------------------------- */

void trap(struct frame *frame)
{
	last_vector = frame->vector;
	last_error = frame->error_code;
	last_eip = frame->eip;
	last_cs = frame->cs;
	switch (frame->vector) {
	case 32:
		ticks++;
		/* An alarm that found the storm in user mode: the kernel counts it in xmm7 too,
		 * which user mode must find so changed (under strict isolation the change goes
		 * back through a handoff from vmirun's signal handler); from when user mode has
		 * cleared it to the stop, after which user mode reads it */
		if (user_storm_counting && !user_storm_stop && (frame->cs & 3)) {
			user_ticks_counted++;
			__asm__ volatile("paddd %0, %%xmm7" : : "m"(storm_simd_one));
		}
		/* Both wanted, whichever comes last: how many calls fit between alarms depends on
		 * the host (under strict isolation each is two handoffs between processes, which
		 * a busy host slows) */
		if (storm_ticks_wanted && ticks >= storm_ticks_wanted &&
		    user_storm_calls >= STORM_CALLS_WANTED)
			user_storm_stop = 1;
		return;
	case 128:
		if (frame->eax == 2) {   /* the storm's call: a result that depends on ebx */
			frame->eax = frame->ebx + 7;
			return;
		}
		if (frame->eax == 3) {   /* the storm is over: take the kernel back where it left */
			frame->eip = resume_eip;
			frame->cs = VMI_PROCESS_KERNEL_CS;
			return;
		}
		syscall_number = frame->eax;
		syscall_ebx = frame->ebx;
		syscall_cs = frame->cs;
		syscall_flags = vmi0(VMI_CALL_GetInterruptMask);
		frame->eax = 42;
		return;
	case 13:
		if ((frame->cs & 3) == 3) {
			/* user mode made a privileged call: take the kernel back where it left */
			user_gp_cs = frame->cs;
			user_gp_count++;
			frame->eip = resume_eip;
			frame->cs = VMI_PROCESS_KERNEL_CS;
			return;
		}
		break;
	case 14:
		if ((frame->cs & 3) == 3) {
			user_fault_vector = frame->vector;
			user_fault_cs = frame->cs;
			user_fault_eip = frame->eip;
			user_fault_error = frame->error_code;
			frame->eip = resume_eip;
			frame->cs = VMI_PROCESS_KERNEL_CS;
			return;
		}
		break;
	default:
		break;
	}
	frame->eip += skip_bytes;
}

static uint32_t gate_selector;

static void set_gate(unsigned vector, void *handler, unsigned dpl)
{
	uint32_t address = (uint32_t)handler;
	uint32_t low = gate_selector << 16 | (address & 0xFFFF);
	uint32_t high = (address & 0xFFFF0000) | 0x8000 | dpl << 13 | 0xE << 8;
	uint32_t status = vmi4(VMI_CALL_WriteIDTEntry, (uint32_t)idt, vector, low, high);
	if (status != 0)
		check(0, "WriteIDTEntry of a valid gate", status);
}

static uint64_t rdtsc(void)
{
	uint32_t low, high;
	__asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
	return (uint64_t)high << 32 | low;
}

static uint32_t set_alarm(uint32_t flags, uint64_t expiry, uint64_t period)
{
	return ((alarm_fn)ROM_CALL(VMI_CALL_SetAlarm))(flags, expiry, period);
}

/* With interrupts disabled, waits (up to a second) for vmirun to mark an interrupt pending in
 * the vCPU page. A fixed wait would race the host: a loaded host delivers a due alarm late. */
static int wait_for_pending(uint64_t hz)
{
	const struct vmi_vcpu_page *page = (const struct vmi_vcpu_page *)VMI_PROCESS_VCPU_PAGE;
	uint64_t start = rdtsc();
	while (!page->pending && rdtsc() - start < hz)
		;
	return page->pending != 0;
}

/* --- the checks ------------------------------------------------------------------------ */

static void check_init(void)
{
	struct vmi_init_info info;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	uint32_t status = vmi1(VMI_CALL_Init, (uint32_t)&info);
	check(status == 0, "Init returns 0", status);
	check(info.platform == VMI_PLATFORM_PROCESS, "Init reports the process platform", info.platform);
	check(info.kernel_ring == 3, "Init reports hardware ring 3", info.kernel_ring);
	check(info.reserved_top == VMI_PROCESS_WINDOW_BASE, "Init reports vmirun's window",
	      info.reserved_top);
	const struct vmi_rom_header *header = (const struct vmi_rom_header *)VMI_ROM_BASE;
	check(header->virtual_top == info.reserved_top,
	      "the ROM header's virtual_top says the same, before any call", header->virtual_top);
	check(info.vcpu_page == VMI_PROCESS_VCPU_PAGE, "Init reports the vCPU page", info.vcpu_page);
	gate_selector = info.kernel_cs;
	info.size = 4;
	check(vmi1(VMI_CALL_Init, (uint32_t)&info) == VMI_ERROR_INVALID,
	      "Init refuses a too-small info block", info.size);
}

static void check_descriptors(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint32_t)idt }, seen;
	set_gate(0, interrupt_entry_0, 0);
	set_gate(3, interrupt_entry_3, 3);
	set_gate(6, interrupt_entry_6, 0);
	set_gate(13, interrupt_entry_13, 0);
	set_gate(14, interrupt_entry_14, 0);
	set_gate(32, interrupt_entry_32, 0);
	set_gate(64, interrupt_entry_64, 0);
	set_gate(65, interrupt_entry_65, 3);
	set_gate(128, interrupt_entry_128, 3);
	uint32_t status = vmi1(VMI_CALL_SetIDT, (uint32_t)&idtr);
	check(status == 0, "SetIDT of a table of valid gates", status);
	vmi1(VMI_CALL_GetIDT, (uint32_t)&seen);
	check(seen.base == idtr.base && seen.limit == idtr.limit, "GetIDT returns what was set",
	      seen.base);

	/* A gate whose handler lies outside guest memory, and a 16-bit gate: refused. */
	uint32_t outside = 0x70000000;
	status = vmi4(VMI_CALL_WriteIDTEntry, (uint32_t)idt, 200, gate_selector << 16 | (outside & 0xFFFF),
	              (outside & 0xFFFF0000) | 0x8E00);
	check(status == VMI_ERROR_INVALID, "a gate pointing outside guest memory is refused", status);
	status = vmi4(VMI_CALL_WriteIDTEntry, (uint32_t)idt, 201, gate_selector << 16, 0x8600);
	check(status == VMI_ERROR_INVALID, "a 16-bit interrupt gate is refused", status);
	/* A task gate may sit in an IDT, as on hardware (Linux puts #DF behind one); taking it
	 * would stop the guest, since vmirun switches no hardware tasks. */
	status = vmi4(VMI_CALL_WriteIDTEntry, (uint32_t)idt, 201, gate_selector << 16, 0x8500);
	check(status == 0, "a task gate is accepted", status);
	vmi4(VMI_CALL_WriteIDTEntry, (uint32_t)idt, 201, 0, 0);

	/* A GDT with flat code and data and a TSS; a call gate is refused. */
	gdt[1] = 0x00CF9A000000FFFFull;
	gdt[2] = 0x00CF92000000FFFFull;
	uint32_t base = (uint32_t)&tss, limit = sizeof(tss) - 1;
	gdt[3] = (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	         (uint64_t)0x89 << 40 | (uint64_t)(base >> 24) << 56;
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {
		sizeof(gdt) - 1, (uint32_t)gdt };
	status = vmi1(VMI_CALL_SetGDT, (uint32_t)&gdtr);
	check(status == 0, "SetGDT of code, data and TSS descriptors", status);
	status = vmi1(VMI_CALL_SetTR, 3 << 3);
	check(status == 0, "SetTR of the TSS", status);
	check(vmi0(VMI_CALL_GetTR) == 3 << 3, "GetTR returns the TSS selector", vmi0(VMI_CALL_GetTR));
	check(vmi1(VMI_CALL_SetTR, 3 << 3) == VMI_ERROR_INVALID, "SetTR of a busy TSS is refused", 0);
	status = vmi4(VMI_CALL_WriteGDTEntry, (uint32_t)gdt, 5, 0x00080000, 0x0000EC00);
	check(status == VMI_ERROR_INVALID, "a call gate in the GDT is refused", status);
	status = vmi2(VMI_CALL_UpdateKernelStack, (uint32_t)&tss, (uint32_t)interrupt_stack_top);
	check(status == 0 && tss.esp0 == (uint32_t)interrupt_stack_top, "UpdateKernelStack", status);
	/* The ROM stores esp0 in the TSS without entering vmirun; a bad one is caught when an
	 * entry from user mode needs it (tests/guests/hostile `esp0`). */
}

static void check_control_registers(void)
{
	vmi1(VMI_CALL_SetCR3, 0x123000);
	check(vmi0(VMI_CALL_GetCR3) == 0x123000, "CR3 reads back", vmi0(VMI_CALL_GetCR3));
	vmi1(VMI_CALL_SetCR4, 0x10);
	check(vmi0(VMI_CALL_GetCR4) == 0x10, "CR4 reads back", vmi0(VMI_CALL_GetCR4));
	check(vmi1(VMI_CALL_SetCR4, 0x10 | VMI_CR4_PAE) == VMI_ERROR_NOT_IMPLEMENTED,
	      "PAE is refused as not implemented", vmi0(VMI_CALL_GetCR4));
	check(vmi0(VMI_CALL_GetCR4) == 0x10, "a refused CR4 is not kept", vmi0(VMI_CALL_GetCR4));
	uint32_t cr0 = vmi0(VMI_CALL_GetCR0);
	vmi1(VMI_CALL_SetCR0, cr0 | 8);
	vmi0(VMI_CALL_CLTS);
	check(vmi0(VMI_CALL_GetCR0) == cr0, "CLTS clears CR0.TS", vmi0(VMI_CALL_GetCR0));
}

static void check_interrupt_flag(void)
{
	vmi0(VMI_CALL_DisableInterrupts);
	uint32_t off = vmi0(VMI_CALL_GetInterruptMask);
	vmi0(VMI_CALL_EnableInterrupts);
	uint32_t on = vmi0(VMI_CALL_GetInterruptMask);
	check(!(off & VMI_EFLAGS_IF) && (on & VMI_EFLAGS_IF), "the virtual IF follows disable/enable", on);
	/* Nesting: save, disable, save, disable, restore, restore. */
	uint32_t outer = vmi0(VMI_CALL_GetInterruptMask);
	vmi0(VMI_CALL_DisableInterrupts);
	uint32_t inner = vmi0(VMI_CALL_GetInterruptMask);
	vmi0(VMI_CALL_DisableInterrupts);
	vmi1(VMI_CALL_SetInterruptMask, inner);
	uint32_t after_inner = vmi0(VMI_CALL_GetInterruptMask);
	vmi1(VMI_CALL_SetInterruptMask, outer);
	uint32_t after_outer = vmi0(VMI_CALL_GetInterruptMask);
	check(!(after_inner & VMI_EFLAGS_IF) && (after_outer & VMI_EFLAGS_IF),
	      "save/restore flags nest", after_inner);
}

static void check_alarms(void)
{
	uint64_t hz = vmi64(VMI_CALL_GetCycleFrequency, 0);
	check(hz > 100000000ull, "GetCycleFrequency is plausible", (uint32_t)(hz / 1000000));

	/* An alarm due while interrupts are disabled is taken right after enabling, not before. */
	vmi0(VMI_CALL_DisableInterrupts);
	ticks = 0;
	uint64_t start = rdtsc();
	set_alarm(VMI_ALARM_ONE_SHOT, start + hz / 1000, 0);
	check(wait_for_pending(hz), "the alarm becomes pending while interrupts are disabled", 0);
	uint32_t before = ticks;
	vmi0(VMI_CALL_EnableInterrupts);
	uint32_t after = ticks;
	check(before == 0, "no alarm interrupt while interrupts are disabled", before);
	check(after == 1, "the pending alarm is taken right after enabling", after);

	/* Periodic at 1 kHz; halt until ten ticks: about 10 ms, and not a busy wait. */
	ticks = 0;
	start = rdtsc();
	set_alarm(VMI_ALARM_PERIODIC, start + hz / 1000, hz / 1000);
	while (ticks < 10)
		vmi0(VMI_CALL_Halt);
	uint64_t elapsed_us = (rdtsc() - start) * 1000000 / hz;
	uint32_t was_armed = vmi1(VMI_CALL_CancelAlarm, 0);
	check(elapsed_us >= 9000 && elapsed_us < 200000, "ten 1 kHz alarms take about 10 ms",
	      (uint32_t)elapsed_us);
	check(was_armed == 1, "CancelAlarm reports the periodic alarm", was_armed);
	uint32_t frozen = ticks;
	start = rdtsc();
	while (rdtsc() < start + hz / 200)
		;
	check(ticks == frozen, "no alarm after CancelAlarm", ticks - frozen);
	check(set_alarm(VMI_ALARM_PERIODIC, rdtsc(), 10) == VMI_ERROR_INVALID,
	      "a 10-cycle period is refused", 0);
}

static void check_exceptions(void)
{
	last_vector = 0xFF;
	skip_bytes = 2;
	__asm__ volatile("ud2");
	check(last_vector == 6, "ud2 arrives at vector 6", last_vector);

	last_vector = 0xFF;
	skip_bytes = 0;
	__asm__ volatile("int3");
	check(last_vector == 3, "int3 arrives at vector 3", last_vector);

	last_vector = 0xFF;
	skip_bytes = 2;
	__asm__ volatile("xorl %%edx, %%edx; movl $1, %%eax; xorl %%ecx, %%ecx; divl %%ecx"
	                 ::: "eax", "ecx", "edx");
	check(last_vector == 0, "divide by zero arrives at vector 0", last_vector);

	last_vector = 0xFF;
	skip_bytes = 2;
	uint32_t unmapped = 0x60000000;
	__asm__ volatile("movl (%0), %0" : "+r"(unmapped) : : "memory");
	check(last_vector == 14, "a read outside guest RAM is a page fault", last_vector);
	check(vmi0(VMI_CALL_GetCR2) == 0x60000000, "CR2 holds the faulting address",
	      vmi0(VMI_CALL_GetCR2));
	check((last_error & 4) == 0, "the page fault's error code says kernel mode", last_error);

	last_vector = 0xFF;
	skip_bytes = 0;
	__asm__ volatile("int $64");
	check(last_vector == 64, "int $64 reaches its gate", last_vector);

	last_vector = 0xFF;
	skip_bytes = 2;
	__asm__ volatile("int $48");
	check(last_vector == 13 && last_error == 48 * 8 + 2,
	      "int $48 with no gate is #GP naming the vector", last_error);
}

/* IRETs to user mode at `eip` with stack `esp` and IF set; returns when a handler sends
 * the kernel back to resume_eip. */
static void run_in_user_mode(uint32_t eip, uint32_t esp)
{
	uint32_t frame[5] = { eip, VMI_PROCESS_USER_CS, VMI_EFLAGS_IF | 2, esp, VMI_PROCESS_USER_DS };
	__asm__ volatile(
		"movl $1f, resume_eip\n\t"
		"movl %%esp, resume_esp\n\t"
		"subl $20, %%esp\n\t"
		"movl %0, %%esi\n\t"
		"movl %%esp, %%edi\n\t"
		"movl $5, %%ecx\n\t"
		"rep movsl\n\t"
		"jmp *iret_stub\n"
		"1:\n\t"
		"movl resume_esp, %%esp\n\t"
		: : "r"(frame)
		: "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
}

static void check_user_mode(void)
{
	syscall_number = syscall_ebx = syscall_cs = user_gp_count = user_gp_cs = 0;
	user_syscall_result = user_privileged_returned = 0;
	run_in_user_mode((uint32_t)user_entry, (uint32_t)user_stack_top);
	check(syscall_number == 1 && syscall_ebx == 0x1234, "int 0x80 from user mode reaches vector 0x80",
	      syscall_number);
	check(syscall_cs == VMI_PROCESS_USER_CS, "the system call frame says user mode", syscall_cs);
	check(user_syscall_result == 42, "the system call's result reaches user mode",
	      user_syscall_result);
	check(user_gp_count == 1 && user_gp_cs == VMI_PROCESS_USER_CS,
	      "a privileged call from user mode is #GP", user_gp_count);
	check(user_privileged_returned == 0, "the privileged call did not return", 0);
	check(!(syscall_flags & VMI_EFLAGS_IF), "an interrupt gate disables interrupts in its handler",
	      syscall_flags);
	check(vmi0(VMI_CALL_GetInterruptMask) & VMI_EFLAGS_IF,
	      "IRET restores the interrupted flags (user mode had IF set)", 0);
	vmi0(VMI_CALL_DisableInterrupts);
}

/* SYSEXITs to user_after_sysexit; returns when it sends the kernel back. */
static void run_after_sysexit(void)
{
	__asm__ volatile(
		"movl $1f, resume_eip\n\t"
		"movl %%esp, resume_esp\n\t"
		"movl %0, %%edx\n\t"
		"movl %1, %%ecx\n\t"
		"jmp %P2\n"
		"1:\n\t"
		"movl resume_esp, %%esp\n\t"
		: : "i"(user_after_sysexit), "i"(user_stack_top),
		    "i"(VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_SYSEXIT))
		: "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
}

/* SYSEXIT enables interrupts: with none waiting the ROM goes to user mode itself; with one
 * waiting it is taken at the user's first instruction, before that instruction runs. */
static void check_sysexit(void)
{
	uint64_t hz = vmi64(VMI_CALL_GetCycleFrequency, 0);
	vmi0(VMI_CALL_DisableInterrupts);
	ticks = 0;
	user_ticks_seen = 0xFFFFFFFF;
	run_after_sysexit();
	check(user_ticks_seen == 0, "SYSEXIT reaches user mode", user_ticks_seen);
	check(vmi0(VMI_CALL_GetInterruptMask) & VMI_EFLAGS_IF, "SYSEXIT enabled interrupts", 0);

	vmi0(VMI_CALL_DisableInterrupts);
	ticks = 0;
	user_ticks_seen = 0xFFFFFFFF;
	set_alarm(VMI_ALARM_ONE_SHOT, rdtsc(), 0);
	check(wait_for_pending(hz), "the alarm becomes pending before SYSEXIT", 0);
	check(ticks == 0, "the alarm waits while interrupts are disabled", ticks);
	run_after_sysexit();
	check(user_ticks_seen == 1, "an interrupt pending at SYSEXIT is taken before user code runs",
	      user_ticks_seen);
	vmi0(VMI_CALL_DisableInterrupts);
}

/* The ROM's own ring switches under interrupt fire: system calls through the fast entry in
 * user mode while a 100 us alarm keeps arriving, many of them in the middle of an entry or an
 * IRET (vmirun holds those until the switch ends). Every call must come back right. */
static void check_ring_switch_storm(void)
{
	uint64_t hz = vmi64(VMI_CALL_GetCycleFrequency, 0);
	uint64_t period = hz / 10000;   /* the fastest alarm vmirun accepts */
	ticks = 0;
	user_storm_stop = user_storm_calls = user_storm_errors = 0;
	user_storm_simd_lost = 0xFFFFFFFF;   /* until the program says */
	user_ticks_counted = user_storm_counting = 0;
	storm_ticks_wanted = 400;
	uint32_t status = set_alarm(VMI_ALARM_PERIODIC, rdtsc() + period, period);
	check(status == 0, "a 10 kHz periodic alarm is accepted", status);
	run_in_user_mode((uint32_t)user_storm, (uint32_t)user_stack_top);
	vmi1(VMI_CALL_CancelAlarm, 0);
	vmi0(VMI_CALL_DisableInterrupts);
	storm_ticks_wanted = 0;
	user_storm_counting = 0;
	check(user_storm_stop == 1 && ticks >= 400, "alarms keep arriving during fast system calls",
	      ticks);
	check(user_storm_calls >= STORM_CALLS_WANTED, "user mode made many fast system calls",
	      user_storm_calls);
	check(user_storm_errors == 0, "every fast system call returned its result, registers kept",
	      user_storm_errors);
	check(user_storm_simd_lost == 0, "the SSE registers came through the storm (of 6 compared)",
	      user_storm_simd_lost);
	check(user_storm_simd_ticks == user_ticks_counted && user_ticks_counted > 0,
	      "user mode sees the kernel's SSE changes (xmm7 counted the alarms it took)",
	      user_storm_simd_ticks);
}

/* An IRET to user mode whose user stack is outside guest RAM: the CPU would return and the
 * first push fault in user mode; the ROM, which writes that stack, must end the same way. */
static void check_iret_to_a_bad_user_stack(void)
{
	user_fault_vector = 0;
	run_in_user_mode((uint32_t)user_bad_stack, 0x60000000);
	vmi0(VMI_CALL_DisableInterrupts);
	check(user_fault_vector == 14 && user_fault_cs == VMI_PROCESS_USER_CS &&
	      user_fault_eip == (uint32_t)user_bad_stack,
	      "IRET to a bad user stack returns; the first push faults in user mode", user_fault_eip);
	check(user_fault_error & 4, "that page fault says user mode", user_fault_error);
	check(vmi0(VMI_CALL_GetCR2) == 0x5FFFFFFC, "CR2 holds the pushed address", vmi0(VMI_CALL_GetCR2));
}

/* --- the same under guest paging -------------------------------------------------------- */

#define RAM_MIB      129u                      /* vmirun's default --mem, from 1 MiB */
#define WINDOW       0x40000000u               /* a page table of its own */
#define ROM_ALIAS    (WINDOW + 0x10000)        /* the ROM's frames again, from entry 16 */
#define ROM_PAGES    4

static uint32_t page_directory[1024] __attribute__((aligned(4096)));
static uint32_t window_table[1024] __attribute__((aligned(4096)));
static uint32_t window_frames[2][1024] __attribute__((aligned(4096)));

/* Runs user_touch on `address`; 1 if it got through, 0 if it faulted (the fault's details
 * in user_fault_*). */
static int touch_from_user_mode(uint32_t address, int write)
{
	user_touch_address = address;
	user_touch_write = (uint32_t)write;
	user_touch_returned = 0;
	user_fault_vector = 0;
	run_in_user_mode((uint32_t)user_touch, (uint32_t)user_stack_top);
	vmi0(VMI_CALL_DisableInterrupts);
	return user_touch_returned;
}

/* A CR3 load drops every translation but the global ones (none here): what follows fills
 * them again, inside the ROM's ring switches too. */
static void reload_cr3(void)
{
	vmi1(VMI_CALL_SetCR3, (uint32_t)page_directory);
}

static void check_paging(void)
{
	put("monitor: the user-mode checks again, with paging on (4 MiB identity pages, user "
	    "and kernel)\n");
	for (uint32_t i = 0; i < (RAM_MIB + 1 + 3) / 4; i++)
		page_directory[i] = i << 22 | VMI_PTE_PRESENT | VMI_PTE_WRITABLE | VMI_PTE_USER |
		                    VMI_PTE_LARGE;
	page_directory[WINDOW >> 22] = (uint32_t)window_table | VMI_PTE_PRESENT | VMI_PTE_WRITABLE |
	                               VMI_PTE_USER;
	window_frames[0][0] = 0x5afe;
	window_frames[1][0] = 0x0bad;
	/* a kernel page, then a read-only user page */
	window_table[0] = (uint32_t)window_frames[0] | VMI_PTE_PRESENT | VMI_PTE_WRITABLE;
	window_table[1] = (uint32_t)window_frames[1] | VMI_PTE_PRESENT | VMI_PTE_USER;
	for (uint32_t i = 0; i < ROM_PAGES; i++)
		window_table[ROM_ALIAS / 4096 % 1024 + i] = (VMI_ROM_BASE + i * 4096) | VMI_PTE_PRESENT |
		                                             VMI_PTE_USER;
	vmi1(VMI_CALL_SetCR4, vmi0(VMI_CALL_GetCR4) | 0x10);   /* PSE */
	reload_cr3();
	check(vmi1(VMI_CALL_SetCR0, vmi0(VMI_CALL_GetCR0) | 0x80000000u) == 0, "SetCR0 with PG",
	      vmi0(VMI_CALL_GetCR0));

	reload_cr3();
	check_user_mode();
	reload_cr3();
	check_sysexit();
	reload_cr3();
	check_ring_switch_storm();
	reload_cr3();
	check_iret_to_a_bad_user_stack();

	/* U/S and W from user mode, as the guest's tables say, before the kernel touches the
	 * pages (once the kernel has, user mode shares its mapping: issue 14's isolation). */
	check(!touch_from_user_mode(WINDOW, 0) && user_fault_vector == 14 &&
	      user_fault_error == (VMI_PF_PRESENT | VMI_PF_USER),
	      "a user read of a kernel page is #PF, error present|user", user_fault_error);
	check(vmi0(VMI_CALL_GetCR2) == WINDOW, "CR2 holds the kernel page", vmi0(VMI_CALL_GetCR2));
	check(!touch_from_user_mode(WINDOW + 0x1000, 1) && user_fault_vector == 14 &&
	      user_fault_error == (VMI_PF_PRESENT | VMI_PF_WRITE | VMI_PF_USER),
	      "a user write to a read-only user page is #PF, error present|write|user",
	      user_fault_error);
	check(touch_from_user_mode(WINDOW + 0x1000, 0), "a user read of a user page goes through",
	      user_fault_vector);
	check(*(volatile uint32_t *)WINDOW == 0x5afe, "the kernel reads its page",
	      *(volatile uint32_t *)WINDOW);

	/* The ROM works wherever the guest maps it: calls, IRET to user mode, the fast
	 * system-call entry and the ring switches under alarms, all through an alias. */
	put("monitor: the ROM again through an alias at 0x40010000\n");
	uint32_t cr0 = ((call0_fn)(ROM_ALIAS + VMI_ROM_CALL_OFFSET(VMI_CALL_GetCR0)))();
	check(cr0 & 0x80000000u, "GetCR0 through the alias", cr0);
	iret_stub = ROM_ALIAS + VMI_ROM_CALL_OFFSET(VMI_CALL_IRET);
	fast_syscall_stub = ROM_ALIAS + VMI_ROM_CALL_OFFSET(VMI_CALL_Syscall);
	user_privileged_call = ROM_ALIAS + VMI_ROM_CALL_OFFSET(VMI_CALL_GetCR0);
	reload_cr3();
	check_user_mode();
	reload_cr3();
	check_ring_switch_storm();
	iret_stub = ROM_CALL(VMI_CALL_IRET);
	fast_syscall_stub = ROM_CALL(VMI_CALL_Syscall);
	user_privileged_call = ROM_CALL(VMI_CALL_GetCR0);
}

void guest_main(uint32_t magic, uint32_t info)
{
	(void)info;
	put("monitor: starting\n");
	check(magic == 0x2BADB002, "multiboot magic", magic);
	check_init();
	check_descriptors();
	check_control_registers();
	check_interrupt_flag();
	check_alarms();
	check_exceptions();
	vmi0(VMI_CALL_DisableInterrupts);
	check_user_mode();
	check_sysexit();
	check_ring_switch_storm();
	check_iret_to_a_bad_user_stack();
	check_paging();
	finish();
}
