/* Entry of the "paging" test guest: the multiboot header, a stack, guest_main(magic, info),
 * and a page-fault handler that records the error code and returns past the fault. */

#include <vmi/multiboot.h>
#include "vmiguest.h"
#include "../common/start.inc"

#define HEADER_FLAGS  MULTIBOOT_FLAG_MEMORY_INFO

	MULTIBOOT_HEADER HEADER_FLAGS

	GUEST_START stack_top, 1

/* #PF: record the error code, count, and resume at fault_resume (the faulting write is a
 * `movl` the C side brackets with that label). The frame: error code, eip, cs, eflags. */
	.globl page_fault_entry
page_fault_entry:
	pushl %eax
	movl 4(%esp), %eax
	movl %eax, page_fault_error
	incl page_faults
	movl $fault_resume, 8(%esp)
	popl %eax
	addl $4, %esp
	VMI_IRET

/* void write_expecting_fault(volatile uint32_t *address): one store that may fault. */
	.globl write_expecting_fault
write_expecting_fault:
	movl 4(%esp), %eax
	movl $0x5a5a5a5a, (%eax)
	.globl fault_resume
fault_resume:
	ret

	.bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
