/* Unit tests for trap-and-emulate: decoding, operand sizes, eip advance, #GP for what the
 * guest may not do, refusal of the rest; the ModRM decoder is checked against Capstone. The
 * memory forms (descriptor tables, segment loads, far transfers, ins) run on lent memory. */
#include <capstone/capstone.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/pc.h>
#include <vmi/process.h>
#include "monitor/descriptors.h"
#include "monitor/emulate.h"
#include "monitor/mmu.h"
#include "monitor/msr.h"
#include "monitor/virtual_cpu.h"
#include "platform/process/address_space.h"

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

Test(emulate, cli_sti_and_the_sti_hlt_shadow)
{
	struct guest_regs regs = regs_at(0x5400);
	const uint8_t cli[] = { 0xFA }, sti_nop[] = { 0xFB, 0x90 }, sti_hlt[] = { 0xFB, 0xF4 };
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
		{ { 0xEC }, 1 }, { { 0x66, 0xEF }, 2 }, { { 0xF3, 0x6C }, 2 }, { { 0xF4 }, 1 },
		{ { 0xFA }, 1 }, { { 0xFB }, 1 }, { { 0x0F, 0x20, 0xC0 }, 3 },
		{ { 0x0F, 0x32 }, 2 },
		{ { 0x0F, 0x21, 0xC0 }, 3 }, { { 0x0F, 0x23, 0xC0 }, 3 }, /* mov from/to DR0 */
		{ { 0x0F, 0x01, 0xD0 }, 3 }, /* refused in ring 0 too, but #GP first here */
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
		{ { 0x0F, 0x20, 0xC8 }, 3 },             /* CR1 */
		{ { 0x0F, 0x22 }, 2 },                   /* mov to cr without its ModRM */
		{ { 0x0F, 0x20, 0x18 }, 3 },             /* mov from cr3 to memory: invalid */
		{ { 0x0F, 0x23, 0x08 }, 3 },             /* mov to dr1 from memory: invalid */
		{ { 0x0F, 0x21 }, 2 },                   /* mov from dr without its ModRM */
		{ { 0x0F, 0x00, 0xC0 }, 3 },             /* sldt */
		{ { 0x0F, 0x01, 0xD0 }, 3 },             /* /2 with a register: xgetbv */
		{ { 0x0F, 0x01, 0x15, 0x00 }, 4 },       /* lgdt with its disp32 cut short */
		{ { 0x0F, 0x01, 0x00 }, 3 },             /* sgdt */
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
