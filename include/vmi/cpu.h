/* The i386 facts the interface leans on: the flags a deprivileged guest may restore, the TSS
 * field an entry from user mode takes its stack from, the system-call vector. Freestanding;
 * usable from assembly. */
#ifndef VMI_CPU_H
#define VMI_CPU_H

#define VMI_EFLAGS_IF            0x200
#define VMI_EFLAGS_TF            0x100
/* What an IRET to the deprivileged guest may restore: CF PF AF ZF SF TF DF OF AC. */
#define VMI_EFLAGS_RESTORABLE    0x40DD5

/* The esp0 field of the i386 TSS: UpdateKernelStack writes it, and an entry from user mode
 * takes its kernel stack from the loaded TSS's, as the CPU does. */
#define VMI_TSS_ESP0             4

/* The vector the fast system-call entry (VMI_CALL_Syscall) delivers to, as `int $0x80`. */
#define VMI_SYSCALL_VECTOR       0x80

#endif
