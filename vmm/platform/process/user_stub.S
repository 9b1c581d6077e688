/* The whole of vmirun a user process keeps under strict isolation: copied to STUB_CODE, it
 * runs the guest's user mode, sends every exit (a signal, a hypercall) to the kernel-side
 * process that drives it through the exit page, and carries out that process's commands
 * (map these pages, run the guest from this state) from the read-only command pages.
 * Position independent: it refers to nothing outside this section but fixed addresses. */
#include "platform/process/user_stub_layout.h"
#include <asm/unistd.h>
#include <vmi/process.h>

#define SIGTRAP        5
#define FUTEX_WAIT     0           /* shared: the pages are shared between processes */
#define FUTEX_WAKE     1
#define EFLAGS_TF      0x100
#define EFLAGS_NT      0x4000
#define EFLAGS_AC      0x40000
#define SPIN_ROUNDS    20000       /* at most, while the token is this process's */
#define SPIN_ROUNDS_UNASKED 200    /* before the driver has given it */
#define MAP_SHARED_FIXED       0x11       /* MAP_SHARED | MAP_FIXED */
#define MAP_NOTHING_FIXED      0x4032     /* MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                                             MAP_FIXED */
#define TIMER_ABSTIME  1
#define STUB_DIED      127
#define STUB_DESCRIPTORS_MAX 15    /* close_range's cost grows with its range */

/* The command's mapping operations (r12: the command view, r13: the exit page, r15: the
 * descriptor or -1): mmap of the descriptor's pages, or nothing (PROT_NONE) over a range.
 * A loop bounded by the read-only command page; no call, no return. */
.macro MAKE_OPERATIONS
	xor %r14d, %r14d
	movl $0, EXIT_FAILED_OPS(%r13)
.Lnext\@:
	mov COMMAND_OP_COUNT(%r12), %eax
	cmp $STUB_OPS_MAX, %eax
	jbe .Lbounded\@
	mov $STUB_OPS_MAX, %eax
.Lbounded\@:
	cmp %eax, %r14d
	jae .Ldone\@
	mov %r14d, %eax
	shl $4, %eax
	lea COMMAND_OPS(%r12, %rax), %rcx
	mov (%rcx), %edi                      /* linear: below 4 GiB, zero-extended */
	mov 8(%rcx), %esi                     /* size */
	mov 12(%rcx), %edx                    /* prot; PROT_NONE: unmap */
	mov $MAP_NOTHING_FIXED, %r10d
	mov $-1, %r8
	xor %r9d, %r9d
	test %edx, %edx
	jz .Lmap\@
	mov $MAP_SHARED_FIXED, %r10d
	mov %r15, %r8
	mov 4(%rcx), %r9d                     /* physical: the descriptor's offset */
.Lmap\@:
	mov $__NR_mmap, %eax
	syscall
	cmp $-4096, %rax
	jbe .Lmapped\@
	incl EXIT_FAILED_OPS(%r13)
.Lmapped\@:
	inc %r14d
	jmp .Lnext\@
.Ldone\@:
.endm

	.section user_stub, "ax"
	.code64
	.globl user_stub_begin, user_stub_on_signal, user_stub_hypercall, user_stub_restorer
	.globl user_stub_recvmsg_return

/* From the set-up (user_process.c), on the main stack: unmaps all of vmirun the process
 * still holds, locks itself, and waits for its first command. */
user_stub_begin:
	mov $STUB_DATA, %rbx
	mov DATA_UNMAP_COUNT(%rbx), %r12d
	lea DATA_UNMAP(%rbx), %r13
1:	test %r12d, %r12d
	jz 2f
	mov (%r13), %rdi
	mov 8(%r13), %rsi
	mov $__NR_munmap, %eax
	syscall
	add $16, %r13
	dec %r12d
	jmp 1b
2:	mov $__NR_seccomp, %eax
	mov $1, %edi                          /* SECCOMP_SET_MODE_FILTER */
	xor %esi, %esi
	lea DATA_FILTER(%rbx), %rdx
	syscall
	test %rax, %rax
	jnz user_stub_die
	jmp stub_await

/* The exit page holds an exit: answer the command being carried out, then wait for the
 * next. Runs on whichever stack it was reached on and pushes nothing. */
stub_answer:
	mov $STUB_DATA, %rbx
	mov $STUB_COMMAND_VIEW, %r12
	mov $STUB_EXIT_VIEW, %r13
	mov DATA_LAST_SEQUENCE(%rbx), %eax
	mov %eax, EXIT_SEQUENCE(%r13)
	mfence                                /* the answer before the look at the sleeper flag */
	cmpl $0, COMMAND_DRIVER_SLEEPS(%r12)
	je stub_await
	lea EXIT_SEQUENCE(%r13), %rdi
	mov $FUTEX_WAKE, %esi
	mov $1, %edx
	mov $__NR_futex, %eax
	syscall

/* Waits for a command: a sequence number other than the last carried out. It spins while it
 * holds the spinner token (the process that answered last is given it: a system call's
 * return comes within the spin) and a little before the token comes, then sleeps: a
 * spinner more than the cores left takes the core of the process that would answer. */
stub_await:
	mov $STUB_DATA, %rbx
	mov $STUB_COMMAND_VIEW, %r12
	mov $STUB_EXIT_VIEW, %r13
	mov $STUB_SPINNER_VIEW, %r14
	xor %ecx, %ecx
1:	mov COMMAND_SEQUENCE(%r12), %eax
	cmp DATA_LAST_SEQUENCE(%rbx), %eax
	jne 5f
	pause
	inc %ecx
	cmp $SPIN_ROUNDS, %ecx
	jae 6f
	cmp $SPIN_ROUNDS_UNASKED, %ecx
	jb 1b
	mov (%r14), %eax
	cmp DATA_SLOT(%rbx), %eax
	je 1b
6:	movl $1, EXIT_STUB_SLEEPS(%r13)
	mfence                                /* the flag before the last look */
2:	mov COMMAND_SEQUENCE(%r12), %eax
	cmp DATA_LAST_SEQUENCE(%rbx), %eax
	jne 3f
	mov %eax, %edx
	lea COMMAND_SEQUENCE(%r12), %rdi
	mov $FUTEX_WAIT, %esi
	xor %r10d, %r10d
	mov $__NR_futex, %eax
	syscall
	jmp 2b
3:	movl $0, EXIT_STUB_SLEEPS(%r13)
5:	mov %eax, DATA_LAST_SEQUENCE(%rbx)

/* The command's mapping operations. The guest-memory descriptor, when it comes, is received
 * here, and every path from that system call runs straight to the close_range below before
 * anything else can run: no return, no jump through memory, and nothing read but fixed
 * addresses (the command pages are read-only here). So code that jumps into the stub gets
 * the descriptor no further than the command's own operations. */
	cmpl $0, COMMAND_WITH_FD(%r12)
	jne 5f
	mov $-1, %r15                         /* no descriptor: unmapping only, and no system */
	MAKE_OPERATIONS                       /* call when there is none (~2,500 cycles each) */
	jmp stub_act
5:	movq $DATA_CMSG_SIZE, DATA_MSGHDR + 40(%rbx)    /* msg_controllen */
	movl $-1, DATA_CMSG + 16(%rbx)
	xor %edi, %edi                        /* the socket is descriptor 0 */
	lea DATA_MSGHDR(%rbx), %rsi
	xor %edx, %edx
	mov $__NR_recvmsg, %eax
	syscall
user_stub_recvmsg_return:
	mov $STUB_DATA, %rbx
	mov $STUB_COMMAND_VIEW, %r12
	mov $STUB_EXIT_VIEW, %r13
	movslq DATA_CMSG + 16(%rbx), %r15
	MAKE_OPERATIONS
	mov $__NR_close_range, %eax
	mov $1, %edi                          /* all but the socket: a descriptor received */
	mov $STUB_DESCRIPTORS_MAX, %esi       /* lands on the lowest free, 1 */
	xor %edx, %edx
	syscall

stub_act:
	cmpl $STUB_ACTION_RESUME, COMMAND_ACTION(%r12)
	jne user_stub_die

/* The alarm: armed again only when the command names another time. From here to the iretq
 * an alarm that fires is taken again shortly (the handler), in the guest's code. */
stub_resume_path:
	mov COMMAND_ALARM_NS(%r12), %rax
	cmp DATA_ARMED_NS(%rbx), %rax
	je 2f
	mov %rax, DATA_ARMED_NS(%rbx)
	xor %edx, %edx
	mov $1000000000, %rcx
	div %rcx
	movq $0, DATA_TIMERSPEC(%rbx)         /* no interval */
	movq $0, DATA_TIMERSPEC + 8(%rbx)
	mov %rax, DATA_TIMERSPEC + 16(%rbx)   /* seconds */
	mov %rdx, DATA_TIMERSPEC + 24(%rbx)   /* nanoseconds; all zero disarms */
	mov DATA_TIMER_ID(%rbx), %edi
	mov $TIMER_ABSTIME, %esi
	lea DATA_TIMERSPEC(%rbx), %rdx
	xor %r10d, %r10d
	mov $__NR_timer_settime, %eax
	syscall

/* Into the guest: its segment registers, x87/SSE state and registers from the command. */
2:	movzwl COMMAND_SEGMENTS(%r12), %eax
	mov %eax, %ds
	movzwl COMMAND_SEGMENTS + 2(%r12), %eax
	mov %eax, %es
	movzwl COMMAND_SEGMENTS + 4(%r12), %eax
	mov %eax, %fs
	movzwl COMMAND_SEGMENTS + 6(%r12), %eax
	mov %eax, %gs
	cmpl $0, COMMAND_FPU_KEPT(%r12)
	jne 3f
	fxrstor64 COMMAND_FPU(%r12)
3:	mov $STUB_MAIN_STACK_TOP, %rsp
	pushq $VMI_PROCESS_DATA_SELECTOR                  /* ss */
	movl COMMAND_REGS + 16(%r12), %eax
	push %rax                                         /* esp */
	movl COMMAND_REGS + 36(%r12), %eax
	andl $~EFLAGS_NT, %eax                            /* iretq with NT set is a #GP */
	push %rax                                         /* eflags */
	pushq $VMI_PROCESS_CODE32_SELECTOR                /* cs */
	movl COMMAND_REGS + 32(%r12), %eax
	push %rax                                         /* eip */
	movl COMMAND_REGS + 0(%r12), %eax
	movl COMMAND_REGS + 4(%r12), %ecx
	movl COMMAND_REGS + 8(%r12), %edx
	movl COMMAND_REGS + 12(%r12), %ebx
	movl COMMAND_REGS + 20(%r12), %ebp
	movl COMMAND_REGS + 24(%r12), %esi
	movl COMMAND_REGS + 28(%r12), %edi
	iretq
stub_resume_path_end:

/* Signal handler (rdi: signal, rsi: siginfo, rdx: ucontext), on the signal stack, with
 * nothing blocked. From guest code: the exit goes to the driver, and the frame is left
 * behind (the command's state is loaded instead). Else the stub's own code was running:
 * the alarm waits for the next resume, and a single step caught on the hypercall page is
 * the guest's far call, taken as one instruction (the driver hears of it with the call). */
user_stub_on_signal:
	pushfq
	andq $~EFLAGS_AC, (%rsp)              /* the guest may have left alignment checks on */
	popfq
	mov $STUB_EXIT_VIEW, %r13
	movzwl UC_GREGS + GREG_CSGSFS * 8(%rdx), %eax
	cmp $VMI_PROCESS_CODE32_SELECTOR, %eax
	je 3f
	cmp $STUB_TIMER_SIGNAL, %edi
	jne 1f
	/* The alarm in 64-bit code that is neither the stub's nor the hypercall page's: code
	 * that left compatibility mode, which ends here, as a host call would end it. */
	mov UC_GREGS + GREG_RIP * 8(%rdx), %rax
	mov $VMI_PROCESS_HYPERCALL_PAGE, %ecx
	sub %rcx, %rax
	cmp $4096, %rax
	jb 5f
	mov UC_GREGS + GREG_RIP * 8(%rdx), %rax
	lea user_stub_begin(%rip), %rcx
	cmp %rcx, %rax
	jb user_stub_die
	lea user_stub_end(%rip), %rcx
	cmp %rcx, %rax
	jae user_stub_die
	/* The alarm, in the stub's own code: the next resume arms it again (the driver takes
	 * an alarm that is due by then), and one that fired on the way into the guest comes
	 * back 50 us later, in the guest's code. */
5:	mov $STUB_DATA, %rbx
	movq $0, DATA_ARMED_NS(%rbx)
	mov UC_GREGS + GREG_RIP * 8(%rdx), %rax
	lea stub_resume_path(%rip), %rcx      /* relative: the section moves whole */
	cmp %rcx, %rax
	jb 2f
	lea stub_resume_path_end(%rip), %rcx
	cmp %rcx, %rax
	jae 2f
	movq $0, DATA_TIMERSPEC(%rbx)
	movq $0, DATA_TIMERSPEC + 8(%rbx)
	movq $0, DATA_TIMERSPEC + 16(%rbx)
	movq $50000, DATA_TIMERSPEC + 24(%rbx)
	mov DATA_TIMER_ID(%rbx), %edi
	xor %esi, %esi                        /* relative */
	lea DATA_TIMERSPEC(%rbx), %rdx
	xor %r10d, %r10d
	mov $__NR_timer_settime, %eax
	syscall
2:	ret                                   /* to user_stub_restorer */
1:	cmp $SIGTRAP, %edi
	jne user_stub_die
	mov UC_GREGS + GREG_RIP * 8(%rdx), %rax
	mov $VMI_PROCESS_HYPERCALL_PAGE, %ecx
	sub %rcx, %rax
	cmp $4096, %rax
	jae user_stub_die
	andq $~EFLAGS_TF, UC_GREGS + GREG_EFL * 8(%rdx)
	movl $1, EXIT_STEPPED(%r13)
	ret
3:	movl $STUB_EXIT_SIGNAL, EXIT_KIND(%r13)
	mov %edi, EXIT_SIGNAL(%r13)
	mov SI_SYSCALL(%rsi), %eax
	mov %eax, EXIT_SYSCALL(%r13)
	mov %rdx, %r12
	lea UC_GREGS(%r12), %rsi
	lea EXIT_GREGS(%r13), %rdi
	mov $GREG_COUNT, %ecx
	rep movsq
	mov UC_FPREGS(%r12), %rsi
	test %rsi, %rsi
	jz 4f
	lea EXIT_FPU(%r13), %rdi
	mov $64, %ecx
	rep movsq
4:	mov %ds, %eax
	mov %ax, EXIT_SEGMENTS(%r13)
	mov %es, %eax
	mov %ax, EXIT_SEGMENTS + 2(%r13)
	mov %fs, %eax
	mov %ax, EXIT_SEGMENTS + 4(%r13)
	mov %gs, %eax
	mov %ax, EXIT_SEGMENTS + 6(%r13)
	jmp stub_answer

/* The hypercall page's common stub jumps here (r11d: the call number), right after the
 * guest's far call, its registers live and rsp at the far-return frame. */
user_stub_hypercall:
	mov $STUB_EXIT_VIEW, %r13
	mov %rax, EXIT_GREGS + 13 * 8(%r13)   /* REG_RAX */
	mov %rcx, EXIT_GREGS + 14 * 8(%r13)   /* REG_RCX */
	mov %rdx, EXIT_GREGS + 12 * 8(%r13)   /* REG_RDX */
	mov %rbx, EXIT_GREGS + 11 * 8(%r13)   /* REG_RBX */
	mov %rbp, EXIT_GREGS + 10 * 8(%r13)   /* REG_RBP */
	mov %rsi, EXIT_GREGS + 9 * 8(%r13)    /* REG_RSI */
	mov %rdi, EXIT_GREGS + 8 * 8(%r13)    /* REG_RDI */
	movl (%esp), %eax                     /* the state after the far return: eip, */
	mov %rax, EXIT_GREGS + GREG_RIP * 8(%r13)
	leal 8(%esp), %eax                    /* and esp above the frame */
	mov %rax, EXIT_GREGS + GREG_RSP * 8(%r13)
	mov $STUB_MAIN_STACK_TOP, %rsp
	pushfq
	pop %rax
	mov %rax, EXIT_GREGS + GREG_EFL * 8(%r13)
	pushq $2                              /* no AC, DF, TF for the stub */
	popfq
	movq $VMI_PROCESS_CODE32_SELECTOR, EXIT_GREGS + GREG_CSGSFS * 8(%r13)
	mov %r11d, EXIT_SIGNAL(%r13)
	movl $STUB_EXIT_HYPERCALL, EXIT_KIND(%r13)
	fxsave64 EXIT_FPU(%r13)
	jmp 4b

user_stub_restorer:
	mov $__NR_rt_sigreturn, %eax
	syscall

	.globl user_stub_die
user_stub_die:
	mov $STUB_DIED, %edi
	mov $__NR_exit_group, %eax
	syscall
	ud2
user_stub_end:

	.section .note.GNU-stack, "", @progbits
