/* Entry of the "native" test guest, an unmodified i386 kernel: its own GDT (loaded with
 * lgdt and a far jump), its own IDT, and interrupt handlers that end in a plain iret. Under
 * vmirun every privileged instruction here traps and is emulated. */
#include <vmi/multiboot.h>

#define HEADER_FLAGS   MULTIBOOT_FLAG_MEMORY_INFO
#define KERNEL_CODE    0x08
#define KERNEL_DATA    0x10

	MULTIBOOT_HEADER HEADER_FLAGS

	.section .text.entry, "ax"
	.globl _start
_start:
	movl %eax, %esi
	lgdt gdt_descriptor
	ljmp $KERNEL_CODE, $1f
1:	movw $KERNEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $stack_top, %esp
	cld
	pushl %ebx
	pushl %esi
	call guest_main
2:	cli
	hlt
	jmp 2b

/* IRQ0: count, acknowledge at the PIC, return. */
	.globl timer_entry
timer_entry:
	pushl %eax
	incl ticks
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret

/* Any other vector: report it and stop. */
	.globl unexpected_entry
unexpected_entry:
	call unexpected_interrupt
3:	jmp 3b

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF        /* 0x08: flat code */
	.quad 0x00CF92000000FFFF        /* 0x10: flat data */
gdt_end:
gdt_descriptor:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
