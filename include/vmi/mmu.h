/* The MMU calls' flags and the i386 page-table entry bits they speak of (calls 45-58 and
 * 72-74; docs/abi.md, "Page tables"). 2-level non-PAE paging today; the PAE names keep their
 * historic values so the ABI has room for it. Freestanding, and usable from assembly. */
#ifndef VMI_MMU_H
#define VMI_MMU_H

/* Which kind of table a page or an entry belongs to (SetPxE, AllocatePage, ReleasePage). */
#define VMI_PAGE_PT               0x01      /* a page table: entries map 4 KiB pages */
#define VMI_PAGE_PD               0x02      /* a page directory */
#define VMI_PAGE_PDP              0x04      /* PAE's page-directory-pointer table (reserved) */
#define VMI_PAGE_PML4             0x08      /* reserved */
#define VMI_PAGE_LEVEL_MASK       0x0F
/* SetPxE: the table belongs to the address space in use (or to the kernel's part every
 * address space shares), and the linear address the entry maps is in bits 31-12. */
#define VMI_PAGE_CURRENT_AS       0x10
/* SetPxE: the update may wait until FlushDeferredCalls, FlushTLB, InvalPage or a CR3 load. */
#define VMI_PAGE_DEFER            0x20
#define VMI_PAGE_VA_MASK          0xFFFFF000

/* AllocatePage only. */
#define VMI_ALLOCATE_CLONE        0x20      /* copy entries of another page directory (stack) */
#define VMI_ALLOCATE_ZEROED       0x40      /* the guest zeroed the page before announcing it */

/* FlushTLB. */
#define VMI_FLUSH_TLB             0x01      /* every non-global translation */
#define VMI_FLUSH_GLOBAL          0x02      /* and the global ones (with VMI_FLUSH_TLB) */

/* FlushDeferredCalls. */
#define VMI_FLUSH_DEFERRED_CPU    0x40
#define VMI_FLUSH_DEFERRED_PT     0x80

/* SetLinearMapping: slot 0 names the kernel's linear map of RAM; slots 1-3 temporary windows. */
#define VMI_LINEAR_MAP_SLOTS      4

/* i386 page-table entry bits (non-PAE). */
#define VMI_PTE_PRESENT           0x001
#define VMI_PTE_WRITABLE          0x002
#define VMI_PTE_USER              0x004
#define VMI_PTE_ACCESSED          0x020
#define VMI_PTE_DIRTY             0x040
#define VMI_PTE_LARGE             0x080     /* in a page-directory entry: a 4 MiB page (PSE) */
#define VMI_PTE_GLOBAL            0x100
#define VMI_PTE_FRAME_MASK        0xFFFFF000
#define VMI_PTE_DIRTY_BIT         6         /* for TestAndSet/TestAndClearPxEBit */
#define VMI_PTE_ACCESSED_BIT      5
/* A 4 MiB directory entry's frame is bits 22-31; bits 13-20 are physical-address bits 32-39
 * on CPUs with PSE-36 (no guest memory lies there), bit 21 is reserved. */
#define VMI_PDE_LARGE_FRAME_MASK  0xFFC00000
#define VMI_PDE_LARGE_HIGH_MASK   0x001FE000
#define VMI_PDE_LARGE_RESERVED    0x00200000

/* Control-register bits paging uses. */
#define VMI_CR0_WP                0x00010000
#define VMI_CR0_PG                0x80000000
#define VMI_CR4_PSE               0x00000010
#define VMI_CR4_PAE               0x00000020    /* not implemented on the process platform */
#define VMI_CR4_PGE               0x00000080

/* Page-fault error code bits. */
#define VMI_PF_PRESENT            0x1
#define VMI_PF_WRITE              0x2
#define VMI_PF_USER               0x4
#define VMI_PF_RESERVED           0x8       /* a reserved bit set in an entry */

#endif
