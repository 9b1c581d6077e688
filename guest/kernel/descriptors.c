/* GDT, TSS and IDT, built in memory and loaded through the SDK (WriteGDTEntry, SetGDT, SetTR,
 * WriteIDTEntry, SetIDT, UpdateKernelStack): the same code on a PC and under vmirun, where
 * the hypervisor validates and shadows them. */
#include "console.h"
#include "descriptors.h"
#include "kernel.h"
#include <vmi/cpu.h>
#include <vmi/init.h>

#define SEGMENT_FLAT_CODE  0x00CF9A00u   /* high dword: present, code, 4 GiB, 32-bit */
#define SEGMENT_FLAT_DATA  0x00CF9200u
#define SEGMENT_DPL3       0x00006000u
#define SEGMENT_FLAT_LOW   0x0000FFFFu   /* low dword: base 0, limit 0xFFFF (x 4 KiB) */
#define TSS_AVAILABLE      0x8900u       /* present, 32-bit TSS, not busy */
#define GATE_INTERRUPT32   0x8E00u       /* present 32-bit interrupt gate: clears IF */
#define GATE_DPL3          0x6000u
#define MSR_SYSENTER_CS    0x174

extern const uint32_t trap_entry_table[IDT_VECTORS];   /* entry.S; 0 where no gate */

struct tss kernel_tss;
uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t idt[IDT_VECTORS] __attribute__((aligned(8)));
struct vmi_pseudo_descriptor gdt_pseudo_descriptor, idt_pseudo_descriptor;

static int report(const char *what, uint32_t status)
{
	if (status == 0)
		return 0;
	kprintf("kernel: %s failed (status 0x%x)\n", what, status);
	return -1;
}

static uint32_t write_gdt(unsigned index, uint32_t low, uint32_t high)
{
	return vmi_write_gdt_entry(gdt, index, low, high);
}

static int build_gdt(void)
{
	uint32_t tss_base = (uint32_t)(uintptr_t)&kernel_tss;
	uint32_t tss_limit = sizeof(kernel_tss) - 1;
	uint32_t status = write_gdt(0, 0, 0);
	status |= write_gdt(GDT_KERNEL_CODE, SEGMENT_FLAT_LOW, SEGMENT_FLAT_CODE);
	status |= write_gdt(GDT_KERNEL_DATA, SEGMENT_FLAT_LOW, SEGMENT_FLAT_DATA);
	status |= write_gdt(GDT_USER_CODE, SEGMENT_FLAT_LOW, SEGMENT_FLAT_CODE | SEGMENT_DPL3);
	status |= write_gdt(GDT_USER_DATA, SEGMENT_FLAT_LOW, SEGMENT_FLAT_DATA | SEGMENT_DPL3);
	status |= write_gdt(GDT_TSS, (tss_base << 16) | (tss_limit & 0xFFFF),
	                    (tss_base & 0xFF000000) | ((tss_base >> 16) & 0xFF) | TSS_AVAILABLE |
	                        (tss_limit & 0xF0000));
	return report("WriteGDTEntry", status);
}

/* Our own selectors, on a CPU that runs us in ring 0 or on vmirun's trap-and-emulate path.
 * The far jump reloads CS (emulated when deprivileged). Data segments are loaded only in a
 * real ring 0: in ring 3 our selector numbers would name the host's segments. DS and ES
 * hold the user data segment (flat, DPL 3, usable in ring 0 too), as Linux/i386 did, so an
 * IRET to user mode never finds a kernel-only segment in them. */
static void load_own_selectors(void)
{
	__asm__ volatile("ljmp %[code], $1f\n1:" : : [code] "i"(SELECTOR(GDT_KERNEL_CODE, 0)));
	if (platform.hardware_ring != 0)
		return;
	uint16_t stack = SELECTOR(GDT_KERNEL_DATA, 0), data = platform.user_ds;
	__asm__ volatile("movw %0, %%ss\n\t"
	                 "movw %1, %%ds\n\t"
	                 "movw %1, %%es\n\t"
	                 "movw %1, %%fs\n\t"
	                 "movw %1, %%gs"
	                 : : "r"(stack), "r"(data) : "memory");
}

static int build_idt(void)
{
	uint32_t status = 0;
	for (unsigned vector = 0; vector < IDT_VECTORS; vector++) {
		uint32_t handler = trap_entry_table[vector];
		if (!handler) {
			status |= vmi_write_idt_entry(idt, vector, 0, 0);
			continue;
		}
		/* User mode may raise only the breakpoint and the system call itself. */
		uint32_t dpl = (vector == VECTOR_BREAKPOINT || vector == VMI_SYSCALL_VECTOR) ? GATE_DPL3 : 0;
		status |= vmi_write_idt_entry(idt, vector, (uint32_t)platform.kernel_cs << 16 | (handler & 0xFFFF),
		                              (handler & 0xFFFF0000) | GATE_INTERRUPT32 | dpl);
	}
	return report("WriteIDTEntry", status);
}

/* SYSEXIT takes user CS and SS from IA32_SYSENTER_CS (+16, +24): a CPU needs it set, even
 * for SYSEXIT alone. A hypervisor's SYSEXIT call does not (and refuses the MSR). */
static void set_sysenter_selector(void)
{
	if (!platform.native_rom || platform.hardware_ring != 0)
		return;
	uint32_t status = vmi_wrmsr(MSR_SYSENTER_CS, SELECTOR(GDT_KERNEL_CODE, 0));
	if (status != 0)
		kprintf("kernel: WRMSR(IA32_SYSENTER_CS) failed: 0x%x\n", status);
}

int descriptors_init(void)
{
	memset(&kernel_tss, 0, sizeof(kernel_tss));
	kernel_tss.ss0 = SELECTOR(GDT_KERNEL_DATA, 0);
	kernel_tss.io_map_base = sizeof(kernel_tss);   /* no I/O bitmap: ports need IOPL */
	if (build_gdt() != 0)
		return -1;
	gdt_pseudo_descriptor.limit = sizeof(gdt) - 1;
	gdt_pseudo_descriptor.base = (uint32_t)(uintptr_t)gdt;
	if (report("SetGDT", vmi_set_gdt(&gdt_pseudo_descriptor)) != 0)
		return -1;
	if (platform.vmi->info.kernel_cs == VMI_INIT_SELECTOR_OWN)
		load_own_selectors();
	if (report("SetTR", vmi_set_tr(SELECTOR(GDT_TSS, 0))) != 0)
		return -1;
	set_sysenter_selector();

	/* Every gate is written before SetIDT: a hypervisor may read the table only then. */
	if (build_idt() != 0)
		return -1;
	idt_pseudo_descriptor.limit = sizeof(idt) - 1;
	idt_pseudo_descriptor.base = (uint32_t)(uintptr_t)idt;
	return report("SetIDT", vmi_set_idt(&idt_pseudo_descriptor));
}

void descriptors_set_kernel_stack(uint32_t esp0)
{
	uint32_t status = vmi_update_kernel_stack(&kernel_tss, esp0);
	if (status != 0) {
		kprintf("kernel: UpdateKernelStack(0x%x) failed (status 0x%x)\n", esp0, status);
		panic("cannot set the kernel stack");
	}
}
