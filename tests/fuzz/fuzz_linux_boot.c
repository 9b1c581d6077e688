/* libFuzzer target for the Linux loader: parses (and, when accepted, loads) the input as a
 * bzImage or vmlinux, places an initrd whose size the input gives, and builds the zero page
 * with a command line made from the input. Checks what an accepted image promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/linux_boot.h"
#include "vmi/process.h"
#include "fuzz_checks.h"

#define PAGE_BYTES 4096u

static uint8_t fuzz_ram[FUZZ_RAM_SIZE];
static uint8_t fuzz_boot_area[VMI_PROCESS_BOOT_INFO_SIZE];
static char fuzz_cmdline[FUZZ_CMDLINE_MAX + 1];

static int inside(uint64_t start, uint64_t bytes, uint64_t from, uint64_t to)
{
	return start >= from && start + bytes <= to;
}

/* What an accepted image promises: its code, its entry and its footprint inside RAM. */
static void check_accepted_image(const struct linux_image *image, size_t size)
{
	const uint64_t ram_end = (uint64_t)FUZZ_RAM_BASE + FUZZ_RAM_SIZE;
	if (image->setup_header_bytes > sizeof image->setup_header ||
	    image->footprint_start > image->footprint_end ||
	    !inside(image->footprint_start, image->footprint_end - image->footprint_start,
	            FUZZ_RAM_BASE, ram_end) ||
	    image->entry < image->footprint_start || image->entry >= image->footprint_end)
		abort();
	if (image->format == LINUX_IMAGE_BZIMAGE &&
	    ((uint64_t)image->protected_mode_offset + image->protected_mode_bytes != size ||
	     !inside(LINUX_BZIMAGE_LOAD_ADDRESS, image->protected_mode_bytes, FUZZ_RAM_BASE, ram_end) ||
	     image->entry - LINUX_BZIMAGE_LOAD_ADDRESS >= image->protected_mode_bytes))
		abort();
	if (image->format != LINUX_IMAGE_BZIMAGE && image->format != LINUX_IMAGE_VMLINUX)
		abort();
}

static void place_initrd(const struct linux_image *image, const struct guest_memory *ram,
                         uint32_t bytes)
{
	uint32_t address;
	char error[LINUX_BOOT_ERROR_MAX];
	if (linux_initrd_place(image, ram, bytes, &address, error) != 0) {
		fuzz_check_one_line(error, sizeof error);
		return;
	}
	if (bytes == 0 || address % PAGE_BYTES != 0 || address < image->footprint_end ||
	    !inside(address, bytes, FUZZ_RAM_BASE, (uint64_t)FUZZ_RAM_BASE + FUZZ_RAM_SIZE) ||
	    (uint64_t)address + bytes > (uint64_t)image->initrd_addr_max + 1)
		abort();
}

static void build_zero_page(const struct linux_image *image, const uint8_t *data, size_t size)
{
	/* Command line: the input after its first two bytes, repeated to the length those two
	 * bytes give (embedded NULs just end it early). */
	size_t cmdline_length = 0;
	if (size > 2) {
		cmdline_length = (size_t)data[0] | (size_t)data[1] << 8;
		for (size_t i = 0; i < cmdline_length; i++)
			fuzz_cmdline[i] = (char)data[2 + i % (size - 2)];
	}
	fuzz_cmdline[cmdline_length] = '\0';

	const struct guest_memory area = {
		.host = fuzz_boot_area, .base = VMI_PROCESS_BOOT_INFO_BASE, .size = sizeof fuzz_boot_area,
	};
	const struct linux_boot_request request = {
		.ram_bytes = size % 5 == 0 ? 0 : FUZZ_RAM_SIZE,
		.cmdline = size % 3 == 0 ? NULL : fuzz_cmdline,
		.initrd_address = FUZZ_RAM_BASE,
		.initrd_bytes = size % 2 ? PAGE_BYTES : 0,
	};
	uint32_t address;
	char error[LINUX_BOOT_ERROR_MAX];
	if (linux_boot_params_build(image, &request, &area, &address, error) != 0) {
		fuzz_check_one_line(error, sizeof error);
		return;
	}
	struct linux_boot_params params;
	memcpy(&params, fuzz_boot_area, sizeof params);
	const char *expected = request.cmdline ? request.cmdline : "";
	uint32_t cmdline_offset = params.hdr.cmd_line_ptr - area.base;
	if (address != area.base || params.hdr.type_of_loader == 0 || params.sentinel != 0 ||
	    params.e820_entries == 0 || strlen(expected) > image->cmdline_max ||
	    cmdline_offset < sizeof params || cmdline_offset + strlen(expected) >= area.size / 2 ||
	    strcmp((const char *)fuzz_boot_area + cmdline_offset, expected) != 0 ||
	    params.hdr.ramdisk_size != request.initrd_bytes)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct guest_memory ram = { .host = fuzz_ram, .base = FUZZ_RAM_BASE, .size = FUZZ_RAM_SIZE };
	struct linux_image image;
	char error[LINUX_BOOT_ERROR_MAX];

	if (linux_image_parse(data, size, &ram, &image, error) != 0) {
		fuzz_check_one_line(error, sizeof error);
		return 0;
	}
	check_accepted_image(&image, size);
	linux_image_load(&image, data, &ram);

	/* Initrd size from the last four bytes, so 0, sizes past RAM and the fits between
	 * are reachable. */
	uint32_t initrd_bytes = 0;
	if (size >= 4)
		memcpy(&initrd_bytes, data + size - 4, sizeof initrd_bytes);
	place_initrd(&image, &ram, initrd_bytes);
	build_zero_page(&image, data, size);
	return 0;
}
