/* The shared per-vCPU page: state the ROM reads and writes directly, without entering the
 * hypervisor (the virtual interrupt flag, pending interrupts, the virtual CR2, the virtual
 * ring, and what the ROM needs to enter and leave user mode itself). Freestanding; constants
 * usable from assembly. */
#ifndef VMI_VCPU_PAGE_H
#define VMI_VCPU_PAGE_H

/* Field offsets in the shared vCPU page. */
#define VMI_VCPU_FLAGS           0    /* u32: virtual EFLAGS; only IF (0x200) is meaningful */
#define VMI_VCPU_PENDING         4    /* u32: nonzero while an interrupt waits for IF */
#define VMI_VCPU_CR2             8    /* u32: the virtual CR2 of the last page fault */
#define VMI_VCPU_CS              12   /* u32: the code selector the guest believes it runs
                                         on (never loaded); its RPL is the virtual ring */
#define VMI_VCPU_USER_SS         16   /* u32: the stack selector of the last return to user */
/* A ring switch the ROM makes itself (IRET or SYSEXIT to user mode, the fast system-call
 * entry) is a transition: while this is nonzero vmirun injects no interrupt (it single-steps
 * the ROM to the end, then delivers), and a fault inside one is resolved by its kind. */
#define VMI_VCPU_TRANSITION      20   /* u32: VMI_TRANSITION_* */
#define VMI_VCPU_SCRATCH         24   /* u32: the register a transition borrows (EAX) */
#define VMI_VCPU_FRAME           28   /* u32: the IRET frame of the transition under way */
/* Published by vmirun for the ROM's fast system-call entry: the vector-0x80 gate, when it
 * is a present DPL-3 interrupt gate and a TSS is loaded; SYSCALL_EIP 0 means "ask vmirun". */
#define VMI_VCPU_SYSCALL_EIP     32   /* u32: the handler */
#define VMI_VCPU_SYSCALL_CS      36   /* u32: its code selector */
#define VMI_VCPU_ESP0_ADDRESS    40   /* u32: the guest address of the loaded TSS's esp0 */
/* Nonzero: the ROM switches to user mode itself (IRET, SYSEXIT). 0 (vmirun's strict
 * isolation, where user mode runs in a host process of its own): they go to vmirun. */
#define VMI_VCPU_ROM_RING_SWITCHES 44 /* u32 */
#define VMI_VCPU_PAGE_USED       48

#define VMI_TRANSITION_NONE      0
#define VMI_TRANSITION_IRET      1    /* a fault before it commits: vmirun does the IRET */
#define VMI_TRANSITION_SYSCALL   2    /* a fault: the kernel stack is unusable, a stop */
#define VMI_TRANSITION_SYSEXIT   3    /* cannot fault */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct vmi_vcpu_page {
	volatile uint32_t flags;
	volatile uint32_t pending;
	volatile uint32_t cr2;
	volatile uint32_t cs;
	volatile uint32_t user_ss;
	volatile uint32_t transition;
	volatile uint32_t scratch;
	volatile uint32_t frame;
	volatile uint32_t syscall_eip;
	volatile uint32_t syscall_cs;
	volatile uint32_t esp0_address;
	volatile uint32_t rom_ring_switches;
};

_Static_assert(sizeof(struct vmi_vcpu_page) == VMI_VCPU_PAGE_USED, "vCPU page");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, pending) == VMI_VCPU_PENDING, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, cr2) == VMI_VCPU_CR2, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, cs) == VMI_VCPU_CS, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, user_ss) == VMI_VCPU_USER_SS, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, transition) == VMI_VCPU_TRANSITION, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, scratch) == VMI_VCPU_SCRATCH, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, frame) == VMI_VCPU_FRAME, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, syscall_eip) == VMI_VCPU_SYSCALL_EIP, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, syscall_cs) == VMI_VCPU_SYSCALL_CS, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, esp0_address) == VMI_VCPU_ESP0_ADDRESS, "");
_Static_assert(__builtin_offsetof(struct vmi_vcpu_page, rom_ring_switches) ==
               VMI_VCPU_ROM_RING_SWITCHES, "");
#endif

#endif
