/* Signal handlers: how guest faults, trapped privileged instructions, trapped i386 system
 * calls and the timeout reach the monitor. They run on a signal stack of their own, since
 * the interrupted stack is the guest's, and tell guest from host by the code selector. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <vmi/process.h>
#include "exit_status.h"
#include "monitor/emulate.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "monitor/transition.h"
#include "monitor/virtual_cpu.h"
#include "sandbox.h"
#include "vcpu/host_fs.h"
#include "stats.h"

#define MAX_INSTRUCTION_BYTES 15
#define PAGE_BYTES 4096u
#define INT_N_LENGTH 2 /* int $0x80 (CD 80), and syscall and sysenter too */

static char signal_stack[64 * 1024] __attribute__((aligned(16)));
static volatile sig_atomic_t timeout_expired;
/* The timeout as a time, for long emulations that run inside a handler with SIGALRM held. */
static uint64_t timeout_deadline_ns;

/* Linux enables alignment checking for user mode, and the guest may have left AC set. */
static inline void clear_alignment_check(void)
{
	__asm__ volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
}

/* Guest code is whatever runs in compatibility mode or below 4 GiB: the hypercall page's
 * 64-bit entries and anything a guest far-jumps to there count as the guest's. */
static int in_guest(const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	return (g[REG_CSGSFS] & 0xFFFF) == VMI_PROCESS_CODE32_SELECTOR ||
	       (uint64_t)g[REG_RIP] < 0x100000000ull;
}

static void regs_from_context(const ucontext_t *uc, struct vcpu_regs *regs)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	regs->eax = (uint32_t)g[REG_RAX];
	regs->ecx = (uint32_t)g[REG_RCX];
	regs->edx = (uint32_t)g[REG_RDX];
	regs->ebx = (uint32_t)g[REG_RBX];
	regs->esp = (uint32_t)g[REG_RSP];
	regs->ebp = (uint32_t)g[REG_RBP];
	regs->esi = (uint32_t)g[REG_RSI];
	regs->edi = (uint32_t)g[REG_RDI];
	regs->eip = (uint32_t)g[REG_RIP];
	regs->eflags = (uint32_t)g[REG_EFL];
}

static void regs_to_context(const struct vcpu_regs *regs, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	g[REG_RAX] = regs->eax;
	g[REG_RCX] = regs->ecx;
	g[REG_RDX] = regs->edx;
	g[REG_RBX] = regs->ebx;
	g[REG_RSP] = regs->esp;
	g[REG_RBP] = regs->ebp;
	g[REG_RSI] = regs->esi;
	g[REG_RDI] = regs->edi;
	g[REG_RIP] = regs->eip;
	g[REG_EFL] = regs->eflags;
}

/* Strictly the guest's 32-bit code: the one place an interrupt may be injected at once. */
static int in_guest_code(const ucontext_t *uc)
{
	return (uc->uc_mcontext.gregs[REG_CSGSFS] & 0xFFFF) == VMI_PROCESS_CODE32_SELECTOR;
}

/* The hypercall page's 64-bit entries, which the guest reaches by its far call. */
static int in_hypercall_entry(const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	return (g[REG_CSGSFS] & 0xFFFF) == VMI_PROCESS_CODE64_SELECTOR &&
	       (uint64_t)g[REG_RIP] >= VMI_PROCESS_HYPERCALL_PAGE &&
	       (uint64_t)g[REG_RIP] < (uint64_t)VMI_PROCESS_HYPERCALL_PAGE + 4096;
}

/* Vectors for which the CPU pushes an error code. */
static int has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static const char *exception_name(long trapno)
{
	switch (trapno) {
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

static _Noreturn void stop_on_fault(const ucontext_t *uc, const struct vcpu_regs *regs,
                                    const char *detail)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	long trapno = (long)g[REG_TRAPNO];
	char message[256];

	if (trapno == 14)
		snprintf(message, sizeof(message),
		         "guest fault: %s at eip 0x%08x, address 0x%08x, error code 0x%lx%s%s",
		         exception_name(trapno), regs->eip, (uint32_t)g[REG_CR2], (long)g[REG_ERR],
		         detail ? ": " : "", detail ? detail : "");
	else
		snprintf(message, sizeof(message), "guest fault: %s at eip 0x%08x, error code 0x%lx%s%s",
		         exception_name(trapno), regs->eip, (long)g[REG_ERR], detail ? ": " : "",
		         detail ? detail : "");
	stats_count_trap(STATS_TRAP_FAULT);
	vcpu_stop_guest_with_regs(VCPU_STOP_FAULT, regs, message);
}

/* "symbol+0xoffset" for a code address in vmirun (its global symbols are exported for this),
 * else "file+0xoffset" for addr2line. Calls nothing the sandbox refuses. */
static void describe_host_address(uint64_t address, char *text, size_t size)
{
	Dl_info where;
	if (!dladdr((void *)(uintptr_t)address, &where) || !where.dli_fname) {
		snprintf(text, size, "outside any loaded file");
	} else if (where.dli_sname && where.dli_saddr) {
		snprintf(text, size, "%s+0x%llx", where.dli_sname,
		         (unsigned long long)(address - (uint64_t)(uintptr_t)where.dli_saddr));
	} else {
		const char *file = strrchr(where.dli_fname, '/');
		snprintf(text, size, "%s+0x%llx", file ? file + 1 : where.dli_fname,
		         (unsigned long long)(address - (uint64_t)(uintptr_t)where.dli_fbase));
	}
}

/* A fault in vmirun itself is a bug: say so with the signal, where and the nearest symbol,
 * and exit with the internal-error status. No sigaction (the sandbox refuses it): write
 * and exit only. */
static _Noreturn void host_fault(int sig, const siginfo_t *info, const ucontext_t *uc)
{
	char text[400], place[160];
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	const char *name = sigabbrev_np(sig);

	describe_host_address(rip, place, sizeof(place));
	int length;
	const uint8_t *code = (const uint8_t *)(uintptr_t)rip;
	if (sig == SIGILL && code[0] == 0x0F && code[1] == 0x0B)
		length = snprintf(text, sizeof(text),
		                  "vmirun: internal error: %s failed in vmirun's own code at 0x%llx (%s)\n",
#ifdef VMIRUN_UBSAN
		                  "an undefined-behaviour check (UBSan)",
#else
		                  "a check (__builtin_trap)",
#endif
		                  (unsigned long long)rip, place);
	else if (sig == SIGSYS)
		length = snprintf(text, sizeof(text),
		                  "vmirun: internal error: vmirun's own code made system call %d, which "
		                  "the sandbox refuses, at 0x%llx (%s)\n", info->si_syscall,
		                  (unsigned long long)rip, place);
	else
		length = snprintf(text, sizeof(text),
		                  "vmirun: internal error: SIG%s in vmirun's own code at 0x%llx (%s), "
		                  "address 0x%llx\n", name ? name : "?", (unsigned long long)rip, place,
		                  (unsigned long long)(uintptr_t)info->si_addr);
	if (length > 0 && write(STDERR_FILENO, text, (size_t)length < sizeof(text) ?
	                        (size_t)length : sizeof(text) - 1) < 0) {
		/* nothing more to say */
	}
	_exit(EXIT_STATUS_INTERNAL_ERROR);
}

/* Runs the privileged instruction at the faulting eip if the monitor emulates it. */
static int try_emulate(ucontext_t *uc, struct vcpu_regs *regs)
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
	case EMULATE_DONE:
		stats_count_emulation(outcome.mnemonic);
		break;
	case EMULATE_HALT:
		stats_count_emulation(outcome.mnemonic);
		monitor_halt(regs);
		break;
	case EMULATE_INTERRUPT:
		stats_count_emulation(outcome.mnemonic);
		virtual_cpu_deliver(regs, outcome.vector, outcome.error_code, outcome.software_length);
		regs_to_context(regs, uc);
		return 1;
	case EMULATE_UNSUPPORTED:
		return 0;
	case EMULATE_NOT_IMPLEMENTED: {
		char message[256];
		snprintf(message, sizeof(message), "guest stopped at eip 0x%08x: %s", regs->eip,
		         outcome.reason);
		vcpu_stop_guest_with_regs(VCPU_STOP_NOT_IMPLEMENTED, regs, message);
	}
	}
	virtual_cpu_deliver_pending(regs);
	regs_to_context(regs, uc);
	return 1;
}

/* A guest system call (int $0x80) never reaches the host kernel. It arrives in one of two
 * ways: as SIGSYS, from the seccomp filter that traps every i386 system call, or, where the
 * host turned 32-bit system calls off (ia32_emulation=0), as #GP. Both come here with eip
 * past the instruction and eax holding the call number. */
static void take_guest_syscall(ucontext_t *uc, struct vcpu_regs *regs)
{
	char message[256];

	stats_count_trap(STATS_TRAP_GUEST_SYSCALL);
	if (in_guest_code(uc) &&
	    (virtual_cpu_has_gate(VMI_SYSCALL_VECTOR) || virtual_cpu_has_gate(13))) {
		virtual_cpu_deliver(regs, VMI_SYSCALL_VECTOR, -1, INT_N_LENGTH);
		regs_to_context(regs, uc);
		return;
	}
	snprintf(message, sizeof(message),
	         "guest made an i386 system call (number %d) at eip 0x%08x; it never reaches the "
	         "host, and the guest has no handler installed for it", (int)regs->eax,
	         regs->eip - INT_N_LENGTH);
	vcpu_stop_guest_with_regs(VCPU_STOP_FAULT, regs, message);
}

/* The #GP that int $0x80 raises where the host has no 32-bit system calls: the IDT gate
 * 0x80 is missing, so the error code points into the IDT (bit 1). Its index field is
 * 0x80 on hardware (0x402); QEMU's TCG puts the gate's byte offset there (0x802). */
#define ERROR_CODE_IDT 2
static int is_int80_without_ia32(int sig, const ucontext_t *uc, const struct vcpu_regs *regs)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	if (sig != SIGSEGV || g[REG_TRAPNO] != 13 || (g[REG_ERR] & 3) != ERROR_CODE_IDT)
		return 0;
	uint8_t code[INT_N_LENGTH];
	return guest_read(regs->eip, code, INT_N_LENGTH) == 0 && code[0] == 0xCD &&
	       code[1] == VMI_SYSCALL_VECTOR;
}

/* A #PF of the guest's code: filled from the guest's page tables (1: resume), or the #PF
 * they call for, with its error code (0, and *error_code set), or vmirun cannot map what
 * they allow (the guest stops). Before the guest pages, 0 with *error_code left at -1. */
static int take_host_page_fault(ucontext_t *uc, struct vcpu_regs *regs, int64_t *error_code)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	uint32_t linear = (uint32_t)g[REG_CR2], guest_error = 0;
	/* Inside a ROM ring switch the ROM acts as the CPU: its accesses are the kernel's. */
	int user = virtual_cpu_ring() == 3 && !transition_under_way();
	char reason[MMU_REASON_MAX], message[256];
	switch (mmu_host_fault(linear, (uint32_t)g[REG_ERR], user, &guest_error, reason)) {
	case MMU_FILLED:
		return 1;
	case MMU_GUEST_FAULT:
		*error_code = guest_error;
		return 0;
	case MMU_NOT_PAGING:
		return 0;
	case MMU_UNSUPPORTED:
		break;
	}
	snprintf(message, sizeof(message), "guest stopped at eip 0x%08x: %s", regs->eip, reason);
	vcpu_stop_guest_with_regs(VCPU_STOP_NOT_IMPLEMENTED, regs, message);
}

static void handle_fault(int sig, siginfo_t *info, ucontext_t *uc);

static void on_fault(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	uint16_t guest_fs = host_fs_enter();
	/* The hypercall path read through a null FS the guest left with a base of its own:
	 * the base is the host's again, so resume where the path would have restored it. */
	if (uc->uc_mcontext.gregs[REG_RIP] == (greg_t)(uintptr_t)vcpu_fs_probe) {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)vcpu_fs_restore;
		return;
	}
	clear_alignment_check();
	handle_fault(sig, info, context);
	host_fs_leave(guest_fs);
}

static void handle_fault(int sig, siginfo_t *info, ucontext_t *uc)
{
	struct vcpu_regs regs;

	if (!in_guest(uc) || !vcpu_is_running())
		host_fault(sig, info, uc);
	long trapno = (long)uc->uc_mcontext.gregs[REG_TRAPNO];
	/* The guest single-steps into a hypercall (TF set before its far call): the call is
	 * one instruction to it, so let the call run and take the trap after it returns. */
	if (sig == SIGTRAP && trapno == 1 && in_hypercall_entry(uc)) {
		uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)VMI_EFLAGS_TF;
		monitor_single_step_after_hypercall();
		return;
	}
	regs_from_context(uc, &regs);
	/* A guest access the host mappings (the guest's TLB) do not cover yet. */
	int64_t page_fault_error = -1;
	if (sig == SIGSEGV && trapno == 14 && in_guest_code(uc) &&
	    take_host_page_fault(uc, &regs, &page_fault_error))
		return;
	/* ROM transitions run in compatibility mode; never rewrite a 64-bit context with them */
	if (in_guest_code(uc) && ((sig == SIGTRAP && trapno == 1 && transition_on_step(&regs)) ||
	                          transition_on_fault(&regs))) {
		regs_to_context(&regs, uc);
		return;
	}
	if (in_guest_code(uc) && is_int80_without_ia32(sig, uc, &regs)) {
		regs.eip += INT_N_LENGTH;
		take_guest_syscall(uc, &regs);
		return;
	}
	if (sig == SIGSEGV && trapno == 13 && try_emulate(uc, &regs))
		return;
	unsigned vector = (unsigned)trapno & 0xFF;
	/* With no gate the exception becomes #GP(vector*8+2), as on hardware (see
	 * virtual_cpu_deliver); with no #GP gate either, the guest stops naming the original. */
	if (!in_guest_code(uc) || (!virtual_cpu_has_gate(vector) && !virtual_cpu_has_gate(13)))
		stop_on_fault(uc, &regs, NULL);

	/* Reflect the exception to the guest's own handler. */
	int64_t error_code = -1;
	if (has_error_code(vector)) {
		error_code = (uint32_t)uc->uc_mcontext.gregs[REG_ERR];
		if (vector == 14) {
			uint32_t address = (uint32_t)uc->uc_mcontext.gregs[REG_CR2];
			virtual_cpu.cr2 = address;
			virtual_cpu_shared()->cr2 = address;
			/* the hardware always says "user"; the guest expects its virtual ring */
			error_code = page_fault_error >= 0 ? page_fault_error
			           : (error_code & ~4) | (virtual_cpu_ring() == 3 ? 4 : 0);
			if (page_fault_error >= 0)
				stats_count_paging(STATS_PAGING_FAULT_DELIVERED, 1);
		}
	}
	virtual_cpu_deliver(&regs, vector, error_code, 0);
	regs_to_context(&regs, uc);
}

/* Delivers a pending interrupt if the guest's own code was running with interrupts
 * enabled (inside a ROM ring switch: once it ends). */
static void deliver_if_in_guest_code(ucontext_t *uc)
{
	struct vcpu_regs regs;

	regs_from_context(uc, &regs);
	if (transition_under_way()) {
		transition_step_out(&regs);
		regs_to_context(&regs, uc);
	} else if (virtual_cpu_deliver_pending(&regs)) {
		regs_to_context(&regs, uc);
	}
}

/* An interrupt raised while vmirun's own code ran (a hypercall on its way back, another
 * handler) may have missed the monitor's last look before returning to the guest, and a
 * guest that spins with interrupts enabled would never come back for it: look again
 * shortly, from the kick timer. Not while halted: the halt loop looks itself. */
static void look_again_later(void)
{
	if (vcpu_is_running() && !monitor_is_halting() && virtual_cpu_interrupts_enabled() &&
	    virtual_cpu_highest_pending() >= 0)
		timer_kick_soon();
}

static void take_pending_now_or_later(ucontext_t *uc)
{
	if (vcpu_is_running() && in_guest_code(uc))
		deliver_if_in_guest_code(uc);
	else
		look_again_later();
}

/* The alarm timer: mark its vector pending, and take it at once if the guest's own code
 * was running; otherwise the ROM's enable path, the monitor's return path or the kick
 * takes it. */
static void on_alarm(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	uint16_t guest_fs = host_fs_enter();

	(void)sig;
	(void)info;
	clear_alignment_check();
	timer_on_signal();
	take_pending_now_or_later(uc);
	host_fs_leave(guest_fs);
}

static void on_kick(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	uint16_t guest_fs = host_fs_enter();

	(void)sig;
	(void)info;
	clear_alignment_check();
	take_pending_now_or_later(uc);
	host_fs_leave(guest_fs);
}

static void handle_guest_syscall(int sig, siginfo_t *info, ucontext_t *uc);

static void on_guest_syscall(int sig, siginfo_t *info, void *context)
{
	uint16_t guest_fs = host_fs_enter();
	clear_alignment_check();
	handle_guest_syscall(sig, info, context);
	host_fs_leave(guest_fs);
}

static void handle_guest_syscall(int sig, siginfo_t *info, ucontext_t *uc)
{
	struct vcpu_regs regs;
	char message[256];

	/* A refused call from vmirun's own code (above 4 GiB) is vmirun's bug, not an escape. */
	if (sandbox_is_violation(info->si_arch) &&
	    (uint64_t)(uintptr_t)info->si_call_addr >= 0x100000000ull)
		host_fault(sig, info, uc);
	if (sandbox_is_violation(info->si_arch)) {
		snprintf(message, sizeof(message),
		         "sandbox: 64-bit system call %d at 0x%llx refused: only guest code that left "
		         "compatibility mode makes one", info->si_syscall,
		         (unsigned long long)(uintptr_t)info->si_call_addr);
		if (!vcpu_is_running()) {
			if (write(STDERR_FILENO, "vmirun: sandbox violation\n", 26) < 0) {
				/* nothing more to say */
			}
			_exit(EXIT_STATUS_SANDBOX);
		}
		vcpu_stop_guest(VCPU_STOP_SANDBOX, message);
	}
	if (!in_guest(uc) || !vcpu_is_running())
		host_fault(sig, info, uc);
	regs_from_context(uc, &regs);
	regs.eax = (uint32_t)info->si_syscall; /* the kernel replaced it with -ENOSYS */
	take_guest_syscall(uc, &regs);
}

static void arm_timer(double seconds)
{
	struct itimerval timer = { 0 };
	timer.it_value.tv_sec = (time_t)seconds;
	timer.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
	if (timer.it_value.tv_sec == 0 && timer.it_value.tv_usec == 0)
		timer.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &timer, NULL);
}

static void on_timeout(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	struct vcpu_regs regs;
	uint16_t guest_fs = host_fs_enter();

	(void)sig;
	(void)info;
	clear_alignment_check();
	timeout_expired = 1;
	if (vcpu_is_running() && in_guest(uc)) {
		regs_from_context(uc, &regs);
		vcpu_stop_guest_with_regs(VCPU_STOP_TIMEOUT, &regs, "timeout: the guest was stopped");
	}
	/* The run has not begun, or the monitor is busy: it stops at its next look, and until
	 * the run is over we come back every millisecond in case no look comes. */
	if (!vcpu_run_is_over())
		arm_timer(0.001);
	host_fs_leave(guest_fs);
}

static uint64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

void monitor_check_timeout(void)
{
	if (timeout_expired)
		vcpu_stop_guest(VCPU_STOP_TIMEOUT, "timeout: the guest was stopped");
}

void monitor_check_deadline(void)
{
	if (timeout_deadline_ns && monotonic_ns() >= timeout_deadline_ns)
		timeout_expired = 1;
	monitor_check_timeout();
}

/* Guest code that escaped into 64-bit mode may turn the timer off (setitimer is allowed,
 * vmirun needs it) and block its signal, but not raise a resource limit: the CPU-time limit
 * is the bound beyond its reach. SIGXCPU, one second after the timeout's worth of CPU, is
 * handled as the timeout; SIGKILL, a second later, ends a run that blocked that too. */
int monitor_set_timeout(double seconds)
{
	if (seconds <= 0)
		return 0;
	timeout_deadline_ns = monotonic_ns() + (uint64_t)(seconds * 1e9);
	struct rlimit cpu;
	if (getrlimit(RLIMIT_CPU, &cpu) != 0)
		return -1;
	rlim_t soft = (rlim_t)seconds + 2;
	if (cpu.rlim_max == RLIM_INFINITY || soft + 1 <= cpu.rlim_max) {
		cpu.rlim_cur = soft;
		cpu.rlim_max = soft + 1;
		if (setrlimit(RLIMIT_CPU, &cpu) != 0)
			return -1;
	}
	arm_timer(seconds);
	return 0;
}

static int handle(int sig, void (*handler)(int, siginfo_t *, void *))
{
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_sigaction = handler;
	action.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&action.sa_mask);
	sigaddset(&action.sa_mask, SIGALRM);
	/* the alarm and the kick never interrupt each other */
	if (sig == timer_signal() || sig == timer_kick_signal()) {
		sigaddset(&action.sa_mask, timer_signal());
		sigaddset(&action.sa_mask, timer_kick_signal());
	}
	return sigaction(sig, &action, NULL);
}

int monitor_install_trap_handlers(void)
{
	host_fs_setup(); /* every handler puts this base back first, from its first signal on */
	stack_t stack = { .ss_sp = signal_stack, .ss_size = sizeof(signal_stack), .ss_flags = 0 };
	if (sigaltstack(&stack, NULL) != 0)
		return -1;
	static const int faults[] = { SIGSEGV, SIGILL, SIGTRAP, SIGFPE, SIGBUS };
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (handle(faults[i], on_fault) != 0)
			return -1;
	if (handle(SIGSYS, on_guest_syscall) != 0 || handle(SIGALRM, on_timeout) != 0 ||
	    handle(SIGXCPU, on_timeout) != 0 ||
	    handle(timer_signal(), on_alarm) != 0 || handle(timer_kick_signal(), on_kick) != 0)
		return -1;
	return 0;
}
