/* Call sites and the patcher that links them: the site record the SDK's macros emit into
 * .vmi_sites, the link modes, and the byte-level patching. Plain C, also built for the host. */
#ifndef VMIGUEST_PATCH_H
#define VMIGUEST_PATCH_H

#include <stddef.h>
#include <stdint.h>
#include <vmi/calls.h>
#include <vmi/link.h>
#include "site.h"

/* One record per call site, in the ELF section .vmi_sites (8 bytes, 4-aligned). */
struct vmi_site {
	uint32_t address;   /* first byte of the site */
	uint8_t length;     /* bytes reserved: the table call and its NOP padding */
	uint8_t call;       /* VMI_CALL_* */
	uint8_t clobbers;   /* VMI_CLOBBER_* the site affords (what its asm tells the compiler) */
	uint8_t flags;      /* VMI_SITE_FLAG_* */
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct vmi_site) == 8, "site record is 8 bytes");

#define VMI_REL32_LENGTH           5     /* call rel32 (E8) / jmp rel32 (E9) */

/* The longest single NOP the padding uses (Intel SDM's recommended 9-byte form). */
#define VMI_NOP_MAX 9

enum vmi_link_mode {
	VMI_LINK_MODE_INLINE = 0,   /* templates where they fit, else direct calls (default) */
	VMI_LINK_MODE_CALL,         /* every site a direct call (or jump) into its stub */
	VMI_LINK_MODE_INDIRECT,     /* sites stay table calls; the table points into the ROM */
	VMI_LINK_MODE_COUNT
};

/* What became of one site. */
enum vmi_patch_outcome {
	VMI_PATCH_INLINED = 0,      /* the ROM's template copied in */
	VMI_PATCH_CALLED,           /* a direct call rel32 (or jmp rel32 for a jump site) */
	VMI_PATCH_NOPPED,           /* all NOPs: the operation does nothing on this platform */
	VMI_PATCH_TABLE,            /* left as the table call */
	VMI_PATCH_REFUSED,          /* not touched: see the refusal reason */
	VMI_PATCH_OUTCOME_COUNT
};

enum vmi_refusal {
	VMI_REFUSAL_NONE = 0,
	VMI_REFUSAL_BAD_RECORD,     /* length, call number or flags out of range */
	VMI_REFUSAL_BYTES_DIFFER,   /* the site's bytes are not what the SDK emitted */
	VMI_REFUSAL_COUNT
};

struct vmi_patch_counts {
	unsigned inlined, called, nopped, table, refused;
};

#define VMI_PATCH_REFUSALS_KEPT 4

struct vmi_patch_refusal_note {
	uint32_t address;
	uint8_t call;
	uint8_t reason;             /* enum vmi_refusal */
};

struct vmi_patch_result {
	struct vmi_patch_counts counts;
	/* Sites now calling (directly or through the table) a CALL_REL or JUMP_REL stub whose
	 * record says it changes registers the site keeps: no link can make those safe, so they
	 * are linked as usual and counted here, for the log. */
	unsigned clobber_conflicts;
	unsigned refusals_kept;     /* the first VMI_PATCH_REFUSALS_KEPT refusals, for the log */
	struct vmi_patch_refusal_note refusals[VMI_PATCH_REFUSALS_KEPT];
};

/* Everything the patcher needs to know about the world it patches. */
struct vmi_patch_env {
	enum vmi_link_mode mode;
	uint32_t table_address;                  /* guest address of vmi_link_table */
	uint32_t rom_address;                    /* guest address of the ROM linked to */
	const struct vmi_link_record *records;   /* VMI_CALL_COUNT records, already validated */
};

/* The bytes the SDK emits for `site` (site->length of them) into `out`; 0, or -1 if the
 * record is out of range. The patcher refuses a site that differs from this. */
int vmi_site_expected_bytes(const struct vmi_site *site, uint32_t table_address,
                            uint8_t *out);

/* Links one site whose bytes are at `bytes` (the site's own address is site->address).
 * Writes only bytes[0 .. site->length). */
enum vmi_patch_outcome vmi_patch_site(const struct vmi_patch_env *env,
                                      const struct vmi_site *site, uint8_t *bytes,
                                      enum vmi_refusal *refusal);

/* Links `count` sites. Site bytes live at (uint8_t *)(site->address + bias): bias is 0 in
 * the guest, the host buffer's offset in tests. */
void vmi_patch_sites(const struct vmi_patch_env *env, const struct vmi_site *sites,
                     size_t count, uintptr_t bias, struct vmi_patch_result *result);

/* The address the table entry for `call` should hold for the ROM of `env`; 0 for "keep the
 * current entry" (a NONE record: the native ROM's stub stays). */
uint32_t vmi_link_table_entry(const struct vmi_patch_env *env, unsigned call);

/* Fills `table` (VMI_CALL_COUNT entries) with the ROM's stubs, keeping NONE calls' entries. */
void vmi_link_table_fill(const struct vmi_patch_env *env, uint32_t *table);

/* Checks a record a ROM handed out for call `call`: a known type, a template that fits its
 * buffer, targets inside the ROM [rom_address, rom_address + rom_size). 0 if usable. */
int vmi_link_record_check(const struct vmi_link_record *record, unsigned call,
                          uint32_t rom_address, uint32_t rom_size);

/* Writes `length` bytes of recommended NOPs (9-byte forms, then one shorter). */
void vmi_fill_nops(uint8_t *out, unsigned length);

/* `vmi.link=` as found on a kernel command line (the last one wins, as in Linux). */
struct vmi_link_option {
	enum vmi_link_mode mode;   /* inline when absent or unknown */
	int present;
	int unknown;               /* present, with a value it does not know */
	const char *value;         /* the value as written (length value_length, no NUL) */
	size_t value_length;
};

/* Parses a command line (NULL counts as empty). */
void vmi_link_option_parse(const char *cmdline, struct vmi_link_option *option);

const char *vmi_link_mode_name(enum vmi_link_mode mode);
const char *vmi_refusal_text(enum vmi_refusal reason);

#endif
