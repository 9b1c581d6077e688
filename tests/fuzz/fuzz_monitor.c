/* libFuzzer target for the monitor's guest-facing code: the hypercall dispatcher
 * (vmm/monitor/hypercall.c) and the instruction emulator (emulate.c), with all they reach
 * (descriptor tables, interrupt delivery, IRET, ports and devices, timers), and the ROM's
 * ring switches as vmirun resolves them (transition.c), driven by guest
 * registers, guest memory and vCPU-page contents taken from the input.
 *
 * The input is a list of operations, each a kind byte and its operands (reads past the end
 * give zeros):
 *   STORE      value addr, byte n, n bytes      the guest writes its own memory
 *   HYPERCALL  byte call, 10 registers          the hypercall exit (monitor_handle_exit),
 *                                               with the registers as the hypercall path
 *                                               saves them (eip and esp as after the far
 *                                               call returned)
 *   EMULATE    10 registers, byte n, n bytes    a trapped instruction, then its outcome
 *   RAISE      byte vector                      an interrupt raised, as by a timer signal
 *   SHARED     byte field, value                the guest writes its shared vCPU page
 *   BOOT       byte flags                       what a kernel does first: GDT, IDT, TSS, LDT
 *   TRANSITION byte what, 10 registers          a fault or single-step trap, or an interrupt
 *                                               due, inside the ROM's ring switch that the
 *                                               vCPU page's mark says (transition.c)
 * A value is a byte saying how to read it (raw 32 bits, a landmark plus a small delta, a
 * small number, an address in RAM) and then its bytes; the landmarks (the edges of guest
 * memory, the tables BOOT loads, the device ports) spare the fuzzer guessing 32-bit numbers.
 *
 * Guest memory is a 4 GiB reservation anywhere in the process (ASan's shadow owns the low
 * 4 GiB vmirun would use), with low memory and RAM read-write and the ROM read-only at their
 * guest offsets, everything else inaccessible: an access the monitor did not check faults
 * here even where it would land in vmirun's own mappings. Beyond the sanitizers, each
 * operation checks what docs/abi.md promises: a hypercall that returns to its caller
 * changes only its result registers; a delivered interrupt leaves the guest at a validated
 * handler with its frame in guest memory; an emulated instruction the monitor refuses or
 * faults leaves eip at the instruction; the shadow IDT holds only validated gates; a stop
 * gives a one-line reason.
 *
 * What would leave this process, or hang it, is made safe: a stop request ends the input,
 * as vmirun's run would end; a Halt that would sleep until an alarm is left out; alarms and the PIT arm real
 * POSIX timers whose signals stay blocked; no --timeout is set, so the timeout checks never
 * stop; the guest's console bytes go to /dev/null. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmi/call_results.h>
#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/vcpu_page.h>
#include "platform/process/address_space.h"
#include "devices/io_bus.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "monitor/emulate.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "platform/process/transition.h"
#include "monitor/virtual_cpu.h"
#include "platform.h"

/* The guest's TLB (monitor/mmu.c) would map and unmap the low 4 GiB of this process, which
 * ASan owns here: linked with --wrap (tests/fuzz/fuzz.mk), these make no mapping, and the
 * monitor reaches guest memory through translation and the lent view anyway. */
int __wrap_platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size,
                                    int writable);
int __wrap_platform_unmap_linear(uint32_t linear, uint32_t size);
int __wrap_platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size,
                                    int writable)
{
	(void)linear, (void)physical, (void)size, (void)writable;
	return 0;
}
int __wrap_platform_unmap_linear(uint32_t linear, uint32_t size)
{
	(void)linear, (void)size;
	return 0;
}

#define PAGE_SIZE        4096u
#define FOUR_GIB         0x100000000ull
#define FUZZ_RAM_SIZE    0x100000u                     /* 1 MiB of RAM from 1 MiB */
#define FUZZ_RAM_END     (VMI_PROCESS_RAM_BASE + FUZZ_RAM_SIZE)
#define FUZZ_ROM_SIZE    0x2000u
#define LOW_RAM_MAPPED   ((VMI_PROCESS_LOW_RAM_END + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define MAX_OPERATIONS   128
#define MAX_CODE         15                            /* the longest x86 instruction */
/* rep ins/outs counts, cut to this: the monitor's loop is the same at any count, and a
 * count of 2^32 runs until the end of guest memory, a million items under the sanitizers.
 * The edges of guest memory are reached by starting near them (take_value). */
#define MAX_STRING_COUNT 0xFFFu

/* Where BOOT puts a kernel's tables, in RAM; also among the values take_value favours. */
#define BOOT_GDT         (VMI_PROCESS_RAM_BASE + 0x1000)
#define BOOT_IDT         (VMI_PROCESS_RAM_BASE + 0x2000)
#define BOOT_TSS         (VMI_PROCESS_RAM_BASE + 0x3000)
#define BOOT_LDT         (VMI_PROCESS_RAM_BASE + 0x3800)
#define BOOT_GDTR        (VMI_PROCESS_RAM_BASE + 0x4000)
#define BOOT_IDTR        (VMI_PROCESS_RAM_BASE + 0x4008)
#define BOOT_STACK       (VMI_PROCESS_RAM_BASE + 0x6000)
#define BOOT_ESP0        (VMI_PROCESS_RAM_BASE + 0x7000)
#define BOOT_HANDLERS    (VMI_PROCESS_RAM_BASE + 0x8000)  /* 16 bytes per vector */
#define BOOT_GDT_ENTRIES 8
#define BOOT_TSS_INDEX   6
#define BOOT_LDT_INDEX   7

enum operation {
	OP_STORE, OP_HYPERCALL, OP_EMULATE, OP_RAISE, OP_SHARED, OP_BOOT, OP_TRANSITION, OP_COUNT
};

static uint8_t *guest_zero;    /* host address of guest address 0 */

/* --- the input ----------------------------------------------------------------------------- */

struct input {
	const uint8_t *data;
	size_t size, at;
};

static uint8_t take8(struct input *in)
{
	return in->at < in->size ? in->data[in->at++] : 0;
}

static uint32_t take32(struct input *in)
{
	uint32_t value = 0;
	for (int i = 0; i < 4; i++)
		value |= (uint32_t)take8(in) << (8 * i);
	return value;
}

static const uint32_t landmarks[] = {
	0, VMI_PROCESS_LOW_RAM_BASE, VMI_PROCESS_BOOT_STACK_TOP, VMI_PROCESS_LOW_RAM_END,
	LOW_RAM_MAPPED, VMI_ROM_BASE, VMI_ROM_BASE + FUZZ_ROM_SIZE, VMI_PROCESS_RAM_BASE,
	FUZZ_RAM_END, VMI_PROCESS_WINDOW_BASE, VMI_PROCESS_VCPU_PAGE, 0x80000000u,
	BOOT_GDT, BOOT_IDT, BOOT_TSS, BOOT_LDT, BOOT_GDTR, BOOT_IDTR, BOOT_STACK, BOOT_ESP0,
	BOOT_HANDLERS, BOOT_HANDLERS + 0x80 * 16,
	VMI_PORT_COM1, VMI_PORT_EXIT, PIC_MASTER_COMMAND, PIC_SLAVE_COMMAND, PIT_CHANNEL0,
};

static uint32_t take_value(struct input *in)
{
	uint8_t how = take8(in);
	switch (how % 4) {
	case 0:
		return take32(in);
	case 1: {
		uint32_t base = landmarks[(how / 4) % (sizeof landmarks / sizeof landmarks[0])];
		return base + (uint32_t)(int32_t)(int8_t)take8(in);
	}
	case 2:
		return take8(in);
	default: {
		uint32_t offset = take8(in) | (uint32_t)take8(in) << 8;
		return VMI_PROCESS_RAM_BASE + offset * 16 % FUZZ_RAM_SIZE + how / 4 % 16;
	}
	}
}

static struct guest_regs take_regs(struct input *in)
{
	struct guest_regs regs;
	regs.eax = take_value(in);
	regs.ecx = take_value(in);
	regs.edx = take_value(in);
	regs.ebx = take_value(in);
	regs.esp = take_value(in);
	regs.ebp = take_value(in);
	regs.esi = take_value(in);
	regs.edi = take_value(in);
	regs.eip = take_value(in);
	regs.eflags = take_value(in);
	return regs;
}

/* --- leaving the guest: the run that platform_run would have had ends here instead ------- */

/* The platform's stop requests, recorded here instead (the link wraps them: -Wl,--wrap,
 * tests/fuzz/fuzz.mk), so that each operation starts with none and a stop ends the input.
 * A reason for the user is one non-empty line. */
static enum guest_stop_reason stop_reason;

void __wrap_platform_request_stop(enum guest_stop_reason reason, const struct guest_regs *regs,
                                  const char *message);
void __wrap_platform_request_exit_port_stop(int value);
int __wrap_platform_stop_requested(void);

void __wrap_platform_request_stop(enum guest_stop_reason reason, const struct guest_regs *regs,
                                  const char *message)
{
	(void)regs;
	if (reason == GUEST_STOP_NONE)
		abort();
	if ((reason == GUEST_STOP_FAULT || reason == GUEST_STOP_HALTED ||
	     reason == GUEST_STOP_NOT_IMPLEMENTED) &&
	    (!message || !*message || strchr(message, '\n')))
		abort();
	if (stop_reason == GUEST_STOP_NONE)
		stop_reason = reason;
	platform_attention = 1;
}

void __wrap_platform_request_exit_port_stop(int value)
{
	(void)value;
	__wrap_platform_request_stop(GUEST_STOP_EXIT_PORT, NULL, NULL);
}

int __wrap_platform_stop_requested(void)
{
	return stop_reason != GUEST_STOP_NONE;
}

/* --- checks ------------------------------------------------------------------------------ */

static void check_preserved(const struct guest_regs *before, const struct guest_regs *after,
                            uint32_t may_change)
{
	uint32_t a[sizeof(struct guest_regs) / 4], b[sizeof(struct guest_regs) / 4];
	memcpy(a, before, sizeof a);
	memcpy(b, after, sizeof b);
	for (unsigned i = 0; i < sizeof a / sizeof a[0]; i++)
		if (!(may_change & (1u << i)) && a[i] != b[i])
			abort();
}

/* Delivery sent the guest to a gate's handler, checked as guest memory when the gate was
 * written, with the frame (eip, cs, eflags at least) pushed in guest memory. */
static void check_delivered(const struct guest_regs *regs)
{
	/* With paging on the handler may have been unmapped since (the guest then takes #PF
	 * fetching it, as on hardware); the frame was just written, so it must translate. */
	if (mmu_paging()) {
		if (!guest_accessible(regs->esp, 12, 1))
			abort();
		return;
	}
	if (!platform_guest_unpaged(regs->eip, 1, 0) ||
	    !platform_guest_unpaged(regs->esp, 12, 1))
		abort();
}

/* The shadow IDT holds only what SetIDT and WriteIDTEntry validated. */
static void check_shadow_idt(void)
{
	if (mmu_paging())
		return; /* validated under the translation of its time, which may have changed */
	for (unsigned v = 0; v < VIRTUAL_IDT_ENTRIES; v++) {
		const struct virtual_gate *gate = &virtual_cpu.idt[v];
		if (gate->present && (!platform_guest_unpaged(gate->handler, 1, 0) ||
		                      (gate->selector & 0xFFFC) == 0 || (gate->selector & 4)))
			abort();
	}
}

/* --- the operations ---------------------------------------------------------------------- */

/* Halt sleeps in sigsuspend until the host alarm fires: that may be never (an expiry
 * centuries ahead), and sigsuspend lets in the alarm's signal, which nothing handles here
 * (its default action ends the process). The sleeping case is left out; the Halts that
 * return or stop are made. */
static int halt_would_sleep(uint32_t call)
{
	return call == VMI_CALL_Halt && virtual_cpu_ring() == 0 &&
	       virtual_cpu_interrupts_enabled() && virtual_cpu_highest_pending() < 0 &&
	       timer_alarm_armed();
}

/* 0 if the guest runs on, -1 if the call stopped it. */
static int hypercall(uint32_t call, const struct guest_regs *regs)
{
	if (halt_would_sleep(call))
		return 0;
	uint64_t delivered = virtual_cpu.interrupts_delivered;
	struct guest_regs after = *regs;
	struct guest_exit exit = { .kind = GUEST_EXIT_HYPERCALL, .call = call };
	switch (monitor_handle_exit(&exit, &after)) {
	case EXIT_STOP:
		if (!stop_reason)
			abort(); /* a stop with no reason recorded */
		return -1;
	case EXIT_CONTINUE:
		check_preserved(regs, &after, vmi_call_result_registers(call));
		break;
	case EXIT_RESUME:
		if (virtual_cpu.interrupts_delivered != delivered)
			check_delivered(&after);
		break;
	}
	if (stop_reason)
		abort(); /* a stop the exit did not report */
	return 0;
}

static int emulate(struct input *in)
{
	struct guest_regs regs = take_regs(in);
	uint8_t code[MAX_CODE];
	size_t length = take8(in) % (MAX_CODE + 1);
	for (size_t i = 0; i < length; i++) {
		code[i] = take8(in);
		if (code[i] >= 0x6C && code[i] <= 0x6F) /* ins, outs */
			regs.ecx &= MAX_STRING_COUNT;
	}

	const struct guest_regs before = regs;
	struct emulate_outcome outcome;
	enum emulate_result result = emulate_instruction(&regs, code, length, &outcome);
	if (stop_reason)
		return -1; /* the exit port, an IRET frame outside memory: the run ends */
	uint32_t advance = regs.eip - before.eip;
	switch (result) {
	case EMULATE_DONE:
		if (!strcmp(outcome.mnemonic, "?"))
			abort();
		/* past the instruction, unless it moved the guest itself */
		if (strcmp(outcome.mnemonic, "iret") && strcmp(outcome.mnemonic, "ljmp") &&
		    strcmp(outcome.mnemonic, "lcall") && (advance == 0 || advance > length))
			abort();
		return 0;
	case EMULATE_HALT:
		if (advance == 0 || advance > length)
			abort();
		return 0; /* the Halt call covers what follows */
	case EMULATE_INTERRUPT:
		if (outcome.vector > 255 || (outcome.software_length == 0 && advance != 0))
			abort(); /* a fault points at the instruction that raised it */
		virtual_cpu_deliver(&regs, outcome.vector, outcome.error_code,
		                    outcome.software_length);
		if (stop_reason)
			return -1; /* the guest could not take it */
		check_delivered(&regs);
		return 0;
	case EMULATE_UNSUPPORTED:
		check_preserved(&before, &regs, 0);
		virtual_cpu_deliver(&regs, 13, 0, 0); /* reflected as #GP (docs/abi.md) */
		if (stop_reason)
			return -1;
		check_delivered(&regs);
		return 0;
	case EMULATE_NOT_IMPLEMENTED:
		/* The guest stops at the instruction, with the reason as one line. */
		check_preserved(&before, &regs, 0);
		if (!memchr(outcome.reason, '\0', sizeof outcome.reason) || !outcome.reason[0] ||
		    strchr(outcome.reason, '\n'))
			abort();
		return -1;
	}
	abort(); /* a result this target does not know: teach it what the result promises */
}

/* What the signal handlers (platform/process/signals.c) hand transition.c: a fault, a
 * single-step trap, or an interrupt due while the mark is set. A resolved fault or step
 * leaves a state the guest can resume. */
static int transition(struct input *in)
{
	uint8_t what = take8(in) % 3;
	struct guest_regs regs = take_regs(in);
	uint64_t delivered = virtual_cpu.interrupts_delivered;
	if (what == 0) {
		int resolved = transition_on_fault(&regs);
		if (stop_reason)
			return -1;
		if (resolved && virtual_cpu.interrupts_delivered != delivered)
			check_delivered(&regs);
	} else if (what == 1) {
		int resolved = transition_on_step(&regs);
		if (stop_reason)
			return -1;
		if (resolved && virtual_cpu.interrupts_delivered != delivered)
			check_delivered(&regs);
	} else {
		transition_step_out(&regs);
		if (!(regs.eflags & VMI_EFLAGS_TF))
			abort();
	}
	return 0;
}

static void store(uint32_t address, const void *bytes, uint32_t length)
{
	void *to = platform_guest_unpaged(address, length, 1);
	if (to)
		memcpy(to, bytes, length);
}

static void store32(uint32_t address, uint32_t value)
{
	store(address, &value, 4);
}

static uint64_t segment(uint32_t base, uint32_t limit, unsigned access)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)0xC << 52 | (uint64_t)(base >> 24) << 56;
}

/* A kernel's first steps, so the fuzzer starts from a machine with handlers, a TSS and an
 * LDT instead of finding 256 valid gates by chance. flags: bits 0-1 the DPL of every gate
 * but 0x80's (always 3, so the fast system-call entry is published), bit 2 trap gates, bit
 * 3 skips SetTR, bit 4 skips SetLDT. Each step goes through the real hypercall. */
static int boot(uint8_t flags)
{
	uint64_t gdt[BOOT_GDT_ENTRIES] = { 0 };
	gdt[VMI_PROCESS_KERNEL_CS >> 3] = segment(0, 0xFFFFF, 0x9A);
	gdt[VMI_PROCESS_KERNEL_DS >> 3] = segment(0, 0xFFFFF, 0x92);
	gdt[BOOT_TSS_INDEX] = segment(BOOT_TSS, 103, 0x89) & ~((uint64_t)0xC << 52);
	gdt[BOOT_LDT_INDEX] = segment(BOOT_LDT, 15, 0x82) & ~((uint64_t)0xC << 52);
	store(BOOT_GDT, gdt, sizeof gdt);
	uint64_t ldt[2] = { 0, segment(0, 0xFFFFF, 0xF2) };
	store(BOOT_LDT, ldt, sizeof ldt);
	store32(BOOT_TSS + VMI_TSS_ESP0, BOOT_ESP0);
	for (unsigned v = 0; v < VIRTUAL_IDT_ENTRIES; v++) {
		uint32_t handler = BOOT_HANDLERS + v * 16;
		unsigned dpl = v == VMI_SYSCALL_VECTOR ? 3 : flags & 3;
		unsigned type = v != VMI_SYSCALL_VECTOR && (flags & 4) ? 0xF : 0xE;
		uint32_t gate[2] = { (uint32_t)VMI_PROCESS_KERNEL_CS << 16 | (handler & 0xFFFF),
		                     (handler & 0xFFFF0000) | 0x8000 | dpl << 13 | type << 8 };
		store(BOOT_IDT + v * 8, gate, sizeof gate);
	}
	uint8_t gdtr[6] = { sizeof gdt - 1, 0, (uint8_t)BOOT_GDT, (uint8_t)(BOOT_GDT >> 8),
	                    (uint8_t)(BOOT_GDT >> 16), (uint8_t)(BOOT_GDT >> 24) };
	uint8_t idtr[6] = { 0xFF, 0x07, (uint8_t)BOOT_IDT, (uint8_t)(BOOT_IDT >> 8),
	                    (uint8_t)(BOOT_IDT >> 16), (uint8_t)(BOOT_IDT >> 24) };
	store(BOOT_GDTR, gdtr, sizeof gdtr);
	store(BOOT_IDTR, idtr, sizeof idtr);
	/* The state after the far call, as world_switch.S hands it over: eip the return address,
	 * esp above the far-return frame. */
	struct guest_regs regs = { .esp = BOOT_STACK, .eflags = 0x202, .eip = BOOT_HANDLERS - 16 };
	regs.eax = BOOT_GDTR;
	if (hypercall(VMI_CALL_SetGDT, &regs) != 0)
		return -1;
	regs.eax = BOOT_IDTR;
	if (hypercall(VMI_CALL_SetIDT, &regs) != 0)
		return -1;
	regs.eax = BOOT_TSS_INDEX << 3;
	if (!(flags & 8) && hypercall(VMI_CALL_SetTR, &regs) != 0)
		return -1;
	regs.eax = BOOT_LDT_INDEX << 3;
	if (!(flags & 16) && hypercall(VMI_CALL_SetLDT, &regs) != 0)
		return -1;
	return 0;
}

static int operation(struct input *in)
{
	switch (take8(in) % OP_COUNT) {
	case OP_STORE: {
		uint32_t address = take_value(in);
		uint8_t bytes[32];
		uint32_t length = take8(in) % sizeof bytes + 1;
		for (uint32_t i = 0; i < length; i++)
			bytes[i] = take8(in);
		store(address, bytes, length);
		return 0;
	}
	case OP_HYPERCALL: {
		uint32_t call = take8(in) % VMI_CALL_COUNT;
		struct guest_regs regs = take_regs(in);
		if ((call >= VMI_CALL_INS && call <= VMI_CALL_INSW) ||
		    (call >= VMI_CALL_OUTS && call <= VMI_CALL_OUTSW))
			regs.ecx &= MAX_STRING_COUNT;
		return hypercall(call, &regs);
	}
	case OP_EMULATE:
		return emulate(in);
	case OP_RAISE:
		virtual_cpu_raise(take8(in));
		return 0;
	case OP_SHARED: {
		unsigned field = take8(in) % (VMI_VCPU_PAGE_USED / 4);
		uint32_t value = take_value(in);
		memcpy((uint8_t *)virtual_cpu_shared() + field * 4, &value, 4);
		return 0;
	}
	case OP_BOOT:
		return boot(take8(in));
	default:
		return transition(in);
	}
}

/* --- the machine ------------------------------------------------------------------------- */

static void fail(const char *what)
{
	perror(what);
	abort();
}

static void make_memory(void)
{
	void *reserved = mmap(NULL, FOUR_GIB, PROT_NONE,
	                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reserved == MAP_FAILED)
		fail("fuzz_monitor: reserving 4 GiB for guest memory");
	guest_zero = reserved;
	/* As address_space_use_memory says: low memory from physical 0 (paging reaches the
	 * first 64 KiB too), RAM, and the whole ROM area up to 1 MiB, read-only. */
	if (mprotect(guest_zero, LOW_RAM_MAPPED, PROT_READ | PROT_WRITE) != 0 ||
	    mprotect(guest_zero + VMI_PROCESS_RAM_BASE, FUZZ_RAM_SIZE, PROT_READ | PROT_WRITE) != 0 ||
	    mprotect(guest_zero + VMI_ROM_BASE, VMI_PROCESS_RAM_BASE - VMI_ROM_BASE,
	             PROT_READ | PROT_WRITE) != 0)
		fail("fuzz_monitor: mapping guest memory");
	/* Any bytes: the ROM is only read (frames, gate handlers) here. */
	for (uint32_t i = 0; i < FUZZ_ROM_SIZE; i++)
		guest_zero[VMI_ROM_BASE + i] = (uint8_t)(i * 7);
	if (mprotect(guest_zero + VMI_ROM_BASE, VMI_PROCESS_RAM_BASE - VMI_ROM_BASE, PROT_READ) != 0)
		fail("fuzz_monitor: protecting the ROM");
	address_space_use_memory(guest_zero, FUZZ_RAM_SIZE, FUZZ_ROM_SIZE);
}

/* Every input starts from a freshly booted machine: zeroed memory, the virtual CPU as
 * virtual_cpu_reset_state leaves it (on its unattached page: there is no window here), the
 * PICs and the PIT at power-on, no alarm, no transition being stepped out of. What lives
 * elsewhere (statistics, the calibrated TSC frequency) carries over between inputs; none of
 * it decides what memory the monitor touches. */
static void reset_machine(void)
{
	if (madvise(guest_zero, LOW_RAM_MAPPED, MADV_DONTNEED) != 0 ||
	    madvise(guest_zero + VMI_PROCESS_RAM_BASE, FUZZ_RAM_SIZE, MADV_DONTNEED) != 0)
		fail("fuzz_monitor: zeroing guest memory");
	virtual_cpu_reset_state();
	struct guest_regs unused = { 0 };
	transition_on_step(&unused);   /* forgets a step-out an earlier input began */

	/* ICW1-ICW4 with the BIOS's bases, all masked; PIT mode 0, reload 0. */
	static const uint8_t pic_init[2][5] = { { 0x11, 0x08, 0x04, 0x01, 0xFF },
	                                        { 0x11, 0x70, 0x02, 0x01, 0xFF } };
	for (int p = 0; p < 2; p++) {
		uint16_t command = p ? PIC_SLAVE_COMMAND : PIC_MASTER_COMMAND;
		io_bus_write(command, 1, pic_init[p][0]);
		for (int i = 1; i < 5; i++)
			io_bus_write(command + 1, 1, pic_init[p][i]);
	}
	io_bus_write(PIT_COMMAND, 1, 0x30);
	io_bus_write(PIT_CHANNEL0, 1, 0);
	io_bus_write(PIT_CHANNEL0, 1, 0);
	timer_cancel_alarm(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The alarms are real POSIX timers (so SetAlarm and the PIT run their real code), their
	 * signals blocked: nothing here would take them, and their default action ends the
	 * process. */
	sigset_t alarms;
	sigemptyset(&alarms);
	sigaddset(&alarms, timer_signal());
	sigaddset(&alarms, timer_kick_signal());
	sigprocmask(SIG_BLOCK, &alarms, NULL);
	if (timer_setup() != 0)
		fail("fuzz_monitor: timer_setup");
	/* The guest's console bytes would drown libFuzzer's report. */
	int null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		fail("fuzz_monitor: /dev/null");
	close(null);
	make_memory();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size, 0 };
	reset_machine();
	stop_reason = GUEST_STOP_NONE;
	platform_attention = 0;
	for (int n = 0; n < MAX_OPERATIONS && in.at < in.size; n++) {
		if (operation(&in) != 0)
			break; /* the guest was stopped: vmirun would exit here */
		check_shadow_idt();
	}
	return 0;
}
