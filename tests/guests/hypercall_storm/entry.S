/* Entry of the "hypercall_storm" test guest: multiboot header, stacks, storm_call (makes one
 * call as main.c planned it and turns whatever becomes of it into an outcome), and an entry
 * for every vector, which ends the call under way. */
#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/rom.h>

#include "storm.h"
#include "../common/start.inc"

#define ROM_STUB(n) (VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(n))
#define CLEAN_FLAGS 0x2               /* DF, AC and NT clear again for compiled code */

	MULTIBOOT_HEADER MULTIBOOT_FLAG_MEMORY_INFO

	GUEST_START kernel_stack_top

/* The chosen registers in, flags last (they may set AC, so only aligned accesses follow). */
.macro LOAD_REGISTERS
	movl call_in + STORM_REG_EAX, %eax
	movl call_in + STORM_REG_ECX, %ecx
	movl call_in + STORM_REG_EDX, %edx
	movl call_in + STORM_REG_EBX, %ebx
	movl call_in + STORM_REG_EBP, %ebp
	movl call_in + STORM_REG_ESI, %esi
	movl call_in + STORM_REG_EDI, %edi
	pushl call_in + STORM_REG_EFLAGS
	popfl
.endm

.macro SAVE_REGISTERS
	pushfl
	popl call_out + STORM_REG_EFLAGS
	movl %eax, call_out + STORM_REG_EAX
	movl %ecx, call_out + STORM_REG_ECX
	movl %edx, call_out + STORM_REG_EDX
	movl %ebx, call_out + STORM_REG_EBX
	movl %ebp, call_out + STORM_REG_EBP
	movl %esi, call_out + STORM_REG_ESI
	movl %edi, call_out + STORM_REG_EDI
.endm

/* uint32_t storm_call(void): makes the call main.c described in the call_* variables and
 * returns its outcome (STORM_OUTCOME_*). Every way out of the call ends in finish_call. */
	.globl storm_call
storm_call:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, recovery_esp
	movl $0, user_outcome
	movl $1, in_call
	cmpl $0, call_from_user
	jne 1f
	call make_call
	movl $STORM_OUTCOME_RETURNED, %eax
	jmp finish_call
	/* To user mode through the ROM's IRET: the frame, then its stub. */
1:	pushl $VMI_PROCESS_USER_DS
	pushl $user_stack_top
	pushl call_user_eflags
	pushl $VMI_PROCESS_USER_CS
	pushl $user_trampoline
	movl $ROM_STUB(VMI_CALL_IRET), %eax
	jmp *%eax

/* eax = the outcome. Back on storm_call's stack, whatever stack the call left, with the
 * virtual IF off: the guest's own code runs with interrupts disabled. */
finish_call:
	movl recovery_esp, %esp
	pushl $CLEAN_FLAGS
	popfl
	movl %eax, %esi
	movl $ROM_STUB(VMI_CALL_DisableInterrupts), %eax
	call *%eax
	movl %esi, %eax
	movl $0, in_call
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* The call itself, in either ring: stack arguments, registers, and the way call_kind says. */
make_call:
	cmpl $0, call_interrupts
	je 1f
	movl $ROM_STUB(VMI_CALL_EnableInterrupts), %eax
	call *%eax
1:	pushl call_args + 4
	pushl call_args
	movl call_kind, %eax
	cmpl $STORM_KIND_FAR, %eax
	je 2f
	cmpl $STORM_KIND_JUMP, %eax
	je 3f
	cmpl $STORM_KIND_FAR_JUMP, %eax
	je 4f
	LOAD_REGISTERS
	call *call_target
	SAVE_REGISTERS
	pushl $CLEAN_FLAGS
	popfl
	addl $8, %esp
	ret
	/* Straight to the hypercall entry; a word stands where the stub's return address
	 * would be, so stack arguments sit where vmirun reads them. */
2:	pushl $0
	LOAD_REGISTERS
	lcall *call_far
	SAVE_REGISTERS
	pushl $CLEAN_FLAGS
	popfl
	addl $12, %esp
	ret
	/* IRET and SYSEXIT are jumped to, IRET with its frame at esp. */
3:	movl call_esp, %esp
	LOAD_REGISTERS
	jmp *call_target
4:	movl call_esp, %esp
	LOAD_REGISTERS
	lcall *call_far
	/* Neither returns to its caller: say so if one does. */
	movl $STORM_OUTCOME_BROKEN_RETURN, %eax
	jmp finish_call

/* Virtual user mode: the call, then back to the kernel through the fast system-call entry
 * with the outcome named (the vector 0x80 handler looks for it). */
	.globl user_trampoline
user_trampoline:
	call make_call
	movl $(STORM_OUTCOME_RETURNED | STORM_USER_OUTCOME_SET), user_outcome
	movl $ROM_STUB(VMI_CALL_Syscall), %eax
	call *%eax
	ud2

/* Where the IRETs and SYSEXITs main.c builds send the guest. */
	.globl landing_kernel, landing_user
landing_kernel:
	movl $STORM_OUTCOME_LANDED, %eax
	jmp finish_call
landing_user:
	movl $(STORM_OUTCOME_LANDED | STORM_USER_OUTCOME_SET), user_outcome
	movl $ROM_STUB(VMI_CALL_Syscall), %eax
	call *%eax
	ud2

/* One entry per vector, 16 bytes apart: push the vector, then the common part. */
	.p2align 4
	.globl interrupt_entries
interrupt_entries:
	.set vector, 0
	.rept 256
	.p2align 4
	pushl $vector
	jmp interrupt_common
	.set vector, vector + 1
	.endr

/* Any vector ends the call under way (its frame is dropped with the rest of the call's
 * stack); outside a call, none is expected. */
interrupt_common:
	cmpl $0, in_call
	je 2f
	popl %eax
	cmpl $VMI_SYSCALL_VECTOR, %eax
	jne 1f
	cmpl $0, user_outcome
	je 1f
	movl user_outcome, %eax
	andl $~STORM_USER_OUTCOME_SET, %eax
	jmp finish_call
1:	orl $STORM_OUTCOME_VECTOR, %eax
	jmp finish_call
2:	pushl $CLEAN_FLAGS
	popfl
	call storm_unexpected_interrupt    /* the vector is its argument */
	ud2

	.bss
	.align 16
	.space 16384
kernel_stack_top:
	.globl interrupt_stack_top
	.space 16384
interrupt_stack_top:
	.space 4096
user_stack_top:

	.section .note.GNU-stack, "", @progbits
