/* libFuzzer target for the kernel loader: parses (and, when accepted, loads) the input as a
 * kernel file, and builds boot info with a command line made from the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/boot_info.h"
#include "loader/kernel_image.h"
#include "vmi/multiboot.h"
#include "vmi/process.h"
#include "fuzz_checks.h"

static uint8_t fuzz_ram[FUZZ_RAM_SIZE];
static uint8_t fuzz_boot_area[VMI_PROCESS_BOOT_INFO_SIZE];
static char fuzz_cmdline[FUZZ_CMDLINE_MAX + 1];

/* What an accepted image promises: segments inside RAM and apart, entry inside one. */
static void check_accepted_image(const struct kernel_image *image, size_t size,
                                 const struct guest_memory *ram)
{
	if (image->segment_count == 0 || image->segment_count > KERNEL_IMAGE_MAX_SEGMENTS)
		abort();
	int entry_loaded = 0;
	for (unsigned i = 0; i < image->segment_count; i++) {
		const struct kernel_segment *seg = &image->segments[i];
		uint64_t end = (uint64_t)seg->paddr + seg->memsz;
		if (seg->filesz > seg->memsz || seg->paddr < ram->base ||
		    end > (uint64_t)ram->base + ram->size)
			abort();
		if (seg->filesz > 0 && (uint64_t)seg->file_offset + seg->filesz > size)
			abort();
		if (image->entry >= seg->paddr && image->entry < end)
			entry_loaded = 1;
		for (unsigned j = i + 1; j < image->segment_count; j++) {
			const struct kernel_segment *other = &image->segments[j];
			if (seg->paddr < (uint64_t)other->paddr + other->memsz && other->paddr < end)
				abort();
		}
	}
	if (!entry_loaded)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct guest_memory ram = { .host = fuzz_ram, .base = FUZZ_RAM_BASE, .size = FUZZ_RAM_SIZE };
	struct kernel_image image;
	char error[KERNEL_IMAGE_ERROR_MAX];
	if (kernel_image_parse(data, size, &ram, &image, error) == 0) {
		check_accepted_image(&image, size, &ram);
		kernel_image_load(&image, data, &ram);
	} else {
		fuzz_check_one_line(error, sizeof error);
	}

	/* Command line: the input after its first two bytes, repeated to the length those
	 * two bytes give (embedded NULs just end it early). */
	size_t cmdline_length = 0;
	if (size > 2) {
		const uint8_t *source = data + 2;
		size_t source_size = size - 2;
		cmdline_length = (size_t)data[0] | (size_t)data[1] << 8;
		for (size_t i = 0; i < cmdline_length; i++)
			fuzz_cmdline[i] = (char)source[i % source_size];
	}
	fuzz_cmdline[cmdline_length] = '\0';

	/* RAM size from the last four bytes, so 0 and sizes running into the window are
	 * reachable; a zero tail (common in seeds) gives the usual 8 MiB. */
	uint32_t ram_bytes = 0;
	if (size >= 4)
		memcpy(&ram_bytes, data + size - 4, sizeof ram_bytes);
	ram_bytes ^= FUZZ_RAM_SIZE;

	const struct guest_memory area = {
		.host = fuzz_boot_area,
		.base = VMI_PROCESS_BOOT_INFO_BASE,
		.size = sizeof fuzz_boot_area,
	};
	const struct boot_info_request request = {
		.ram_bytes = ram_bytes,
		.cmdline = size % 3 == 0 ? NULL : fuzz_cmdline,
		.loader_name = VMI_PROCESS_LOADER_NAME,
	};
	uint32_t info_addr;
	char boot_error[BOOT_INFO_ERROR_MAX];
	if (boot_info_build(&request, &area, &info_addr, boot_error) == 0) {
		struct multiboot_info info;
		memcpy(&info, fuzz_boot_area + (info_addr - area.base), sizeof info);
		const char *expected = request.cmdline ? request.cmdline : "";
		size_t cmdline_offset = info.cmdline - area.base;
		if (info_addr != area.base || cmdline_offset + strlen(expected) >= area.size / 2 ||
		    strcmp((const char *)fuzz_boot_area + cmdline_offset, expected) != 0)
			abort();
	} else {
		fuzz_check_one_line(boot_error, sizeof boot_error);
	}
	return 0;
}
