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
	STATS_TRAP_HOST_SELECTOR,    /* a #GP of a host selector the guest loaded as its own,
	                                replaced by the flat one */
	STATS_TRAP_KIND_COUNT
};

/* What guest paging cost (monitor/mmu.c): host faults by outcome, and host calls. */
enum stats_paging_kind {
	STATS_PAGING_FILLED,          /* a host fault the monitor filled from the guest's tables */
	STATS_PAGING_WRITE_UPGRADE,   /* a first write to a page mapped read-only to keep D exact */
	STATS_PAGING_FAULT_DELIVERED, /* a #PF the guest's own tables call for */
	STATS_PAGING_HOST_MAP,        /* mmap calls that mapped guest pages */
	STATS_PAGING_PAGES_MAPPED,    /* 4 KiB pages those calls mapped */
	STATS_PAGING_HOST_UNMAP,      /* calls that dropped mappings (one page, 4 MiB or all) */
	STATS_PAGING_MAPPED_AT_SETPXE, /* mapped when SetPxE made them present, with no fault */
	STATS_PAGING_MAPPED_AROUND,   /* pages mapped with a faulting one (fault-around) */
	STATS_PAGING_CR3_LOADS,       /* address-space switches (CR3 loads with paging on) */
	STATS_PAGING_FLUSH_ALL,       /* whole-TLB flushes (one unmap call each) */
	STATS_PAGING_FLUSH_KEEPING_GLOBAL, /* CR3 loads and flushes that kept global pages */
	STATS_PAGING_SWITCHES,        /* CR3 loads that moved the vCPU to another address space */
	STATS_PAGING_RING_SWITCHES,   /* strict isolation: moves between the kernel's and the
	                                 user's process of one address space */
	STATS_PAGING_HANDOFF_SPUN,    /* handoffs the receiving process took while spinning */
	STATS_PAGING_HANDOFF_SLEPT,   /* and those it slept on a futex for */
	STATS_PAGING_USER_PROCESSES_ENDED, /* strict isolation: user processes that died (code
	                                      that left compatibility mode made a system call) */
	STATS_PAGING_PROCESSES_CREATED, /* address-space processes forked */
	STATS_PAGING_EVICTED,         /* address spaces dropped for another (least recently used) */
	STATS_PAGING_QUEUED_UNMAPS,   /* unmaps queued for an address space until it runs */
	STATS_PAGING_GLOBAL_CARRIED,  /* host mappings of global pages a new address space made
	                                 at its first entry (a CPU keeps them across CR3 loads) */
	STATS_PAGING_KIND_COUNT
};

/* The processes that count apart (the platform's address-space processes, at most). */
#define STATS_PROCESSES_MAX 16

/* In an address-space process, before it counts anything: its own set of counters. */
void stats_use_process_slot(unsigned slot);

void stats_mark_start(void);
void stats_mark_guest_entry(void);
void stats_mark_end(void);
void stats_count_hypercall(uint32_t call);
void stats_count_trap(enum stats_trap_kind kind);
void stats_count_console_byte(void);
void stats_count_paging(enum stats_paging_kind kind, uint64_t count);
/* A trapped instruction the monitor emulated, by mnemonic (a string literal). */
void stats_count_emulation(const char *mnemonic);
void stats_count_interrupt(unsigned vector);

/* Writes the report to `out`, as text or as one JSON object. */
/* The run's user/kernel isolation ("strict" or "shared"), printed first. */
void stats_set_isolation(const char *name);
void stats_print(FILE *out, int json);

/* The file --stats reads memory use from (-1 if none), for the sandbox's readable files. */
int stats_status_fd(void);

#endif
