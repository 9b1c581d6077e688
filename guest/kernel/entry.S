/* The kernel's entry: the multiboot header, the boot path that turns paging on and goes
 * high, the boot stack, and the interrupt entry stubs, which build a uniform trap frame for
 * trap() and return through the SDK's IRET site. */
#include <vmi/mmu.h>
#include <vmi/multiboot.h>
#include "kernel.h"
#include "vmiguest.h"

#define HEADER_FLAGS     MULTIBOOT_FLAG_MEMORY_INFO
#define BOOT_STACK_BYTES (16 * 1024)
#define LARGE_PAGE       0x400000
#define BOOT_LARGE_PAGES (BOOT_MAPPED_BYTES / LARGE_PAGE)
#define BOOT_PDE_FLAGS   (VMI_PTE_PRESENT | VMI_PTE_WRITABLE | VMI_PTE_LARGE)
/* Until paging is on we run at our physical address: what we name is linked high. */
#define PHYSICAL(symbol) ((symbol) - KERNEL_BASE)

	MULTIBOOT_HEADER HEADER_FLAGS

/* The loader enters here (its physical address: ELF e_entry, set by the linker script) with
 * paging off, EAX the multiboot magic, EBX the information's physical address. Before the
 * SDK is linked there is nothing to call: like any i386 kernel's head, a boot directory made
 * with plain stores (the first BOOT_MAPPED_BYTES identity-mapped and at KERNEL_BASE, 4 MiB
 * pages) and raw mov to CR4, CR3 and CR0: real instructions in ring 0, trapped and emulated
 * by a hypervisor that runs us deprivileged. Then on at our linked address, for good. */
	.section .text.entry, "ax"
	.globl kernel_boot
	.type kernel_boot, @function
kernel_boot:
	cld                     /* the C ABI wants DF clear; multiboot does not promise it */
	movl %eax, %esi         /* the magic; EBX (the information) is left alone */
	movl $PHYSICAL(boot_directory), %edi
	xorl %eax, %eax
	movl $1024, %ecx
	rep stosl
	movl $BOOT_PDE_FLAGS, %eax
	xorl %ecx, %ecx
1:	movl %eax, PHYSICAL(boot_directory)(,%ecx,4)
	movl %eax, PHYSICAL(boot_directory) + (KERNEL_BASE >> 22) * 4(,%ecx,4)
	addl $LARGE_PAGE, %eax
	incl %ecx
	cmpl $BOOT_LARGE_PAGES, %ecx
	jb 1b
	movl %cr4, %eax
	orl $VMI_CR4_PSE, %eax
	movl %eax, %cr4
	movl $PHYSICAL(boot_directory), %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $VMI_CR0_PG, %eax
	movl %eax, %cr0
	movl $2f, %eax          /* an absolute jump: from the identity map to the high one */
	jmp *%eax
2:	movl $boot_stack_top, %esp
	xorl %ebp, %ebp
	pushl %ebx              /* multiboot information (physical) */
	pushl %esi              /* multiboot magic */
	call kernel_main
3:	jmp 3b
	.size kernel_boot, . - kernel_boot

/* One stub per vector with a gate: an error code (the CPU's, or 0) and the vector number on
 * top of the frame the CPU (or vmirun) built, so every frame looks the same to trap(). */
.macro trap_entry vector, cpu_pushes_error_code=0
	.globl trap_entry_\vector
trap_entry_\vector:
	.if \cpu_pushes_error_code == 0
	pushl $0
	.endif
	pushl $\vector
	jmp trap_common
.endm

	.text
	.irp vector, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	trap_entry \vector
	.endr
	.irp vector, 8,10,11,12,13,14,17
	trap_entry \vector, 1
	.endr
	.irp vector, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	trap_entry \vector
	.endr
	trap_entry 128

/* struct trapframe (interrupts.h): pushal's registers, vector, error code, the CPU frame. */
trap_common:
	pushal
	cld                     /* user mode may have left DF set */
	pushl %esp
	call trap
	addl $4, %esp
/* Also where a new process starts: its kernel stack holds a frame that "returns" to user
 * mode. Only the SDK's IRET site returns from an interrupt, never a raw iret. */
	.globl trap_return
trap_return:
	popal
	addl $8, %esp           /* vector and error code */
	VMI_IRET

/* Gate addresses for descriptors.c, vector by vector up to the system call (0: no gate). */
	.section .rodata
	.balign 4
	.globl trap_entry_table
trap_entry_table:
	.irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap_entry_\vector
	.endr
	.irp vector, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.long trap_entry_\vector
	.endr
	.fill 128 - 48, 4, 0
	.long trap_entry_128
	.size trap_entry_table, . - trap_entry_table

	.bss
	.balign 4096
boot_directory:         /* dropped once paging.c has loaded the kernel's own */
	.skip 4096
	.balign 16
	.skip BOOT_STACK_BYTES
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
