/* Writes to CR0-CR4 as a CPU takes them: the bits that are fixed or undefined, the
 * combinations that are #GP, the CR4 bits the virtual CPUID does not advertise, and what
 * vmirun does not implement (real mode, PAE paging). */
#include <vmi/mmu.h>

#include "monitor/control_registers.h"
#include "monitor/mmu.h"
#include "monitor/msr.h"
#include "monitor/virtual_cpu.h"

#define CR0_PE      0x1u
#define CR0_ET      0x10u
#define CR0_NW      0x20000000u
#define CR0_CD      0x40000000u
#define CR0_DEFINED 0xE005003Fu   /* PE MP EM TS ET NE WP AM NW CD PG */

enum control_register_check control_register_write(unsigned number, uint32_t *value,
                                                   const char **what, const char **missing)
{
	if (number == 0) {
		*value = (*value & CR0_DEFINED) | CR0_ET;   /* ET is fixed at 1 since the 486 */
		if (((*value & VMI_CR0_PG) && !(*value & CR0_PE)) ||
		    ((*value & CR0_NW) && !(*value & CR0_CD)))
			return CONTROL_REGISTER_FAULTS;
		if (!(*value & CR0_PE)) {
			*what = "clears CR0.PE";
			*missing = "real mode";
			return CONTROL_REGISTER_NOT_IMPLEMENTED;
		}
	} else if (number == 4) {
		if (!msr_cr4_valid(*value))
			return CONTROL_REGISTER_FAULTS;   /* a bit this CPUID does not have */
		if (*value & VMI_CR4_PAE) {           /* PAE's tables are another format */
			*what = "sets CR4.PAE";
			*missing = "PAE paging";
			return CONTROL_REGISTER_NOT_IMPLEMENTED;
		}
	}
	uint32_t old_cr0 = virtual_cpu.cr0, old_cr4 = virtual_cpu.cr4;
	switch (number) {
	case 0: virtual_cpu.cr0 = *value; break;
	case 2:
		virtual_cpu.cr2 = *value;
		virtual_cpu_shared()->cr2 = *value;   /* where the ROM's GetCR2 reads it */
		return CONTROL_REGISTER_TAKEN;
	case 3:
		virtual_cpu.cr3 = *value;
		mmu_cr3_loaded();
		return CONTROL_REGISTER_TAKEN;
	case 4: virtual_cpu.cr4 = *value; break;
	default: return CONTROL_REGISTER_FAULTS;
	}
	mmu_control_registers_written(old_cr0, old_cr4);
	if ((old_cr0 ^ virtual_cpu.cr0) & VMI_CR0_PG)
		virtual_cpu_paging_changed();
	return CONTROL_REGISTER_TAKEN;
}
