/* Unit tests for trap-and-emulate: decoding, operand sizes, eip advance, #GP for what the
 * guest may not do, refusal of the rest; the ModRM decoder is checked against Capstone. The
 * memory forms (descriptor tables, segment loads, far transfers, ins, iret) run on lent
 * memory. Every instruction of docs/architecture.md's "emulated privileged set" has a test
 * here that fails when its emulation breaks; the MSR and CR4 tests run on a CPUID of their
 * own, so that they say the same on every host. */
#include <capstone/capstone.h>
#include <cpuid.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/calls.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include "cpuid_sources.h"
#include "monitor/descriptors.h"
#include "monitor/emulate.h"
#include "monitor/mmu.h"
#include "monitor/msr.h"
#include "monitor/virtual_cpu.h"
#include "platform/process/address_space.h"
#include "stats.h"

static struct emulate_outcome outcome;

static struct guest_regs regs_at(uint32_t eip)
{
	struct guest_regs regs = { .eip = eip, .eax = 0x11223344, .edx = VMI_PORT_COM1_LSR,
	                          .esp = 0x8000 };
	return regs;
}

static enum emulate_result run(struct guest_regs *regs, const uint8_t *code, size_t length)
{
	return emulate_instruction(regs, code, length, &outcome);
}

/* The instruction raised `vector` (error code `error`, -1 for none) and left eip on it. */
static void expect_fault(struct guest_regs *regs, const uint8_t *code, size_t length,
                         unsigned vector, int64_t error)
{
	uint32_t eip = regs->eip;
	cr_assert_eq(run(regs, code, length), EMULATE_INTERRUPT, "%s", outcome.mnemonic);
	cr_assert_eq(outcome.vector, vector, "%s: vector %u", outcome.mnemonic, outcome.vector);
	cr_assert_eq(outcome.error_code, error, "%s: error code %lld", outcome.mnemonic,
	             (long long)outcome.error_code);
	cr_assert_eq(regs->eip, eip, "%s: a fault leaves eip on the instruction",
	             outcome.mnemonic);
}

static void expect_gp0(struct guest_regs *regs, const uint8_t *code, size_t length)
{
	expect_fault(regs, code, length, 13, 0);
}

/* --- a CPUID of the tests' own, for the model's MSRs and CR4 bits (vmm/monitor/msr.c) -- */

#define EDX1_PSE     (1u << 3)
#define EDX1_PAE     (1u << 6)
#define EDX1_MTRR    (1u << 12)
#define EDX1_PGE     (1u << 13)
#define EDX1_PAT     (1u << 16)
#define ECX1_MONITOR (1u << 3)
#define EBX7_SMEP    (1u << 7)
#define EXT_SYSCALL  (1u << 11)
#define EXT_NX       (1u << 20)
#define EXT_LM       (1u << 29)

static struct { uint32_t edx1, ecx1, ebx7, edx_ext; } fake;

static void fake_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)subleaf;
	memset(out, 0, 4 * sizeof out[0]);
	if (leaf == 0) {
		out[0] = 7;
	} else if (leaf == 1) {
		out[0] = 0x6F1; /* a family-6 signature, for the look of it */
		out[2] = fake.ecx1;
		out[3] = fake.edx1;
	} else if (leaf == 7) {
		out[1] = fake.ebx7;
	} else if (leaf == 0x80000000u) {
		out[0] = fake.edx_ext ? 0x80000001u : 0x80000000u;
	} else if (leaf == 0x80000001u) {
		out[3] = fake.edx_ext;
	}
}

/* A CPU with everything the model can follow, or with none of it. */
static void use_full_cpuid(void)
{
	fake.edx1 = EDX1_PSE | EDX1_PAE | EDX1_MTRR | EDX1_PGE | EDX1_PAT;
	fake.ecx1 = ECX1_MONITOR;
	fake.ebx7 = 0;
	fake.edx_ext = EXT_SYSCALL | EXT_NX | EXT_LM;
	msr_use_cpuid_source(fake_cpuid);
}

static void use_bare_cpuid(void)
{
	memset(&fake, 0, sizeof fake);
	msr_use_cpuid_source(fake_cpuid);
}

static const uint8_t RDMSR[] = { 0x0F, 0x32 }, WRMSR[] = { 0x0F, 0x30 };

/* rdmsr of `msr`: 1 with *value if it read, 0 if it raised #GP(0). */
static int read_msr(uint32_t msr, uint64_t *value)
{
	struct guest_regs regs = regs_at(0x5300);
	regs.ecx = msr;
	regs.eax = regs.edx = 0xDEADBEEF;
	enum emulate_result result = run(&regs, RDMSR, sizeof RDMSR);
	if (result == EMULATE_INTERRUPT) {
		cr_assert_eq(outcome.vector, 13);
		cr_assert_eq(outcome.error_code, 0);
		cr_assert_eq(regs.eip, 0x5300);
		cr_assert_eq(regs.eax, 0xDEADBEEF, "a refused rdmsr changes nothing");
		return 0;
	}
	cr_assert_eq(result, EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "rdmsr");
	cr_assert_eq(regs.eip, 0x5302);
	*value = (uint64_t)regs.edx << 32 | regs.eax;
	return 1;
}

/* wrmsr of `value` to `msr`: 1 if taken, 0 if it raised #GP(0). */
static int write_msr(uint32_t msr, uint64_t value)
{
	struct guest_regs regs = regs_at(0x5300);
	regs.ecx = msr;
	regs.eax = (uint32_t)value;
	regs.edx = (uint32_t)(value >> 32);
	enum emulate_result result = run(&regs, WRMSR, sizeof WRMSR);
	if (result == EMULATE_INTERRUPT) {
		cr_assert_eq(outcome.vector, 13);
		cr_assert_eq(outcome.error_code, 0);
		cr_assert_eq(regs.eip, 0x5300);
		return 0;
	}
	cr_assert_eq(result, EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "wrmsr");
	cr_assert_eq(regs.eip, 0x5302);
	return 1;
}

static uint64_t msr_value(uint32_t msr)
{
	uint64_t value = 0;
	cr_assert(read_msr(msr, &value), "rdmsr 0x%x raised #GP", msr);
	return value;
}

Test(emulate, in_al_dx_reads_line_status)
{
	struct guest_regs regs = regs_at(0x1000);
	const uint8_t code[] = { 0xEC };
	cr_assert_eq(run(&regs, code, sizeof(code)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0x11223360, "eax %08x", regs.eax); /* only al changes */
	cr_assert_eq(regs.eip, 0x1001);
	cr_assert_str_eq(outcome.mnemonic, "in");
}

Test(emulate, in_from_nowhere_reads_all_ones)
{
	struct guest_regs regs = regs_at(0x2000);
	const uint8_t in_eax_imm[] = { 0xE5, 0x80 };
	cr_assert_eq(run(&regs, in_eax_imm, sizeof(in_eax_imm)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0xFFFFFFFF);
	cr_assert_eq(regs.eip, 0x2002);
	regs = regs_at(0x2000);
	const uint8_t in_ax_dx[] = { 0x66, 0xED };
	regs.edx = 0x1234;
	cr_assert_eq(run(&regs, in_ax_dx, sizeof(in_ax_dx)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0x1122FFFF, "eax %08x", regs.eax);
	cr_assert_eq(regs.eip, 0x2002);
}

Test(emulate, out_to_nowhere_advances)
{
	struct guest_regs regs = regs_at(0x3000);
	const uint8_t out_imm_al[] = { 0xE6, 0x80 };
	cr_assert_eq(run(&regs, out_imm_al, sizeof(out_imm_al)), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x3002);
	cr_assert_eq(regs.eax, 0x11223344);
	const uint8_t out_dx_ax[] = { 0x66, 0xEF };
	regs.edx = 0x80;
	cr_assert_eq(run(&regs, out_dx_ax, sizeof(out_dx_ax)), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x3004);
}

Test(emulate, rep_outs_to_nowhere_with_no_guest_memory_is_gp)
{
	struct guest_regs regs = regs_at(0x3000);
	regs.ecx = 4;
	regs.esi = 0x200000;
	const uint8_t rep_outsb[] = { 0xF3, 0x6E };
	/* no guest memory exists in a unit test: the first read faults */
	cr_assert_eq(run(&regs, rep_outsb, sizeof(rep_outsb)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 13);
	cr_assert_eq(regs.eip, 0x3000);
	cr_assert_eq(regs.ecx, 4);
}

Test(emulate, hlt)
{
	struct guest_regs regs = regs_at(0x4000);
	const uint8_t code[] = { 0xF4 };
	cr_assert_eq(run(&regs, code, sizeof(code)), EMULATE_HALT);
	cr_assert_eq(regs.eip, 0x4001);
}

Test(emulate, int_n_is_a_software_interrupt_after_the_instruction)
{
	struct guest_regs regs = regs_at(0x4000);
	const uint8_t code[] = { 0xCD, 0x40 };
	cr_assert_eq(run(&regs, code, sizeof(code)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 0x40);
	cr_assert_eq(outcome.software_length, 2);
	cr_assert_eq(outcome.error_code, -1);
	cr_assert_eq(regs.eip, 0x4002);
	/* With a prefix the instruction is longer: a #GP it raises (no gate, or its DPL) must
	 * point at the prefix, where the instruction starts, not at the CD byte. */
	regs = regs_at(0x4100);
	const uint8_t prefixed[] = { 0x66, 0xCD, 0x40 };
	cr_assert_eq(run(&regs, prefixed, sizeof(prefixed)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.software_length, 3);
	cr_assert_eq(regs.eip, 0x4103);
}

Test(emulate, control_register_reads_come_from_the_virtual_cpu)
{
	virtual_cpu.cr3 = 0xABC000;
	struct guest_regs regs = regs_at(0x5000);
	const uint8_t mov_cr3_esi[] = { 0x0F, 0x20, 0xDE };
	cr_assert_eq(run(&regs, mov_cr3_esi, sizeof(mov_cr3_esi)), EMULATE_DONE);
	cr_assert_eq(regs.esi, 0xABC000);
	cr_assert_eq(regs.eip, 0x5003);
	regs.edi = 0x11;
	const uint8_t mov_edi_cr0[] = { 0x0F, 0x22, 0xC7 };
	cr_assert_eq(run(&regs, mov_edi_cr0, sizeof(mov_edi_cr0)), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.cr0, 0x11);
	regs.edi = 0x80000011; /* paging on: the MMU takes it from here (test_mmu.c) */
	cr_assert_eq(run(&regs, mov_edi_cr0, sizeof(mov_edi_cr0)), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x5009);
	cr_assert_eq(virtual_cpu.cr0, 0x80000011);
	cr_assert(mmu_paging());
	regs.edx = 0x30; /* PSE and PAE: PAE is not implemented, said as such */
	const uint8_t mov_edx_cr4[] = { 0x0F, 0x22, 0xE2 };
	cr_assert_eq(run(&regs, mov_edx_cr4, sizeof(mov_edx_cr4)), EMULATE_NOT_IMPLEMENTED);
	cr_assert_str_eq(outcome.reason, "mov %edx,%cr4 sets CR4.PAE (value 0x00000030): PAE "
	                 "paging is not implemented");
	cr_assert_eq(regs.eip, 0x5009, "eip stays at the instruction");
	cr_assert_eq(virtual_cpu.cr4, 0);
}

Test(emulate, lmsw_sets_the_low_cr0_bits_but_never_clears_pe)
{
	virtual_cpu.cr0 = 0x80000011; /* PG, ET, PE */
	struct guest_regs regs = regs_at(0x5100);
	regs.eax = 0x000E; /* MP, EM, TS; PE clear */
	const uint8_t lmsw_ax[] = { 0x0F, 0x01, 0xF0 };
	cr_assert_eq(run(&regs, lmsw_ax, sizeof(lmsw_ax)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lmsw");
	cr_assert_eq(virtual_cpu.cr0, 0x8000001F, "cr0 %08x", virtual_cpu.cr0);
	cr_assert_eq(regs.eip, 0x5103);
}

Test(emulate, debug_registers_keep_what_is_written)
{
	memset(virtual_cpu.dr, 0, sizeof(virtual_cpu.dr));
	struct guest_regs regs = regs_at(0x5200);
	regs.ecx = 0xC0FFEE;
	const uint8_t mov_ecx_dr1[] = { 0x0F, 0x23, 0xC9 };
	cr_assert_eq(run(&regs, mov_ecx_dr1, sizeof(mov_ecx_dr1)), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.dr[1], 0xC0FFEE);
	const uint8_t mov_dr1_ebx[] = { 0x0F, 0x21, 0xCB };
	cr_assert_eq(run(&regs, mov_dr1_ebx, sizeof(mov_dr1_ebx)), EMULATE_DONE);
	cr_assert_eq(regs.ebx, 0xC0FFEE);
	regs.edx = 0x400;
	const uint8_t mov_edx_dr5[] = { 0x0F, 0x23, 0xEA }; /* DR5 is DR7 */
	cr_assert_eq(run(&regs, mov_edx_dr5, sizeof(mov_edx_dr5)), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.dr[7], 0x400);
	cr_assert_eq(regs.eip, 0x5209);
}

Test(emulate, rdmsr_reads_the_msrs_a_kernel_reads_at_boot)
{
	use_full_cpuid();
	uint64_t before = msr_value(0x10), after = msr_value(0x10); /* the TSC runs */
	cr_assert_gt(after, before);
	cr_assert_eq(msr_value(0x17), 0, "PLATFORM_ID");
	cr_assert_eq(msr_value(0x1B), 0xFEE00100, "APIC base: the BSP's, disabled");
	cr_assert_eq(msr_value(0x8B) >> 32, 1, "BIOS_SIGN_ID: microcode revision 1");
	for (uint32_t msr = 0x174; msr <= 0x176; msr++)
		cr_assert_eq(msr_value(msr), 0, "SYSENTER MSR 0x%x at boot", msr);
	/* fast strings, no BTS, no PEBS, MONITOR as CPUID says */
	cr_assert_eq(msr_value(0x1A0), 0x41801, "MISC_ENABLE");
	cr_assert_eq(msr_value(0xFE), 0, "MTRRCAP: no variable or fixed ranges, no WC");
	cr_assert_eq(msr_value(0x2FF), 0x806, "MTRR default type: enabled, write-back");
	cr_assert_eq(msr_value(0x277), 0x0007040600070406ull, "PAT at power-on");
	cr_assert_eq(msr_value(0xC0000080u), 0, "EFER");
}

Test(emulate, wrmsr_keeps_what_a_cpu_keeps_and_refuses_the_rest)
{
	use_full_cpuid();
	cr_assert(write_msr(0x174, 0x60));
	cr_assert(write_msr(0x175, 0xC0008000));
	cr_assert(write_msr(0x176, 0xC0100000));
	cr_assert_eq(msr_value(0x174), 0x60);
	cr_assert_eq(msr_value(0x175), 0xC0008000);
	cr_assert_eq(msr_value(0x176), 0xC0100000);
	cr_assert(write_msr(0x277, 0x0000000500070106ull), "PAT: UC, WC, UC-, WP");
	cr_assert_eq(msr_value(0x277), 0x0000000500070106ull);
	cr_assert(!write_msr(0x277, 0x0000000000000002ull), "PAT: type 2 is reserved");
	cr_assert(!write_msr(0x277, 0x0000000000000016ull), "PAT: bits 3-7 of an entry");
	cr_assert_eq(msr_value(0x277), 0x0000000500070106ull, "a refused write changes nothing");
	cr_assert(write_msr(0x2FF, 0), "MTRRs off, as a kernel does around an update");
	cr_assert(write_msr(0x2FF, 0x806));
	cr_assert_eq(msr_value(0x2FF), 0x806);
	cr_assert(!write_msr(0x2FF, 0xC06), "FE: there are no fixed ranges");
	cr_assert(!write_msr(0x2FF, 0x802), "type 2 is reserved");
	cr_assert(write_msr(0xC0000080u, 0x801), "EFER: NXE and SCE, as advertised");
	cr_assert_eq(msr_value(0xC0000080u), 0x801);
	cr_assert(!write_msr(0xC0000080u, 0x400), "EFER.LMA is read-only");
	cr_assert(!write_msr(0xC0000080u, 0x2), "EFER: a reserved bit");
	cr_assert(write_msr(0x1A0, 0x41800), "MISC_ENABLE: fast strings off");
	cr_assert_eq(msr_value(0x1A0), 0x41800);
	cr_assert(!write_msr(0x1A0, 0x41800 | (1ull << 22)), "limit CPUID: CPUID is the host's");
	cr_assert(write_msr(0x8B, 0), "BIOS_SIGN_ID is cleared before cpuid");
	cr_assert_eq(msr_value(0x8B) >> 32, 1);
	cr_assert(write_msr(0x1B, 0xFEE00100), "the APIC base as it is");
	cr_assert(!write_msr(0x1B, 0xFEE00900), "enabling an APIC vmirun does not have");
	cr_assert(!write_msr(0x10, 0), "guest time is the host's");
	cr_assert(!write_msr(0x17, 0), "PLATFORM_ID is read-only");
	cr_assert(!write_msr(0xFE, 0), "MTRRCAP is read-only");
}

Test(emulate, msrs_exist_only_where_the_cpuid_says_and_unknown_ones_are_gp)
{
	use_bare_cpuid();
	uint64_t value;
	static const uint32_t absent[] = { 0xFE, 0x2FF, 0x277, 0xC0000080u, /* MTRR PAT EFER */
	                                   0x3A, 0x200, 0xC0010015u, 0x12345678 };
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
		cr_assert(!read_msr(absent[i], &value), "rdmsr 0x%x", absent[i]);
		cr_assert(!write_msr(absent[i], 0), "wrmsr 0x%x", absent[i]);
	}
	cr_assert_eq(msr_value(0x1A0), 0x1801, "MISC_ENABLE without MONITOR");
	fake.edx_ext = EXT_NX; /* EFER exists, with NXE alone writable */
	msr_use_cpuid_source(fake_cpuid);
	cr_assert_eq(msr_value(0xC0000080u), 0);
	cr_assert(!write_msr(0xC0000080u, 0x100), "LME without long mode");
	cr_assert(write_msr(0xC0000080u, 0x800));
}

Test(emulate, the_model_follows_the_host_cpuid)
{
	unsigned a, b, c, d, max_extended;
	__cpuid(1, a, b, c, d);
	uint64_t value;
	cr_assert_eq(read_msr(0xFE, &value), (d >> 12) & 1, "MTRRCAP as CPUID.1:EDX.MTRR");
	cr_assert_eq(read_msr(0x2FF, &value), (d >> 12) & 1);
	cr_assert_eq(read_msr(0x277, &value), (d >> 16) & 1, "PAT as CPUID.1:EDX.PAT");
	cr_assert_eq((msr_value(0x1A0) >> 18) & 1, (c >> 3) & 1, "MISC_ENABLE's MONITOR bit");
	max_extended = __get_cpuid_max(0x80000000u, NULL);
	unsigned extended = 0;
	if (max_extended >= 0x80000001u) {
		__cpuid(0x80000001u, a, b, c, extended);
	}
	int has_efer = (extended & (EXT_SYSCALL | EXT_NX | EXT_LM)) != 0;
	cr_assert_eq(read_msr(0xC0000080u, &value), has_efer, "EFER as CPUID.80000001H:EDX");
}

Test(emulate, cpuid_is_the_virtual_cpuid_in_any_ring)
{
	use_full_cpuid();
	const uint8_t cpuid[] = { 0x0F, 0xA2 };
	struct guest_regs regs = regs_at(0x5380);
	regs.eax = 1;
	regs.ebx = 0xFFFFFFFF;
	cr_assert_eq(run(&regs, cpuid, sizeof cpuid), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "cpuid");
	cr_assert_eq(regs.eax, 0x6F1);
	cr_assert_eq(regs.ebx, 0);
	cr_assert_eq(regs.ecx, ECX1_MONITOR | 0x80000000u, "the hypervisor bit is set");
	cr_assert_eq(regs.edx, fake.edx1);
	cr_assert_eq(regs.eip, 0x5382);
	virtual_cpu_set_code_selector(VMI_PROCESS_USER_CS); /* no privilege needed */
	regs.eax = 0x80000001u;
	cr_assert_eq(run(&regs, cpuid, sizeof cpuid), EMULATE_DONE);
	cr_assert_eq(regs.edx, fake.edx_ext);
	cr_assert_eq(regs.eip, 0x5384);
}

static void virtual_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	msr_cpuid(leaf, subleaf, out);
}

/* What vmirun does not give is not advertised (the APIC, which APIC_BASE says is disabled;
 * x2APIC; TSC deadline; XSAVE and what needs it), the rest of the host's is; and the CR4
 * bits follow: OSXSAVE, PKE and CET are #GP. */
Test(emulate, the_virtual_cpuid_hides_what_vmirun_does_not_give)
{
	msr_use_cpuid_source(cpuid_every_feature);
	uint32_t out[4];
	virtual_cpuid(1, 0, out);
	cr_assert_eq(out[3], ~(1u << 9), "leaf 1 EDX: all but APIC: %08x", out[3]);
	cr_assert_eq(out[2], ~((1u << 12) | (1u << 21) | (1u << 24) | (1u << 26) | (1u << 27) |
	                       (1u << 28) | (1u << 29)),
	             "leaf 1 ECX: all but FMA, x2APIC, TSC deadline, XSAVE, OSXSAVE, AVX, F16C: "
	             "%08x", out[2]);
	virtual_cpuid(7, 0, out);
	cr_assert_eq(out[1] & (1u << 5 | 1u << 16), 0, "no AVX2, no AVX-512: %08x", out[1]);
	cr_assert(out[1] & (1u << 7 | 1u << 20), "SMEP and SMAP stay: %08x", out[1]);
	cr_assert_eq(out[2] & (1u << 3 | 1u << 7), 0, "no PKU, no CET: %08x", out[2]);
	cr_assert(out[2] & (1u << 2), "UMIP stays: %08x", out[2]);
	virtual_cpuid(7, 1, out);
	cr_assert_eq(out[0] & (1u << 4 | 1u << 5), 0, "no AVX-VNNI, no AVX-512 BF16: %08x", out[0]);
	virtual_cpuid(0xD, 0, out);
	cr_assert(!out[0] && !out[1] && !out[2] && !out[3], "no XSAVE leaf");
	virtual_cpuid(0x80000001u, 0, out);
	cr_assert_eq(out[2] & (1u << 11 | 1u << 16), 0, "no XOP, no FMA4: %08x", out[2]);
	cr_assert_eq(out[3], 0xFFFFFFFF, "extended EDX untouched");

	struct guest_regs regs = regs_at(0x5400);
	const uint8_t mov_eax_cr4[] = { 0x0F, 0x22, 0xE0 };
	static const uint32_t hidden_cr4[] = { 0x40000 /* OSXSAVE */, 0x400000 /* PKE */,
	                                       0x800000 /* CET */ };
	for (size_t i = 0; i < sizeof hidden_cr4 / sizeof hidden_cr4[0]; i++) {
		regs.eax = 0x10 | hidden_cr4[i];
		expect_gp0(&regs, mov_eax_cr4, sizeof mov_eax_cr4);
	}
	regs.eax = 0x10 | 0x100000 | 0x200000;   /* PSE, SMEP, SMAP: advertised */
	cr_assert_eq(run(&regs, mov_eax_cr4, sizeof mov_eax_cr4), EMULATE_DONE);
}

Test(emulate, far_jump_to_a_selector_the_guest_never_defined_is_gp)
{
	struct guest_regs regs = regs_at(0x6000);
	const uint8_t ljmp[] = { 0xEA, 0x00, 0x10, 0x10, 0x00, 0x08, 0x00 };
	cr_assert_eq(run(&regs, ljmp, sizeof(ljmp)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 13);
	cr_assert_eq(outcome.error_code, 0x08);
	cr_assert_eq(regs.eip, 0x6000);
}

Test(emulate, lgdt_of_memory_that_is_not_the_guests_is_gp)
{
	struct guest_regs regs = regs_at(0x7000);
	const uint8_t lgdt[] = { 0x0F, 0x01, 0x15, 0x00, 0x00, 0x00, 0x50 };
	cr_assert_eq(run(&regs, lgdt, sizeof(lgdt)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 13);
	cr_assert_str_eq(outcome.mnemonic, "lgdt");
	cr_assert_eq(regs.eip, 0x7000, "eip must stay on the faulting instruction");
}

Test(emulate, refuses_the_rest_without_touching_registers)
{
	static const struct { uint8_t code[3]; size_t length; } cases[] = {
		{ { 0x0F, 0x0B }, 2 },       /* ud2 */
		{ { 0x0F, 0x01, 0xC1 }, 3 }, /* vmcall */
		{ { 0x0F, 0x22, 0x08 }, 3 }, /* mov to cr with a memory operand: invalid */
		{ { 0x66, 0xF4 }, 2 },
		{ { 0x66, 0x66, 0x66 }, 3 }, /* prefixes and nothing else */
		{ { 0xE4 }, 1 },             /* truncated */
		{ { 0x90 }, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guest_regs regs = regs_at(0x5000);
		cr_assert_eq(run(&regs, cases[i].code, cases[i].length), EMULATE_UNSUPPORTED,
		             "case %zu", i);
		cr_assert_eq(regs.eip, 0x5000);
		cr_assert_eq(regs.eax, 0x11223344);
	}
}

/* The ModRM/SIB decoder against Capstone, over random encodings of lgdt. */
Test(emulate, modrm_decoder_agrees_with_capstone)
{
	csh handle;
	cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_32, &handle), CS_ERR_OK);
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	srand(12345);
	struct guest_regs regs = { .eax = 0x1000, .ecx = 0x2000, .edx = 0x3000, .ebx = 0x4000,
	                          .esp = 0x5000, .ebp = 0x6000, .esi = 0x7000, .edi = 0x8000 };
	const uint32_t values[8] = { 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000, 0x8000 };
	const x86_reg names[8] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
	                           X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI };
	int checked = 0;
	for (int i = 0; i < 5000; i++) {
		uint8_t code[12] = { 0x0F, 0x01 };
		for (int b = 2; b < 12; b++)
			code[b] = (uint8_t)rand();
		code[2] = (uint8_t)((code[2] & 0xC7) | (2 << 3)); /* /2: lgdt */
		if ((code[2] >> 6) == 3)
			continue; /* lgdt needs memory */
		cs_insn *insn;
		if (cs_disasm(handle, code, sizeof(code), 0x1000, 1, &insn) != 1)
			continue;
		unsigned reg;
		int is_register;
		uint32_t address;
		int used = emulate_decode_modrm(&regs, code + 2, sizeof(code) - 2, &reg, &is_register,
		                                &address);
		cr_assert_eq(used + 2, insn[0].size, "length for %s %s", insn[0].mnemonic, insn[0].op_str);
		cr_assert_eq(reg, 2);
		cr_assert(!is_register);
		x86_op_mem *mem = &insn[0].detail->x86.operands[0].mem;
		uint32_t expected = (uint32_t)mem->disp;
		for (int r = 0; r < 8; r++) {
			if (mem->base == names[r])
				expected += values[r];
			if (mem->index == names[r])
				expected += values[r] * (uint32_t)mem->scale;
		}
		cr_assert_eq(address, expected, "address for %s %s", insn[0].mnemonic, insn[0].op_str);
		cs_free(insn, 1);
		checked++;
	}
	cs_close(&handle);
	cr_assert_gt(checked, 3000);
}

Test(emulate, cli_sti_and_the_sti_hlt_shadow)
{
	struct guest_regs regs = regs_at(0x5400);
	const uint8_t cli[] = { 0xFA }, sti_nop[] = { 0xFB, 0x90 }, sti_hlt[] = { 0xFB, 0xF4 };
	virtual_cpu_set_interrupts_enabled(1); /* so that cli has something to clear */
	cr_assert_eq(run(&regs, cli, sizeof(cli)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "cli");
	cr_assert(!virtual_cpu_interrupts_enabled());
	cr_assert_eq(regs.eip, 0x5401);
	cr_assert_eq(run(&regs, sti_nop, sizeof(sti_nop)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "sti");
	cr_assert(virtual_cpu_interrupts_enabled());
	cr_assert_eq(regs.eip, 0x5402, "sti alone is one byte");
	virtual_cpu_set_interrupts_enabled(0);
	/* no interrupt may come between the two: both are taken at once, as a halt */
	cr_assert_eq(run(&regs, sti_hlt, sizeof(sti_hlt)), EMULATE_HALT);
	cr_assert_str_eq(outcome.mnemonic, "sti");
	cr_assert(virtual_cpu_interrupts_enabled());
	cr_assert_eq(regs.eip, 0x5404);
}

Test(emulate, clts_invd_wbinvd_and_invlpg)
{
	virtual_cpu.cr0 = 0x8000001B; /* PG, ET, TS, MP, PE */
	struct guest_regs regs = regs_at(0x5500);
	const uint8_t clts[] = { 0x0F, 0x06 }, invd[] = { 0x0F, 0x08 }, wbinvd[] = { 0x0F, 0x09 };
	cr_assert_eq(run(&regs, clts, sizeof(clts)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "clts");
	cr_assert_eq(virtual_cpu.cr0, 0x80000013, "cr0 %08x", virtual_cpu.cr0);
	cr_assert_eq(run(&regs, invd, sizeof(invd)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "invd");
	cr_assert_eq(run(&regs, wbinvd, sizeof(wbinvd)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "wbinvd");
	cr_assert_eq(regs.eip, 0x5506);
	virtual_cpu.cr0 = 0x11;
	/* invlpg (%eax) and invlpg 0x12345678: the operand's length counts, memory is not read */
	const uint8_t invlpg_eax[] = { 0x0F, 0x01, 0x38 };
	const uint8_t invlpg_disp32[] = { 0x0F, 0x01, 0x3D, 0x78, 0x56, 0x34, 0x12 };
	cr_assert_eq(run(&regs, invlpg_eax, sizeof(invlpg_eax)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "invlpg");
	cr_assert_eq(regs.eip, 0x5509);
	cr_assert_eq(run(&regs, invlpg_disp32, sizeof(invlpg_disp32)), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x5510);
}

Test(emulate, user_mode_gets_gp_for_kernel_instructions_only)
{
	virtual_cpu_set_code_selector(VMI_PROCESS_USER_CS);
	static const struct { uint8_t code[3]; size_t length; } kernel_only[] = {
		{ { 0xEC }, 1 }, { { 0xE6, 0x80 }, 2 }, { { 0x66, 0xEF }, 2 },  /* in, out */
		{ { 0xF3, 0x6C }, 2 }, { { 0x6F }, 1 },                       /* ins, outs */
		{ { 0xF4 }, 1 }, { { 0xFA }, 1 }, { { 0xFB }, 1 },           /* hlt, cli, sti */
		{ { 0x0F, 0x20, 0xC0 }, 3 }, { { 0x0F, 0x22, 0xD8 }, 3 },    /* mov from/to CR */
		{ { 0x0F, 0x21, 0xC0 }, 3 }, { { 0x0F, 0x23, 0xC0 }, 3 },    /* mov from/to DR0 */
		{ { 0x0F, 0x32 }, 2 }, { { 0x0F, 0x30 }, 2 },                /* rdmsr, wrmsr */
		{ { 0x0F, 0x00, 0xD0 }, 3 }, { { 0x0F, 0x00, 0xD8 }, 3 },    /* lldt, ltr */
		{ { 0x0F, 0x01, 0x10 }, 3 }, { { 0x0F, 0x01, 0x18 }, 3 },    /* lgdt, lidt */
		{ { 0x0F, 0x01, 0xF0 }, 3 }, { { 0x0F, 0x01, 0x38 }, 3 },    /* lmsw, invlpg */
		{ { 0x0F, 0x06 }, 2 }, { { 0x0F, 0x08 }, 2 }, { { 0x0F, 0x09 }, 2 }, /* clts invd wbinvd */
		{ { 0x0F, 0x01, 0xD0 }, 3 }, /* refused in ring 0 too, but #GP first here */
		{ { 0x0F, 0x00 }, 2 },       /* no ModRM to tell a store from a load */
	};
	for (size_t i = 0; i < sizeof(kernel_only) / sizeof(kernel_only[0]); i++) {
		struct guest_regs regs = regs_at(0x5600);
		cr_assert_eq(run(&regs, kernel_only[i].code, kernel_only[i].length),
		             EMULATE_INTERRUPT, "case %zu", i);
		cr_assert_eq(outcome.vector, 13);
		cr_assert_eq(outcome.error_code, 0);
		cr_assert_str_eq(outcome.mnemonic, "privileged instruction in user mode");
		cr_assert_eq(regs.eip, 0x5600);
		cr_assert_eq(regs.eax, 0x11223344);
	}
	struct guest_regs regs = regs_at(0x5600);
	const uint8_t int80[] = { 0xCD, 0x80 }, iret[] = { 0xCF }, mov_ds_ax[] = { 0x8E, 0xD8 };
	cr_assert_eq(run(&regs, int80, sizeof(int80)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 0x80);
	cr_assert_eq(outcome.software_length, 2);
	regs = regs_at(0x5600);
	cr_assert_eq(run(&regs, iret, sizeof(iret)), EMULATE_INTERRUPT);
	cr_assert_str_eq(outcome.mnemonic, "iret");
	cr_assert_eq(outcome.vector, 13);
	cr_assert_eq(regs.eip, 0x5600);
	regs.eax = 0xABCD0000; /* a null data selector: allowed in any ring */
	cr_assert_eq(run(&regs, mov_ds_ax, sizeof(mov_ds_ax)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "mov to segment register");
	cr_assert_eq(regs.eip, 0x5602);
}

Test(emulate, four_prefixes_at_most)
{
	struct guest_regs regs = regs_at(0x5700);
	const uint8_t four[] = { 0xF3, 0xF3, 0xF3, 0xF3, 0xEC };
	const uint8_t five[] = { 0xF3, 0xF3, 0xF3, 0xF3, 0xF3, 0xEC };
	cr_assert_eq(run(&regs, four, sizeof(four)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "in");
	cr_assert_eq(regs.eip, 0x5705);
	cr_assert_eq(run(&regs, five, sizeof(five)), EMULATE_UNSUPPORTED);
	cr_assert_eq(regs.eip, 0x5705);
}

Test(emulate, segment_loads_and_far_transfers_without_a_gdt)
{
	struct guest_regs regs = regs_at(0x5800);
	regs.eax = 0x10;
	const uint8_t mov_es_ax[] = { 0x8E, 0xC0 };
	cr_assert_eq(run(&regs, mov_es_ax, sizeof(mov_es_ax)), EMULATE_INTERRUPT);
	cr_assert_str_eq(outcome.mnemonic, "mov to segment register");
	cr_assert_eq(outcome.error_code, 0x10);
	const uint8_t lcall[] = { 0x9A, 0x00, 0x10, 0x10, 0x00, 0x0B, 0x00 };
	cr_assert_eq(run(&regs, lcall, sizeof(lcall)), EMULATE_INTERRUPT);
	cr_assert_str_eq(outcome.mnemonic, "lcall");
	cr_assert_eq(outcome.error_code, 0x08, "the RPL is not part of the error code");
	/* a pointer in memory that is not the guest's: #GP(0) */
	const uint8_t ljmp_m[] = { 0xFF, 0x2D, 0x00, 0x00, 0x20, 0x00 };
	const uint8_t lcall_m[] = { 0xFF, 0x5D, 0x04 };
	cr_assert_eq(run(&regs, ljmp_m, sizeof(ljmp_m)), EMULATE_INTERRUPT);
	cr_assert_str_eq(outcome.mnemonic, "ljmp");
	cr_assert_eq(outcome.error_code, 0);
	cr_assert_eq(run(&regs, lcall_m, sizeof(lcall_m)), EMULATE_INTERRUPT);
	cr_assert_str_eq(outcome.mnemonic, "lcall");
	cr_assert_eq(regs.eip, 0x5800);
	cr_assert_eq(regs.esp, 0x8000);
}

Test(emulate, group_6_loads_a_null_ldt_and_refuses_the_rest)
{
	virtual_cpu.ldt_selector = 0x38;
	struct guest_regs regs = regs_at(0x5900);
	regs.eax = 0x12340000; /* lldt takes 16 bits: a null selector */
	const uint8_t lldt_ax[] = { 0x0F, 0x00, 0xD0 }, ltr_ax[] = { 0x0F, 0x00, 0xD8 };
	cr_assert_eq(run(&regs, lldt_ax, sizeof(lldt_ax)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lldt");
	cr_assert_eq(virtual_cpu.ldt_selector, 0);
	cr_assert_eq(regs.eip, 0x5903);
	cr_assert_eq(run(&regs, ltr_ax, sizeof(ltr_ax)), EMULATE_INTERRUPT, "a null TSS");
	cr_assert_str_eq(outcome.mnemonic, "ltr");
	cr_assert_eq(outcome.vector, 13);
	cr_assert_eq(regs.eip, 0x5903);
	/* lldt (%eax), which is not guest memory */
	const uint8_t lldt_m[] = { 0x0F, 0x00, 0x10 };
	cr_assert_eq(run(&regs, lldt_m, sizeof(lldt_m)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 13);
	cr_assert_eq(outcome.error_code, 0);
	cr_assert_eq(regs.eip, 0x5903);
}

Test(emulate, refuses_malformed_members_of_the_groups)
{
	static const struct { uint8_t code[8]; size_t length; } cases[] = {
		{ { 0x0F }, 1 },                         /* the escape alone */
		{ { 0xCD }, 1 },                         /* int without its vector */
		{ { 0xF3, 0xF4 }, 2 },                   /* hlt takes no prefix */
		{ { 0x66, 0xCF }, 2 },                   /* 16-bit iret */
		{ { 0x0F, 0x22 }, 2 },                   /* mov to cr without its ModRM */
		{ { 0x0F, 0x20, 0x18 }, 3 },             /* mov from cr3 to memory: invalid */
		{ { 0x0F, 0x23, 0x08 }, 3 },             /* mov to dr1 from memory: invalid */
		{ { 0x0F, 0x21 }, 2 },                   /* mov from dr without its ModRM */
		{ { 0x0F, 0x00, 0xE0 }, 3 },             /* verr, which never traps */
		{ { 0x0F, 0x01, 0xD0 }, 3 },             /* /2 with a register: xgetbv */
		{ { 0x0F, 0x01, 0x15, 0x00 }, 4 },       /* lgdt with its disp32 cut short */
		{ { 0x0F, 0x01, 0x28 }, 3 },             /* 0F 01 /5 with memory: no i386 has it */
		{ { 0x0F, 0x01, 0xC8 }, 3 },             /* /1 with a register: monitor */
		{ { 0x8E, 0xC8 }, 2 },                   /* mov to %cs */
		{ { 0x8E, 0xF0 }, 2 },                   /* segment register 6 */
		{ { 0xFF, 0xE8 }, 2 },                   /* ljmp needs memory */
		{ { 0xFF, 0x30 }, 2 },                   /* push (%eax) */
		{ { 0x66, 0xFF, 0x28 }, 3 },             /* 16-bit ljmp m16:16 */
		{ { 0x66, 0xEA, 0, 0, 0, 0, 0x08, 0 }, 8 }, /* 16-bit ljmp ptr16:16 */
		{ { 0xEA, 0, 0x10, 0, 0, 0x08 }, 6 },    /* ptr16:32 cut short */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guest_regs regs = regs_at(0x5A00);
		cr_assert_eq(run(&regs, cases[i].code, cases[i].length), EMULATE_UNSUPPORTED,
		             "case %zu", i);
		cr_assert_str_eq(outcome.mnemonic, "?", "case %zu", i);
		cr_assert_eq(regs.eip, 0x5A00, "case %zu", i);
		cr_assert_eq(regs.esp, 0x8000, "case %zu", i);
	}
}

Test(emulate, mov_to_cr0_checks_what_a_cpu_checks)
{
	struct guest_regs regs = regs_at(0x5B00);
	const uint8_t mov_eax_cr0[] = { 0x0F, 0x22, 0xC0 }, mov_cr0_ecx[] = { 0x0F, 0x20, 0xC1 };
	regs.eax = 0x6000002B; /* CD NW NE TS MP PE, ET left clear */
	cr_assert_eq(run(&regs, mov_eax_cr0, sizeof mov_eax_cr0), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "mov to cr");
	cr_assert_eq(virtual_cpu.cr0, 0x6000003B, "ET is fixed at 1: cr0 %08x", virtual_cpu.cr0);
	cr_assert_eq(run(&regs, mov_cr0_ecx, sizeof mov_cr0_ecx), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "mov from cr");
	cr_assert_eq(regs.ecx, 0x6000003B);
	cr_assert_eq(regs.eip, 0x5B06);
	regs.eax = 0x0000FF11; /* reserved bits 6-15 stay clear */
	cr_assert_eq(run(&regs, mov_eax_cr0, sizeof mov_eax_cr0), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.cr0, 0x11, "cr0 %08x", virtual_cpu.cr0);
	regs.eax = 0x80000010; /* PG without PE */
	expect_gp0(&regs, mov_eax_cr0, sizeof mov_eax_cr0);
	regs.eax = 0x20000011; /* NW without CD */
	expect_gp0(&regs, mov_eax_cr0, sizeof mov_eax_cr0);
	cr_assert_eq(virtual_cpu.cr0, 0x11, "refused loads change nothing");
	regs.eax = 0x10; /* back to real mode */
	cr_assert_eq(run(&regs, mov_eax_cr0, sizeof mov_eax_cr0), EMULATE_NOT_IMPLEMENTED);
	cr_assert_str_eq(outcome.reason, "mov %eax,%cr0 clears CR0.PE (value 0x00000010): real "
	                 "mode is not implemented");
	cr_assert_eq(virtual_cpu.cr0, 0x11);
}

Test(emulate, mov_to_and_from_cr2_and_cr3)
{
	struct guest_regs regs = regs_at(0x5C00);
	regs.ebx = 0xC0DE1234;
	const uint8_t mov_ebx_cr2[] = { 0x0F, 0x22, 0xD3 }, mov_cr2_edx[] = { 0x0F, 0x20, 0xD2 };
	cr_assert_eq(run(&regs, mov_ebx_cr2, sizeof mov_ebx_cr2), EMULATE_DONE);
	cr_assert_eq(virtual_cpu_shared()->cr2, 0xC0DE1234, "CR2 is the shared page's");
	virtual_cpu_shared()->cr2 = 0xABCD0000; /* as a #PF delivery would set it */
	cr_assert_eq(run(&regs, mov_cr2_edx, sizeof mov_cr2_edx), EMULATE_DONE);
	cr_assert_eq(regs.edx, 0xABCD0000);
	regs.esi = 0x00345000;
	const uint8_t mov_esi_cr3[] = { 0x0F, 0x22, 0xDE }, mov_cr3_edi[] = { 0x0F, 0x20, 0xDF };
	cr_assert_eq(run(&regs, mov_esi_cr3, sizeof mov_esi_cr3), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.cr3, 0x00345000);
	cr_assert_eq(run(&regs, mov_cr3_edi, sizeof mov_cr3_edi), EMULATE_DONE);
	cr_assert_eq(regs.edi, 0x00345000);
	cr_assert_eq(regs.eip, 0x5C0C);
}

Test(emulate, mov_to_cr4_takes_only_what_the_cpuid_advertises)
{
	use_full_cpuid();
	struct guest_regs regs = regs_at(0x5D00);
	const uint8_t mov_eax_cr4[] = { 0x0F, 0x22, 0xE0 }, mov_cr4_ebx[] = { 0x0F, 0x20, 0xE3 };
	regs.eax = 0x190; /* PSE, PGE, PCE */
	cr_assert_eq(run(&regs, mov_eax_cr4, sizeof mov_eax_cr4), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.cr4, 0x190);
	cr_assert_eq(run(&regs, mov_cr4_ebx, sizeof mov_cr4_ebx), EMULATE_DONE);
	cr_assert_eq(regs.ebx, 0x190);
	static const uint32_t refused[] = {
		0x100000,  /* SMEP: not in this CPUID */
		0x20000,   /* PCIDE: long mode only */
		0x8000,    /* reserved */
		0x1,       /* VME: not in this CPUID */
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		regs.eax = 0x10 | refused[i];
		expect_gp0(&regs, mov_eax_cr4, sizeof mov_eax_cr4);
	}
	cr_assert_eq(virtual_cpu.cr4, 0x190, "refused loads change nothing");
	fake.ebx7 = EBX7_SMEP;
	fake.edx1 &= ~EDX1_PAE;
	msr_use_cpuid_source(fake_cpuid);
	regs.eax = 0x100010;
	cr_assert_eq(run(&regs, mov_eax_cr4, sizeof mov_eax_cr4), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.cr4, 0x100010);
	regs.eax = 0x30; /* PAE where CPUID has none: #GP, not "not implemented" */
	expect_gp0(&regs, mov_eax_cr4, sizeof mov_eax_cr4);
}

Test(emulate, cr1_and_cr5_to_cr7_are_invalid_opcodes)
{
	static const uint8_t cases[][3] = {
		{ 0x0F, 0x20, 0xC8 }, { 0x0F, 0x22, 0xC8 },  /* CR1 */
		{ 0x0F, 0x20, 0xE8 }, { 0x0F, 0x22, 0xF0 }, { 0x0F, 0x20, 0xF8 },  /* CR5-7 */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct guest_regs regs = regs_at(0x5E00);
		expect_fault(&regs, cases[i], 3, 6, -1);
		cr_assert_eq(regs.eax, 0x11223344);
	}
}

Test(emulate, dr6_and_dr7_read_their_fixed_bits_and_dr4_dr5_need_cr4_de_clear)
{
	struct guest_regs regs = regs_at(0x5F00);
	const uint8_t mov_dr6_eax[] = { 0x0F, 0x21, 0xF0 }, mov_dr7_eax[] = { 0x0F, 0x21, 0xF8 };
	cr_assert_eq(run(&regs, mov_dr6_eax, sizeof mov_dr6_eax), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0xFFFF0FF0, "DR6 at boot: %08x", regs.eax);
	cr_assert_eq(run(&regs, mov_dr7_eax, sizeof mov_dr7_eax), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0x400, "DR7 at boot: %08x", regs.eax);
	regs.ecx = 0;
	const uint8_t mov_ecx_dr7[] = { 0x0F, 0x23, 0xF9 }, mov_ecx_dr6[] = { 0x0F, 0x23, 0xF1 };
	cr_assert_eq(run(&regs, mov_ecx_dr7, sizeof mov_ecx_dr7), EMULATE_DONE);
	cr_assert_eq(run(&regs, mov_dr7_eax, sizeof mov_dr7_eax), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0x400, "DR7 bit 10 reads 1 whatever was written");
	regs.ecx = 0x4001; /* BS and B0 */
	cr_assert_eq(run(&regs, mov_ecx_dr6, sizeof mov_ecx_dr6), EMULATE_DONE);
	cr_assert_eq(run(&regs, mov_dr6_eax, sizeof mov_dr6_eax), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0xFFFF4FF1, "DR6 %08x", regs.eax);
	cr_assert_eq(regs.eip, 0x5F12);
	/* DR3 keeps all of it; DR4 under CR4.DE is #UD */
	regs.edx = 0xFFFFFFFF;
	const uint8_t mov_edx_dr3[] = { 0x0F, 0x23, 0xDA }, mov_dr3_ebx[] = { 0x0F, 0x21, 0xDB };
	cr_assert_eq(run(&regs, mov_edx_dr3, sizeof mov_edx_dr3), EMULATE_DONE);
	cr_assert_eq(run(&regs, mov_dr3_ebx, sizeof mov_dr3_ebx), EMULATE_DONE);
	cr_assert_eq(regs.ebx, 0xFFFFFFFF);
	virtual_cpu.cr4 = 0x8; /* DE */
	const uint8_t mov_dr4_eax[] = { 0x0F, 0x21, 0xE0 }, mov_eax_dr5[] = { 0x0F, 0x23, 0xE8 };
	expect_fault(&regs, mov_dr4_eax, sizeof mov_dr4_eax, 6, -1);
	expect_fault(&regs, mov_eax_dr5, sizeof mov_eax_dr5, 6, -1);
}

Test(emulate, smsw_stores_cr0_in_a_register)
{
	virtual_cpu.cr0 = 0x8005003B;
	struct guest_regs regs = regs_at(0x6100);
	const uint8_t smsw_ecx[] = { 0x0F, 0x01, 0xE1 }, smsw_dx[] = { 0x66, 0x0F, 0x01, 0xE2 };
	cr_assert_eq(run(&regs, smsw_ecx, sizeof smsw_ecx), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "smsw");
	cr_assert_eq(regs.ecx, 0x8005003B, "a 32-bit register takes all of CR0");
	regs.edx = 0x12345678;
	cr_assert_eq(run(&regs, smsw_dx, sizeof smsw_dx), EMULATE_DONE);
	cr_assert_eq(regs.edx, 0x1234003B, "a 16-bit one its low half: %08x", regs.edx);
	cr_assert_eq(regs.eip, 0x6107);
}

/* Without CR4.UMIP an i386 lets any ring store its descriptor-table registers and the
 * machine status word; with it they are #GP outside ring 0. */
Test(emulate, descriptor_stores_run_in_user_mode_unless_cr4_umip)
{
	virtual_cpu.tr_selector = 0x30;
	virtual_cpu.ldt_selector = 0x38;
	virtual_cpu.cr0 = 0x11;
	virtual_cpu_set_code_selector(VMI_PROCESS_USER_CS);
	struct guest_regs regs = regs_at(0x6200);
	const uint8_t str_eax[] = { 0x0F, 0x00, 0xC8 }, sldt_ebx[] = { 0x0F, 0x00, 0xC3 };
	const uint8_t smsw_ecx[] = { 0x0F, 0x01, 0xE1 };
	cr_assert_eq(run(&regs, str_eax, sizeof str_eax), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "str");
	cr_assert_eq(regs.eax, 0x30);
	cr_assert_eq(run(&regs, sldt_ebx, sizeof sldt_ebx), EMULATE_DONE);
	cr_assert_eq(regs.ebx, 0x38);
	cr_assert_eq(run(&regs, smsw_ecx, sizeof smsw_ecx), EMULATE_DONE);
	cr_assert_eq(regs.ecx, 0x11);
	cr_assert_eq(regs.eip, 0x6209);
	virtual_cpu.cr4 = 0x800; /* UMIP */
	const uint8_t sgdt_m[] = { 0x0F, 0x01, 0x00 }, sidt_m[] = { 0x0F, 0x01, 0x08 };
	expect_gp0(&regs, str_eax, sizeof str_eax);
	expect_gp0(&regs, sldt_ebx, sizeof sldt_ebx);
	expect_gp0(&regs, smsw_ecx, sizeof smsw_ecx);
	expect_gp0(&regs, sgdt_m, sizeof sgdt_m);
	expect_gp0(&regs, sidt_m, sizeof sidt_m);
	cr_assert_str_eq(outcome.mnemonic, "privileged instruction in user mode");
	virtual_cpu_set_code_selector(VMI_PROCESS_KERNEL_CS); /* ring 0 may, UMIP or not */
	cr_assert_eq(run(&regs, str_eax, sizeof str_eax), EMULATE_DONE);
}

/* --- with guest memory: a kernel's GDT, with its code, data, TSS and LDT ----------------- */

#define RAM_BYTES    (1u << 20)
#define GDT          (VMI_PROCESS_RAM_BASE + 0x1000)
#define IDT          (VMI_PROCESS_RAM_BASE + 0x2000)
#define TSS          (VMI_PROCESS_RAM_BASE + 0x3000)
#define LDT          (VMI_PROCESS_RAM_BASE + 0x3800)
#define GDTR         (VMI_PROCESS_RAM_BASE + 0x4000)
#define IDTR         (VMI_PROCESS_RAM_BASE + 0x4008)
#define OPERANDS     (VMI_PROCESS_RAM_BASE + 0x5000)
#define STACK        (VMI_PROCESS_RAM_BASE + 0x6000)
#define TSS_SELECTOR 0x30
#define LDT_SELECTOR 0x38

static uint8_t *memory;

static uint64_t segment(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

static void lend_memory(void)
{
	memory = calloc(1, VMI_PROCESS_RAM_BASE + RAM_BYTES);
	cr_assert_not_null(memory);
	address_space_use_memory(memory, RAM_BYTES, 0);
	virtual_cpu_reset_state();
	uint64_t gdt[8] = { 0 };
	gdt[VMI_PROCESS_KERNEL_CS >> 3] = segment(0, 0xFFFFF, 0x9A, 0xC);
	gdt[VMI_PROCESS_KERNEL_DS >> 3] = segment(0, 0xFFFFF, 0x92, 0xC);
	gdt[TSS_SELECTOR >> 3] = segment(TSS, 103, 0x89, 0);
	gdt[LDT_SELECTOR >> 3] = segment(LDT, 15, 0x82, 0);
	memcpy(memory + GDT, gdt, sizeof gdt);
	uint8_t gdtr[6] = { sizeof gdt - 1, 0, (uint8_t)GDT, (uint8_t)(GDT >> 8),
	                    (uint8_t)(GDT >> 16), (uint8_t)(GDT >> 24) };
	uint8_t idtr[6] = { 0xFF, 0x07, (uint8_t)IDT, (uint8_t)(IDT >> 8), (uint8_t)(IDT >> 16),
	                    (uint8_t)(IDT >> 24) };
	memcpy(memory + GDTR, gdtr, sizeof gdtr);
	memcpy(memory + IDTR, idtr, sizeof idtr);
}

static void return_memory(void)
{
	free(memory);
}

TestSuite(emulate_memory, .init = lend_memory, .fini = return_memory);

static void put16(uint32_t address, uint16_t value)
{
	memcpy(memory + address, &value, 2);
}

static uint32_t get32(uint32_t address)
{
	uint32_t value;
	memcpy(&value, memory + address, 4);
	return value;
}

Test(emulate_memory, descriptor_tables_load_through_memory_operands)
{
	struct guest_regs regs = regs_at(0x101000);
	const uint8_t lgdt[] = { 0x0F, 0x01, 0x15, 0x00, 0x40, 0x10, 0x00 }; /* lgdt GDTR */
	const uint8_t lidt[] = { 0x0F, 0x01, 0x1D, 0x08, 0x40, 0x10, 0x00 }; /* lidt IDTR */
	cr_assert_eq(run(&regs, lgdt, sizeof(lgdt)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lgdt");
	cr_assert_eq(virtual_cpu.gdt_base, GDT);
	cr_assert_eq(virtual_cpu.gdt_limit, 63);
	cr_assert_eq(run(&regs, lidt, sizeof(lidt)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lidt");
	cr_assert_eq(virtual_cpu.idt_base, IDT);
	cr_assert_eq(regs.eip, 0x10100E);
	/* lldt (%ebx), with a SIB byte: base ebx, no index */
	put16(OPERANDS, LDT_SELECTOR);
	regs.ebx = OPERANDS;
	const uint8_t lldt_sib[] = { 0x0F, 0x00, 0x14, 0x23 };
	cr_assert_eq(run(&regs, lldt_sib, sizeof(lldt_sib)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lldt");
	cr_assert_eq(virtual_cpu.ldt_selector, LDT_SELECTOR);
	cr_assert_eq(regs.eip, 0x101012);
	regs.ecx = 0xFFFF0000 | TSS_SELECTOR;
	const uint8_t ltr_cx[] = { 0x0F, 0x00, 0xD9 };
	cr_assert_eq(run(&regs, ltr_cx, sizeof(ltr_cx)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "ltr");
	cr_assert_eq(virtual_cpu.tr_selector, TSS_SELECTOR);
	cr_assert_eq(regs.eip, 0x101015);
	cr_assert_eq(run(&regs, ltr_cx, sizeof(ltr_cx)), EMULATE_INTERRUPT, "the TSS is busy now");
	cr_assert_eq(regs.eip, 0x101015);
	/* lmsw from memory, with a disp8 */
	put16(OPERANDS + 8, 0xFFF6); /* MP and EM, PE clear: PE stays */
	const uint8_t lmsw_m[] = { 0x0F, 0x01, 0x73, 0x08 };
	cr_assert_eq(run(&regs, lmsw_m, sizeof(lmsw_m)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lmsw");
	cr_assert_eq(virtual_cpu.cr0, 0x17, "cr0 %08x", virtual_cpu.cr0);
	cr_assert_eq(regs.eip, 0x101019);
}

Test(emulate_memory, segment_loads_check_the_descriptor)
{
	cr_assert_eq(descriptors_set_gdt(GDTR), 0);
	struct guest_regs regs = regs_at(0x101000);
	put16(OPERANDS, VMI_PROCESS_KERNEL_DS);
	const uint8_t mov_ds_m[] = { 0x8E, 0x1D, 0x00, 0x50, 0x10, 0x00 };
	cr_assert_eq(run(&regs, mov_ds_m, sizeof(mov_ds_m)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "mov to segment register");
	cr_assert_eq(regs.eip, 0x101006);
	regs.eax = TSS_SELECTOR; /* a system descriptor is no data segment */
	const uint8_t mov_fs_ax[] = { 0x8E, 0xE0 };
	cr_assert_eq(run(&regs, mov_fs_ax, sizeof(mov_fs_ax)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.error_code, TSS_SELECTOR);
	cr_assert_eq(regs.eip, 0x101006);
}

Test(emulate_memory, far_calls_push_the_return_and_far_jumps_go)
{
	cr_assert_eq(descriptors_set_gdt(GDTR), 0);
	struct guest_regs regs = regs_at(0x101000);
	regs.esp = STACK;
	const uint8_t lcall[] = { 0x9A, 0x00, 0x20, 0x10, 0x00, VMI_PROCESS_KERNEL_CS, 0x00 };
	cr_assert_eq(run(&regs, lcall, sizeof(lcall)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lcall");
	cr_assert_eq(regs.eip, 0x102000);
	cr_assert_eq(regs.esp, STACK - 8);
	cr_assert_eq(get32(STACK - 8), 0x101007, "returns after the 7 bytes");
	cr_assert_eq(get32(STACK - 4), VMI_PROCESS_KERNEL_CS);
	cr_assert_eq(virtual_cpu_shared()->cs, VMI_PROCESS_KERNEL_CS);
	/* lcall *OPERANDS(,%esi,4), the pointer m16:32 in memory */
	memcpy(memory + OPERANDS + 16, &(uint32_t){ 0x103000 }, 4);
	put16(OPERANDS + 20, VMI_PROCESS_KERNEL_CS);
	regs.esi = 4;
	const uint8_t lcall_m[] = { 0xFF, 0x1C, 0xB5, 0x00, 0x50, 0x10, 0x00 };
	cr_assert_eq(run(&regs, lcall_m, sizeof(lcall_m)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lcall");
	cr_assert_eq(regs.eip, 0x103000);
	cr_assert_eq(get32(STACK - 16), 0x102007);
	const uint8_t ljmp_m[] = { 0xFF, 0x2C, 0xB5, 0x00, 0x50, 0x10, 0x00 };
	cr_assert_eq(run(&regs, ljmp_m, sizeof(ljmp_m)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "ljmp");
	cr_assert_eq(regs.eip, 0x103000);
	cr_assert_eq(regs.esp, STACK - 16, "a jump pushes nothing");
	/* the selector's RPL is not the ring: the current one stays */
	const uint8_t ljmp_rpl3[] = { 0xEA, 0x00, 0x40, 0x10, 0x00, VMI_PROCESS_KERNEL_CS | 3, 0 };
	cr_assert_eq(run(&regs, ljmp_rpl3, sizeof(ljmp_rpl3)), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x104000);
	cr_assert_eq(virtual_cpu_shared()->cs, VMI_PROCESS_KERNEL_CS);
	cr_assert_eq(virtual_cpu_ring(), 0);
	put16(OPERANDS + 20, VMI_PROCESS_KERNEL_DS); /* data is no place to jump to */
	cr_assert_eq(run(&regs, ljmp_m, sizeof(ljmp_m)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.error_code, VMI_PROCESS_KERNEL_DS);
	cr_assert_eq(regs.eip, 0x104000);
}

Test(emulate_memory, string_io_moves_each_item_and_steps_as_df_says)
{
	struct guest_regs regs = regs_at(0x101000);
	regs.edx = 0x1234; /* no device: all ones */
	regs.ecx = 3;
	regs.edi = OPERANDS;
	const uint8_t rep_insb[] = { 0xF3, 0x6C }, insw[] = { 0x66, 0x6D };
	cr_assert_eq(run(&regs, rep_insb, sizeof(rep_insb)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "ins");
	cr_assert_eq(get32(OPERANDS), 0x00FFFFFF);
	cr_assert_eq(regs.edi, OPERANDS + 3);
	cr_assert_eq(regs.ecx, 0);
	cr_assert_eq(regs.eip, 0x101002);
	regs.eflags = 0x400; /* DF: downwards */
	regs.ecx = 7;        /* no rep: one item, ECX untouched */
	regs.edi = OPERANDS + 8;
	cr_assert_eq(run(&regs, insw, sizeof(insw)), EMULATE_DONE);
	cr_assert_eq(get32(OPERANDS + 8), 0x0000FFFF);
	cr_assert_eq(regs.edi, OPERANDS + 6);
	cr_assert_eq(regs.ecx, 7);
	cr_assert_eq(regs.eip, 0x101004);
	regs.eflags = 0;
	regs.ecx = 2;
	regs.esi = OPERANDS;
	const uint8_t rep_outsw[] = { 0xF3, 0x66, 0x6F };
	cr_assert_eq(run(&regs, rep_outsw, sizeof(rep_outsw)), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "outs");
	cr_assert_eq(regs.esi, OPERANDS + 4);
	cr_assert_eq(regs.ecx, 0);
	cr_assert_eq(regs.eip, 0x101007);
}

static uint16_t get16(uint32_t address)
{
	uint16_t value;
	memcpy(&value, memory + address, 2);
	return value;
}

static void put32(uint32_t address, uint32_t value)
{
	memcpy(memory + address, &value, 4);
}

static void put_descriptor(uint32_t table, unsigned index, uint64_t descriptor)
{
	memcpy(memory + table + index * 8, &descriptor, 8);
}

static uint64_t get_descriptor(uint32_t table, unsigned index)
{
	uint64_t descriptor;
	memcpy(&descriptor, memory + table + index * 8, 8);
	return descriptor;
}

Test(emulate_memory, sgdt_and_sidt_store_the_loaded_tables)
{
	cr_assert_eq(descriptors_set_gdt(GDTR), 0);
	cr_assert_eq(descriptors_set_idt(IDTR), 0);
	struct guest_regs regs = regs_at(0x101000);
	regs.ebx = OPERANDS;
	const uint8_t sgdt_ebx[] = { 0x0F, 0x01, 0x03 }, sidt_disp8[] = { 0x0F, 0x01, 0x4B, 0x08 };
	cr_assert_eq(run(&regs, sgdt_ebx, sizeof sgdt_ebx), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "sgdt");
	cr_assert_eq(get16(OPERANDS), 63);
	cr_assert_eq(get32(OPERANDS + 2), GDT);
	cr_assert_eq(run(&regs, sidt_disp8, sizeof sidt_disp8), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "sidt");
	cr_assert_eq(get16(OPERANDS + 8), 0x7FF);
	cr_assert_eq(get32(OPERANDS + 10), IDT);
	cr_assert_eq(regs.eip, 0x101007);
	/* with an operand-size prefix the base's top byte is stored as 0 */
	virtual_cpu.gdt_base = 0xC0123456;
	const uint8_t sgdt16[] = { 0x66, 0x0F, 0x01, 0x43, 0x10 };
	cr_assert_eq(run(&regs, sgdt16, sizeof sgdt16), EMULATE_DONE);
	cr_assert_eq(get32(OPERANDS + 0x12), 0x00123456);
	/* memory that is not the guest's: #GP(0) */
	regs.ebx = 0x50000000;
	expect_gp0(&regs, sgdt_ebx, sizeof sgdt_ebx);
}

Test(emulate_memory, str_and_sldt_store_the_loaded_selectors)
{
	cr_assert_eq(descriptors_set_gdt(GDTR), 0);
	cr_assert_eq(descriptors_set_tr(TSS_SELECTOR), 0);
	cr_assert_eq(descriptors_set_ldt(LDT_SELECTOR), 0);
	struct guest_regs regs = regs_at(0x101000);
	regs.esi = 0xFFFFFFFF;
	regs.edi = 0xFFFFFFFF;
	const uint8_t str_esi[] = { 0x0F, 0x00, 0xCE }, sldt_di[] = { 0x66, 0x0F, 0x00, 0xC7 };
	cr_assert_eq(run(&regs, str_esi, sizeof str_esi), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "str");
	cr_assert_eq(regs.esi, TSS_SELECTOR, "zero-extended into a 32-bit register");
	cr_assert_eq(run(&regs, sldt_di, sizeof sldt_di), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "sldt");
	cr_assert_eq(regs.edi, 0xFFFF0000 | LDT_SELECTOR, "a 16-bit register: the low half");
	put32(OPERANDS, 0xFFFFFFFF);
	const uint8_t str_m[] = { 0x0F, 0x00, 0x0D, 0x00, 0x50, 0x10, 0x00 };
	cr_assert_eq(run(&regs, str_m, sizeof str_m), EMULATE_DONE);
	cr_assert_eq(get32(OPERANDS), 0xFFFF0000 | TSS_SELECTOR, "memory takes 16 bits");
	cr_assert_eq(regs.eip, 0x10100E);
	/* smsw to memory: 16 bits as well */
	put32(OPERANDS + 4, 0xFFFFFFFF);
	virtual_cpu.cr0 = 0x6001003B; /* no PG: the operand is not translated */
	const uint8_t smsw_m[] = { 0x0F, 0x01, 0x25, 0x04, 0x50, 0x10, 0x00 };
	cr_assert_eq(run(&regs, smsw_m, sizeof smsw_m), EMULATE_DONE);
	cr_assert_eq(get32(OPERANDS + 4), 0xFFFF003B);
}

Test(emulate_memory, ltr_marks_the_tss_busy_and_takes_esp0)
{
	cr_assert_eq(descriptors_set_gdt(GDTR), 0);
	put32(TSS + 4, STACK);
	struct guest_regs regs = regs_at(0x101000);
	regs.eax = TSS_SELECTOR;
	const uint8_t ltr_ax[] = { 0x0F, 0x00, 0xD8 };
	cr_assert_eq(run(&regs, ltr_ax, sizeof ltr_ax), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.tr_selector, TSS_SELECTOR);
	cr_assert_eq(virtual_cpu.tss_base, TSS);
	cr_assert_eq(virtual_cpu.esp0, STACK);
	cr_assert_eq((get_descriptor(GDT, TSS_SELECTOR >> 3) >> 40) & 0xF, 0xB,
	             "the guest's descriptor says busy");
	cr_assert_eq(regs.eip, 0x101003);
	/* The CPU does not look at the TSS at ltr: one that is not memory (yet) loads too. */
	put_descriptor(GDT, 7, segment(0x70000000, 103, 0x89, 0));
	regs.eax = 7 << 3;
	cr_assert_eq(run(&regs, ltr_ax, sizeof ltr_ax), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.tss_base, 0x70000000);
	cr_assert_eq(virtual_cpu.tr_selector, 7 << 3);
}

Test(emulate_memory, ltr_and_lldt_raise_what_the_cpu_raises)
{
	cr_assert_eq(descriptors_set_gdt(GDTR), 0);
	put_descriptor(GDT, 6, segment(TSS, 103, 0x09, 0)); /* the TSS, not present */
	put_descriptor(GDT, 7, segment(LDT, 15, 0x02, 0));  /* the LDT, not present */
	struct guest_regs regs = regs_at(0x101000);
	const uint8_t ltr_ax[] = { 0x0F, 0x00, 0xD8 }, lldt_ax[] = { 0x0F, 0x00, 0xD0 };
	regs.eax = 6 << 3 | 3; /* the RPL is not part of the error code */
	expect_fault(&regs, ltr_ax, sizeof ltr_ax, 11, 6 << 3);
	regs.eax = 7 << 3;
	expect_fault(&regs, lldt_ax, sizeof lldt_ax, 11, 7 << 3);
	regs.eax = LDT_SELECTOR; /* an LDT is no TSS, and a TSS no LDT */
	expect_fault(&regs, ltr_ax, sizeof ltr_ax, 13, LDT_SELECTOR);
	regs.eax = TSS_SELECTOR;
	expect_fault(&regs, lldt_ax, sizeof lldt_ax, 13, TSS_SELECTOR);
	regs.eax = VMI_PROCESS_KERNEL_DS; /* a data segment is neither */
	expect_fault(&regs, ltr_ax, sizeof ltr_ax, 13, VMI_PROCESS_KERNEL_DS);
	regs.eax = 8 << 3; /* past the GDT's limit */
	expect_fault(&regs, ltr_ax, sizeof ltr_ax, 13, 8 << 3);
	regs.eax = TSS_SELECTOR | 4; /* an LDT selector */
	expect_fault(&regs, ltr_ax, sizeof ltr_ax, 13, TSS_SELECTOR | 4);
	regs.eax = 3; /* a null TSS selector: #GP(0); a null LDT one empties LDTR */
	expect_gp0(&regs, ltr_ax, sizeof ltr_ax);
	cr_assert_eq(virtual_cpu.tr_selector, 0, "no fault loads anything");
	virtual_cpu.ldt_selector = LDT_SELECTOR;
	cr_assert_eq(run(&regs, lldt_ax, sizeof lldt_ax), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.ldt_selector, 0);
}

Test(emulate_memory, lgdt_and_lidt_take_any_table_as_the_cpu_does)
{
	/* A call gate in the GDT and a 16-bit interrupt gate in the IDT: SetGDT and SetIDT
	 * refuse such tables, the instructions load them and check entries where they are used. */
	put_descriptor(GDT, 5, 0x0000EC0000000000ull | VMI_PROCESS_KERNEL_CS << 16);
	uint32_t handler = 0x101800;
	put_descriptor(IDT, 0x20, (uint64_t)((handler & 0xFFFF0000) | 0x8E00) << 32 |
	                          VMI_PROCESS_KERNEL_CS << 16 | (handler & 0xFFFF));
	put_descriptor(IDT, 0x21, (uint64_t)0x8600 << 32 | VMI_PROCESS_KERNEL_CS << 16);
	cr_assert_eq(descriptors_set_gdt(GDTR), VMI_ERROR_INVALID);
	cr_assert_eq(descriptors_set_idt(IDTR), VMI_ERROR_INVALID);
	struct guest_regs regs = regs_at(0x101000);
	regs.ecx = GDTR;
	const uint8_t lgdt_ecx[] = { 0x0F, 0x01, 0x11 }, lidt_ecx[] = { 0x0F, 0x01, 0x59, 0x08 };
	cr_assert_eq(run(&regs, lgdt_ecx, sizeof lgdt_ecx), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lgdt");
	cr_assert_eq(virtual_cpu.gdt_base, GDT);
	cr_assert_eq(virtual_cpu.gdt_limit, 63);
	cr_assert_eq(run(&regs, lidt_ecx, sizeof lidt_ecx), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "lidt");
	cr_assert_eq(virtual_cpu.idt_base, IDT);
	cr_assert_eq(virtual_cpu.idt_limit, 0x7FF);
	cr_assert_eq(regs.eip, 0x101007);
	cr_assert(virtual_cpu.idt[0x20].present, "a valid gate is taken");
	cr_assert_eq(virtual_cpu.idt[0x20].handler, handler);
	cr_assert(!virtual_cpu.idt[0x21].present, "an invalid one is not");
	cr_assert(virtual_cpu_has_gate(0x20));
	cr_assert(!virtual_cpu_has_gate(0x21));
	/* the call gate is no code segment to jump to */
	const uint8_t ljmp_gate[] = { 0xEA, 0x00, 0x10, 0x10, 0x00, 5 << 3, 0x00 };
	expect_fault(&regs, ljmp_gate, sizeof ljmp_gate, 13, 5 << 3);
	/* with an operand-size prefix, 24 bits of base */
	uint8_t gdtr16[6] = { 0x0F, 0x00, 0x00, 0x20, 0x10, 0xC0 }; /* base 0xC0102000 */
	memcpy(memory + OPERANDS, gdtr16, sizeof gdtr16);
	regs.ecx = OPERANDS;
	const uint8_t lgdt16[] = { 0x66, 0x0F, 0x01, 0x11 };
	cr_assert_eq(run(&regs, lgdt16, sizeof lgdt16), EMULATE_DONE);
	cr_assert_eq(virtual_cpu.gdt_base, 0x00102000);
	cr_assert_eq(virtual_cpu.gdt_limit, 15);
}

Test(emulate_memory, iret_returns_to_the_same_ring_or_to_user_mode)
{
	const uint8_t iret[] = { 0xCF };
	uint32_t to_kernel[3] = { 0x102000, VMI_PROCESS_KERNEL_CS, 0x203 }; /* IF, CF */
	memcpy(memory + STACK - 12, to_kernel, sizeof to_kernel);
	virtual_cpu_set_interrupts_enabled(0);
	struct guest_regs regs = regs_at(0x101000);
	regs.esp = STACK - 12;
	cr_assert_eq(run(&regs, iret, sizeof iret), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "iret");
	cr_assert_eq(regs.eip, 0x102000);
	cr_assert_eq(regs.esp, STACK, "a return to the same ring pops three words");
	cr_assert_eq(regs.eflags, 0x203);
	cr_assert(virtual_cpu_interrupts_enabled(), "IF comes from the frame");
	cr_assert_eq(virtual_cpu_ring(), 0);

	uint32_t to_user[5] = { 0x400000, VMI_PROCESS_USER_CS, 0xC6, 0x800000,
	                        VMI_PROCESS_USER_DS };  /* ZF PF, IF clear */
	memcpy(memory + STACK - 20, to_user, sizeof to_user);
	regs.esp = STACK - 20;
	cr_assert_eq(run(&regs, iret, sizeof iret), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x400000);
	cr_assert_eq(regs.esp, 0x800000, "the user stack from the frame");
	cr_assert_eq(virtual_cpu_shared()->user_ss, VMI_PROCESS_USER_DS);
	cr_assert_eq(virtual_cpu_ring(), 3);
	cr_assert_eq(virtual_cpu_shared()->cs, VMI_PROCESS_USER_CS);
	cr_assert(!virtual_cpu_interrupts_enabled());
	cr_assert_eq(regs.eflags, 0x2C6, "the hardware IF stays set");

	/* back in the kernel, a frame with an RPL of 1: #GP(0), nothing popped */
	virtual_cpu_set_code_selector(VMI_PROCESS_KERNEL_CS);
	to_kernel[1] = VMI_PROCESS_KERNEL_CS | 1;
	memcpy(memory + STACK - 12, to_kernel, sizeof to_kernel);
	regs.esp = STACK - 12;
	expect_gp0(&regs, iret, sizeof iret);
	cr_assert_eq(regs.esp, STACK - 12);
	cr_assert_eq(virtual_cpu_ring(), 0);
}

/* A paging statistic (vmm/stats.c): what the MMU asked of the host so far. */
static unsigned long long paging_count(const char *name)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	cr_assert_not_null(out);
	stats_print(out, 1);
	fclose(out);
	char key[64];
	snprintf(key, sizeof key, "\"%s\":", name);
	const char *at = strstr(text, key);
	cr_assert_not_null(at, "no %s in %s", name, text);
	unsigned long long count = strtoull(at + strlen(key), NULL, 10);
	free(text);
	return count;
}

#define DIRECTORY (VMI_PROCESS_RAM_BASE + 0x8000)
#define TABLE     (VMI_PROCESS_RAM_BASE + 0x9000)
#define LINEAR    0x40000000u

/* Paging on by the trapped movs, LINEAR's page mapping RAM_BASE + 0xA000; eip past them. */
static struct guest_regs paging_on_with_linear_mapped(void)
{
	put32(DIRECTORY + (LINEAR >> 22) * 4, TABLE | 3);
	put32(TABLE, (VMI_PROCESS_RAM_BASE + 0xA000) | 3);
	struct guest_regs regs = regs_at(0x101000);
	regs.eax = DIRECTORY;
	regs.ebx = 0x80000011;
	const uint8_t mov_eax_cr3[] = { 0x0F, 0x22, 0xD8 }, mov_ebx_cr0[] = { 0x0F, 0x22, 0xC3 };
	cr_assert_eq(run(&regs, mov_eax_cr3, sizeof mov_eax_cr3), EMULATE_DONE);
	cr_assert_eq(run(&regs, mov_ebx_cr0, sizeof mov_ebx_cr0), EMULATE_DONE);
	cr_assert(mmu_paging());
	return regs;
}

Test(emulate_memory, invlpg_drops_the_translation_of_its_page)
{
	struct guest_regs regs = paging_on_with_linear_mapped();
	unsigned long long before = paging_count("host_unmap_calls");
	regs.edx = LINEAR + 0x123;
	const uint8_t invlpg_edx[] = { 0x0F, 0x01, 0x3A };
	cr_assert_eq(run(&regs, invlpg_edx, sizeof invlpg_edx), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "invlpg");
	cr_assert_eq(regs.eip, 0x101009);
	cr_assert_eq(paging_count("host_unmap_calls"), before + 1, "the page's host mapping goes");
}

/* Linux flushes with invpcid where the CPU has it (the guest's own cpuid shows the host's):
 * type 0 drops one page, 2 everything, the others what a CPU refuses are #GP(0). */
Test(emulate_memory, invpcid_drops_what_its_type_names)
{
	struct guest_regs regs = paging_on_with_linear_mapped();
	/* the descriptor in the page LINEAR maps, read through the guest's tables */
	const uint32_t descriptor = VMI_PROCESS_RAM_BASE + 0xA800;
	put32(descriptor, 0);
	put32(descriptor + 4, 0);
	put32(descriptor + 8, LINEAR + 0x123);
	put32(descriptor + 12, 0);
	const uint8_t invpcid_ecx_edx[] = { 0x66, 0x0F, 0x38, 0x82, 0x0A };  /* invpcid (%edx), %ecx */
	regs.edx = LINEAR + 0x800;

	regs.ecx = 0;
	unsigned long long unmaps = paging_count("host_unmap_calls");
	cr_assert_eq(run(&regs, invpcid_ecx_edx, sizeof invpcid_ecx_edx), EMULATE_DONE);
	cr_assert_str_eq(outcome.mnemonic, "invpcid");
	cr_assert_eq(paging_count("host_unmap_calls"), unmaps + 1, "type 0: the page goes");
	cr_assert_eq(regs.eip, 0x101000 + 6 + sizeof invpcid_ecx_edx);

	regs.ecx = 2;
	unsigned long long flushes = paging_count("whole_tlb_flushes");
	cr_assert_eq(run(&regs, invpcid_ecx_edx, sizeof invpcid_ecx_edx), EMULATE_DONE);
	cr_assert_eq(paging_count("whole_tlb_flushes"), flushes + 1, "type 2: everything goes");

	regs.ecx = 4;
	expect_gp0(&regs, invpcid_ecx_edx, sizeof invpcid_ecx_edx);
	regs.ecx = 0;
	put32(descriptor, 1);   /* PCID 1: only PCID 0 exists with CR4.PCIDE clear */
	expect_gp0(&regs, invpcid_ecx_edx, sizeof invpcid_ecx_edx);
	put32(descriptor, 0);
	virtual_cpu_set_code_selector(VMI_PROCESS_USER_CS);
	expect_gp0(&regs, invpcid_ecx_edx, sizeof invpcid_ecx_edx);
	virtual_cpu_set_code_selector(VMI_PROCESS_KERNEL_CS);
}
