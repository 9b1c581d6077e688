/* Descriptor tables: the GDT (ours, used where Init says so), the TSS that holds the kernel
 * stack for entries from user mode, and the IDT, all set through the SDK's descriptor calls. */
#ifndef KERNEL_DESCRIPTORS_H
#define KERNEL_DESCRIPTORS_H

#include <stdint.h>

#include "vmiguest.h"
#include <vmi/cpu.h>

/* Gates for vectors 0..IDT_VECTORS-1 only: the IDT's limit ends at the system-call gate, so
 * `int n` above it is a #GP(n*8+2) on every platform (a not-present gate inside the limit
 * would be #NP on a real CPU). */
#define IDT_VECTORS          (VMI_SYSCALL_VECTOR + 1)
#define VECTOR_DIVIDE        0
#define VECTOR_BREAKPOINT    3
#define VECTOR_INVALID_OPCODE 6
#define VECTOR_GENERAL_PROTECTION 13
#define VECTOR_PAGE_FAULT    14
#define VECTOR_IRQ_BASE      0x20   /* IRQ0-15 after remapping the PICs; vmirun's alarms */
#define VECTOR_IRQ_COUNT     16

/* The hardware 32-bit TSS; only esp0/ss0 and the I/O map base matter here. */
struct tss {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, io_map_base;
} __attribute__((packed));

extern struct tss kernel_tss;
/* What SetGDT and SetIDT were given, for the self-tests to compare with GetGDT/GetIDT. */
extern struct vmi_pseudo_descriptor gdt_pseudo_descriptor, idt_pseudo_descriptor;
extern uint64_t gdt[];

/* Builds and loads the GDT, TSS and IDT; loads our own selectors where Init says so.
 * Returns 0, or prints what failed and returns -1. */
int descriptors_init(void);

/* The stack the CPU (or vmirun) switches to on an entry from user mode. */
void descriptors_set_kernel_stack(uint32_t esp0);

#endif
