/* The VMI page-table calls (45-58; docs/abi.md, "Page tables") on the process platform:
 * entries reached at the guest's linear addresses, their effect on the guest's TLB. */
#ifndef VMM_MONITOR_MMU_CALLS_H
#define VMM_MONITOR_MMU_CALLS_H

#include <stdint.h>

/* Each returns what the call returns in EAX. `entry` is the entry's linear address. */
uint32_t mmu_call_set_pxe(uint32_t value, uint32_t entry, uint32_t flags);
uint32_t mmu_call_get_pxe(uint32_t entry);
uint32_t mmu_call_swap_pxe(uint32_t value, uint32_t entry);
uint32_t mmu_call_test_and_change_bit(uint32_t bit, uint32_t entry, int set);
uint32_t mmu_call_allocate_page(uint32_t frame, uint32_t flags, uint32_t clone_frame,
                                uint32_t first, uint32_t count);
uint32_t mmu_call_release_page(uint32_t frame, uint32_t flags);
uint32_t mmu_call_inval_page(uint32_t linear);
uint32_t mmu_call_flush_tlb(uint32_t flags);
uint32_t mmu_call_flush_deferred(uint32_t flags);
uint32_t mmu_call_set_linear_mapping(uint32_t slot, uint32_t linear, uint32_t pages,
                                     uint32_t first_frame);

#endif
