/* The built ROM images (build/rom/process_rom.bin, native_rom.bin): both verify; per-call
 * properties checked with Capstone; and deliberately broken copies, each refused by
 * rom_verify with its own reason. */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/call_names.h>
#include <vmi/calls.h>
#include <vmi/link.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include <vmi/rom.h>
#include <vmi/vcpu_page.h>
#include "capstone_suite.h"
#include "../../tools/rom_image.h"
#include "../../tools/rom_verify.h"

#define PROCESS_ROM BUILD_DIR "/rom/process_rom.bin"
#define NATIVE_ROM  BUILD_DIR "/rom/native_rom.bin"

/* Arithmetic flags an instruction may write, as Capstone reports them. */
#define ARITHMETIC_FLAG_WRITES \
	(X86_EFLAGS_MODIFY_AF | X86_EFLAGS_MODIFY_CF | X86_EFLAGS_MODIFY_SF | \
	 X86_EFLAGS_MODIFY_ZF | X86_EFLAGS_MODIFY_PF | X86_EFLAGS_MODIFY_OF | \
	 X86_EFLAGS_RESET_OF | X86_EFLAGS_RESET_CF | X86_EFLAGS_RESET_SF | X86_EFLAGS_RESET_AF | \
	 X86_EFLAGS_RESET_PF | X86_EFLAGS_RESET_ZF | X86_EFLAGS_SET_CF | X86_EFLAGS_SET_OF | \
	 X86_EFLAGS_SET_SF | X86_EFLAGS_SET_ZF | X86_EFLAGS_SET_AF | X86_EFLAGS_SET_PF | \
	 X86_EFLAGS_UNDEFINED_OF | X86_EFLAGS_UNDEFINED_SF | X86_EFLAGS_UNDEFINED_ZF | \
	 X86_EFLAGS_UNDEFINED_PF | X86_EFLAGS_UNDEFINED_AF | X86_EFLAGS_UNDEFINED_CF | \
	 X86_EFLAGS_PRIOR_OF | X86_EFLAGS_PRIOR_SF | X86_EFLAGS_PRIOR_ZF | X86_EFLAGS_PRIOR_AF | \
	 X86_EFLAGS_PRIOR_PF | X86_EFLAGS_PRIOR_CF)

struct rom_file {
	uint8_t *bytes;
	size_t size;
	struct rom_image image;
};

CAPSTONE_SUITE(rom_image, CS_MODE_32);

static struct rom_file rom_read(const char *path)
{
	struct rom_file file;
	char error[256];
	cr_assert_eq(rom_image_load(path, &file.image, &file.bytes, error, sizeof(error)), 0,
	             "%s (run make first)", error);
	file.size = file.image.size;
	cr_assert_eq(file.image.status, VMI_ROM_OK, "%s: %s", path,
	             vmi_rom_status_text(file.image.status));
	return file;
}

static void rom_release(struct rom_file *file)
{
	free(file->bytes);
}

static struct vmi_link_record rom_record(const struct rom_file *file, unsigned call)
{
	struct vmi_link_record record;
	cr_assert_eq(rom_image_record(&file->image, call, &record), 0);
	return record;
}

static const uint8_t *rom_slot(const struct rom_file *file, unsigned call)
{
	return file->bytes + VMI_ROM_CALL_OFFSET(call);
}

static uint32_t rom_slot_address(const struct rom_file *file, unsigned call)
{
	return file->image.base + VMI_ROM_CALL_OFFSET(call);
}

/* Decodes `length` bytes exactly (nothing left over, nothing undecodable). */
static size_t rom_decode_exactly(const uint8_t *code, size_t length, uint32_t address,
                                 cs_insn **insns, unsigned call)
{
	size_t count = cs_disasm(capstone, code, length, address, 0, insns);
	size_t used = 0;
	for (size_t i = 0; i < count; i++)
		used += (*insns)[i].size;
	cr_assert_eq(used, length, "call %u: %zu of %zu bytes decode", call, used, length);
	return count;
}

static int rom_is_terminator(unsigned id)
{
	return id == X86_INS_RET || id == X86_INS_RETF || id == X86_INS_JMP ||
	       id == X86_INS_LJMP || id == X86_INS_UD2 || id == X86_INS_IRETD ||
	       id == X86_INS_SYSEXIT;
}

/* ---- both images are valid ------------------------------------------------------------- */

static void rom_expect_valid(const char *path)
{
	struct rom_file file = rom_read(path);
	char reason[512] = "";
	struct rom_verify_summary summary;
	cr_assert_eq(rom_verify(&file.image, reason, sizeof(reason), &summary), 0, "%s: %s",
	             path, reason);
	cr_assert_eq(file.image.base, VMI_ROM_BASE);
	cr_assert_eq(file.size % VMI_ROM_LENGTH_UNIT, 0);
	cr_assert_eq(summary.by_type[VMI_LINK_NONE], VMI_CALL_FIRST);
	rom_release(&file);
}

Test(rom_image, process_rom_verifies)
{
	rom_expect_valid(PROCESS_ROM);
}

Test(rom_image, native_rom_verifies)
{
	rom_expect_valid(NATIVE_ROM);
}

/* The header fields and the ELF header, read independently of rom_image.c. */
static void rom_expect_header(const char *path)
{
	struct rom_file file = rom_read(path);
	const uint8_t *b = file.bytes;
	cr_assert_eq(b[0] | b[1] << 8, VMI_ROM_OPTION_SIGNATURE);
	cr_assert_eq(b[VMI_ROM_HDR_LENGTH] * VMI_ROM_LENGTH_UNIT, file.size);
	cr_assert_eq(b[VMI_ROM_HDR_ENTRY], 0xCB, "16-bit entry is a far return");
	cr_assert_eq(memcmp(b + VMI_ROM_HDR_VMI_SIGNATURE, "cVmi", 4), 0);
	cr_assert_eq(b[VMI_ROM_HDR_API_MAJOR], VMI_API_MAJOR);
	cr_assert_eq(b[VMI_ROM_HDR_API_MINOR], VMI_API_MINOR);
	for (unsigned i = VMI_ROM_SLOT_SIZE; i < VMI_ROM_ELF_HEADER_OFFSET; i++)
		cr_assert_eq(b[i], 0xCC, "slot 1 is int3 fill");

	Elf32_Ehdr ehdr;
	memcpy(&ehdr, b + VMI_ROM_ELF_HEADER_OFFSET, sizeof(ehdr));
	cr_assert_eq(memcmp(ehdr.e_ident, ELFMAG, SELFMAG), 0);
	cr_assert_eq(ehdr.e_ident[EI_CLASS], ELFCLASS32);
	cr_assert_eq(ehdr.e_ident[EI_DATA], ELFDATA2LSB);
	cr_assert_eq(ehdr.e_type, ET_EXEC);
	cr_assert_eq(ehdr.e_machine, EM_386);
	cr_assert_eq(ehdr.e_entry, VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_Init));
	cr_assert_eq(ehdr.e_ehsize, sizeof(Elf32_Ehdr));
	cr_assert_eq(ehdr.e_phentsize, sizeof(Elf32_Phdr));
	cr_assert_eq(ehdr.e_phnum, 1);
	cr_assert_eq(ehdr.e_shnum, 0);
	cr_assert_geq(ehdr.e_phoff, VMI_ROM_CALL_TABLE_END);
	cr_assert_leq(ehdr.e_phoff + sizeof(Elf32_Phdr), file.size);

	Elf32_Phdr phdr;
	memcpy(&phdr, b + ehdr.e_phoff, sizeof(phdr));
	cr_assert_eq(phdr.p_type, PT_LOAD);
	cr_assert_eq(phdr.p_offset, 0);
	cr_assert_eq(phdr.p_vaddr, VMI_ROM_BASE);
	cr_assert_eq(phdr.p_paddr, VMI_ROM_BASE);
	cr_assert_eq(phdr.p_filesz, file.size);
	cr_assert_eq(phdr.p_memsz, file.size);
	cr_assert_eq(phdr.p_flags, PF_R | PF_X);
	cr_assert_eq(phdr.p_align, VMI_ROM_SLOT_SIZE);
	rom_release(&file);
}

Test(rom_image, headers_and_elf_header_as_specified)
{
	rom_expect_header(PROCESS_ROM);
	rom_expect_header(NATIVE_ROM);
}

/* ---- per-call properties ------------------------------------------------------------------ */

static unsigned rom_process_type(unsigned call)
{
	switch (call) {
	case VMI_CALL_RDTSC:
	case VMI_CALL_EnableInterrupts:
	case VMI_CALL_DisableInterrupts:
	case VMI_CALL_GetInterruptMask:
	case VMI_CALL_SetInterruptMask:
	case VMI_CALL_UpdateKernelStack:
		return VMI_LINK_INLINE;
	case VMI_CALL_INVD:
	case VMI_CALL_WBINVD:
	case VMI_CALL_IODelay:
		return VMI_LINK_NOP;
	case VMI_CALL_IRET:
	case VMI_CALL_SYSEXIT:
		return VMI_LINK_JUMP_REL;
	}
	return call < VMI_CALL_FIRST ? VMI_LINK_NONE : VMI_LINK_CALL_REL;
}

Test(rom_image, process_link_types_and_targets)
{
	struct rom_file file = rom_read(PROCESS_ROM);
	for (unsigned call = 0; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record record = rom_record(&file, call);
		cr_assert_eq(record.type, rom_process_type(call), "call %u (%s): type %u", call,
		             vmi_call_name(call), record.type);
		uint32_t target = call < VMI_CALL_FIRST ? 0 : rom_slot_address(&file, call);
		cr_assert_eq(record.target, target, "call %u: target 0x%x", call, record.target);
	}
	/* Only the templates that test the pending word change flags. */
	cr_assert_eq(rom_record(&file, VMI_CALL_DisableInterrupts).clobbers, 0);
	cr_assert_eq(rom_record(&file, VMI_CALL_GetInterruptMask).clobbers, 0);
	cr_assert_eq(rom_record(&file, VMI_CALL_RDTSC).clobbers, 0);
	cr_assert_eq(rom_record(&file, VMI_CALL_EnableInterrupts).clobbers, VMI_CLOBBER_FLAGS);
	cr_assert_eq(rom_record(&file, VMI_CALL_SetInterruptMask).clobbers, VMI_CLOBBER_FLAGS);
	cr_assert_eq(rom_record(&file, VMI_CALL_EnableInterrupts).flags,
	             VMI_LINK_FLAG_INTERNAL_BRANCH);
	rom_release(&file);
}

/* Hot templates read and write the vCPU page only, by absolute address, and far-call only
 * their own hypercall entry. UpdateKernelStack's writes the TSS it is given, and nothing
 * else. */
Test(rom_image, process_hot_templates_touch_only_the_vcpu_page)
{
	struct rom_file file = rom_read(PROCESS_ROM);
	unsigned checked = 0;
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record record = rom_record(&file, call);
		if (record.type != VMI_LINK_INLINE)
			continue;
		cs_insn *insns;
		size_t count = rom_decode_exactly(record.template_bytes, record.template_length,
		                                  record.target, &insns, call);
		if (call == VMI_CALL_UpdateKernelStack) {
			cr_assert_eq(count, 2);
			cr_assert_str_eq(insns[0].mnemonic, "mov");
			cr_assert_str_eq(insns[0].op_str, "dword ptr [eax + 4], edx");
			cr_assert_str_eq(insns[1].op_str, "eax, 0");
			cs_free(insns, count);
			checked++;
			continue;
		}
		int has_lcall = 0;
		for (size_t i = 0; i < count; i++) {
			const cs_x86 *x86 = &insns[i].detail->x86;
			for (unsigned o = 0; o < x86->op_count; o++) {
				const cs_x86_op *op = &x86->operands[o];
				if (op->type != X86_OP_MEM)
					continue;
				uint32_t address = (uint32_t)op->mem.disp;
				cr_assert(op->mem.base == X86_REG_INVALID &&
				          op->mem.index == X86_REG_INVALID, "call %u: %s %s not absolute",
				          call, insns[i].mnemonic, insns[i].op_str);
				cr_assert(address >= VMI_PROCESS_VCPU_PAGE &&
				          address < VMI_PROCESS_VCPU_PAGE + VMI_VCPU_PAGE_USED,
				          "call %u: %s %s outside the vCPU page", call, insns[i].mnemonic,
				          insns[i].op_str);
			}
			cr_assert(insns[i].id != X86_INS_PUSH && insns[i].id != X86_INS_POP &&
			          insns[i].id != X86_INS_CALL, "call %u: uses the stack", call);
			if (insns[i].id == X86_INS_LCALL) {
				has_lcall = 1;
				/* 9A, offset, selector: the bytes say it unambiguously. */
				uint32_t offset;
				memcpy(&offset, insns[i].bytes + 1, 4);
				cr_assert_eq(insns[i].bytes[0], 0x9A);
				cr_assert_eq(offset, VMI_PROCESS_HYPERCALL_ENTRY(call), "call %u", call);
				cr_assert_eq(insns[i].bytes[5] | insns[i].bytes[6] << 8,
				             VMI_PROCESS_CODE64_SELECTOR);
			}
		}
		cr_assert_eq(has_lcall, call == VMI_CALL_EnableInterrupts ||
		                        call == VMI_CALL_SetInterruptMask, "call %u", call);
		cs_free(insns, count);
		checked++;
	}
	cr_assert_eq(checked, 6);
	rom_release(&file);
}

/* Every other call is `lcall $0x33, $entry(N); ret`. */
Test(rom_image, process_call_stubs_far_call_their_own_entry)
{
	struct rom_file file = rom_read(PROCESS_ROM);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		unsigned type = rom_process_type(call);
		if (call == VMI_CALL_Init || call == VMI_CALL_GetRelocationInfo ||
		    call == VMI_CALL_IRET || call == VMI_CALL_SYSEXIT || call == VMI_CALL_Syscall)
			continue;
		const uint8_t *slot = rom_slot(&file, call);
		if (type == VMI_LINK_NOP) {
			cr_assert_eq(slot[0], 0xC3, "call %u: a NOP stub is a bare ret", call);
			continue;
		}
		if (type != VMI_LINK_CALL_REL && type != VMI_LINK_JUMP_REL)
			continue;
		cs_insn *insns;
		size_t count = cs_disasm(capstone, slot, VMI_ROM_SLOT_SIZE,
		                         rom_slot_address(&file, call), 2, &insns);
		cr_assert_eq(count, 2, "call %u", call);
		cr_assert_eq(insns[0].id, X86_INS_LCALL, "call %u: %s", call, insns[0].mnemonic);
		uint32_t offset;
		memcpy(&offset, insns[0].bytes + 1, 4);
		cr_assert_eq(offset, VMI_PROCESS_HYPERCALL_ENTRY(call), "call %u", call);
		cr_assert_eq(insns[0].bytes[5] | insns[0].bytes[6] << 8, VMI_PROCESS_CODE64_SELECTOR);
		cr_assert_eq(insns[1].id, type == VMI_LINK_JUMP_REL ? X86_INS_UD2 : X86_INS_RET,
		             "call %u: %s", call, insns[1].mnemonic);
		for (size_t i = insns[0].size + insns[1].size; i < VMI_ROM_SLOT_SIZE; i++)
			cr_assert_eq(slot[i], 0xCC, "call %u: byte %zu is not int3 fill", call, i);
		cs_free(insns, count);
	}
	rom_release(&file);
}

/* Linear decoding from each slot reaches a terminator inside the slot. */
static void rom_expect_stubs_stay_in_slots(const char *path)
{
	struct rom_file file = rom_read(path);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		const uint8_t *code = rom_slot(&file, call);
		uint64_t address = rom_slot_address(&file, call);
		size_t left = VMI_ROM_SLOT_SIZE;
		cs_insn *insn = cs_malloc(capstone);
		int terminated = 0;
		while (!terminated && cs_disasm_iter(capstone, &code, &left, &address, insn))
			terminated = rom_is_terminator(insn->id);
		cr_assert(terminated, "%s: call %u (%s) runs past its slot", path, call,
		          vmi_call_name(call));
		cs_free(insn, 1);
	}
	rom_release(&file);
}

Test(rom_image, no_stub_runs_past_its_slot)
{
	rom_expect_stubs_stay_in_slots(PROCESS_ROM);
	rom_expect_stubs_stay_in_slots(NATIVE_ROM);
}

/* Init and GetRelocationInfo jump to bodies after the call table that end in ret. */
static void rom_expect_body(const char *path, unsigned call)
{
	struct rom_file file = rom_read(path);
	cs_insn *insns;
	size_t count = cs_disasm(capstone, rom_slot(&file, call), VMI_ROM_SLOT_SIZE,
	                         rom_slot_address(&file, call), 1, &insns);
	cr_assert_eq(count, 1);
	cr_assert_eq(insns[0].id, X86_INS_JMP, "%s: call %u stub is %s", path, call,
	             insns[0].mnemonic);
	uint32_t body = (uint32_t)insns[0].detail->x86.operands[0].imm;
	cs_free(insns, count);
	uint32_t offset = body - file.image.base;
	cr_assert_geq(offset, VMI_ROM_CALL_TABLE_END, "%s: call %u body inside the call table",
	              path, call);
	cr_assert_lt(offset, file.image.facts.link_table_offset);

	count = cs_disasm(capstone, file.bytes + offset,
	                  file.image.facts.link_table_offset - offset, body, 0, &insns);
	int returns = 0;
	for (size_t i = 0; i < count && !returns; i++)
		returns = insns[i].id == X86_INS_RET;
	cr_assert(returns, "%s: call %u body never returns", path, call);
	cs_free(insns, count);
	cr_assert_eq(rom_record(&file, call).type, VMI_LINK_CALL_REL);
	rom_release(&file);
}

Test(rom_image, init_and_relocation_info_bodies_exist)
{
	rom_expect_body(PROCESS_ROM, VMI_CALL_Init);
	rom_expect_body(PROCESS_ROM, VMI_CALL_GetRelocationInfo);
	rom_expect_body(NATIVE_ROM, VMI_CALL_Init);
	rom_expect_body(NATIVE_ROM, VMI_CALL_GetRelocationInfo);
}

/* The ring switches the process ROM makes itself (IRET, SYSEXIT, the fast system-call
 * entry): a stub
 * that jumps to a body after the call table. The body marks the transition with its first
 * instruction and clears the mark just before its one far call (its own entry, the slow
 * path), addresses memory only through the stack, EAX, or the vCPU page, and ends in the
 * slow path's terminator (IRET, SYSEXIT: ud2; Syscall: the ret its frames return to). */
/* flags_first: the entry saves the caller's flags before it marks the transition, so that
 * the TF vmirun sets to step out of a marked switch never reaches a saved frame. */
static void rom_expect_ring_switch(unsigned call, uint32_t transition, unsigned terminator,
                                   int flags_first)
{
	struct rom_file file = rom_read(PROCESS_ROM);
	cs_insn *insns;
	size_t count = cs_disasm(capstone, rom_slot(&file, call), VMI_ROM_SLOT_SIZE,
	                         rom_slot_address(&file, call), 1, &insns);
	cr_assert_eq(count, 1);
	cr_assert_eq(insns[0].id, X86_INS_JMP, "call %u stub is %s", call, insns[0].mnemonic);
	uint32_t body = (uint32_t)insns[0].detail->x86.operands[0].imm;
	cs_free(insns, count);
	uint32_t offset = body - file.image.base;
	cr_assert_geq(offset, VMI_ROM_CALL_TABLE_END);
	cr_assert_lt(offset, file.image.facts.link_table_offset);
	count = cs_disasm(capstone, file.bytes + offset, file.image.facts.link_table_offset - offset,
	                  body, 0, &insns);
	const uint32_t mark = VMI_PROCESS_VCPU_PAGE + VMI_VCPU_TRANSITION;
	size_t lcall = 0, end = 0;
	for (size_t i = 0; i < count && !end; i++) {
		const cs_x86 *x86 = &insns[i].detail->x86;
		for (unsigned o = 0; o < x86->op_count; o++) {
			const cs_x86_op *op = &x86->operands[o];
			if (op->type != X86_OP_MEM)
				continue;
			if (op->mem.base == X86_REG_ESP || op->mem.base == X86_REG_EAX)
				continue;
			uint32_t address = (uint32_t)op->mem.disp;
			cr_assert(op->mem.base == X86_REG_INVALID && op->mem.index == X86_REG_INVALID &&
			          address >= VMI_PROCESS_VCPU_PAGE &&
			          address < VMI_PROCESS_VCPU_PAGE + VMI_VCPU_PAGE_USED,
			          "call %u: %s %s outside the vCPU page", call, insns[i].mnemonic,
			          insns[i].op_str);
		}
		if (insns[i].id == X86_INS_LCALL) {
			cr_assert_eq(lcall, 0, "call %u: more than one far call", call);
			lcall = i;
			uint32_t target;
			memcpy(&target, insns[i].bytes + 1, 4);
			cr_assert_eq(target, VMI_PROCESS_HYPERCALL_ENTRY(call), "call %u", call);
		}
		if (lcall && i == lcall + 1)
			end = i;
	}
	cr_assert(lcall > 1 && end, "call %u: no slow path", call);
	cr_assert_eq(insns[end].id, terminator, "call %u ends in %s", call, insns[end].mnemonic);
	/* first (after pushfl where flags come first): movl $kind, mark; last before the far
	 * call: movl $0, mark */
	size_t first = 0;
	if (flags_first) {
		cr_assert_eq(insns[0].id, X86_INS_PUSHFD, "call %u starts with %s, not pushfl", call,
		             insns[0].mnemonic);
		/* Without a published gate (always under strict isolation, where user mode finds
		 * the vCPU page read-only) it goes straight to vmirun, writing nothing first. */
		cr_assert_eq(insns[1].id, X86_INS_CMP, "call %u: %s", call, insns[1].mnemonic);
		cr_assert_eq((uint32_t)insns[1].detail->x86.operands[0].mem.disp,
		             VMI_PROCESS_VCPU_PAGE + VMI_VCPU_SYSCALL_EIP);
		cr_assert_eq(insns[1].detail->x86.operands[1].imm, 0);
		cr_assert_eq(insns[2].id, X86_INS_JE, "call %u: %s", call, insns[2].mnemonic);
		uint32_t direct = (uint32_t)insns[2].detail->x86.operands[0].imm - file.image.base;
		cs_insn *path;
		size_t path_count = cs_disasm(capstone, file.bytes + direct, 16,
		                              file.image.base + direct, 3, &path);
		cr_assert_eq(path_count, 3);
		cr_assert_eq(path[0].id, X86_INS_POPFD, "call %u: %s", call, path[0].mnemonic);
		cr_assert_eq(path[1].id, X86_INS_LCALL, "call %u: %s", call, path[1].mnemonic);
		uint32_t target;
		memcpy(&target, path[1].bytes + 1, 4);
		cr_assert_eq(target, VMI_PROCESS_HYPERCALL_ENTRY(call), "call %u", call);
		cr_assert_eq(path[2].id, X86_INS_RET, "call %u: %s", call, path[2].mnemonic);
		cs_free(path, path_count);
		first = 3;
	}
	cr_assert_eq(insns[first].id, X86_INS_MOV, "call %u: %s %s", call, insns[first].mnemonic,
	             insns[first].op_str);
	cr_assert_eq((uint32_t)insns[first].detail->x86.operands[0].mem.disp, mark);
	cr_assert_eq((uint32_t)insns[first].detail->x86.operands[1].imm, transition);
	cr_assert_eq(insns[lcall - 1].id, X86_INS_MOV);
	cr_assert_eq((uint32_t)insns[lcall - 1].detail->x86.operands[0].mem.disp, mark);
	cr_assert_eq(insns[lcall - 1].detail->x86.operands[1].imm, VMI_TRANSITION_NONE);
	cs_free(insns, count);
	cr_assert_eq(rom_record(&file, call).type, rom_process_type(call));
	rom_release(&file);
}

Test(rom_image, process_ring_switches_stay_on_the_vcpu_page_and_their_own_entry)
{
	rom_expect_ring_switch(VMI_CALL_IRET, VMI_TRANSITION_IRET, X86_INS_UD2, 0);
	rom_expect_ring_switch(VMI_CALL_SYSEXIT, VMI_TRANSITION_SYSEXIT, X86_INS_UD2, 0);
	rom_expect_ring_switch(VMI_CALL_Syscall, VMI_TRANSITION_SYSCALL, X86_INS_RET, 1);
}

/* The callable stub of an INLINE call is its template followed by ret. */
static void rom_expect_inline_stubs(const char *path)
{
	struct rom_file file = rom_read(path);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record record = rom_record(&file, call);
		if (record.type != VMI_LINK_INLINE)
			continue;
		const uint8_t *slot = rom_slot(&file, call);
		cr_assert_eq(memcmp(slot, record.template_bytes, record.template_length), 0,
		             "%s: call %u", path, call);
		cr_assert_eq(slot[record.template_length], 0xC3, "%s: call %u", path, call);
	}
	rom_release(&file);
}

Test(rom_image, inline_stubs_are_the_template_and_ret)
{
	rom_expect_inline_stubs(PROCESS_ROM);
	rom_expect_inline_stubs(NATIVE_ROM);
}

/* Capstone 4 names some implicit writes by their 64-bit register (rdpmc: rax, rdx). */
static unsigned rom_register_32(unsigned reg)
{
	switch (reg) {
	case X86_REG_RAX: return X86_REG_EAX;
	case X86_REG_RCX: return X86_REG_ECX;
	case X86_REG_RDX: return X86_REG_EDX;
	case X86_REG_RBX: return X86_REG_EBX;
	case X86_REG_RSI: return X86_REG_ESI;
	case X86_REG_RDI: return X86_REG_EDI;
	case X86_REG_RBP: return X86_REG_EBP;
	case X86_REG_RSP: return X86_REG_ESP;
	}
	return reg;
}

/* Registers a call returns results in (not clobbers). */
static int rom_is_result(unsigned call, unsigned reg)
{
	int eax = reg == X86_REG_EAX || reg == X86_REG_AX || reg == X86_REG_AL;
	int edx = reg == X86_REG_EDX;
	switch (call) {
	case VMI_CALL_CPUID:
		return eax || edx || reg == X86_REG_EBX || reg == X86_REG_ECX;
	case VMI_CALL_RDMSR:
	case VMI_CALL_RDPMC:
	case VMI_CALL_RDTSC:
		return eax || edx;
	case VMI_CALL_GetLDT:
	case VMI_CALL_GetTR:
	case VMI_CALL_GetCR0:
	case VMI_CALL_GetCR2:
	case VMI_CALL_GetCR3:
	case VMI_CALL_GetCR4:
	case VMI_CALL_GetInterruptMask:
	case VMI_CALL_IN:
	case VMI_CALL_INB:
	case VMI_CALL_INW:
		return eax;
	case VMI_CALL_INS:
	case VMI_CALL_INSB:
	case VMI_CALL_INSW:
		return reg == X86_REG_EDI || reg == X86_REG_ECX;
	case VMI_CALL_OUTS:
	case VMI_CALL_OUTSB:
	case VMI_CALL_OUTSW:
		return reg == X86_REG_ESI || reg == X86_REG_ECX;
	}
	return 0;
}

static uint32_t rom_clobber_bit(unsigned reg)
{
	switch (reg) {
	case X86_REG_EAX: case X86_REG_AX: case X86_REG_AL: return VMI_CLOBBER_EAX;
	case X86_REG_ECX: return VMI_CLOBBER_ECX;
	case X86_REG_EDX: return VMI_CLOBBER_EDX;
	case X86_REG_EBX: return VMI_CLOBBER_EBX;
	case X86_REG_ESI: return VMI_CLOBBER_ESI;
	case X86_REG_EDI: return VMI_CLOBBER_EDI;
	case X86_REG_EBP: return VMI_CLOBBER_EBP;
	}
	return 0;
}

/* What a template writes is its results plus its declared clobbers. ESP is balanced
 * (push/pop pairs) and EFLAGS is judged by its arithmetic bits. */
static void rom_expect_truthful_clobbers(const char *path)
{
	struct rom_file file = rom_read(path);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record record = rom_record(&file, call);
		if (record.type != VMI_LINK_INLINE)
			continue;
		cs_insn *insns;
		size_t count = rom_decode_exactly(record.template_bytes, record.template_length,
		                                  record.target, &insns, call);
		for (size_t i = 0; i < count; i++) {
			const cs_detail *detail = insns[i].detail;
			if (detail->x86.eflags & ARITHMETIC_FLAG_WRITES)
				cr_assert(record.clobbers & VMI_CLOBBER_FLAGS,
				          "%s: call %u (%s): %s changes flags, undeclared", path, call,
				          vmi_call_name(call), insns[i].mnemonic);
			for (unsigned r = 0; r < detail->regs_write_count; r++) {
				unsigned reg = rom_register_32(detail->regs_write[r]);
				if (reg == X86_REG_ESP || reg == X86_REG_EFLAGS || rom_is_result(call, reg))
					continue;
				cr_assert(record.clobbers & rom_clobber_bit(reg),
				          "%s: call %u (%s): %s writes %s, undeclared", path, call,
				          vmi_call_name(call), insns[i].mnemonic,
				          cs_reg_name(capstone, reg));
			}
		}
		cs_free(insns, count);
	}
	rom_release(&file);
}

Test(rom_image, inline_clobbers_are_truthful)
{
	rom_expect_truthful_clobbers(PROCESS_ROM);
	rom_expect_truthful_clobbers(NATIVE_ROM);
}

/* The native ROM's templates are the instructions themselves. */
Test(rom_image, native_templates_are_the_real_instructions)
{
	static const struct { unsigned call; const char *text; } expected[] = {
		{ VMI_CALL_DisableInterrupts, "cli" },
		{ VMI_CALL_EnableInterrupts, "sti" },
		{ VMI_CALL_GetInterruptMask, "pushfd;pop eax" },
		{ VMI_CALL_SetInterruptMask, "push eax;popfd" },
		{ VMI_CALL_RDTSC, "rdtsc" },
		{ VMI_CALL_CPUID, "cpuid" },
		{ VMI_CALL_RDMSR, "rdmsr" },
		{ VMI_CALL_RDPMC, "rdpmc" },
		{ VMI_CALL_INB, "in al, dx" },
		{ VMI_CALL_INW, "in ax, dx" },
		{ VMI_CALL_IN, "in eax, dx" },
		{ VMI_CALL_OUTB, "out dx, al" },
		{ VMI_CALL_OUTW, "out dx, ax" },
		{ VMI_CALL_OUT, "out dx, eax" },
		{ VMI_CALL_Pause, "pause" },
		{ VMI_CALL_Halt, "hlt" },
		{ VMI_CALL_CLTS, "clts" },
		{ VMI_CALL_GetCR3, "mov eax, cr3" },
		{ VMI_CALL_IODelay, "out 0x80, al" },
	};
	struct rom_file file = rom_read(NATIVE_ROM);
	for (size_t e = 0; e < sizeof(expected) / sizeof(expected[0]); e++) {
		unsigned call = expected[e].call;
		struct vmi_link_record record = rom_record(&file, call);
		cr_assert_eq(record.type, VMI_LINK_INLINE, "call %u", call);
		cr_assert_eq(record.target, rom_slot_address(&file, call));
		cs_insn *insns;
		size_t count = rom_decode_exactly(record.template_bytes, record.template_length,
		                                  record.target, &insns, call);
		char text[512] = "";
		for (size_t i = 0; i < count; i++) {
			size_t used = strlen(text);
			snprintf(text + used, sizeof(text) - used, "%s%s%s%s", i ? ";" : "",
			         insns[i].mnemonic, insns[i].op_str[0] ? " " : "", insns[i].op_str);
		}
		cr_assert_str_eq(text, expected[e].text, "call %u (%s)", call, vmi_call_name(call));
		cs_free(insns, count);
	}
	cr_assert_eq(rom_record(&file, VMI_CALL_IRET).type, VMI_LINK_JUMP_REL);
	cr_assert_eq(rom_slot(&file, VMI_CALL_IRET)[0], 0xCF, "IRET's stub is iret");
	cr_assert_eq(rom_record(&file, VMI_CALL_SYSEXIT).type, VMI_LINK_JUMP_REL);
	cr_assert_eq(memcmp(rom_slot(&file, VMI_CALL_SYSEXIT), "\xfb\x0f\x35", 3), 0,
	             "SYSEXIT's stub is sti; sysexit");
	rom_release(&file);
}

/* Calls with no native implementation return VMI_ERROR_NOT_IMPLEMENTED and link CALL_REL. */
/* The native ROM's page-table calls are the instructions themselves (docs/abi.md, "Page
 * tables"): the slot's instructions, in order, by Capstone's names. */
static void rom_expect_native_slot(unsigned call, const char *const *expected)
{
	struct rom_file file = rom_read(NATIVE_ROM);
	cs_insn *insns;
	size_t count = cs_disasm(capstone, rom_slot(&file, call), VMI_ROM_SLOT_SIZE,
	                         rom_slot_address(&file, call), 0, &insns);
	size_t i = 0;
	for (; expected[i]; i++) {
		cr_assert_lt(i, count, "call %u: only %zu instructions", call, count);
		char text[sizeof(insns[i].mnemonic) + sizeof(insns[i].op_str) + 2];
		snprintf(text, sizeof(text), "%s %s", insns[i].mnemonic, insns[i].op_str);
		cr_assert_str_eq(text, expected[i], "call %u, instruction %zu", call, i);
	}
	cs_free(insns, count);
	cr_assert_eq(rom_record(&file, call).type, VMI_LINK_CALL_REL);
	rom_release(&file);
}

Test(rom_image, native_page_table_calls_are_the_instructions)
{
	rom_expect_native_slot(VMI_CALL_SetPxE, (const char *const[]){
		"mov dword ptr [edx], eax", "mov eax, 0", "ret ", NULL });
	rom_expect_native_slot(VMI_CALL_GetPxE, (const char *const[]){
		"mov eax, dword ptr [eax]", "ret ", NULL });
	rom_expect_native_slot(VMI_CALL_SwapPxE, (const char *const[]){
		"xchg dword ptr [edx], eax", "ret ", NULL });
	rom_expect_native_slot(VMI_CALL_TestAndSetPxEBit, (const char *const[]){
		"lock bts dword ptr [edx], eax", "sbb eax, eax", "neg eax", "ret ", NULL });
	rom_expect_native_slot(VMI_CALL_TestAndClearPxEBit, (const char *const[]){
		"lock btr dword ptr [edx], eax", "sbb eax, eax", "neg eax", "ret ", NULL });
	rom_expect_native_slot(VMI_CALL_InvalPage, (const char *const[]){
		"invlpg byte ptr [eax]", "mov eax, 0", "ret ", NULL });
	rom_expect_body(NATIVE_ROM, VMI_CALL_FlushTLB);
}

Test(rom_image, native_unimplemented_calls_say_so)
{
	static const uint8_t not_implemented[] = { 0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0xC3 };
	/* 64-bit results say it in EDX too: mov $-1, %eax; mov %eax, %edx; ret */
	static const uint8_t not_implemented64[] = { 0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0xC2, 0xC3 };
	static const unsigned calls[] = {
		VMI_CALL_SetPxELong, VMI_CALL_GetPxELong, VMI_CALL_SetIOPLMask,
		VMI_CALL_DeactivatePxELongAtomic, VMI_CALL_APICRead, VMI_CALL_SetAlarm,
		VMI_CALL_CancelAlarm, VMI_CALL_WallclockUpdated, VMI_CALL_SetPxE2,
		VMI_CALL_SetPxELong2,
	};
	static const unsigned calls64[] = {
		VMI_CALL_GetCycleFrequency, VMI_CALL_GetCycleCounter, VMI_CALL_GetWallclockTime,
	};
	struct rom_file file = rom_read(NATIVE_ROM);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		cr_assert_eq(memcmp(rom_slot(&file, calls[i]), not_implemented,
		                    sizeof(not_implemented)), 0, "call %u", calls[i]);
		cr_assert_eq(rom_record(&file, calls[i]).type, VMI_LINK_CALL_REL);
	}
	for (size_t i = 0; i < sizeof(calls64) / sizeof(calls64[0]); i++) {
		cr_assert_eq(memcmp(rom_slot(&file, calls64[i]), not_implemented64,
		                    sizeof(not_implemented64)), 0, "call %u", calls64[i]);
		cr_assert_eq(rom_record(&file, calls64[i]).type, VMI_LINK_CALL_REL);
		cr_assert_eq(rom_record(&file, calls64[i]).clobbers, 0); /* EDX is a result */
	}
	rom_release(&file);
}

/* ---- broken copies ---------------------------------------------------------------------- */

struct rom_copy {
	uint8_t *bytes;
	size_t size;
};

static struct rom_copy rom_copy_of(const char *path)
{
	struct rom_file file = rom_read(path);
	struct rom_copy copy = { file.bytes, file.size };
	return copy;
}

/* Makes the bytes the length byte covers sum to 0 again, through the last one. */
static void rom_reseal(struct rom_copy *copy)
{
	size_t size = (size_t)copy->bytes[VMI_ROM_HDR_LENGTH] * VMI_ROM_LENGTH_UNIT;
	if (size > copy->size)
		size = copy->size;
	uint8_t sum = 0;
	for (size_t i = 0; i + 1 < size; i++)
		sum = (uint8_t)(sum + copy->bytes[i]);
	copy->bytes[size - 1] = (uint8_t)-sum;
}

static uint8_t *rom_copy_record(struct rom_copy *copy, unsigned call)
{
	uint32_t table;
	memcpy(&table, copy->bytes + VMI_ROM_HDR_PRIVATE, 4);
	return copy->bytes + table + call * VMI_LINK_RECORD_SIZE;
}

static uint8_t *rom_copy_slot(struct rom_copy *copy, unsigned call)
{
	return copy->bytes + VMI_ROM_CALL_OFFSET(call);
}

static void rom_expect_refused_size(struct rom_copy *copy, size_t size, const char *needle)
{
	struct rom_image image;
	rom_image_parse(&image, copy->bytes, size);
	char reason[512] = "";
	int result = rom_verify(&image, reason, sizeof(reason), NULL);
	cr_assert_eq(result, 1, "accepted, expected '%s'", needle);
	cr_assert(strstr(reason, needle), "reason '%s' lacks '%s'", reason, needle);
	cr_assert_null(strchr(reason, '\n'), "reason is more than a line: %s", reason);
	free(copy->bytes);
}

/* Reseals (unless the checksum is the point), then expects verify to refuse. */
static void rom_expect_refused(struct rom_copy *copy, const char *needle)
{
	rom_reseal(copy);
	rom_expect_refused_size(copy, copy->size, needle);
}

Test(rom_image, refuses_a_bad_option_signature)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[0] = 0x00;
	rom_expect_refused(&c, "bad option-ROM signature 0xaa00");
}

Test(rom_image, refuses_a_bad_vmi_signature)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[VMI_ROM_HDR_VMI_SIGNATURE] = 'X';
	rom_expect_refused(&c, "bad VMI signature");
}

Test(rom_image, refuses_a_bad_checksum_and_says_the_sum)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[VMI_ROM_CALL_TABLE_END - 1] += 0x37;
	rom_expect_refused_size(&c, c.size, "sum to 0x37 mod 256");
}

Test(rom_image, refuses_a_length_too_short_for_the_call_table)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[VMI_ROM_HDR_LENGTH] = 2;
	rom_expect_refused(&c, "bad length");
}

Test(rom_image, refuses_a_file_longer_than_its_length_byte)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *longer = realloc(c.bytes, c.size + VMI_ROM_LENGTH_UNIT);
	cr_assert_not_null(longer);
	memset(longer + c.size, 0, VMI_ROM_LENGTH_UNIT);
	c.bytes = longer;
	rom_expect_refused_size(&c, c.size + VMI_ROM_LENGTH_UNIT, "bad length: the length byte says");
}

Test(rom_image, refuses_an_unknown_major_version)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[VMI_ROM_HDR_API_MAJOR] = VMI_API_MAJOR + 1;
	rom_expect_refused(&c, "unknown API major version");
}

Test(rom_image, refuses_a_truncated_file)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_expect_refused_size(&c, c.size - VMI_ROM_LENGTH_UNIT, "truncated file");
}

Test(rom_image, refuses_a_file_shorter_than_the_call_table)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_expect_refused_size(&c, VMI_ROM_CALL_TABLE_END - 1, "truncated file");
}

Test(rom_image, refuses_a_link_table_out_of_range)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t table = (uint32_t)c.size - VMI_LINK_RECORD_SIZE;
	memcpy(c.bytes + VMI_ROM_HDR_PRIVATE, &table, 4);
	rom_expect_refused(&c, "link-record table out of range");
}

Test(rom_image, refuses_a_nonzero_reserved_header_field)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[VMI_ROM_HDR_RESERVED0] = 1;
	rom_expect_refused(&c, "nonzero reserved field in the ROM header");
}

Test(rom_image, virtual_top_is_the_process_window_or_nothing_and_page_aligned)
{
	struct rom_copy process = rom_copy_of(PROCESS_ROM), native = rom_copy_of(NATIVE_ROM);
	uint32_t top;
	memcpy(&top, process.bytes + VMI_ROM_HDR_VIRTUAL_TOP, 4);
	cr_assert_eq(top, VMI_PROCESS_WINDOW_BASE, "process ROM: 0x%08x", top);
	memcpy(&top, native.bytes + VMI_ROM_HDR_VIRTUAL_TOP, 4);
	free(native.bytes);
	cr_assert_eq(top, 0, "native ROM: 0x%08x", top);
	top = VMI_PROCESS_WINDOW_BASE + 0x10;
	memcpy(process.bytes + VMI_ROM_HDR_VIRTUAL_TOP, &top, 4);
	rom_expect_refused(&process, "virtual_top 0xffff0010 is not page-aligned");
}

Test(rom_image, refuses_an_invalid_elf_header)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[VMI_ROM_ELF_HEADER_OFFSET + 18] = 62;   /* e_machine: EM_X86_64 */
	rom_expect_refused(&c, "invalid ELF header in slots 2-3: e_machine");
}

Test(rom_image, refuses_an_elf_entry_that_is_not_init)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	c.bytes[VMI_ROM_ELF_HEADER_OFFSET + 24] += VMI_ROM_SLOT_SIZE;   /* e_entry */
	rom_expect_refused(&c, "e_entry is not the Init stub");
}

Test(rom_image, refuses_a_program_header_with_the_wrong_size)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t phoff;
	memcpy(&phoff, c.bytes + VMI_ROM_ELF_HEADER_OFFSET + 28, 4);
	c.bytes[phoff + 16] ^= 0x10;   /* p_filesz */
	rom_expect_refused(&c, "invalid ELF header in slots 2-3: the program header's p_filesz");
}

Test(rom_image, refuses_a_stub_that_overflows_its_slot)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	memset(rom_copy_slot(&c, VMI_CALL_CPUID), 0x90, VMI_ROM_SLOT_SIZE);
	rom_expect_refused(&c, "call 5 (CPUID): stub runs past its 32-byte slot without a "
	                       "terminating control transfer");
}

Test(rom_image, refuses_a_stub_whose_last_instruction_crosses_the_slot)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *slot = rom_copy_slot(&c, VMI_CALL_CPUID);
	memset(slot, 0x90, VMI_ROM_SLOT_SIZE);
	slot[VMI_ROM_SLOT_SIZE - 2] = 0xB8;   /* mov $imm32, %eax: 5 bytes, 2 in the slot */
	rom_expect_refused(&c, "crosses the slot's end");
}

/* jmp rel32 from the start of `call`'s slot to image offset `to`. */
static void rom_put_jmp(struct rom_copy *copy, unsigned call, uint32_t to)
{
	uint8_t *slot = rom_copy_slot(copy, call);
	int32_t displacement = (int32_t)(to - (VMI_ROM_CALL_OFFSET(call) + 5));
	slot[0] = 0xE9;
	memcpy(slot + 1, &displacement, 4);
}

Test(rom_image, refuses_a_stub_jumping_into_the_call_table)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_put_jmp(&c, VMI_CALL_CPUID, VMI_ROM_CALL_OFFSET(VMI_CALL_WRMSR));
	rom_expect_refused(&c, "call 5 (CPUID): stub's jmp to 0x000c00c0 does not land on a body "
	                       "inside the image beyond the call table");
}

Test(rom_image, refuses_a_stub_jumping_out_of_the_image)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_put_jmp(&c, VMI_CALL_CPUID, (uint32_t)c.size + 0x100);
	rom_expect_refused(&c, "does not land on a body inside the image beyond the call table");
}

Test(rom_image, refuses_a_stub_jumping_into_the_link_table)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t table;
	memcpy(&table, c.bytes + VMI_ROM_HDR_PRIVATE, 4);
	rom_put_jmp(&c, VMI_CALL_CPUID, table + 16);
	rom_expect_refused(&c, "does not land on a body");
}

Test(rom_image, refuses_an_indirect_jmp_in_a_stub)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *slot = rom_copy_slot(&c, VMI_CALL_CPUID);
	slot[0] = 0xFF;
	slot[1] = 0xE0;   /* jmp *%eax */
	rom_expect_refused(&c, "indirect jmp");
}

Test(rom_image, refuses_an_undecodable_stub)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *slot = rom_copy_slot(&c, VMI_CALL_CPUID);
	slot[0] = 0xFF;
	slot[1] = 0xFF;
	rom_expect_refused(&c, "call 5 (CPUID): undecodable stub");
}

Test(rom_image, refuses_a_template_longer_than_its_instructions)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_DisableInterrupts)[VMI_LINK_REC_LENGTH] -= 1;
	rom_copy_record(&c, VMI_CALL_DisableInterrupts)[VMI_LINK_REC_TEMPLATE + 9] = 0;
	rom_expect_refused(&c, "call 36 (DisableInterrupts): malformed template: the instruction "
	                       "at +0 (mov) runs past the template length 9");
}

Test(rom_image, refuses_an_undecodable_template)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *record = rom_copy_record(&c, VMI_CALL_RDTSC);
	record[VMI_LINK_REC_TEMPLATE] = 0xFF;
	record[VMI_LINK_REC_TEMPLATE + 1] = 0xFF;
	rom_expect_refused(&c, "call 33 (RDTSC): malformed template: undecodable bytes at +0");
}

Test(rom_image, refuses_a_template_over_the_maximum_length)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_RDTSC)[VMI_LINK_REC_LENGTH] = VMI_LINK_TEMPLATE_MAX + 1;
	rom_expect_refused(&c, "exceeds VMI_LINK_TEMPLATE_MAX");
}

Test(rom_image, refuses_an_empty_inline_template)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *record = rom_copy_record(&c, VMI_CALL_RDTSC);
	record[VMI_LINK_REC_LENGTH] = 0;
	memset(record + VMI_LINK_REC_TEMPLATE, 0, VMI_LINK_TEMPLATE_MAX);
	rom_expect_refused(&c, "empty template");
}

Test(rom_image, refuses_a_template_on_a_call_rel_record)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *record = rom_copy_record(&c, VMI_CALL_CPUID);
	record[VMI_LINK_REC_LENGTH] = 2;
	record[VMI_LINK_REC_TEMPLATE] = 0x0F;
	record[VMI_LINK_REC_TEMPLATE + 1] = 0xA2;
	rom_expect_refused(&c, "call 5 (CPUID): malformed template: a call_rel record has a "
	                       "template length");
}

Test(rom_image, refuses_a_template_that_returns)
{
	struct rom_copy c = rom_copy_of(NATIVE_ROM);
	/* The slot too, so only the template's content is wrong. */
	rom_copy_record(&c, VMI_CALL_DisableInterrupts)[VMI_LINK_REC_TEMPLATE] = 0xC3;
	rom_copy_slot(&c, VMI_CALL_DisableInterrupts)[0] = 0xC3;
	rom_expect_refused(&c, "malformed template: it returns");
}

Test(rom_image, refuses_a_branch_without_the_internal_branch_flag)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_EnableInterrupts)[VMI_LINK_REC_FLAGS] = 0;
	rom_expect_refused(&c, "does not declare VMI_LINK_FLAG_INTERNAL_BRANCH");
}

Test(rom_image, refuses_a_template_branch_that_leaves_the_template)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *record = rom_copy_record(&c, VMI_CALL_EnableInterrupts);
	cr_assert_eq(record[VMI_LINK_REC_TEMPLATE + 17], 0x74, "je at +17");
	record[VMI_LINK_REC_TEMPLATE + 18] = 0x20;
	rom_expect_refused(&c, "call 35 (EnableInterrupts): template branch (je at +17) to "
	                       "0x000c0493 leaves the template");
}

Test(rom_image, refuses_a_template_branch_into_an_instruction)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint8_t *record = rom_copy_record(&c, VMI_CALL_EnableInterrupts);
	record[VMI_LINK_REC_TEMPLATE + 18] = 0x03;   /* into the lcall */
	rom_expect_refused(&c, "lands inside an instruction");
}

Test(rom_image, refuses_a_target_outside_the_image)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t target = 0x100;
	memcpy(rom_copy_record(&c, VMI_CALL_CPUID) + VMI_LINK_REC_TARGET, &target, 4);
	rom_expect_refused(&c, "call 5 (CPUID): target 0x00000100 outside the image");
}

Test(rom_image, refuses_a_jump_target_outside_the_image)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t target = VMI_ROM_BASE + (uint32_t)c.size;
	memcpy(rom_copy_record(&c, VMI_CALL_IRET) + VMI_LINK_REC_TARGET, &target, 4);
	char needle[96];
	snprintf(needle, sizeof needle, "call 39 (IRET): target 0x%08x outside the image", target);
	rom_expect_refused(&c, needle);
}

Test(rom_image, refuses_an_inline_target_outside_the_image)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t target = 0xFFFFFFF0;
	memcpy(rom_copy_record(&c, VMI_CALL_RDTSC) + VMI_LINK_REC_TARGET, &target, 4);
	rom_expect_refused(&c, "call 33 (RDTSC): target 0xfffffff0 outside the image");
}

Test(rom_image, refuses_a_target_in_the_header)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t target = VMI_ROM_BASE + VMI_ROM_ELF_HEADER_OFFSET;
	memcpy(rom_copy_record(&c, VMI_CALL_CPUID) + VMI_LINK_REC_TARGET, &target, 4);
	rom_expect_refused(&c, "is not code: it lies in the ELF header");
}

Test(rom_image, refuses_an_inline_target_without_the_template)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	uint32_t target = VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_CPUID);
	memcpy(rom_copy_record(&c, VMI_CALL_RDTSC) + VMI_LINK_REC_TARGET, &target, 4);
	rom_expect_refused(&c, "does not begin with the template");
}

Test(rom_image, refuses_an_unknown_link_type)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_CPUID)[VMI_LINK_REC_TYPE] = 9;
	rom_expect_refused(&c, "call 5 (CPUID): unknown link type 9");
}

Test(rom_image, refuses_nonzero_reserved_record_fields)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_CPUID)[3] = 1;   /* reserved0 */
	rom_expect_refused(&c, "nonzero reserved field in its link record");

	c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_CPUID)[12] = 1;  /* reserved1 */
	rom_expect_refused(&c, "nonzero reserved field in its link record");

	c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_RDTSC)[VMI_LINK_REC_TEMPLATE + 40] = 1;
	rom_expect_refused(&c, "template bytes past its length");
}

Test(rom_image, refuses_unknown_flags_and_clobbers)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_CPUID)[VMI_LINK_REC_FLAGS] = 0x80;
	rom_expect_refused(&c, "unknown link-record flags 0x80");

	c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, VMI_CALL_CPUID)[VMI_LINK_REC_CLOBBERS + 1] = 1;
	rom_expect_refused(&c, "unknown clobber bits 0x00000100");
}

Test(rom_image, refuses_a_record_for_a_header_slot)
{
	struct rom_copy c = rom_copy_of(PROCESS_ROM);
	rom_copy_record(&c, 2)[VMI_LINK_REC_TYPE] = VMI_LINK_NOP;
	rom_expect_refused(&c, "slot 2 (not a call): its link record must be NONE and empty");
}

Test(rom_image, load_reports_a_missing_file)
{
	struct rom_image image;
	uint8_t *storage;
	char error[256];
	cr_assert_eq(rom_image_load(BUILD_DIR "/rom/no-such-rom.bin", &image, &storage, error,
	                            sizeof(error)), -1);
	cr_assert(strstr(error, "No such file"), "%s", error);
}
