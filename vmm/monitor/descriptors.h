/* The virtual descriptor tables (GDT, IDT, LDT, TR) and kernel stack: the guest's calls,
 * with every descriptor validated before the monitor believes it. */
#ifndef VMM_MONITOR_DESCRIPTORS_H
#define VMM_MONITOR_DESCRIPTORS_H

#include <stdint.h>

/* An exception an instruction raises, as the CPU would raise it. */
struct descriptor_fault {
	unsigned vector;
	uint32_t error_code;
};

/* Each returns 0 or VMI_ERROR_INVALID, as the calls do (docs/abi.md). The Set calls check
 * every entry of the table; SetLDT and SetTR are lldt and ltr below, any fault INVALID. */
uint32_t descriptors_set_gdt(uint32_t pseudo_descriptor);
uint32_t descriptors_set_idt(uint32_t pseudo_descriptor);
uint32_t descriptors_get_gdt(uint32_t pseudo_descriptor);
uint32_t descriptors_get_idt(uint32_t pseudo_descriptor);
uint32_t descriptors_set_ldt(uint32_t selector);
uint32_t descriptors_set_tr(uint32_t selector);
uint32_t descriptors_write_gdt_entry(uint32_t table, uint32_t index, uint32_t low, uint32_t high);
uint32_t descriptors_write_ldt_entry(uint32_t table, uint32_t index, uint32_t low, uint32_t high);
uint32_t descriptors_write_idt_entry(uint32_t table, uint32_t index, uint32_t low, uint32_t high);
uint32_t descriptors_update_kernel_stack(uint32_t tss, uint32_t esp0);

/* lldt and ltr as the CPU runs them: 0, or -1 with the fault: #GP(selector) for a selector
 * outside the GDT or a descriptor of another type (a busy TSS too), #NP(selector) for one
 * not present, #GP(0) for a null TSS selector (a null LDT selector empties LDTR). ltr marks
 * the TSS busy and takes esp0 from it if it is memory. */
int descriptors_load_ldt(uint32_t selector, struct descriptor_fault *fault);
int descriptors_load_tr(uint32_t selector, struct descriptor_fault *fault);

/* lgdt/lidt and sgdt/sidt: the 6-byte pseudo-descriptor at a guest address, its base
 * masked by `base_mask` (a 16-bit operand keeps 24 bits). A load takes the table as the CPU
 * does, without looking at its entries (each is checked where it is used); the IDT's shadow
 * keeps only its valid gates. 0, or -1 if the pseudo-descriptor is not guest memory. */
enum descriptor_table { DESCRIPTOR_GDT, DESCRIPTOR_IDT };
int descriptors_load_table_register(enum descriptor_table table, uint32_t pseudo_descriptor,
                                    uint32_t base_mask);
int descriptors_store_table_register(enum descriptor_table table, uint32_t pseudo_descriptor,
                                     uint32_t base_mask);

/* Pure checks, for tests: 0 if the descriptor may be installed. */
int descriptors_valid_gate(uint32_t low, uint32_t high);
int descriptors_valid_segment(uint32_t low, uint32_t high);
/* The IDT gate of `vector`, as the CPU reads it: from guest memory at each delivery (a
 * kernel without the ROM writes its IDT directly; an entry it made invalid keeps the last
 * valid one). 0 if it is present, else -1. */
struct virtual_gate;
int descriptors_idt_gate(unsigned vector, struct virtual_gate *gate);
/* The GDT entry `selector` names, as the CPU reads it: from guest memory at each use (a
 * kernel without the ROM writes its GDT directly), remembered in virtual_cpu.gdt. 0, or -1
 * for an LDT selector, one past the limit, or memory the guest cannot read. */
int descriptors_gdt_entry(uint32_t selector, uint64_t *descriptor);

#endif
