/* Unit tests for trap-and-emulate: decoding, operand sizes, eip advance, #GP for what the
 * guest may not do, refusal of the rest; the ModRM decoder is checked against Capstone. */
#include <capstone/capstone.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/pc.h>
#include "monitor/emulate.h"
#include "monitor/mmu.h"
#include "monitor/msr.h"
#include "monitor/virtual_cpu.h"

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

Test(emulate, msrs_the_virtual_cpu_has_and_the_rest_are_gp)
{
	msr_reset();
	struct guest_regs regs = regs_at(0x5300);
	const uint8_t wrmsr[] = { 0x0F, 0x30 }, rdmsr[] = { 0x0F, 0x32 };
	regs.ecx = 0x174; /* SYSENTER_CS */
	regs.eax = 0x60;
	regs.edx = 0;
	cr_assert_eq(run(&regs, wrmsr, sizeof(wrmsr)), EMULATE_DONE);
	regs.eax = regs.edx = 0xFFFFFFFF;
	cr_assert_eq(run(&regs, rdmsr, sizeof(rdmsr)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0x60);
	cr_assert_eq(regs.edx, 0);
	regs.ecx = 0x1B; /* APIC base: there, but disabled */
	cr_assert_eq(run(&regs, rdmsr, sizeof(rdmsr)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0xFEE00100, "eax %08x", regs.eax);
	regs.eax |= 0x800; /* enabling an APIC vmirun does not have */
	cr_assert_eq(run(&regs, wrmsr, sizeof(wrmsr)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 13);
	regs.ecx = 0xC0000080; /* EFER: not on this CPU */
	uint32_t eip = regs.eip;
	cr_assert_eq(run(&regs, rdmsr, sizeof(rdmsr)), EMULATE_INTERRUPT);
	cr_assert_eq(outcome.vector, 13);
	cr_assert_eq(regs.eip, eip, "a #GP leaves eip on the instruction");
	regs.ecx = 0x10; /* the TSC reads, and cannot be written */
	cr_assert_eq(run(&regs, rdmsr, sizeof(rdmsr)), EMULATE_DONE);
	cr_assert_eq(run(&regs, wrmsr, sizeof(wrmsr)), EMULATE_INTERRUPT);
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
