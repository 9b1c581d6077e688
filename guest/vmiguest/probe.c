/* The ROM probe (see probe.h): scan, check with vmi_rom_check, Init, GetRelocationInfo for
 * every call, or the native ROM. Plain C; the ROM calls go through struct vmi_rom_calls. */
#include <vmi/init.h>
#include <vmi/pc.h>
#include <vmi/rom.h>
#include "patch.h"
#include "probe.h"
#include "text.h"

static void clear_bytes(void *start, size_t length)
{
	uint8_t *p = start;
	for (size_t i = 0; i < length; i++)
		p[i] = 0;
}

/* A record we will not use as given: calling the call's stub (by layout at N * 32) is what
 * an unpatched table call would do anyway. */
static void downgrade_record(struct vmi_link_record *record)
{
	clear_bytes(record, sizeof(*record));
	record->type = VMI_LINK_CALL_REL;
}

/* The ELF header in slots 2-3 (rom.h): its magic, and e_entry (the Init stub at the address
 * the ROM was linked for), at their Elf32_Ehdr offsets. */
#define ELF_MAGIC        0x464c457fu   /* "\177ELF" */
#define ELF_ENTRY_OFFSET 24

static uint32_t read_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t vmi_rom_link_address(const uint8_t *image, uint32_t size, uint32_t address)
{
	const uint8_t *elf = image + VMI_ROM_ELF_HEADER_OFFSET;
	if (size < VMI_ROM_CALL_TABLE_END || read_u32(elf) != ELF_MAGIC)
		return address;
	return read_u32(elf + ELF_ENTRY_OFFSET) - VMI_ROM_CALL_OFFSET(VMI_CALL_Init);
}

void vmi_probe_scan_area(uint32_t physical_base, struct vmi_probe_memory *memory)
{
	memory->scan = (const uint8_t *)(uintptr_t)(physical_base + VMI_ROM_BASE);
	memory->scan_address = physical_base + VMI_ROM_BASE;
	memory->scan_size = VMI_ROM_SCAN_END - VMI_ROM_BASE;
}

/* Calls the ROM's Init, then fetches every call's record, its target moved from where the
 * ROM was linked (`link_address`) to where it is called. 0, or Init's nonzero status. */
static uint32_t link_rom(const struct vmi_rom_calls *calls, uint32_t address, uint32_t size,
                         uint32_t link_address, struct vmi_link_record records[VMI_CALL_COUNT],
                         struct vmi_probe_result *result)
{
	struct vmi_init_info info;
	clear_bytes(&info, sizeof(info));
	info.size = sizeof(info);
	uint32_t status = calls->init(calls->context, address + VMI_ROM_CALL_OFFSET(VMI_CALL_Init),
	                              &info);
	if (status != 0)
		return status;
	result->info = info;
	result->init_status = status;

	uint32_t relocation_entry = address + VMI_ROM_CALL_OFFSET(VMI_CALL_GetRelocationInfo);
	result->bad_records = 0;
	for (unsigned call = 0; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record *record = &records[call];
		clear_bytes(record, sizeof(*record));
		if (call < VMI_CALL_FIRST)
			continue;   /* header slots: nothing to link */
		uint32_t type = 0;
		calls->get_relocation_info(calls->context, relocation_entry, call, record, &type);
		if (record->target != 0)
			record->target += address - link_address;
		if (type != record->type || vmi_link_record_check(record, call, address, size) != 0) {
			downgrade_record(record);
			result->bad_records++;
		}
	}
	return 0;
}

static const char *platform_name(uint32_t platform)
{
	switch (platform) {
	case VMI_PLATFORM_NATIVE: return "native";
	case VMI_PLATFORM_PROCESS: return "process";
	default: return "unknown";
	}
}

static void describe_rejection(struct vmi_text *text, const struct vmi_probe_result *result)
{
	vmi_text_add(text, "vmi: ROM at ");
	vmi_text_add_hex(text, result->rejected_address);
	vmi_text_add(text, " rejected: ");
	if (result->rejected_status == VMI_ROM_OK) {
		vmi_text_add(text, "its Init failed (status ");
		vmi_text_add_hex(text, result->rejected_init);
		vmi_text_add(text, ")");
	} else if (result->rejected_status == VMI_ROM_UNKNOWN_MAJOR) {
		vmi_text_add(text, "unknown API major version ");
		vmi_text_add_decimal(text, result->rejected_major);
		vmi_text_add(text, " (this guest knows ");
		vmi_text_add_decimal(text, VMI_API_MAJOR);
		vmi_text_add(text, ")");
	} else {
		vmi_text_add(text, vmi_rom_status_text(result->rejected_status));
	}
}

static void describe(struct vmi_probe_result *result)
{
	struct vmi_text text;
	vmi_text_init(&text, result->message, sizeof(result->message));
	if (result->native_failed) {
		if (result->rejected)
			describe_rejection(&text, result);
		else
			vmi_text_add(&text, "vmi: no ROM found");
		vmi_text_add(&text, "; the native ROM's Init failed too (status ");
		vmi_text_add_hex(&text, result->init_status);
		vmi_text_add(&text, "): sites stay table calls");
		return;
	}
	if (!result->native) {
		vmi_text_add(&text, "vmi: ROM at ");
		vmi_text_add_hex(&text, result->rom_address);
		vmi_text_add(&text, ": API ");
	} else {
		if (result->rejected)
			describe_rejection(&text, result);
		else
			vmi_text_add(&text, "vmi: no ROM found");
		vmi_text_add(&text, "; using the native ROM: API ");
	}
	vmi_text_add_decimal(&text, result->api_major);
	vmi_text_add(&text, ".");
	vmi_text_add_decimal(&text, result->api_minor);
	vmi_text_add(&text, ", platform ");
	vmi_text_add(&text, platform_name(result->info.platform));
	if (result->bad_records) {
		vmi_text_add(&text, "; ");
		vmi_text_add_decimal(&text, result->bad_records);
		vmi_text_add(&text, " link records refused (called through their stubs)");
	}
}

/* Looks for the first image with both signatures; 1 if one was found (facts and status
 * filled), 0 if the area holds no VMI ROM. */
static int scan(const struct vmi_probe_memory *memory, uint32_t *offset_found,
                struct vmi_rom_facts *facts, enum vmi_rom_status *status)
{
	for (uint32_t offset = 0; memory->scan_size >= VMI_ROM_HDR_SIZE &&
	                          offset <= memory->scan_size - VMI_ROM_HDR_SIZE;
	     offset += VMI_ROM_SCAN_STEP) {
		*status = vmi_rom_check(memory->scan + offset, memory->scan_size - offset, facts);
		if (*status == VMI_ROM_BAD_OPTION_SIGNATURE || *status == VMI_ROM_BAD_VMI_SIGNATURE ||
		    *status == VMI_ROM_TRUNCATED_HEADER)
			continue;   /* not a VMI ROM (a VGA BIOS, a NIC's boot ROM, nothing) */
		*offset_found = offset;
		return 1;
	}
	return 0;
}

int vmi_probe(const struct vmi_probe_memory *memory, const struct vmi_rom_calls *calls,
              struct vmi_link_record records[VMI_CALL_COUNT], struct vmi_probe_result *result)
{
	clear_bytes(result, sizeof(*result));
	result->rejected_status = VMI_ROM_OK;

	/* The first VMI ROM decides: a hypervisor publishes one, and a damaged one is reported
	 * rather than passed over for whatever else might lie further on. */
	uint32_t offset = 0;
	struct vmi_rom_facts facts;
	enum vmi_rom_status status;
	if (scan(memory, &offset, &facts, &status)) {
		uint32_t address = memory->scan_address + offset;
		if (status == VMI_ROM_OK) {
			uint32_t link_address = vmi_rom_link_address(memory->scan + offset, facts.size,
			                                             address);
			uint32_t init_status = link_rom(calls, address, facts.size, link_address, records,
			                                result);
			if (init_status == 0) {
				result->rom_address = address;
				result->rom_size = facts.size;
				result->api_major = facts.api_major;
				result->api_minor = facts.api_minor;
				describe(result);
				return 0;
			}
			result->rejected_init = init_status;
		}
		result->rejected = 1;
		result->rejected_address = address;
		result->rejected_status = status;
		result->rejected_major = memory->scan[offset + VMI_ROM_HDR_API_MAJOR];
	}

	result->native = 1;
	result->rom_address = memory->native_address;
	result->rom_size = memory->native_size;
	result->api_major = memory->native[VMI_ROM_HDR_API_MAJOR];
	result->api_minor = memory->native[VMI_ROM_HDR_API_MINOR];
	uint32_t init_status = link_rom(calls, memory->native_address, memory->native_size,
	                                vmi_rom_link_address(memory->native, memory->native_size,
	                                                     memory->native_address),
	                                records, result);
	if (init_status != 0) {
		result->native_failed = 1;
		result->init_status = init_status;
		clear_bytes(records, sizeof(struct vmi_link_record) * VMI_CALL_COUNT);
		describe(result);
		return -1;
	}
	describe(result);
	return 0;
}
