/* Guest address spaces as host processes (User-Mode Linux's SKAS, gVisor's systrap): the
 * first process is vmirun itself; the others are forked on demand from a template forked
 * before the sandbox, while the low 4 GiB still held only the start-up mappings. The vCPU
 * moves between them by a shared-memory handoff: spin briefly, then sleep on a futex. What
 * is per process travels with the vCPU: the guest's segment registers and FPU state; the
 * rest of its state is in vmirun's shared data already. */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vmi/process.h>
#include "exit_status.h"
#include "monitor/timer.h"
#include "platform/process/address_space_processes.h"
#include "platform/process/process.h"
#include "platform/process/sandbox.h"
#include "platform/process/shared_data.h"
#include "platform/process/signals.h"
#include "platform/process/transition.h"
#include "platform/process/user_driver.h"
#include "platform/process/user_process.h"
#include "platform.h"
#include "stats.h"

_Static_assert(ADDRESS_SPACE_PROCESSES_MAX <= STATS_PROCESSES_MAX, "a set of counters each");

#define SPIN_ROUNDS 20000   /* ~10-50 us of pause: a handoff to a spinning process costs
                               hundreds of cycles, a futex wake thousands */

/* One per process: whether it may run, whether it sleeps waiting for that, its pid. */
struct vcpu_turn {
	_Alignas(64) _Atomic uint32_t turn;   /* a line each: the spinner reads only its own */
	_Atomic uint32_t sleeping;
	_Atomic int32_t pid;      /* 0 until it runs, -1 if it could not be created */
};

static struct vcpu_turn turns[ADDRESS_SPACE_PROCESSES_MAX];
static unsigned process_count = 1;
static _Atomic uint32_t vcpu_holder;      /* the process that runs the guest */
_Atomic uint32_t process_wanted;          /* the one the monitor switched to */
static _Atomic uint32_t template_request; /* a process to create, plus 1 */
/* The one process that may spin for its turn, plus 1: the last to hand the vCPU over, which
 * is the likeliest to get it back (a system call's return, under strict isolation). The
 * others sleep at once: a spinner more than the cores left to the vCPU's holder takes the
 * holder's core (seen with four processes on two cores: a millisecond per handoff). */
static _Alignas(64) _Atomic uint32_t spinner_here;
/* Where the token is: here, or where the user processes' stubs can read it too
 * (user_driver.c), which spin by it as well. */
static _Atomic uint32_t *spinner_at = &spinner_here;
/* Thread-local, so each process keeps the copy it was forked with: guest code that escaped
 * compatibility mode can write the shared data, and must not choose what the next process
 * checks or locks itself with. */
static __thread pid_t first_pid;
static __thread struct address_space_sandbox sandbox;
/* What the hardware keeps per process and the guest must find again in the next one (its
 * x87 and SSE state travels in process_guest_fpu, where every exit leaves it). */
uint16_t process_guest_ds, process_guest_es, process_guest_gs;

__thread unsigned process_slot;           /* 0 in the first process */
__thread unsigned process_mapping_slot;   /* process_slot, or the user process it drives */
static __thread void *my_host_rsp;        /* where the monitor's stack is in this one */


long process_futex(_Atomic uint32_t *word, int op, uint32_t value)
{
	return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

int process_is_first(void)
{
	return process_slot == 0;
}

int process_holds_vcpu(void)
{
	return atomic_load(&vcpu_holder) == process_slot;
}

unsigned platform_address_space_count(void)
{
	return process_count;
}

unsigned platform_mapping_address_space(void)
{
	return process_mapping_slot;
}

pid_t process_pid(unsigned slot)
{
	return slot < ADDRESS_SPACE_PROCESSES_MAX ? atomic_load(&turns[slot].pid) : 0;
}

void process_forget(unsigned slot)
{
	if (slot < ADDRESS_SPACE_PROCESSES_MAX)
		atomic_store(&turns[slot].pid, 0);
}

void process_lend_vcpu(unsigned slot)
{
	atomic_store(&vcpu_holder, slot);
}

void process_give_spinner_token(unsigned slot)
{
	atomic_store(spinner_at, slot + 1);
}

void process_take_spinner_token(void)
{
	process_give_spinner_token(process_slot);
}

void process_keep_spinner_token_at(_Atomic uint32_t *word)
{
	atomic_store(word, atomic_load(spinner_at));
	spinner_at = word;
}

int process_may_spin(void)
{
	return atomic_load_explicit(spinner_at, memory_order_relaxed) == process_slot + 1;
}

static void give_turn(unsigned slot)
{
	atomic_store(&vcpu_holder, slot);
	atomic_store(&turns[slot].turn, 1);
	if (atomic_load(&turns[slot].sleeping))
		process_futex(&turns[slot].turn, FUTEX_WAKE, 1);
}

static void await_turn(void)
{
	struct vcpu_turn *mine = &turns[process_slot];
	int slept = 0;
	for (unsigned i = 0; i < SPIN_ROUNDS && !atomic_load(&mine->turn) && process_may_spin();
	     i++) {
		__builtin_ia32_pause();
		/* Past the first rounds, let the core go to whatever else may run (another
		 * guest's holder, on a busy host) between looks. */
		if (i >= SPIN_ROUNDS / 10)
			sched_yield();
	}
	if (!atomic_load(&mine->turn)) {
		atomic_store(&mine->sleeping, 1);
		while (!atomic_load(&mine->turn))
			process_futex(&mine->turn, FUTEX_WAIT, 0);
		atomic_store(&mine->sleeping, 0);
		slept = 1;
	}
	atomic_store(&mine->turn, 0);
	stats_count_paging(slept ? STATS_PAGING_HANDOFF_SLEPT : STATS_PAGING_HANDOFF_SPUN, 1);
}

/* The guest's segment registers, from the process that ran it to the next. */
static void save_guest_cpu_state(void)
{
	__asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%gs, %2"
	                 : "=r"(process_guest_ds), "=r"(process_guest_es), "=r"(process_guest_gs));
}

static void load_guest_cpu_state(void)
{
	__asm__ volatile("mov %0, %%ds; mov %1, %%es; mov %2, %%gs"
	                 ::"r"(process_guest_ds), "r"(process_guest_es), "r"(process_guest_gs));
}

/* This process holds the vCPU again: its own stack for the monitor, the guest's CPU state,
 * its timers, and what the monitor queued for its mappings. */
static void take_over(void)
{
	if (my_host_rsp)
		process_host_rsp = my_host_rsp;
	load_guest_cpu_state();
	timer_process_entered();
	monitor_address_space_entered(process_slot);
}

/* Asks the template for process `slot` and waits until it runs or has failed. */
static int create_process(unsigned slot)
{
	atomic_store(&turns[slot].pid, 0);
	atomic_store(&template_request, slot + 1);
	process_futex(&template_request, FUTEX_WAKE, 1);
	while (atomic_load(&turns[slot].pid) == 0)
		process_futex((_Atomic uint32_t *)&turns[slot].pid, FUTEX_WAIT, 0);
	if (atomic_load(&turns[slot].pid) < 0)
		return -1;
	stats_count_paging(STATS_PAGING_PROCESSES_CREATED, 1);
	return 0;
}

int platform_switch_address_space(unsigned id)
{
	if (id >= process_count)
		return -1;
	if (id != process_slot && atomic_load(&turns[id].pid) <= 0 && create_process(id) != 0)
		return -1;
	atomic_store(&process_wanted, id);
	return 0;
}

/* The interrupts that became pending while the vCPU changed hands. */
static void take_pending_interrupts(void)
{
	struct guest_exit exit = { .kind = GUEST_EXIT_INTERRUPT, .in_guest_code = 1 };
	if (!transition_under_way() &&
	    monitor_handle_exit(&exit, &process_guest_regs) == EXIT_STOP)
		process_stop_now();
}

void process_hand_over(void)
{
	save_guest_cpu_state();
	/* Again if an interrupt delivered on arrival moves the guest on (from user mode to its
	 * kernel, under strict isolation). */
	do {
		unsigned wanted = atomic_load(&process_wanted);
		if (user_driver_serves(wanted)) {
			/* user mode, in a user process this one drives */
			user_driver_run(wanted);
			if (!process_switch_wanted()) {
				take_over();
				take_pending_interrupts();
			}
			continue;
		}
		my_host_rsp = process_host_rsp;
		give_turn(wanted);
		/* after the turn: the receiver, the spinner until now, must not see the token
		 * gone before its turn came (it would sleep for nothing) */
		process_take_spinner_token();
		await_turn();
		if (platform_stop_requested())
			process_stop_now();   /* only the first process is ever woken for that */
		take_over();
		take_pending_interrupts();
	} while (process_switch_wanted());
}

_Noreturn void process_hand_back_to_stop(void)
{
	atomic_store(&process_wanted, 0);
	give_turn(0);
	for (;;)
		process_futex(&turns[process_slot].turn, FUTEX_WAIT, 0);   /* until the first process exits */
}

void process_child_ended(void)
{
	static const char message[] = "vmirun: internal error: an address-space process ended "
	                              "while the guest ran\n";
	if (write(STDERR_FILENO, message, sizeof message - 1) < 0) {
		/* nothing more to say */
	}
	_exit(EXIT_STATUS_INTERNAL_ERROR);
}

/* --- the processes ------------------------------------------------------------------------ */

/* Dies with the first process, and checks it did not miss that. */
static void die_with_first(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != first_pid)
		_exit(0);
}

static _Noreturn void run_address_space(unsigned slot)
{
	die_with_first();
	process_slot = slot;
	process_mapping_slot = slot;
	stats_use_process_slot(slot);
	my_host_rsp = NULL;
	pid_t pid = getpid();   /* before the sandbox, which refuses it */
	if (user_driver_serves(slot)) {
		/* strict isolation's user process: the stub alone, driven from the kernel side */
		if (user_process_prepare(slot - sandbox.first_user_slot, slot) != 0)
			_exit(EXIT_STATUS_INTERNAL_ERROR);
		atomic_store(&turns[slot].pid, pid);
		process_futex((_Atomic uint32_t *)&turns[slot].pid, FUTEX_WAKE, 1);
		user_process_enter_stub();
	}
	if (timer_setup() != 0 || process_rearm_timeout() != 0 ||
	    sandbox_lock(sandbox.read_fds, sandbox.read_fd_count, sandbox.guest_memory_fd) != 0)
		_exit(EXIT_STATUS_INTERNAL_ERROR);
	atomic_store(&turns[slot].pid, pid);
	process_futex((_Atomic uint32_t *)&turns[slot].pid, FUTEX_WAKE, 1);
	await_turn();
	take_over();
	take_pending_interrupts();
	if (process_switch_wanted())
		process_hand_over();
	process_enter_guest();
	_exit(EXIT_STATUS_INTERNAL_ERROR);
}

/* The template: forks an address-space process per request, as a child of the first
 * process (CLONE_PARENT), which hears of its end. It trusts nothing in the shared data:
 * the slot is checked and the number of processes bounded by its own count; it runs under
 * a filter that allows little more than the address-space processes' own. */
static _Noreturn void run_template(void)
{
	unsigned created = 0;
	die_with_first();
	if (sandbox_lock_template(sandbox.read_fds, sandbox.read_fd_count,
	                          sandbox.guest_memory_fd) != 0)
		_exit(EXIT_STATUS_INTERNAL_ERROR);
	for (;;) {
		uint32_t request = atomic_exchange(&template_request, 0);
		if (request == 0) {
			process_futex(&template_request, FUTEX_WAIT, 0);
			continue;
		}
		unsigned slot = request - 1;
		long pid = -1;
		if (slot > 0 && slot < ADDRESS_SPACE_PROCESSES_MAX &&
		    created < 4 * ADDRESS_SPACE_PROCESSES_MAX) {
			pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
			if (pid == 0)
				run_address_space(slot);
			created++;
		}
		if (pid < 0) {
			atomic_store(&turns[slot % ADDRESS_SPACE_PROCESSES_MAX].pid, -1);
			process_futex((_Atomic uint32_t *)&turns[slot % ADDRESS_SPACE_PROCESSES_MAX].pid,
			      FUTEX_WAKE, 1);
		}
	}
}

int address_space_processes_start(unsigned count, const struct address_space_sandbox *plan,
                                  char error[200])
{
	if (count <= 1)
		return 0;
	if (count > ADDRESS_SPACE_PROCESSES_MAX) {
		snprintf(error, 200, "at most %u address-space processes", ADDRESS_SPACE_PROCESSES_MAX);
		return -1;
	}
	if (shared_data_create(error) != 0 ||
	    user_driver_setup(plan->first_user_slot, count - plan->first_user_slot,
	                      plan->guest_memory_fd, error) != 0)
		return -1;
	if (count > plan->first_user_slot)
		process_keep_spinner_token_at(user_driver_spinner_word());
	process_count = count;
	sandbox = *plan;
	first_pid = getpid();
	atomic_store(&turns[0].pid, first_pid);
	pid_t template = fork();
	if (template < 0) {
		snprintf(error, 200, "cannot fork the address-space template: %s", strerror(errno));
		return -1;
	}
	if (template == 0)
		run_template();
	return 0;
}
