/* A VMI ROM image in memory, for vmirom and the tests: loading, the header and ELF header
 * fields, the structural checks (guest/vmiguest/rom_check.c plus the header's reserved
 * fields and the ELF header), link records, and where in the image an offset falls.
 * No disassembly here: the code checks are in rom_verify.h. */
#ifndef TOOLS_ROM_IMAGE_H
#define TOOLS_ROM_IMAGE_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include <vmi/link.h>
#include <vmi/rom.h>
#include "rom_check.h"

struct rom_image {
	const uint8_t *bytes;
	size_t size;                    /* bytes at `bytes` */
	int size_is_lower_bound;        /* the file was longer than what was read */
	int has_header;                 /* size >= VMI_ROM_HDR_SIZE: `header` is valid */
	struct vmi_rom_header header;
	enum vmi_rom_status status;     /* vmi_rom_check's verdict */
	struct vmi_rom_facts facts;     /* valid when status == VMI_ROM_OK */
	int has_elf;                    /* the ELF header slots are inside the image */
	Elf32_Ehdr ehdr;
	int has_phdr;                   /* e_phoff leaves room for one Elf32_Phdr */
	Elf32_Phdr phdr;
	uint32_t base;                  /* guest address: p_vaddr if has_phdr, else VMI_ROM_BASE */
};

/* Parses `size` bytes at `bytes` (kept, not copied). Never fails: what is missing or wrong
 * shows in the fields, and rom_image_check says why. */
void rom_image_parse(struct rom_image *image, const uint8_t *bytes, size_t size);

/* Reads a file (at most VMI_ROM_MAX_SIZE + 1 bytes) into *storage (to free()) and parses it.
 * 0, or -1 with `error` set to one line (no newline) if the file cannot be read. */
int rom_image_load(const char *path, struct rom_image *image, uint8_t **storage,
                   char *error, size_t error_size);

/* The structural checks: vmi_rom_check, the file's length against the length byte, the
 * header's reserved fields, the ELF header in slots 2-3 and its program header. 0 when all
 * pass; else 1 with `reason` set to one line (no newline). */
int rom_image_check(const struct rom_image *image, char *reason, size_t reason_size);

/* Sum of the image's bytes (the first `facts.size`, or all that are there) mod 256. */
uint8_t rom_image_sum(const struct rom_image *image);

/* Call `call`'s link record; needs status == VMI_ROM_OK. 0, or -1 if out of range. */
int rom_image_record(const struct rom_image *image, unsigned call,
                     struct vmi_link_record *record);

/* What lies at an offset of a structurally valid image. */
enum rom_region {
	ROM_REGION_HEADER,              /* slot 0 */
	ROM_REGION_RESERVED_SLOT,       /* slot 1 */
	ROM_REGION_ELF_HEADER,          /* slots 2-3 */
	ROM_REGION_CALL_TABLE,          /* the stubs: slots 4 .. VMI_CALL_COUNT - 1 */
	ROM_REGION_BODY,                /* code after the call table */
	ROM_REGION_LINK_TABLE,
	ROM_REGION_PROGRAM_HEADER,
	ROM_REGION_OUTSIDE,             /* past the image */
};
enum rom_region rom_image_region(const struct rom_image *image, uint64_t offset);
const char *rom_region_name(enum rom_region region);

/* Offset in the image of a guest address, or UINT64_MAX if it lies below the base. */
uint64_t rom_image_offset(const struct rom_image *image, uint32_t address);

/* "none", "call_rel", "jump_rel", "nop", "inline", or NULL for an unknown type. */
const char *rom_link_type_name(unsigned type);

/* "eax|flags", or "-" for none, into `text`. */
void rom_clobbers_text(uint32_t clobbers, char *text, size_t size);

#endif
