/* Names of the VMI calls, for tools and logs: a table indexed by the VMI_CALL_* numbers.
 * Freestanding; include where names are printed. */
#ifndef VMI_CALL_NAMES_H
#define VMI_CALL_NAMES_H

#include <vmi/calls.h>

/* [VMI_CALL_Init] = "Init": the number comes from calls.h, never written twice. */
#define VMI_CALL_NAME(call) [VMI_CALL_##call] = #call

static const char *const vmi_call_names[VMI_CALL_COUNT] = {
	VMI_CALL_NAME(Init),
	VMI_CALL_NAME(CPUID),
	VMI_CALL_NAME(WRMSR),
	VMI_CALL_NAME(RDMSR),
	VMI_CALL_NAME(SetGDT),
	VMI_CALL_NAME(SetLDT),
	VMI_CALL_NAME(SetIDT),
	VMI_CALL_NAME(SetTR),
	VMI_CALL_NAME(GetGDT),
	VMI_CALL_NAME(GetLDT),
	VMI_CALL_NAME(GetIDT),
	VMI_CALL_NAME(GetTR),
	VMI_CALL_NAME(WriteGDTEntry),
	VMI_CALL_NAME(WriteLDTEntry),
	VMI_CALL_NAME(WriteIDTEntry),
	VMI_CALL_NAME(UpdateKernelStack),
	VMI_CALL_NAME(SetCR0),
	VMI_CALL_NAME(SetCR2),
	VMI_CALL_NAME(SetCR3),
	VMI_CALL_NAME(SetCR4),
	VMI_CALL_NAME(GetCR0),
	VMI_CALL_NAME(GetCR2),
	VMI_CALL_NAME(GetCR3),
	VMI_CALL_NAME(GetCR4),
	VMI_CALL_NAME(INVD),
	VMI_CALL_NAME(WBINVD),
	VMI_CALL_NAME(SetDR),
	VMI_CALL_NAME(GetDR),
	VMI_CALL_NAME(RDPMC),
	VMI_CALL_NAME(RDTSC),
	VMI_CALL_NAME(CLTS),
	VMI_CALL_NAME(EnableInterrupts),
	VMI_CALL_NAME(DisableInterrupts),
	VMI_CALL_NAME(GetInterruptMask),
	VMI_CALL_NAME(SetInterruptMask),
	VMI_CALL_NAME(IRET),
	VMI_CALL_NAME(SYSEXIT),
	VMI_CALL_NAME(Pause),
	VMI_CALL_NAME(Halt),
	VMI_CALL_NAME(Reboot),
	VMI_CALL_NAME(Shutdown),
	VMI_CALL_NAME(SetPxE),
	VMI_CALL_NAME(GetPxE),
	VMI_CALL_NAME(SwapPxE),
	VMI_CALL_NAME(SetPxELong),
	VMI_CALL_NAME(GetPxELong),
	VMI_CALL_NAME(SwapPxELongAtomic),
	VMI_CALL_NAME(TestAndSetPxEBit),
	VMI_CALL_NAME(TestAndClearPxEBit),
	VMI_CALL_NAME(AllocatePage),
	VMI_CALL_NAME(ReleasePage),
	VMI_CALL_NAME(InvalPage),
	VMI_CALL_NAME(FlushTLB),
	VMI_CALL_NAME(FlushDeferredCalls),
	VMI_CALL_NAME(SetLinearMapping),
	VMI_CALL_NAME(IN),
	VMI_CALL_NAME(INB),
	VMI_CALL_NAME(INW),
	VMI_CALL_NAME(INS),
	VMI_CALL_NAME(INSB),
	VMI_CALL_NAME(INSW),
	VMI_CALL_NAME(OUT),
	VMI_CALL_NAME(OUTB),
	VMI_CALL_NAME(OUTW),
	VMI_CALL_NAME(OUTS),
	VMI_CALL_NAME(OUTSB),
	VMI_CALL_NAME(OUTSW),
	VMI_CALL_NAME(SetIOPLMask),
	VMI_CALL_NAME(DeactivatePxELongAtomic),
	VMI_CALL_NAME(TestAndSetPxELongBit),
	VMI_CALL_NAME(TestAndClearPxELongBit),
	VMI_CALL_NAME(SetInitialAPState),
	VMI_CALL_NAME(APICWrite),
	VMI_CALL_NAME(APICRead),
	VMI_CALL_NAME(IODelay),
	VMI_CALL_NAME(GetCycleFrequency),
	VMI_CALL_NAME(GetCycleCounter),
	VMI_CALL_NAME(SetAlarm),
	VMI_CALL_NAME(CancelAlarm),
	VMI_CALL_NAME(GetWallclockTime),
	VMI_CALL_NAME(WallclockUpdated),
	VMI_CALL_NAME(GetRelocationInfo),
	VMI_CALL_NAME(SetPxE2),
	VMI_CALL_NAME(SetPxELong2),
	VMI_CALL_NAME(Syscall),
};

#undef VMI_CALL_NAME

/* The call's name, or NULL for slots 0-3 and numbers out of range. */
static inline const char *vmi_call_name(unsigned call)
{
	return call < VMI_CALL_COUNT ? vmi_call_names[call] : (const char *)0;
}

#endif
