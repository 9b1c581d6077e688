/* Structural checks of a VMI ROM image: signatures, length, checksum, API version, link
 * table bounds. Freestanding, so the guest's probe, vmirun and vmirom share one checker. */
#ifndef VMIGUEST_ROM_CHECK_H
#define VMIGUEST_ROM_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <vmi/link.h>

enum vmi_rom_status {
	VMI_ROM_OK = 0,
	VMI_ROM_TRUNCATED_HEADER,      /* fewer bytes than the header */
	VMI_ROM_BAD_OPTION_SIGNATURE,  /* no 0xAA55 */
	VMI_ROM_BAD_VMI_SIGNATURE,     /* no "cVmi" */
	VMI_ROM_BAD_LENGTH,            /* length byte 0, or too short for the call table */
	VMI_ROM_TRUNCATED,             /* the header claims more bytes than are there */
	VMI_ROM_BAD_CHECKSUM,          /* bytes do not sum to 0 mod 256 */
	VMI_ROM_UNKNOWN_MAJOR,         /* an API major version we do not know */
	VMI_ROM_BAD_LINK_TABLE,        /* link table outside the image or misaligned */
	VMI_ROM_STATUS_COUNT
};

struct vmi_rom_facts {
	uint32_t size;                 /* bytes, from the length byte */
	uint8_t api_major, api_minor;
	uint32_t link_table_offset;
	uint32_t virtual_top;          /* 0, or the page-aligned start of the hypervisor's part */
};

/* Checks the image at `image`, of which `available` bytes may be read. */
enum vmi_rom_status vmi_rom_check(const uint8_t *image, size_t available,
                                  struct vmi_rom_facts *facts);

/* A short English phrase for a status ("bad checksum"). */
const char *vmi_rom_status_text(enum vmi_rom_status status);

/* Copies call `call`'s link record from a checked image; 0, or -1 if out of range. */
int vmi_rom_link_record(const uint8_t *image, const struct vmi_rom_facts *facts,
                        unsigned call, struct vmi_link_record *record);

#endif
