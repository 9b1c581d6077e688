/* Run statistics for --stats: hypercalls by call, traps by kind, console bytes, and the
 * times from vmirun's start to the guest's first instruction and to its end. */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include <stdint.h>
#include <stdio.h>

enum stats_trap_kind {
	STATS_TRAP_EMULATED,         /* a privileged instruction trapped and emulated */
	STATS_TRAP_GUEST_SYSCALL,    /* an i386 system call caught by the seccomp filter */
	STATS_TRAP_FAULT,            /* a fault that stopped the guest */
	STATS_TRAP_HALT,             /* a trapped hlt */
	STATS_TRAP_TRANSITION_STEP,  /* an interrupt waiting out a ROM ring switch, per step */
	STATS_TRAP_TRANSITION_FAULT, /* a fault inside a ROM ring switch, resolved by vmirun */
	STATS_TRAP_KIND_COUNT
};

void stats_mark_start(void);
void stats_mark_guest_entry(void);
void stats_mark_end(void);
void stats_count_hypercall(uint32_t call);
void stats_count_trap(enum stats_trap_kind kind);
void stats_count_console_byte(void);
/* A trapped instruction the monitor emulated, by mnemonic (a string literal). */
void stats_count_emulation(const char *mnemonic);
void stats_count_interrupt(unsigned vector);

/* Writes the report to `out`, as text or as one JSON object. */
void stats_print(FILE *out, int json);

/* The file --stats reads memory use from (-1 if none), for the sandbox's readable files. */
int stats_status_fd(void);

#endif
