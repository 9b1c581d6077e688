/* Entry of the "hostile" test guest: multiboot header, stack, an interrupt handler that
 * counts and returns through the IRET hypercall, and one that never returns. */
#include <vmi/calls.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/rom.h>
#include "../common/start.inc"

#define HEADER_FLAGS MULTIBOOT_FLAG_MEMORY_INFO

	MULTIBOOT_HEADER HEADER_FLAGS

	GUEST_START stack_top

/* Counts and returns, whatever the vector (no error codes are raised with int n). */
	.globl counting_handler
counting_handler:
	incl interrupts_taken
	jmp iret_hypercall

/* An interrupt handler stuck in a loop with interrupts disabled (after saying so). */
	.globl looping_handler
looping_handler:
	movl $stack_top, %esp
	call in_looping_handler
1:	jmp 1b

/* The IRET stub, as a ROM's would be: a jump here with the iret frame at ESP. */
iret_hypercall:
	.globl iret_far_call
iret_far_call:
	lcall $VMI_PROCESS_CODE64_SELECTOR, $VMI_PROCESS_HYPERCALL_ENTRY(VMI_CALL_IRET)
	ud2

/* A #GP handler that records the error code and the faulting eip, and reports from C. */
	.globl gp_recorder
gp_recorder:
	movl 0(%esp), %eax
	movl %eax, gp_error
	movl 4(%esp), %eax
	movl %eax, gp_eip
	movl $stack_top, %esp
	call after_gp
1:	jmp 1b

/* A #DB handler that counts, records the eip, and returns with TF clear in the frame. */
	.globl db_handler
db_handler:
	incl db_count
	pushl %eax
	movl 4(%esp), %eax
	movl %eax, db_eip
	popl %eax
	andl $~0x100, 8(%esp)
	jmp iret_hypercall

/* Sets TF with popfl: the single-step trap comes after the next instruction, the far call
 * of a hypercall (GetCR0). */
	.globl hypercall_with_tf
hypercall_with_tf:
	pushfl
	orl $0x100, (%esp)
	popfl
	lcall $VMI_PROCESS_CODE64_SELECTOR, $VMI_PROCESS_HYPERCALL_ENTRY(VMI_CALL_GetCR0)
	.globl after_tf_hypercall
after_tf_hypercall:
	nop
	nop
	ret

/* A #PF handler that records the error code and the frame's cs, and reports from C. */
	.globl pf_recorder
pf_recorder:
	movl 0(%esp), %eax
	movl %eax, pf_error
	movl 8(%esp), %eax
	movl %eax, pf_cs
	movl $stack_top, %esp
	call after_user_pf
1:	jmp 1b

/* User mode: the fast system-call entry with the stack at 1 MiB + 4: the return address
 * lands at RAM's first word, the caller's flags one word lower, outside RAM. */
	.globl user_fast_syscall_low_stack
user_fast_syscall_low_stack:
	movl $(VMI_PROCESS_RAM_BASE + 4), %esp
	movl $(VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_Syscall)), %eax
	call *%eax
1:	jmp 1b

/* GetGDT told to store at the far-return frame its own far call pushes (eip, then cs). */
	.globl get_gdt_over_frame
get_gdt_over_frame:
	leal -8(%esp), %eax
	lcall $VMI_PROCESS_CODE64_SELECTOR, $VMI_PROCESS_HYPERCALL_ENTRY(VMI_CALL_GetGDT)
	ret

/* uint32_t hostile_hypercall(unsigned call, const uint32_t regs[6]): loads eax, edx, ecx,
 * ebx, esi, edi from regs and far-calls the entry of `call` computed at run time. */
	.globl hostile_hypercall
hostile_hypercall:
	pushl %ebp
	movl %esp, %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 8(%ebp), %eax
	shll $4, %eax
	addl $VMI_PROCESS_HYPERCALL_PAGE, %eax
	movl %eax, far_target
	movw $VMI_PROCESS_CODE64_SELECTOR, far_target + 4
	movl 12(%ebp), %edi
	movl 0(%edi), %eax
	movl 4(%edi), %edx
	movl 8(%edi), %ecx
	movl 12(%edi), %ebx
	movl 16(%edi), %esi
	movl 20(%edi), %edi
	lcall *far_target
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* Enters user mode through the IRET hypercall with the frame built in C: (eip, cs, eflags,
 * esp, ss) at the argument. */
	.globl enter_user_mode
enter_user_mode:
	movl 4(%esp), %esp
	jmp iret_hypercall

/* User-mode code: a system call through a DPL-3 gate, which needs the kernel stack. */
	.globl user_int
user_int:
	int $0x41
1:	jmp 1b

/* The same through the ROM's fast system-call entry. */
	.globl user_fast_syscall
user_fast_syscall:
	movl $(VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_Syscall)), %eax
	call *%eax
1:	jmp 1b

/* Far call into the middle of a hypercall entry: not an entry at all. */
	.globl misaligned_far_call
misaligned_far_call:
	lcall $VMI_PROCESS_CODE64_SELECTOR, $(VMI_PROCESS_HYPERCALL_PAGE + 3)
	ret

	.data
far_target:
	.long 0
	.word 0

	.bss
	.align 16
	.space 16384
	.globl stack_top
stack_top:

	.section .note.GNU-stack, "", @progbits
