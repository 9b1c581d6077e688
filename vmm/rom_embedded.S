/* The default ROM image (rom/process_rom.S, built and sealed), embedded in vmirun so that
 * `vmirun kernel.elf` needs no other file. */
	.section .rodata
	.balign 64
	.globl vmm_default_rom
vmm_default_rom:
	.incbin PROCESS_ROM_PATH
vmm_default_rom_end:
	.balign 4
	.globl vmm_default_rom_size
vmm_default_rom_size:
	.long vmm_default_rom_end - vmm_default_rom

	.section .note.GNU-stack, "", @progbits
