/* Virtual GDT, IDT, LDT and TR. The hardware keeps running on the host's own tables; these
 * are the guest's, kept as validated shadows so interrupt delivery and selector checks never
 * trust guest memory the guest could change behind the monitor's back. */
#include <vmi/calls.h>
#include <vmi/cpu.h>
#include "monitor/descriptors.h"
#include "monitor/guest_access.h"
#include "monitor/virtual_cpu.h"

#define DESC_PRESENT      (1u << 15)
#define DESC_SEGMENT      (1u << 12)     /* S: code or data, not system */
#define DESC_TYPE(high)   (((high) >> 8) & 0xF)
#define DESC_DPL(high)    (((high) >> 13) & 3)
#define GATE_TASK         0x5
#define GATE_INTERRUPT32  0xE
#define GATE_TRAP32       0xF
#define SYSTEM_LDT        0x2
#define SYSTEM_TSS32      0x9
#define SYSTEM_TSS32_BUSY 0xB
#define VECTOR_NP         11
#define VECTOR_GP         13

static uint32_t gate_handler(uint32_t low, uint32_t high)
{
	return (low & 0xFFFF) | (high & 0xFFFF0000);
}

static struct virtual_gate gate_from(uint32_t low, uint32_t high)
{
	struct virtual_gate gate = {
		.handler = gate_handler(low, high),
		.selector = (uint16_t)(low >> 16),
		.present = (high & DESC_PRESENT) != 0,
		.dpl = (uint8_t)DESC_DPL(high),
		.trap_gate = DESC_TYPE(high) == GATE_TRAP32,
		.task_gate = DESC_TYPE(high) == GATE_TASK,
	};
	return gate;
}

static uint32_t segment_base(uint64_t descriptor)
{
	uint32_t low = (uint32_t)descriptor, high = (uint32_t)(descriptor >> 32);
	return (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF000000);
}

int descriptors_valid_gate(uint32_t low, uint32_t high)
{
	if (!(high & DESC_PRESENT))
		return 0; /* clearing a gate is always allowed */
	if (high & DESC_SEGMENT)
		return -1;
	/* A task gate may sit in the IDT (Linux puts #DF behind one); taking it stops the
	 * guest, since vmirun switches no hardware tasks (virtual_cpu_deliver). */
	if (DESC_TYPE(high) == GATE_TASK)
		return 0;
	if (DESC_TYPE(high) != GATE_INTERRUPT32 && DESC_TYPE(high) != GATE_TRAP32)
		return -1; /* 16-bit gates are not supported */
	uint16_t selector = (uint16_t)(low >> 16);
	if ((selector & 0xFFFC) == 0 || (selector & 4))
		return -1; /* a null or LDT code selector can never be the kernel's */
	if (!guest_accessible(gate_handler(low, high), 1, 0))
		return -1; /* the handler must be guest code */
	return 0;
}

int descriptors_valid_segment(uint32_t low, uint32_t high)
{
	(void)low;
	if (!(high & DESC_PRESENT) || (high & DESC_SEGMENT))
		return 0; /* code and data segments: the hardware uses the host's anyway */
	switch (DESC_TYPE(high)) {
	case SYSTEM_LDT:
	case SYSTEM_TSS32:
	case SYSTEM_TSS32_BUSY:
		return 0;
	default:
		return -1; /* call, task and interrupt gates, 16-bit system types */
	}
}

static int read_pseudo_descriptor(uint32_t address, uint16_t *limit, uint32_t *base)
{
	uint8_t bytes[6];
	if (guest_read(address, bytes, sizeof(bytes)) != 0)
		return -1;
	*limit = (uint16_t)(bytes[0] | bytes[1] << 8);
	*base = (uint32_t)bytes[2] | (uint32_t)bytes[3] << 8 | (uint32_t)bytes[4] << 16 |
	        (uint32_t)bytes[5] << 24;
	return 0;
}

static int write_pseudo_descriptor(uint32_t address, uint16_t limit, uint32_t base)
{
	uint8_t bytes[6] = { (uint8_t)limit, (uint8_t)(limit >> 8), (uint8_t)base,
	                     (uint8_t)(base >> 8), (uint8_t)(base >> 16), (uint8_t)(base >> 24) };
	return guest_write(address, bytes, sizeof(bytes));
}

static int read_entry(uint32_t table, uint32_t index, uint32_t *low, uint32_t *high)
{
	uint32_t address = table + index * 8;
	if (address < table)
		return -1;
	return guest_read32(address, low) || guest_read32(address + 4, high) ? -1 : 0;
}

static unsigned idt_entries(uint16_t limit)
{
	unsigned entries = ((unsigned)limit + 1) / 8;
	return entries < VIRTUAL_IDT_ENTRIES ? entries : VIRTUAL_IDT_ENTRIES;
}

/* The shadow of a newly loaded IDT holds its valid gates; the others read as not present
 * until the guest makes them valid (descriptors_idt_gate). */
static void install_idt(uint32_t base, uint16_t limit)
{
	for (unsigned i = 0; i < VIRTUAL_IDT_ENTRIES; i++) {
		uint32_t low, high;
		struct virtual_gate gate = { 0 };
		if (i < idt_entries(limit) && read_entry(base, i, &low, &high) == 0 &&
		    descriptors_valid_gate(low, high) == 0)
			gate = gate_from(low, high);
		virtual_cpu.idt[i] = gate;
	}
	virtual_cpu.idt_base = base;
	virtual_cpu.idt_limit = limit;
	virtual_cpu_publish_syscall_entry();
}

uint32_t descriptors_set_idt(uint32_t pseudo_descriptor)
{
	uint16_t limit;
	uint32_t base;

	if (read_pseudo_descriptor(pseudo_descriptor, &limit, &base) != 0)
		return VMI_ERROR_INVALID;
	for (unsigned i = 0; i < idt_entries(limit); i++) {
		uint32_t low, high;
		if (read_entry(base, i, &low, &high) != 0 || descriptors_valid_gate(low, high) != 0)
			return VMI_ERROR_INVALID;
	}
	install_idt(base, limit);
	return 0;
}

int descriptors_idt_gate(unsigned vector, struct virtual_gate *gate)
{
	uint32_t low, high;
	vector &= 0xFF;
	if (vector * 8 + 7 > virtual_cpu.idt_limit)
		return -1;
	if (read_entry(virtual_cpu.idt_base, vector, &low, &high) == 0 &&
	    descriptors_valid_gate(low, high) == 0)
		virtual_cpu.idt[vector] = gate_from(low, high);
	*gate = virtual_cpu.idt[vector];
	return gate->present ? 0 : -1;
}

uint32_t descriptors_write_idt_entry(uint32_t table, uint32_t index, uint32_t low, uint32_t high)
{
	if (index >= VIRTUAL_IDT_ENTRIES || descriptors_valid_gate(low, high) != 0)
		return VMI_ERROR_INVALID;
	uint32_t entry[2] = { low, high };
	if (guest_write(table + index * 8, entry, sizeof(entry)) != 0)
		return VMI_ERROR_INVALID;
	if (table == virtual_cpu.idt_base) {
		virtual_cpu.idt[index] = gate_from(low, high);
		virtual_cpu_publish_syscall_entry();
	}
	return 0;
}

/* The GDT's shadow is only a copy: every use reads the entry again (descriptors_gdt_entry). */
static void install_gdt(uint32_t base, uint16_t limit)
{
	unsigned entries = ((unsigned)limit + 1) / 8;
	for (unsigned i = 0; i < VIRTUAL_GDT_ENTRIES; i++) {
		uint32_t low = 0, high = 0;
		if (i < entries)
			read_entry(base, i, &low, &high);
		virtual_cpu.gdt[i] = (uint64_t)high << 32 | low;
	}
	virtual_cpu.gdt_base = base;
	virtual_cpu.gdt_limit = limit;
}

uint32_t descriptors_set_gdt(uint32_t pseudo_descriptor)
{
	uint16_t limit;
	uint32_t base;

	if (read_pseudo_descriptor(pseudo_descriptor, &limit, &base) != 0)
		return VMI_ERROR_INVALID;
	unsigned entries = ((unsigned)limit + 1) / 8;
	for (unsigned i = 0; i < entries; i++) {
		uint32_t low, high;
		if (read_entry(base, i, &low, &high) != 0 || descriptors_valid_segment(low, high) != 0)
			return VMI_ERROR_INVALID;
	}
	install_gdt(base, limit);
	return 0;
}

int descriptors_load_table_register(enum descriptor_table table, uint32_t pseudo_descriptor,
                                    uint32_t base_mask)
{
	uint16_t limit;
	uint32_t base;

	if (read_pseudo_descriptor(pseudo_descriptor, &limit, &base) != 0)
		return -1;
	if (table == DESCRIPTOR_GDT)
		install_gdt(base & base_mask, limit);
	else
		install_idt(base & base_mask, limit);
	return 0;
}

int descriptors_store_table_register(enum descriptor_table table, uint32_t pseudo_descriptor,
                                     uint32_t base_mask)
{
	if (table == DESCRIPTOR_GDT)
		return write_pseudo_descriptor(pseudo_descriptor, virtual_cpu.gdt_limit,
		                               virtual_cpu.gdt_base & base_mask);
	return write_pseudo_descriptor(pseudo_descriptor, virtual_cpu.idt_limit,
	                               virtual_cpu.idt_base & base_mask);
}

static uint32_t write_segment_entry(uint32_t table, uint32_t index, uint32_t low, uint32_t high,
                                    int is_gdt)
{
	if (index >= VIRTUAL_GDT_ENTRIES || descriptors_valid_segment(low, high) != 0)
		return VMI_ERROR_INVALID;
	uint32_t entry[2] = { low, high };
	if (guest_write(table + index * 8, entry, sizeof(entry)) != 0)
		return VMI_ERROR_INVALID;
	if (is_gdt && table == virtual_cpu.gdt_base)
		virtual_cpu.gdt[index] = (uint64_t)high << 32 | low;
	return 0;
}

uint32_t descriptors_write_gdt_entry(uint32_t table, uint32_t index, uint32_t low, uint32_t high)
{
	return write_segment_entry(table, index, low, high, 1);
}

uint32_t descriptors_write_ldt_entry(uint32_t table, uint32_t index, uint32_t low, uint32_t high)
{
	/* LDTs hold no system descriptors at all. */
	if ((high & DESC_PRESENT) && !(high & DESC_SEGMENT))
		return VMI_ERROR_INVALID;
	return write_segment_entry(table, index, low, high, 0);
}

uint32_t descriptors_get_gdt(uint32_t pseudo_descriptor)
{
	return descriptors_store_table_register(DESCRIPTOR_GDT, pseudo_descriptor, ~0u) == 0
	               ? 0 : VMI_ERROR_INVALID;
}

uint32_t descriptors_get_idt(uint32_t pseudo_descriptor)
{
	return descriptors_store_table_register(DESCRIPTOR_IDT, pseudo_descriptor, ~0u) == 0
	               ? 0 : VMI_ERROR_INVALID;
}

int descriptors_gdt_entry(uint32_t selector, uint64_t *descriptor)
{
	unsigned index = (selector & 0xFFFF) >> 3;
	uint32_t low, high;
	if ((selector & 4) || index * 8 + 7 > virtual_cpu.gdt_limit ||
	    index >= VIRTUAL_GDT_ENTRIES || read_entry(virtual_cpu.gdt_base, index, &low, &high) != 0)
		return -1;
	virtual_cpu.gdt[index] = (uint64_t)high << 32 | low;
	*descriptor = virtual_cpu.gdt[index];
	return 0;
}

static int refuse(struct descriptor_fault *fault, unsigned vector, uint32_t error_code)
{
	fault->vector = vector;
	fault->error_code = error_code;
	return -1;
}

/* The system descriptor of type `type` that a non-null selector names, checked in the CPU's
 * order: in the GDT and of that type, else #GP(selector); present, else #NP(selector). */
static int system_descriptor(uint32_t selector, unsigned type, uint64_t *descriptor,
                             struct descriptor_fault *fault)
{
	uint32_t error_code = selector & 0xFFFC; /* the RPL's bits carry EXT and IDT instead */
	if (descriptors_gdt_entry(selector, descriptor) != 0)
		return refuse(fault, VECTOR_GP, error_code);
	uint32_t high = (uint32_t)(*descriptor >> 32);
	if ((high & DESC_SEGMENT) || DESC_TYPE(high) != type)
		return refuse(fault, VECTOR_GP, error_code);
	if (!(high & DESC_PRESENT))
		return refuse(fault, VECTOR_NP, error_code);
	return 0;
}

int descriptors_load_ldt(uint32_t selector, struct descriptor_fault *fault)
{
	uint64_t descriptor;
	selector &= 0xFFFF; /* lldt takes 16 bits; the call's EAX may carry more */
	if ((selector & 0xFFFC) == 0) {
		virtual_cpu.ldt_selector = 0;
		return 0;
	}
	if (system_descriptor(selector, SYSTEM_LDT, &descriptor, fault) != 0)
		return -1;
	virtual_cpu.ldt_selector = (uint16_t)selector;
	return 0;
}

int descriptors_load_tr(uint32_t selector, struct descriptor_fault *fault)
{
	uint64_t descriptor;
	selector &= 0xFFFF; /* ltr takes 16 bits; the call's EAX may carry more */
	if ((selector & 0xFFFC) == 0)
		return refuse(fault, VECTOR_GP, 0);
	/* a busy TSS cannot be loaded again, as on hardware */
	if (system_descriptor(selector, SYSTEM_TSS32, &descriptor, fault) != 0)
		return -1;
	unsigned index = selector >> 3;
	virtual_cpu.gdt[index] |= (uint64_t)(SYSTEM_TSS32_BUSY ^ SYSTEM_TSS32) << 40;
	uint32_t busy_high = (uint32_t)(virtual_cpu.gdt[index] >> 32);
	guest_write32(virtual_cpu.gdt_base + index * 8 + 4, busy_high);
	virtual_cpu.tr_selector = (uint16_t)selector;
	/* The TSS itself need not be memory yet, as on the CPU: each entry from user mode
	 * reads esp0 from it again (virtual_cpu_deliver). */
	virtual_cpu.tss_base = segment_base(descriptor);
	virtual_cpu_publish_syscall_entry();
	uint32_t esp0;
	if (guest_read32(virtual_cpu.tss_base + VMI_TSS_ESP0, &esp0) == 0)
		virtual_cpu.esp0 = esp0;
	return 0;
}

uint32_t descriptors_set_ldt(uint32_t selector)
{
	struct descriptor_fault fault;
	return descriptors_load_ldt(selector, &fault) == 0 ? 0 : VMI_ERROR_INVALID;
}

uint32_t descriptors_set_tr(uint32_t selector)
{
	struct descriptor_fault fault;
	return descriptors_load_tr(selector, &fault) == 0 ? 0 : VMI_ERROR_INVALID;
}

uint32_t descriptors_update_kernel_stack(uint32_t tss, uint32_t esp0)
{
	if (!guest_accessible(esp0 - 20, 20, 1))
		return VMI_ERROR_INVALID; /* an interrupt frame from user mode must fit below it */
	guest_write32(tss + VMI_TSS_ESP0, esp0); /* the guest's own TSS, if it is memory */
	virtual_cpu.esp0 = esp0;
	return 0;
}
