/* The host check's round trip: from 64-bit code into a 32-bit code segment and back, with
 * a far return in and a far jump out (the 32-bit code lives in a page below 4 GiB). */
	.text
	.code64

/* uint32_t host_probe_enter(uint64_t entry32, uint64_t code32_selector): runs the 32-bit
 * code at entry32, which far-jumps to 64-bit code that jumps to host_probe_return; returns
 * the eax that code left. The 32-bit code may not touch memory or the stack. */
	.globl host_probe_enter
	.type host_probe_enter, @function
host_probe_enter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, host_probe_saved_rsp(%rip)
	push %rsi                        /* cs */
	push %rdi                        /* eip */
	lretq
	.size host_probe_enter, . - host_probe_enter

	.globl host_probe_return
	.type host_probe_return, @function
host_probe_return:
	mov host_probe_saved_rsp(%rip), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size host_probe_return, . - host_probe_return

	.bss
	.balign 8
host_probe_saved_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
