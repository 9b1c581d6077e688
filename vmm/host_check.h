/* The host check: does this host give the process platform what it needs (a 32-bit code
 * segment, the low 4 GiB, memfd, seccomp traps, signals, timers)? Probed before every run. */
#ifndef VMM_HOST_CHECK_H
#define VMM_HOST_CHECK_H

#include <stdint.h>
#include <stdio.h>

enum host_capability {
	HOST_CODE32_GDT,     /* the GDT's 32-bit user code segment (selector 0x23) */
	HOST_CODE32_LDT,     /* or one of our own in the LDT (modify_ldt) */
	HOST_ROUND_TRIP,     /* a real 64 -> 32 -> 64 trip through that segment */
	HOST_LOW_MEMORY,     /* mmap_min_addr and the low-4-GiB reservation */
	HOST_MEMFD,
	HOST_SECCOMP_TRAP,   /* filters with SECCOMP_RET_TRAP */
	HOST_ALT_STACK,      /* signals delivered on an alternate stack */
	HOST_POSIX_TIMER,
	HOST_GUEST_INT80,    /* how a 32-bit int $0x80 arrives: SIGSYS or #GP (SIGSEGV) */
	HOST_CAPABILITY_COUNT,
};

enum host_int80_arrival {
	HOST_INT80_UNKNOWN = 0,  /* not probed (no 32-bit segment to probe with) */
	HOST_INT80_SIGSYS,       /* an i386 system call, trapped by the seccomp filter */
	HOST_INT80_GP,           /* #GP, as SIGSEGV: 32-bit system calls are off (ia32_emulation=0) */
	HOST_INT80_OTHER,        /* neither: the guest's system calls cannot be caught */
};

#define HOST_SEEN_MAX 120

/* What the probes saw. Each capability: 1 works, 0 does not, -1 not probed. */
struct host_facts {
	int works[HOST_CAPABILITY_COUNT];
	char seen[HOST_CAPABILITY_COUNT][HOST_SEEN_MAX];
	enum host_int80_arrival int80;
	uint16_t code32_selector;   /* the one the round trip used: 0x23, an LDT one, or 0 */
};

/* Runs every probe (those that run 32-bit code or install filters run in child processes,
 * so this process is left as it was). `forced_missing`, if not NULL, is a capability name
 * (see host_capability_name) to report missing whatever the host has: for tests only. */
void host_probe(struct host_facts *facts, const char *forced_missing);

/* The verdict: -1 if the host runs guests, else the capability that stops it; `line` then
 * gets one line naming the cause and the remedy. */
int host_verdict(const struct host_facts *facts, char *line, size_t line_size);

/* The table --check-host prints: capability, yes/no, what was seen, what to do. */
void host_print_table(FILE *out, const struct host_facts *facts);

const char *host_capability_name(enum host_capability capability);

/* Parses /proc/sys/vm/mmap_min_addr's text. 0, or -1 if it is not one number. */
int host_parse_mmap_min_addr(const char *text, uint64_t *value);

#endif
