/* The "hypercall_storm" test guest: a kernel that makes a million random calls, every one
 * of the ROM's call table (include/vmi/calls.h, 4 to VMI_CALL_COUNT - 1), and vmirun must
 * come out alive. Command line: `seed=N` (else the TSC picks it; printed first either way,
 * so a failure can be replayed), `calls=N` (default 1000000), `end=exit|shutdown|reboot|halt`
 * (the last act, below).
 *
 * Each call: its number uniformly drawn; made through the ROM's stub or straight through
 * vmirun's hypercall entry (half each); from the virtual kernel ring, or from user mode
 * (one in eight: vmirun must then refuse every call but Syscall with #GP; the ROM's own
 * code, the inline calls and Init among them, runs in either ring); with the virtual IF
 * on for one in four; with random EAX, ECX, EDX, EBX, EBP, ESI, EDI and stack arguments, and
 * random CF PF AF ZF SF DF OF AC NT. ESP is the guest's own stack and EIP the call itself: a
 * call needs both. TF comes only through IRET frames (1 in 64): single-stepping costs a host
 * signal per instruction.
 *
 * Random values are small numbers, addresses in a 1 MiB scratch area, the edges of guest
 * memory, or anything at all, but never the guest's own image (code, stacks, tables) with
 * 64 KiB around it, nor its vCPU page: calls write guest memory where their arguments say,
 * and a guest that overwrites itself proves nothing about vmirun. Port I/O leaves out the
 * exit port and the console's data port (a random exit status, console noise); a rep count
 * stays below 4096 (2^32 would only take long).
 *
 * Every vector has a gate (an interrupt gate, DPL 3) whose handler ends the call under way:
 * a #GP for a refused call, a fault the ROM takes on a bad pointer, an alarm, the system-
 * call vector. So calls that do not return are made too, in a way that comes back:
 *   IRET      jumped to with a frame built here: to the kernel ring or to user mode (each
 *             lands at code that reports it), with a null or RPL 1-2 CS (#GP), or any CS;
 *             any flags and user ESP. A frame outside guest memory would stop the guest
 *             by design (docs/abi.md); the hostile guest covers that.
 *   SYSEXIT   EDX = the user-mode landing, ECX anything.
 *   Syscall   from either ring: the vector 0x80 handler takes it.
 *   Halt      from the kernel ring with a one-shot alarm armed 200 us ahead and the virtual
 *             IF on, so it returns through the alarm interrupt; from user mode, #GP.
 *   Reboot, Shutdown   from user mode only (#GP): from the kernel they end the run.
 * What the storm needs to keep working is put back after the calls that can change it: the
 * IDT after SetIDT and WriteIDTEntry (made with the virtual IF off), the GDT and TR after
 * SetGDT, SetTR and WriteGDTEntry (a random TR would send entries from user mode to a
 * random kernel stack).
 *
 * Checked from the inside: a call that returns to its caller changes only its result
 * registers and keeps DF and AC (docs/abi.md); a call made straight to the entry with
 * interrupts off returns from the kernel and is refused from user mode; no IRET or SYSEXIT
 * returns; every call of the table was made; no vector arrives outside a call. The last act is what `end` says:
 * the exit port with 0 (status 1; 3 on a failed check, status 7), or, to count a stop as an
 * outcome, Shutdown (status 0), Reboot (10), or Halt with interrupts disabled (8). The line
 * before it is always "storm: N calls made, ending with WHAT". */
#include <stddef.h>
#include <stdint.h>

#include <vmi/alarm.h>
#include <vmi/call_names.h>
#include <vmi/call_results.h>
#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/mmu.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/rom.h>

#include "../common/format.h"
#include "../common/string.h"
#include "storm.h"

#define REGPARM __attribute__((regparm(3)))
#define ROM_CALL(n) ((uintptr_t)VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(n))

#define DEFAULT_CALLS      1000000u
#define SCRATCH_SIZE       0x100000u
#define RESET_LINE_PORT    0x64        /* the i8042: 0xFE there reboots */
#define OWN_MARGIN         0x10000u   /* a call writes at most 64 KiB past its address */
#define MAX_STRING_ITEMS   4096u
/* Halt's alarm: late enough that the Halt is made before it fires (at 50 us, nine in ten
 * fired first under QEMU TCG), early enough that ten thousand halts cost two seconds. */
#define HALT_DELAY_US      200u
#define MAX_REPORTED       10u        /* failed checks printed one by one */

#define EFLAGS_FIXED       0x2u
#define EFLAGS_DF          0x400u
#define EFLAGS_AC          0x40000u
/* CF PF AF ZF SF DF OF AC NT: what a caller may leave set at a call. */
#define EFLAGS_RANDOM      0x44ED5u

/* The storm's GDT: the platform's selectors (kernel 0x20/0x28, user 0x23/0x2b on the same
 * descriptors), the TSS, a second TSS a random SetTR may load, and an LDT. */
#define GDT_ENTRIES        9
#define TSS_SELECTOR       0x30
#define TSS2_SELECTOR      0x38
#define LDT_SELECTOR       0x40

/* --- what storm_call (entry.S) reads and writes -------------------------------------------- */

struct far_pointer {
	uint32_t offset;
	uint16_t selector;
} __attribute__((packed));

struct storm_registers call_in, call_out;
uint32_t call_kind, call_target, call_esp, call_from_user, call_interrupts, call_user_eflags;
uint32_t call_args[2];
struct far_pointer call_far __attribute__((aligned(8)));
uint32_t recovery_esp, in_call, user_outcome;

uint32_t storm_call(void);
extern char interrupt_entries[], landing_kernel[], landing_user[], interrupt_stack_top[];
extern char _end[];

void guest_main(uint32_t magic, const struct multiboot_info *info) __attribute__((noreturn));
void storm_unexpected_interrupt(uint32_t vector) __attribute__((noreturn));

/* --- the ROM, for the storm's own needs ------------------------------------------------------ */

typedef uint32_t (*call0_fn)(void) REGPARM;
typedef uint32_t (*call1_fn)(uint32_t) REGPARM;
typedef uint32_t (*call2_fn)(uint32_t, uint32_t) REGPARM;
typedef uint64_t (*call64_fn)(void) REGPARM;
typedef uint32_t (*alarm_fn)(uint32_t, uint64_t, uint64_t) REGPARM;

static uint32_t rom0(unsigned call) { return ((call0_fn)ROM_CALL(call))(); }
static uint32_t rom1(unsigned call, uint32_t a) { return ((call1_fn)ROM_CALL(call))(a); }
static uint32_t rom2(unsigned call, uint32_t a, uint32_t b) { return ((call2_fn)ROM_CALL(call))(a, b); }

static void put_char(char c) { rom2(VMI_CALL_OUTB, (uint8_t)c, VMI_PORT_COM1); }
static void put(const char *s) { while (*s) put_char(*s++); }
static void put_dec(uint32_t v)
{
	char digits[FORMAT_DECIMAL_SIZE];
	put(format_decimal(v, digits));
}
static void put_hex(uint32_t v)
{
	char text[9];
	format_hex(v, 8, text);
	put("0x");
	put(text);
}

static _Noreturn void exit_with(uint32_t value)
{
	rom2(VMI_CALL_OUTB, value, VMI_PORT_EXIT);
	for (;;)
		;
}

static uint64_t rdtsc(void)
{
	uint32_t low, high;
	__asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
	return (uint64_t)high << 32 | low;
}

/* --- randomness -------------------------------------------------------------------------------- */

static uint32_t random_state;

static uint32_t random32(void)
{
	random_state ^= random_state << 13;
	random_state ^= random_state >> 17;
	random_state ^= random_state << 5;
	return random_state;
}

static uint32_t below(uint32_t n)
{
	return random32() % n;
}

static uint32_t scratch_base, ram_end;
static uint32_t edges[8];

/* The guest's own memory (and its vCPU page), with the margin a call may write past its
 * address: random values stay out of it. */
static int guest_own(uint32_t value)
{
	return (value >= VMI_PROCESS_RAM_BASE - OWN_MARGIN && value < scratch_base) ||
	       (value >= VMI_PROCESS_VCPU_PAGE - 0x100 && value < VMI_PROCESS_VCPU_PAGE + 0x1000);
}

static uint32_t any_value(void)
{
	for (;;) {
		uint32_t pick = random32(), value;
		switch (pick & 7) {
		case 0: case 1: value = (pick >> 8) & 63; break;   /* indices, selectors, counts */
		case 2: case 3: value = scratch_base + (pick >> 8) % SCRATCH_SIZE; break;
		case 4: value = edges[(pick >> 8) % 8] + ((pick >> 16) & 15) - 8; break;
		default: value = random32(); break;
		}
		if (!guest_own(value))
			return value;
	}
}

static uint32_t any_port(void)
{
	static const uint16_t devices[] = { 0x20, 0x21, 0xA0, 0xA1, 0x40, 0x43,
	                                    VMI_PORT_COM1_LSR, 0x80 };
	uint32_t high = random32() & 0xFFFF0000; /* vmirun must look at DX only */
	if (below(2))
		return high | devices[below(sizeof devices / sizeof devices[0])];
	for (;;) {
		uint16_t port = (uint16_t)random32();
		if (port != VMI_PORT_EXIT && port != VMI_PORT_COM1 && port != RESET_LINE_PORT)
			return high | port;
	}
}

/* Random words over the scratch area, so what calls read there (descriptors, pseudo-
 * descriptors, TSS fields) is random too, and no further from the guest than any_value. */
static void stir_scratch(void)
{
	uint32_t *scratch = (uint32_t *)scratch_base;
	for (int i = 0; i < 2; i++)
		scratch[below(SCRATCH_SIZE / 4)] = any_value();
}

/* --- the storm's machine: tables it keeps working with --------------------------------------- */

struct pseudo_descriptor {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

static uint64_t idt[256] __attribute__((aligned(8))), pristine_idt[256];
static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8))), pristine_gdt[GDT_ENTRIES];
static uint64_t ldt[2] __attribute__((aligned(8)));
static uint32_t tss[26] __attribute__((aligned(16))), tss2[26] __attribute__((aligned(16)));
static struct pseudo_descriptor idtr, gdtr;
static uint32_t iret_area[32] __attribute__((aligned(16)));
static uint64_t cycles_per_second;
static unsigned failures;

static _Noreturn void fail(const char *what)
{
	put("storm: FAIL ");
	put(what);
	put("\n");
	exit_with(3);
}

static uint64_t segment(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

static uint64_t interrupt_gate(uint32_t handler)
{
	return (uint64_t)(VMI_PROCESS_KERNEL_CS << 16 | (handler & 0xFFFF)) |
	       (uint64_t)((handler & 0xFFFF0000) | 0xEE00) << 32;   /* present, DPL 3, 32-bit */
}

static void restore_idt(void)
{
	memcpy(idt, pristine_idt, sizeof idt);
	if (rom1(VMI_CALL_SetIDT, (uint32_t)&idtr) != 0)
		fail("SetIDT refused the storm's own IDT");
}

static void restore_gdt_and_tr(void)
{
	memcpy(gdt, pristine_gdt, sizeof gdt);
	if (rom1(VMI_CALL_SetGDT, (uint32_t)&gdtr) != 0 || rom1(VMI_CALL_SetTR, TSS_SELECTOR) != 0)
		fail("SetGDT or SetTR refused the storm's own GDT and TSS");
}

static void build_machine(void)
{
	for (unsigned v = 0; v < 256; v++)
		pristine_idt[v] = interrupt_gate((uint32_t)interrupt_entries + v * 16);
	pristine_gdt[VMI_PROCESS_KERNEL_CS >> 3] = segment(0, 0xFFFFF, 0x9A, 0xC);
	pristine_gdt[VMI_PROCESS_KERNEL_DS >> 3] = segment(0, 0xFFFFF, 0x92, 0xC);
	pristine_gdt[TSS_SELECTOR >> 3] = segment((uint32_t)tss, sizeof tss - 1, 0x89, 0);
	pristine_gdt[TSS2_SELECTOR >> 3] = segment((uint32_t)tss2, sizeof tss2 - 1, 0x89, 0);
	pristine_gdt[LDT_SELECTOR >> 3] = segment((uint32_t)ldt, sizeof ldt - 1, 0x82, 0);
	ldt[1] = segment(0, 0xFFFFF, 0xF2, 0xC);
	tss[1] = tss2[1] = (uint32_t)interrupt_stack_top;   /* esp0 */
	idtr.limit = sizeof idt - 1;
	idtr.base = (uint32_t)idt;
	gdtr.limit = sizeof gdt - 1;
	gdtr.base = (uint32_t)gdt;
	restore_idt();
	restore_gdt_and_tr();
	if (rom1(VMI_CALL_SetLDT, LDT_SELECTOR) != 0)
		fail("SetLDT refused the storm's LDT");
	cycles_per_second = ((call64_fn)ROM_CALL(VMI_CALL_GetCycleFrequency))();
	if (cycles_per_second < 1000000)
		fail("GetCycleFrequency gave less than 1 MHz");
}

/* --- one call ------------------------------------------------------------------------------------ */

struct plan {
	unsigned call;
	int from_user, through_rom, restore_idt, restore_gdt;
};

static uint32_t *iret_frame(void)
{
	static const uint32_t refused[] = { 0, 3, 0x21, 0x22, 0x29, 0x2a };   /* null, RPL 1, 2 */
	uint32_t *frame = &iret_area[16];   /* room below for the stub's pushes */
	uint32_t cs;
	switch (below(6)) {
	case 0: case 1: cs = VMI_PROCESS_KERNEL_CS; break;
	case 2: case 3: cs = VMI_PROCESS_USER_CS; break;
	case 4: cs = refused[below(sizeof refused / sizeof refused[0])]; break;
	default: cs = random32(); break;
	}
	frame[0] = (cs & 3) == 3 ? (uint32_t)landing_user : (uint32_t)landing_kernel;
	frame[1] = cs;
	frame[2] = (random32() & EFLAGS_RANDOM & VMI_EFLAGS_RESTORABLE) | EFLAGS_FIXED |
	           (below(2) ? VMI_EFLAGS_IF : 0) | (below(64) == 0 ? VMI_EFLAGS_TF : 0);
	frame[3] = any_value();
	frame[4] = below(2) ? VMI_PROCESS_USER_DS : random32();
	return frame;
}

/* A pseudo-descriptor in the scratch area: one of the storm's own tables with a random
 * limit inside it (past it would be the storm's image, which vmirun reads as descriptors). */
static uint32_t scratch_pseudo_descriptor(uint32_t base, uint32_t size)
{
	uint32_t at = scratch_base + below(SCRATCH_SIZE - 8);
	struct pseudo_descriptor descriptor = { (uint16_t)below(size), base };
	memcpy((void *)at, &descriptor, sizeof descriptor);
	return at;
}

static void shape_arguments(struct plan *plan)
{
	struct storm_registers *r = &call_in;
	switch (plan->call) {
	case VMI_CALL_IN: case VMI_CALL_INB: case VMI_CALL_INW:
	case VMI_CALL_OUT: case VMI_CALL_OUTB: case VMI_CALL_OUTW:
		r->edx = any_port();
		break;
	case VMI_CALL_INS: case VMI_CALL_INSB: case VMI_CALL_INSW:
	case VMI_CALL_OUTS: case VMI_CALL_OUTSB: case VMI_CALL_OUTSW:
		r->edx = any_port();
		r->ecx %= MAX_STRING_ITEMS;
		break;
	case VMI_CALL_SetAlarm: {
		static const uint32_t flags[] = {
			VMI_ALARM_ONE_SHOT, VMI_ALARM_PERIODIC, VMI_ALARM_WIRED_LVTT | VMI_ALARM_ONE_SHOT,
			VMI_ALARM_WIRED_LVTT | VMI_ALARM_PERIODIC, VMI_CYCLES_AVAILABLE | VMI_ALARM_PERIODIC };
		if (below(4))
			r->eax = flags[below(sizeof flags / sizeof flags[0])];
		if (below(2)) {   /* due within a millisecond or so */
			uint64_t expiry = rdtsc() + below(1u << 21);
			r->edx = (uint32_t)expiry;
			r->ecx = (uint32_t)(expiry >> 32);
		}
		if (below(2)) {   /* a period of 0.2 ms to 1 s */
			uint64_t period = cycles_per_second / (1 + below(5000));
			call_args[0] = (uint32_t)period;
			call_args[1] = (uint32_t)(period >> 32);
		}
		break;
	}
	case VMI_CALL_IRET:
		call_kind = plan->through_rom ? STORM_KIND_JUMP : STORM_KIND_FAR_JUMP;
		call_esp = (uint32_t)iret_frame();
		break;
	case VMI_CALL_SYSEXIT:
		call_kind = plan->through_rom ? STORM_KIND_JUMP : STORM_KIND_FAR_JUMP;
		call_esp = (uint32_t)&iret_area[16];
		r->edx = (uint32_t)landing_user;
		break;
	case VMI_CALL_Halt:
		if (!plan->from_user) {
			uint64_t due = rdtsc() + cycles_per_second / 1000000 * HALT_DELAY_US;
			((alarm_fn)ROM_CALL(VMI_CALL_SetAlarm))(VMI_ALARM_ONE_SHOT, due, 0);
			call_interrupts = 1;
		}
		break;
	case VMI_CALL_SetCR0:
		r->eax &= ~VMI_CR0_PG;   /* the storm's own memory is not paged (the paging guest is) */
		break;
	case VMI_CALL_SetIDT:
		if (below(3) == 0)
			r->eax = (uint32_t)&idtr;
		else if (below(2))
			r->eax = scratch_pseudo_descriptor((uint32_t)idt, sizeof idt);
		plan->restore_idt = 1;
		call_interrupts = 0;   /* until the IDT is put back */
		break;
	case VMI_CALL_WriteIDTEntry:
		if (below(2))
			r->eax = (uint32_t)idt;
		if (below(2))
			r->edx = below(300);
		if (below(2)) {   /* a valid gate, to a handler of ours or anywhere */
			uint32_t handler = below(2) ? (uint32_t)interrupt_entries + below(256) * 16
			                            : any_value();
			uint64_t gate = interrupt_gate(handler);
			r->ecx = (uint32_t)gate;
			call_args[0] = (uint32_t)(gate >> 32) ^ (below(2) ? 0x100 : 0);   /* or a trap gate */
		}
		plan->restore_idt = 1;
		call_interrupts = 0;
		break;
	case VMI_CALL_SetGDT:
		if (below(3) == 0)
			r->eax = (uint32_t)&gdtr;
		else if (below(2))
			r->eax = scratch_pseudo_descriptor((uint32_t)gdt, sizeof gdt);
		plan->restore_gdt = 1;
		break;
	case VMI_CALL_SetTR: case VMI_CALL_SetLDT:
		if (below(2))
			r->eax = below(0x50);
		plan->restore_gdt = plan->call == VMI_CALL_SetTR;
		break;
	case VMI_CALL_WriteGDTEntry: case VMI_CALL_WriteLDTEntry:
		/* Into one of the storm's tables, at an index inside it: past it is the image. */
		if (below(2)) {
			int into_gdt = below(2);
			r->eax = into_gdt ? (uint32_t)gdt : (uint32_t)ldt;
			r->edx = into_gdt ? below(GDT_ENTRIES) : below(2);
		}
		plan->restore_gdt = plan->call == VMI_CALL_WriteGDTEntry;
		break;
	default:
		break;
	}
}

static void plan_call(struct plan *plan)
{
	memset(plan, 0, sizeof *plan);
	plan->call = VMI_CALL_FIRST + below(VMI_CALL_COUNT - VMI_CALL_FIRST);
	plan->through_rom = below(2);
	/* From the kernel, Reboot and Shutdown end the run: here they are made from user mode. */
	plan->from_user = plan->call == VMI_CALL_Reboot || plan->call == VMI_CALL_Shutdown ||
	                  below(8) == 0;

	call_in.eax = any_value();
	call_in.ecx = any_value();
	call_in.edx = any_value();
	call_in.ebx = any_value();
	call_in.ebp = any_value();
	call_in.esi = any_value();
	call_in.edi = any_value();
	call_in.eflags = (random32() & EFLAGS_RANDOM) | EFLAGS_FIXED;
	call_args[0] = any_value();
	call_args[1] = any_value();
	call_kind = plan->through_rom ? STORM_KIND_CALL : STORM_KIND_FAR;
	call_target = ROM_CALL(plan->call);
	call_far.offset = VMI_PROCESS_HYPERCALL_ENTRY(plan->call);
	call_far.selector = VMI_PROCESS_CODE64_SELECTOR;
	call_from_user = plan->from_user;
	call_interrupts = below(4) == 0;
	shape_arguments(plan);
	call_user_eflags = EFLAGS_FIXED | (call_interrupts ? VMI_EFLAGS_IF : 0);
}

/* --- checks ------------------------------------------------------------------------------------------ */

static void report(const struct plan *plan, const char *what, uint32_t before, uint32_t after)
{
	if (++failures > MAX_REPORTED)
		return;
	put("storm: FAIL ");
	put(vmi_call_names[plan->call]);
	put(plan->through_rom ? " (ROM" : " (hypercall entry");
	put(plan->from_user ? ", user mode) " : ") ");
	put(what);
	put(": ");
	put_hex(before);
	put(" -> ");
	put_hex(after);
	put("\n");
}

static void check_returned(const struct plan *plan)
{
	static const char *const names[7] = { "eax", "ecx", "edx", "ebx", "ebp", "esi", "edi" };
	static const uint8_t x86_number[7] = { 0, 1, 2, 3, 5, 6, 7 }; /* of names[i] */
	uint32_t in[8], out[8];
	memcpy(in, &call_in, sizeof in);
	memcpy(out, &call_out, sizeof out);
	uint32_t results = vmi_call_result_registers(plan->call);
	for (unsigned i = 0; i < 7; i++)
		if (!(results & (1u << x86_number[i])) && in[i] != out[i])
			report(plan, names[i], in[i], out[i]);
	uint32_t kept = EFLAGS_DF | EFLAGS_AC;
	if ((call_in.eflags ^ call_out.eflags) & kept)
		report(plan, "eflags (DF or AC)", call_in.eflags, call_out.eflags);
}

/* --- the storm ------------------------------------------------------------------------------------- */

static uint32_t made[VMI_CALL_COUNT];
static uint32_t returned, landed, vectors[256];

void storm_unexpected_interrupt(uint32_t vector)
{
	put("storm: FAIL vector ");
	put_dec(vector);
	put(" arrived outside a call\n");
	exit_with(3);
}

/* A call made straight to vmirun's entry with interrupts off has one right outcome: from
 * user mode #GP (Syscall: vector 0x80), from the kernel a return, but for the calls that
 * move the guest or let interrupts in. The ROM's stubs do some calls themselves. */
static void check_direct_outcome(const struct plan *plan, uint32_t outcome)
{
	uint32_t expected;
	if (plan->through_rom || call_interrupts)
		return;
	if (plan->call == VMI_CALL_Syscall)
		expected = STORM_OUTCOME_VECTOR | VMI_SYSCALL_VECTOR;
	else if (plan->from_user)
		expected = STORM_OUTCOME_VECTOR | 13;
	else if (plan->call == VMI_CALL_IRET || plan->call == VMI_CALL_SYSEXIT ||
	         plan->call == VMI_CALL_EnableInterrupts || plan->call == VMI_CALL_SetInterruptMask)
		return;
	else
		expected = STORM_OUTCOME_RETURNED;
	if (outcome != expected)
		report(plan, "outcome (0: returned, 0x100 + vector)", expected, outcome);
}

static void account(const struct plan *plan, uint32_t outcome)
{
	made[plan->call]++;
	check_direct_outcome(plan, outcome);
	if (outcome & STORM_OUTCOME_VECTOR) {
		vectors[outcome & 0xFF]++;
		return;
	}
	switch (outcome) {
	case STORM_OUTCOME_RETURNED:
		returned++;
		if (plan->call == VMI_CALL_IRET || plan->call == VMI_CALL_SYSEXIT)
			report(plan, "returned to its caller", 0, 0);
		else
			check_returned(plan);
		break;
	case STORM_OUTCOME_LANDED:
		landed++;
		break;
	default:
		report(plan, "came back from its jump", outcome, 0);
		break;
	}
}

static uint32_t option(const char *cmdline, const char *name, uint32_t otherwise, int *given)
{
	for (const char *p = cmdline; *p; p++) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		const char *a = p, *b = name;
		while (*b && *a == *b) {
			a++;
			b++;
		}
		if (*b || *a < '0' || *a > '9')
			continue;
		uint32_t value = 0;
		while (*a >= '0' && *a <= '9')
			value = value * 10 + (uint32_t)(*a++ - '0');
		if (given)
			*given = 1;
		return value;
	}
	return otherwise;
}


static void summary(uint32_t calls)
{
	put("storm: ");
	put_dec(returned);
	put(" returned, ");
	put_dec(landed);
	put(" landed where an IRET or SYSEXIT sent them, ");
	put_dec(calls - returned - landed);
	put(" ended by a vector\n");
	put("storm: vectors (vector:calls):");
	for (unsigned v = 0; v < 256; v++) {
		if (!vectors[v])
			continue;
		put(" ");
		put_dec(v);
		put(":");
		put_dec(vectors[v]);
	}
	put("\n");
	/* Fewer calls than that may leave one out by chance. */
	if (calls >= 100 * (VMI_CALL_COUNT - VMI_CALL_FIRST)) {
		for (unsigned c = VMI_CALL_FIRST; c < VMI_CALL_COUNT; c++) {
			if (made[c])
				continue;
			put("storm: FAIL ");
			put(vmi_call_names[c]);
			put(" was never made\n");
			failures++;
		}
	}
}

void guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	static char cmdline[256];
	if (info->flags & MULTIBOOT_INFO_CMDLINE) {
		const char *from = (const char *)info->cmdline;
		size_t n = 0;
		while (n < sizeof cmdline - 1 && from[n]) {
			cmdline[n] = from[n];
			n++;
		}
	}
	int seeded = 0;
	uint32_t seed = option(cmdline, "seed=", 0, &seeded);
	if (!seeded) {
		uint64_t tsc = rdtsc();
		seed = (uint32_t)tsc ^ (uint32_t)(tsc >> 32);
	}
	put("storm: seed ");
	put_dec(seed);
	put("\n");
	random_state = seed ? seed : 0x9E3779B9u;   /* xorshift never leaves 0 */
	uint32_t calls = option(cmdline, "calls=", DEFAULT_CALLS, NULL);

	if (!(info->flags & MULTIBOOT_INFO_MEMORY))
		fail("no memory size from the boot loader");
	ram_end = VMI_PROCESS_RAM_BASE + info->mem_upper * 1024;
	scratch_base = (((uint32_t)_end + 0xFFF) & ~0xFFFu) + OWN_MARGIN;
	if (ram_end < scratch_base + SCRATCH_SIZE + OWN_MARGIN)
		fail("too little RAM for the scratch area");
	const uint32_t edge_list[8] = { 0, VMI_PROCESS_LOW_RAM_BASE, VMI_PROCESS_LOW_RAM_END, VMI_ROM_BASE,
	                                ram_end, VMI_PROCESS_WINDOW_BASE, 0x80000000u,
	                                scratch_base + SCRATCH_SIZE };
	memcpy(edges, edge_list, sizeof edges);
	build_machine();

	for (uint32_t n = 0; n < calls; n++) {
		struct plan plan;
		stir_scratch();
		plan_call(&plan);
		account(&plan, storm_call());
		if (plan.restore_idt)
			restore_idt();
		if (plan.restore_gdt)
			restore_gdt_and_tr();
	}
	summary(calls);
	rom1(VMI_CALL_CancelAlarm, 0);

	const char *end = cmdline_has_word(cmdline, "end=shutdown") ? "Shutdown"
	                : cmdline_has_word(cmdline, "end=reboot") ? "Reboot"
	                : cmdline_has_word(cmdline, "end=halt") ? "Halt with interrupts disabled"
	                : "the exit port";
	if (failures)
		end = "the exit port";
	put("storm: ");
	put_dec(calls);
	put(" calls made, ending with ");
	put(end);
	put("\n");
	if (end[0] == 'S')
		rom0(VMI_CALL_Shutdown);
	else if (end[0] == 'R')
		rom1(VMI_CALL_Reboot, 0);
	else if (end[0] == 'H')
		rom0(VMI_CALL_Halt);   /* interrupts are off outside calls: vmirun stops the guest */
	else
		exit_with(failures ? 3 : 0);
	put("storm: FAIL the last call returned\n");
	exit_with(3);
}
