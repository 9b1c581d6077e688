/* Runs the guest: enters compatibility mode through world_switch.S, turns each hypercall
 * into an exit for the monitor, and leaves the guest, for good, by the one longjmp back into
 * platform_run once a stop is requested. */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vmi/process.h>
#include "platform/process/address_space_processes.h"
#include "platform/process/host_fs.h"
#include "platform/process/process.h"
#include "platform/process/world_switch_layout.h"
#include "monitor/guest_access.h"
#include "stats.h"

#define FAR_CALL_LENGTH     7  /* lcall $sel, $offset */
#define STACK_ARGUMENT_BASE 4  /* above the stub's return address (the far-return frame is
                                  popped by then) */

_Static_assert(offsetof(struct guest_regs, eax) == GUEST_REG_EAX, "layout");
_Static_assert(offsetof(struct guest_regs, ecx) == GUEST_REG_ECX, "layout");
_Static_assert(offsetof(struct guest_regs, edx) == GUEST_REG_EDX, "layout");
_Static_assert(offsetof(struct guest_regs, ebx) == GUEST_REG_EBX, "layout");
_Static_assert(offsetof(struct guest_regs, esp) == GUEST_REG_ESP, "layout");
_Static_assert(offsetof(struct guest_regs, ebp) == GUEST_REG_EBP, "layout");
_Static_assert(offsetof(struct guest_regs, esi) == GUEST_REG_ESI, "layout");
_Static_assert(offsetof(struct guest_regs, edi) == GUEST_REG_EDI, "layout");
_Static_assert(offsetof(struct guest_regs, eip) == GUEST_REG_EIP, "layout");
_Static_assert(offsetof(struct guest_regs, eflags) == GUEST_REG_EFLAGS, "layout");
_Static_assert(sizeof(struct guest_regs) == GUEST_REGS_SIZE, "layout");

struct guest_regs process_guest_regs;
uint8_t process_guest_fpu[512] __attribute__((aligned(16)));
uint8_t process_redirect;
/* The host stack pointer the monitor runs on, saved by process_enter_guest. */
void *process_host_rsp;
uint64_t process_host_fs_base;
uint8_t process_have_fsgsbase;
/* The guest's FS selector while the hypercall path runs (world_switch.S). */
uint16_t process_guest_fs;

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

void host_fs_setup(void)
{
	unsigned long base = 0;
	process_have_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &base);
	process_host_fs_base = base;
}

volatile int platform_attention;
static sigjmp_buf stop_jump;
static struct guest_stop requested;
static volatile int running, run_over;

int platform_running(void)
{
	return running;
}

int process_run_over(void)
{
	return run_over;
}

void platform_run(const struct guest_regs *initial, struct guest_stop *stop)
{
	process_guest_regs = *initial;
	process_redirect = 0;
	/* The guest starts with this process's x87 and SSE state: the defaults, as at reset
	 * (no guest would rely on more). */
	__asm__ volatile("fninit; fxsave64 %0" : "=m"(process_guest_fpu));
	/* A stop requested before the run (the console failed during loading) ends it at once. */
	if (!platform_stop_requested() && sigsetjmp(stop_jump, 1) == 0) {
		running = 1;
		stats_mark_guest_entry();
		process_enter_guest();
	}
	running = 0;
	run_over = 1;
	*stop = requested;
}

_Noreturn void process_stop_now(void)
{
	if (!process_is_first())
		process_hand_back_to_stop();   /* the run ends where it began */
	siglongjmp(stop_jump, 1);
}

void platform_request_stop(enum guest_stop_reason reason, const struct guest_regs *regs,
                           const char *message)
{
	if (requested.reason != GUEST_STOP_NONE)
		return; /* the first reason is the run's */
	if (message)
		snprintf(requested.message, sizeof(requested.message), "%s", message);
	if (regs) {
		requested.regs = *regs;
		requested.have_regs = 1;
	}
	requested.reason = reason;
	platform_attention = 1;
}

void platform_request_exit_port_stop(int value)
{
	if (requested.reason == GUEST_STOP_NONE)
		requested.exit_port_value = value;
	platform_request_stop(GUEST_STOP_EXIT_PORT, NULL, NULL);
}

int platform_stop_requested(void)
{
	return requested.reason != GUEST_STOP_NONE;
}

/* One record for every hypercall, only its number changing: nothing to clear on the path
 * (one vCPU, and the signal handlers build records of their own). */
static struct guest_exit hypercall_exit = { .kind = GUEST_EXIT_HYPERCALL };

void process_hypercall(uint32_t call)
{
	hypercall_exit.call = call;
	switch (monitor_handle_exit(&hypercall_exit, &process_guest_regs)) {
	case EXIT_CONTINUE:
		break;
	case EXIT_RESUME:
		process_redirect = 1;
		break;
	case EXIT_STOP:
		process_stop_now();
	}
	if (process_switch_wanted()) {
		process_hand_over();
		process_redirect = 1;
	}
}

unsigned platform_call_length(void)
{
	return FAR_CALL_LENGTH;
}

uint32_t platform_call_stack_argument(const struct guest_regs *regs, unsigned index)
{
	uint32_t value = 0;
	guest_read32(regs->esp + STACK_ARGUMENT_BASE + index * 4, &value);
	return value;
}

