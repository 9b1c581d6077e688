/* The Init call's report: the selectors, ring, reserved top and shared page a platform gives
 * the kernel, and which platform it is. Freestanding; constants usable from assembly. */
#ifndef VMI_INIT_H
#define VMI_INIT_H

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

/* Platforms, as Init reports them. */
#define VMI_PLATFORM_NATIVE      0    /* the guest's built-in native ROM: real instructions */
#define VMI_PLATFORM_PROCESS     1    /* vmirun */

#ifndef __ASSEMBLER__
#include <stdint.h>

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

_Static_assert(sizeof(struct vmi_init_info) == VMI_INIT_INFO_SIZE, "init info");
_Static_assert(__builtin_offsetof(struct vmi_init_info, kernel_ring) == VMI_INIT_KERNEL_RING, "");
_Static_assert(__builtin_offsetof(struct vmi_init_info, reserved_top) == VMI_INIT_RESERVED_TOP, "");
_Static_assert(__builtin_offsetof(struct vmi_init_info, vcpu_page) == VMI_INIT_VCPU_PAGE, "");
_Static_assert(__builtin_offsetof(struct vmi_init_info, platform) == VMI_INIT_PLATFORM, "");
#endif

#endif
