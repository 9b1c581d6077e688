/* vmi_link_table: where every SDK site's table call goes. Statically filled with the native
 * ROM's stubs (call N at vmi_native_rom + N*32), so sites work before anything is linked. */
#include <vmi/calls.h>
#include <vmi/rom.h>

	.data
	.balign 4
	.globl vmi_link_table
	.type vmi_link_table, @object
vmi_link_table:
	/* Slots 0-3 are the ROM header: nothing to call there. */
	.fill VMI_CALL_FIRST, 4, 0
	.set call_number, VMI_CALL_FIRST
	.rept VMI_CALL_COUNT - VMI_CALL_FIRST
	.long vmi_native_rom + call_number * VMI_ROM_SLOT_SIZE
	.set call_number, call_number + 1
	.endr
	.size vmi_link_table, . - vmi_link_table

	.section .note.GNU-stack, "", @progbits
