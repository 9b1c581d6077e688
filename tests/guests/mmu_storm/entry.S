/* Entry of the "mmu_storm" test guest: the multiboot header, a stack, the probes that touch
 * one playground word (a #PF there is expected and skipped), and a gate for every exception. */
#include <vmi/multiboot.h>
#include "vmiguest.h"
#include "../common/start.inc"

	MULTIBOOT_HEADER MULTIBOOT_FLAG_MEMORY_INFO

	GUEST_START stack_top, 1

/* uint32_t probe_read(uint32_t linear, const volatile uint32_t *identity, uint32_t *seen):
 * reads the word at `linear`, then at once (no store between, so not even the stack can
 * change it) the same physical word through the identity map into *seen. A #PF at the read
 * resumes at probe_fault_return instead. */
	.globl probe_read, probe_read_access
probe_read:
	movl 4(%esp), %eax
	movl 8(%esp), %ecx
probe_read_access:
	movl (%eax), %edx
	movl (%ecx), %ecx
	movl 12(%esp), %eax
	movl %ecx, (%eax)
	movl %edx, %eax
	ret

/* void probe_write(uint32_t linear, const volatile uint32_t *identity, uint32_t value,
 * uint32_t *seen): writes `value` at `linear`, then reads the identity word into *seen. */
	.globl probe_write, probe_write_access
probe_write:
	movl 4(%esp), %eax
	movl 12(%esp), %edx
probe_write_access:
	movl %edx, (%eax)
	movl 8(%esp), %ecx
	movl (%ecx), %ecx
	movl 16(%esp), %eax
	movl %ecx, (%eax)
	ret

probe_fault_return:
	xorl %eax, %eax
	ret

/* #PF: a fault of one of the two probe instructions is recorded (count and error code; CR2
 * is read by the C side) and the probe returns; any other one is a failure. The frame:
 * error code, eip, cs, eflags. */
	.globl page_fault_entry
page_fault_entry:
	pushl %eax
	movl 8(%esp), %eax
	cmpl $probe_read_access, %eax
	je 1f
	cmpl $probe_write_access, %eax
	je 1f
	popl %eax
	pushl $14
	jmp unexpected_exception
1:	movl 4(%esp), %eax
	movl %eax, probe_fault_error
	incl probe_faults
	movl $probe_fault_return, 8(%esp)
	popl %eax
	addl $4, %esp
	VMI_IRET

/* Every other exception ends the run: storm_exception(vector, error code, eip). */
.macro EXCEPTION vector:req, has_error_code:req
exception_\vector:
	.if \has_error_code == 0
	pushl $0
	.endif
	pushl $\vector
	jmp unexpected_exception
.endm

	.irp vector, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25
	EXCEPTION \vector, 0
	.endr
	.irp vector, 26, 27, 28, 29, 30, 31
	EXCEPTION \vector, 0
	.endr
	.irp vector, 8, 10, 11, 12, 13, 17
	EXCEPTION \vector, 1
	.endr

unexpected_exception:
	call storm_exception
1:	jmp 1b

/* The gate of each vector, for the C side's IDT. */
	.section .rodata
	.globl exception_entries
	.align 4
exception_entries:
	.irp vector, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
	.long exception_\vector
	.endr
	.long page_fault_entry
	.irp vector, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	.long exception_\vector
	.endr

	.bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
