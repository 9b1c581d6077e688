/* Entry of the "monitor" test guest: multiboot header, stacks, interrupt entry stubs that
 * return through the ROM's IRET, and the code it runs in (virtual) user mode. */
#include <vmi/calls.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include <vmi/rom.h>
#include "../common/start.inc"

#define HEADER_FLAGS MULTIBOOT_FLAG_MEMORY_INFO

	MULTIBOOT_HEADER HEADER_FLAGS

	GUEST_START kernel_stack_top

/* Interrupt entries: a uniform frame (error code or 0, vector, pushal) for trap(). */
.macro ENTRY vector, has_error_code
	.globl interrupt_entry_\vector
interrupt_entry_\vector:
	.if \has_error_code == 0
	pushl $0
	.endif
	pushl $\vector
	jmp interrupt_common
.endm

	ENTRY 0, 0
	ENTRY 3, 0
	ENTRY 6, 0
	ENTRY 13, 1
	ENTRY 14, 1
	ENTRY 32, 0
	ENTRY 64, 0
	ENTRY 65, 0
	ENTRY 128, 0

interrupt_common:
	pushal
	pushl %esp
	call trap
	addl $4, %esp
	popal
	addl $8, %esp
	jmp *iret_stub                  /* the ROM's IRET, wherever the guest reaches it */

/* Virtual user mode: a system call, then a privileged call it may not make. */
	.globl user_entry
user_entry:
	movl $1, %eax
	movl $0x1234, %ebx
	int $0x80
	movl %eax, user_syscall_result
	call *user_privileged_call     /* GetCR0: the monitor must refuse it with #GP */
	movl $1, user_privileged_returned
2:	jmp 2b

/* Virtual user mode, second program: fast system calls (the ROM's entry, which switches
 * rings itself) in a loop under a fast periodic alarm, each checked for its result and for
 * the registers it must keep, until the kernel says stop; then system call 3 ends it. */
	.globl user_storm
user_storm:
	movl $0x600df00d, %esi
	movl $0x5eed, %edi
	xorl %ebp, %ebp
	/* The SSE registers too: the calls and alarms hand the vCPU between vmirun's processes
	 * under strict isolation, through its hypercall path and its signal handlers. */
	movdqu storm_simd_pattern, %xmm0
	movdqa %xmm0, %xmm1
	movdqa %xmm0, %xmm2
	movdqa %xmm0, %xmm3
	movdqa %xmm0, %xmm4
	movdqa %xmm0, %xmm5
	movdqa %xmm0, %xmm6
	pxor %xmm7, %xmm7                  /* the kernel counts alarms in it (main.c), */
	movl $1, user_storm_counting        /* from now */
1:	movl $2, %eax
	movl %ebp, %ebx
	call *fast_syscall_stub
	leal 7(%ebp), %edx
	cmpl %edx, %eax
	jne 2f
	cmpl $0x600df00d, %esi
	jne 2f
	cmpl $0x5eed, %edi
	je 3f
2:	incl user_storm_errors
3:	incl %ebp
	movl %ebp, user_storm_calls
	cmpl $0, user_storm_stop
	jne 4f
	cmpl $50000000, %ebp
	jb 1b
4:	movdqu storm_simd_pattern, %xmm0   /* what the others must still hold */
	xorl %ecx, %ecx
	movd %xmm7, user_storm_simd_ticks
	.irp r, 1, 2, 3, 4, 5, 6
	movdqa %xmm\r, %xmm1
	pcmpeqd %xmm0, %xmm1
	pmovmskb %xmm1, %eax
	cmpl $0xFFFF, %eax
	je 9f
	incl %ecx
9:
	.endr
	movl %ecx, user_storm_simd_lost
	movl $3, %eax
	call *fast_syscall_stub
5:	jmp 5b

/* Virtual user mode entered by SYSEXIT: records how many ticks the kernel had counted when
 * it got here, then system call 3 takes the kernel back. */
	.globl user_after_sysexit
user_after_sysexit:
	movl ticks, %eax
	movl %eax, user_ticks_seen
	movl $3, %eax
	call *fast_syscall_stub
7:	jmp 7b

/* Virtual user mode entered with its stack outside guest RAM: the first push faults. */
	.globl user_bad_stack
user_bad_stack:
	pushl $0
6:	jmp 6b

/* Reads (or, with user_touch_write set, writes) the word at user_touch_address; if that
 * did not fault, says so and sends the kernel back with the storm's "over" call. */
	.globl user_touch
user_touch:
	movl user_touch_address, %eax
	cmpl $0, user_touch_write
	jne 7f
	movl (%eax), %edx
	jmp 8f
7:	movl $1, (%eax)
8:	movl $1, user_touch_returned
	movl $3, %eax
	int $0x80
9:	jmp 9b

	.data
	.align 4
	.globl fast_syscall_stub
fast_syscall_stub:
	.long VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_Syscall)

	.bss
	.align 16
	.space 16384
kernel_stack_top:
	.globl interrupt_stack_top
	.space 8192
interrupt_stack_top:
	.globl user_stack_top
	.space 8192
user_stack_top:

	.section .note.GNU-stack, "", @progbits
