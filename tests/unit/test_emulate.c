/* Unit tests for trap-and-emulate of in, out and hlt: decoding, operand sizes, eip
 * advance, and refusal of everything else. */
#include <criterion/criterion.h>

#include <vmi/process.h>
#include "monitor/emulate.h"

static struct vcpu_regs regs_at(uint32_t eip)
{
	struct vcpu_regs regs = { .eip = eip, .eax = 0x11223344, .edx = VMI_PORT_COM1_LSR };
	return regs;
}

Test(emulate, in_al_dx_reads_line_status)
{
	struct vcpu_regs regs = regs_at(0x1000);
	const uint8_t code[] = { 0xEC };
	cr_assert_eq(emulate_instruction(&regs, code, sizeof(code)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0x11223360, "eax %08x", regs.eax); /* only al changes */
	cr_assert_eq(regs.eip, 0x1001);
}

Test(emulate, in_from_nowhere_reads_all_ones)
{
	struct vcpu_regs regs = regs_at(0x2000);
	const uint8_t in_eax_imm[] = { 0xE5, 0x80 };
	cr_assert_eq(emulate_instruction(&regs, in_eax_imm, sizeof(in_eax_imm)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0xFFFFFFFF);
	cr_assert_eq(regs.eip, 0x2002);
	regs = regs_at(0x2000);
	const uint8_t in_ax_dx[] = { 0x66, 0xED };
	regs.edx = 0x1234;
	cr_assert_eq(emulate_instruction(&regs, in_ax_dx, sizeof(in_ax_dx)), EMULATE_DONE);
	cr_assert_eq(regs.eax, 0x1122FFFF, "eax %08x", regs.eax);
	cr_assert_eq(regs.eip, 0x2002);
}

Test(emulate, out_to_nowhere_advances)
{
	struct vcpu_regs regs = regs_at(0x3000);
	const uint8_t out_imm_al[] = { 0xE6, 0x80 };
	cr_assert_eq(emulate_instruction(&regs, out_imm_al, sizeof(out_imm_al)), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x3002);
	cr_assert_eq(regs.eax, 0x11223344);
	const uint8_t out_dx_ax[] = { 0x66, 0xEF };
	regs.edx = 0x80;
	cr_assert_eq(emulate_instruction(&regs, out_dx_ax, sizeof(out_dx_ax)), EMULATE_DONE);
	cr_assert_eq(regs.eip, 0x3004);
}

Test(emulate, hlt)
{
	struct vcpu_regs regs = regs_at(0x4000);
	const uint8_t code[] = { 0xF4 };
	cr_assert_eq(emulate_instruction(&regs, code, sizeof(code)), EMULATE_HALT);
	cr_assert_eq(regs.eip, 0x4001);
}

Test(emulate, refuses_the_rest_without_touching_registers)
{
	static const struct { uint8_t code[3]; size_t length; } cases[] = {
		{ { 0xFA }, 1 },             /* cli: the monitor's interrupt flag comes later */
		{ { 0x0F, 0x01, 0x10 }, 3 }, /* lgdt */
		{ { 0x6E }, 1 },             /* outsb: string forms are not emulated yet */
		{ { 0xF3, 0x6C }, 2 },       /* rep insb */
		{ { 0x66, 0xF4 }, 2 },
		{ { 0x66, 0x66, 0x66 }, 3 }, /* prefixes and nothing else */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vcpu_regs regs = regs_at(0x5000);
		cr_assert_eq(emulate_instruction(&regs, cases[i].code, cases[i].length), EMULATE_UNSUPPORTED,
		             "case %zu", i);
		cr_assert_eq(regs.eip, 0x5000);
		cr_assert_eq(regs.eax, 0x11223344);
	}
}

Test(emulate, truncated_instruction_is_refused)
{
	struct vcpu_regs regs = regs_at(0x6000);
	const uint8_t code[] = { 0xE4 };
	cr_assert_eq(emulate_instruction(&regs, code, 1), EMULATE_UNSUPPORTED);
	cr_assert_eq(emulate_instruction(&regs, code, 0), EMULATE_UNSUPPORTED);
	cr_assert_eq(regs.eip, 0x6000);
}
