/* vmirom: inspects and verifies VMI ROM images (header, link records, stubs and templates
 * disassembled with Capstone). Exit status: 0 fine, 1 the image is invalid, 2 usage error. */
#include <capstone/capstone.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vmi/call_names.h>
#include <vmi/calls.h>
#include <vmi/rom.h>
#include "rom_image.h"
#include "rom_verify.h"

#define VMIROM_VERSION "0.1.0"

enum { EXIT_INVALID = 1, EXIT_USAGE = 2 };

/* Instructions shown from one entry point at most. */
#define DISASM_MAX_INSNS 256

static void print_help(void)
{
	printf("usage: vmirom COMMAND IMAGE [CALL]\n"
	       "Inspects and verifies a VMI ROM image (API %d.%d).\n"
	       "\n"
	       "commands:\n"
	       "  info IMAGE           header fields, size, API version, checksum, link table, ELF header\n"
	       "  calls IMAGE          one line per call: number, name, link type, target, clobbers,\n"
	       "                       template length\n"
	       "  disasm IMAGE [CALL]  every stub, body and template disassembled (or one call, by\n"
	       "                       name or number)\n"
	       "  verify IMAGE         check everything; prints \"IMAGE: valid ...\" and exits 0, or\n"
	       "                       one line with the reason and exits 1\n"
	       "\n"
	       "options:\n"
	       "  --help               this text\n"
	       "  --version            the version\n"
	       "\n"
	       "exit status: 0 done (or valid), 1 invalid image, 2 usage error or unreadable file\n",
	       VMI_API_MAJOR, VMI_API_MINOR);
}

static int usage_error(const char *message, const char *detail)
{
	fprintf(stderr, "vmirom: %s%s%s (try vmirom --help)\n", message, detail ? ": " : "",
	        detail ? detail : "");
	return EXIT_USAGE;
}

static int invalid(const char *path, const char *reason)
{
	fprintf(stderr, "%s: invalid: %s\n", path, reason);
	return EXIT_INVALID;
}

static const char *call_label(unsigned call)
{
	const char *name = vmi_call_name(call);
	return name ? name : "(not a call)";
}

/* ---- info ------------------------------------------------------------------------------ */

static int command_info(const char *path, const struct rom_image *image)
{
	if (!image->has_header) {
		char reason[512];
		rom_image_check(image, reason, sizeof(reason));
		return invalid(path, reason);
	}
	const struct vmi_rom_header *h = &image->header;
	printf("file:             %s (%s%zu bytes)\n", path,
	       image->size_is_lower_bound ? "at least " : "", image->size);
	printf("option ROM:       signature 0x%04x (%s), length byte %u = %u bytes\n",
	       h->option_signature, h->option_signature == VMI_ROM_OPTION_SIGNATURE ? "ok" : "bad",
	       h->length_units, (unsigned)h->length_units * VMI_ROM_LENGTH_UNIT);
	printf("16-bit entry:     %02x %02x %02x %02x\n", h->entry[0], h->entry[1], h->entry[2],
	       h->entry[3]);
	char signature[5];
	for (int i = 0; i < 4; i++) {
		char c = (char)(h->vmi_signature >> (8 * i));
		signature[i] = isprint((unsigned char)c) ? c : '.';
	}
	signature[4] = '\0';
	printf("VMI signature:    0x%08x \"%s\" (%s)\n", h->vmi_signature, signature,
	       h->vmi_signature == VMI_ROM_VMI_SIGNATURE ? "ok" : "bad");
	printf("API version:      %u.%u (%s)\n", h->api_major, h->api_minor,
	       h->api_major == VMI_API_MAJOR ? "known major" : "unknown major");
	size_t summed = (size_t)h->length_units * VMI_ROM_LENGTH_UNIT;
	if (summed > image->size)
		summed = image->size;
	uint8_t sum = rom_image_sum(image);
	if (summed == 0)
		printf("checksum:         n/a (the length byte is 0)\n");
	else
		printf("checksum:         %s (the %zu bytes sum to 0x%02x mod 256)\n",
		       sum ? "bad" : "ok", summed, sum);
	if (h->virtual_top)
		printf("virtual_top:      0x%08x (the guest leaves [0x%08x, 4 GiB) alone)\n",
		       h->virtual_top, h->virtual_top);
	else
		printf("virtual_top:      0 (nothing reserved)\n");
	printf("link table:       offset 0x%04x, %d records of %d bytes\n", h->link_table_offset,
	       VMI_CALL_COUNT, VMI_LINK_RECORD_SIZE);
	printf("PCI/PnP headers:  0x%04x / 0x%04x\n", h->pci_header_offset, h->pnp_header_offset);
	if (image->has_elf) {
		const Elf32_Ehdr *e = &image->ehdr;
		printf("ELF header:       class %u, data %u, type %u, machine %u, entry 0x%08x, "
		       "%u program header(s) at 0x%x, %u section header(s)\n",
		       e->e_ident[EI_CLASS], e->e_ident[EI_DATA], e->e_type, e->e_machine, e->e_entry,
		       e->e_phnum, e->e_phoff, e->e_shnum);
	}
	if (image->has_phdr) {
		const Elf32_Phdr *p = &image->phdr;
		printf("program header:   type %u, offset 0x%x, vaddr 0x%08x, paddr 0x%08x, filesz %u, "
		       "memsz %u, flags %c%c%c, align %u\n", p->p_type, p->p_offset, p->p_vaddr,
		       p->p_paddr, p->p_filesz, p->p_memsz, p->p_flags & PF_R ? 'r' : '-',
		       p->p_flags & PF_W ? 'w' : '-', p->p_flags & PF_X ? 'x' : '-', p->p_align);
	}
	char reason[512];
	printf("structure:        %s\n",
	       rom_image_check(image, reason, sizeof(reason)) ? reason : "valid");
	return 0;
}

/* ---- calls ------------------------------------------------------------------------------ */

static int command_calls(const struct rom_image *image)
{
	printf("call name                     link      target      clobbers          template\n");
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record record;
		rom_image_record(image, call, &record);
		const char *type = rom_link_type_name(record.type);
		char type_text[16], clobbers[64], template_text[48];
		if (!type)
			snprintf(type_text, sizeof(type_text), "type-%u", record.type);
		rom_clobbers_text(record.clobbers, clobbers, sizeof(clobbers));
		if (record.template_length)
			snprintf(template_text, sizeof(template_text), "%u bytes%s",
			         record.template_length,
			         record.flags & VMI_LINK_FLAG_INTERNAL_BRANCH ? ", internal branch" : "");
		else
			snprintf(template_text, sizeof(template_text), "-");
		printf("%4u %-24s %-9s 0x%08x  %-17s %s\n", call, call_label(call),
		       type ? type : type_text, record.target, clobbers, template_text);
	}
	return 0;
}

/* ---- disasm ----------------------------------------------------------------------------- */

/* Prints instructions from `entry` on: past a ret or jmp only while an earlier branch
 * jumps further ahead, so a body with several exits is shown whole. Branch targets outside
 * [start, end) are collected into `far` for the caller. */
static void disassemble(csh capstone, const uint8_t *code, uint32_t start, uint32_t end,
                        uint32_t *far, unsigned *far_count, unsigned far_max)
{
	cs_insn *insn = cs_malloc(capstone);
	if (!insn)
		return;
	const uint8_t *at = code;
	size_t left = end - start;
	uint64_t address = start;
	uint32_t furthest = start;
	for (unsigned n = 0; n < DISASM_MAX_INSNS && left > 0; n++) {
		uint64_t here = address;
		if (!cs_disasm_iter(capstone, &at, &left, &address, insn)) {
			printf("    0x%08llx  %02x                             (undecodable)\n",
			       (unsigned long long)here, *at);
			break;
		}
		char hex[3 * 16 + 1] = "";
		for (unsigned i = 0; i < insn->size; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", insn->bytes[i]);
		printf("    0x%08llx  %-30s %s %s\n", (unsigned long long)here, hex, insn->mnemonic,
		       insn->op_str);

		const cs_x86 *x86 = &insn->detail->x86;
		int branch = cs_insn_group(capstone, insn, X86_GRP_BRANCH_RELATIVE) &&
		             x86->op_count >= 1 && x86->operands[0].type == X86_OP_IMM;
		if (branch) {
			uint32_t target = (uint32_t)x86->operands[0].imm;
			if (target >= start && target < end) {
				if (target > furthest)
					furthest = target;
			} else if (*far_count < far_max) {
				far[(*far_count)++] = target;
			}
		}
		int terminal = insn->id == X86_INS_RET || insn->id == X86_INS_RETF ||
		               insn->id == X86_INS_IRETD || insn->id == X86_INS_SYSEXIT ||
		               insn->id == X86_INS_UD2 || insn->id == X86_INS_JMP ||
		               insn->id == X86_INS_LJMP;
		if (terminal && furthest < address)
			break;
	}
	cs_free(insn, 1);
}

/* End of the code region a body at `offset` may run to. */
static uint32_t body_end(const struct rom_image *image, uint64_t offset)
{
	uint64_t end = offset;
	while (end < image->facts.size && rom_image_region(image, end) == ROM_REGION_BODY)
		end++;
	return (uint32_t)end;
}

static void disassemble_call(csh capstone, const struct rom_image *image, unsigned call)
{
	struct vmi_link_record record;
	rom_image_record(image, call, &record);
	const char *type = rom_link_type_name(record.type);
	char clobbers[64];
	rom_clobbers_text(record.clobbers, clobbers, sizeof(clobbers));
	printf("call %u %s: %s, target 0x%08x, clobbers %s", call, call_label(call),
	       type ? type : "unknown type", record.target, clobbers);
	if (record.type == VMI_LINK_INLINE)
		printf(", template %u bytes%s", record.template_length,
		       record.flags & VMI_LINK_FLAG_INTERNAL_BRANCH ? ", internal branch" : "");
	printf("\n");
	if (record.type == VMI_LINK_NONE)
		return;

	uint32_t slot = VMI_ROM_CALL_OFFSET(call);
	uint32_t far[16];
	unsigned far_count = 0;
	printf("  stub:\n");
	disassemble(capstone, image->bytes + slot, image->base + slot,
	            image->base + slot + VMI_ROM_SLOT_SIZE, far, &far_count, 16);
	for (unsigned i = 0; i < far_count; i++) {
		uint64_t offset = rom_image_offset(image, far[i]);
		if (rom_image_region(image, offset) != ROM_REGION_BODY)
			continue;
		uint32_t more[16];
		unsigned more_count = 0;
		printf("  body at 0x%08x:\n", far[i]);
		disassemble(capstone, image->bytes + offset, far[i],
		            image->base + body_end(image, offset), more, &more_count, 16);
	}
	if (record.type == VMI_LINK_INLINE && record.template_length <= VMI_LINK_TEMPLATE_MAX) {
		uint32_t none[16];
		unsigned none_count = 0;
		printf("  template (%u bytes, shown at the stub's address):\n", record.template_length);
		disassemble(capstone, record.template_bytes, record.target,
		            record.target + record.template_length, none, &none_count, 16);
	}
}

/* A call by number or by name (any case). */
static int parse_call(const char *text, unsigned *call)
{
	char *end;
	unsigned long number = strtoul(text, &end, 0);
	if (*text && *end == '\0') {
		if (number < VMI_CALL_FIRST || number >= VMI_CALL_COUNT)
			return -1;
		*call = (unsigned)number;
		return 0;
	}
	for (unsigned c = VMI_CALL_FIRST; c < VMI_CALL_COUNT; c++) {
		if (vmi_call_name(c) && strcasecmp(vmi_call_name(c), text) == 0) {
			*call = c;
			return 0;
		}
	}
	return -1;
}

static int command_disasm(const struct rom_image *image, const char *call_text)
{
	unsigned only = 0;
	if (call_text && parse_call(call_text, &only) != 0)
		return usage_error("unknown call (a name such as EnableInterrupts, or 4-87)",
		                   call_text);

	csh capstone;
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &capstone) != CS_ERR_OK) {
		fprintf(stderr, "vmirom: cannot open the Capstone disassembler\n");
		return EXIT_USAGE;
	}
	cs_option(capstone, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(capstone, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);

	if (call_text) {
		disassemble_call(capstone, image, only);
	} else {
		/* The option-ROM entry is 16-bit code a BIOS far-calls. */
		csh real_mode;
		if (cs_open(CS_ARCH_X86, CS_MODE_16, &real_mode) == CS_ERR_OK) {
			cs_option(real_mode, CS_OPT_DETAIL, CS_OPT_ON);
			cs_option(real_mode, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
			uint32_t none[1];
			unsigned none_count = 0;
			printf("header: 16-bit entry at offset %d:\n", VMI_ROM_HDR_ENTRY);
			disassemble(real_mode, image->bytes + VMI_ROM_HDR_ENTRY, VMI_ROM_HDR_ENTRY,
			            VMI_ROM_HDR_ENTRY + 4, none, &none_count, 0);
			cs_close(&real_mode);
		}
		for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++)
			disassemble_call(capstone, image, call);
	}
	cs_close(&capstone);
	return 0;
}

/* ---- verify ----------------------------------------------------------------------------- */

static int command_verify(const char *path, const struct rom_image *image)
{
	char reason[512];
	struct rom_verify_summary summary;
	int result = rom_verify(image, reason, sizeof(reason), &summary);
	if (result < 0) {
		fprintf(stderr, "vmirom: %s\n", reason);
		return EXIT_USAGE;
	}
	if (result > 0)
		return invalid(path, reason);
	printf("%s: valid VMI ROM: API %u.%u, %u bytes at 0x%08x; link records: %u inline, "
	       "%u call_rel, %u jump_rel, %u nop, %u none\n", path, image->facts.api_major,
	       image->facts.api_minor, image->facts.size, image->base,
	       summary.by_type[VMI_LINK_INLINE], summary.by_type[VMI_LINK_CALL_REL],
	       summary.by_type[VMI_LINK_JUMP_REL], summary.by_type[VMI_LINK_NOP],
	       summary.by_type[VMI_LINK_NONE]);
	return 0;
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		print_help();
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("vmirom (OpenVMI) %s, ROM API %d.%d\n", VMIROM_VERSION, VMI_API_MAJOR,
		       VMI_API_MINOR);
		return 0;
	}
	if (argc < 2)
		return usage_error("missing command", NULL);

	const char *command = argv[1];
	int takes_call = strcmp(command, "disasm") == 0;
	if (strcmp(command, "info") && strcmp(command, "calls") && strcmp(command, "verify") &&
	    !takes_call) {
		if (command[0] == '-')
			return usage_error("unknown option", command);
		return usage_error("unknown command", command);
	}
	if (argc < 3)
		return usage_error("missing image file after", command);
	if (argc > (takes_call ? 4 : 3))
		return usage_error("too many arguments for", command);

	const char *path = argv[2];
	struct rom_image image;
	uint8_t *storage;
	char error[512];
	if (rom_image_load(path, &image, &storage, error, sizeof(error)) != 0) {
		fprintf(stderr, "vmirom: %s\n", error);
		return EXIT_USAGE;
	}

	int status;
	if (strcmp(command, "info") == 0) {
		status = command_info(path, &image);
	} else if (strcmp(command, "verify") == 0) {
		status = command_verify(path, &image);
	} else if (image.status != VMI_ROM_OK) {
		/* calls and disasm read the link records: the structure must hold. */
		char reason[512];
		rom_image_check(&image, reason, sizeof(reason));
		status = invalid(path, reason);
	} else if (strcmp(command, "calls") == 0) {
		status = command_calls(&image);
	} else {
		status = command_disasm(&image, argc > 3 ? argv[3] : NULL);
	}
	free(storage);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "vmirom: cannot write the output\n");
		return EXIT_USAGE;
	}
	return status;
}
