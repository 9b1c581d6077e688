/* What the hypercall storm's C and assembly share: the register block a call is made with,
 * how it is made, and what can become of it. Usable from assembly. */
#ifndef TEST_GUESTS_HYPERCALL_STORM_H
#define TEST_GUESTS_HYPERCALL_STORM_H

/* struct storm_registers, field by field. */
#define STORM_REG_EAX    0
#define STORM_REG_ECX    4
#define STORM_REG_EDX    8
#define STORM_REG_EBX    12
#define STORM_REG_EBP    16
#define STORM_REG_ESI    20
#define STORM_REG_EDI    24
#define STORM_REG_EFLAGS 28

/* How storm_call makes the call (call_kind). */
#define STORM_KIND_CALL      0   /* call the ROM's stub */
#define STORM_KIND_FAR       1   /* far-call vmirun's hypercall entry directly */
#define STORM_KIND_JUMP      2   /* jump to the ROM's stub with esp = call_esp */
#define STORM_KIND_FAR_JUMP  3   /* far-call the hypercall entry with esp = call_esp */

/* What became of it (storm_call's result). */
#define STORM_OUTCOME_RETURNED      0       /* it came back to its caller */
#define STORM_OUTCOME_LANDED        1       /* an IRET or SYSEXIT got where it was sent */
#define STORM_OUTCOME_BROKEN_RETURN 2       /* an IRET or SYSEXIT came back: never right */
#define STORM_OUTCOME_VECTOR        0x100   /* | vector: an interrupt or exception ended it */

/* Set in user_outcome by the user-mode code that goes back to the kernel, so that even
 * STORM_OUTCOME_RETURNED (0) reads as named. */
#define STORM_USER_OUTCOME_SET      0x80000000

#ifndef __ASSEMBLER__
#include <stdint.h>

struct storm_registers {
	uint32_t eax, ecx, edx, ebx, ebp, esi, edi, eflags;
};
#endif

#endif
