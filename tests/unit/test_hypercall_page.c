/* Disassembles the hypercall page with Capstone: every entry must load its own call number
 * into r11d and jump to the one common stub, which jumps through the given 64-bit slot; and
 * the page, which the guest can read, holds no address of vmirun's code. */
#include <criterion/criterion.h>
#include <string.h>

#include <vmi/calls.h>
#include <vmi/process.h>
#include "capstone_suite.h"
#include "platform/process/hypercall_page.h"

#define SLOT 0x0000000100000000ull

static uint8_t page[4096];
CAPSTONE_SUITE(hypercall_page, CS_MODE_64);

Test(hypercall_page, every_entry_loads_its_number_and_reaches_the_common_stub)
{
	size_t used = hypercall_page_build(page, VMI_PROCESS_HYPERCALL_PAGE, VMI_CALL_COUNT, SLOT);
	cr_assert_gt(used, 0);
	const uint64_t base = VMI_PROCESS_HYPERCALL_PAGE;
	/* the common stub: after the entries, where entry 0 jumps */
	cs_insn *first;
	cr_assert_eq(cs_disasm(capstone, page, VMI_PROCESS_HYPERCALL_STRIDE, base, 2, &first), 2);
	const uint64_t stub = (uint64_t)first[1].detail->x86.operands[0].imm;
	cs_free(first, 2);
	cr_assert_geq(stub, base + VMI_CALL_COUNT * VMI_PROCESS_HYPERCALL_STRIDE);

	for (unsigned n = 0; n < VMI_CALL_COUNT; n++) {
		const uint8_t *code = page + n * VMI_PROCESS_HYPERCALL_STRIDE;
		uint64_t address = VMI_PROCESS_HYPERCALL_ENTRY(n);
		cs_insn *insn;
		size_t count = cs_disasm(capstone, code, VMI_PROCESS_HYPERCALL_STRIDE, address, 2, &insn);
		cr_assert_eq(count, 2, "entry %u does not decode", n);
		cr_assert_str_eq(insn[0].mnemonic, "mov", "entry %u", n);
		cs_x86 *mov = &insn[0].detail->x86;
		cr_assert_eq(mov->operands[0].type, X86_OP_REG);
		cr_assert_eq(mov->operands[0].reg, X86_REG_R11D, "entry %u: %s %s", n,
		             insn[0].mnemonic, insn[0].op_str);
		cr_assert_eq(mov->operands[1].type, X86_OP_IMM);
		cr_assert_eq(mov->operands[1].imm, n);
		cr_assert_str_eq(insn[1].mnemonic, "jmp");
		cr_assert_eq(insn[1].detail->x86.operands[0].imm, (int64_t)stub, "entry %u jumps to %s",
		             n, insn[1].op_str);
		/* the rest of the entry is int3, so a stray far call into it traps */
		for (size_t i = insn[0].size + insn[1].size; i < VMI_PROCESS_HYPERCALL_STRIDE; i++)
			cr_assert_eq(code[i], 0xCC, "entry %u byte %zu", n, i);
		cs_free(insn, count);
	}

	cs_insn *insn;
	size_t count = cs_disasm(capstone, page + (stub - base), 13, stub, 2, &insn);
	cr_assert_eq(count, 2);
	cr_assert_str_eq(insn[0].mnemonic, "movabs");
	cr_assert_eq(insn[0].detail->x86.operands[0].reg, X86_REG_R10, "%s", insn[0].op_str);
	cr_assert_eq((uint64_t)insn[0].detail->x86.operands[1].imm, SLOT, "%s", insn[0].op_str);
	cr_assert_str_eq(insn[1].mnemonic, "jmp");
	cr_assert_str_eq(insn[1].op_str, "qword ptr [r10]");
	cs_free(insn, count);
	for (size_t i = used; i < sizeof(page); i++)
		cr_assert_eq(page[i], 0xCC);
}

Test(hypercall_page, refuses_too_many_entries)
{
	cr_assert_eq(hypercall_page_build(page, VMI_PROCESS_HYPERCALL_PAGE, 4096 / 16, SLOT), 0);
}
