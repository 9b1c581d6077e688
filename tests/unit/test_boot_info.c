/* Unit tests of the multiboot information builder (vmm/loader/boot_info.c): the block is
 * decoded back from a buffer standing in for the guest's boot info area. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "loader/boot_info.h"
#include "vmi/multiboot.h"
#include "vmi/process.h"
#include <vmi/pc.h>

#define BINFO_RAM_BYTES   (8u << 20)
#define BINFO_AREA_FILL   0xCC

struct binfo_area {
	uint8_t *buffer;
	struct guest_memory memory;
};

static struct binfo_area binfo_area_new(void)
{
	struct binfo_area area;
	area.buffer = malloc(VMI_PROCESS_BOOT_INFO_SIZE);
	cr_assert_not_null(area.buffer);
	memset(area.buffer, BINFO_AREA_FILL, VMI_PROCESS_BOOT_INFO_SIZE);
	area.memory = (struct guest_memory){
		.host = area.buffer,
		.base = VMI_PROCESS_BOOT_INFO_BASE,
		.size = VMI_PROCESS_BOOT_INFO_SIZE,
	};
	return area;
}

/* Host pointer of guest address `addr`, which must lie `bytes` long inside the area. */
static const uint8_t *binfo_at(const struct binfo_area *area, uint32_t addr, size_t bytes)
{
	cr_assert_geq(addr, area->memory.base, "address %#x below the area", addr);
	cr_assert_leq((uint64_t)addr - area->memory.base + bytes, area->memory.size,
	              "address %#x + %zu past the area", addr, bytes);
	return area->buffer + (addr - area->memory.base);
}

static struct multiboot_info binfo_read_info(const struct binfo_area *area, uint32_t info_addr)
{
	struct multiboot_info info;
	memcpy(&info, binfo_at(area, info_addr, sizeof info), sizeof info);
	return info;
}

/* The string at `addr`, checked to end (with its NUL) in the lower half of the area,
 * clear of the boot stack. */
static const char *binfo_string(const struct binfo_area *area, uint32_t addr)
{
	const char *text = (const char *)binfo_at(area, addr, 1);
	size_t room = area->memory.size / 2 - (addr - area->memory.base);
	cr_assert_lt(strnlen(text, room), room, "string at %#x not terminated in the lower half", addr);
	return text;
}

static int binfo_build(const struct binfo_area *area, const char *cmdline, uint32_t ram_bytes,
                       uint32_t *info_addr, char error[BOOT_INFO_ERROR_MAX])
{
	struct boot_info_request request = {
		.ram_bytes = ram_bytes,
		.cmdline = cmdline,
		.loader_name = VMI_PROCESS_LOADER_NAME,
	};
	return boot_info_build(&request, &area->memory, info_addr, error);
}

static void binfo_expect_error(int result, const char *error, const char *expected)
{
	cr_assert_eq(result, -1, "build should fail with \"%s\"", expected);
	cr_assert_null(strchr(error, '\n'), "error has a newline: \"%s\"", error);
	cr_assert_not_null(strstr(error, expected), "error \"%s\" lacks \"%s\"", error, expected);
}

Test(boot_info, fields_and_flags)
{
	struct binfo_area area = binfo_area_new();
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX];
	cr_assert_eq(binfo_build(&area, "console=ttyS0 quiet", BINFO_RAM_BYTES, &info_addr, error),
	             0, "%s", error);
	cr_assert_eq(info_addr, VMI_PROCESS_BOOT_INFO_BASE);

	struct multiboot_info info = binfo_read_info(&area, info_addr);
	cr_assert_eq(info.flags, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
	                         MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_LOADER_NAME);
	cr_assert_eq(info.mem_lower, 639);
	cr_assert_eq(info.mem_upper, BINFO_RAM_BYTES / 1024);
	cr_assert_eq(info.mods_count, 0);
	cr_assert_eq(info.boot_device, 0);
	cr_assert_eq(info.mmap_length, 5 * sizeof(struct multiboot_mmap_entry));
	free(area.buffer);
}

Test(boot_info, memory_map_decodes)
{
	struct binfo_area area = binfo_area_new();
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX];
	cr_assert_eq(binfo_build(&area, "", BINFO_RAM_BYTES, &info_addr, error), 0, "%s", error);
	struct multiboot_info info = binfo_read_info(&area, info_addr);

	const uint32_t info_end = VMI_PROCESS_BOOT_INFO_BASE + VMI_PROCESS_BOOT_INFO_SIZE;
	const struct { uint64_t addr, len; uint32_t type; } expected[] = {
		{ VMI_PROCESS_LOW_RAM_BASE, info_end - VMI_PROCESS_LOW_RAM_BASE, MULTIBOOT_MEMORY_RESERVED },
		{ info_end, VMI_PROCESS_LOW_RAM_END - info_end, MULTIBOOT_MEMORY_AVAILABLE },
		{ VMI_ROM_BASE, 0x100000 - VMI_ROM_BASE, MULTIBOOT_MEMORY_RESERVED },
		{ VMI_PROCESS_RAM_BASE, BINFO_RAM_BYTES, MULTIBOOT_MEMORY_AVAILABLE },
		{ VMI_PROCESS_WINDOW_BASE, VMI_PROCESS_WINDOW_SIZE, MULTIBOOT_MEMORY_RESERVED },
	};
	const size_t expected_count = sizeof expected / sizeof expected[0];

	/* Walk as a kernel does: each entry's size field excludes itself. */
	const uint8_t *map = binfo_at(&area, info.mmap_addr, info.mmap_length);
	size_t count = 0;
	for (uint32_t offset = 0; offset < info.mmap_length; count++) {
		struct multiboot_mmap_entry entry;
		cr_assert_leq(offset + sizeof entry, info.mmap_length, "entry %zu overruns the map", count);
		memcpy(&entry, map + offset, sizeof entry);
		cr_assert_lt(count, expected_count, "more entries than expected");
		cr_assert_eq(entry.size, 20, "entry %zu size", count);
		cr_assert_eq(entry.addr, expected[count].addr, "entry %zu addr %#llx", count,
		             (unsigned long long)entry.addr);
		cr_assert_eq(entry.len, expected[count].len, "entry %zu len %#llx", count,
		             (unsigned long long)entry.len);
		cr_assert_eq(entry.type, expected[count].type, "entry %zu type", count);
		offset += entry.size + 4;
	}
	cr_assert_eq(count, expected_count);
	cr_assert_eq(VMI_PROCESS_BOOT_INFO_BASE, VMI_PROCESS_LOW_RAM_BASE,
	             "the first entry assumes the info area starts low memory");
	free(area.buffer);
}

Test(boot_info, strings_are_where_the_info_says)
{
	struct binfo_area area = binfo_area_new();
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX];
	const char *cmdline = "root=/dev/vda console=ttyS0,115200";
	cr_assert_eq(binfo_build(&area, cmdline, BINFO_RAM_BYTES, &info_addr, error), 0, "%s", error);
	struct multiboot_info info = binfo_read_info(&area, info_addr);

	cr_assert_str_eq(binfo_string(&area, info.cmdline), cmdline);
	cr_assert_str_eq(binfo_string(&area, info.boot_loader_name), VMI_PROCESS_LOADER_NAME);

	/* Nothing overlaps: info, then map, then command line, then loader name. */
	cr_assert_geq(info.mmap_addr, info_addr + sizeof info);
	cr_assert_geq(info.cmdline, info.mmap_addr + info.mmap_length);
	cr_assert_geq(info.boot_loader_name, info.cmdline + strlen(cmdline) + 1);
	free(area.buffer);
}

Test(boot_info, area_is_zeroed_beyond_what_is_written)
{
	struct binfo_area area = binfo_area_new();
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX];
	cr_assert_eq(binfo_build(&area, "x", BINFO_RAM_BYTES, &info_addr, error), 0, "%s", error);
	struct multiboot_info info = binfo_read_info(&area, info_addr);

	size_t used = info.boot_loader_name - area.memory.base + strlen(VMI_PROCESS_LOADER_NAME) + 1;
	for (size_t i = used; i < area.memory.size; i++)
		cr_assert_eq(area.buffer[i], 0, "byte %#zx of the area not zeroed", i);
	free(area.buffer);
}

Test(boot_info, null_cmdline_is_empty)
{
	struct binfo_area area = binfo_area_new();
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX];
	cr_assert_eq(binfo_build(&area, NULL, BINFO_RAM_BYTES, &info_addr, error), 0, "%s", error);
	struct multiboot_info info = binfo_read_info(&area, info_addr);
	cr_assert(info.flags & MULTIBOOT_INFO_CMDLINE);
	cr_assert_str_eq(binfo_string(&area, info.cmdline), "");
	cr_assert_str_eq(binfo_string(&area, info.boot_loader_name), VMI_PROCESS_LOADER_NAME);
	free(area.buffer);
}

/* The longest command line that fits: everything in the lower half of the area. */
static size_t binfo_longest_cmdline(void)
{
	size_t fixed = sizeof(struct multiboot_info) + 5 * sizeof(struct multiboot_mmap_entry);
	return VMI_PROCESS_BOOT_INFO_SIZE / 2 - fixed - 1 - (strlen(VMI_PROCESS_LOADER_NAME) + 1);
}

Test(boot_info, longest_cmdline_fits_in_lower_half)
{
	struct binfo_area area = binfo_area_new();
	size_t length = binfo_longest_cmdline();
	char *cmdline = malloc(length + 1);
	cr_assert_not_null(cmdline);
	memset(cmdline, 'a', length);
	cmdline[length] = '\0';

	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX];
	cr_assert_eq(binfo_build(&area, cmdline, BINFO_RAM_BYTES, &info_addr, error), 0, "%s", error);
	struct multiboot_info info = binfo_read_info(&area, info_addr);
	cr_assert_str_eq(binfo_string(&area, info.cmdline), cmdline);
	cr_assert_str_eq(binfo_string(&area, info.boot_loader_name), VMI_PROCESS_LOADER_NAME);
	/* The upper half, where the boot stack lives, is untouched apart from zeroing. */
	for (size_t i = area.memory.size / 2; i < area.memory.size; i++)
		cr_assert_eq(area.buffer[i], 0);
	free(cmdline);
	free(area.buffer);
}

Test(boot_info, too_long_cmdline_is_refused)
{
	struct binfo_area area = binfo_area_new();
	size_t length = binfo_longest_cmdline() + 1;
	char *cmdline = malloc(length + 1);
	cr_assert_not_null(cmdline);
	memset(cmdline, 'a', length);
	cmdline[length] = '\0';

	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX] = "";
	int result = binfo_build(&area, cmdline, BINFO_RAM_BYTES, &info_addr, error);
	binfo_expect_error(result, error, "command line is");
	cr_assert_not_null(strstr(error, "fit in the boot info area"), "%s", error);
	free(cmdline);

	cmdline = malloc(100000);
	cr_assert_not_null(cmdline);
	memset(cmdline, 'b', 99999);
	cmdline[99999] = '\0';
	result = binfo_build(&area, cmdline, BINFO_RAM_BYTES, &info_addr, error);
	binfo_expect_error(result, error, "command line is 99999 bytes");
	free(cmdline);
	free(area.buffer);
}

Test(boot_info, zero_ram_is_refused)
{
	struct binfo_area area = binfo_area_new();
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX] = "";
	binfo_expect_error(binfo_build(&area, "", 0, &info_addr, error), error, "guest RAM size is 0");
	free(area.buffer);
}

Test(boot_info, ram_running_into_window_is_refused)
{
	struct binfo_area area = binfo_area_new();
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX] = "";
	uint32_t too_much = VMI_PROCESS_WINDOW_BASE - VMI_PROCESS_RAM_BASE + 1;
	binfo_expect_error(binfo_build(&area, "", too_much, &info_addr, error), error,
	                   "runs into vmirun's reserved window");
	cr_assert_eq(binfo_build(&area, "", too_much - 1, &info_addr, error), 0, "%s", error);
	free(area.buffer);
}

Test(boot_info, null_loader_name_is_refused)
{
	struct binfo_area area = binfo_area_new();
	struct boot_info_request request = { .ram_bytes = BINFO_RAM_BYTES, .cmdline = "" };
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX] = "";
	binfo_expect_error(boot_info_build(&request, &area.memory, &info_addr, error), error,
	                   "no boot loader name");
	free(area.buffer);
}

Test(boot_info, tiny_area_is_refused)
{
	struct binfo_area area = binfo_area_new();
	area.memory.size = 256;   /* half of it cannot hold the info block and map */
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX] = "";
	binfo_expect_error(binfo_build(&area, "", BINFO_RAM_BYTES, &info_addr, error), error,
	                   "too small");
	free(area.buffer);
}

Test(boot_info, too_long_loader_name_is_refused)
{
	struct binfo_area area = binfo_area_new();
	char *name = malloc(VMI_PROCESS_BOOT_INFO_SIZE);
	cr_assert_not_null(name);
	memset(name, 'n', VMI_PROCESS_BOOT_INFO_SIZE - 1);
	name[VMI_PROCESS_BOOT_INFO_SIZE - 1] = '\0';
	struct boot_info_request request = { .ram_bytes = BINFO_RAM_BYTES, .cmdline = NULL,
	                                     .loader_name = name };
	uint32_t info_addr = 0;
	char error[BOOT_INFO_ERROR_MAX] = "";
	binfo_expect_error(boot_info_build(&request, &area.memory, &info_addr, error), error,
	                   "boot loader name of 65535 bytes does not fit");
	free(name);
	free(area.buffer);
}
