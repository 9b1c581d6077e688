/* How a guest links a call site to the ROM: the per-call link record the ROM hands out
 * through GetRelocationInfo (the historic relocation types, extended with inline templates
 * and clobber sets). Freestanding; constants usable from assembly. */
#ifndef VMI_LINK_H
#define VMI_LINK_H

/* Link types. NONE..NOP are the historic relocation types, numbered as then. */
#define VMI_LINK_NONE        0   /* not provided: keep the native instruction (or fail) */
#define VMI_LINK_CALL_REL    1   /* a rel32 call to `target` */
#define VMI_LINK_JUMP_REL    2   /* a rel32 jump to `target` (IRET, SYSEXIT: never return) */
#define VMI_LINK_NOP         3   /* the operation is a no-op here: the site becomes NOPs */
#define VMI_LINK_INLINE      4   /* copy `template` into the site; `target` is the stub to
                                    call instead where the template does not fit */

/* Record flags. */
#define VMI_LINK_FLAG_INTERNAL_BRANCH 0x01  /* the template holds relative branches, all of
                                               them landing inside the template itself */

/* Registers a call or template may change besides its declared results (bit per register).
 * On an INLINE record: what the template changes; a site lists the ones it can afford, and a
 * template whose clobbers are not a subset of the site's is called through the stub instead.
 * On CALL_REL, JUMP_REL and NOP records: what the stub changes beyond the call's results
 * (a NOP record's target is a stub that only returns, for sites left as table calls). */
#define VMI_CLOBBER_EAX      0x01
#define VMI_CLOBBER_ECX      0x02
#define VMI_CLOBBER_EDX      0x04
#define VMI_CLOBBER_EBX      0x08
#define VMI_CLOBBER_ESI      0x10
#define VMI_CLOBBER_EDI      0x20
#define VMI_CLOBBER_EBP      0x40
#define VMI_CLOBBER_FLAGS    0x80  /* arithmetic flags (never IF, DF or AC) */
#define VMI_CLOBBER_ALL      0xFF

#define VMI_LINK_TEMPLATE_MAX 48
#define VMI_LINK_RECORD_SIZE  64

/* Record field offsets, for ROM assembly. */
#define VMI_LINK_REC_TYPE     0
#define VMI_LINK_REC_LENGTH   1
#define VMI_LINK_REC_FLAGS    2
#define VMI_LINK_REC_TARGET   4
#define VMI_LINK_REC_CLOBBERS 8
#define VMI_LINK_REC_TEMPLATE 16

#ifndef __ASSEMBLER__
#include <stdint.h>

struct vmi_link_record {
	uint8_t type;                /* VMI_LINK_* */
	uint8_t template_length;     /* bytes of template used (INLINE only) */
	uint8_t flags;               /* VMI_LINK_FLAG_* */
	uint8_t reserved0;
	uint32_t target;             /* guest address of the stub (CALL_REL, JUMP_REL, INLINE) */
	uint32_t clobbers;           /* VMI_CLOBBER_* */
	uint32_t reserved1;
	uint8_t template_bytes[VMI_LINK_TEMPLATE_MAX];
} __attribute__((packed));

_Static_assert(sizeof(struct vmi_link_record) == VMI_LINK_RECORD_SIZE, "link record");
_Static_assert(__builtin_offsetof(struct vmi_link_record, target) == VMI_LINK_REC_TARGET, "");
_Static_assert(__builtin_offsetof(struct vmi_link_record, clobbers) == VMI_LINK_REC_CLOBBERS, "");
_Static_assert(__builtin_offsetof(struct vmi_link_record, template_bytes) == VMI_LINK_REC_TEMPLATE, "");
#endif

#endif
