/* The guest's MMU as the monitor keeps it: what CR0.PG, CR3 and CR4 mean for translation,
 * linear-to-physical translation for the monitor's own accesses, and the host mappings that
 * are the guest's TLB, filled when the guest faults on an address they do not cover yet. */
#ifndef VMM_MONITOR_MMU_H
#define VMM_MONITOR_MMU_H

#include <stdint.h>

#define MMU_REASON_MAX 160

/* Paging off, and the host's identity mappings of guest memory made at start-up in place. */
void mmu_reset(void);

/* 1 if the guest has CR0.PG set. */
int mmu_paging(void);

/* The guest wrote CR0, CR3 or CR4 (virtual_cpu already holds the new values; these are the
 * old ones): a change of PG, WP, PSE or PGE drops every translation, a CR3 load all but
 * the global ones. */
void mmu_control_registers_written(uint32_t old_cr0, uint32_t old_cr4);
void mmu_cr3_loaded(void);

/* InvalPage / invlpg: drop the translation of `linear` (the whole 4 MiB if a large page
 * was mapped there). */
void mmu_invalidate(uint32_t linear);

/* SetPxE made an entry of the current address space present, with A set (the kernel says
 * it is about to be used): map `linear` now, as the fault that would follow would (writable
 * only if D is set too), sparing that fault. Nothing if the tables do not allow it. */
void mmu_entry_written(uint32_t linear);

/* FlushTLB: drop every translation but the global ones, or all of them if `global`. */
void mmu_flush(int global);

/* A page-table or directory entry at linear `entry_linear` changed from `old` to `value`
 * (the page-table calls): every address space that mapped something through it drops that
 * when it runs next (a CR3 load would have on hardware), the running one included. */
void mmu_table_entry_changed(uint32_t entry, uint32_t old, uint32_t value);

/* SetLinearMapping: [linear, linear + pages * 4 KiB) maps frames first_frame, first_frame+1
 * and so on (0 pages: the slot is free). A fault there maps all it can of it in one go. */
void mmu_linear_mapping_named(unsigned slot, uint32_t linear, uint32_t pages,
                              uint32_t first_frame);

/* With `on`, the guest writes its page tables with plain stores (trap-and-emulate), which no
 * call reports: each address space keeps copies of its tables and, when it runs again,
 * drops what it mapped through entries that changed meanwhile. */
void mmu_compare_tables_at_switch(int on);

/* AllocatePage or ReleasePage of the frame: it may hold anything now, so no address space
 * keeps a mapping made through it (nor its tag, if it was a directory). */
void mmu_table_page_announced(uint32_t frame);

/* Translates a linear address for an access by the monitor on the guest's behalf (a
 * supervisor access; `write` if it writes), setting A (and D) as the MMU would. 0 with
 * *physical, or -1 if the guest's tables do not allow it. Identity with paging off. */
int mmu_translate(uint32_t linear, int write, uint32_t *physical);

/* Under strict isolation (virtual_cpu_user_isolated), the guest enters user mode (`user`)
 * or the kernel: it runs on in that ring's address space of its directory, the user's
 * mapping only pages user mode may reach. 0, or -1 with a stop requested. */
int mmu_ring_entered(int user);

enum mmu_fault_outcome {
	MMU_NOT_PAGING,      /* paging has never been on: the fault is what it was before */
	MMU_FILLED,          /* mapped from the guest's tables: resume the guest as it was */
	MMU_GUEST_FAULT,     /* the guest's tables refuse the access: deliver #PF */
	MMU_UNSUPPORTED,     /* allowed, but vmirun cannot map it: stop with the reason */
};

/* The guest touched `linear` from its ring 3 if `user`, and the host faulted with
 * `host_error` (its #PF error code: P set if a read-only mapping met a write, W for a
 * write). On MMU_GUEST_FAULT *error_code is the guest's #PF error code; on MMU_UNSUPPORTED
 * `reason` says why. */
enum mmu_fault_outcome mmu_host_fault(uint32_t linear, uint32_t host_error, int user,
                                      uint32_t *error_code, char reason[MMU_REASON_MAX]);

#endif
