/* Unit tests of the guest SDK's call-site patcher (guest/vmiguest/patch.c) on host buffers:
 * real templates from the built ROM images, every byte of every patched site checked with
 * Capstone, guard bytes around each site, and a randomized property test. */
#include <criterion/criterion.h>
#include <capstone/capstone.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/pc.h>
#include <vmi/rom.h>
#include "patch.h"
#include "rom_check.h"

#ifndef ROM_DIR
#define ROM_DIR BUILD_DIR "/rom"
#endif

/* The link table's address in the pretend guest, and where sites live. */
#define TABLE_ADDRESS  0x00105000u
#define SITE_ADDRESS   0x00101234u
#define GUARD          16
#define GUARD_BYTE     0xA5

/* What the SDK's wrappers declare (vmiguest.h). */
#define CLOBBERS_NONE_BUT_FLAGS  VMI_CLOBBER_FLAGS
#define CLOBBERS_EAX             (VMI_CLOBBER_EAX | VMI_CLOBBER_FLAGS)

/* --- ROM images -------------------------------------------------------------------------- */

struct rom {
	uint8_t *bytes;
	size_t size;
	struct vmi_rom_facts facts;
	uint32_t address;
	struct vmi_link_record records[VMI_CALL_COUNT];
};

static struct rom process_rom, native_rom;

static void load_rom(struct rom *rom, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", ROM_DIR, name);
	FILE *file = fopen(path, "rb");
	cr_assert(file, "%s is missing: run `make` first (the ROM images are built by rom/rom.mk)",
	          path);
	rom->bytes = malloc(VMI_ROM_MAX_SIZE);
	cr_assert(rom->bytes);
	rom->size = fread(rom->bytes, 1, VMI_ROM_MAX_SIZE, file);
	fclose(file);
	enum vmi_rom_status status = vmi_rom_check(rom->bytes, rom->size, &rom->facts);
	cr_assert_eq(status, VMI_ROM_OK, "%s: %s", path, vmi_rom_status_text(status));
	rom->address = VMI_ROM_BASE;   /* both images are linked there */
	for (unsigned call = 0; call < VMI_CALL_COUNT; call++)
		cr_assert_eq(vmi_rom_link_record(rom->bytes, &rom->facts, call, &rom->records[call]), 0);
}

static void load_roms(void)
{
	load_rom(&process_rom, "process_rom.bin");
	load_rom(&native_rom, "native_rom.bin");
}

static void free_roms(void)
{
	free(process_rom.bytes);
	free(native_rom.bytes);
}

static struct vmi_patch_env env_for(const struct rom *rom, enum vmi_link_mode mode)
{
	struct vmi_patch_env env = {
		.mode = mode,
		.table_address = TABLE_ADDRESS,
		.rom_address = rom->address,
		.records = rom->records,
	};
	return env;
}

/* --- Capstone ------------------------------------------------------------------------------ */

static csh capstone(void)
{
	static csh handle;
	static int opened;
	if (!opened) {
		cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_32, &handle), CS_ERR_OK, "cs_open");
		cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
		opened = 1;
	}
	return handle;
}

#define MAX_INSNS 64

struct decoded {
	size_t count;
	cs_insn *insns;
};

/* Decodes exactly `length` bytes at guest address `address`: every byte must belong to a
 * whole instruction, none may run past the end. */
static struct decoded decode_exactly(const uint8_t *bytes, size_t length, uint32_t address,
                                     const char *what)
{
	struct decoded d = { 0, NULL };
	if (length == 0)
		return d;
	d.count = cs_disasm(capstone(), bytes, length, address, 0, &d.insns);
	size_t covered = 0;
	for (size_t i = 0; i < d.count; i++)
		covered += d.insns[i].size;
	cr_assert_eq(covered, length, "%s: instructions cover %zu of %zu bytes", what, covered,
	             length);
	return d;
}

static void decoded_free(struct decoded *d)
{
	if (d->count)
		cs_free(d->insns, d->count);
}

static int is_nop(const cs_insn *insn)
{
	return insn->id == X86_INS_NOP && insn->size <= VMI_NOP_MAX;
}

static uint32_t branch_target(const cs_insn *insn)
{
	const cs_x86 *x86 = &insn->detail->x86;
	cr_assert_eq(x86->op_count, 1, "%s %s: one operand", insn->mnemonic, insn->op_str);
	cr_assert_eq(x86->operands[0].type, X86_OP_IMM, "%s %s: an immediate target",
	             insn->mnemonic, insn->op_str);
	return (uint32_t)x86->operands[0].imm;
}

static int is_relative_branch(const cs_insn *insn)
{
	const cs_x86 *x86 = &insn->detail->x86;
	if (x86->op_count != 1 || x86->operands[0].type != X86_OP_IMM)
		return 0;
	for (unsigned g = 0; g < insn->detail->groups_count; g++) {
		uint8_t group = insn->detail->groups[g];
		if (group == CS_GRP_JUMP || group == CS_GRP_CALL || group == CS_GRP_BRANCH_RELATIVE)
			return 1;
	}
	return 0;
}

/* --- sites in guarded buffers --------------------------------------------------------------- */

struct site_buffer {
	uint8_t bytes[GUARD + VMI_SITE_MAX_LENGTH + GUARD];
	uint8_t before[GUARD + VMI_SITE_MAX_LENGTH + GUARD];
};

static uint8_t *site_bytes(struct site_buffer *buffer)
{
	return buffer->bytes + GUARD;
}

/* Guard bytes around the site, the SDK's own bytes inside it. */
static void emit_site(struct site_buffer *buffer, const struct vmi_site *site,
                      uint32_t table_address)
{
	memset(buffer->bytes, GUARD_BYTE, sizeof(buffer->bytes));
	cr_assert_eq(vmi_site_expected_bytes(site, table_address, site_bytes(buffer)), 0);
	memcpy(buffer->before, buffer->bytes, sizeof(buffer->bytes));
}

static void check_guards(const struct site_buffer *buffer, const struct vmi_site *site)
{
	for (size_t i = 0; i < sizeof(buffer->bytes); i++) {
		if (i >= GUARD && i < (size_t)GUARD + site->length)
			continue;
		cr_assert_eq(buffer->bytes[i], buffer->before[i],
		             "byte %zd from the site (length %u) was written", (ssize_t)i - GUARD,
		             site->length);
	}
}

static struct vmi_site make_site(uint32_t address, unsigned length, unsigned call,
                                 unsigned clobbers, unsigned flags)
{
	struct vmi_site site = {
		.address = address,
		.length = (uint8_t)length,
		.call = (uint8_t)call,
		.clobbers = (uint8_t)clobbers,
		.flags = (uint8_t)flags,
	};
	return site;
}

/* Where a direct call for `call` must land (the record's target, or the call's stub). */
static uint32_t expected_stub(const struct vmi_patch_env *env, unsigned call)
{
	const struct vmi_link_record *record = &env->records[call];
	if (record->type != VMI_LINK_NOP && record->target != 0)
		return record->target;
	return env->rom_address + VMI_ROM_CALL_OFFSET(call);
}

/* Checks every byte of a site after vmi_patch_site said `outcome`. */
static void check_site(const struct vmi_patch_env *env, const struct vmi_site *site,
                       const struct site_buffer *buffer, enum vmi_patch_outcome outcome)
{
	const uint8_t *bytes = buffer->bytes + GUARD;
	const struct vmi_link_record *record = &env->records[site->call];
	check_guards(buffer, site);

	if (outcome == VMI_PATCH_TABLE || outcome == VMI_PATCH_REFUSED) {
		cr_assert_eq(memcmp(buffer->bytes, buffer->before, sizeof(buffer->bytes)), 0,
		             "a site left alone was changed");
		return;
	}

	struct decoded d = decode_exactly(bytes, site->length, site->address, "patched site");
	size_t first_padding = 0;
	if (outcome == VMI_PATCH_CALLED) {
		const cs_insn *transfer = &d.insns[0];
		int jump_site = (site->flags & VMI_SITE_FLAG_JUMP) != 0;
		cr_assert_eq(transfer->id, jump_site ? X86_INS_JMP : X86_INS_CALL,
		             "call %u: a direct %s expected, found %s %s", site->call,
		             jump_site ? "jmp" : "call", transfer->mnemonic, transfer->op_str);
		cr_assert_eq(transfer->size, VMI_REL32_LENGTH);
		cr_assert_eq(transfer->bytes[0], jump_site ? 0xE9 : 0xE8);
		cr_assert_eq(branch_target(transfer), expected_stub(env, site->call),
		             "call %u: lands at %#x, not on its stub %#x", site->call,
		             branch_target(transfer), expected_stub(env, site->call));
		first_padding = 1;
	} else if (outcome == VMI_PATCH_INLINED) {
		unsigned length = record->template_length;
		cr_assert_eq(memcmp(bytes, record->template_bytes, length), 0,
		             "call %u: the template was not copied verbatim", site->call);
		/* The template alone decodes to whole instructions, and its branches stay in it. */
		struct decoded t = decode_exactly(bytes, length, site->address, "template");
		for (size_t i = 0; i < t.count; i++) {
			if (!is_relative_branch(&t.insns[i]))
				continue;
			uint32_t target = branch_target(&t.insns[i]);
			cr_assert(target >= site->address && target <= site->address + length,
			          "call %u: template branch to %#x leaves the template", site->call,
			          target);
		}
		first_padding = t.count;
		decoded_free(&t);
		size_t covered = 0;
		for (size_t i = 0; i < first_padding; i++)
			covered += d.insns[i].size;
		cr_assert_eq(covered, length, "template and site instruction boundaries differ");
	}
	for (size_t i = first_padding; i < d.count; i++)
		cr_assert(is_nop(&d.insns[i]), "call %u: padding holds %s %s", site->call,
		          d.insns[i].mnemonic, d.insns[i].op_str);
	decoded_free(&d);
}

/* Emits, patches and checks one site; returns the outcome. */
static enum vmi_patch_outcome patch_and_check(const struct vmi_patch_env *env,
                                              const struct vmi_site *site)
{
	struct site_buffer buffer;
	emit_site(&buffer, site, env->table_address);
	enum vmi_refusal refusal;
	enum vmi_patch_outcome outcome = vmi_patch_site(env, site, site_bytes(&buffer), &refusal);
	cr_assert_neq(outcome, VMI_PATCH_REFUSED, "call %u: refused (%s)", site->call,
	              vmi_refusal_text(refusal));
	check_site(env, site, &buffer, outcome);
	return outcome;
}

/* The rules, written from the specification rather than from patch.c. */
static enum vmi_patch_outcome oracle(const struct vmi_patch_env *env, const struct vmi_site *site)
{
	const struct vmi_link_record *record = &env->records[site->call];
	int jump_site = (site->flags & VMI_SITE_FLAG_JUMP) != 0;
	if (env->mode == VMI_LINK_MODE_INDIRECT)
		return VMI_PATCH_TABLE;
	switch (record->type) {
	case VMI_LINK_NOP:
		if (jump_site)
			return VMI_PATCH_TABLE;
		return env->mode == VMI_LINK_MODE_INLINE ? VMI_PATCH_NOPPED : VMI_PATCH_CALLED;
	case VMI_LINK_CALL_REL:
	case VMI_LINK_JUMP_REL:
		return VMI_PATCH_CALLED;
	case VMI_LINK_INLINE:
		if (env->mode == VMI_LINK_MODE_INLINE && record->template_length <= site->length &&
		    (record->clobbers & ~(uint32_t)site->clobbers) == 0 &&
		    !(site->flags & VMI_SITE_FLAG_STACK_ARGS))
			return VMI_PATCH_INLINED;
		return VMI_PATCH_CALLED;
	default:
		return VMI_PATCH_TABLE;
	}
}

TestSuite(patch, .init = load_roms, .fini = free_roms);

/* --- NOPs and the SDK's own bytes ------------------------------------------------------------ */

/* Intel SDM vol. 2B, NOP: the recommended forms, written out here independently. */
static const char *const sdm_nops[VMI_NOP_MAX + 1] = {
	[1] = "\x90",
	[2] = "\x66\x90",
	[3] = "\x0f\x1f\x00",
	[4] = "\x0f\x1f\x40\x00",
	[5] = "\x0f\x1f\x44\x00\x00",
	[6] = "\x66\x0f\x1f\x44\x00\x00",
	[7] = "\x0f\x1f\x80\x00\x00\x00\x00",
	[8] = "\x0f\x1f\x84\x00\x00\x00\x00\x00",
	[9] = "\x66\x0f\x1f\x84\x00\x00\x00\x00\x00",
};

Test(patch, padding_is_recommended_nops_for_every_length)
{
	for (unsigned length = 0; length <= VMI_SITE_MAX_LENGTH; length++) {
		uint8_t buffer[VMI_SITE_MAX_LENGTH + GUARD];
		memset(buffer, GUARD_BYTE, sizeof(buffer));
		vmi_fill_nops(buffer, length);
		for (unsigned i = length; i < sizeof(buffer); i++)
			cr_assert_eq(buffer[i], GUARD_BYTE, "length %u: wrote past the end", length);
		struct decoded d = decode_exactly(buffer, length, SITE_ADDRESS, "padding");
		for (size_t i = 0; i < d.count; i++) {
			cr_assert(is_nop(&d.insns[i]), "length %u: %s %s", length, d.insns[i].mnemonic,
			          d.insns[i].op_str);
			cr_assert_eq(memcmp(d.insns[i].bytes, sdm_nops[d.insns[i].size], d.insns[i].size),
			             0, "length %u: a %u-byte NOP not in the SDM's form", length,
			             d.insns[i].size);
			/* As few instructions as possible: all 9 bytes long but the last. */
			if (i + 1 < d.count)
				cr_assert_eq(d.insns[i].size, VMI_NOP_MAX);
		}
		cr_assert_eq(d.count, (length + VMI_NOP_MAX - 1) / VMI_NOP_MAX);
		decoded_free(&d);
	}
}

Test(patch, sdk_sites_are_a_table_call_then_nops)
{
	static const unsigned lengths[] = { 6, 7, 8, 15, 32, 64 };
	for (unsigned i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		for (unsigned jump = 0; jump <= 1; jump++) {
			struct vmi_site site = make_site(SITE_ADDRESS, lengths[i], VMI_CALL_OUTB,
			                                 VMI_CLOBBER_FLAGS, jump ? VMI_SITE_FLAG_JUMP : 0);
			uint8_t bytes[VMI_SITE_MAX_LENGTH];
			cr_assert_eq(vmi_site_expected_bytes(&site, TABLE_ADDRESS, bytes), 0);
			struct decoded d = decode_exactly(bytes, site.length, site.address, "sdk site");
			const cs_insn *first = &d.insns[0];
			cr_assert_eq(first->id, jump ? X86_INS_JMP : X86_INS_CALL);
			cr_assert_eq(first->size, VMI_SITE_TABLE_INSN_LENGTH);
			const cs_x86 *x86 = &first->detail->x86;
			cr_assert_eq(x86->operands[0].type, X86_OP_MEM, "an indirect transfer");
			cr_assert_eq(x86->operands[0].mem.base, X86_REG_INVALID);
			cr_assert_eq(x86->operands[0].mem.index, X86_REG_INVALID);
			cr_assert_eq((uint32_t)x86->operands[0].mem.disp,
			             TABLE_ADDRESS + 4 * VMI_CALL_OUTB);
			for (size_t k = 1; k < d.count; k++)
				cr_assert(is_nop(&d.insns[k]));
			decoded_free(&d);
		}
	}
}

Test(patch, site_records_out_of_range_are_refused_untouched)
{
	const struct vmi_site bad[] = {
		make_site(SITE_ADDRESS, VMI_SITE_MIN_LENGTH - 1, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0),
		make_site(SITE_ADDRESS, VMI_SITE_MAX_LENGTH + 1, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0),
		make_site(SITE_ADDRESS, 8, VMI_CALL_FIRST - 1, VMI_CLOBBER_FLAGS, 0),
		make_site(SITE_ADDRESS, 8, VMI_CALL_COUNT, VMI_CLOBBER_FLAGS, 0),
		make_site(SITE_ADDRESS, 8, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0x80),
	};
	struct vmi_patch_env env = env_for(&native_rom, VMI_LINK_MODE_INLINE);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t bytes[VMI_SITE_MAX_LENGTH + 1];
		cr_assert_eq(vmi_site_expected_bytes(&bad[i], TABLE_ADDRESS, bytes), -1, "case %u", i);
		/* Bytes that would pass for a proper 8-byte site, to show the record alone decides. */
		struct vmi_site proper = make_site(SITE_ADDRESS, 8, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0);
		uint8_t buffer[GUARD + VMI_SITE_MAX_LENGTH + 1 + GUARD], before[sizeof(buffer)];
		memset(buffer, GUARD_BYTE, sizeof(buffer));
		vmi_site_expected_bytes(&proper, TABLE_ADDRESS, buffer + GUARD);
		memcpy(before, buffer, sizeof(buffer));
		enum vmi_refusal refusal;
		cr_assert_eq(vmi_patch_site(&env, &bad[i], buffer + GUARD, &refusal), VMI_PATCH_REFUSED);
		cr_assert_eq(refusal, VMI_REFUSAL_BAD_RECORD);
		cr_assert_eq(memcmp(buffer, before, sizeof(buffer)), 0, "case %u: bytes written", i);
	}
}

/* --- the process ROM's templates -------------------------------------------------------------- */

Test(patch, process_rom_hot_templates_inline_into_hot_sites)
{
	struct vmi_patch_env env = env_for(&process_rom, VMI_LINK_MODE_INLINE);
	const struct { unsigned call, clobbers; } hot[] = {
		{ VMI_CALL_DisableInterrupts, CLOBBERS_NONE_BUT_FLAGS },
		{ VMI_CALL_EnableInterrupts, CLOBBERS_NONE_BUT_FLAGS },
		{ VMI_CALL_GetInterruptMask, CLOBBERS_EAX },
		{ VMI_CALL_SetInterruptMask, CLOBBERS_NONE_BUT_FLAGS },
	};
	for (unsigned i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
		struct vmi_site site = make_site(SITE_ADDRESS + 0x40 * i, VMI_SITE_HOT_LENGTH,
		                                 hot[i].call, hot[i].clobbers, 0);
		cr_assert_eq(process_rom.records[hot[i].call].type, VMI_LINK_INLINE);
		cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_INLINED, "call %u", hot[i].call);
	}
}

Test(patch, templates_longer_than_the_site_become_direct_calls)
{
	struct vmi_patch_env env = env_for(&process_rom, VMI_LINK_MODE_INLINE);
	const struct vmi_link_record *enable = &process_rom.records[VMI_CALL_EnableInterrupts];
	cr_assert_gt(enable->template_length, VMI_SITE_COLD_LENGTH);
	struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH,
	                                 VMI_CALL_EnableInterrupts, VMI_CLOBBER_FLAGS, 0);
	cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_CALLED);

	/* A template exactly as long as the site still fits. */
	site.length = enable->template_length;
	site.address = SITE_ADDRESS + 0x100;
	if (site.length >= VMI_SITE_MIN_LENGTH)
		cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_INLINED);
}

Test(patch, process_rom_cold_calls_become_direct_calls_and_nops)
{
	struct vmi_patch_env env = env_for(&process_rom, VMI_LINK_MODE_INLINE);
	struct vmi_site outb = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_OUTB,
	                                 VMI_CLOBBER_FLAGS, 0);
	cr_assert_eq(patch_and_check(&env, &outb), VMI_PATCH_CALLED);
	struct vmi_site rdtsc = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_RDTSC,
	                                  VMI_CLOBBER_EAX | VMI_CLOBBER_EDX | VMI_CLOBBER_FLAGS, 0);
	cr_assert_eq(patch_and_check(&env, &rdtsc), VMI_PATCH_INLINED);
	cr_assert_eq(process_rom.records[VMI_CALL_IODelay].type, VMI_LINK_NOP);
	struct vmi_site delay = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_IODelay,
	                                  VMI_CLOBBER_FLAGS, 0);
	cr_assert_eq(patch_and_check(&env, &delay), VMI_PATCH_NOPPED);
}

/* --- the native ROM's templates ---------------------------------------------------------------- */

Test(patch, native_rom_templates_are_the_instructions)
{
	struct vmi_patch_env env = env_for(&native_rom, VMI_LINK_MODE_INLINE);
	const struct { unsigned call, length, clobbers; uint8_t first; } cases[] = {
		{ VMI_CALL_DisableInterrupts, VMI_SITE_HOT_LENGTH, CLOBBERS_NONE_BUT_FLAGS, 0xFA },
		{ VMI_CALL_EnableInterrupts, VMI_SITE_HOT_LENGTH, CLOBBERS_NONE_BUT_FLAGS, 0xFB },
		{ VMI_CALL_GetInterruptMask, VMI_SITE_HOT_LENGTH, CLOBBERS_EAX, 0x9C },
		{ VMI_CALL_SetInterruptMask, VMI_SITE_HOT_LENGTH, CLOBBERS_NONE_BUT_FLAGS, 0x50 },
		{ VMI_CALL_OUTB, VMI_SITE_COLD_LENGTH, CLOBBERS_NONE_BUT_FLAGS, 0xEE },
		{ VMI_CALL_INB, VMI_SITE_COLD_LENGTH, CLOBBERS_EAX, 0xEC },
		{ VMI_CALL_RDTSC, VMI_SITE_COLD_LENGTH,
		  VMI_CLOBBER_EAX | VMI_CLOBBER_EDX | VMI_CLOBBER_FLAGS, 0x0F },
		{ VMI_CALL_Halt, VMI_SITE_COLD_LENGTH, CLOBBERS_NONE_BUT_FLAGS, 0xF4 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmi_site site = make_site(SITE_ADDRESS, cases[i].length, cases[i].call,
		                                 cases[i].clobbers, 0);
		struct site_buffer buffer;
		emit_site(&buffer, &site, env.table_address);
		enum vmi_refusal refusal;
		enum vmi_patch_outcome outcome = vmi_patch_site(&env, &site, site_bytes(&buffer),
		                                                &refusal);
		cr_assert_eq(outcome, VMI_PATCH_INLINED, "call %u", cases[i].call);
		check_site(&env, &site, &buffer, outcome);
		cr_assert_eq(site_bytes(&buffer)[0], cases[i].first, "call %u", cases[i].call);
	}
}

Test(patch, jump_sites_become_jumps_never_calls)
{
	const struct rom *roms[] = { &process_rom, &native_rom };
	for (unsigned r = 0; r < 2; r++) {
		for (unsigned mode = VMI_LINK_MODE_INLINE; mode <= VMI_LINK_MODE_CALL; mode++) {
			struct vmi_patch_env env = env_for(roms[r], (enum vmi_link_mode)mode);
			const unsigned calls[] = { VMI_CALL_IRET, VMI_CALL_SYSEXIT };
			for (unsigned i = 0; i < 2; i++) {
				struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, calls[i],
				                                 VMI_CLOBBER_ALL, VMI_SITE_FLAG_JUMP);
				cr_assert_eq(roms[r]->records[calls[i]].type, VMI_LINK_JUMP_REL);
				cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_CALLED);
			}
		}
	}
}

/* --- the modes ----------------------------------------------------------------------------------- */

Test(patch, call_mode_makes_every_site_a_direct_call)
{
	const struct rom *roms[] = { &process_rom, &native_rom };
	for (unsigned r = 0; r < 2; r++) {
		struct vmi_patch_env env = env_for(roms[r], VMI_LINK_MODE_CALL);
		for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
			if (call == VMI_CALL_IRET || call == VMI_CALL_SYSEXIT)
				continue;
			struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_HOT_LENGTH, call,
			                                 VMI_CLOBBER_ALL, 0);
			enum vmi_patch_outcome expected = roms[r]->records[call].type == VMI_LINK_NONE
			                                  ? VMI_PATCH_TABLE : VMI_PATCH_CALLED;
			cr_assert_eq(patch_and_check(&env, &site), expected, "rom %u call %u", r, call);
		}
	}
}

Test(patch, indirect_mode_leaves_sites_and_fills_the_table)
{
	const struct rom *roms[] = { &process_rom, &native_rom };
	for (unsigned r = 0; r < 2; r++) {
		struct vmi_patch_env env = env_for(roms[r], VMI_LINK_MODE_INDIRECT);
		for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
			unsigned flags = (call == VMI_CALL_IRET || call == VMI_CALL_SYSEXIT)
			                 ? VMI_SITE_FLAG_JUMP : 0;
			struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_HOT_LENGTH, call,
			                                 VMI_CLOBBER_ALL, flags);
			cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_TABLE);
		}

		const uint32_t untouched = 0xDEADBEEF;
		uint32_t table[VMI_CALL_COUNT];
		for (unsigned call = 0; call < VMI_CALL_COUNT; call++)
			table[call] = untouched;
		vmi_link_table_fill(&env, table);
		for (unsigned call = 0; call < VMI_CALL_COUNT; call++) {
			const struct vmi_link_record *record = &roms[r]->records[call];
			if (call < VMI_CALL_FIRST || record->type == VMI_LINK_NONE)
				cr_assert_eq(table[call], untouched, "call %u", call);
			else
				cr_assert_eq(table[call], expected_stub(&env, call), "call %u", call);
			if (call >= VMI_CALL_FIRST && record->type != VMI_LINK_NONE)
				cr_assert_eq(table[call], roms[r]->address + VMI_ROM_CALL_OFFSET(call),
				             "call %u: the ROM's own stub", call);
		}
	}
}

Test(patch, none_records_leave_the_table_call)
{
	struct vmi_link_record records[VMI_CALL_COUNT];
	memset(records, 0, sizeof(records));   /* all NONE */
	for (unsigned mode = 0; mode < VMI_LINK_MODE_COUNT; mode++) {
		struct vmi_patch_env env = {
			.mode = (enum vmi_link_mode)mode, .table_address = TABLE_ADDRESS,
			.rom_address = VMI_ROM_BASE, .records = records,
		};
		struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_HOT_LENGTH,
		                                 VMI_CALL_DisableInterrupts, VMI_CLOBBER_ALL, 0);
		cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_TABLE);
		uint32_t table[VMI_CALL_COUNT] = { 0 };
		vmi_link_table_fill(&env, table);
		for (unsigned call = 0; call < VMI_CALL_COUNT; call++)
			cr_assert_eq(table[call], 0);
	}
}

Test(patch, nop_records_are_nops_inline_and_calls_in_call_mode)
{
	struct vmi_link_record records[VMI_CALL_COUNT];
	memset(records, 0, sizeof(records));
	records[VMI_CALL_WBINVD].type = VMI_LINK_NOP;
	records[VMI_CALL_IRET].type = VMI_LINK_NOP;   /* nonsense for a jump: left alone */
	struct vmi_patch_env env = {
		.mode = VMI_LINK_MODE_INLINE, .table_address = TABLE_ADDRESS,
		.rom_address = VMI_ROM_BASE, .records = records,
	};
	struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_WBINVD,
	                                 VMI_CLOBBER_FLAGS, 0);
	cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_NOPPED);
	struct vmi_site iret = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_IRET,
	                                 VMI_CLOBBER_ALL, VMI_SITE_FLAG_JUMP);
	cr_assert_eq(patch_and_check(&env, &iret), VMI_PATCH_TABLE);
	env.mode = VMI_LINK_MODE_CALL;
	cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_CALLED);   /* into the stub */
	cr_assert_eq(patch_and_check(&env, &iret), VMI_PATCH_TABLE);
}

/* --- refusals ------------------------------------------------------------------------------------- */

Test(patch, a_site_whose_bytes_differ_is_refused_untouched)
{
	struct vmi_patch_env env = env_for(&native_rom, VMI_LINK_MODE_INLINE);
	struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_HOT_LENGTH,
	                                 VMI_CALL_DisableInterrupts, VMI_CLOBBER_FLAGS, 0);
	for (unsigned position = 0; position < site.length; position++) {
		struct site_buffer buffer;
		emit_site(&buffer, &site, env.table_address);
		site_bytes(&buffer)[position] ^= 0x01;
		memcpy(buffer.before, buffer.bytes, sizeof(buffer.bytes));
		enum vmi_refusal refusal;
		cr_assert_eq(vmi_patch_site(&env, &site, site_bytes(&buffer), &refusal),
		             VMI_PATCH_REFUSED, "byte %u changed", position);
		cr_assert_eq(refusal, VMI_REFUSAL_BYTES_DIFFER);
		cr_assert_eq(memcmp(buffer.bytes, buffer.before, sizeof(buffer.bytes)), 0);
	}
}

Test(patch, sites_emitted_for_another_table_or_already_patched_are_refused)
{
	struct vmi_patch_env env = env_for(&native_rom, VMI_LINK_MODE_INLINE);
	struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_HOT_LENGTH,
	                                 VMI_CALL_DisableInterrupts, VMI_CLOBBER_FLAGS, 0);
	struct site_buffer buffer;
	emit_site(&buffer, &site, TABLE_ADDRESS + 4);
	enum vmi_refusal refusal;
	cr_assert_eq(vmi_patch_site(&env, &site, site_bytes(&buffer), &refusal), VMI_PATCH_REFUSED);

	/* A call site recorded as a jump site (or the reverse) does not match either. */
	emit_site(&buffer, &site, TABLE_ADDRESS);
	struct vmi_site as_jump = site;
	as_jump.flags = VMI_SITE_FLAG_JUMP;
	cr_assert_eq(vmi_patch_site(&env, &as_jump, site_bytes(&buffer), &refusal),
	             VMI_PATCH_REFUSED);

	/* Patching twice: the second pass finds the template, not the SDK's call. */
	cr_assert_eq(vmi_patch_site(&env, &site, site_bytes(&buffer), &refusal), VMI_PATCH_INLINED);
	memcpy(buffer.before, buffer.bytes, sizeof(buffer.bytes));
	cr_assert_eq(vmi_patch_site(&env, &site, site_bytes(&buffer), &refusal), VMI_PATCH_REFUSED);
	cr_assert_eq(refusal, VMI_REFUSAL_BYTES_DIFFER);
	cr_assert_eq(memcmp(buffer.bytes, buffer.before, sizeof(buffer.bytes)), 0);
}

Test(patch, templates_clobbering_what_the_site_cannot_afford_are_called)
{
	/* The process ROM's SetInterruptMask changes the flags; a site that affords nothing. */
	struct vmi_patch_env env = env_for(&process_rom, VMI_LINK_MODE_INLINE);
	cr_assert(process_rom.records[VMI_CALL_SetInterruptMask].clobbers & VMI_CLOBBER_FLAGS);
	struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_HOT_LENGTH,
	                                 VMI_CALL_SetInterruptMask, 0, 0);
	cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_CALLED);

	/* A template that changes EBX: called from a site that keeps EBX, inlined where the
	 * site gave it up. Bits beyond the eight registers are never affordable. */
	struct vmi_link_record records[VMI_CALL_COUNT];
	memcpy(records, native_rom.records, sizeof(records));
	struct vmi_link_record *cpuid = &records[VMI_CALL_CPUID];
	cr_assert_eq(cpuid->type, VMI_LINK_INLINE);
	cpuid->clobbers = VMI_CLOBBER_EBX | VMI_CLOBBER_FLAGS;
	env = (struct vmi_patch_env){ .mode = VMI_LINK_MODE_INLINE, .table_address = TABLE_ADDRESS,
	                              .rom_address = native_rom.address, .records = records };
	struct vmi_site keeps_ebx = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_CPUID,
	                                      VMI_CLOBBER_EAX | VMI_CLOBBER_FLAGS, 0);
	cr_assert_eq(patch_and_check(&env, &keeps_ebx), VMI_PATCH_CALLED);
	struct vmi_site gives_ebx = keeps_ebx;
	gives_ebx.clobbers |= VMI_CLOBBER_EBX;
	cr_assert_eq(patch_and_check(&env, &gives_ebx), VMI_PATCH_INLINED);
	cpuid->clobbers = 0x100;
	struct vmi_site gives_all = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_CPUID,
	                                      VMI_CLOBBER_ALL, 0);
	cr_assert_eq(patch_and_check(&env, &gives_all), VMI_PATCH_CALLED);
}

Test(patch, stack_argument_sites_are_never_inlined)
{
	struct vmi_link_record records[VMI_CALL_COUNT];
	memcpy(records, native_rom.records, sizeof(records));
	/* Pretend WriteGDTEntry had a template: its stack argument would be at 0(%esp) inline
	 * but at 4(%esp) in a stub, so the site must call. */
	records[VMI_CALL_WriteGDTEntry] = records[VMI_CALL_OUTB];
	struct vmi_patch_env env = { .mode = VMI_LINK_MODE_INLINE, .table_address = TABLE_ADDRESS,
	                             .rom_address = native_rom.address, .records = records };
	struct vmi_site site = make_site(SITE_ADDRESS, VMI_SITE_COLD_LENGTH, VMI_CALL_WriteGDTEntry,
	                                 VMI_CLOBBER_ALL, VMI_SITE_FLAG_STACK_ARGS);
	cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_CALLED);
	site.flags = 0;
	cr_assert_eq(patch_and_check(&env, &site), VMI_PATCH_INLINED);
}

/* --- many sites, through their addresses ---------------------------------------------------------- */

Test(patch, patch_sites_reaches_sites_through_the_bias_and_counts)
{
	enum { BASE = 0x00100000, SPAN = 1024 };
	static uint8_t image[SPAN], before[SPAN];
	memset(image, 0xCC, sizeof(image));
	struct vmi_site sites[] = {
		make_site(BASE + 0x010, 32, VMI_CALL_DisableInterrupts, VMI_CLOBBER_FLAGS, 0),
		make_site(BASE + 0x040, 32, VMI_CALL_EnableInterrupts, VMI_CLOBBER_FLAGS, 0),
		make_site(BASE + 0x080, 8, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0),
		make_site(BASE + 0x090, 8, VMI_CALL_IODelay, VMI_CLOBBER_FLAGS, 0),
		make_site(BASE + 0x0A0, 8, VMI_CALL_IRET, VMI_CLOBBER_ALL, VMI_SITE_FLAG_JUMP),
		make_site(BASE + 0x0B0, 8, VMI_CALL_EnableInterrupts, VMI_CLOBBER_FLAGS, 0),
		make_site(BASE + 0x0C0, 8, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0),          /* damaged */
		make_site(BASE + 0x0D0, 4, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0),          /* too short */
	};
	const unsigned count = sizeof(sites) / sizeof(sites[0]);
	for (unsigned i = 0; i < count - 1; i++)
		vmi_site_expected_bytes(&sites[i], TABLE_ADDRESS, image + (sites[i].address - BASE));
	image[0xC0 + 3] ^= 0xFF;
	memcpy(before, image, sizeof(image));

	struct vmi_patch_env env = env_for(&process_rom, VMI_LINK_MODE_INLINE);
	struct vmi_patch_result result;
	vmi_patch_sites(&env, sites, count, (uintptr_t)image - BASE, &result);
	cr_assert_eq(result.counts.inlined, 2);   /* Disable, Enable in 32 bytes */
	cr_assert_eq(result.counts.called, 3);    /* OUTB, IRET (a jump), Enable in 8 bytes */
	cr_assert_eq(result.counts.nopped, 1);    /* IODelay */
	cr_assert_eq(result.counts.table, 0);
	cr_assert_eq(result.counts.refused, 2);
	cr_assert_eq(result.clobber_conflicts, 0);
	cr_assert_eq(result.refusals_kept, 2);
	cr_assert_eq(result.refusals[0].address, BASE + 0xC0);
	cr_assert_eq(result.refusals[0].reason, VMI_REFUSAL_BYTES_DIFFER);
	cr_assert_eq(result.refusals[1].address, BASE + 0xD0);
	cr_assert_eq(result.refusals[1].reason, VMI_REFUSAL_BAD_RECORD);

	/* Outside the sites, not a byte changed. */
	for (unsigned offset = 0; offset < SPAN; offset++) {
		int inside = 0;
		for (unsigned i = 0; i < count; i++)
			inside |= offset >= sites[i].address - BASE &&
			          offset < sites[i].address - BASE + sites[i].length;
		if (!inside)
			cr_assert_eq(image[offset], before[offset], "offset %#x changed", offset);
	}
	/* The jump site jumps to the IRET stub. */
	cr_assert_eq(image[0xA0], 0xE9);
}

Test(patch, refusal_notes_keep_the_first_few)
{
	enum { BASE = 0x00200000 };
	static uint8_t image[16 * 8];
	memset(image, 0, sizeof(image));   /* no site's bytes are there */
	struct vmi_site sites[16];
	for (unsigned i = 0; i < 16; i++)
		sites[i] = make_site(BASE + 8 * i, 8, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0);
	struct vmi_patch_env env = env_for(&native_rom, VMI_LINK_MODE_INLINE);
	struct vmi_patch_result result;
	vmi_patch_sites(&env, sites, 16, (uintptr_t)image - BASE, &result);
	cr_assert_eq(result.counts.refused, 16);
	cr_assert_eq(result.refusals_kept, VMI_PATCH_REFUSALS_KEPT);
	for (unsigned i = 0; i < sizeof(image); i++)
		cr_assert_eq(image[i], 0);
}

Test(patch, stubs_that_clobber_more_than_the_site_keeps_are_counted)
{
	enum { BASE = 0x00300000 };
	static uint8_t image[3 * 8];
	struct vmi_link_record records[VMI_CALL_COUNT];
	memcpy(records, native_rom.records, sizeof(records));
	cr_assert_eq(records[VMI_CALL_APICWrite].type, VMI_LINK_CALL_REL);
	records[VMI_CALL_APICWrite].clobbers = VMI_CLOBBER_EAX;   /* as the native ROM says */
	records[VMI_CALL_OUTB].clobbers = VMI_CLOBBER_EBX;        /* template only: no conflict */
	struct vmi_site sites[] = {
		make_site(BASE, 8, VMI_CALL_APICWrite, VMI_CLOBBER_FLAGS, 0),
		make_site(BASE + 8, 8, VMI_CALL_APICWrite, VMI_CLOBBER_EAX | VMI_CLOBBER_FLAGS, 0),
		make_site(BASE + 16, 8, VMI_CALL_OUTB, VMI_CLOBBER_FLAGS, 0),
	};
	for (unsigned mode = 0; mode < VMI_LINK_MODE_COUNT; mode++) {
		for (unsigned i = 0; i < 3; i++)
			vmi_site_expected_bytes(&sites[i], TABLE_ADDRESS, image + 8 * i);
		struct vmi_patch_env env = { .mode = (enum vmi_link_mode)mode,
		                             .table_address = TABLE_ADDRESS,
		                             .rom_address = native_rom.address, .records = records };
		struct vmi_patch_result result;
		vmi_patch_sites(&env, sites, 3, (uintptr_t)image - BASE, &result);
		cr_assert_eq(result.clobber_conflicts, 1, "mode %s", vmi_link_mode_name(env.mode));
		cr_assert_eq(result.counts.refused, 0);
	}
}

/* --- records and the command line ---------------------------------------------------------------- */

Test(patch, records_of_the_built_roms_pass_the_check)
{
	const struct rom *roms[] = { &process_rom, &native_rom };
	for (unsigned r = 0; r < 2; r++)
		for (unsigned call = 0; call < VMI_CALL_COUNT; call++)
			cr_assert_eq(vmi_link_record_check(&roms[r]->records[call], call,
			                                   roms[r]->address, roms[r]->facts.size), 0,
			             "rom %u call %u", r, call);
}

Test(patch, record_check_refuses_what_a_patch_could_not_use)
{
	const uint32_t rom = VMI_ROM_BASE, size = 0x2000;
	struct vmi_link_record good = native_rom.records[VMI_CALL_OUTB];
	good.target = rom + VMI_ROM_CALL_OFFSET(VMI_CALL_OUTB);
	cr_assert_eq(vmi_link_record_check(&good, VMI_CALL_OUTB, rom, size), 0);

	struct vmi_link_record bad = good;
	bad.type = VMI_LINK_INLINE + 1;
	cr_assert_eq(vmi_link_record_check(&bad, VMI_CALL_OUTB, rom, size), -1, "unknown type");
	bad = good;
	bad.template_length = VMI_LINK_TEMPLATE_MAX + 1;
	cr_assert_eq(vmi_link_record_check(&bad, VMI_CALL_OUTB, rom, size), -1, "long template");
	bad = good;
	bad.flags = 0x02;
	cr_assert_eq(vmi_link_record_check(&bad, VMI_CALL_OUTB, rom, size), -1, "unknown flag");
	bad = good;
	bad.target = rom + VMI_ROM_HDR_SIZE;
	cr_assert_eq(vmi_link_record_check(&bad, VMI_CALL_OUTB, rom, size), -1, "into the header");
	bad.target = rom + size;
	cr_assert_eq(vmi_link_record_check(&bad, VMI_CALL_OUTB, rom, size), -1, "past the end");
	bad.target = rom - 0x100;
	cr_assert_eq(vmi_link_record_check(&bad, VMI_CALL_OUTB, rom, size), -1, "below the ROM");
	cr_assert_eq(vmi_link_record_check(&good, VMI_CALL_COUNT, rom, size), -1, "call number");

	/* A target of 0 means "the call's own stub"; NOP and NONE ignore theirs. */
	struct vmi_link_record fine = good;
	fine.target = 0;
	cr_assert_eq(vmi_link_record_check(&fine, VMI_CALL_OUTB, rom, size), 0);
	fine.type = VMI_LINK_NOP;
	fine.target = 0xFFFFFFFF;
	cr_assert_eq(vmi_link_record_check(&fine, VMI_CALL_OUTB, rom, size), 0);
}

Test(patch, link_option_from_the_command_line)
{
	struct vmi_link_option option;
	vmi_link_option_parse(NULL, &option);
	cr_assert_eq(option.mode, VMI_LINK_MODE_INLINE);
	cr_assert(!option.present && !option.unknown);

	const struct { const char *cmdline; enum vmi_link_mode mode; int present, unknown;
	               const char *value; } cases[] = {
		{ "", VMI_LINK_MODE_INLINE, 0, 0, "" },
		{ "/boot/kernel", VMI_LINK_MODE_INLINE, 0, 0, "" },
		{ "vmi.link=call", VMI_LINK_MODE_CALL, 1, 0, "call" },
		{ "/k quiet vmi.link=indirect tsc", VMI_LINK_MODE_INDIRECT, 1, 0, "indirect" },
		{ "/k\tvmi.link=inline\n", VMI_LINK_MODE_INLINE, 1, 0, "inline" },
		{ "vmi.link=call vmi.link=indirect", VMI_LINK_MODE_INDIRECT, 1, 0, "indirect" },
		{ "vmi.link=call vmi.link=bogus", VMI_LINK_MODE_INLINE, 1, 1, "bogus" },
		{ "vmi.link=", VMI_LINK_MODE_INLINE, 1, 1, "" },
		{ "vmi.link=CALL", VMI_LINK_MODE_INLINE, 1, 1, "CALL" },
		{ "vmi.link=callx", VMI_LINK_MODE_INLINE, 1, 1, "callx" },
		{ "xvmi.link=call vmi.linkx=call vmi.lin", VMI_LINK_MODE_INLINE, 0, 0, "" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vmi_link_option_parse(cases[i].cmdline, &option);
		cr_assert_eq(option.mode, cases[i].mode, "\"%s\"", cases[i].cmdline);
		cr_assert_eq(option.present, cases[i].present, "\"%s\"", cases[i].cmdline);
		cr_assert_eq(option.unknown, cases[i].unknown, "\"%s\"", cases[i].cmdline);
		cr_assert_eq(option.value_length, strlen(cases[i].value), "\"%s\"", cases[i].cmdline);
		cr_assert_eq(memcmp(option.value, cases[i].value, option.value_length), 0);
	}
	cr_assert_str_eq(vmi_link_mode_name(VMI_LINK_MODE_CALL), "call");
	cr_assert_str_eq(vmi_link_mode_name(VMI_LINK_MODE_COUNT), "unknown");
}

/* --- randomized -------------------------------------------------------------------------------- */

static uint32_t random_state = 0x5EED1234u;

static uint32_t next_random(void)
{
	/* xorshift32: fixed seed, so a failure replays exactly. */
	random_state ^= random_state << 13;
	random_state ^= random_state >> 17;
	random_state ^= random_state << 5;
	return random_state;
}

static uint32_t random_below(uint32_t bound)
{
	return next_random() % bound;
}

/* Every INLINE record of both ROMs: real templates to mix into made-up records. */
static const struct vmi_link_record *template_pool[2 * VMI_CALL_COUNT];
static unsigned template_pool_size;

static void fill_template_pool(void)
{
	const struct rom *roms[] = { &process_rom, &native_rom };
	for (unsigned r = 0; r < 2; r++)
		for (unsigned call = 0; call < VMI_CALL_COUNT; call++)
			if (roms[r]->records[call].type == VMI_LINK_INLINE)
				template_pool[template_pool_size++] = &roms[r]->records[call];
	cr_assert_gt(template_pool_size, 0);
}

#define RANDOM_CASES 5000

Test(patch, randomized_sites_templates_modes_and_addresses)
{
	fill_template_pool();
	unsigned seen[VMI_PATCH_OUTCOME_COUNT] = { 0 };
	for (unsigned n = 0; n < RANDOM_CASES; n++) {
		unsigned call = VMI_CALL_FIRST + random_below(VMI_CALL_COUNT - VMI_CALL_FIRST);
		unsigned flags = (random_below(8) == 0 ? VMI_SITE_FLAG_JUMP : 0) |
		                 (random_below(8) == 0 ? VMI_SITE_FLAG_STACK_ARGS : 0);
		struct vmi_site site = make_site(next_random(),
		                                 VMI_SITE_MIN_LENGTH +
		                                     random_below(VMI_SITE_MAX_LENGTH - VMI_SITE_MIN_LENGTH + 1),
		                                 call, random_below(256), flags);

		/* The record: a real ROM's, or a made-up one around a real template. */
		struct vmi_link_record records[VMI_CALL_COUNT];
		const struct rom *rom = random_below(2) ? &process_rom : &native_rom;
		memcpy(records, rom->records, sizeof(records));
		if (random_below(3) == 0) {
			struct vmi_link_record *record = &records[call];
			*record = *template_pool[random_below(template_pool_size)];
			record->type = (uint8_t)random_below(VMI_LINK_INLINE + 1);
			record->clobbers = random_below(4) == 0 ? random_below(512) : random_below(256);
			record->target = random_below(4) == 0
			                 ? 0 : rom->address + VMI_ROM_CALL_OFFSET(random_below(VMI_CALL_COUNT));
		}
		struct vmi_patch_env env = {
			.mode = (enum vmi_link_mode)random_below(VMI_LINK_MODE_COUNT),
			.table_address = next_random() & ~3u,
			.rom_address = rom->address,
			.records = records,
		};

		struct site_buffer buffer;
		emit_site(&buffer, &site, env.table_address);
		int damaged = random_below(10) == 0;
		if (damaged) {
			site_bytes(&buffer)[random_below(site.length)] ^= (uint8_t)(1 + random_below(255));
			memcpy(buffer.before, buffer.bytes, sizeof(buffer.bytes));
		}
		enum vmi_refusal refusal;
		enum vmi_patch_outcome outcome = vmi_patch_site(&env, &site, site_bytes(&buffer),
		                                                &refusal);
		enum vmi_patch_outcome expected = damaged ? VMI_PATCH_REFUSED : oracle(&env, &site);
		cr_assert_eq(outcome, expected,
		             "case %u: call %u length %u flags %#x clobbers %#x mode %s type %u: "
		             "outcome %d, expected %d", n, call, site.length, site.flags, site.clobbers,
		             vmi_link_mode_name(env.mode), records[call].type, outcome, expected);
		check_site(&env, &site, &buffer, outcome);
		seen[outcome]++;
	}
	/* The generator reached every outcome. */
	for (unsigned outcome = 0; outcome < VMI_PATCH_OUTCOME_COUNT; outcome++)
		cr_assert_gt(seen[outcome], 0, "outcome %u never happened", outcome);
}
