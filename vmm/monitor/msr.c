/* The virtual CPU's model: its CPUID is the host's less what vmirun does not give (the APIC,
 * XSAVE and what needs it), and the MSRs and CR4 bits it has follow what that CPUID
 * advertises (MTRRs, PAT, EFER's bits), so a kernel that believes the CPUID finds the
 * registers it promises and no others. The TSC, the SYSENTER registers, and an
 * APIC base that says "no local APIC enabled" (vmirun emulates none) are always there. */
#include <cpuid.h>
#include <x86intrin.h>

#include "monitor/msr.h"

#define MSR_TSC            0x10
#define MSR_PLATFORM_ID    0x17
#define MSR_APIC_BASE      0x1B
#define MSR_BIOS_SIGN_ID   0x8B
#define MSR_MTRR_CAP       0xFE
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_MISC_ENABLE    0x1A0
#define MSR_PAT            0x277
#define MSR_MTRR_DEF_TYPE  0x2FF
#define MSR_EFER           0xC0000080u

#define CPUID_HYPERVISOR   (1u << 31)  /* leaf 1 ECX: "running under a hypervisor" */

#define APIC_BASE_DEFAULT  0xFEE00000u
#define APIC_BASE_BSP      0x100u     /* this CPU is the bootstrap processor */
#define APIC_BASE_ENABLE   0x800u

/* Not the host's (user space cannot read its MSR): nonzero, so no kernel takes the CPU for
 * one whose firmware loaded no microcode at all. */
#define MICROCODE_REVISION (1ull << 32)

#define MISC_FAST_STRINGS  (1ull << 0)
#define MISC_BTS_UNAVAIL   (1ull << 11)  /* no branch trace store */
#define MISC_PEBS_UNAVAIL  (1ull << 12)  /* no precise event sampling */
#define MISC_MONITOR       (1ull << 18)  /* mirrors CPUID.1:ECX.MONITOR */

#define MTRR_DEF_ENABLE    0x800u
#define MTRR_DEF_TYPE_MASK 0xFFu
#define MEMORY_UC          0
#define MEMORY_WC          1
#define MEMORY_WT          4
#define MEMORY_WP          5
#define MEMORY_WB          6
#define MEMORY_UC_MINUS    7             /* PAT only */
#define PAT_POWER_ON       0x0007040600070406ull

#define EFER_SCE           (1ull << 0)
#define EFER_LME           (1ull << 8)
#define EFER_NXE           (1ull << 11)

/* The CPUID words the model depends on, and each feature as word * 32 + bit. */
enum feature_word { LEAF1_EDX, LEAF1_ECX, LEAF7_EBX, LEAF7_ECX, EXTENDED_EDX, FEATURE_WORDS };
#define FEATURE(word, bit) ((word) * 32 + (bit))

enum feature {
	F_VME = FEATURE(LEAF1_EDX, 1), F_DE = FEATURE(LEAF1_EDX, 2), F_PSE = FEATURE(LEAF1_EDX, 3),
	F_TSC = FEATURE(LEAF1_EDX, 4), F_PAE = FEATURE(LEAF1_EDX, 6), F_MCE = FEATURE(LEAF1_EDX, 7),
	F_MTRR = FEATURE(LEAF1_EDX, 12), F_PGE = FEATURE(LEAF1_EDX, 13),
	F_PAT = FEATURE(LEAF1_EDX, 16), F_FXSR = FEATURE(LEAF1_EDX, 24),
	F_SSE = FEATURE(LEAF1_EDX, 25),
	F_MONITOR = FEATURE(LEAF1_ECX, 3), F_VMX = FEATURE(LEAF1_ECX, 5),
	F_SMX = FEATURE(LEAF1_ECX, 6), F_XSAVE = FEATURE(LEAF1_ECX, 26),
	F_FSGSBASE = FEATURE(LEAF7_EBX, 0), F_SMEP = FEATURE(LEAF7_EBX, 7),
	F_SMAP = FEATURE(LEAF7_EBX, 20),
	F_UMIP = FEATURE(LEAF7_ECX, 2), F_PKU = FEATURE(LEAF7_ECX, 3),
	F_CET = FEATURE(LEAF7_ECX, 7), F_PKS = FEATURE(LEAF7_ECX, 31),
	F_SYSCALL = FEATURE(EXTENDED_EDX, 11), F_NX = FEATURE(EXTENDED_EDX, 20),
	F_LM = FEATURE(EXTENDED_EDX, 29),
};

/* Each CR4 bit a 32-bit kernel may set, and the feature that gives it. PCE needs none (every
 * CPU since the Pentium Pro); LA57 and PCIDE cannot be set outside long mode. */
#define CR4_PCE 0x100u
static const struct { uint32_t cr4; enum feature needs; } cr4_bits[] = {
	{ 0x1, F_VME }, { 0x2, F_VME }, { 0x4, F_TSC }, { 0x8, F_DE },    /* VME PVI TSD DE */
	{ 0x10, F_PSE }, { 0x20, F_PAE }, { 0x40, F_MCE }, { 0x80, F_PGE }, /* PSE PAE MCE PGE */
	{ 0x200, F_FXSR }, { 0x400, F_SSE }, { 0x800, F_UMIP },   /* OSFXSR OSXMMEXCPT UMIP */
	{ 0x2000, F_VMX }, { 0x4000, F_SMX }, { 0x10000, F_FSGSBASE }, /* VMXE SMXE FSGSBASE */
	{ 0x40000, F_XSAVE }, { 0x100000, F_SMEP }, { 0x200000, F_SMAP }, /* OSXSAVE SMEP SMAP */
	{ 0x400000, F_PKU }, { 0x800000, F_CET }, { 0x1000000, F_PKS },   /* PKE CET PKS */
};

static msr_cpuid_source *cpuid_source;
static uint32_t features[FEATURE_WORDS];
static int features_known;

static uint64_t sysenter[3], misc_enable, mtrr_def_type, pat, efer;

static void host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	unsigned a, b, c, d;
	__cpuid_count(leaf, subleaf, a, b, c, d);
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
}

enum { EAX, EBX, ECX, EDX };

/* Host features vmirun does not give the guest, hidden from the virtual CPUID, so a kernel
 * that believes it never reaches for them: the local APIC (APIC_BASE says disabled, and a
 * CPU with its APIC off clears the bit), x2APIC and the TSC-deadline timer; and every
 * feature whose state XSAVE manages, since XSETBV is not emulated: XSAVE itself, AVX and
 * all that grew from it, protection keys, CET. Leaf 0xD (XSAVE's sizes) reads as zeros. */
#define BIT(n) (1u << (n))
static const struct { uint32_t leaf, subleaf; unsigned reg; uint32_t bits; } hidden[] = {
	{ 1, 0, EDX, BIT(9) },                                         /* APIC */
	{ 1, 0, ECX, BIT(12) | BIT(21) | BIT(24) | BIT(26) | BIT(27) | BIT(28) | BIT(29) },
	/* FMA, x2APIC, TSC-deadline, XSAVE, OSXSAVE, AVX, F16C */
	{ 7, 0, EBX, BIT(5) | BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) |
	             BIT(30) | BIT(31) },
	/* AVX2, AVX-512 F, DQ, IFMA, PF, ER, CD, BW, VL */
	{ 7, 0, ECX, BIT(1) | BIT(3) | BIT(4) | BIT(6) | BIT(7) | BIT(9) | BIT(10) | BIT(11) |
	             BIT(12) | BIT(14) },
	/* AVX-512 VBMI, PKU, OSPKE, VBMI2, CET shadow stacks, VAES, VPCLMULQDQ, AVX-512 VNNI,
	 * BITALG, VPOPCNTDQ */
	{ 7, 0, EDX, BIT(2) | BIT(3) | BIT(8) | BIT(20) | BIT(22) | BIT(23) | BIT(24) | BIT(25) },
	/* AVX-512 4VNNIW, 4FMAPS, VP2INTERSECT, CET IBT, AMX-BF16, AVX-512 FP16, AMX tiles, INT8 */
	{ 7, 1, EAX, BIT(4) | BIT(5) | BIT(23) },            /* AVX-VNNI, AVX-512 BF16, AVX-IFMA */
	{ 0x80000001u, 0, ECX, BIT(11) | BIT(16) },          /* XOP, FMA4 */
};
#define XSAVE_LEAF 0xDu

/* The virtual CPUID before the hypervisor bit: the host's, less what vmirun does not give. */
static void raw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(cpuid_source ? cpuid_source : host_cpuid)(leaf, subleaf, out);
	if (leaf == XSAVE_LEAF)
		out[EAX] = out[EBX] = out[ECX] = out[EDX] = 0;
	for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
		if (hidden[i].leaf == leaf && hidden[i].subleaf == (leaf == 7 ? subleaf : 0))
			out[hidden[i].reg] &= ~hidden[i].bits;
}

/* Read once: `cpuid` exits to the hypervisor on a virtual host, thousands of cycles. */
static void learn_features(void)
{
	uint32_t r[4];
	for (int i = 0; i < FEATURE_WORDS; i++)
		features[i] = 0;
	raw_cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	raw_cpuid(1, 0, r);
	features[LEAF1_ECX] = r[2];
	features[LEAF1_EDX] = r[3];
	if (max_leaf >= 7) {
		raw_cpuid(7, 0, r);
		features[LEAF7_EBX] = r[1];
		features[LEAF7_ECX] = r[2];
	}
	raw_cpuid(0x80000000u, 0, r);
	if (r[0] >= 0x80000001u) {
		raw_cpuid(0x80000001u, 0, r);
		features[EXTENDED_EDX] = r[3];
	}
	features_known = 1;
}

static int has(enum feature f)
{
	if (!features_known)
		learn_features();
	return (features[f / 32] >> (f % 32)) & 1;
}

void msr_use_cpuid_source(msr_cpuid_source *source)
{
	cpuid_source = source;
	features_known = 0;
	msr_reset();
}

void msr_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	raw_cpuid(leaf, subleaf, out);
	if (leaf == 1)
		out[2] |= CPUID_HYPERVISOR;
}

int msr_cr4_valid(uint32_t cr4)
{
	uint32_t allowed = CR4_PCE;
	for (size_t i = 0; i < sizeof cr4_bits / sizeof cr4_bits[0]; i++)
		if (has(cr4_bits[i].needs))
			allowed |= cr4_bits[i].cr4;
	return (cr4 & ~allowed) == 0;
}

/* EFER exists when CPUID advertises one of its bits; each bit is writable when advertised
 * (LME too: long mode would need CR4.PAE as well, which vmirun refuses). */
static uint64_t efer_writable(void)
{
	return (has(F_SYSCALL) ? EFER_SCE : 0) | (has(F_LM) ? EFER_LME : 0) |
	       (has(F_NX) ? EFER_NXE : 0);
}

void msr_reset(void)
{
	sysenter[0] = sysenter[1] = sysenter[2] = 0;
	/* what firmware leaves: */
	misc_enable = MISC_FAST_STRINGS | MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL |
	              (has(F_MONITOR) ? MISC_MONITOR : 0);
	mtrr_def_type = MTRR_DEF_ENABLE | MEMORY_WB; /* guest RAM is the host's write-back RAM */
	pat = PAT_POWER_ON;
	efer = 0;
}

static int valid_memory_type(uint64_t type, int uc_minus)
{
	return type == MEMORY_UC || type == MEMORY_WC || type == MEMORY_WT || type == MEMORY_WP ||
	       type == MEMORY_WB || (uc_minus && type == MEMORY_UC_MINUS);
}

/* Each of PAT's eight entries: a memory type in its low 3 bits, the rest zero. */
static int valid_pat(uint64_t value)
{
	for (int entry = 0; entry < 8; entry++)
		if (!valid_memory_type((value >> (entry * 8)) & 0xFF, 1))
			return 0;
	return 1;
}

int msr_read(uint32_t msr, uint64_t *value)
{
	switch (msr) {
	case MSR_TSC: *value = __rdtsc(); return 0;
	case MSR_PLATFORM_ID: *value = 0; return 0;
	case MSR_APIC_BASE: *value = APIC_BASE_DEFAULT | APIC_BASE_BSP; return 0;
	case MSR_BIOS_SIGN_ID: *value = MICROCODE_REVISION; return 0;
	case MSR_SYSENTER_CS: case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
		*value = sysenter[msr - MSR_SYSENTER_CS];
		return 0;
	case MSR_MISC_ENABLE: *value = misc_enable; return 0;
	case MSR_MTRR_CAP: /* no variable ranges, no fixed ones, no write-combining */
		*value = 0;
		return has(F_MTRR) ? 0 : -1;
	case MSR_MTRR_DEF_TYPE:
		*value = mtrr_def_type;
		return has(F_MTRR) ? 0 : -1;
	case MSR_PAT:
		*value = pat;
		return has(F_PAT) ? 0 : -1;
	case MSR_EFER:
		*value = efer;
		return efer_writable() ? 0 : -1;
	default:
		return -1;
	}
}

int msr_write(uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_APIC_BASE:
		/* the same base, still disabled: nothing to do; anything else needs an APIC */
		return value == (APIC_BASE_DEFAULT | APIC_BASE_BSP) ? 0 : -1;
	case MSR_BIOS_SIGN_ID:
		return 0; /* a kernel clears it before `cpuid` refreshes the revision: kept as is */
	case MSR_SYSENTER_CS: case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
		sysenter[msr - MSR_SYSENTER_CS] = value;
		return 0;
	case MSR_MISC_ENABLE:
		/* Only fast strings may change (the host's go on anyway); the other bits are
		 * CPUID's, which the guest's native `cpuid` shows unchanged. */
		if ((value ^ misc_enable) & ~MISC_FAST_STRINGS)
			return -1;
		misc_enable = value;
		return 0;
	case MSR_MTRR_DEF_TYPE:
		/* with no fixed ranges, only the enable bit and the default type */
		if (!has(F_MTRR) || (value & ~(uint64_t)(MTRR_DEF_ENABLE | MTRR_DEF_TYPE_MASK)) ||
		    !valid_memory_type(value & MTRR_DEF_TYPE_MASK, 0))
			return -1;
		mtrr_def_type = value; /* the caches are the host's: nothing else changes */
		return 0;
	case MSR_PAT:
		if (!has(F_PAT) || !valid_pat(value))
			return -1;
		pat = value;
		return 0;
	case MSR_EFER:
		if (!efer_writable() || (value & ~efer_writable()))
			return -1;
		efer = value;
		return 0;
	default:
		return -1; /* the TSC, PLATFORM_ID and MTRRCAP too: guest time is the host's, the
		            * others read only */
	}
}
