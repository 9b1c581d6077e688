/* Address spaces: paging on from the boot path to the end, RAM mapped at KERNEL_BASE in every
 * directory (supervisor-only but for the user programs' sections), each process's user stack,
 * and for each process that asks, a directory of its own with a private window of
 * demand-paged memory at PRIVATE_WINDOW. Every change goes through the VMI page-table calls. */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdint.h>

#include "interrupts.h"

/* In the kernel's directory: the user stacks of processes without a directory of their own,
 * one per table slot (paging_user_stack_top), each above an unmapped gap of its size. */
#define USER_STACKS_WINDOW   0x3FC00000u
#define PRIVATE_WINDOW       0x40000000u
#define PRIVATE_WINDOW_PAGES 64u
/* The frames private windows (and the self-tests) take pages from: two full windows. */
#define PAGING_FRAME_POOL    (PRIVATE_WINDOW_PAGES * 2)
/* 4 MiB above the private window, mapped by a page table of the kernel's directory alone
 * (supervisor-only, empty after paging_reset): the self-tests' own pages. */
#define PAGING_TEST_WINDOW   0x40400000u

/* Builds the kernel's directory through the VMI calls and loads it in place of the boot
 * directory (entry.S): RAM from physical 0 to platform.ram_end at KERNEL_BASE (the first
 * 4 MiB page by page, the rest in 4 MiB pages; global with PGE), named to the hypervisor as
 * linear map slot 0; no identity map left. 0, or -1 with `why` set. */
int paging_init(const char **why);
/* Back to the kernel's directory with the test window empty (its frames freed). */
void paging_reset(void);

/* Loads `directory` into CR3 unless it is loaded already (the kernel's part is the same in
 * every directory, so the scheduler itself runs in any of them). */
void paging_switch_to(uint32_t directory);
/* The kernel's own directory (physical address), and whether its pages are global. */
uint32_t paging_kernel_directory(void);
int paging_kernel_global(void);

/* Where table slot `slot`'s user stack ends, for user mode: in the stacks window of the
 * kernel's directory, or, in a directory of its own, at the top of its private window's
 * table (the same address for every such process). Its frames, for the kernel: */
uint32_t paging_user_stack_top(unsigned slot, int own_address_space);
void *paging_user_stack(unsigned slot);   /* USER_STACK_BYTES, through the linear map */

/* 1 if user mode may read (or, with `write`, write) all of [address, address + length) in the
 * loaded directory: present and user (and writable) at every level. A page of a private
 * window not yet touched is not present, so refused. */
int paging_user_range_ok(uint32_t address, uint32_t length, int write);

/* Gives the process in table slot `slot` its own directory, an empty private window and its
 * stack; the physical address of the directory, for CR3. */
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
 * (paging_release, paging_drop_private and paging_reset give back the frames their tables
 * map); how many are taken. */
void *paging_frame_take(void);
void paging_frame_give(const volatile void *frame);
unsigned paging_frames_in_use(void);

/* The physical address of kernel memory (linked at KERNEL_BASE + physical). */
uint32_t paging_physical(const volatile void *p);

/* Demand faults served since paging_init (the self-tests reset it). */
extern uint32_t paging_demand_faults;

#endif
