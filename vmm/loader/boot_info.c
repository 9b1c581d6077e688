/* Builds the multiboot information block, memory map, command line and loader name that
 * vmirun hands the kernel in EBX. Pure code, unit-tested and fuzzed on the host. */
#include "loader/boot_info.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmi/multiboot.h"
#include "vmi/process.h"
#include <vmi/pc.h>

#define ROM_END 0x00100000u   /* the ROM area runs up to the start of RAM at 1 MiB */

struct memory_range {
	uint64_t start;
	uint64_t end;
	uint32_t type;
};

__attribute__((format(printf, 2, 3)))
static int fail(char error[BOOT_INFO_ERROR_MAX], const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(error, BOOT_INFO_ERROR_MAX, format, args);
	va_end(args);
	return -1;
}

int boot_info_build(const struct boot_info_request *request, const struct guest_memory *area,
                    uint32_t *info_addr, char error[BOOT_INFO_ERROR_MAX])
{
	error[0] = '\0';
	const char *cmdline = request->cmdline ? request->cmdline : "";
	const char *loader_name = request->loader_name;

	if (request->ram_bytes == 0)
		return fail(error, "guest RAM size is 0");
	if ((uint64_t)VMI_PROCESS_RAM_BASE + request->ram_bytes > VMI_PROCESS_WINDOW_BASE)
		return fail(error, "guest RAM of %u bytes from %#x runs into vmirun's reserved window at %#x",
		            request->ram_bytes, VMI_PROCESS_RAM_BASE, VMI_PROCESS_WINDOW_BASE);
	if (loader_name == NULL)
		return fail(error, "no boot loader name given");
	if ((uint64_t)area->base + area->size > 0x100000000ull)
		return fail(error, "boot info area [%#x, +%#x) wraps past 4 GiB", area->base, area->size);

	/* The platform's physical memory, lowest first. Below 64 KiB a process cannot map. */
	const uint32_t boot_info_end = VMI_PROCESS_BOOT_INFO_BASE + VMI_PROCESS_BOOT_INFO_SIZE;
	const struct memory_range map[] = {
		/* VMI_PROCESS_BOOT_INFO_BASE == VMI_PROCESS_LOW_RAM_BASE: the info block and the
		 * boot stack take the start of low memory. */
		{ VMI_PROCESS_LOW_RAM_BASE, boot_info_end, MULTIBOOT_MEMORY_RESERVED },
		{ boot_info_end, VMI_PROCESS_LOW_RAM_END, MULTIBOOT_MEMORY_AVAILABLE },
		{ VMI_ROM_BASE, ROM_END, MULTIBOOT_MEMORY_RESERVED },
		{ VMI_PROCESS_RAM_BASE, (uint64_t)VMI_PROCESS_RAM_BASE + request->ram_bytes,
		  MULTIBOOT_MEMORY_AVAILABLE },
		{ VMI_PROCESS_WINDOW_BASE, (uint64_t)VMI_PROCESS_WINDOW_BASE + VMI_PROCESS_WINDOW_SIZE,
		  MULTIBOOT_MEMORY_RESERVED },
	};
	const size_t map_count = sizeof map / sizeof map[0];

	const size_t info_offset = 0;
	const size_t map_offset = info_offset + sizeof(struct multiboot_info);
	const size_t map_bytes = map_count * sizeof(struct multiboot_mmap_entry);
	const size_t cmdline_offset = map_offset + map_bytes;
	const size_t cmdline_bytes = strlen(cmdline) + 1;
	const size_t loader_name_bytes = strlen(loader_name) + 1;

	/* The boot stack starts at the top of this same area (VMI_PROCESS_BOOT_STACK_TOP is the
	 * area's end) and grows down, so everything we write stays in the lower half. */
	const size_t usable = area->size / 2;
	if (cmdline_offset > usable)
		return fail(error, "boot info area of %u bytes is too small for the info block and "
		            "memory map (%zu bytes, half the area at most)", area->size, cmdline_offset);
	if (loader_name_bytes + 1 > usable - cmdline_offset)   /* + 1: an empty command line */
		return fail(error, "boot loader name of %zu bytes does not fit in the boot info area",
		            loader_name_bytes - 1);
	const size_t cmdline_room = usable - cmdline_offset - loader_name_bytes;   /* with NUL */
	if (cmdline_bytes > cmdline_room)
		return fail(error, "command line is %zu bytes; at most %zu fit in the boot info area",
		            cmdline_bytes - 1, cmdline_room - 1);
	const size_t loader_name_offset = cmdline_offset + cmdline_bytes;

	uint8_t *host = area->host;
	memset(host, 0, area->size);

	for (size_t i = 0; i < map_count; i++) {
		struct multiboot_mmap_entry entry = {
			.size = sizeof entry - sizeof entry.size,
			.addr = map[i].start,
			.len = map[i].end - map[i].start,
			.type = map[i].type,
		};
		memcpy(host + map_offset + i * sizeof entry, &entry, sizeof entry);
	}
	memcpy(host + cmdline_offset, cmdline, cmdline_bytes);
	memcpy(host + loader_name_offset, loader_name, loader_name_bytes);

	/* Offsets are below area->size / 2 and the area ends by 4 GiB: no overflow here. */
	struct multiboot_info info = {
		.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MEM_MAP |
		         MULTIBOOT_INFO_LOADER_NAME,
		.mem_lower = VMI_PROCESS_LOW_RAM_END / 1024,
		.mem_upper = request->ram_bytes / 1024,
		.cmdline = area->base + (uint32_t)cmdline_offset,
		.mmap_length = (uint32_t)map_bytes,
		.mmap_addr = area->base + (uint32_t)map_offset,
		.boot_loader_name = area->base + (uint32_t)loader_name_offset,
	};
	memcpy(host + info_offset, &info, sizeof info);
	*info_addr = area->base + (uint32_t)info_offset;
	return 0;
}
