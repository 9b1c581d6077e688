/* World switches between vmirun (64-bit) and the guest (32-bit compatibility mode):
 * entering the guest with iretq, and the common hypercall path the far-call entries reach. */
#include "platform/process/world_switch_layout.h"
#include <asm/prctl.h>
#include <asm/unistd.h>
#include <vmi/process.h>

	.text
	.code64

/* The guest's general registers from process_guest_regs, whose address is in rbx (last). */
.macro LOAD_GUEST_REGISTERS
	movl GUEST_REG_EAX(%rbx), %eax
	movl GUEST_REG_ECX(%rbx), %ecx
	movl GUEST_REG_EDX(%rbx), %edx
	movl GUEST_REG_EBP(%rbx), %ebp
	movl GUEST_REG_ESI(%rbx), %esi
	movl GUEST_REG_EDI(%rbx), %edi
	movl GUEST_REG_EBX(%rbx), %ebx
.endm

/* void process_enter_guest(void): loads process_guest_regs and enters the guest. Returns only
 * by process_stop_now's longjmp; the host stack below this frame is the monitor's stack. */
	.globl process_enter_guest
	.type process_enter_guest, @function
process_enter_guest:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp                      /* keep the monitor's calls 16-byte aligned */
	mov %rsp, process_host_rsp(%rip)

	mov $VMI_PROCESS_DATA_SELECTOR, %eax
	mov %eax, %ds
	mov %eax, %es

	jmp process_resume_guest
	.size process_enter_guest, . - process_enter_guest

/* Loads the whole of process_guest_regs (eip, esp and eflags included) and enters the guest. */
	.type process_resume_guest, @function
process_resume_guest:
	fxrstor64 process_guest_fpu(%rip)     /* the guest's x87 and SSE state (process.h) */
	lea process_guest_regs(%rip), %rbx
	pushq $VMI_PROCESS_DATA_SELECTOR                  /* ss */
	movl GUEST_REG_ESP(%rbx), %eax
	push %rax                                         /* esp */
	movl GUEST_REG_EFLAGS(%rbx), %eax
	andl $~SWITCH_EFLAGS_NT, %eax                       /* iretq with NT set is a #GP */
	push %rax                                         /* eflags */
	pushq $VMI_PROCESS_CODE32_SELECTOR                /* cs */
	movl GUEST_REG_EIP(%rbx), %eax
	push %rax                                         /* eip */
	LOAD_GUEST_REGISTERS
	iretq
	.size process_resume_guest, . - process_resume_guest
/* Reached from the hypercall page with the call number in r11d, the guest's registers live
 * and rsp at the guest's far-return frame. Saves the registers, runs the monitor on the host
 * stack, and jumps back to the guest with whatever the monitor left in process_guest_regs. */
	.globl process_hypercall_common
	.type process_hypercall_common, @function
process_hypercall_common:
	movl %eax, process_guest_regs+GUEST_REG_EAX(%rip)
	movl %ecx, process_guest_regs+GUEST_REG_ECX(%rip)
	movl %edx, process_guest_regs+GUEST_REG_EDX(%rip)
	movl %ebx, process_guest_regs+GUEST_REG_EBX(%rip)
	/* The far-return frame the call just pushed: the monitor sees the state after the
	 * return (eip from the frame, esp above it), and the way back takes no word of guest
	 * memory, which the call itself may have written. */
	movl (%esp), %eax
	movl %eax, process_guest_regs+GUEST_REG_EIP(%rip)
	leal 8(%esp), %eax
	movl %eax, process_guest_regs+GUEST_REG_ESP(%rip)
	movl %ebp, process_guest_regs+GUEST_REG_EBP(%rip)
	movl %esi, process_guest_regs+GUEST_REG_ESI(%rip)
	movl %edi, process_guest_regs+GUEST_REG_EDI(%rip)
	mov process_host_rsp(%rip), %rsp
	pushfq
	movl (%rsp), %eax
	movl %eax, process_guest_regs+GUEST_REG_EFLAGS(%rip)
	andq $~SWITCH_HOST_FLAGS_CLEAR, (%rsp)
	popfq

	/* A guest that loaded FS replaced the host's thread pointer: put it back first. A null
	 * selector proves nothing (loading one zeroes the base on Intel), so then the thread
	 * pointer itself is checked: the x86-64 TLS ABI keeps its own value at %fs:0. With a
	 * base the guest left, that read faults, and on_fault resumes at process_fs_restore. */
	mov %fs, %eax
	movw %ax, process_guest_fs(%rip)
	mov %r11d, %r12d
	testw %ax, %ax
	jnz process_fs_restore
	cmpb $0, process_have_fsgsbase(%rip)
	jne process_fs_restore                /* wrfsbase costs less than the check */
	.globl process_fs_probe
process_fs_probe:
	mov %fs:0, %rax
	cmp process_host_fs_base(%rip), %rax
	je 2f
	.globl process_fs_restore
process_fs_restore:
	xor %eax, %eax
	mov %eax, %fs
	mov process_host_fs_base(%rip), %rsi
	cmpb $0, process_have_fsgsbase(%rip)
	je 3f
	wrfsbase %rsi
	jmp 2f
3:	mov $ARCH_SET_FS, %edi
	mov $__NR_arch_prctl, %eax
	syscall
2:	mov %r12d, %r11d
	/* The monitor's C code (glibc's memcpy among it) uses the SSE registers, which hold
	 * the guest's: kept aside for the call, and where a handoff finds them. */
	fxsave64 process_guest_fpu(%rip)
	movl %r11d, %edi
	call process_hypercall

	movzwl process_guest_fs(%rip), %eax
	testl %eax, %eax
	jz 5f
	mov %eax, %fs
5:

	lea process_guest_regs(%rip), %rbx
	cmpb $0, process_redirect(%rip)
	jne 1f                                /* process_resume_guest loads it too */
	fxrstor64 process_guest_fpu(%rip)
	movl GUEST_REG_EIP(%rbx), %eax
	movl %eax, process_return_target(%rip)
	movl GUEST_REG_EFLAGS(%rbx), %eax
	push %rax
	popfq
	movl GUEST_REG_ESP(%rbx), %esp      /* zero-extends: rsp is the guest's stack again */
	LOAD_GUEST_REGISTERS
	ljmpl *process_return_target(%rip)   /* to eip, with the constant cs=0x23 */

	/* The monitor moved the guest elsewhere (an interrupt, an IRET): the whole state,
	 * flags included, must load at once. */
1:	movb $0, process_redirect(%rip)
	jmp process_resume_guest
	.size process_hypercall_common, . - process_hypercall_common

	.data
/* The far pointer a plain hypercall returns through: eip, then the guest's code selector. */
process_return_target:
	.long 0
	.word VMI_PROCESS_CODE32_SELECTOR
	.text

	.section .note.GNU-stack, "", @progbits
