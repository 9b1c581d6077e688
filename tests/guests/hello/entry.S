/* Entry of the "hello" test guest: the multiboot header, the first-instruction TSC stamp,
 * a stack of its own, then guest_main(magic, info). */

#include <vmi/multiboot.h>

#define HEADER_FLAGS  MULTIBOOT_FLAG_MEMORY_INFO
#define STACK_BYTES   (16 * 1024)

	MULTIBOOT_HEADER HEADER_FLAGS

	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	/* rdtsc overwrites eax, which holds the boot-loader magic; a register move (no
	 * memory access, cannot fault) is the one instruction that has to come first. */
	movl %eax, %esi
	rdtsc
	movl %eax, first_tsc
	movl %edx, first_tsc + 4

	movl $stack_top, %esp
	xorl %ebp, %ebp
	cld                     /* the C ABI wants DF clear; multiboot does not promise it */
	subl $8, %esp           /* keep esp 16-byte aligned at the call */
	pushl %ebx              /* multiboot info address */
	pushl %esi              /* magic */
	call guest_main
1:	jmp 1b
	.size _start, . - _start

	.bss
	.align 8
	.globl first_tsc
	.type first_tsc, @object
first_tsc:
	.skip 8
	.size first_tsc, 8

	.align 16
stack_bottom:
	.skip STACK_BYTES
stack_top:

	.section .note.GNU-stack, "", @progbits
