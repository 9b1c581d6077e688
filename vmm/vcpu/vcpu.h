/* The virtual CPU of the process platform: guest registers, entering the guest in 32-bit
 * compatibility mode, and leaving it for good with a reason. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <stdint.h>

struct vcpu_regs {
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eip, eflags;
};

/* Why the guest stopped running; main() turns it into vmirun's exit status. */
enum vcpu_stop_reason {
	VCPU_STOP_NONE = 0,
	VCPU_STOP_EXIT_PORT,     /* the guest wrote a status to the exit port */
	VCPU_STOP_SHUTDOWN,      /* the Shutdown call */
	VCPU_STOP_REBOOT,        /* the Reboot call: there is nothing to reboot into */
	VCPU_STOP_FAULT,         /* a fault the guest could not take */
	VCPU_STOP_HALTED,        /* halted with nothing that could ever wake it */
	VCPU_STOP_TIMEOUT,       /* --timeout ran out */
	VCPU_STOP_SANDBOX,       /* code that left compatibility mode made a refused system call */
	VCPU_STOP_OUTPUT_FAILED, /* stdout refused the console's output */
	VCPU_STOP_NOT_IMPLEMENTED, /* the guest needs what vmirun lacks yet (PAE, a page it
	                              cannot map) */
};

struct vcpu_stop {
	enum vcpu_stop_reason reason;
	int exit_port_value;     /* for VCPU_STOP_EXIT_PORT */
	char message[256];       /* one line, for faults and halts */
	struct vcpu_regs regs;   /* the guest's registers when it stopped */
	int have_regs;
};

/* The one vCPU's registers; the world-switch code reads and writes them. */
extern struct vcpu_regs vcpu_guest_regs;

/* Set when a hypercall's return must load all of vcpu_guest_regs (eip and esp included)
 * instead of jumping back to the caller. */
extern uint8_t vcpu_redirect;

/* Enters the guest at regs and runs it until it stops; fills *stop. */
void vcpu_run(const struct vcpu_regs *initial, struct vcpu_stop *stop);

/* Ends the guest's run from monitor code (hypercall or signal handler). Does not return. */
_Noreturn void vcpu_stop_guest(enum vcpu_stop_reason reason, const char *message);

/* Like vcpu_stop_guest, keeping a register snapshot for the report. */
_Noreturn void vcpu_stop_guest_with_regs(enum vcpu_stop_reason reason,
                                         const struct vcpu_regs *regs, const char *message);

/* Stops with VCPU_STOP_EXIT_PORT and the given value. */
_Noreturn void vcpu_stop_exit_port(int value);

/* Inside a hypercall, whose vcpu_guest_regs hold the state after the call returned (eip
 * past the far call, esp above its frame): makes the return path load them in full, so the
 * monitor may send the guest elsewhere (an interrupt, IRET, SYSEXIT) or change its flags. */
void vcpu_hypercall_redirect(void);

/* Nonzero while vcpu_run is running the guest (or the monitor on its behalf). */
int vcpu_is_running(void);

/* Nonzero once vcpu_run has returned. */
int vcpu_run_is_over(void);

#endif
