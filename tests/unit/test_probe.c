/* Unit tests of the guest SDK's ROM probe (guest/vmiguest/probe.c): crafted images in a
 * 128 KiB buffer standing for 0xC0000-0xDFFFF, the ROM calls answered from the images. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/init.h>
#include <vmi/pc.h>
#include <vmi/rom.h>
#include "patch.h"
#include "probe.h"

#ifndef ROM_DIR
#define ROM_DIR BUILD_DIR "/rom"
#endif

#define SCAN_SIZE       (VMI_ROM_SCAN_END - VMI_ROM_BASE)
#define NATIVE_ADDRESS  0x00102800u   /* where a kernel might link its native ROM */
#define CRAFTED_UNITS   18            /* 9 KiB: call table, link records, checksum byte */

static uint8_t scan_area[SCAN_SIZE];
static uint8_t native_image[VMI_ROM_MAX_SIZE];

/* --- crafted images ------------------------------------------------------------------------ */

static void put_u32(uint8_t *p, uint32_t value)
{
	memcpy(p, &value, sizeof(value));
}

static void seal(uint8_t *image)
{
	uint32_t size = image[VMI_ROM_HDR_LENGTH] * VMI_ROM_LENGTH_UNIT;
	image[size - 1] = 0;
	uint8_t sum = 0;
	for (uint32_t i = 0; i < size; i++)
		sum = (uint8_t)(sum + image[i]);
	image[size - 1] = (uint8_t)-sum;
}

static uint32_t link_table_offset(void)
{
	return VMI_ROM_CALL_TABLE_END;
}

static struct vmi_link_record *record_in(uint8_t *image, unsigned call)
{
	return (struct vmi_link_record *)(image + link_table_offset() + call * VMI_LINK_RECORD_SIZE);
}

/* A valid ROM for guest address `address`: CALL_REL to each stub, an inline `cli` for
 * DisableInterrupts, a NOP IODelay, JUMP_REL IRET. */
static void craft_rom(uint8_t *image, uint32_t address)
{
	uint32_t size = CRAFTED_UNITS * VMI_ROM_LENGTH_UNIT;
	memset(image, 0xCC, size);
	memset(image, 0, VMI_ROM_CALL_OFFSET(VMI_CALL_FIRST));
	image[0] = 0x55;
	image[1] = 0xAA;
	image[VMI_ROM_HDR_LENGTH] = CRAFTED_UNITS;
	put_u32(image + VMI_ROM_HDR_VMI_SIGNATURE, VMI_ROM_VMI_SIGNATURE);
	image[VMI_ROM_HDR_API_MINOR] = VMI_API_MINOR;
	image[VMI_ROM_HDR_API_MAJOR] = VMI_API_MAJOR;
	put_u32(image + VMI_ROM_HDR_PRIVATE, link_table_offset());
	memset(image + link_table_offset(), 0, VMI_CALL_COUNT * VMI_LINK_RECORD_SIZE);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record *record = record_in(image, call);
		record->type = VMI_LINK_CALL_REL;
		record->target = address + VMI_ROM_CALL_OFFSET(call);
	}
	struct vmi_link_record *cli = record_in(image, VMI_CALL_DisableInterrupts);
	cli->type = VMI_LINK_INLINE;
	cli->template_length = 1;
	cli->template_bytes[0] = 0xFA;
	record_in(image, VMI_CALL_IODelay)->type = VMI_LINK_NOP;
	record_in(image, VMI_CALL_IRET)->type = VMI_LINK_JUMP_REL;
	seal(image);
}

/* --- the ROM calls, answered from the images ----------------------------------------------- */

struct fake_rom {
	const uint8_t *image;
	uint32_t address;
	uint32_t platform;
	uint32_t init_status;
	unsigned wrong_type_call;   /* GetRelocationInfo lies about this call's type (0: none) */
	unsigned init_calls, relocation_calls;
};

struct fake_machine {
	struct fake_rom roms[4];
	unsigned count;
};

static struct fake_machine machine;

static struct fake_rom *add_fake_rom(const uint8_t *image, uint32_t address, uint32_t platform)
{
	cr_assert_lt(machine.count, 4);
	struct fake_rom *rom = &machine.roms[machine.count++];
	memset(rom, 0, sizeof(*rom));
	rom->image = image;
	rom->address = address;
	rom->platform = platform;
	return rom;
}

static struct fake_rom *fake_rom_with_entry(uint32_t entry, unsigned call)
{
	for (unsigned i = 0; i < machine.count; i++)
		if (machine.roms[i].address + VMI_ROM_CALL_OFFSET(call) == entry)
			return &machine.roms[i];
	cr_assert_fail("the probe called %#x, which is no ROM's entry for call %u", entry, call);
	return NULL;
}

static uint32_t fake_init(void *context, uint32_t entry, struct vmi_init_info *info)
{
	cr_assert_eq(context, &machine);
	struct fake_rom *rom = fake_rom_with_entry(entry, VMI_CALL_Init);
	rom->init_calls++;
	cr_assert_eq(info->size, sizeof(*info), "Init: info->size set by the caller");
	if (rom->init_status != 0)
		return rom->init_status;
	info->kernel_ring = rom->platform == VMI_PLATFORM_PROCESS ? 3 : 0;
	info->platform = rom->platform;
	return 0;
}

static uint32_t fake_get_relocation_info(void *context, uint32_t entry, uint32_t call,
                                         struct vmi_link_record *record, uint32_t *type)
{
	cr_assert_eq(context, &machine);
	struct fake_rom *rom = fake_rom_with_entry(entry, VMI_CALL_GetRelocationInfo);
	rom->relocation_calls++;
	cr_assert_eq(rom->init_calls, 1, "GetRelocationInfo before Init");
	struct vmi_rom_facts facts = {
		.link_table_offset = rom->image[VMI_ROM_HDR_PRIVATE] |
		                     rom->image[VMI_ROM_HDR_PRIVATE + 1] << 8,
	};
	cr_assert_eq(vmi_rom_link_record(rom->image, &facts, call, record), 0, "call %u", call);
	*type = record->type;
	if (call == rom->wrong_type_call)
		*type = record->type + 1;
	return record->target;
}

static const struct vmi_rom_calls fake_calls = {
	.init = fake_init,
	.get_relocation_info = fake_get_relocation_info,
	.context = &machine,
};

static struct vmi_probe_memory probe_memory(void)
{
	struct vmi_probe_memory memory = {
		.scan = scan_area,
		.scan_address = VMI_ROM_BASE,
		.scan_size = SCAN_SIZE,
		.native = native_image,
		.native_address = NATIVE_ADDRESS,
		.native_size = native_image[VMI_ROM_HDR_LENGTH] * VMI_ROM_LENGTH_UNIT,
	};
	return memory;
}

static struct fake_rom *native;

/* An empty option-ROM area and a crafted native ROM, every test. */
static void setup(void)
{
	memset(scan_area, 0, sizeof(scan_area));
	memset(&machine, 0, sizeof(machine));
	craft_rom(native_image, NATIVE_ADDRESS);
	native = add_fake_rom(native_image, NATIVE_ADDRESS, VMI_PLATFORM_NATIVE);
}

static struct vmi_link_record records[VMI_CALL_COUNT];
static struct vmi_probe_result result;

static int probe(void)
{
	struct vmi_probe_memory memory = probe_memory();
	memset(records, 0xEE, sizeof(records));
	return vmi_probe(&memory, &fake_calls, records, &result);
}

/* The records handed out are the image's, record for record (0-3 are NONE). */
static void expect_records_of(const uint8_t *image)
{
	for (unsigned call = 0; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record expected;
		if (call < VMI_CALL_FIRST)
			memset(&expected, 0, sizeof(expected));
		else
			memcpy(&expected, image + link_table_offset() + call * VMI_LINK_RECORD_SIZE,
			       sizeof(expected));
		cr_assert_eq(memcmp(&records[call], &expected, sizeof(expected)), 0, "call %u", call);
	}
}

static void expect_native_fallback(const char *message)
{
	cr_assert_eq(result.native, 1);
	cr_assert_eq(result.rom_address, NATIVE_ADDRESS);
	cr_assert_eq(result.info.platform, VMI_PLATFORM_NATIVE);
	cr_assert_eq(native->init_calls, 1);
	cr_assert_eq(native->relocation_calls, VMI_CALL_COUNT - VMI_CALL_FIRST);
	expect_records_of(native_image);
	cr_assert_str_eq(result.message, message);
}

static struct fake_rom *place_rom(uint32_t offset)
{
	craft_rom(scan_area + offset, VMI_ROM_BASE + offset);
	return add_fake_rom(scan_area + offset, VMI_ROM_BASE + offset, VMI_PLATFORM_PROCESS);
}

TestSuite(probe, .init = setup);

/* The API version as text, as the probe prints it. */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define API_TEXT "API " STRINGIFY(VMI_API_MAJOR) "." STRINGIFY(VMI_API_MINOR)
#define NATIVE_TAIL "using the native ROM: " API_TEXT ", platform native"

/* --- found ----------------------------------------------------------------------------------- */

Test(probe, a_good_rom_at_0xc0000_is_linked)
{
	struct fake_rom *rom = place_rom(0);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.native, 0);
	cr_assert_eq(result.rejected, 0);
	cr_assert_eq(result.rom_address, VMI_ROM_BASE);
	cr_assert_eq(result.rom_size, CRAFTED_UNITS * VMI_ROM_LENGTH_UNIT);
	cr_assert_eq(result.api_major, VMI_API_MAJOR);
	cr_assert_eq(result.api_minor, VMI_API_MINOR);
	cr_assert_eq(result.info.platform, VMI_PLATFORM_PROCESS);
	cr_assert_eq(result.info.kernel_ring, 3);
	cr_assert_eq(result.bad_records, 0);
	cr_assert_eq(rom->init_calls, 1);
	cr_assert_eq(rom->relocation_calls, VMI_CALL_COUNT - VMI_CALL_FIRST);
	cr_assert_eq(native->init_calls, 0, "the native ROM is not touched");
	expect_records_of(scan_area);
	cr_assert_str_eq(result.message, "vmi: ROM at 0xc0000: " API_TEXT ", platform process");
}

Test(probe, a_good_rom_at_a_later_2k_step_is_found_past_other_option_roms)
{
	/* A VGA BIOS-like option ROM first: 0xAA55, but no "cVmi". */
	scan_area[0] = 0x55;
	scan_area[1] = 0xAA;
	scan_area[2] = 64;
	memcpy(scan_area + 0x1E, "IBM", 3);
	place_rom(0x8800);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.native, 0);
	cr_assert_eq(result.rom_address, VMI_ROM_BASE + 0x8800);
	expect_records_of(scan_area + 0x8800);
	cr_assert_str_eq(result.message, "vmi: ROM at 0xc8800: " API_TEXT ", platform process");
}

Test(probe, the_last_2k_step_is_scanned)
{
	/* A 2 KiB ROM (the header says so) cannot hold a call table and link records, so only
	 * its discovery is shown here: it is found, and rejected for its length. */
	uint32_t offset = SCAN_SIZE - VMI_ROM_SCAN_STEP;
	scan_area[offset] = 0x55;
	scan_area[offset + 1] = 0xAA;
	scan_area[offset + VMI_ROM_HDR_LENGTH] = VMI_ROM_SCAN_STEP / VMI_ROM_LENGTH_UNIT;
	put_u32(scan_area + offset + VMI_ROM_HDR_VMI_SIGNATURE, VMI_ROM_VMI_SIGNATURE);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected, 1);
	cr_assert_eq(result.rejected_address, VMI_ROM_SCAN_END - VMI_ROM_SCAN_STEP);
}

/* --- not found, or refused: the native ROM, with the reason ----------------------------------- */

Test(probe, an_empty_area_uses_the_native_rom)
{
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected, 0);
	expect_native_fallback("vmi: no ROM found; " NATIVE_TAIL);
}

Test(probe, a_rom_off_the_2k_grid_is_not_found)
{
	place_rom(0x400);
	cr_assert_eq(probe(), 0);
	expect_native_fallback("vmi: no ROM found; " NATIVE_TAIL);
}

Test(probe, a_wrong_vmi_signature_is_no_vmi_rom)
{
	place_rom(0);
	scan_area[VMI_ROM_HDR_VMI_SIGNATURE + 3] = 'X';   /* "cVmX" */
	seal(scan_area);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected, 0);
	expect_native_fallback("vmi: no ROM found; " NATIVE_TAIL);
}

Test(probe, a_wrong_option_rom_signature_is_no_rom)
{
	place_rom(0);
	scan_area[1] = 0xAB;
	cr_assert_eq(probe(), 0);
	expect_native_fallback("vmi: no ROM found; " NATIVE_TAIL);
}

Test(probe, a_bad_checksum_is_rejected)
{
	struct fake_rom *rom = place_rom(0);
	scan_area[0x100] ^= 0x01;
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected, 1);
	cr_assert_eq(result.rejected_status, VMI_ROM_BAD_CHECKSUM);
	cr_assert_eq(result.rejected_address, VMI_ROM_BASE);
	cr_assert_eq(rom->init_calls, 0, "a rejected ROM is never called");
	expect_native_fallback("vmi: ROM at 0xc0000 rejected: bad checksum (bytes do not sum to 0 "
	                       "mod 256); " NATIVE_TAIL);
}

Test(probe, a_wrong_major_version_is_rejected)
{
	struct fake_rom *rom = place_rom(0);
	scan_area[VMI_ROM_HDR_API_MAJOR] = VMI_API_MAJOR + 1;
	seal(scan_area);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected_status, VMI_ROM_UNKNOWN_MAJOR);
	cr_assert_eq(result.rejected_major, VMI_API_MAJOR + 1);
	cr_assert_eq(rom->init_calls, 0);
	char expected[200];
	snprintf(expected, sizeof(expected), "vmi: ROM at 0xc0000 rejected: unknown API major "
	         "version %d (this guest knows %d); " NATIVE_TAIL, VMI_API_MAJOR + 1, VMI_API_MAJOR);
	expect_native_fallback(expected);
}

Test(probe, a_truncated_rom_is_rejected)
{
	/* At the last 4 KiB of the area, claiming 9 KiB: its length byte runs past 0xE0000. */
	uint32_t offset = SCAN_SIZE - 2 * VMI_ROM_SCAN_STEP;
	uint8_t whole[CRAFTED_UNITS * VMI_ROM_LENGTH_UNIT];
	craft_rom(whole, VMI_ROM_BASE + offset);
	memcpy(scan_area + offset, whole, SCAN_SIZE - offset);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected_status, VMI_ROM_TRUNCATED);
	cr_assert_eq(result.rejected_address, VMI_ROM_BASE + offset);
	expect_native_fallback("vmi: ROM at 0xdf000 rejected: image shorter than its length byte "
	                       "says; " NATIVE_TAIL);
}

Test(probe, a_length_too_small_for_the_call_table_is_rejected)
{
	place_rom(0);
	scan_area[VMI_ROM_HDR_LENGTH] = 1;
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected_status, VMI_ROM_BAD_LENGTH);
	expect_native_fallback("vmi: ROM at 0xc0000 rejected: length byte too small to hold the "
	                       "call table; " NATIVE_TAIL);
}

Test(probe, a_rom_whose_init_fails_is_rejected)
{
	struct fake_rom *rom = place_rom(0);
	rom->init_status = VMI_ERROR_NOT_IMPLEMENTED;
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected, 1);
	cr_assert_eq(result.rejected_status, VMI_ROM_OK);
	cr_assert_eq(result.rejected_init, VMI_ERROR_NOT_IMPLEMENTED);
	cr_assert_eq(rom->relocation_calls, 0);
	expect_native_fallback("vmi: ROM at 0xc0000 rejected: its Init failed (status 0xffffffff); "
	                       NATIVE_TAIL);
}

Test(probe, the_first_vmi_rom_decides)
{
	place_rom(0);
	scan_area[0x100] ^= 0x01;
	struct fake_rom *later = place_rom(0x2000);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.rejected_address, VMI_ROM_BASE);
	cr_assert_eq(later->init_calls, 0);
	cr_assert_eq(result.native, 1);
}

/* --- records --------------------------------------------------------------------------------- */

Test(probe, records_the_patcher_could_not_trust_become_calls_to_the_stub)
{
	place_rom(0);
	record_in(scan_area, VMI_CALL_OUTB)->target = VMI_ROM_SCAN_END + 0x100;   /* outside */
	record_in(scan_area, VMI_CALL_INB)->type = 9;                             /* unknown */
	struct vmi_link_record *cli = record_in(scan_area, VMI_CALL_DisableInterrupts);
	cli->template_length = VMI_LINK_TEMPLATE_MAX + 1;
	seal(scan_area);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.native, 0);
	cr_assert_eq(result.bad_records, 3);
	const unsigned downgraded[] = { VMI_CALL_OUTB, VMI_CALL_INB, VMI_CALL_DisableInterrupts };
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(records[downgraded[i]].type, VMI_LINK_CALL_REL);
		cr_assert_eq(records[downgraded[i]].target, 0, "0: the call's own stub");
	}
	cr_assert_eq(records[VMI_CALL_IODelay].type, VMI_LINK_NOP, "the others as given");
	cr_assert_str_eq(result.message, "vmi: ROM at 0xc0000: " API_TEXT ", platform process; 3 "
	                                 "link records refused (called through their stubs)");
}

Test(probe, a_type_that_disagrees_with_the_record_is_not_trusted)
{
	struct fake_rom *rom = place_rom(0);
	rom->wrong_type_call = VMI_CALL_DisableInterrupts;
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.bad_records, 1);
	cr_assert_eq(records[VMI_CALL_DisableInterrupts].type, VMI_LINK_CALL_REL);
}

Test(probe, a_native_rom_whose_init_fails_leaves_every_site_alone)
{
	native->init_status = VMI_ERROR_INVALID;
	cr_assert_eq(probe(), -1);
	cr_assert_eq(result.native, 1);
	cr_assert_eq(result.native_failed, 1);
	for (unsigned call = 0; call < VMI_CALL_COUNT; call++)
		cr_assert_eq(records[call].type, VMI_LINK_NONE, "call %u", call);
	cr_assert_str_eq(result.message, "vmi: no ROM found; the native ROM's Init failed too "
	                                 "(status 0xfffffffe): sites stay table calls");
}

Test(probe, an_area_too_small_for_a_header_holds_no_rom)
{
	struct vmi_probe_memory memory = probe_memory();
	memory.scan_size = VMI_ROM_HDR_SIZE - 1;
	cr_assert_eq(vmi_probe(&memory, &fake_calls, records, &result), 0);
	cr_assert_eq(result.native, 1);
}

/* --- the built images ------------------------------------------------------------------------- */

static size_t load_image(const char *name, uint8_t *to, size_t capacity)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", ROM_DIR, name);
	FILE *file = fopen(path, "rb");
	cr_assert(file, "%s is missing: run `make` first (the ROM images are built by rom/rom.mk)",
	          path);
	size_t size = fread(to, 1, capacity, file);
	fclose(file);
	return size;
}

/* Every record probe() left in `records` is the one the image in scan_area (of `size`
 * bytes) gives, its target moved by `moved_by` (the distance to where it was found). */
static void expect_records_of_the_image(size_t size, uint32_t moved_by)
{
	struct vmi_rom_facts facts;
	cr_assert_eq(vmi_rom_check(scan_area, size, &facts), VMI_ROM_OK);
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		struct vmi_link_record expected;
		vmi_rom_link_record(scan_area, &facts, call, &expected);
		if (expected.target)
			expected.target += moved_by;
		cr_assert_eq(memcmp(&records[call], &expected, sizeof(expected)), 0, "call %u", call);
	}
}

Test(probe, the_built_process_rom_is_found_and_all_its_records_are_usable)
{
	size_t size = load_image("process_rom.bin", scan_area, SCAN_SIZE);
	cr_assert_gt(size, (size_t)VMI_ROM_CALL_TABLE_END);
	add_fake_rom(scan_area, VMI_ROM_BASE, VMI_PLATFORM_PROCESS);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(result.native, 0);
	cr_assert_eq(result.rom_size, size);
	cr_assert_eq(result.bad_records, 0, "%s", result.message);
	expect_records_of_the_image(size, 0);
	cr_assert_eq(records[VMI_CALL_EnableInterrupts].type, VMI_LINK_INLINE);
}

Test(probe, the_built_native_rom_links_as_the_fallback)
{
	/* The flat image is linked at 0xC0000; as a kernel's native ROM it lives there too. */
	memset(native_image, 0, sizeof(native_image));
	size_t size = load_image("native_rom.bin", native_image, sizeof(native_image));
	memset(&machine, 0, sizeof(machine));
	native = add_fake_rom(native_image, VMI_ROM_BASE, VMI_PLATFORM_NATIVE);
	struct vmi_probe_memory memory = probe_memory();
	memory.native_address = VMI_ROM_BASE;
	memory.native_size = (uint32_t)size;
	memory.scan_size = 0;   /* nothing to find */
	cr_assert_eq(vmi_probe(&memory, &fake_calls, records, &result), 0);
	cr_assert_eq(result.native, 1);
	cr_assert_eq(result.bad_records, 0, "%s", result.message);
	cr_assert_eq(records[VMI_CALL_DisableInterrupts].type, VMI_LINK_INLINE);
	cr_assert_eq(records[VMI_CALL_DisableInterrupts].template_bytes[0], 0xFA, "cli");
}

/* --- a ROM reached through a kernel's linear map ------------------------------------------ */

#define LINEAR_MAP_BASE 0xC0000000u   /* a kernel's linear address of physical 0 */

Test(probe, physical_base_moves_the_scanned_area_to_the_linear_map)
{
	struct vmi_probe_memory memory;
	memset(&memory, 0, sizeof(memory));
	vmi_probe_scan_area(LINEAR_MAP_BASE, &memory);
	cr_assert_eq(memory.scan_address, LINEAR_MAP_BASE + VMI_ROM_BASE);
	cr_assert_eq((uintptr_t)memory.scan, (uintptr_t)(LINEAR_MAP_BASE + VMI_ROM_BASE));
	cr_assert_eq(memory.scan_size, VMI_ROM_SCAN_END - VMI_ROM_BASE);
	vmi_probe_scan_area(0, &memory);
	cr_assert_eq(memory.scan_address, VMI_ROM_BASE, "0: identity, as before");
	cr_assert_eq((uintptr_t)memory.scan, (uintptr_t)VMI_ROM_BASE);
}

/* The process ROM, linked for 0xC0000, found at its alias in a kernel's linear map: linked
 * there, every record usable, each target moved by the alias's distance (not left pointing
 * at 0xC0000, which such a kernel need not map). */
Test(probe, the_built_process_rom_found_through_an_alias_is_linked_at_the_alias)
{
	size_t size = load_image("process_rom.bin", scan_area, SCAN_SIZE);
	cr_assert_gt(size, (size_t)VMI_ROM_CALL_TABLE_END);
	cr_assert_eq(vmi_rom_link_address(scan_area, (uint32_t)size, LINEAR_MAP_BASE + VMI_ROM_BASE),
	             VMI_ROM_BASE, "the image says where it was linked");
	add_fake_rom(scan_area, LINEAR_MAP_BASE + VMI_ROM_BASE, VMI_PLATFORM_PROCESS);
	struct vmi_probe_memory memory = probe_memory();
	memory.scan_address = LINEAR_MAP_BASE + VMI_ROM_BASE;
	memset(records, 0xEE, sizeof(records));
	cr_assert_eq(vmi_probe(&memory, &fake_calls, records, &result), 0);
	cr_assert_eq(result.native, 0);
	cr_assert_eq(result.rom_address, LINEAR_MAP_BASE + VMI_ROM_BASE);
	cr_assert_eq(result.bad_records, 0, "%s", result.message);
	expect_records_of_the_image(size, LINEAR_MAP_BASE);
	cr_assert_eq(records[VMI_CALL_Halt].target,
	             LINEAR_MAP_BASE + VMI_ROM_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_Halt));
	cr_assert_eq(records[VMI_CALL_EnableInterrupts].type, VMI_LINK_INLINE);
}

/* A ROM without an ELF header (the crafted ones) names no link address: its records are
 * taken as they are, wherever it was found. */
Test(probe, a_rom_without_an_elf_header_is_not_moved)
{
	craft_rom(scan_area, VMI_ROM_BASE);
	cr_assert_eq(vmi_rom_link_address(scan_area, CRAFTED_UNITS * VMI_ROM_LENGTH_UNIT,
	                                  VMI_ROM_BASE), VMI_ROM_BASE);
	add_fake_rom(scan_area, VMI_ROM_BASE, VMI_PLATFORM_PROCESS);
	cr_assert_eq(probe(), 0);
	expect_records_of(scan_area);
}
