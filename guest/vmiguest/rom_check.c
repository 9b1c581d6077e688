/* One checker for ROM images, built freestanding for guests and natively for the host. */
#include <vmi/rom.h>
#include "rom_check.h"

static uint32_t read_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum vmi_rom_status vmi_rom_check(const uint8_t *image, size_t available,
                                  struct vmi_rom_facts *facts)
{
	if (available < VMI_ROM_HDR_SIZE)
		return VMI_ROM_TRUNCATED_HEADER;
	if ((image[0] | image[1] << 8) != VMI_ROM_OPTION_SIGNATURE)
		return VMI_ROM_BAD_OPTION_SIGNATURE;
	if (read_u32(image + VMI_ROM_HDR_VMI_SIGNATURE) != VMI_ROM_VMI_SIGNATURE)
		return VMI_ROM_BAD_VMI_SIGNATURE;

	uint32_t size = (uint32_t)image[VMI_ROM_HDR_LENGTH] * VMI_ROM_LENGTH_UNIT;
	if (size < VMI_ROM_CALL_TABLE_END)
		return VMI_ROM_BAD_LENGTH;
	if (size > available)
		return VMI_ROM_TRUNCATED;

	uint8_t sum = 0;
	for (uint32_t i = 0; i < size; i++)
		sum = (uint8_t)(sum + image[i]);
	if (sum != 0)
		return VMI_ROM_BAD_CHECKSUM;
	if (image[VMI_ROM_HDR_API_MAJOR] != VMI_API_MAJOR)
		return VMI_ROM_UNKNOWN_MAJOR;

	uint32_t table = read_u32(image + VMI_ROM_HDR_PRIVATE);
	if (table % 4 || table < VMI_ROM_CALL_TABLE_END ||
	    table > size || size - table < (uint32_t)VMI_CALL_COUNT * VMI_LINK_RECORD_SIZE)
		return VMI_ROM_BAD_LINK_TABLE;

	facts->size = size;
	facts->api_major = image[VMI_ROM_HDR_API_MAJOR];
	facts->api_minor = image[VMI_ROM_HDR_API_MINOR];
	facts->link_table_offset = table;
	facts->virtual_top = read_u32(image + VMI_ROM_HDR_VIRTUAL_TOP);
	return VMI_ROM_OK;
}

const char *vmi_rom_status_text(enum vmi_rom_status status)
{
	switch (status) {
	case VMI_ROM_OK: return "valid";
	case VMI_ROM_TRUNCATED_HEADER: return "too short for a ROM header";
	case VMI_ROM_BAD_OPTION_SIGNATURE: return "no option-ROM signature 0xAA55";
	case VMI_ROM_BAD_VMI_SIGNATURE: return "no VMI signature \"cVmi\"";
	case VMI_ROM_BAD_LENGTH: return "length byte too small to hold the call table";
	case VMI_ROM_TRUNCATED: return "image shorter than its length byte says";
	case VMI_ROM_BAD_CHECKSUM: return "bad checksum (bytes do not sum to 0 mod 256)";
	case VMI_ROM_UNKNOWN_MAJOR: return "unknown API major version";
	case VMI_ROM_BAD_LINK_TABLE: return "link-record table outside the image";
	case VMI_ROM_STATUS_COUNT: break;
	}
	return "unknown status";
}

int vmi_rom_link_record(const uint8_t *image, const struct vmi_rom_facts *facts,
                        unsigned call, struct vmi_link_record *record)
{
	if (call >= VMI_CALL_COUNT)
		return -1;
	const uint8_t *from = image + facts->link_table_offset + (size_t)call * VMI_LINK_RECORD_SIZE;
	uint8_t *to = (uint8_t *)record;
	for (unsigned i = 0; i < VMI_LINK_RECORD_SIZE; i++)
		to[i] = from[i];
	return 0;
}
