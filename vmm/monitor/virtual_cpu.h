/* The virtual CPU the monitor makes out of the deprivileged guest: what it sees as its
 * privilege level, interrupt flag, descriptor tables, control registers and pending
 * interrupts. The interrupt flag, pending summary and virtual ring live in the shared vCPU
 * page, where the ROM reads and writes them directly (it switches rings itself on the fast
 * paths); the rest lives here, out of the guest's reach. */
#ifndef VMM_MONITOR_VIRTUAL_CPU_H
#define VMM_MONITOR_VIRTUAL_CPU_H

#include <stdint.h>
#include <vmi/process.h>
#include <vmi/vcpu_page.h>
#include "platform.h"

#define VIRTUAL_IDT_ENTRIES 256
#define VIRTUAL_GDT_ENTRIES 8192

/* A gate the guest installed, validated when it was written. */
struct virtual_gate {
	uint32_t handler;
	uint16_t selector;     /* the guest's kernel code selector, pushed in kernel frames */
	uint8_t present;
	uint8_t dpl;
	uint8_t trap_gate;     /* a trap gate leaves the virtual IF as it was */
	uint8_t task_gate;     /* a hardware task switch, which vmirun does not do */
};

struct virtual_cpu {
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
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];        /* stored and read back; no breakpoint fires */
	uint32_t pending[VIRTUAL_IDT_ENTRIES / 32];
	uint64_t interrupts_delivered;
};

extern struct virtual_cpu virtual_cpu;

/* The page the ROM shares with the monitor (at VMI_PROCESS_VCPU_PAGE for the guest), once
 * attached through the monitor's own view of it, which stays writable where user mode
 * finds the guest's read-only. */
struct vmi_vcpu_page *virtual_cpu_shared(void);
void virtual_cpu_attach_shared(void);

/* Attaches the shared page (mapped by then) and resets the virtual CPU to boot state. */
void virtual_cpu_reset(void);

/* Boot state, on whichever shared page is attached (host-side tests keep the unattached). */
void virtual_cpu_reset_state(void);

/* Strict isolation (vmirun --isolation=strict, the default): guest user mode runs where it
 * reaches nothing of the kernel's, so every ring switch goes through the monitor (the ROM's
 * own IRET, SYSEXIT and fast system-call entry are turned off in the shared page) and the
 * monitor moves the vCPU between the kernel's and the user's address space of the directory
 * (mmu_ring_entered). Set before virtual_cpu_reset. */
void virtual_cpu_set_user_isolation(int isolated);
int virtual_cpu_user_isolated(void);

/* 1 while user mode runs apart: strict isolation, once the guest pages (without paging
 * nothing of the kernel's is closed to user mode, on a PC either, and the ROM keeps its
 * own ring switches). */
int virtual_cpu_user_apart(void);

/* CR0.PG changed: the ROM's ring switches and fast entry follow virtual_cpu_user_apart. */
void virtual_cpu_paging_changed(void);

/* The virtual ring: 0 (kernel) when the shared code selector's RPL is 0, else 3 (user). */
unsigned virtual_cpu_ring(void);
/* Enters a ring: `cs` is the selector the guest believes it runs on, its RPL the ring. */
void virtual_cpu_set_code_selector(uint16_t cs);

/* Publishes the vector-0x80 gate and the TSS's esp0 for the ROM's fast system-call entry
 * (or withdraws them): after every change to the IDT or the task register. */
void virtual_cpu_publish_syscall_entry(void);

int virtual_cpu_interrupts_enabled(void);
void virtual_cpu_set_interrupts_enabled(int enabled);

/* Marks `vector` pending (from a signal handler too). */
void virtual_cpu_raise(unsigned vector);

/* The highest pending vector, or -1. */
int virtual_cpu_highest_pending(void);

/* Clears the highest pending vector and returns it (-1 if none), leaving the shared page's
 * summary right even when a signal handler raises another meanwhile. */
int virtual_cpu_take_highest_pending(void);

/* Nonzero if the IDT has a present gate for vector, within its limit. */
int virtual_cpu_has_gate(unsigned vector);

/* Delivers `vector` to the guest whose state is `regs` (a plain state: eip is where the
 * guest continues): pushes the frame (switching to the kernel stack from user mode), clears
 * the virtual IF for interrupt gates and points regs at the handler. `error_code` < 0 for
 * none. `software_length` is 0 for interrupts and exceptions, else the length of the
 * instruction that asked for it (int n, the fast system-call far call): its gate must allow
 * the current virtual ring, and a refusal (#GP) points back at it. A guest that cannot take
 * the vector (no gate for #GP, unusable stack) is stopped with the reason
 * (platform_request_stop), its registers then left partly changed. */
void virtual_cpu_deliver(struct guest_regs *regs, unsigned vector, int64_t error_code,
                         unsigned software_length);

/* Returns from an interrupt through the iret frame at guest address `frame`: to the same
 * virtual ring (eip, cs, eflags) or to user mode (esp and ss too), restoring the virtual IF
 * from the popped flags. The popped cs's RPL says which ring (the hardware never loads it).
 * 0, or -1 for an RPL of 1 or 2 or a null cs (the caller raises #GP). A frame outside guest
 * memory stops the guest (platform_request_stop; 0, regs unchanged). */
int virtual_cpu_iret(struct guest_regs *regs, uint32_t frame);

/* With the virtual IF set, delivers the highest pending interrupt; 1 if it did. One at a
 * time: the next waits until the handler lets interrupts in again. */
int virtual_cpu_deliver_pending(struct guest_regs *regs);

#endif
