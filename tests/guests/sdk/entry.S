/* Entry of the "sdk" test guest: the multiboot header, a stack, guest_main(magic, info);
 * and an IRET through an SDK jump site, returning to its own caller. */

#include <vmi/multiboot.h>
#include "vmiguest.h"

#define HEADER_FLAGS  MULTIBOOT_FLAG_MEMORY_INFO
#define STACK_BYTES   (16 * 1024)

	MULTIBOOT_HEADER HEADER_FLAGS

	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	movl $stack_top, %esp
	xorl %ebp, %ebp
	cld                     /* the C ABI wants DF clear; multiboot does not promise it */
	subl $8, %esp           /* keep esp 16-byte aligned at the call */
	pushl %ebx              /* multiboot info address */
	pushl %eax              /* magic */
	call guest_main
1:	jmp 1b
	.size _start, . - _start

/* void sdk_iret_here(uint32_t cs, uint32_t eflags): builds an iret frame (the kernel's CS
 * and EFLAGS) that lands just after the site, so returning from this function proves the
 * IRET site was linked and worked. ECX and EDX are the caller's to lose. */
	.text
	.globl sdk_iret_here
	.type sdk_iret_here, @function
sdk_iret_here:
	movl 4(%esp), %ecx
	movl 8(%esp), %edx
	pushl %edx
	pushl %ecx
	pushl $1f
	VMI_IRET
1:	ret
	.size sdk_iret_here, . - sdk_iret_here

	.bss
	.align 16
stack_bottom:
	.skip STACK_BYTES
stack_top:

	.section .note.GNU-stack, "", @progbits
