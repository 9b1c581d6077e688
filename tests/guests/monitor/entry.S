/* Entry of the "monitor" test guest: multiboot header, stacks, interrupt entry stubs that
 * return through the ROM's IRET, and the code it runs in (virtual) user mode. */
#include <vmi/calls.h>
#include <vmi/multiboot.h>
#include <vmi/process.h>
#include <vmi/rom.h>

#define HEADER_FLAGS MULTIBOOT_FLAG_MEMORY_INFO
#define IRET_STUB    (VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_IRET))

	MULTIBOOT_HEADER HEADER_FLAGS

	.section .text.entry, "ax"
	.globl _start
_start:
	movl $kernel_stack_top, %esp
	cld
	pushl %ebx
	pushl %eax
	call guest_main
1:	jmp 1b

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
	jmp IRET_STUB

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
