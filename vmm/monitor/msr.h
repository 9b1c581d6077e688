/* The virtual CPU's model: what its CPUID reports, and the model-specific registers (RDMSR/
 * WRMSR by hypercall or trap) and CR4 bits that go with it, kept consistent with it. */
#ifndef VMM_MONITOR_MSR_H
#define VMM_MONITOR_MSR_H

#include <stdint.h>

/* Back to boot state. */
void msr_reset(void);

/* 0, or -1 for an MSR the virtual CPU does not have (a #GP, as on hardware). */
int msr_read(uint32_t msr, uint64_t *value);

/* 0, or -1 for an MSR it does not have or a value it cannot take. */
int msr_write(uint32_t msr, uint64_t value);

/* The virtual CPUID: the host's, less the features vmirun does not give (the local APIC,
 * x2APIC, TSC deadline, XSAVE and every feature whose state it manages), with the
 * hypervisor bit (leaf 1 ECX bit 31) set. The CPUID call and a trapped `cpuid` answer it;
 * the guest's own `cpuid`, where the host does not make it fault, sees the host's.
 * out: EAX, EBX, ECX, EDX. */
void msr_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* 1 if every bit set in `cr4` is one this CPUID advertises (PAE included, which the caller
 * then refuses as not implemented); a MOV to CR4 with any other bit is #GP. */
int msr_cr4_valid(uint32_t cr4);

/* Where the host's CPUID comes from: `cpuid` itself (NULL, the default), or a test's table.
 * The MSRs and CR4 bits the model has follow it from then on. */
typedef void msr_cpuid_source(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
void msr_use_cpuid_source(msr_cpuid_source *source);

#endif
