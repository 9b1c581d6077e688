/* The call-site patcher: turns the SDK's table calls into inline templates, direct calls,
 * jumps or NOPs, byte by byte and never outside a site. Freestanding; also built for the host. */
#include <vmi/rom.h>
#include "patch.h"

#define OPCODE_GROUP5      0xFF   /* FF /2 indirect call, FF /4 indirect jump */
#define MODRM_CALL_DISP32  0x15   /* mod 00, reg 2, rm 101: call *disp32 */
#define MODRM_JMP_DISP32   0x25   /* mod 00, reg 4, rm 101: jmp *disp32 */
#define OPCODE_CALL_REL32  0xE8
#define OPCODE_JMP_REL32   0xE9

/* Intel SDM vol. 2B, "NOP": the recommended multi-byte forms, one per length 1..9. */
static const uint8_t recommended_nops[VMI_NOP_MAX][VMI_NOP_MAX] = {
	{ 0x90 },
	{ 0x66, 0x90 },
	{ 0x0F, 0x1F, 0x00 },
	{ 0x0F, 0x1F, 0x40, 0x00 },
	{ 0x0F, 0x1F, 0x44, 0x00, 0x00 },
	{ 0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00 },
	{ 0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00 },
	{ 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	{ 0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

void vmi_fill_nops(uint8_t *out, unsigned length)
{
	while (length > 0) {
		unsigned piece = length < VMI_NOP_MAX ? length : VMI_NOP_MAX;
		for (unsigned i = 0; i < piece; i++)
			out[i] = recommended_nops[piece - 1][i];
		out += piece;
		length -= piece;
	}
}

static void put_u32(uint8_t *out, uint32_t value)
{
	out[0] = (uint8_t)value;
	out[1] = (uint8_t)(value >> 8);
	out[2] = (uint8_t)(value >> 16);
	out[3] = (uint8_t)(value >> 24);
}

static int site_in_range(const struct vmi_site *site)
{
	return site->length >= VMI_SITE_MIN_LENGTH && site->length <= VMI_SITE_MAX_LENGTH &&
	       site->call >= VMI_CALL_FIRST && site->call < VMI_CALL_COUNT &&
	       (site->flags & ~VMI_SITE_FLAGS_KNOWN) == 0;
}

int vmi_site_expected_bytes(const struct vmi_site *site, uint32_t table_address,
                            uint8_t *out)
{
	if (!site_in_range(site))
		return -1;
	out[0] = OPCODE_GROUP5;
	out[1] = (site->flags & VMI_SITE_FLAG_JUMP) ? MODRM_JMP_DISP32 : MODRM_CALL_DISP32;
	put_u32(out + 2, table_address + 4u * site->call);
	vmi_fill_nops(out + VMI_SITE_TABLE_INSN_LENGTH, site->length - VMI_SITE_TABLE_INSN_LENGTH);
	return 0;
}

/* Where a direct call (or the table) reaches call `call` in this ROM: the record's target,
 * or by layout the call's 32-byte stub; 0 for NONE (the native ROM's stub stays). */
static uint32_t stub_of(const struct vmi_patch_env *env, unsigned call)
{
	const struct vmi_link_record *record = &env->records[call];
	if (record->type == VMI_LINK_NONE || record->type > VMI_LINK_INLINE)
		return 0;
	if (record->type != VMI_LINK_NOP && record->target != 0)
		return record->target;
	return env->rom_address + VMI_ROM_CALL_OFFSET(call);
}

uint32_t vmi_link_table_entry(const struct vmi_patch_env *env, unsigned call)
{
	if (call < VMI_CALL_FIRST || call >= VMI_CALL_COUNT)
		return 0;
	return stub_of(env, call);
}

void vmi_link_table_fill(const struct vmi_patch_env *env, uint32_t *table)
{
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		uint32_t entry = vmi_link_table_entry(env, call);
		if (entry != 0)
			table[call] = entry;
	}
}

/* The template fits, and changes only registers the site told the compiler about. */
static int template_allowed(const struct vmi_site *site, const struct vmi_link_record *record)
{
	return record->template_length <= site->length &&
	       record->template_length <= VMI_LINK_TEMPLATE_MAX &&
	       (record->clobbers & ~(uint32_t)site->clobbers) == 0 &&
	       !(site->flags & VMI_SITE_FLAG_STACK_ARGS);
}

/* Builds `site`'s new bytes in `out`; returns what they are. */
static enum vmi_patch_outcome plan_site(const struct vmi_patch_env *env,
                                        const struct vmi_site *site, uint8_t *out)
{
	const struct vmi_link_record *record = &env->records[site->call];
	int jump_site = (site->flags & VMI_SITE_FLAG_JUMP) != 0;

	if (env->mode == VMI_LINK_MODE_INDIRECT || record->type > VMI_LINK_INLINE ||
	    record->type == VMI_LINK_NONE)
		return VMI_PATCH_TABLE;

	if (record->type == VMI_LINK_NOP && env->mode == VMI_LINK_MODE_INLINE) {
		/* Doing nothing instead of an IRET would fall through into whatever follows. */
		if (jump_site)
			return VMI_PATCH_TABLE;
		vmi_fill_nops(out, site->length);
		return VMI_PATCH_NOPPED;
	}

	if (record->type == VMI_LINK_INLINE && env->mode == VMI_LINK_MODE_INLINE &&
	    template_allowed(site, record)) {
		for (unsigned i = 0; i < record->template_length; i++)
			out[i] = record->template_bytes[i];
		vmi_fill_nops(out + record->template_length,
		              site->length - record->template_length);
		return VMI_PATCH_INLINED;
	}

	if (record->type == VMI_LINK_NOP && jump_site)
		return VMI_PATCH_TABLE;

	/* A direct transfer into the stub: a jump site keeps jumping, a call site keeps
	 * calling (even into a JUMP_REL stub, which then simply never returns). */
	uint32_t stub = stub_of(env, site->call);
	if (stub == 0)
		return VMI_PATCH_TABLE;
	out[0] = jump_site ? OPCODE_JMP_REL32 : OPCODE_CALL_REL32;
	put_u32(out + 1, stub - (site->address + VMI_REL32_LENGTH));
	vmi_fill_nops(out + VMI_REL32_LENGTH, site->length - VMI_REL32_LENGTH);
	return VMI_PATCH_CALLED;
}

enum vmi_patch_outcome vmi_patch_site(const struct vmi_patch_env *env,
                                      const struct vmi_site *site, uint8_t *bytes,
                                      enum vmi_refusal *refusal)
{
	uint8_t expected[VMI_SITE_MAX_LENGTH];
	*refusal = VMI_REFUSAL_NONE;
	if (vmi_site_expected_bytes(site, env->table_address, expected) != 0) {
		*refusal = VMI_REFUSAL_BAD_RECORD;
		return VMI_PATCH_REFUSED;
	}
	for (unsigned i = 0; i < site->length; i++) {
		if (bytes[i] != expected[i]) {
			*refusal = VMI_REFUSAL_BYTES_DIFFER;
			return VMI_PATCH_REFUSED;
		}
	}

	uint8_t planned[VMI_SITE_MAX_LENGTH];
	enum vmi_patch_outcome outcome = plan_site(env, site, planned);
	if (outcome == VMI_PATCH_TABLE)
		return outcome;
	for (unsigned i = 0; i < site->length; i++)
		bytes[i] = planned[i];
	return outcome;
}

static void count_outcome(struct vmi_patch_counts *counts, enum vmi_patch_outcome outcome)
{
	switch (outcome) {
	case VMI_PATCH_INLINED: counts->inlined++; break;
	case VMI_PATCH_CALLED: counts->called++; break;
	case VMI_PATCH_NOPPED: counts->nopped++; break;
	case VMI_PATCH_TABLE: counts->table++; break;
	case VMI_PATCH_REFUSED:
	case VMI_PATCH_OUTCOME_COUNT: counts->refused++; break;
	}
}

/* A CALL_REL/JUMP_REL record's clobbers describe the stub itself (an INLINE record's
 * describe only its template: its stub keeps to the calling convention). */
static int stub_conflicts_with_site(const struct vmi_patch_env *env, const struct vmi_site *site)
{
	const struct vmi_link_record *record = &env->records[site->call];
	if (record->type != VMI_LINK_CALL_REL && record->type != VMI_LINK_JUMP_REL)
		return 0;
	return (record->clobbers & ~(uint32_t)site->clobbers) != 0;
}

void vmi_patch_sites(const struct vmi_patch_env *env, const struct vmi_site *sites,
                     size_t count, uintptr_t bias, struct vmi_patch_result *result)
{
	struct vmi_patch_counts zero = { 0, 0, 0, 0, 0 };
	result->counts = zero;
	result->clobber_conflicts = 0;
	result->refusals_kept = 0;
	for (size_t i = 0; i < count; i++) {
		const struct vmi_site *site = &sites[i];
		uint8_t *bytes = (uint8_t *)((uintptr_t)site->address + bias);
		enum vmi_refusal refusal;
		enum vmi_patch_outcome outcome = vmi_patch_site(env, site, bytes, &refusal);
		count_outcome(&result->counts, outcome);
		if ((outcome == VMI_PATCH_CALLED || outcome == VMI_PATCH_TABLE) &&
		    stub_conflicts_with_site(env, site))
			result->clobber_conflicts++;
		if (outcome == VMI_PATCH_REFUSED && result->refusals_kept < VMI_PATCH_REFUSALS_KEPT) {
			struct vmi_patch_refusal_note *note = &result->refusals[result->refusals_kept++];
			note->address = site->address;
			note->call = site->call;
			note->reason = (uint8_t)refusal;
		}
	}
}

int vmi_link_record_check(const struct vmi_link_record *record, unsigned call,
                          uint32_t rom_address, uint32_t rom_size)
{
	if (call >= VMI_CALL_COUNT || record->type > VMI_LINK_INLINE)
		return -1;
	if (record->flags & ~VMI_LINK_FLAG_INTERNAL_BRANCH)
		return -1;   /* a flag we do not know might change what a template means */
	if (record->type == VMI_LINK_INLINE && record->template_length > VMI_LINK_TEMPLATE_MAX)
		return -1;
	int has_target = record->type == VMI_LINK_CALL_REL || record->type == VMI_LINK_JUMP_REL ||
	                 record->type == VMI_LINK_INLINE;
	if (has_target && record->target != 0) {
		/* Only into the call table proper: never the header, never past the image. */
		uint32_t first_stub = rom_address + VMI_ROM_CALL_OFFSET(VMI_CALL_FIRST);
		if (record->target < first_stub || record->target - rom_address >= rom_size)
			return -1;
	}
	return 0;
}

/* --- the command line ------------------------------------------------------------------- */

static const char *const mode_names[VMI_LINK_MODE_COUNT] = {
	[VMI_LINK_MODE_INLINE] = "inline",
	[VMI_LINK_MODE_CALL] = "call",
	[VMI_LINK_MODE_INDIRECT] = "indirect",
};

const char *vmi_link_mode_name(enum vmi_link_mode mode)
{
	return (unsigned)mode < VMI_LINK_MODE_COUNT ? mode_names[mode] : "unknown";
}

const char *vmi_refusal_text(enum vmi_refusal reason)
{
	switch (reason) {
	case VMI_REFUSAL_NONE: return "not refused";
	case VMI_REFUSAL_BAD_RECORD: return "site record out of range";
	case VMI_REFUSAL_BYTES_DIFFER: return "bytes differ from what the SDK emitted";
	case VMI_REFUSAL_COUNT: break;
	}
	return "unknown reason";
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int span_equals(const char *span, size_t length, const char *word)
{
	size_t i = 0;
	for (; i < length; i++)
		if (word[i] != span[i])
			return 0;
	return word[i] == '\0';
}

void vmi_link_option_parse(const char *cmdline, struct vmi_link_option *option)
{
	static const char prefix[] = "vmi.link=";
	const size_t prefix_length = sizeof(prefix) - 1;

	option->mode = VMI_LINK_MODE_INLINE;
	option->present = 0;
	option->unknown = 0;
	option->value = "";
	option->value_length = 0;
	if (cmdline == NULL)
		return;

	const char *cursor = cmdline;
	for (;;) {
		while (*cursor && is_space(*cursor))
			cursor++;
		if (*cursor == '\0')
			break;
		const char *word = cursor;
		while (*cursor && !is_space(*cursor))
			cursor++;
		size_t length = (size_t)(cursor - word);
		if (length < prefix_length || !span_equals(word, prefix_length, prefix))
			continue;

		option->present = 1;
		option->value = word + prefix_length;
		option->value_length = length - prefix_length;
		option->unknown = 1;
		option->mode = VMI_LINK_MODE_INLINE;
		for (unsigned mode = 0; mode < VMI_LINK_MODE_COUNT; mode++) {
			if (span_equals(option->value, option->value_length, mode_names[mode])) {
				option->mode = (enum vmi_link_mode)mode;
				option->unknown = 0;
			}
		}
	}
}
