/* The "escape" test guest: a hostile kernel that far-jumps out of compatibility mode into
 * 64-bit code and makes Linux system calls itself. The sandbox must refuse them; the test
 * checks the file it tries to create never appears. Its command line picks the attempt:
 * "open" (create /tmp/vmirun-escape-marker) or "fork". */
#include <vmi/multiboot.h>
#include <vmi/process.h>

#define HEADER_FLAGS  MULTIBOOT_FLAG_MEMORY_INFO
#define LINUX_OPEN    2
#define LINUX_FORK    57
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
	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_open
3:	ljmp $VMI_PROCESS_CODE64_SELECTOR, $escape_fork

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

	.section .rodata
marker_path:
	.asciz "/tmp/vmirun-escape-marker"

	.bss
	.align 16
	.space 4096
stack_top:

	.section .note.GNU-stack, "", @progbits
