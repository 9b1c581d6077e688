/* Linker script for the flat ROM images: the ROM's one section at VMI_ROM_BASE, nothing
 * else. Preprocessed by rom/rom.mk so the address comes from include/vmi/process.h. */
#include <vmi/pc.h>

OUTPUT_FORMAT("elf32-i386")
OUTPUT_ARCH(i386)

SECTIONS
{
	. = VMI_ROM_BASE;
	.rom : {
		KEEP(*(.text.vmi_*rom))
	}
	/* Empty by construction: code or data outside the ROM section fails the link. */
	.text : { *(.text) }
	.data : { *(.data) }
	.bss : { *(.bss) }
	ASSERT(SIZEOF(.text) + SIZEOF(.data) + SIZEOF(.bss) == 0, "code or data outside the ROM")
	/DISCARD/ : {
		*(.note.GNU-stack)
		*(.comment)
		*(.debug*)
	}
}
