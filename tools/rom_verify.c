/* Verifies a VMI ROM image: structure first (rom_image.c, which uses the shared
 * rom_check.c), then per call its link record, its inline template and its stub, decoded
 * with Capstone in 32-bit mode at their guest addresses. Stops at the first problem. */
#include "rom_verify.h"

#include <capstone/capstone.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vmi/call_names.h>
#include <vmi/calls.h>

/* The longest x86 instruction. */
#define INSN_MAX 15

#define KNOWN_FLAGS    VMI_LINK_FLAG_INTERNAL_BRANCH
#define KNOWN_CLOBBERS VMI_CLOBBER_ALL

struct verifier {
	const struct rom_image *image;
	csh capstone;
	cs_insn *insn;
	char *reason;
	size_t reason_size;
	unsigned call;                  /* the call being checked, for messages */
};

static int fail(struct verifier *v, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* "call 35 (EnableInterrupts): " followed by the problem. */
static int fail(struct verifier *v, const char *format, ...)
{
	const char *name = vmi_call_name(v->call);
	int n = name ? snprintf(v->reason, v->reason_size, "call %u (%s): ", v->call, name)
	             : snprintf(v->reason, v->reason_size, "slot %u (not a call): ", v->call);
	if (n < 0 || (size_t)n >= v->reason_size)
		return 1;
	va_list args;
	va_start(args, format);
	vsnprintf(v->reason + n, v->reason_size - (size_t)n, format, args);
	va_end(args);
	return 1;
}

/* Decodes one instruction from `available` bytes at `code`, placed at `address`. */
static int decode(struct verifier *v, const uint8_t *code, size_t available, uint64_t address)
{
	size_t size = available;
	uint64_t at = address;
	return cs_disasm_iter(v->capstone, &code, &size, &at, v->insn);
}

static int is_return(unsigned id)
{
	return id == X86_INS_RET || id == X86_INS_RETF || id == X86_INS_IRET ||
	       id == X86_INS_IRETD || id == X86_INS_SYSEXIT || id == X86_INS_SYSRET;
}

/* The instructions past which control never falls. */
static int is_terminator(unsigned id)
{
	return is_return(id) || id == X86_INS_UD2 || id == X86_INS_JMP || id == X86_INS_LJMP;
}

/* A near branch with a displacement (jmp, jcc, call, loop, jecxz): 1 and its target. */
static int relative_target(struct verifier *v, uint32_t *target)
{
	const cs_insn *insn = v->insn;
	if (!cs_insn_group(v->capstone, insn, X86_GRP_BRANCH_RELATIVE))
		return 0;
	const cs_x86 *x86 = &insn->detail->x86;
	if (x86->op_count < 1 || x86->operands[0].type != X86_OP_IMM)
		return 0;
	*target = (uint32_t)x86->operands[0].imm;
	return 1;
}

/* ---- link records --------------------------------------------------------------------- */

static int all_zero(const uint8_t *bytes, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (bytes[i])
			return 0;
	return 1;
}

/* A target must be code: a stub in the call table or a body after it. */
static int check_target(struct verifier *v, const struct vmi_link_record *record)
{
	uint64_t offset = rom_image_offset(v->image, record->target);
	enum rom_region region = rom_image_region(v->image, offset);
	if (region == ROM_REGION_OUTSIDE)
		return fail(v, "target 0x%08x outside the image (0x%08x-0x%08x)", record->target,
		            v->image->base, v->image->base + v->image->facts.size - 1);
	if (region != ROM_REGION_CALL_TABLE && region != ROM_REGION_BODY)
		return fail(v, "target 0x%08x is not code: it lies in %s", record->target,
		            rom_region_name(region));
	return 0;
}

static int check_template(struct verifier *v, const struct vmi_link_record *record)
{
	const unsigned length = record->template_length;
	const uint8_t *bytes = record->template_bytes;
	uint8_t starts[VMI_LINK_TEMPLATE_MAX] = { 0 };
	uint32_t targets[VMI_LINK_TEMPLATE_MAX];
	unsigned target_count = 0;
	const uint32_t address = record->target;   /* where the template also is, in the stub */

	for (unsigned at = 0; at < length; at += v->insn->size) {
		if (!decode(v, bytes + at, length - at, address + at)) {
			/* Room to finish the instruction? Then it decodes past the length. */
			uint8_t padded[VMI_LINK_TEMPLATE_MAX + INSN_MAX] = { 0 };
			memcpy(padded, bytes, VMI_LINK_TEMPLATE_MAX);
			if (decode(v, padded + at, sizeof(padded) - at, address + at))
				return fail(v, "malformed template: the instruction at +%u (%s) runs past "
				            "the template length %u", at, v->insn->mnemonic, length);
			return fail(v, "malformed template: undecodable bytes at +%u", at);
		}
		starts[at] = 1;
		unsigned id = v->insn->id;
		uint32_t target;
		if (is_return(id))
			return fail(v, "malformed template: it returns (%s), but a template runs inside "
			            "its caller", v->insn->mnemonic);
		if (relative_target(v, &target)) {
			if (!(record->flags & VMI_LINK_FLAG_INTERNAL_BRANCH))
				return fail(v, "template has a relative branch (%s %s at +%u) but its record "
				            "does not declare VMI_LINK_FLAG_INTERNAL_BRANCH",
				            v->insn->mnemonic, v->insn->op_str, at);
			uint32_t relative = target - address;
			if (target < address || relative > length)
				return fail(v, "template branch (%s at +%u) to 0x%08x leaves the template "
				            "(+0..+%u)", v->insn->mnemonic, at, target, length);
			targets[target_count++] = relative;
		} else if (id == X86_INS_JMP || id == X86_INS_LJMP) {
			return fail(v, "malformed template: an indirect or far jump (%s %s) leaves the "
			            "template", v->insn->mnemonic, v->insn->op_str);
		}
	}
	for (unsigned i = 0; i < target_count; i++)
		if (targets[i] != length && !starts[targets[i]])
			return fail(v, "template branch to +%u leaves the template's instruction stream "
			            "(lands inside an instruction)", targets[i]);

	/* The stub a site calls instead must run the same code. */
	uint64_t offset = rom_image_offset(v->image, address);
	if (offset + length > v->image->facts.size ||
	    memcmp(v->image->bytes + offset, bytes, length) != 0)
		return fail(v, "the INLINE target 0x%08x does not begin with the template", address);
	return 0;
}

static int check_record(struct verifier *v, const struct vmi_link_record *record)
{
	if (!rom_link_type_name(record->type))
		return fail(v, "unknown link type %u", record->type);
	if (record->reserved0 || record->reserved1)
		return fail(v, "nonzero reserved field in its link record (reserved0 0x%02x, "
		            "reserved1 0x%08x)", record->reserved0, record->reserved1);
	if (record->flags & ~KNOWN_FLAGS)
		return fail(v, "unknown link-record flags 0x%02x", record->flags);
	if (record->clobbers & ~(uint32_t)KNOWN_CLOBBERS)
		return fail(v, "unknown clobber bits 0x%08x", record->clobbers);

	const unsigned length = record->template_length;
	if (record->type != VMI_LINK_INLINE) {
		if (length)
			return fail(v, "malformed template: a %s record has a template length (%u); only "
			            "INLINE records have templates", rom_link_type_name(record->type),
			            length);
		if (record->flags & VMI_LINK_FLAG_INTERNAL_BRANCH)
			return fail(v, "VMI_LINK_FLAG_INTERNAL_BRANCH on a record without a template");
	}
	if (v->call < VMI_CALL_FIRST || record->type == VMI_LINK_NONE) {
		if (record->type != VMI_LINK_NONE || record->target || record->clobbers ||
		    record->flags)
			return fail(v, "%s", v->call < VMI_CALL_FIRST
			                     ? "its link record must be NONE and empty"
			                     : "a NONE link record with fields set");
	}
	if (record->type == VMI_LINK_INLINE) {
		if (length == 0)
			return fail(v, "malformed template: an INLINE record with an empty template");
		if (length > VMI_LINK_TEMPLATE_MAX)
			return fail(v, "malformed template: length %u exceeds VMI_LINK_TEMPLATE_MAX (%d)",
			            length, VMI_LINK_TEMPLATE_MAX);
	}
	if (!all_zero(record->template_bytes + length, VMI_LINK_TEMPLATE_MAX - length))
		return fail(v, "nonzero reserved field in its link record: template bytes past its "
		            "length (%u)", length);

	switch (record->type) {
	case VMI_LINK_NOP:
		/* A NOP record may still name its stub, for sites left as table calls. */
		if (record->target == 0)
			return 0;
		return check_target(v, record);
	case VMI_LINK_CALL_REL:
	case VMI_LINK_JUMP_REL:
		return check_target(v, record);
	case VMI_LINK_INLINE:
		if (check_target(v, record))
			return 1;
		return check_template(v, record);
	}
	return 0;
}

/* ---- stubs ---------------------------------------------------------------------------- */

/* Code reached from a stub outside its slot must be a body: after the call table, inside
 * the image, clear of the link records and program header, and decodable. */
static int lands_on_body(struct verifier *v, uint32_t target)
{
	uint64_t offset = rom_image_offset(v->image, target);
	if (rom_image_region(v->image, offset) != ROM_REGION_BODY)
		return 0;
	size_t available = v->image->facts.size - offset;
	return decode(v, v->image->bytes + offset, available, target);
}

/* Follows every path through call `call`'s slot: each must end in a terminator inside the
 * slot, and every branch must stay in the slot (on an instruction) or reach a body. */
static int check_stub(struct verifier *v)
{
	const struct rom_image *image = v->image;
	const uint32_t slot = VMI_ROM_CALL_OFFSET(v->call);
	const uint32_t address = image->base + slot;
	const uint8_t *code = image->bytes + slot;
	uint8_t lengths[VMI_ROM_SLOT_SIZE] = { 0 };   /* nonzero where an instruction starts */
	uint8_t pending[VMI_ROM_SLOT_SIZE];
	unsigned pending_count = 0;
	uint8_t queued[VMI_ROM_SLOT_SIZE] = { 0 };

	pending[pending_count++] = 0;
	queued[0] = 1;
	while (pending_count) {
		unsigned at = pending[--pending_count];
		for (;;) {
			if (at >= VMI_ROM_SLOT_SIZE)
				return fail(v, "stub runs past its %d-byte slot without a terminating "
				            "control transfer (" ROM_STUB_TERMINATORS ")", VMI_ROM_SLOT_SIZE);
			if (lengths[at])
				break;                      /* joins a path already followed */
			if (!decode(v, code + at, VMI_ROM_SLOT_SIZE - at, address + at)) {
				size_t rest = image->facts.size - slot - at;
				if (decode(v, code + at, rest < INSN_MAX ? rest : INSN_MAX, address + at))
					return fail(v, "stub runs past its %d-byte slot: the instruction at +%u "
					            "(%s) crosses the slot's end", VMI_ROM_SLOT_SIZE, at,
					            v->insn->mnemonic);
				return fail(v, "undecodable stub: bytes at 0x%08x (+%u) are not an "
				            "instruction", address + at, at);
			}
			lengths[at] = (uint8_t)v->insn->size;
			unsigned id = v->insn->id;
			char mnemonic[sizeof(v->insn->mnemonic)];
			memcpy(mnemonic, v->insn->mnemonic, sizeof(mnemonic));
			uint32_t target;
			if (relative_target(v, &target)) {
				uint32_t relative = target - address;
				if (target >= address && relative < VMI_ROM_SLOT_SIZE) {
					if (!queued[relative]) {
						queued[relative] = 1;
						pending[pending_count++] = (uint8_t)relative;
					}
				} else if (!lands_on_body(v, target)) {
					if (id == X86_INS_JMP)
						return fail(v, "stub's jmp to 0x%08x does not land on a body inside "
						            "the image beyond the call table", target);
					return fail(v, "stub's %s to 0x%08x leaves its slot and does not land on "
					            "a body inside the image beyond the call table", mnemonic,
					            target);
				}
			} else if (id == X86_INS_JMP) {
				return fail(v, "stub's indirect jmp (%s) does not land on a known body "
				            "inside the image beyond the call table", v->insn->op_str);
			}
			if (is_terminator(id))
				break;
			at += lengths[at];
		}
	}

	/* A branch into the middle of an instruction would run other code than is listed. */
	for (unsigned at = 0; at < VMI_ROM_SLOT_SIZE; at++)
		for (unsigned inside = at + 1; lengths[at] && inside < at + lengths[at] &&
		     inside < VMI_ROM_SLOT_SIZE; inside++)
			if (lengths[inside])
				return fail(v, "stub branches to +%u, inside the instruction at +%u", inside,
				            at);
	return 0;
}

/* ---- the whole image --------------------------------------------------------------------- */

int rom_verify(const struct rom_image *image, char *reason, size_t reason_size,
               struct rom_verify_summary *summary)
{
	if (rom_image_check(image, reason, reason_size))
		return 1;

	struct verifier v = { .image = image, .reason = reason, .reason_size = reason_size };
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &v.capstone) != CS_ERR_OK) {
		snprintf(reason, reason_size, "cannot open the Capstone disassembler");
		return -1;
	}
	cs_option(v.capstone, CS_OPT_DETAIL, CS_OPT_ON);
	v.insn = cs_malloc(v.capstone);
	if (!v.insn) {
		cs_close(&v.capstone);
		snprintf(reason, reason_size, "out of memory for the Capstone disassembler");
		return -1;
	}

	struct rom_verify_summary counts;
	memset(&counts, 0, sizeof(counts));
	int result = 0;
	for (v.call = 0; v.call < VMI_CALL_COUNT && result == 0; v.call++) {
		struct vmi_link_record record;
		rom_image_record(image, v.call, &record);
		result = check_record(&v, &record);
		if (result == 0 && v.call >= VMI_CALL_FIRST && record.type != VMI_LINK_NONE)
			result = check_stub(&v);
		if (result == 0)
			counts.by_type[record.type]++;
	}

	cs_free(v.insn, 1);
	cs_close(&v.capstone);
	if (result == 0 && summary)
		*summary = counts;
	return result;
}
