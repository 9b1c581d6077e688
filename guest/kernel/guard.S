/* Fault guards for the self-tests: run a function so that an exception inside it comes
 * back to the caller as a result instead of stopping the kernel. trap() records the fault
 * in the active guard and resumes at guard_landing, which unwinds to guard_run's caller.
 * Guards nest: each remembers the one it replaced. */

#define GUARD_SAVED_ESP 0       /* struct fault_guard (interrupts.h) */
#define GUARD_PREVIOUS  4

/* int guard_run(struct fault_guard *guard, void (*function)(void *), void *argument):
 * 0 if the function returned, 1 if it faulted (the guard says how). */
	.text
	.globl guard_run
	.type guard_run, @function
guard_run:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %eax             /* guard */
	movl 24(%esp), %edx             /* function */
	movl 28(%esp), %ecx             /* argument */
	movl %esp, GUARD_SAVED_ESP(%eax)
	movl active_guard, %ebx
	movl %ebx, GUARD_PREVIOUS(%eax)
	movl %eax, active_guard
	pushl %ecx
	call *%edx
	addl $4, %esp
	movl 20(%esp), %eax
	xorl %ecx, %ecx                 /* returned normally: 0 */
guard_return:
	movl GUARD_PREVIOUS(%eax), %ebx
	movl %ebx, active_guard
	movl %ecx, %eax
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size guard_run, . - guard_run

/* Entered through the exception's IRET, on whatever stack the fault left. */
	.globl guard_landing
	.type guard_landing, @function
guard_landing:
	movl active_guard, %eax
	movl GUARD_SAVED_ESP(%eax), %esp
	movl $1, %ecx                   /* faulted: 1 */
	jmp guard_return
	.size guard_landing, . - guard_landing

	.section .note.GNU-stack, "", @progbits
