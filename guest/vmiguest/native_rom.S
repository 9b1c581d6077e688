/* The native VMI ROM: the guest's built-in ROM for machines with no hypervisor (a PC, QEMU),
 * laid out exactly like a hypervisor's ROM, whose code is the real instructions, run in
 * ring 0. Linked into guests as ordinary code at `vmi_native_rom`; the build also links a
 * copy at VMI_ROM_BASE as a flat image (build/rom/native_rom.bin) for vmirom to verify. */

#include <vmi/cpu.h>
#include <vmi/init.h>
#include <vmi/mmu.h>
#include <vmi/pc.h>
#include "rom_layout.inc"   /* rom/, on the include path (vmiguest.mk) */

#define KBC_COMMAND     0x64    /* keyboard controller: command port */
#define KBC_PULSE_RESET 0xFE    /* pulse the CPU reset line */
#define POST_PORT       0x80    /* the traditional I/O delay port */

/* ---- inline templates: exactly the instruction the call stands for --------------------- */

.macro t_cpuid
	cpuid
.endm
.macro t_rdmsr
	rdmsr
.endm
.macro t_sldt
	sldt %eax
.endm
.macro t_str
	str %eax
.endm
/* mov from a control register leaves the arithmetic flags undefined. */
.macro t_get_cr0
	movl %cr0, %eax
.endm
.macro t_get_cr2
	movl %cr2, %eax
.endm
.macro t_get_cr3
	movl %cr3, %eax
.endm
.macro t_get_cr4
	movl %cr4, %eax
.endm
.macro t_invd
	invd
.endm
.macro t_wbinvd
	wbinvd
.endm
.macro t_rdpmc
	rdpmc
.endm
.macro t_rdtsc
	rdtsc
.endm
.macro t_clts
	clts
.endm
.macro t_sti
	sti
.endm
.macro t_cli
	cli
.endm
.macro t_save_flags
	pushfl
	popl %eax
.endm
/* popf restores every flag from the saved word, the arithmetic ones included. */
.macro t_restore_flags
	pushl %eax
	popfl
.endm
.macro t_pause
	pause
.endm
.macro t_hlt
	hlt
.endm
.macro t_inl
	inl %dx, %eax
.endm
.macro t_inb
	inb %dx, %al
.endm
.macro t_inw
	inw %dx, %ax
.endm
.macro t_insl
	rep insl
.endm
.macro t_insb
	rep insb
.endm
.macro t_insw
	rep insw
.endm
.macro t_outl
	outl %eax, %dx
.endm
.macro t_outb
	outb %al, %dx
.endm
.macro t_outw
	outw %ax, %dx
.endm
.macro t_outsl
	rep outsl
.endm
.macro t_outsb
	rep outsb
.endm
.macro t_outsw
	rep outsw
.endm
.macro t_syscall
	int $VMI_SYSCALL_VECTOR
.endm
.macro t_io_delay
	outb %al, $POST_PORT
.endm

/* ---- stubs that fit their slot --------------------------------------------------------- */

.macro s_wrmsr
	wrmsr
	movl $0, %eax
	ret
.endm
.macro s_lgdt
	lgdt (%eax)
	movl $0, %eax
	ret
.endm
.macro s_lidt
	lidt (%eax)
	movl $0, %eax
	ret
.endm
.macro s_sgdt
	sgdt (%eax)
	movl $0, %eax
	ret
.endm
.macro s_sidt
	sidt (%eax)
	movl $0, %eax
	ret
.endm
.macro s_lldt
	lldt %ax
	movl $0, %eax
	ret
.endm
.macro s_ltr
	ltr %ax
	movl $0, %eax
	ret
.endm

/* EAX = table base, EDX = index, ECX = low dword, the high dword at 4(%esp) on entry. */
.macro s_write_descriptor
	pushl %ecx
	movl %ecx, (%eax,%edx,8)
	movl 8(%esp), %ecx
	movl %ecx, 4(%eax,%edx,8)
	popl %ecx
	movl $0, %eax
	ret
.endm

/* EAX = TSS, EDX = esp0. */
/* mov to a control register leaves the arithmetic flags undefined. */
.macro s_set_cr0
	movl %eax, %cr0
	movl $0, %eax
	ret
.endm
.macro s_set_cr2
	movl %eax, %cr2
	movl $0, %eax
	ret
.endm
.macro s_set_cr3
	movl %eax, %cr3
	movl $0, %eax
	ret
.endm
.macro s_set_cr4
	movl %eax, %cr4
	movl $0, %eax
	ret
.endm

.macro s_iret
	iret
.endm
/* The kernel runs with interrupts off from sysenter on; sti's one-instruction shadow lets
 * sysexit reach user mode before any interrupt is taken. */
.macro s_sysexit
	sti
	sysexit
.endm

/* Pulse the reset line through the keyboard controller; if that does nothing, load an empty
 * IDT and trap: the triple fault resets the machine. */
.macro s_reboot
	movb $KBC_PULSE_RESET, %al
	outb %al, $KBC_COMMAND
	pushl $0
	pushl $0
	lidt (%esp)
	int3
1:	hlt
	jmp 1b
.endm

/* QEMU's isa-debug-exit ends the run; anywhere else, stop for good. */
.macro s_shutdown
	movl $0, %eax
	outb %al, $VMI_PORT_EXIT
	cli
1:	hlt
	jmp 1b
.endm

.macro s_not_implemented
	movl $VMI_ERROR_NOT_IMPLEMENTED, %eax
	ret
.endm

/* A call with a 64-bit result says "not implemented" in both halves. */
.macro s_not_implemented64
	movl $VMI_ERROR_NOT_IMPLEMENTED, %eax
	movl %eax, %edx
	ret
.endm

/* ---- page tables: the guest's own tables are the hardware's; the hints do nothing ----- */

/* EAX = value, EDX = entry, ECX = flags (no use natively: no TLB entry exists for an entry
 * that was not present, and a changed present one needs InvalPage, as on hardware). */
.macro s_set_pxe
	movl %eax, (%edx)
	movl $0, %eax
	ret
.endm
.macro s_get_pxe
	movl (%eax), %eax
	ret
.endm
/* xchg with memory is locked: the CPU's own A/D updates are not lost. */
.macro s_swap_pxe
	xchgl %eax, (%edx)
	ret
.endm
/* EAX = bit, EDX = entry; EAX = the bit's old value. */
.macro s_test_and_set_pxe_bit
	lock btsl %eax, (%edx)
	sbbl %eax, %eax
	negl %eax
	ret
.endm
.macro s_test_and_clear_pxe_bit
	lock btrl %eax, (%edx)
	sbbl %eax, %eax
	negl %eax
	ret
.endm
.macro s_invlpg
	invlpg (%eax)
	movl $0, %eax
	ret
.endm
/* AllocatePage, ReleasePage, FlushDeferredCalls, SetLinearMapping: hints for a hypervisor;
 * on hardware there is nothing to do. */
.macro s_nothing_to_do
	movl $0, %eax
	ret
.endm

/* ---- bodies longer than a slot --------------------------------------------------------- */

/* EAX = VMI_FLUSH_TLB [| VMI_FLUSH_GLOBAL]: a CR3 reload drops the non-global translations;
 * changing CR4.PGE drops them all (toggled twice, whatever it was). */
.macro b_flush_tlb
	pushl %edx
	movl %cr3, %edx
	movl %edx, %cr3
	testl $VMI_FLUSH_GLOBAL, %eax
	jz 1f
	movl %cr4, %edx
	xorl $VMI_CR4_PGE, %edx
	movl %edx, %cr4
	xorl $VMI_CR4_PGE, %edx
	movl %edx, %cr4
1:	popl %edx
	movl $0, %eax
	ret
.endm

.macro b_init
	VMI_ROM_INIT_BODY VMI_INIT_SELECTOR_OWN, VMI_INIT_SELECTOR_OWN, VMI_INIT_SELECTOR_OWN, \
		VMI_INIT_SELECTOR_OWN, 0, 0, 0, VMI_PLATFORM_NATIVE
.endm

/* A debug register is named by an immediate in the instruction: one compare per register.
 * DR4 and DR5 are refused (they fault once CR4.DE is set). */
.macro b_set_dr
	.irp dr, 0, 1, 2, 3, 6, 7
	cmpl $\dr, %eax
	jne 1f
	movl %edx, %db\dr
	movl $0, %eax
	ret
1:
	.endr
	movl $VMI_ERROR_INVALID, %eax
	ret
.endm

/* GetDR has no error result; an invalid register number reads as 0. */
.macro b_get_dr
	.irp dr, 0, 1, 2, 3, 6, 7
	cmpl $\dr, %eax
	jne 1f
	movl %db\dr, %eax
	ret
1:
	.endr
	movl $0, %eax
	ret
.endm

.macro b_relocation_info
	VMI_ROM_RELOCATION_INFO_BODY
.endm

/* ---- the calls, in order ------------------------------------------------------------------ */

#define F VMI_CLOBBER_FLAGS

.macro native_calls m
	VMI_ROM_CALL_BODY \m, VMI_CALL_Init, F, b_init
	VMI_ROM_INLINE \m, VMI_CALL_CPUID, 0, 0, t_cpuid
	VMI_ROM_CALL \m, VMI_CALL_WRMSR, 0, s_wrmsr
	VMI_ROM_INLINE \m, VMI_CALL_RDMSR, 0, 0, t_rdmsr
	VMI_ROM_CALL \m, VMI_CALL_SetGDT, 0, s_lgdt
	VMI_ROM_CALL \m, VMI_CALL_SetLDT, 0, s_lldt
	VMI_ROM_CALL \m, VMI_CALL_SetIDT, 0, s_lidt
	VMI_ROM_CALL \m, VMI_CALL_SetTR, 0, s_ltr
	VMI_ROM_CALL \m, VMI_CALL_GetGDT, 0, s_sgdt
	VMI_ROM_INLINE \m, VMI_CALL_GetLDT, 0, 0, t_sldt
	VMI_ROM_CALL \m, VMI_CALL_GetIDT, 0, s_sidt
	VMI_ROM_INLINE \m, VMI_CALL_GetTR, 0, 0, t_str
	VMI_ROM_CALL \m, VMI_CALL_WriteGDTEntry, 0, s_write_descriptor
	VMI_ROM_CALL \m, VMI_CALL_WriteLDTEntry, 0, s_write_descriptor
	VMI_ROM_CALL \m, VMI_CALL_WriteIDTEntry, 0, s_write_descriptor
	VMI_ROM_INLINE \m, VMI_CALL_UpdateKernelStack, 0, 0, VMI_ROM_UPDATE_KERNEL_STACK
	VMI_ROM_CALL \m, VMI_CALL_SetCR0, F, s_set_cr0
	VMI_ROM_CALL \m, VMI_CALL_SetCR2, F, s_set_cr2
	VMI_ROM_CALL \m, VMI_CALL_SetCR3, F, s_set_cr3
	VMI_ROM_CALL \m, VMI_CALL_SetCR4, F, s_set_cr4
	VMI_ROM_INLINE \m, VMI_CALL_GetCR0, F, 0, t_get_cr0
	VMI_ROM_INLINE \m, VMI_CALL_GetCR2, F, 0, t_get_cr2
	VMI_ROM_INLINE \m, VMI_CALL_GetCR3, F, 0, t_get_cr3
	VMI_ROM_INLINE \m, VMI_CALL_GetCR4, F, 0, t_get_cr4
	VMI_ROM_INLINE \m, VMI_CALL_INVD, 0, 0, t_invd
	VMI_ROM_INLINE \m, VMI_CALL_WBINVD, 0, 0, t_wbinvd
	VMI_ROM_CALL_BODY \m, VMI_CALL_SetDR, F, b_set_dr
	VMI_ROM_CALL_BODY \m, VMI_CALL_GetDR, F, b_get_dr
	VMI_ROM_INLINE \m, VMI_CALL_RDPMC, 0, 0, t_rdpmc
	VMI_ROM_INLINE \m, VMI_CALL_RDTSC, 0, 0, t_rdtsc
	VMI_ROM_INLINE \m, VMI_CALL_CLTS, 0, 0, t_clts
	VMI_ROM_INLINE \m, VMI_CALL_EnableInterrupts, 0, 0, t_sti
	VMI_ROM_INLINE \m, VMI_CALL_DisableInterrupts, 0, 0, t_cli
	VMI_ROM_INLINE \m, VMI_CALL_GetInterruptMask, 0, 0, t_save_flags
	VMI_ROM_INLINE \m, VMI_CALL_SetInterruptMask, F, 0, t_restore_flags
	VMI_ROM_JUMP \m, VMI_CALL_IRET, 0, s_iret
	VMI_ROM_JUMP \m, VMI_CALL_SYSEXIT, 0, s_sysexit
	VMI_ROM_INLINE \m, VMI_CALL_Pause, 0, 0, t_pause
	VMI_ROM_INLINE \m, VMI_CALL_Halt, 0, 0, t_hlt
	VMI_ROM_CALL \m, VMI_CALL_Reboot, 0, s_reboot
	VMI_ROM_CALL \m, VMI_CALL_Shutdown, 0, s_shutdown
	VMI_ROM_CALL \m, VMI_CALL_SetPxE, 0, s_set_pxe
	VMI_ROM_CALL \m, VMI_CALL_GetPxE, 0, s_get_pxe
	VMI_ROM_CALL \m, VMI_CALL_SwapPxE, 0, s_swap_pxe
	VMI_ROM_CALL \m, VMI_CALL_SetPxELong, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_GetPxELong, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_SwapPxELongAtomic, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_TestAndSetPxEBit, F, s_test_and_set_pxe_bit
	VMI_ROM_CALL \m, VMI_CALL_TestAndClearPxEBit, F, s_test_and_clear_pxe_bit
	VMI_ROM_CALL \m, VMI_CALL_AllocatePage, 0, s_nothing_to_do
	VMI_ROM_CALL \m, VMI_CALL_ReleasePage, 0, s_nothing_to_do
	VMI_ROM_CALL \m, VMI_CALL_InvalPage, 0, s_invlpg
	VMI_ROM_CALL_BODY \m, VMI_CALL_FlushTLB, F, b_flush_tlb
	VMI_ROM_CALL \m, VMI_CALL_FlushDeferredCalls, 0, s_nothing_to_do
	VMI_ROM_CALL \m, VMI_CALL_SetLinearMapping, 0, s_nothing_to_do
	VMI_ROM_INLINE \m, VMI_CALL_IN, 0, 0, t_inl
	VMI_ROM_INLINE \m, VMI_CALL_INB, 0, 0, t_inb
	VMI_ROM_INLINE \m, VMI_CALL_INW, 0, 0, t_inw
	VMI_ROM_INLINE \m, VMI_CALL_INS, 0, 0, t_insl
	VMI_ROM_INLINE \m, VMI_CALL_INSB, 0, 0, t_insb
	VMI_ROM_INLINE \m, VMI_CALL_INSW, 0, 0, t_insw
	VMI_ROM_INLINE \m, VMI_CALL_OUT, 0, 0, t_outl
	VMI_ROM_INLINE \m, VMI_CALL_OUTB, 0, 0, t_outb
	VMI_ROM_INLINE \m, VMI_CALL_OUTW, 0, 0, t_outw
	VMI_ROM_INLINE \m, VMI_CALL_OUTS, 0, 0, t_outsl
	VMI_ROM_INLINE \m, VMI_CALL_OUTSB, 0, 0, t_outsb
	VMI_ROM_INLINE \m, VMI_CALL_OUTSW, 0, 0, t_outsw
	VMI_ROM_CALL \m, VMI_CALL_SetIOPLMask, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_DeactivatePxELongAtomic, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_TestAndSetPxELongBit, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_TestAndClearPxELongBit, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_SetInitialAPState, 0, s_not_implemented
	/* APICWrite has no result, so the error code in EAX is a clobber. */
	VMI_ROM_CALL \m, VMI_CALL_APICWrite, VMI_CLOBBER_EAX, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_APICRead, 0, s_not_implemented
	VMI_ROM_INLINE \m, VMI_CALL_IODelay, 0, 0, t_io_delay
	VMI_ROM_CALL \m, VMI_CALL_GetCycleFrequency, 0, s_not_implemented64
	VMI_ROM_CALL \m, VMI_CALL_GetCycleCounter, 0, s_not_implemented64
	VMI_ROM_CALL \m, VMI_CALL_SetAlarm, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_CancelAlarm, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_GetWallclockTime, 0, s_not_implemented64
	VMI_ROM_CALL \m, VMI_CALL_WallclockUpdated, 0, s_not_implemented
	VMI_ROM_CALL_BODY \m, VMI_CALL_GetRelocationInfo, F, b_relocation_info
	VMI_ROM_CALL \m, VMI_CALL_SetPxE2, 0, s_not_implemented
	VMI_ROM_CALL \m, VMI_CALL_SetPxELong2, 0, s_not_implemented
	VMI_ROM_INLINE \m, VMI_CALL_Syscall, 0, 0, t_syscall
.endm

	.section .text.vmi_native_rom, "ax", @progbits
	.p2align 11
	.globl vmi_native_rom
	.type vmi_native_rom, @object
vmi_native_rom:
	VMI_ROM_BEGIN
	VMI_ROM_CALLS native_calls
	VMI_ROM_END
	.size vmi_native_rom, . - vmi_native_rom

	.section .note.GNU-stack, "", @progbits
