/* Which registers each VMI call may change, as docs/abi.md ("Calls, one by one") says: one
 * table for everything that checks the convention (the monitor fuzz target, the storm guest).
 * Bits are x86 register numbers. Freestanding C. */
#ifndef VMI_CALL_RESULTS_H
#define VMI_CALL_RESULTS_H

#include <vmi/calls.h>

#define VMI_REG_EAX (1u << 0)
#define VMI_REG_ECX (1u << 1)
#define VMI_REG_EDX (1u << 2)
#define VMI_REG_EBX (1u << 3)
#define VMI_REG_ESI (1u << 6)
#define VMI_REG_EDI (1u << 7)

/* For a call that returns to its caller; everything not named comes back as it went in. */
static inline unsigned vmi_call_result_registers(unsigned call)
{
	switch (call) {
	case VMI_CALL_CPUID:
		return VMI_REG_EAX | VMI_REG_EBX | VMI_REG_ECX | VMI_REG_EDX;
	case VMI_CALL_RDMSR: case VMI_CALL_RDTSC: case VMI_CALL_RDPMC:
	case VMI_CALL_GetCycleFrequency: case VMI_CALL_GetCycleCounter:
	case VMI_CALL_GetWallclockTime: case VMI_CALL_GetRelocationInfo:
		return VMI_REG_EAX | VMI_REG_EDX;
	case VMI_CALL_INS: case VMI_CALL_INSB: case VMI_CALL_INSW:
		return VMI_REG_EDI | VMI_REG_ECX;
	case VMI_CALL_OUTS: case VMI_CALL_OUTSB: case VMI_CALL_OUTSW:
		return VMI_REG_ESI | VMI_REG_ECX;
	case VMI_CALL_INVD: case VMI_CALL_WBINVD: case VMI_CALL_Pause: case VMI_CALL_IODelay:
	case VMI_CALL_CLTS: case VMI_CALL_EnableInterrupts: case VMI_CALL_DisableInterrupts:
	case VMI_CALL_SetInterruptMask: case VMI_CALL_Halt:
	case VMI_CALL_OUT: case VMI_CALL_OUTB: case VMI_CALL_OUTW:
		return 0;
	default:
		return VMI_REG_EAX;
	}
}

#endif
