/* switch_context: the kernel's only stack switch. Saves the callee-saved registers on the
 * current stack, stores the stack pointer in *save, and resumes the context `next` (a stack
 * laid out as struct context). Runs with interrupts disabled. */

/* void switch_context(struct context **save, struct context *next) */
	.text
	.globl switch_context
	.type switch_context, @function
switch_context:
	movl 4(%esp), %eax
	movl 8(%esp), %edx
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, (%eax)
	movl %edx, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size switch_context, . - switch_context

	.section .note.GNU-stack, "", @progbits
