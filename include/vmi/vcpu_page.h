/* The shared per-vCPU page: state the ROM reads and writes directly, without entering the
 * hypervisor (the virtual interrupt flag, pending interrupts, the virtual CR2, the virtual
 * ring, and what the ROM needs to enter and leave user mode itself). Also what Init reports
 * to the guest. Freestanding; constants usable from assembly. */
#ifndef VMI_VCPU_PAGE_H
#define VMI_VCPU_PAGE_H

#define VMI_EFLAGS_IF            0x200
#define VMI_EFLAGS_TF            0x100
/* What an IRET to the deprivileged guest may restore: CF PF AF ZF SF TF DF OF AC. */
#define VMI_EFLAGS_RESTORABLE    0x40DD5

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
#define VMI_VCPU_PAGE_USED       44

#define VMI_TRANSITION_NONE      0
#define VMI_TRANSITION_IRET      1    /* a fault before it commits: vmirun does the IRET */
#define VMI_TRANSITION_SYSCALL   2    /* a fault: the kernel stack is unusable, a stop */
#define VMI_TRANSITION_SYSEXIT   3    /* cannot fault */

/* Init: EAX = guest address of a struct vmi_init_info to fill (info->size set by the guest
 * to the size it knows); returns 0 in EAX, or VMI_ERROR_INVALID if the size is too small. */
#define VMI_INIT_SELECTOR_OWN    0    /* selector field: the kernel uses its own GDT's */

/* Field offsets in struct vmi_init_info. */
#define VMI_INIT_SIZE            0
#define VMI_INIT_KERNEL_CS       4
#define VMI_INIT_KERNEL_DS       6
#define VMI_INIT_USER_CS         8
#define VMI_INIT_USER_DS         10
#define VMI_INIT_KERNEL_RING     12
#define VMI_INIT_RESERVED_TOP    16
#define VMI_INIT_VCPU_PAGE       20
#define VMI_INIT_PLATFORM        24
#define VMI_INIT_INFO_SIZE       28

/* Alarm flags (SetAlarm, CancelAlarm), the historic values. */
#define VMI_ALARM_COUNTER_MASK   0xFF       /* which cycle counter: 0 real, 1 available */
#define VMI_ALARM_WIRED_IRQ0     0x00000
#define VMI_ALARM_WIRED_LVTT     0x10000
#define VMI_ALARM_ONE_SHOT       0x000
#define VMI_ALARM_PERIODIC       0x100
#define VMI_CYCLES_REAL          0
#define VMI_CYCLES_AVAILABLE     1
#define VMI_CYCLES_STOLEN        2
/* Where alarms arrive on the process platform, which has no interrupt controller: IRQ0 at
 * vector 0x20 (where kernels put it after remapping the PIC), the local APIC timer at 0xEF. */
#define VMI_ALARM_IRQ0_VECTOR    0x20
#define VMI_ALARM_LVTT_VECTOR    0xEF

/* The esp0 field of the i386 TSS: UpdateKernelStack writes it, and an entry from user mode
 * takes its kernel stack from the loaded TSS's, as the CPU does. */
#define VMI_TSS_ESP0             4

/* The vector the fast system-call entry (VMI_CALL_Syscall) delivers to, as `int $0x80`. */
#define VMI_SYSCALL_VECTOR       0x80

/* Platforms, as Init reports them. */
#define VMI_PLATFORM_NATIVE      0    /* the guest's built-in native ROM: real instructions */
#define VMI_PLATFORM_PROCESS     1    /* vmirun */

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
};

struct vmi_init_info {
	uint32_t size;            /* in: sizeof what the guest knows; out: what was filled */
	uint16_t kernel_cs;       /* selectors the kernel must load (0: its own GDT's) */
	uint16_t kernel_ds;
	uint16_t user_cs;         /* selectors its user mode must run on (0: its own) */
	uint16_t user_ds;
	uint32_t kernel_ring;     /* the hardware ring the kernel really runs in */
	uint32_t reserved_top;    /* the guest must leave [reserved_top, 4 GiB) alone (0: none) */
	uint32_t vcpu_page;       /* guest address of the shared vCPU page (0: none) */
	uint32_t platform;        /* VMI_PLATFORM_* */
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
_Static_assert(sizeof(struct vmi_init_info) == VMI_INIT_INFO_SIZE, "init info");
_Static_assert(__builtin_offsetof(struct vmi_init_info, kernel_ring) == VMI_INIT_KERNEL_RING, "");
_Static_assert(__builtin_offsetof(struct vmi_init_info, reserved_top) == VMI_INIT_RESERVED_TOP, "");
_Static_assert(__builtin_offsetof(struct vmi_init_info, vcpu_page) == VMI_INIT_VCPU_PAGE, "");
_Static_assert(__builtin_offsetof(struct vmi_init_info, platform) == VMI_INIT_PLATFORM, "");
#endif

#endif
