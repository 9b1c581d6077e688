/* The line between the virtual i386 machine (monitor, devices, loader) and the platform that
 * runs its code: what the machine asks of a platform and what a platform hands the machine.
 * The one platform today, vmm/platform/process/, runs the guest in compatibility mode inside
 * this process; a second one implements this header and the monitor does not change. */
#ifndef VMM_PLATFORM_H
#define VMM_PLATFORM_H

#include <stdint.h>

struct guest_regs {
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eip, eflags;
};

/* Why the guest stopped running; main() turns it into vmirun's exit status. */
enum guest_stop_reason {
	GUEST_STOP_NONE = 0,
	GUEST_STOP_EXIT_PORT,     /* the guest wrote a status to the exit port */
	GUEST_STOP_SHUTDOWN,      /* the Shutdown call */
	GUEST_STOP_REBOOT,        /* the Reboot call or the reset line: nothing to reboot into */
	GUEST_STOP_FAULT,         /* a fault the guest could not take */
	GUEST_STOP_HALTED,        /* halted with nothing that could ever wake it */
	GUEST_STOP_TIMEOUT,       /* --timeout ran out */
	GUEST_STOP_SANDBOX,       /* code that left compatibility mode made a refused system call */
	GUEST_STOP_OUTPUT_FAILED, /* stdout refused the console's output */
	GUEST_STOP_NOT_IMPLEMENTED, /* the guest needs what vmirun lacks yet (PAE, a page it
	                               cannot map) */
};

struct guest_stop {
	enum guest_stop_reason reason;
	int exit_port_value;     /* for GUEST_STOP_EXIT_PORT */
	char message[256];       /* one line, for faults and halts */
	struct guest_regs regs;  /* the guest's registers when it stopped */
	int have_regs;
};

/* --- exits: how the guest's code comes back to the machine -------------------------------- */

enum guest_exit_kind {
	GUEST_EXIT_HYPERCALL,  /* a VMI call; the registers hold the state after it returned */
	GUEST_EXIT_FAULT,      /* an exception the platform did not resolve itself */
	GUEST_EXIT_SYSCALL,    /* int $0x80 trapped; eip is past it, eax holds the number */
	GUEST_EXIT_INTERRUPT,  /* an interrupt may have become pending (a host timer fired) */
	GUEST_EXIT_TIMEOUT,    /* --timeout ran out while the guest's code ran */
};

struct guest_exit {
	enum guest_exit_kind kind;
	uint32_t call;           /* HYPERCALL: the VMI call number */
	unsigned vector;         /* FAULT: the exception vector */
	uint32_t error_code;     /* FAULT: what the host CPU pushed (meaningful where the vector
	                            has one) */
	int64_t page_walk_error; /* FAULT 14: the error code the guest's page tables call for,
	                            or -1 when they had no say (the guest does not page) */
	uint32_t fault_address;  /* FAULT 14: the linear address (CR2) */
	unsigned syscall_length; /* SYSCALL: the length of the instruction that made it */
	int in_guest_code;       /* FAULT, SYSCALL: 1 in the guest's own code, 0 in code it
	                            escaped to, which the guest can never be sent back to */
};

/* What the platform does once the monitor has handled an exit. */
enum exit_action {
	EXIT_CONTINUE, /* go on: eip and the call's result registers as the monitor left them */
	EXIT_RESUME,   /* load the whole state the monitor left (it sent the guest elsewhere:
	                  an interrupt, IRET, SYSEXIT, or changed its flags) */
	EXIT_STOP,     /* stop the run: a stop was requested (platform_request_stop) */
};

/* The monitor's side (monitor/exit.c): every exit, one entry point. */
enum exit_action monitor_handle_exit(const struct guest_exit *exit, struct guest_regs *regs);

/* --- what the platform provides --------------------------------------------------------- */

/* Runs the guest from `initial` until it stops; fills *stop. */
void platform_run(const struct guest_regs *initial, struct guest_stop *stop);

/* Records that the guest must stop (the first reason recorded wins; `regs` may be NULL) and
 * returns: the platform stops the guest once the exit at hand is handled. */
void platform_request_stop(enum guest_stop_reason reason, const struct guest_regs *regs,
                           const char *message);

/* The same for a status written to the exit port. */
void platform_request_exit_port_stop(int value);

/* Nonzero once a stop has been requested. */
int platform_stop_requested(void);

/* Nonzero once a stop has been requested or --timeout has run out: one load for the
 * monitor's hot paths, which then ask the functions above and below. */
extern volatile int platform_attention;

/* Nonzero while platform_run runs the guest (or the monitor on its behalf). */
int platform_running(void);

/* Nonzero once --timeout has run out; the clock is read only when `read_clock` (for long
 * loops, during which the platform's own notice may be held back). */
int platform_timed_out(int read_clock);

/* The guest's calls: how many bytes the instruction that makes one takes (a fault the call
 * raises is reported at that instruction), and argument `index` of those passed on the
 * stack (docs/abi.md; 0 if unreadable). */
unsigned platform_call_length(void);
uint32_t platform_call_stack_argument(const struct guest_regs *regs, unsigned index);

/* Events: the monitor holds them off while it looks whether one is pending, then waits for
 * the next (waking with them held again), then lets them in. For the halt loop. */
void platform_hold_events(void);
void platform_wait_for_event(void);
void platform_release_events(void);

/* Where the shared vCPU page (include/vmi/vcpu_page.h) is, for the monitor. */
void *platform_vcpu_page(void);

/* Guest memory, as the monitor reaches it (never through the guest's own mappings): its
 * pointer for guest-physical [physical, physical+len), for writing if asked, or NULL if that
 * is not all guest memory of that kind; _unpaged is the same for the addresses a guest that
 * does not page may use (its linear addresses are physical ones, and the platform may not
 * place it everywhere). The platform's rules: platform/process/address_space.h. */
void *platform_guest_physical(uint32_t physical, uint32_t len, int write);
void *platform_guest_unpaged(uint32_t addr, uint32_t len, int write);

/* Bytes of RAM from VMI_PROCESS_RAM_BASE (1 MiB). */
uint64_t platform_guest_ram_bytes(void);

/* The guest's TLB, which monitor/mmu.c manages and the platform realizes: map `size` bytes
 * of guest-physical memory from `physical` at `linear` (read and execute, and write if
 * asked), or drop mappings. Each 0, or -1 (errno). */
int platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size, int writable);
int platform_unmap_linear(uint32_t linear, uint32_t size);

/* 1 if [linear, linear+size) may hold guest mappings on this platform. */
int platform_linear_mappable(uint32_t linear, uint32_t size);

/* Address spaces: sets of those mappings the platform keeps apart (here a host process
 * each), so that one the guest left keeps its mappings for its return. monitor/mmu.c tags
 * each with a page directory, as a CPU tags TLB entries with a PCID. How many there are
 * (1: one set, which a CR3 load must flush); the one whose mappings platform_map_linear
 * and _unmap_linear change, called from here; and the one the guest runs in once the exit
 * at hand is handled (0, or -1 if the platform cannot have it now: keep to the current). */
unsigned platform_address_space_count(void);
unsigned platform_mapping_address_space(void);
int platform_switch_address_space(unsigned id);

/* The monitor's side: address space `id` holds the vCPU again (called there before the
 * guest runs): mapping changes queued for it while it did not can be made now. */
void monitor_address_space_entered(unsigned id);

/* The monitor's side: address space `id` lost all its mappings (its process ended). */
void monitor_address_space_lost(unsigned id);

#endif
