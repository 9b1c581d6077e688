/* World switches between vmirun (64-bit) and the guest (32-bit compatibility mode):
 * entering the guest with iretq, and the common hypercall path the far-call entries reach. */
#include "vcpu/vcpu_layout.h"
#include <asm/prctl.h>
#include <asm/unistd.h>
#include <vmi/process.h>

	.text
	.code64

/* The guest's general registers from vcpu_guest_regs, whose address is in rbx (last). */
.macro LOAD_GUEST_REGISTERS
	movl VCPU_REG_EAX(%rbx), %eax
	movl VCPU_REG_ECX(%rbx), %ecx
	movl VCPU_REG_EDX(%rbx), %edx
	movl VCPU_REG_EBP(%rbx), %ebp
	movl VCPU_REG_ESI(%rbx), %esi
	movl VCPU_REG_EDI(%rbx), %edi
	movl VCPU_REG_EBX(%rbx), %ebx
.endm

/* void vcpu_switch_to_guest(void): loads vcpu_guest_regs and enters the guest. Returns only
 * by a longjmp out of the monitor; the host stack below this frame is the monitor's stack. */
	.globl vcpu_switch_to_guest
	.type vcpu_switch_to_guest, @function
vcpu_switch_to_guest:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp                      /* keep the monitor's calls 16-byte aligned */
	mov %rsp, vcpu_host_rsp(%rip)

	mov $VMI_PROCESS_DATA_SELECTOR, %eax
	mov %eax, %ds
	mov %eax, %es

	jmp vcpu_resume_guest
	.size vcpu_switch_to_guest, . - vcpu_switch_to_guest

/* Loads the whole of vcpu_guest_regs (eip, esp and eflags included) and enters the guest. */
	.type vcpu_resume_guest, @function
vcpu_resume_guest:
	lea vcpu_guest_regs(%rip), %rbx
	pushq $VMI_PROCESS_DATA_SELECTOR                  /* ss */
	movl VCPU_REG_ESP(%rbx), %eax
	push %rax                                         /* esp */
	movl VCPU_REG_EFLAGS(%rbx), %eax
	andl $~VCPU_EFLAGS_NT, %eax                       /* iretq with NT set is a #GP */
	push %rax                                         /* eflags */
	pushq $VMI_PROCESS_CODE32_SELECTOR                /* cs */
	movl VCPU_REG_EIP(%rbx), %eax
	push %rax                                         /* eip */
	LOAD_GUEST_REGISTERS
	iretq
	.size vcpu_resume_guest, . - vcpu_resume_guest
/* Reached from the hypercall page with the call number in r11d, the guest's registers live
 * and rsp at the guest's far-return frame. Saves the registers, runs the monitor on the host
 * stack, and jumps back to the guest with whatever the monitor left in vcpu_guest_regs. */
	.globl vcpu_hypercall_common
	.type vcpu_hypercall_common, @function
vcpu_hypercall_common:
	movl %eax, vcpu_guest_regs+VCPU_REG_EAX(%rip)
	movl %ecx, vcpu_guest_regs+VCPU_REG_ECX(%rip)
	movl %edx, vcpu_guest_regs+VCPU_REG_EDX(%rip)
	movl %ebx, vcpu_guest_regs+VCPU_REG_EBX(%rip)
	/* The far-return frame the call just pushed: the monitor sees the state after the
	 * return (eip from the frame, esp above it), and the way back takes no word of guest
	 * memory, which the call itself may have written. */
	movl (%esp), %eax
	movl %eax, vcpu_guest_regs+VCPU_REG_EIP(%rip)
	leal 8(%esp), %eax
	movl %eax, vcpu_guest_regs+VCPU_REG_ESP(%rip)
	movl %ebp, vcpu_guest_regs+VCPU_REG_EBP(%rip)
	movl %esi, vcpu_guest_regs+VCPU_REG_ESI(%rip)
	movl %edi, vcpu_guest_regs+VCPU_REG_EDI(%rip)
	mov vcpu_host_rsp(%rip), %rsp
	pushfq
	movl (%rsp), %eax
	movl %eax, vcpu_guest_regs+VCPU_REG_EFLAGS(%rip)
	andq $~VCPU_HOST_FLAGS_CLEAR, (%rsp)
	popfq

	/* A guest that loaded FS replaced the host's thread pointer: put it back first. A null
	 * selector proves nothing (loading one zeroes the base on Intel), so then the thread
	 * pointer itself is checked: the x86-64 TLS ABI keeps its own value at %fs:0. With a
	 * base the guest left, that read faults, and on_fault resumes at vcpu_fs_restore. */
	mov %fs, %eax
	movw %ax, vcpu_guest_fs(%rip)
	mov %r11d, %r12d
	testw %ax, %ax
	jnz vcpu_fs_restore
	cmpb $0, vcpu_have_fsgsbase(%rip)
	jne vcpu_fs_restore                /* wrfsbase costs less than the check */
	.globl vcpu_fs_probe
vcpu_fs_probe:
	mov %fs:0, %rax
	cmp vcpu_host_fs_base(%rip), %rax
	je 2f
	.globl vcpu_fs_restore
vcpu_fs_restore:
	xor %eax, %eax
	mov %eax, %fs
	mov vcpu_host_fs_base(%rip), %rsi
	cmpb $0, vcpu_have_fsgsbase(%rip)
	je 3f
	wrfsbase %rsi
	jmp 2f
3:	mov $ARCH_SET_FS, %edi
	mov $__NR_arch_prctl, %eax
	syscall
2:	mov %r12d, %r11d
	movl %r11d, %edi
	call vcpu_hypercall

	movzwl vcpu_guest_fs(%rip), %eax
	testl %eax, %eax
	jz 5f
	mov %eax, %fs
5:

	lea vcpu_guest_regs(%rip), %rbx
	cmpb $0, vcpu_redirect(%rip)
	jne 1f
	movl VCPU_REG_EIP(%rbx), %eax
	movl %eax, vcpu_return_target(%rip)
	movl VCPU_REG_EFLAGS(%rbx), %eax
	push %rax
	popfq
	movl VCPU_REG_ESP(%rbx), %esp      /* zero-extends: rsp is the guest's stack again */
	LOAD_GUEST_REGISTERS
	ljmpl *vcpu_return_target(%rip)   /* to eip, with the constant cs=0x23 */

	/* The monitor moved the guest elsewhere (an interrupt, an IRET): the whole state,
	 * flags included, must load at once. */
1:	movb $0, vcpu_redirect(%rip)
	jmp vcpu_resume_guest
	.size vcpu_hypercall_common, . - vcpu_hypercall_common

	.data
/* The far pointer a plain hypercall returns through: eip, then the guest's code selector. */
vcpu_return_target:
	.long 0
	.word VMI_PROCESS_CODE32_SELECTOR
	.text

	.section .note.GNU-stack, "", @progbits
