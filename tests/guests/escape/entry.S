/* The "escape" test guest: a hostile kernel that far-jumps out of compatibility mode into
 * 64-bit code and makes Linux system calls itself. The sandbox must refuse them; the test
 * checks the file it tries to create never appears. Its command line picks the attempt by
 * its first letter: "open" (create /tmp/vmirun-escape-marker), "fork", "write0" (to fd 0),
 * "pread" (every fd), "archprctl" (ARCH_GET_FS), "timer" (turn the timeout off, block
 * every signal, spin), "sleep" (the same, then sleep in rt_sigsuspend), "mmap" (map over
 * vmirun's own page just above 4 GiB) or "xwindow" (map guest-sized memory that runs into
 * vmirun's window): vmirun may mmap only inside the guest's part of the low 4 GiB. */
#include <vmi/multiboot.h>
#include <vmi/process.h>

#define HEADER_FLAGS  MULTIBOOT_FLAG_MEMORY_INFO
#define LINUX_OPEN    2
#define LINUX_FORK    57
#define LINUX_WRITE   1
#define LINUX_PREAD64 17
#define LINUX_RT_SIGPROCMASK 14
#define LINUX_SETITIMER 38
#define LINUX_RT_SIGSUSPEND 130
#define LINUX_ARCH_PRCTL 158
#define LINUX_MMAP    9
#define PROT_RWX      7
#define MAP_PRIVATE_ANONYMOUS_FIXED 0x32
#define ARCH_GET_FS   0x1003
#define O_WRONLY_CREAT 0x41

	MULTIBOOT_HEADER HEADER_FLAGS

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	movl $stack_top, %esp
	/* The command line is "<path> open" or "<path> fork": look at the last word's first
	 * letter. */
	movl 16(%ebx), %esi            /* multiboot_info.cmdline */
1:	movb (%esi), %al
	incl %esi
	testb %al, %al
	jz 2f
	cmpb $' ', %al
	jne 1b
	movb (%esi), %dl
	jmp 1b
2:	cmpb $'f', %dl
	je 3f
	cmpb $'w', %dl
	je 4f
	cmpb $'p', %dl
	je 5f
	cmpb $'a', %dl
	je 6f
	cmpb $'t', %dl
	je 7f
	cmpb $'s', %dl
	je 8f
	cmpb $'m', %dl
	je 9f
	cmpb $'x', %dl
	je 10f
	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_open
3:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_fork
4:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_write_stdin
5:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_pread
6:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_arch_prctl
7:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_timer
8:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_sleep
9:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_mmap_above
10:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_mmap_into_window

	.code64
escape_open:
	movl $LINUX_OPEN, %eax
	movl $marker_path, %edi
	movl $O_WRONLY_CREAT, %esi
	movl $0644, %edx
	syscall
	ud2                             /* never reached: the sandbox stops the run */
escape_fork:
	movl $LINUX_FORK, %eax
	syscall
	ud2
/* write(0, ...): vmirun writes only to stdout and stderr */
escape_write_stdin:
	movl $LINUX_WRITE, %eax
	xorl %edi, %edi
	movl $marker_path, %esi
	movl $1, %edx
	syscall
	ud2
/* pread64 on every descriptor from 0 up: vmirun reads only the two files it opened */
escape_pread:
	xorl %ebx, %ebx
1:	movl $LINUX_PREAD64, %eax
	movl %ebx, %edi
	movl $read_buffer, %esi
	movl $16, %edx
	xorl %r10d, %r10d
	syscall
	incl %ebx
	cmpl $64, %ebx
	jb 1b
	ud2
/* arch_prctl(ARCH_GET_FS): vmirun only sets the FS base */
escape_arch_prctl:
	movl $LINUX_ARCH_PRCTL, %eax
	movl $ARCH_GET_FS, %edi
	movl $read_buffer, %esi
	syscall
	ud2
/* mmap(addr, length, RWX, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) with %rdi, %rsi set */
escape_mmap:
	movl $LINUX_MMAP, %eax
	movl $PROT_RWX, %edx
	movl $MAP_PRIVATE_ANONYMOUS_FIXED, %r10d
	movq $-1, %r8
	xorl %r9d, %r9d
	syscall
	ud2
/* The page at 4 GiB holds the hypercall path's target address. */
escape_mmap_above:
	movabsq $0x100000000, %rdi
	movl $0x1000, %esi
	jmp escape_mmap
/* Inside the low 4 GiB, but its end runs into the window at VMI_PROCESS_WINDOW_BASE. */
escape_mmap_into_window:
	movl $(VMI_PROCESS_WINDOW_BASE - 0x1000), %edi
	movl $0x2000, %esi
	jmp escape_mmap
/* setitimer(ITIMER_REAL, zero), then every signal blocked (SIG_BLOCK of all 64). */
turn_the_timeout_off:
	movl $LINUX_SETITIMER, %eax
	xorl %edi, %edi
	movl $zero_timer, %esi
	xorl %edx, %edx
	syscall
	movl $LINUX_RT_SIGPROCMASK, %eax
	xorl %edi, %edi
	movl $all_signals, %esi
	xorl %edx, %edx
	movl $8, %r10d
	syscall
	ret
/* setitimer(ITIMER_REAL, zero) turns vmirun's --timeout off, and blocking every signal
 * keeps its handlers out; then spin. Only the CPU-time limit is left to end the run. */
escape_timer:
	movl %esp, %esp                 /* in 64-bit mode: RSP zero-extended, for the call */
	call turn_the_timeout_off
1:	jmp 1b
/* The same, then sleep with every signal blocked: no CPU time is spent, so only a bound
 * from outside the process (the watchdog) ends the run. */
escape_sleep:
	movl %esp, %esp
	call turn_the_timeout_off
1:	movl $LINUX_RT_SIGSUSPEND, %eax
	movl $all_signals, %edi
	movl $8, %esi
	syscall
	jmp 1b

	.section .rodata
marker_path:
	.asciz "/tmp/vmirun-escape-marker"
	.align 8
zero_timer:
	.quad 0, 0, 0, 0
all_signals:
	.quad -1

	.bss
	.align 16
read_buffer:
	.space 16
	.space 4096
stack_top:

	.section .note.GNU-stack, "", @progbits
