/* Linker script of the reference kernel: linked at KERNEL_BASE + 1 MiB and loaded at 1 MiB
 * (every section's load address is its physical one), the multiboot header first (a loader
 * looks in the first 8 KiB), the user programs' sections page-aligned for paging.c, the
 * SDK's call-site records kept between bounds, and one writable segment, because
 * vmi_guest_init patches the code at boot. Preprocessed by kernel.mk with kernel.h. */
#include "kernel.h"

OUTPUT_FORMAT("elf32-i386")
OUTPUT_ARCH(i386)
/* The entry point is physical (paging is off there, and loaders jump to e_entry as it is):
 * entry.S's boot path, at its load address. */
ENTRY(_start)
_start = kernel_boot - KERNEL_BASE;

PHDRS
{
	kernel PT_LOAD FLAGS(7);   /* rwx: the call sites are rewritten in place */
}

SECTIONS
{
	. = KERNEL_BASE + KERNEL_LOAD_ADDRESS;
	__kernel_start = .;

	.text : AT(ADDR(.text) - KERNEL_BASE) {
		KEEP(*(.multiboot))
		*(.text.entry)
		/* what user mode runs goes to .user_text below */
		EXCLUDE_FILE(*kernel/user.o *libvmiguest.a:native_rom.o) *(.text .text.*)
	} :kernel

	/* What user mode may read and run (paging.c maps it user, read-only): the user
	 * programs, the native ROM (whose stubs their call sites may call) and the SDK's link
	 * table (which their indirect call sites read). Every other section takes what the
	 * first match left, so only .text above has to leave these out. */
	. = ALIGN(4096);
	__user_text_start = .;
	.user_text : AT(ADDR(.user_text) - KERNEL_BASE) {
		*kernel/user.o(.text .text.* .rodata .rodata.*)
		KEEP(*libvmiguest.a:native_rom.o(.text.vmi_native_rom))
		*libvmiguest.a:link_table.o(.data .data.*)
	} :kernel
	/* What user mode may read and write: the user programs' own data, and what the kernel
	 * shares with them (argument blocks, marked USER_SHARED in user.h). */
	. = ALIGN(4096);
	__user_data_start = .;
	.user_data : AT(ADDR(.user_data) - KERNEL_BASE) {
		*kernel/user.o(.data .data.* .bss .bss.* COMMON)
		*(.user_shared)
	} :kernel
	. = ALIGN(4096);
	__user_end = .;

	.rodata : AT(ADDR(.rodata) - KERNEL_BASE) ALIGN(16) {
		*(.rodata .rodata.*)
	} :kernel

	.vmi_sites : AT(ADDR(.vmi_sites) - KERNEL_BASE) ALIGN(4) {
		__vmi_sites_start = .;
		KEEP(*(.vmi_sites))
		__vmi_sites_end = .;
	} :kernel

	.data : AT(ADDR(.data) - KERNEL_BASE) ALIGN(16) {
		*(.data .data.*)
	} :kernel

	.bss : AT(ADDR(.bss) - KERNEL_BASE) ALIGN(16) {
		*(.bss .bss.*)
		*(COMMON)
	} :kernel

	. = ALIGN(4096);
	__kernel_end = .;

	/* paging.c maps the image's first 4 MiB page by page, and entry.S's boot directory
	 * must reach all of it. */
	ASSERT(__kernel_end - KERNEL_BASE <= 0x400000, "the kernel image must end below 4 MiB")
	ASSERT(SIZEOF(.user_text) > 0 && vmi_native_rom >= __user_text_start &&
	       vmi_native_rom < __user_data_start && vmi_link_table >= __user_text_start &&
	       vmi_link_table < __user_data_start, "user text: the native ROM and link table")

	/DISCARD/ : {
		*(.comment)
		*(.note*)
		*(.eh_frame .eh_frame_hdr)
	}
}
