/* The kernel's entry: the multiboot header, the boot stack, and the interrupt entry stubs,
 * which build a uniform trap frame for trap() and return through the SDK's IRET site. */
#include <vmi/multiboot.h>
#include "vmiguest.h"

#define HEADER_FLAGS   MULTIBOOT_FLAG_MEMORY_INFO
#define BOOT_STACK_BYTES (16 * 1024)

	MULTIBOOT_HEADER HEADER_FLAGS

	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	movl $boot_stack_top, %esp
	xorl %ebp, %ebp
	cld                     /* the C ABI wants DF clear; multiboot does not promise it */
	pushl %ebx              /* multiboot information */
	pushl %eax              /* multiboot magic */
	call kernel_main
1:	jmp 1b
	.size _start, . - _start

/* One stub per vector with a gate: an error code (the CPU's, or 0) and the vector number on
 * top of the frame the CPU (or vmirun) built, so every frame looks the same to trap(). */
.macro trap_entry vector, cpu_pushes_error_code=0
	.globl trap_entry_\vector
trap_entry_\vector:
	.if \cpu_pushes_error_code == 0
	pushl $0
	.endif
	pushl $\vector
	jmp trap_common
.endm

	.text
	.irp vector, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	trap_entry \vector
	.endr
	.irp vector, 8,10,11,12,13,14,17
	trap_entry \vector, 1
	.endr
	.irp vector, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	trap_entry \vector
	.endr
	trap_entry 128

/* struct trapframe (interrupts.h): pushal's registers, vector, error code, the CPU frame. */
trap_common:
	pushal
	cld                     /* user mode may have left DF set */
	pushl %esp
	call trap
	addl $4, %esp
/* Also where a new process starts: its kernel stack holds a frame that "returns" to user
 * mode. Only the SDK's IRET site returns from an interrupt, never a raw iret. */
	.globl trap_return
trap_return:
	popal
	addl $8, %esp           /* vector and error code */
	VMI_IRET

/* Gate addresses for descriptors.c, vector by vector up to the system call (0: no gate). */
	.section .rodata
	.balign 4
	.globl trap_entry_table
trap_entry_table:
	.irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap_entry_\vector
	.endr
	.irp vector, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.long trap_entry_\vector
	.endr
	.fill 128 - 48, 4, 0
	.long trap_entry_128
	.size trap_entry_table, . - trap_entry_table

	.bss
	.balign 16
	.skip BOOT_STACK_BYTES
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
