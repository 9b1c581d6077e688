/* Address spaces: paging on with the kernel identity-mapped (4 MiB pages), and for each
 * process that asks, a private window of demand-paged memory at PRIVATE_WINDOW that only
 * its own page directory maps. Every change goes through the VMI page-table calls. */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdint.h>

#include "interrupts.h"

#define PRIVATE_WINDOW       0x40000000u
#define PRIVATE_WINDOW_PAGES 64u
/* The frames private windows (and the self-tests) take pages from: two full windows. */
#define PAGING_FRAME_POOL    (PRIVATE_WINDOW_PAGES * 2)
/* 4 MiB above the private window, mapped by a page table of the kernel's directory alone
 * (supervisor-only, empty after paging_start): the self-tests' own pages. */
#define PAGING_TEST_WINDOW   0x40400000u

/* Turns paging on (identity map of the first `platform.ram_end` bytes, user-accessible,
 * since the user programs live in the kernel image). 0, or -1 with `why` set when the CPU
 * lacks 4 MiB pages. */
int paging_start(const char **why);
/* Turns paging off again; every address space must be released first. Frees the frames
 * still mapped in the test window. */
void paging_stop(void);

/* Loads `directory` into CR3 unless it is loaded already (the kernel's part is the same in
 * every directory, so the scheduler itself runs in any of them). */
void paging_switch_to(uint32_t directory);
/* The kernel's own directory (physical address), and whether its pages are global. */
uint32_t paging_kernel_directory(void);
int paging_kernel_global(void);

/* Gives the process in table slot `slot` its own directory and an empty private window;
 * the physical address of the directory, for CR3. */
uint32_t paging_new_address_space(unsigned slot);
/* Frees the frames of slot's private window and its tables (the process exited); loads
 * the kernel's directory first if slot's is loaded. */
void paging_release(unsigned slot);
/* Fork's plain copy: every present page of slot `from`'s private window copied into a new
 * frame mapped at the same address, with the same flags, in slot `to`'s (a new address
 * space, not loaded). 0, or -1 when the pool ran dry, with `to`'s window emptied again. */
int paging_copy_private(unsigned from, unsigned to);
/* Unmaps and frees every page of the current process's private window (SYS_DROP_PRIVATE). */
void paging_drop_private(unsigned slot);

/* A page fault of user mode in the current process's private window, where nothing is
 * mapped yet: maps a zeroed frame and returns 1 (resume); else 0. */
int paging_demand_fault(const struct trapframe *frame, unsigned slot);

/* For the self-tests, which make the page-table calls themselves: the entry that maps
 * `linear` in slot's private window (linear inside the window's first
 * PRIVATE_WINDOW_PAGES pages) or in the test window. */
volatile uint32_t *paging_private_entry(unsigned slot, uint32_t linear);
volatile uint32_t *paging_test_entry(uint32_t linear);

/* The pool of frames for private memory: a zeroed frame (0 when none is left); one back
 * (paging_release, paging_drop_private and paging_stop give back the frames their tables
 * map); how many are taken. */
void *paging_frame_take(void);
void paging_frame_give(const volatile void *frame);
unsigned paging_frames_in_use(void);

/* The physical address of kernel memory (identity-mapped). */
uint32_t paging_physical(const volatile void *p);

/* Demand faults served since paging_start. */
extern uint32_t paging_demand_faults;

#endif
