/* Every way the guest comes back to the monitor, on one screen: the platform turns each into
 * an exit record (platform.h), and this says what happens and what the platform does next. */
#include <stdio.h>
#include <string.h>

#include <vmi/cpu.h>
#include "monitor/emulate.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "monitor/monitor.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"

#define MAX_INSTRUCTION_BYTES 15
#define PAGE_BYTES 4096u
#define VECTOR_PAGE_FAULT 14
#define VECTOR_GENERAL_PROTECTION 13
#define ERROR_CODE_USER 4
#define TIMEOUT_MESSAGE "timeout: the guest was stopped"

/* Not inlined: their message buffers would make every hypercall's frame large. */
static __attribute__((noinline)) enum exit_action guest_fault(const struct guest_exit *exit,
                                                              struct guest_regs *regs);
static __attribute__((noinline)) enum exit_action guest_syscall(const struct guest_exit *exit,
                                                                struct guest_regs *regs);

enum exit_action monitor_handle_exit(const struct guest_exit *exit, struct guest_regs *regs)
{
	enum exit_action action = EXIT_CONTINUE;

	switch (exit->kind) {
	case GUEST_EXIT_HYPERCALL:
		action = monitor_hypercall(exit->call, regs);
		break;
	case GUEST_EXIT_FAULT:
		action = guest_fault(exit, regs);
		break;
	case GUEST_EXIT_SYSCALL:
		action = guest_syscall(exit, regs);
		break;
	case GUEST_EXIT_INTERRUPT:
		if (virtual_cpu_deliver_pending(regs))
			action = EXIT_RESUME;
		break;
	case GUEST_EXIT_TIMEOUT:
		platform_request_stop(GUEST_STOP_TIMEOUT, regs, TIMEOUT_MESSAGE);
		break;
	}
	/* A stop requested, or the timeout run out while the monitor worked, its notice held
	 * back: one load in the common case. */
	if (platform_attention && monitor_stop_if_timed_out(0))
		return EXIT_STOP;
	if (monitor_follow_ring() != 0)
		return EXIT_STOP;
	return action;
}

/* Under strict isolation the ring an exit left the guest in chooses the address space it
 * runs in: the user's or the kernel's. */
int monitor_follow_ring(void)
{
	if (virtual_cpu_user_isolated() && mmu_ring_entered(virtual_cpu_ring() == 3) != 0)
		return -1;
	return 0;
}

int monitor_stop_if_timed_out(int read_clock)
{
	if (platform_timed_out(read_clock))
		platform_request_stop(GUEST_STOP_TIMEOUT, NULL, TIMEOUT_MESSAGE);
	return platform_stop_requested();
}

/* --- faults ------------------------------------------------------------------------------ */

/* Vectors for which the CPU pushes an error code. */
static int has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static const char *exception_name(unsigned vector)
{
	switch (vector) {
	case 0: return "divide error (#DE)";
	case 1: return "debug exception (#DB)";
	case 3: return "breakpoint (#BP)";
	case 4: return "overflow (#OF)";
	case 5: return "bound range exceeded (#BR)";
	case 6: return "invalid opcode (#UD)";
	case 7: return "device not available (#NM)";
	case 10: return "invalid TSS (#TS)";
	case 11: return "segment not present (#NP)";
	case 12: return "stack-segment fault (#SS)";
	case 13: return "general protection fault (#GP)";
	case 14: return "page fault (#PF)";
	case 16: return "x87 floating-point error (#MF)";
	case 17: return "alignment check (#AC)";
	case 19: return "SIMD floating-point error (#XM)";
	default: return "exception";
	}
}

/* A fault the guest cannot take: stop, naming it. */
static enum exit_action stop_on_fault(const struct guest_exit *exit,
                                      const struct guest_regs *regs)
{
	char message[256];

	if (exit->vector == VECTOR_PAGE_FAULT)
		snprintf(message, sizeof(message),
		         "guest fault: %s at eip 0x%08x, address 0x%08x, error code 0x%x",
		         exception_name(exit->vector), regs->eip, exit->fault_address,
		         exit->error_code);
	else
		snprintf(message, sizeof(message), "guest fault: %s at eip 0x%08x, error code 0x%x",
		         exception_name(exit->vector), regs->eip, exit->error_code);
	stats_count_trap(STATS_TRAP_FAULT);
	platform_request_stop(GUEST_STOP_FAULT, regs, message);
	return EXIT_STOP;
}

/* The privileged instruction at eip, if the monitor emulates it: 1 with *action set, or 0. */
static int try_emulate(struct guest_regs *regs, enum exit_action *action)
{
	uint8_t code[MAX_INSTRUCTION_BYTES];
	size_t available = 0;

	/* Page by page, as far as guest memory goes: an instruction may straddle two pages, of
	 * which only the first is memory; every area of guest memory is whole pages. One
	 * translation per page, not per byte: with paging each is a walk. */
	while (available < sizeof(code)) {
		uint32_t at = regs->eip + (uint32_t)available;
		uint32_t want = PAGE_BYTES - (at & (PAGE_BYTES - 1));
		if (want > sizeof(code) - available)
			want = (uint32_t)(sizeof(code) - available);
		const uint8_t *bytes = guest_page_pointer(at, want, 0);
		if (!bytes)
			break;
		memcpy(code + available, bytes, want);
		available += want;
	}
	if (available == 0)
		return 0;

	struct emulate_outcome outcome;
	switch (emulate_instruction(regs, code, available, &outcome)) {
	case EMULATE_UNSUPPORTED:
		return 0;
	case EMULATE_NOT_IMPLEMENTED: {
		char message[256];
		snprintf(message, sizeof(message), "guest stopped at eip 0x%08x: %s", regs->eip,
		         outcome.reason);
		platform_request_stop(GUEST_STOP_NOT_IMPLEMENTED, regs, message);
		*action = EXIT_STOP;
		return 1;
	}
	case EMULATE_INTERRUPT:
		stats_count_emulation(outcome.mnemonic);
		virtual_cpu_deliver(regs, outcome.vector, outcome.error_code, outcome.software_length);
		*action = EXIT_RESUME;
		return 1;
	case EMULATE_HALT:
		stats_count_emulation(outcome.mnemonic);
		monitor_halt(regs);
		break;
	case EMULATE_DONE:
		stats_count_emulation(outcome.mnemonic);
		break;
	}
	virtual_cpu_deliver_pending(regs);
	*action = EXIT_RESUME;
	return 1;
}

/* A trapped instruction the monitor emulates, else the exception reflected to the guest's
 * own handler: with no gate it becomes #GP(vector*8+2), as on hardware (see
 * virtual_cpu_deliver); with no #GP gate either, the guest stops naming the original. */
static enum exit_action guest_fault(const struct guest_exit *exit, struct guest_regs *regs)
{
	unsigned vector = exit->vector;
	enum exit_action action;

	if (!exit->in_guest_code)
		return stop_on_fault(exit, regs);
	if (vector == VECTOR_GENERAL_PROTECTION && try_emulate(regs, &action))
		return action;
	if (!virtual_cpu_has_gate(vector) && !virtual_cpu_has_gate(VECTOR_GENERAL_PROTECTION))
		return stop_on_fault(exit, regs);

	int64_t error_code = -1;
	if (has_error_code(vector))
		error_code = exit->error_code;
	if (vector == VECTOR_PAGE_FAULT) {
		virtual_cpu.cr2 = exit->fault_address;
		virtual_cpu_shared()->cr2 = exit->fault_address;
		if (exit->page_walk_error >= 0) {
			error_code = exit->page_walk_error;
			stats_count_paging(STATS_PAGING_FAULT_DELIVERED, 1);
		} else {
			/* the hardware always says "user"; the guest expects its virtual ring */
			error_code = (error_code & ~ERROR_CODE_USER) |
			             (virtual_cpu_ring() == 3 ? ERROR_CODE_USER : 0);
		}
	}
	virtual_cpu_deliver(regs, vector, error_code, 0);
	return EXIT_RESUME;
}

/* --- system calls ------------------------------------------------------------------------ */

/* A guest system call (int $0x80) never reaches the host kernel: it goes to the guest's own
 * gate, or, with none, stops the guest. */
static enum exit_action guest_syscall(const struct guest_exit *exit, struct guest_regs *regs)
{
	unsigned length = exit->syscall_length;
	char message[256];

	stats_count_trap(STATS_TRAP_GUEST_SYSCALL);
	if (exit->in_guest_code && (virtual_cpu_has_gate(VMI_SYSCALL_VECTOR) ||
	                            virtual_cpu_has_gate(VECTOR_GENERAL_PROTECTION))) {
		virtual_cpu_deliver(regs, VMI_SYSCALL_VECTOR, -1, length);
		return EXIT_RESUME;
	}
	snprintf(message, sizeof(message),
	         "guest made an i386 system call (number %d) at eip 0x%08x; it never reaches the "
	         "host, and the guest has no handler installed for it", (int)regs->eax,
	         regs->eip - length);
	platform_request_stop(GUEST_STOP_FAULT, regs, message);
	return EXIT_STOP;
}
