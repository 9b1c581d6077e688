/* The process platform (vmirun): where the guest finds the hypercall entry and the shared
 * vCPU page, and which selectors it runs with. Freestanding; shared by vmirun and guests. */
#ifndef VMI_PROCESS_H
#define VMI_PROCESS_H

/* Selectors of the host's (Linux x86-64) GDT the guest runs on: 32-bit flat code and data
 * (hardware ring 3), and the 64-bit code selector the hypercall far call targets. */
#define VMI_PROCESS_CODE32_SELECTOR  0x23
#define VMI_PROCESS_DATA_SELECTOR    0x2b
#define VMI_PROCESS_CODE64_SELECTOR  0x33

/* The selectors the guest sees (Init reports them; interrupt frames carry them): the real
 * ones with the virtual privilege level in the RPL bits. Every one of them loads in ring 3
 * (a data load only needs DPL 3), so a kernel can use them as its own. */
#define VMI_PROCESS_KERNEL_CS        0x20
#define VMI_PROCESS_KERNEL_DS        0x28
#define VMI_PROCESS_USER_CS          0x23
#define VMI_PROCESS_USER_DS          0x2b

/* The top of the low 4 GiB belongs to vmirun; the guest must leave it alone. */
#define VMI_PROCESS_WINDOW_BASE      0xFFFF0000
#define VMI_PROCESS_WINDOW_SIZE      0x00010000

/* Hypercall entry: `lcall $VMI_PROCESS_CODE64_SELECTOR, $VMI_PROCESS_HYPERCALL_ENTRY(N)`
 * enters vmirun for VMI call N with the guest's registers as the call's arguments
 * (regparm(3): eax, edx, ecx); the result comes back in eax (edx:eax for 64 bits). */
#define VMI_PROCESS_HYPERCALL_PAGE   VMI_PROCESS_WINDOW_BASE
#define VMI_PROCESS_HYPERCALL_STRIDE 16
#define VMI_PROCESS_HYPERCALL_ENTRY(n) \
	(VMI_PROCESS_HYPERCALL_PAGE + (n) * VMI_PROCESS_HYPERCALL_STRIDE)

/* The shared per-vCPU page, read and written by the ROM directly. */
#define VMI_PROCESS_VCPU_PAGE        (VMI_PROCESS_WINDOW_BASE + 0x1000)

/* Guest memory: RAM starts at 1 MiB; low memory from 64 KiB (a process cannot map below)
 * to 0x9FC00. vmirun places the multiboot information and the boot stack there. */
#define VMI_PROCESS_LOW_RAM_BASE     0x00010000
#define VMI_PROCESS_LOW_RAM_END      0x0009FC00
#define VMI_PROCESS_RAM_BASE         0x00100000
#define VMI_PROCESS_BOOT_INFO_BASE   0x00010000
#define VMI_PROCESS_BOOT_INFO_SIZE   0x00010000  /* reserved in the memory map */
#define VMI_PROCESS_BOOT_STACK_TOP   0x00020000  /* grows down into the top of the info area */

/* The multiboot boot-loader name vmirun passes; a guest without a ROM may check it. */
#define VMI_PROCESS_LOADER_NAME      "vmirun"

#endif
