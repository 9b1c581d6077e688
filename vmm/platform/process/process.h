/* What the process platform's own files share: the guest's register file the world switch
 * loads and saves, and the one way a run ends. Nothing outside vmm/platform/process/ uses it. */
#ifndef VMM_PLATFORM_PROCESS_PROCESS_H
#define VMM_PLATFORM_PROCESS_PROCESS_H

#include <stdint.h>
#include "platform.h"

/* The one vCPU's registers; world_switch.S loads and saves them. */
extern struct guest_regs process_guest_regs;

/* The guest's x87 and SSE state (fxsave64's format) while vmirun's code runs: the hypercall
 * path keeps it here around the monitor's C code, the signal handlers find it in their
 * frame and put it here only for a handoff, and the world switch loads it on every entry. */
extern uint8_t process_guest_fpu[512];

/* The guest's FS selector while vmirun's code runs (the hypercall path and the handlers
 * that interrupted guest code keep it here, where a handoff finds it). */
extern uint16_t process_guest_fs;

/* Its other data segment registers while the vCPU changes hands (address_space_processes.c). */
extern uint16_t process_guest_ds, process_guest_es, process_guest_gs;

/* The host stack pointer the monitor's hypercall path runs on, in the process that holds
 * the vCPU. */
extern void *process_host_rsp;

/* Set when a hypercall's return must load all of process_guest_regs (eip and esp included)
 * instead of returning to the caller. */
extern uint8_t process_redirect;

/* Reached from world_switch.S with the call number, process_guest_regs holding the state
 * after the call returned. */
void process_hypercall(uint32_t call);

/* Ends the run with the stop requested (platform_request_stop): back into platform_run.
 * From the hypercall path and the signal handlers only. */
_Noreturn void process_stop_now(void);

/* Nonzero once platform_run has returned. */
int process_run_over(void);

/* world_switch.S: loads process_guest_regs and enters the guest; returns only through
 * process_stop_now. */
void process_enter_guest(void);

#endif
