/* The virtual CPU the monitor makes out of the deprivileged guest: what it sees as its
 * privilege level, interrupt flag, descriptor tables, control registers and pending
 * interrupts. The interrupt flag and pending summary live in the shared vCPU page, where the
 * ROM reads and writes them directly; the rest lives here, out of the guest's reach. */
#ifndef VMM_MONITOR_VIRTUAL_CPU_H
#define VMM_MONITOR_VIRTUAL_CPU_H

#include <stdint.h>
#include <vmi/process.h>
#include <vmi/vcpu_page.h>
#include "vcpu/vcpu.h"

#define VIRTUAL_IDT_ENTRIES 256
#define VIRTUAL_GDT_ENTRIES 8192

/* A gate the guest installed, validated when it was written. */
struct virtual_gate {
	uint32_t handler;
	uint16_t selector;     /* the guest's kernel code selector, pushed in kernel frames */
	uint8_t present;
	uint8_t dpl;
	uint8_t trap_gate;     /* a trap gate leaves the virtual IF as it was */
};

struct virtual_cpu {
	unsigned cpl;          /* 0: guest kernel, 3: guest user */
	uint32_t idt_base;
	uint16_t idt_limit;
	struct virtual_gate idt[VIRTUAL_IDT_ENTRIES];
	uint32_t gdt_base;
	uint16_t gdt_limit;
	uint64_t gdt[VIRTUAL_GDT_ENTRIES];
	uint16_t ldt_selector;
	uint16_t tr_selector;
	uint32_t tss_base;
	uint32_t esp0;         /* the guest kernel stack for entries from user mode */
	uint16_t cs;           /* the code selector the guest believes it runs on (never loaded) */
	uint16_t user_ss;      /* the stack selector it last returned to user mode with */
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t pending[VIRTUAL_IDT_ENTRIES / 32];
	uint64_t interrupts_delivered;
};

extern struct virtual_cpu virtual_cpu;

/* The page the ROM shares with the monitor, at VMI_PROCESS_VCPU_PAGE. */
struct vmi_vcpu_page *virtual_cpu_shared(void);


void virtual_cpu_reset(void);

int virtual_cpu_interrupts_enabled(void);
void virtual_cpu_set_interrupts_enabled(int enabled);

/* Marks `vector` pending (from a signal handler too). */
void virtual_cpu_raise(unsigned vector);

/* The highest pending vector, or -1. */
int virtual_cpu_highest_pending(void);

/* Delivers `vector` to the guest whose state is `regs` (a plain state: eip is where the
 * guest continues): pushes the frame (switching to the kernel stack from user mode), clears
 * the virtual IF for interrupt gates and points regs at the handler. `error_code` < 0 for
 * none. `software_length` is 0 for interrupts and exceptions, else the length of the
 * instruction that asked for it (int n, the fast system-call far call): its gate must allow
 * the current virtual ring, and a refusal (#GP) points back at it. A guest that cannot take
 * the vector (no gate for #GP, unusable stack) is stopped with the reason. */
void virtual_cpu_deliver(struct vcpu_regs *regs, unsigned vector, int64_t error_code,
                         unsigned software_length);

/* Returns from an interrupt through the iret frame at guest address `frame`: to the same
 * virtual ring (eip, cs, eflags) or to user mode (esp and ss too), restoring the virtual IF
 * from the popped flags. The popped cs's RPL says which ring (the hardware never loads it).
 * 0, or -1 for an RPL of 1 or 2 or a null cs (the caller raises #GP). A frame outside guest
 * memory stops the guest. */
int virtual_cpu_iret(struct vcpu_regs *regs, uint32_t frame);

/* With the virtual IF set, delivers the highest pending interrupt; 1 if it did. One at a
 * time: the next waits until the handler lets interrupts in again. */
int virtual_cpu_deliver_pending(struct vcpu_regs *regs);

#endif
