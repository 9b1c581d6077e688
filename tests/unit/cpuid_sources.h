/* CPUID sources the unit tests hand the virtual CPU's model (msr_use_cpuid_source) in place
 * of the host's. */
#ifndef TESTS_UNIT_CPUID_SOURCES_H
#define TESTS_UNIT_CPUID_SOURCES_H

#include <stdint.h>

/* Every feature bit set, in every leaf the model reads. */
static inline void cpuid_every_feature(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)subleaf;
	out[0] = out[1] = out[2] = out[3] = 0xFFFFFFFF;
	if (leaf == 0)
		out[0] = 0xD;
	else if (leaf == 0x80000000u)
		out[0] = 0x80000001u;
}

#endif
