/* The shape of an SDK call site: reserved lengths and site flags. Usable from C and from
 * assembly, so hand-written entry code emits the same sites as the C wrappers. */
#ifndef VMIGUEST_SITE_H
#define VMIGUEST_SITE_H

/* Reserved bytes per site. Hot sites (the interrupt-flag calls) hold the templates a ROM
 * publishes for them with room to spare (the process ROM's: EnableInterrupts 26 bytes,
 * SetInterruptMask 28, DisableInterrupts 10, GetInterruptMask 5; the native ROM's 1-2);
 * cold sites hold the 6-byte table call, a 5-byte direct call, or a short template (in,
 * out, rdtsc, cpuid, a 7-byte far call). */
#define VMI_SITE_HOT_LENGTH        32
#define VMI_SITE_COLD_LENGTH       8

/* Site flags (struct vmi_site.flags). */
#define VMI_SITE_FLAG_JUMP         0x01  /* `jmp *table` (IRET, SYSEXIT): never called */
#define VMI_SITE_FLAG_STACK_ARGS   0x02  /* arguments on the stack: a template would find
                                            them at another offset than a stub, so never
                                            inline; a direct call is fine */
#define VMI_SITE_FLAGS_KNOWN       0x03

/* The 6-byte indirect call (FF 15 disp32) or jump (FF 25 disp32) through the link table
 * that every site starts as; NOPs fill the rest. */
#define VMI_SITE_TABLE_INSN_LENGTH 6
#define VMI_SITE_MIN_LENGTH        VMI_SITE_TABLE_INSN_LENGTH
#define VMI_SITE_MAX_LENGTH        64

#endif
