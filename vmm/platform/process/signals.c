/* Signal handlers: how guest faults, trapped privileged instructions, trapped i386 system
 * calls, host timers and the timeout become exits for the monitor. They run on a signal
 * stack of their own, since the interrupted stack is the guest's, and tell guest from host
 * by the code selector. What is this platform's alone (the guest's TLB fills, the ROM's ring
 * switches, the host's own faults) they settle before the monitor sees anything. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <vmi/cpu.h>
#include <vmi/process.h>
#include "exit_status.h"
#include "monitor/emulate.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "platform/process/address_space_processes.h"
#include "platform/process/host_fs.h"
#include "platform/process/process.h"
#include "platform/process/sandbox.h"
#include "platform/process/signals.h"
#include "platform/process/transition.h"
#include "platform/process/user_driver.h"
#include "stats.h"


/* One per process (thread-local is private to each): address-space processes all handle
 * signals. */
static __thread char signal_stack[64 * 1024] __attribute__((aligned(16)));
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

static void regs_from_context(const ucontext_t *uc, struct guest_regs *regs)
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

static void regs_to_context(const struct guest_regs *regs, ucontext_t *uc)
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

/* The #GP that int $0x80 raises where the host has no 32-bit system calls: the IDT gate
 * 0x80 is missing, so the error code points into the IDT (bit 1). Its index field is
 * 0x80 on hardware (0x402); QEMU's TCG puts the gate's byte offset there (0x802). */
#define ERROR_CODE_IDT 2
int process_int80_without_ia32(uint64_t trapno, uint64_t error_code, uint32_t eip)
{
	if (trapno != 13 || (error_code & 3) != ERROR_CODE_IDT)
		return 0;
	uint8_t code[PROCESS_INT_N_LENGTH];
	return guest_read(eip, code, PROCESS_INT_N_LENGTH) == 0 && code[0] == 0xCD &&
	       code[1] == VMI_SYSCALL_VECTOR;
}

static int is_int80_without_ia32(int sig, const ucontext_t *uc, const struct guest_regs *regs)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	return sig == SIGSEGV &&
	       process_int80_without_ia32((uint64_t)g[REG_TRAPNO], (uint64_t)g[REG_ERR], regs->eip);
}

/* A data segment register holding a selector the host's GDT accepted at the load, though the
 * guest meant its own: no trap told vmirun of the load, and the host's segment may refuse
 * what the guest's allows (Linux's __USER_DS, 0x7b, is the host's per-CPU segment:
 * read-only, its limit the CPU number). The #GP(0) it raises on use is not the guest's: the
 * register gets the flat data selector, as an emulated load leaves it, and the instruction
 * runs again. 1 if a register was replaced. (QEMU's TCG checks no data segment limits or
 * types, so only a host that runs guests itself shows it.) */
int process_host_selector_foreign(uint16_t selector)
{
	return selector != 0 && selector != VMI_PROCESS_DATA_SELECTOR &&
	       emulate_data_selector_usable(selector);
}

static int replace_host_selectors(const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	if (g[REG_TRAPNO] != 13 || g[REG_ERR] != 0)
		return 0;
	uint16_t ds, es, gs, flat = VMI_PROCESS_DATA_SELECTOR;
	__asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%gs, %2" : "=r"(ds), "=r"(es), "=r"(gs));
#define FOREIGN(selector) process_host_selector_foreign(selector)
	int replaced = 0;
	if (FOREIGN(ds)) {
		__asm__ volatile("mov %0, %%ds" : : "r"(flat));
		replaced = 1;
	}
	if (FOREIGN(es)) {
		__asm__ volatile("mov %0, %%es" : : "r"(flat));
		replaced = 1;
	}
	if (FOREIGN(gs)) {
		__asm__ volatile("mov %0, %%gs" : : "r"(flat));
		replaced = 1;
	}
	if (FOREIGN(process_guest_fs)) {
		process_guest_fs = flat;   /* loaded on the way out (host_fs_leave) */
		replaced = 1;
	}
#undef FOREIGN
	if (replaced)
		stats_count_trap(STATS_TRAP_HOST_SELECTOR);
	return replaced;
}

/* A #PF of the guest's code, which the host mappings (the guest's TLB) may only lack: filled
 * from the guest's page tables (1: resume), or the #PF they call for, with its error code
 * (0, and *walk_error set), or vmirun cannot map what they allow (0, a stop requested).
 * Before the guest pages, 0 with *walk_error left at -1. */
static int fill_from_page_tables(const ucontext_t *uc, const struct guest_regs *regs,
                                 int64_t *walk_error)
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
		*walk_error = guest_error;
		return 0;
	case MMU_NOT_PAGING:
		return 0;
	case MMU_UNSUPPORTED:
		break;
	}
	snprintf(message, sizeof(message), "guest stopped at eip 0x%08x: %s", regs->eip, reason);
	platform_request_stop(GUEST_STOP_NOT_IMPLEMENTED, regs, message);
	return 0;
}

/* The signal frame's x87 and SSE state: its first 464 bytes are fxsave's format (the rest of
 * the 512, the kernel's own notes on the frame, stay). Where the frame is XSAVE's, its
 * header says which components the return loads; x87 and SSE are marked present so that
 * what was put there is loaded. */
#define FXSAVE_HARDWARE_BYTES 464
static void fpu_from_frame(const ucontext_t *uc)
{
	if (uc->uc_mcontext.fpregs)
		memcpy(process_guest_fpu, uc->uc_mcontext.fpregs, FXSAVE_HARDWARE_BYTES);
}

#define XSTATE_X87_SSE 3ull
static void fpu_to_frame(ucontext_t *uc)
{
	uint8_t *frame = (uint8_t *)uc->uc_mcontext.fpregs;
	if (!frame)
		return;
	memcpy(frame, process_guest_fpu, FXSAVE_HARDWARE_BYTES);
	const struct _fpx_sw_bytes *software = (const struct _fpx_sw_bytes *)(frame + 464);
	if (software->magic1 == FP_XSTATE_MAGIC1) {
		uint64_t present;
		memcpy(&present, frame + 512, sizeof present);
		present |= XSTATE_X87_SSE;
		memcpy(frame + 512, &present, sizeof present);
	}
}

/* Acts on the monitor's answer: the guest goes on from the registers it left, or stops. */
static void finish_exit(enum exit_action action, const struct guest_regs *regs, ucontext_t *uc)
{
	if (action == EXIT_STOP || platform_stop_requested())
		process_stop_now();
	if (process_switch_wanted()) {
		process_guest_regs = *regs;
		/* The guest's x87 and SSE state is in this frame, and the frame's is what the
		 * return from the handler loads: both ways through process_guest_fpu. */
		fpu_from_frame(uc);
		process_hand_over();
		fpu_to_frame(uc);
		regs = &process_guest_regs;
	}
	regs_to_context(regs, uc);
}

/* On entering a handler: 1 if it interrupted guest code, whose FS selector (found by
 * host_fs_enter) is then kept where a handoff finds it, as the hypercall path keeps it. */
static int keep_guest_fs(const ucontext_t *uc, uint16_t selector_found)
{
	int from_guest = in_guest(uc);
	if (from_guest)
		process_guest_fs = selector_found;
	return from_guest;
}

/* The FS selector to give back on leaving a handler: the guest's, which a handoff may have
 * changed (process_guest_fs), if guest code was running. */
static uint16_t fs_to_leave(int from_guest, uint16_t selector_found)
{
	return from_guest ? process_guest_fs : selector_found;
}

static void handle_fault(int sig, siginfo_t *info, ucontext_t *uc);

static void on_fault(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	uint16_t guest_fs = host_fs_enter();
	int from_guest = keep_guest_fs(uc, guest_fs);
	/* The hypercall path read through a null FS the guest left with a base of its own:
	 * the base is the host's again, so resume where the path would have restored it. */
	if (uc->uc_mcontext.gregs[REG_RIP] == (greg_t)(uintptr_t)process_fs_probe) {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)process_fs_restore;
		return;
	}
	clear_alignment_check();
	handle_fault(sig, info, context);
	host_fs_leave(fs_to_leave(from_guest, guest_fs));
}

static void handle_fault(int sig, siginfo_t *info, ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	struct guest_regs regs;

	if (!in_guest(uc) || !platform_running())
		host_fault(sig, info, uc);
	long trapno = (long)g[REG_TRAPNO];
	/* The guest single-steps into a hypercall (TF set before its far call): the call is
	 * one instruction to it, so let the call run and take the trap after it returns. */
	if (sig == SIGTRAP && trapno == 1 && in_hypercall_entry(uc)) {
		uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)VMI_EFLAGS_TF;
		monitor_single_step_after_hypercall();
		return;
	}
	regs_from_context(uc, &regs);
	int64_t walk_error = -1;
	if (sig == SIGSEGV && trapno == 14 && in_guest_code(uc)) {
		if (fill_from_page_tables(uc, &regs, &walk_error))
			return;
		if (platform_stop_requested())
			process_stop_now();
	}
	if (sig == SIGSEGV && in_guest_code(uc) && replace_host_selectors(uc))
		return;
	/* ROM transitions run in compatibility mode; never rewrite a 64-bit context with them */
	if (in_guest_code(uc) && ((sig == SIGTRAP && trapno == 1 && transition_on_step(&regs)) ||
	                          transition_on_fault(&regs))) {
		finish_exit(monitor_follow_ring() == 0 ? EXIT_RESUME : EXIT_STOP, &regs, uc);
		return;
	}
	struct guest_exit exit = { .in_guest_code = in_guest_code(uc) };
	if (in_guest_code(uc) && is_int80_without_ia32(sig, uc, &regs)) {
		regs.eip += PROCESS_INT_N_LENGTH;
		exit.kind = GUEST_EXIT_SYSCALL;
		exit.syscall_length = PROCESS_INT_N_LENGTH;
	} else {
		exit.kind = GUEST_EXIT_FAULT;
		exit.vector = (unsigned)trapno & 0xFF;
		exit.error_code = (uint32_t)g[REG_ERR];
		exit.page_walk_error = walk_error;
		exit.fault_address = (uint32_t)g[REG_CR2];
	}
	finish_exit(monitor_handle_exit(&exit, &regs), &regs, uc);
}

/* Delivers a pending interrupt if the guest's own code was running with interrupts
 * enabled (inside a ROM ring switch: once it ends). */
static void deliver_if_in_guest_code(ucontext_t *uc)
{
	struct guest_regs regs;

	regs_from_context(uc, &regs);
	if (transition_under_way()) {
		transition_step_out(&regs);
		regs_to_context(&regs, uc);
		return;
	}
	struct guest_exit exit = { .kind = GUEST_EXIT_INTERRUPT, .in_guest_code = 1 };
	finish_exit(monitor_handle_exit(&exit, &regs), &regs, uc);
}

/* An interrupt raised while vmirun's own code ran (a hypercall on its way back, another
 * handler) may have missed the monitor's last look before returning to the guest, and a
 * guest that spins with interrupts enabled would never come back for it: look again
 * shortly, from the kick timer. Not while halted: the halt loop looks itself. */
static void look_again_later(void)
{
	if (platform_running() && !monitor_is_halting() && virtual_cpu_interrupts_enabled() &&
	    virtual_cpu_highest_pending() >= 0)
		timer_kick_soon();
}

static void take_pending_now_or_later(ucontext_t *uc)
{
	if (platform_running() && in_guest_code(uc))
		deliver_if_in_guest_code(uc);
	else
		look_again_later();
}

/* The alarm timer marks its vector pending (the kick, which only looks again, does not);
 * either takes a pending interrupt at once if the guest's own code was running, otherwise
 * the ROM's enable path, the monitor's return path or the kick takes it. */
static void on_timer_signal(int sig, siginfo_t *info, void *context)
{
	uint16_t guest_fs = host_fs_enter();
	int from_guest = keep_guest_fs(context, guest_fs);

	(void)info;
	clear_alignment_check();
	if (!process_holds_vcpu()) {
		/* This process's timer, armed while it held the vCPU: the holder's own does the
		 * work now (timer_process_entered). */
		if (sig == timer_signal())
			timer_on_signal_elsewhere();
	} else {
		if (sig == timer_signal())
			timer_on_signal();
		take_pending_now_or_later(context);
	}
	host_fs_leave(fs_to_leave(from_guest, guest_fs));
}

static void handle_guest_syscall(int sig, siginfo_t *info, ucontext_t *uc);

static void on_guest_syscall(int sig, siginfo_t *info, void *context)
{
	uint16_t guest_fs = host_fs_enter();
	int from_guest = keep_guest_fs(context, guest_fs);
	clear_alignment_check();
	handle_guest_syscall(sig, info, context);
	host_fs_leave(fs_to_leave(from_guest, guest_fs));
}

static void handle_guest_syscall(int sig, siginfo_t *info, ucontext_t *uc)
{
	struct guest_regs regs;
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
		if (!platform_running()) {
			if (write(STDERR_FILENO, "vmirun: sandbox violation\n", 26) < 0) {
				/* nothing more to say */
			}
			_exit(EXIT_STATUS_SANDBOX);
		}
		platform_request_stop(GUEST_STOP_SANDBOX, NULL, message);
		process_stop_now();
	}
	if (!in_guest(uc) || !platform_running())
		host_fault(sig, info, uc);
	regs_from_context(uc, &regs);
	regs.eax = (uint32_t)info->si_syscall; /* the kernel replaced it with -ENOSYS */
	struct guest_exit exit = { .kind = GUEST_EXIT_SYSCALL, .syscall_length = PROCESS_INT_N_LENGTH,
	                           .in_guest_code = in_guest_code(uc) };
	finish_exit(monitor_handle_exit(&exit, &regs), &regs, uc);
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
	struct guest_regs regs;
	uint16_t guest_fs = host_fs_enter();
	int from_guest = keep_guest_fs(uc, guest_fs);

	(void)sig;
	(void)info;
	clear_alignment_check();
	timeout_expired = 1;
	platform_attention = 1;
	if (!process_holds_vcpu()) {
		host_fs_leave(guest_fs);
		return;   /* the holder's own timer, armed for the same moment, stops the guest */
	}
	if (platform_running() && from_guest) {
		regs_from_context(uc, &regs);
		struct guest_exit exit = { .kind = GUEST_EXIT_TIMEOUT, .in_guest_code = 1 };
		finish_exit(monitor_handle_exit(&exit, &regs), &regs, uc);
	}
	/* The run has not begun, or the monitor is busy: it stops at its next look, and until
	 * the run is over we come back every millisecond in case no look comes. */
	if (!process_run_over())
		arm_timer(0.001);
	host_fs_leave(fs_to_leave(from_guest, guest_fs));
}

/* Only address-space processes are the first process's children while the guest runs (the
 * watchdog outlives it): losing a kernel's loses the vCPU or mappings the monitor counts on;
 * a user process that ended is the guest's own doing, which its driver hears of. */
static void on_child_ended(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)context;
	if (process_is_first() && platform_running() && !user_driver_child_ended(info->si_pid))
		process_child_ended();
}

static uint64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

int platform_timed_out(int read_clock)
{
	if (read_clock && timeout_deadline_ns && monotonic_ns() >= timeout_deadline_ns) {
		timeout_expired = 1;
		platform_attention = 1;
	}
	return timeout_expired;
}

/* Guest code that escaped into 64-bit mode may turn the timer off (setitimer is allowed,
 * vmirun needs it) and block its signal, but not raise a resource limit: the CPU-time limit
 * is the bound beyond its reach. SIGXCPU, one second after the timeout's worth of CPU, is
 * handled as the timeout; SIGKILL, a second later, ends a run that blocked that too. */
int process_set_timeout(double seconds)
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

uint64_t process_timeout_deadline_ns(void)
{
	return timeout_deadline_ns;
}

int process_rearm_timeout(void)
{
	if (!timeout_deadline_ns)
		return 0;
	uint64_t now = monotonic_ns();
	arm_timer(now < timeout_deadline_ns ? (double)(timeout_deadline_ns - now) / 1e9 : 0);
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

int process_install_signal_handlers(void)
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
	    handle(timer_signal(), on_timer_signal) != 0 ||
	    handle(timer_kick_signal(), on_timer_signal) != 0 || handle(SIGCHLD, on_child_ended) != 0)
		return -1;
	return 0;
}

/* --- events, for the halt loop: the alarm timer's signal and the timeout's ------------------ */

static sigset_t mask_before_hold;

void platform_hold_events(void)
{
	sigset_t events;
	sigemptyset(&events);
	sigaddset(&events, timer_signal());
	sigaddset(&events, SIGALRM);
	sigprocmask(SIG_BLOCK, &events, &mask_before_hold);
}

void platform_wait_for_event(void)
{
	sigset_t wait_mask = mask_before_hold;
	sigdelset(&wait_mask, timer_signal());
	sigdelset(&wait_mask, SIGALRM);
	sigsuspend(&wait_mask);
}

void platform_release_events(void)
{
	sigprocmask(SIG_SETMASK, &mask_before_hold, NULL);
}
