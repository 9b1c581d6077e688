/* The kernel side of a user process under strict isolation: the process that holds the vCPU
 * runs the guest's user mode in the stub (user_stub.S) as a debugger runs a child. It writes
 * the state to resume and the pending mapping operations into the stub's command pages,
 * sends the guest-memory descriptor with them, waits for the exit, and hands that to the
 * monitor as if it had happened here, with the user process's TLB context the one mapped.
 * Nothing the user process writes is trusted: its exit page is checked, its registers and
 * x87/SSE state are only ever the guest's user state. */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <vmi/cpu.h>
#include <vmi/process.h>
#include <vmi/vcpu_page.h>
#include "monitor/mmu.h"
#include "monitor/monitor.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "platform/process/address_space.h"
#include "platform/process/address_space_processes.h"
#include "platform/process/process.h"
#include "platform/process/signals.h"
#include "platform/process/user_driver.h"
#include "platform/process/user_stub_layout.h"
#include "stats.h"

_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs) == UC_GREGS, "layout");
_Static_assert(offsetof(ucontext_t, uc_mcontext.fpregs) == UC_FPREGS, "layout");
_Static_assert(offsetof(siginfo_t, si_syscall) == SI_SYSCALL, "layout");
_Static_assert(NGREG == GREG_COUNT && REG_RSP == GREG_RSP && REG_RIP == GREG_RIP &&
               REG_EFL == GREG_EFL && REG_CSGSFS == GREG_CSGSFS, "layout");
_Static_assert(EXIT_GREGS + 8 * GREG_COUNT <= EXIT_SEGMENTS, "layout");
_Static_assert(EXIT_FPU + 512 <= STUB_EXIT_SIZE && COMMAND_FPU + 512 <= COMMAND_OPS, "layout");
_Static_assert(sizeof(struct guest_regs) == COMMAND_SEGMENTS - COMMAND_REGS, "layout");

#define SPIN_ROUNDS 20000

static unsigned first_stub_slot, stub_slots;
/* Shared: set by the first process when a user process ended (a child's end reaches it). */
static _Atomic uint32_t stub_ended[STUB_SLOTS_MAX];
static int guest_memory_fd = -1;
/* Each user process's x87/SSE registers still hold the state its last exit saved: it was a
 * hypercall (a signal's handler starts from a clean state, and leaves the frame behind). */
static uint8_t fpu_in_registers[STUB_SLOTS_MAX];
static uint32_t mxcsr_mask = 0xFFBF;

struct command_page {
	_Atomic uint32_t sequence, driver_sleeps;
	uint32_t action, op_count, with_fd, fpu_kept;
	uint64_t alarm_ns;
	struct guest_regs regs;
	uint16_t segments[4];
	uint8_t unused2[COMMAND_FPU - COMMAND_SEGMENTS - 8];
	uint8_t fpu[512];
	uint8_t unused3[COMMAND_OPS - COMMAND_FPU - 512];
	struct { uint32_t linear, physical, size, prot; } ops[STUB_OPS_MAX];
};
_Static_assert(offsetof(struct command_page, alarm_ns) == COMMAND_ALARM_NS, "layout");
_Static_assert(offsetof(struct command_page, regs) == COMMAND_REGS, "layout");
_Static_assert(offsetof(struct command_page, segments) == COMMAND_SEGMENTS, "layout");
_Static_assert(offsetof(struct command_page, fpu) == COMMAND_FPU, "layout");
_Static_assert(offsetof(struct command_page, ops) == COMMAND_OPS, "layout");
_Static_assert(sizeof(struct command_page) <= STUB_COMMAND_SIZE, "layout");
_Static_assert(offsetof(struct command_page, op_count) == COMMAND_OP_COUNT &&
               offsetof(struct command_page, with_fd) == COMMAND_WITH_FD &&
               offsetof(struct command_page, action) == COMMAND_ACTION &&
               offsetof(struct command_page, fpu_kept) == COMMAND_FPU_KEPT &&
               offsetof(struct command_page, driver_sleeps) == COMMAND_DRIVER_SLEEPS, "layout");

/* The exit page as the stub writes it; each field read once, before anything is used (the
 * registers and selectors into a copy, the x87/SSE image into the guest's). */
struct exit_page {
	_Atomic uint32_t sequence, stub_sleeps;
	uint32_t kind, signal, syscall, stepped, failed_ops, unused;
	uint64_t gregs[GREG_COUNT];
	uint16_t segments[4];
	uint8_t unused2[EXIT_FPU - EXIT_SEGMENTS - 8];
	uint8_t fpu[512];
};
_Static_assert(offsetof(struct exit_page, kind) == EXIT_KIND &&
               offsetof(struct exit_page, signal) == EXIT_SIGNAL &&
               offsetof(struct exit_page, syscall) == EXIT_SYSCALL &&
               offsetof(struct exit_page, stepped) == EXIT_STEPPED &&
               offsetof(struct exit_page, failed_ops) == EXIT_FAILED_OPS &&
               offsetof(struct exit_page, gregs) == EXIT_GREGS &&
               offsetof(struct exit_page, segments) == EXIT_SEGMENTS &&
               offsetof(struct exit_page, fpu) == EXIT_FPU, "layout");

struct stub_exit {
	uint32_t kind, signal, syscall, stepped, failed_ops;
	uint64_t gregs[GREG_COUNT];
	uint16_t segments[4];
};

static struct command_page *command_of(unsigned index)
{
	return (struct command_page *)(uintptr_t)(STUB_COMMANDS_AREA + index * STUB_COMMAND_SIZE);
}

static struct exit_page *exit_of(unsigned index)
{
	return (struct exit_page *)(uintptr_t)(STUB_EXITS_AREA + index * STUB_EXIT_SIZE);
}

int user_driver_setup(unsigned first_user_slot, unsigned user_slots, int memory_fd,
                      char error[200])
{
	if (user_slots == 0)
		return 0;
	if (user_slots > STUB_SLOTS_MAX) {
		snprintf(error, 200, "at most %u user processes", STUB_SLOTS_MAX);
		return -1;
	}
	void *commands = mmap((void *)(uintptr_t)STUB_COMMANDS_AREA,
	                      STUB_SLOTS_MAX * STUB_COMMAND_SIZE, PROT_READ | PROT_WRITE,
	                      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	void *exits = mmap((void *)(uintptr_t)STUB_EXITS_AREA, STUB_SLOTS_MAX * STUB_EXIT_SIZE,
	                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
	                   -1, 0);
	void *views = mmap((void *)(uintptr_t)STUB_VCPU_VIEWS_AREA, STUB_SLOTS_MAX * 4096,
	                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
	                   -1, 0);
	void *spinner = mmap((void *)(uintptr_t)STUB_SPINNER_PAGE, 4096, PROT_READ | PROT_WRITE,
	                     MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (commands != (void *)(uintptr_t)STUB_COMMANDS_AREA ||
	    exits != (void *)(uintptr_t)STUB_EXITS_AREA ||
	    views != (void *)(uintptr_t)STUB_VCPU_VIEWS_AREA ||
	    spinner != (void *)(uintptr_t)STUB_SPINNER_PAGE) {
		snprintf(error, 200, "cannot map the user processes' command pages at 0x%llx",
		         (unsigned long long)STUB_COMMANDS_AREA);
		return -1;
	}
	for (unsigned i = 0; i < user_slots; i++) {
		int pair[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0 ||
		    dup2(pair[0], STUB_DRIVER_SOCKET_FD + (int)i) < 0 ||
		    dup2(pair[1], STUB_USER_SOCKET_FD + (int)i) < 0) {
			snprintf(error, 200, "cannot make the user processes' sockets: %s",
			         strerror(errno));
			return -1;
		}
		close(pair[0]);
		close(pair[1]);
	}
	uint8_t area[512] __attribute__((aligned(16)));
	__asm__ volatile("fxsave64 %0" : "=m"(area));
	memcpy(&mxcsr_mask, area + 28, 4);
	if (mxcsr_mask == 0)
		mxcsr_mask = 0xFFBF;   /* the architectural default */
	first_stub_slot = first_user_slot;
	stub_slots = user_slots;
	guest_memory_fd = memory_fd;
	return 0;
}

_Atomic uint32_t *user_driver_spinner_word(void)
{
	return (_Atomic uint32_t *)(uintptr_t)STUB_SPINNER_PAGE;
}

int user_driver_serves(unsigned slot)
{
	return stub_slots && slot >= first_stub_slot && slot < first_stub_slot + stub_slots;
}

int user_driver_child_ended(pid_t pid)
{
	for (unsigned i = 0; i < stub_slots; i++) {
		if (process_pid(first_stub_slot + i) == pid) {
			atomic_store(&stub_ended[i], 1);
			atomic_fetch_add(&exit_of(i)->sequence, 1);   /* whatever its driver waits for */
			process_futex(&exit_of(i)->sequence, FUTEX_WAKE, 1);
			return 1;
		}
	}
	return 0;
}

/* --- the batch of mapping operations --------------------------------------------------------- */

/* The user process this process runs now, its index; ~0u: none. Each process its own. */
static __thread unsigned driven = ~0u;

int user_driver_mapping(void)
{
	return driven != ~0u;
}

int user_driver_queue(uint32_t linear, uint32_t physical, uint32_t size, int prot)
{
	return user_driver_queue_for(driven, linear, physical, size, prot);
}

int user_driver_queue_for(unsigned index, uint32_t linear, uint32_t physical, uint32_t size,
                          int prot)
{
	struct command_page *command = command_of(index);
	/* Full: the batch becomes one unmapping of everything, then this. A TLB may drop any
	 * entry at any time; what user mode touches next is filled again. */
	if (command->op_count >= STUB_OPS_MAX) {
		command->ops[0].linear = VMI_PROCESS_LOW_RAM_BASE;
		command->ops[0].physical = 0;
		command->ops[0].size = VMI_PROCESS_WINDOW_BASE - VMI_PROCESS_LOW_RAM_BASE;
		command->ops[0].prot = PROT_NONE;
		command->op_count = 1;
		command->with_fd = 0;
		stats_count_paging(STATS_PAGING_FLUSH_ALL, 1);
	}
	command->ops[command->op_count].linear = linear;
	command->ops[command->op_count].physical = physical;
	command->ops[command->op_count].size = size;
	command->ops[command->op_count].prot = (uint32_t)prot;
	command->op_count++;
	if (prot != PROT_NONE)
		command->with_fd = 1;
	return 0;
}

/* --- one command and its answer ---------------------------------------------------------------- */

/* The alarm the stub is to come back at: the guest's next, or --timeout's, whichever first. */
static uint64_t next_alarm_ns(void)
{
	uint64_t alarm = timer_next_alarm_ns(), timeout = process_timeout_deadline_ns();
	if (!alarm || (timeout && timeout < alarm))
		return timeout;
	return alarm;
}

static int send_guest_memory(unsigned index)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr header;
		char space[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
	                          .msg_controllen = sizeof control.space };
	struct cmsghdr *header = CMSG_FIRSTHDR(&message);
	header->cmsg_level = SOL_SOCKET;
	header->cmsg_type = SCM_RIGHTS;
	header->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(header), &guest_memory_fd, sizeof(int));
	return sendmsg(STUB_DRIVER_SOCKET_FD + (int)index, &message, MSG_DONTWAIT) == 1 ? 0 : -1;
}

#define ROUND_TRIP_ENDED   -1   /* the process ended */
#define ROUND_TRIP_UNSENT  -2   /* the descriptor could not be sent (the process left earlier
                                   ones unread: it does not run the stub as it should) */
#define ROUND_TRIP_TIMEOUT -3   /* --timeout ran out before the answer came */

/* Sends the command and waits for its answer: 0 with *exit filled, or ROUND_TRIP_*. */
static int round_trip(unsigned index, struct stub_exit *exit)
{
	struct command_page *command = command_of(index);
	struct exit_page *page = exit_of(index);
	unsigned slot = first_stub_slot + index;
	command->action = STUB_ACTION_RESUME;
	command->alarm_ns = next_alarm_ns();
	if (command->with_fd && send_guest_memory(index) != 0)
		return ROUND_TRIP_UNSENT;
	process_lend_vcpu(slot);
	uint32_t sequence = atomic_load(&command->sequence) + 1;
	atomic_store(&command->sequence, sequence);
	if (atomic_load(&page->stub_sleeps))
		process_futex(&command->sequence, FUTEX_WAKE, 1);
	/* Spin for the answer (a system call's comes back in a few thousand cycles) while no
	 * other process was handed the right to since: more spinners than free cores take the
	 * running one's core. Past the first rounds, let the core go between looks. */
	process_take_spinner_token();
	int slept = 0;
	for (unsigned i = 0; i < SPIN_ROUNDS && atomic_load(&page->sequence) != sequence &&
	                    !atomic_load(&stub_ended[index]) && process_may_spin(); i++) {
		__builtin_ia32_pause();
		if (i >= SPIN_ROUNDS / 10)
			sched_yield();
	}
	if (atomic_load(&page->sequence) != sequence && !atomic_load(&stub_ended[index])) {
		atomic_store(&command->driver_sleeps, 1);
		/* The stub's alarm brings the answer for --timeout; code that escaped into the
		 * stub and waits there of its own does not answer, but this process's own alarm
		 * interrupts the wait (it sets platform_timed_out). */
		for (;;) {
			uint32_t seen = atomic_load(&page->sequence);
			if (seen == sequence || atomic_load(&stub_ended[index]) || platform_timed_out(0))
				break;
			process_futex(&page->sequence, FUTEX_WAIT, seen);
		}
		atomic_store(&command->driver_sleeps, 0);
		slept = 1;
	}
	stats_count_paging(slept ? STATS_PAGING_HANDOFF_SLEPT : STATS_PAGING_HANDOFF_SPUN, 1);
	process_lend_vcpu(process_slot);
	/* the process that answered is the one to spin now: what it waits for comes soonest */
	process_give_spinner_token(slot);
	command->op_count = 0;
	command->with_fd = 0;
	if (atomic_load(&stub_ended[index]))
		return ROUND_TRIP_ENDED;
	if (atomic_load(&page->sequence) != sequence)
		return ROUND_TRIP_TIMEOUT;
	exit->kind = page->kind;
	exit->signal = page->signal;
	exit->syscall = page->syscall;
	exit->stepped = page->stepped;
	page->stepped = 0;
	exit->failed_ops = page->failed_ops;
	memcpy(exit->gregs, page->gregs, sizeof exit->gregs);
	memcpy(exit->segments, page->segments, sizeof exit->segments);
	return 0;
}

/* --- the guest's state, both ways ---------------------------------------------------------- */

static void write_state(unsigned index, struct command_page *command)
{
	volatile uint32_t *view_flags =
		(uint32_t *)(uintptr_t)(STUB_VCPU_VIEWS_AREA + index * 4096 + VMI_VCPU_FLAGS);
	*view_flags = virtual_cpu_interrupts_enabled() ? VMI_EFLAGS_IF : 0;
	/* Unchanged since (the guest kernel used no x87 or SSE): no 512 bytes across cores, no
	 * fxrstor. The exit page is the user process's to write, but what it could change there
	 * is its own registers only. */
	command->fpu_kept = fpu_in_registers[index] &&
	                    memcmp(process_guest_fpu, exit_of(index)->fpu, sizeof command->fpu) == 0;
	if (!command->fpu_kept)
		memcpy(command->fpu, process_guest_fpu, sizeof command->fpu);
	command->regs = process_guest_regs;
	command->segments[0] = process_guest_ds;
	command->segments[1] = process_guest_es;
	command->segments[2] = process_guest_fs;
	command->segments[3] = process_guest_gs;
}

/* A selector this process may load (the stub's loaded it, if the page tells the truth): a
 * null one, or one that names a readable segment. Else the flat one. */
static uint16_t loadable(uint16_t selector)
{
	if ((selector & ~3u) == 0)
		return selector;
	uint8_t readable;
	__asm__("verr %1; setz %0" : "=q"(readable) : "r"(selector) : "cc");
	return readable ? selector : VMI_PROCESS_DATA_SELECTOR;
}

static void read_state(unsigned index, const struct stub_exit *exit)
{
	fpu_in_registers[index] = exit->kind == STUB_EXIT_HYPERCALL;
	struct guest_regs *regs = &process_guest_regs;
	regs->eax = (uint32_t)exit->gregs[REG_RAX];
	regs->ecx = (uint32_t)exit->gregs[REG_RCX];
	regs->edx = (uint32_t)exit->gregs[REG_RDX];
	regs->ebx = (uint32_t)exit->gregs[REG_RBX];
	regs->esp = (uint32_t)exit->gregs[REG_RSP];
	regs->ebp = (uint32_t)exit->gregs[REG_RBP];
	regs->esi = (uint32_t)exit->gregs[REG_RSI];
	regs->edi = (uint32_t)exit->gregs[REG_RDI];
	regs->eip = (uint32_t)exit->gregs[REG_RIP];
	regs->eflags = (uint32_t)exit->gregs[REG_EFL];
	process_guest_ds = loadable(exit->segments[0]);
	process_guest_es = loadable(exit->segments[1]);
	process_guest_fs = loadable(exit->segments[2]);
	process_guest_gs = loadable(exit->segments[3]);
	/* fxrstor64 of reserved MXCSR bits is a #GP in vmirun's own code */
	memcpy(process_guest_fpu, exit_of(index)->fpu, sizeof process_guest_fpu);   /* once */
	uint32_t mxcsr;
	memcpy(&mxcsr, process_guest_fpu + 24, 4);
	mxcsr &= mxcsr_mask;
	memcpy(process_guest_fpu + 24, &mxcsr, 4);
}

/* --- exits ------------------------------------------------------------------------------------ */

/* A #GP(0) from a data segment register holding a host selector the guest did not mean
 * (signals.c's replace_host_selectors, for the user process): 1 if one was replaced. */
static int replace_host_selectors(const struct stub_exit *exit)
{
	if (exit->gregs[REG_TRAPNO] != 13 || exit->gregs[REG_ERR] != 0)
		return 0;
	uint16_t *selectors[] = { &process_guest_ds, &process_guest_es, &process_guest_fs,
	                          &process_guest_gs };
	int replaced = 0;
	for (unsigned i = 0; i < 4; i++) {
		if (process_host_selector_foreign(*selectors[i])) {
			*selectors[i] = VMI_PROCESS_DATA_SELECTOR;
			replaced = 1;
		}
	}
	if (replaced)
		stats_count_trap(STATS_TRAP_HOST_SELECTOR);
	return replaced;
}

/* Turns the stub's exit into the monitor's, or settles it here (a TLB fill): 1 if the
 * guest simply goes on, 0 with *out filled. */
static int settle(const struct stub_exit *exit, struct guest_exit *out)
{
	*out = (struct guest_exit){ .in_guest_code = 1, .page_walk_error = -1 };
	if (exit->kind == STUB_EXIT_HYPERCALL) {
		if (exit->stepped)
			monitor_single_step_after_hypercall();
		out->kind = GUEST_EXIT_HYPERCALL;
		out->call = exit->signal;
		return 0;
	}
	const uint64_t *g = exit->gregs;
	if (exit->kind != STUB_EXIT_SIGNAL || (g[REG_CSGSFS] & 0xFFFF) != VMI_PROCESS_CODE32_SELECTOR)
		goto refused;   /* not what the stub writes: something else ran there */
	switch (exit->signal) {
	case STUB_TIMER_SIGNAL:
		timer_on_signal();
		out->kind = platform_timed_out(1) ? GUEST_EXIT_TIMEOUT : GUEST_EXIT_INTERRUPT;
		return 0;
	case SIGSYS:
		out->kind = GUEST_EXIT_SYSCALL;
		out->syscall_length = PROCESS_INT_N_LENGTH;
		process_guest_regs.eax = exit->syscall;   /* the host replaced it with -ENOSYS */
		return 0;
	case SIGSEGV:
		if (g[REG_TRAPNO] == 14) {
			uint32_t linear = (uint32_t)g[REG_CR2], guest_error = 0;
			char reason[MMU_REASON_MAX], message[256];
			/* vmirun's window: the vCPU page is read-only zeros here, the rest nothing.
			 * Writing the ring, IF or transition mark is what cli is on a PC: a #GP. */
			if (linear >= VMI_PROCESS_WINDOW_BASE)
				goto refused;
			switch (mmu_host_fault(linear, (uint32_t)g[REG_ERR], 1, &guest_error, reason)) {
			case MMU_FILLED:
				return 1;
			case MMU_GUEST_FAULT:
				out->page_walk_error = guest_error;
				break;
			case MMU_NOT_PAGING:
				break;
			case MMU_UNSUPPORTED:
				snprintf(message, sizeof message, "guest stopped at eip 0x%08x: %s",
				         process_guest_regs.eip, reason);
				platform_request_stop(GUEST_STOP_NOT_IMPLEMENTED, &process_guest_regs,
				                      message);
				return 0;
			}
		} else if (process_int80_without_ia32(g[REG_TRAPNO], g[REG_ERR],
		                                      process_guest_regs.eip)) {
			process_guest_regs.eip += PROCESS_INT_N_LENGTH;
			out->kind = GUEST_EXIT_SYSCALL;
			out->syscall_length = PROCESS_INT_N_LENGTH;
			return 0;
		} else if (replace_host_selectors(exit)) {
			return 1;
		}
		break;
	case SIGILL:
	case SIGTRAP:
	case SIGFPE:
	case SIGBUS:
		break;
	default:
		goto refused;
	}
	out->kind = GUEST_EXIT_FAULT;
	out->vector = (unsigned)g[REG_TRAPNO] & 0xFF;
	out->error_code = (uint32_t)g[REG_ERR];
	out->fault_address = (uint32_t)g[REG_CR2];
	return 0;
refused:
	out->kind = GUEST_EXIT_FAULT;
	out->vector = 13;
	out->error_code = 0;
	return 0;
}

/* The process ended (killed by its filter: code that left compatibility mode made a system
 * call, or anything else that killed it): its mappings went with it, and the guest kernel
 * sees a #GP at the user state it last resumed, as a PC shows the far jump to a 64-bit
 * selector. Another process takes the slot when user mode runs there again. */
static void process_lost(unsigned slot, unsigned index, struct guest_exit *out)
{
	atomic_store(&stub_ended[index], 0);
	fpu_in_registers[index] = 0;
	process_forget(slot);
	monitor_address_space_lost(slot);
	stats_count_paging(STATS_PAGING_USER_PROCESSES_ENDED, 1);
	*out = (struct guest_exit){ .kind = GUEST_EXIT_FAULT, .vector = 13, .in_guest_code = 1,
	                            .page_walk_error = -1 };
}

/* Before user mode runs: the alarm that came due meanwhile (its signals here and in the
 * stub's own code wait for the guest's), then what is pending. */
static int take_pending_interrupts(void)
{
	if (timer_alarm_armed())
		timer_on_signal();   /* which does nothing until the alarm is due */
	struct guest_exit exit = { .kind = platform_timed_out(1) ? GUEST_EXIT_TIMEOUT
	                                                         : GUEST_EXIT_INTERRUPT,
	                           .in_guest_code = 1 };
	return monitor_handle_exit(&exit, &process_guest_regs) == EXIT_STOP ? -1 : 0;
}

void user_driver_run(unsigned slot)
{
	unsigned index = slot - first_stub_slot;
	struct stub_exit exit;
	while (atomic_load(&process_wanted) == slot) {
		driven = index;
		process_mapping_slot = slot;
		monitor_address_space_entered(slot);
		if (platform_stop_requested() || take_pending_interrupts() != 0)
			break;
		if (atomic_load(&process_wanted) != slot)
			break;
		write_state(index, command_of(index));
		struct guest_exit out;
		int outcome = round_trip(index, &exit);
		if (outcome == ROUND_TRIP_UNSENT) {
			platform_request_stop(GUEST_STOP_SANDBOX, &process_guest_regs, "sandbox: the "
			                      "guest's user process left the guest-memory descriptors "
			                      "sent to it unread");
			break;
		} else if (outcome == ROUND_TRIP_TIMEOUT) {
			out = (struct guest_exit){ .kind = GUEST_EXIT_TIMEOUT, .in_guest_code = 1 };
		} else if (outcome == ROUND_TRIP_ENDED) {
			process_lost(slot, index, &out);
		} else {
			read_state(index, &exit);
			if (exit.failed_ops) {
				platform_request_stop(GUEST_STOP_NOT_IMPLEMENTED, &process_guest_regs,
				                      "the user process could not map the guest's pages");
				break;
			}
			if (settle(&exit, &out))
				continue;
			if (platform_stop_requested())
				break;
		}
		if (monitor_handle_exit(&out, &process_guest_regs) == EXIT_STOP)
			break;
	}
	driven = ~0u;
	process_mapping_slot = process_slot;
	if (platform_stop_requested())
		process_stop_now();
}
