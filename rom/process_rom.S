/* The VMI ROM of the process platform (vmirun): linked at VMI_ROM_BASE into a flat image,
 * sealed by rom_seal and embedded in vmirun. Hot interrupt-flag calls are inline templates
 * on the shared vCPU page; IRET and SYSEXIT to user mode and the fast system-call entry
 * switch the virtual ring in ROM code (but under vmirun's strict isolation, once the guest
 * pages); everything else far-calls its hypercall entry. */

#include <vmi/cpu.h>
#include <vmi/init.h>
#include <vmi/process.h>
#include "rom_layout.inc"

#define VCPU(field)  (VMI_PROCESS_VCPU_PAGE + VMI_VCPU_##field)
#define VCPU_FLAGS   VCPU(FLAGS)
#define VCPU_PENDING VCPU(PENDING)
#define HYPERCALL(n) lcall $VMI_PROCESS_CODE64_SELECTOR, $VMI_PROCESS_HYPERCALL_ENTRY(n)

/* ---- inline templates: the vCPU page only, and the hypercall when an interrupt waits ---- */

.macro disable_interrupts
	movl $0, VCPU_FLAGS
.endm

/* Set the virtual IF first, then look for a pending interrupt: one that arrives after the
 * store is delivered by vmirun directly, one that arrived before is taken by the call. */
.macro enable_interrupts
	movl $VMI_EFLAGS_IF, VCPU_FLAGS
	cmpl $0, VCPU_PENDING
	je 1f
	HYPERCALL(VMI_CALL_EnableInterrupts)
1:
.endm

.macro get_interrupt_mask
	movl VCPU_FLAGS, %eax
.endm

.macro set_interrupt_mask
	movl %eax, VCPU_FLAGS
	testl $VMI_EFLAGS_IF, %eax
	jz 1f
	cmpl $0, VCPU_PENDING
	je 1f
	HYPERCALL(VMI_CALL_SetInterruptMask)
1:
.endm

/* rdtsc runs natively in ring 3. */
.macro read_tsc
	rdtsc
.endm

/* ---- ring switches without vmirun ------------------------------------------------------ */

/* A ring switch's way out to vmirun: the transition mark is cleared just before the far
 * call, so vmirun never sees a hypercall from inside a transition. */
.macro slow_path call
	movl $VMI_TRANSITION_NONE, VCPU(TRANSITION)
	HYPERCALL(\call)
.endm

/* IRET, the site having jumped here with the frame on top of the stack. Back to user mode on
 * the platform's selectors, the ROM does it itself: it moves eip and eflags below the user's
 * esp, commits the virtual ring, IF and ss, and pops them there. Everything else (to the
 * kernel, TF set, IF set with an interrupt waiting, or vmirun running user mode apart:
 * VMI_VCPU_ROM_RING_SWITCHES 0) goes to vmirun. The transition mark
 * comes first, so an interrupt raised after the pending check waits for its end; a fault
 * before the commit (an unwritable user stack) makes vmirun finish the IRET itself. */
.macro iret_body
	movl $VMI_TRANSITION_IRET, VCPU(TRANSITION)
	movl %esp, VCPU(FRAME)
	cmpl $VMI_PROCESS_USER_CS, 4(%esp)
	jne 8f
	cmpl $0, VCPU(ROM_RING_SWITCHES)
	je 8f
	testl $VMI_EFLAGS_TF, 8(%esp)
	jnz 8f
	testl $VMI_EFLAGS_IF, 8(%esp)
	jz 1f
	cmpl $0, VCPU_PENDING
	jne 8f
1:	movl %eax, VCPU(SCRATCH)
	movl 12(%esp), %eax
	leal -8(%eax), %eax             /* the user stack, with room for eflags and eip */
	pushl 8(%esp)
	popl (%eax)
	pushl (%esp)
	popl 4(%eax)
	andl $VMI_EFLAGS_RESTORABLE, (%eax)
	pushl 16(%esp)
	popl VCPU(USER_SS)
	andl $0xFFFF, VCPU(USER_SS)     /* a selector: frames get it zero-extended */
	testl $VMI_EFLAGS_IF, 8(%esp)   /* commit: from here on the guest is in user mode */
	jz 2f
	movl $VMI_EFLAGS_IF, VCPU_FLAGS
	jmp 3f
2:	movl $0, VCPU_FLAGS
3:	movl $VMI_PROCESS_USER_CS, VCPU(CS)
	movl %eax, %esp
	movl VCPU(SCRATCH), %eax
	/* a plain user-mode state from here: an interrupt at the popfl returns to it */
	movl $VMI_TRANSITION_NONE, VCPU(TRANSITION)
	popfl
	ret
8:	slow_path VMI_CALL_IRET
	ud2
.endm

/* SYSEXIT (EDX = user EIP, ECX = user ESP): to user mode on the flat user selectors with
 * interrupts enabled, the flags otherwise as they are. With an interrupt waiting, vmirun
 * does it (and delivers); from user mode vmirun refuses it (#GP, as the CPU would). Nothing
 * here can fault. */
.macro sysexit_body
	movl $VMI_TRANSITION_SYSEXIT, VCPU(TRANSITION)
	testl $3, VCPU(CS)
	jnz 8f
	cmpl $0, VCPU(ROM_RING_SWITCHES)
	je 8f
	cmpl $0, VCPU_PENDING
	jne 8f
	movl $VMI_PROCESS_USER_DS, VCPU(USER_SS)
	movl $VMI_PROCESS_USER_CS, VCPU(CS)
	movl $VMI_EFLAGS_IF, VCPU_FLAGS
	movl %ecx, %esp
	/* a plain user-mode state from here: an interrupt at the jmp returns to it */
	movl $VMI_TRANSITION_NONE, VCPU(TRANSITION)
	jmp *%edx
8:	slow_path VMI_CALL_SYSEXIT
	ud2
.endm

/* The fast system-call entry, called from user mode: what `int $0x80` does through a DPL-3
 * interrupt gate, when vmirun has published one: the frame (ss, esp, eflags, cs, and as eip
 * the `ret` below) goes on the kernel stack named by the TSS, the virtual ring and IF change,
 * and the handler runs with every register as the caller left it. Without a published gate,
 * or from the kernel, vmirun delivers the vector. */
.macro syscall_body
	pushfl                          /* the caller's flags, before the tests change them */
	/* Without a published gate (always so under strict isolation, where user mode may not
	 * write the vCPU page), straight to vmirun, writing nothing. */
	cmpl $0, VCPU(SYSCALL_EIP)
	je 6f
	/* marked after the pushfl: an interrupt inside the mark makes vmirun step out with TF,
	 * which a pushfl there would hand the user's frame (and a #DB to the user later). A
	 * fault on the pushfl (an unwritable word below the return address) is then an ordinary
	 * user-mode fault for the kernel to handle. */
	movl $VMI_TRANSITION_SYSCALL, VCPU(TRANSITION)
	cmpl $0, VCPU(SYSCALL_EIP)
	je 8f
	testl $3, VCPU(CS)
	jz 8f
	movl %eax, VCPU(SCRATCH)
	movl %esp, %eax
	movl VCPU(ESP0_ADDRESS), %esp
	movl (%esp), %esp               /* esp0 */
	pushl VCPU(USER_SS)
	addl $4, %eax
	pushl %eax                      /* the user's esp: at the return address */
	pushl -4(%eax)
	andl $~VMI_EFLAGS_IF, (%esp)
	testl $VMI_EFLAGS_IF, VCPU_FLAGS
	jz 1f
	orl $VMI_EFLAGS_IF, (%esp)
1:	pushl VCPU(CS)
	call 7f                         /* the return eip: 9 below, where the ROM runs (a */
7:	addl $(9f - 7b), (%esp)         /* kernel may map it anywhere), not its link address */
	pushl VCPU(SYSCALL_CS)
	popl VCPU(CS)
	movl $0, VCPU_FLAGS
	movl VCPU(SCRATCH), %eax
	movl $VMI_TRANSITION_NONE, VCPU(TRANSITION)
	jmp *VCPU(SYSCALL_EIP)
8:	popfl
	slow_path VMI_CALL_Syscall
9:	ret
6:	popfl
	HYPERCALL(VMI_CALL_Syscall)
	ret
.endm

/* ---- pure ROM code ------------------------------------------------------------------------ */

.macro init_body
	VMI_ROM_INIT_BODY VMI_PROCESS_KERNEL_CS, VMI_PROCESS_KERNEL_DS, VMI_PROCESS_USER_CS, \
		VMI_PROCESS_USER_DS, 3, VMI_PROCESS_WINDOW_BASE, VMI_PROCESS_VCPU_PAGE, \
		VMI_PLATFORM_PROCESS
.endm

.macro relocation_info_body
	VMI_ROM_RELOCATION_INFO_BODY
.endm

/* ---- the two hypercall kinds: vmirun restores every register but the results ----------- */

.macro hypercall mode, call
	.ifc \mode,stub
	VMI_ROM_SLOT \call
	HYPERCALL(\call)
	ret
	.endif
	.ifc \mode,record
	VMI_ROM_RECORD \call, VMI_LINK_CALL_REL, 0, 0, VMI_ROM_STUB_ADDRESS(\call)
	.endif
.endm


/* ---- the calls, in order ------------------------------------------------------------------ */

.macro process_calls m
	VMI_ROM_CALL_BODY \m, VMI_CALL_Init, VMI_CLOBBER_FLAGS, init_body
	hypercall \m, VMI_CALL_CPUID
	hypercall \m, VMI_CALL_WRMSR
	hypercall \m, VMI_CALL_RDMSR
	hypercall \m, VMI_CALL_SetGDT
	hypercall \m, VMI_CALL_SetLDT
	hypercall \m, VMI_CALL_SetIDT
	hypercall \m, VMI_CALL_SetTR
	hypercall \m, VMI_CALL_GetGDT
	hypercall \m, VMI_CALL_GetLDT
	hypercall \m, VMI_CALL_GetIDT
	hypercall \m, VMI_CALL_GetTR
	hypercall \m, VMI_CALL_WriteGDTEntry
	hypercall \m, VMI_CALL_WriteLDTEntry
	hypercall \m, VMI_CALL_WriteIDTEntry
	VMI_ROM_INLINE \m, VMI_CALL_UpdateKernelStack, 0, 0, VMI_ROM_UPDATE_KERNEL_STACK
	hypercall \m, VMI_CALL_SetCR0
	hypercall \m, VMI_CALL_SetCR2
	hypercall \m, VMI_CALL_SetCR3
	hypercall \m, VMI_CALL_SetCR4
	hypercall \m, VMI_CALL_GetCR0
	hypercall \m, VMI_CALL_GetCR2
	hypercall \m, VMI_CALL_GetCR3
	hypercall \m, VMI_CALL_GetCR4
	VMI_ROM_NOP \m, VMI_CALL_INVD
	VMI_ROM_NOP \m, VMI_CALL_WBINVD
	hypercall \m, VMI_CALL_SetDR
	hypercall \m, VMI_CALL_GetDR
	hypercall \m, VMI_CALL_RDPMC
	VMI_ROM_INLINE \m, VMI_CALL_RDTSC, 0, 0, read_tsc
	hypercall \m, VMI_CALL_CLTS
	VMI_ROM_INLINE \m, VMI_CALL_EnableInterrupts, VMI_CLOBBER_FLAGS, \
		VMI_LINK_FLAG_INTERNAL_BRANCH, enable_interrupts
	VMI_ROM_INLINE \m, VMI_CALL_DisableInterrupts, 0, 0, disable_interrupts
	VMI_ROM_INLINE \m, VMI_CALL_GetInterruptMask, 0, 0, get_interrupt_mask
	VMI_ROM_INLINE \m, VMI_CALL_SetInterruptMask, VMI_CLOBBER_FLAGS, \
		VMI_LINK_FLAG_INTERNAL_BRANCH, set_interrupt_mask
	VMI_ROM_JUMP_BODY \m, VMI_CALL_IRET, 0, iret_body
	VMI_ROM_JUMP_BODY \m, VMI_CALL_SYSEXIT, 0, sysexit_body
	hypercall \m, VMI_CALL_Pause
	hypercall \m, VMI_CALL_Halt
	hypercall \m, VMI_CALL_Reboot
	hypercall \m, VMI_CALL_Shutdown
	hypercall \m, VMI_CALL_SetPxE
	hypercall \m, VMI_CALL_GetPxE
	hypercall \m, VMI_CALL_SwapPxE
	hypercall \m, VMI_CALL_SetPxELong
	hypercall \m, VMI_CALL_GetPxELong
	hypercall \m, VMI_CALL_SwapPxELongAtomic
	hypercall \m, VMI_CALL_TestAndSetPxEBit
	hypercall \m, VMI_CALL_TestAndClearPxEBit
	hypercall \m, VMI_CALL_AllocatePage
	hypercall \m, VMI_CALL_ReleasePage
	hypercall \m, VMI_CALL_InvalPage
	hypercall \m, VMI_CALL_FlushTLB
	hypercall \m, VMI_CALL_FlushDeferredCalls
	hypercall \m, VMI_CALL_SetLinearMapping
	hypercall \m, VMI_CALL_IN
	hypercall \m, VMI_CALL_INB
	hypercall \m, VMI_CALL_INW
	hypercall \m, VMI_CALL_INS
	hypercall \m, VMI_CALL_INSB
	hypercall \m, VMI_CALL_INSW
	hypercall \m, VMI_CALL_OUT
	hypercall \m, VMI_CALL_OUTB
	hypercall \m, VMI_CALL_OUTW
	hypercall \m, VMI_CALL_OUTS
	hypercall \m, VMI_CALL_OUTSB
	hypercall \m, VMI_CALL_OUTSW
	hypercall \m, VMI_CALL_SetIOPLMask
	hypercall \m, VMI_CALL_DeactivatePxELongAtomic
	hypercall \m, VMI_CALL_TestAndSetPxELongBit
	hypercall \m, VMI_CALL_TestAndClearPxELongBit
	hypercall \m, VMI_CALL_SetInitialAPState
	hypercall \m, VMI_CALL_APICWrite
	hypercall \m, VMI_CALL_APICRead
	VMI_ROM_NOP \m, VMI_CALL_IODelay
	hypercall \m, VMI_CALL_GetCycleFrequency
	hypercall \m, VMI_CALL_GetCycleCounter
	hypercall \m, VMI_CALL_SetAlarm
	hypercall \m, VMI_CALL_CancelAlarm
	hypercall \m, VMI_CALL_GetWallclockTime
	hypercall \m, VMI_CALL_WallclockUpdated
	VMI_ROM_CALL_BODY \m, VMI_CALL_GetRelocationInfo, VMI_CLOBBER_FLAGS, relocation_info_body
	hypercall \m, VMI_CALL_SetPxE2
	hypercall \m, VMI_CALL_SetPxELong2
	VMI_ROM_CALL_BODY \m, VMI_CALL_Syscall, 0, syscall_body
.endm

	.section .text.vmi_process_rom, "ax", @progbits
	.p2align 11
	.globl vmi_process_rom
vmi_process_rom:
	VMI_ROM_BEGIN VMI_PROCESS_WINDOW_BASE
	VMI_ROM_CALLS process_calls
	VMI_ROM_END
	.size vmi_process_rom, . - vmi_process_rom

	.section .note.GNU-stack, "", @progbits
