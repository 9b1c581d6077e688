/* Runs the guest: enters compatibility mode through vcpu_switch.S and leaves it, for good,
 * by a longjmp back into vcpu_run from the monitor or a signal handler. */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vcpu/host_fs.h"
#include "vcpu/vcpu.h"
#include "vcpu/vcpu_layout.h"
#include "address_space.h"
#include "stats.h"

_Static_assert(offsetof(struct vcpu_regs, eax) == VCPU_REG_EAX, "layout");
_Static_assert(offsetof(struct vcpu_regs, ecx) == VCPU_REG_ECX, "layout");
_Static_assert(offsetof(struct vcpu_regs, edx) == VCPU_REG_EDX, "layout");
_Static_assert(offsetof(struct vcpu_regs, ebx) == VCPU_REG_EBX, "layout");
_Static_assert(offsetof(struct vcpu_regs, esp) == VCPU_REG_ESP, "layout");
_Static_assert(offsetof(struct vcpu_regs, ebp) == VCPU_REG_EBP, "layout");
_Static_assert(offsetof(struct vcpu_regs, esi) == VCPU_REG_ESI, "layout");
_Static_assert(offsetof(struct vcpu_regs, edi) == VCPU_REG_EDI, "layout");
_Static_assert(offsetof(struct vcpu_regs, eip) == VCPU_REG_EIP, "layout");
_Static_assert(offsetof(struct vcpu_regs, eflags) == VCPU_REG_EFLAGS, "layout");
_Static_assert(sizeof(struct vcpu_regs) == VCPU_REGS_SIZE, "layout");

struct vcpu_regs vcpu_guest_regs;
/* The host stack pointer the monitor runs on, saved by vcpu_switch_to_guest. */
void *vcpu_host_rsp;

void vcpu_switch_to_guest(void);
uint8_t vcpu_redirect;
uint64_t vcpu_host_fs_base;
uint8_t vcpu_have_fsgsbase;
/* The guest's FS selector while the hypercall path runs (vcpu_switch.S). */
uint16_t vcpu_guest_fs;

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

void host_fs_setup(void)
{
	unsigned long base = 0;
	vcpu_have_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &base);
	vcpu_host_fs_base = base;
}

static sigjmp_buf stop_jump;
static struct vcpu_stop *current_stop;
static volatile int running, run_over;

int vcpu_is_running(void)
{
	return running;
}

int vcpu_run_is_over(void)
{
	return run_over;
}

void vcpu_run(const struct vcpu_regs *initial, struct vcpu_stop *stop)
{
	memset(stop, 0, sizeof(*stop));
	current_stop = stop;
	vcpu_guest_regs = *initial;
	vcpu_redirect = 0;
	if (sigsetjmp(stop_jump, 1) == 0) {
		running = 1;
		stats_mark_guest_entry();
		vcpu_switch_to_guest();
	}
	running = 0;
	run_over = 1;
	current_stop = NULL;
}

void vcpu_hypercall_redirect(void)
{
	vcpu_redirect = 1;
}

static _Noreturn void stop_now(enum vcpu_stop_reason reason, const struct vcpu_regs *regs,
                               const char *message)
{
	struct vcpu_stop *stop = current_stop;

	stop->reason = reason;
	if (message)
		snprintf(stop->message, sizeof(stop->message), "%s", message);
	if (regs) {
		stop->regs = *regs;
		stop->have_regs = 1;
	}
	siglongjmp(stop_jump, 1);
}

_Noreturn void vcpu_stop_guest(enum vcpu_stop_reason reason, const char *message)
{
	stop_now(reason, NULL, message);
}

_Noreturn void vcpu_stop_guest_with_regs(enum vcpu_stop_reason reason,
                                         const struct vcpu_regs *regs, const char *message)
{
	stop_now(reason, regs, message);
}

_Noreturn void vcpu_stop_exit_port(int value)
{
	current_stop->exit_port_value = value;
	stop_now(VCPU_STOP_EXIT_PORT, NULL, NULL);
}
