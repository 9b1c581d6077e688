/* Linux kernels through the x86 32-bit boot protocol (Documentation/x86/boot.rst): checks
 * an untrusted bzImage or vmlinux, loads it, places the initrd and writes the zero page.
 * Fuzzed; every read of the file is bounds-checked. */
#include "loader/linux_boot.h"

#include <elf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmi/process.h"
#include <vmi/pc.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the loader assumes a little-endian host");

#define FOUR_GIB   0x100000000ull
#define PAGE_BYTES 4096u

/* init_size and pref_address, which say where a bzImage decompresses itself and how much
 * room it needs there, came with 2.10 (Linux 2.6.31). */
#define OLDEST_PROTOCOL LINUX_PROTOCOL(2, 10)
#define SETUP_HEADER_MIN_END (offsetof(struct linux_setup_header, init_size) + \
                              sizeof(uint32_t) + LINUX_SETUP_HEADER_OFFSET)

/* A vmlinux has no setup header; the one vmirun makes up for it says what a bzImage of
 * the same kernel would: x86's command line holds 2048 bytes with its NUL (head_32.S copies
 * that many), and an initrd may lie anywhere below 2 GiB (header.S). */
#define VMLINUX_CMDLINE_MAX      2047u
#define VMLINUX_INITRD_ADDR_MAX  0x7FFFFFFFu

/* The zero page starts the boot info area; the command line follows it, in the lower half
 * (the boot stack grows down from the area's top, as for multiboot kernels). */
#define BOOT_PARAMS_OFFSET 0u
#define CMDLINE_OFFSET     ((uint32_t)sizeof(struct linux_boot_params))

#define LINUX_NOTE_NAME "Linux"

__attribute__((format(printf, 2, 3)))
static int fail(char error[LINUX_BOOT_ERROR_MAX], const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(error, LINUX_BOOT_ERROR_MAX, format, args);
	va_end(args);
	return -1;
}

/* Note names and descriptors are padded to 4 bytes; in 64 bits, so no size wraps. */
static uint64_t padded4(uint32_t bytes)
{
	return ((uint64_t)bytes + 3) & ~(uint64_t)3;
}

/* Whether one PT_NOTE segment's bytes hold a note owned by "Linux" (every vmlinux since
 * 4.18 carries its build salt in one). */
static bool notes_name_linux(const uint8_t *notes, uint64_t bytes)
{
	uint64_t at = 0;
	while (at + 12 <= bytes) {
		uint32_t name_size, desc_size;
		memcpy(&name_size, notes + at, 4);
		memcpy(&desc_size, notes + at + 4, 4);
		uint64_t name_at = at + 12;
		if (name_at + name_size > bytes)
			return false;
		if (name_size == sizeof LINUX_NOTE_NAME &&
		    memcmp(notes + name_at, LINUX_NOTE_NAME, sizeof LINUX_NOTE_NAME) == 0)
			return true;
		at = name_at + padded4(name_size) + padded4(desc_size);
	}
	return false;
}

static bool has_linux_note(const uint8_t *file, size_t size)
{
	Elf32_Ehdr header;
	if (size < sizeof header)
		return false;
	memcpy(&header, file, sizeof header);
	if (header.e_ident[EI_CLASS] != ELFCLASS32 || header.e_phentsize != sizeof(Elf32_Phdr) ||
	    (uint64_t)header.e_phoff + (uint64_t)header.e_phnum * sizeof(Elf32_Phdr) > size)
		return false;
	for (unsigned i = 0; i < header.e_phnum; i++) {
		Elf32_Phdr phdr;
		memcpy(&phdr, file + header.e_phoff + (size_t)i * sizeof phdr, sizeof phdr);
		if (phdr.p_type != PT_NOTE || (uint64_t)phdr.p_offset + phdr.p_filesz > size)
			continue;
		if (notes_name_linux(file + phdr.p_offset, phdr.p_filesz))
			return true;
	}
	return false;
}

enum linux_image_format linux_image_recognise(const uint8_t *file, size_t size)
{
	if (size >= SELFMAG && memcmp(file, ELFMAG, SELFMAG) == 0)
		return !kernel_image_has_multiboot_header(file, size) && has_linux_note(file, size)
		       ? LINUX_IMAGE_VMLINUX : LINUX_IMAGE_NONE;
	uint32_t magic;
	if (size < LINUX_SETUP_HEADER_JUMP_BASE + sizeof magic)
		return LINUX_IMAGE_NONE;
	memcpy(&magic, file + LINUX_SETUP_HEADER_JUMP_BASE, sizeof magic);
	return magic == LINUX_SETUP_HEADER_MAGIC ? LINUX_IMAGE_BZIMAGE : LINUX_IMAGE_NONE;
}

/* [start, start + bytes) lies inside guest RAM. */
static bool inside_ram(uint64_t start, uint64_t bytes, const struct guest_memory *ram)
{
	return start >= ram->base && start < FOUR_GIB &&
	       start + bytes <= (uint64_t)ram->base + ram->size;
}

static int check_setup_header(const struct linux_setup_header *hdr, size_t size, uint32_t *end,
                              char error[LINUX_BOOT_ERROR_MAX])
{
	if (hdr->boot_flag != LINUX_BOOT_FLAG)
		return fail(error, "bzImage: boot_flag at 0x1fe is %#x, not %#x",
		            hdr->boot_flag, LINUX_BOOT_FLAG);
	if (hdr->version < OLDEST_PROTOCOL)
		return fail(error, "bzImage: boot protocol %u.%02u is older than 2.10 (Linux 2.6.31), "
		            "the oldest vmirun loads", hdr->version >> 8, hdr->version & 0xFF);
	*end = LINUX_SETUP_HEADER_JUMP_BASE + hdr->jump[1];
	if (*end < SETUP_HEADER_MIN_END)
		return fail(error, "bzImage: the setup header ends at %#x, before its init_size "
		            "field (which protocol 2.10 has at 0x260)", *end);
	if (*end > LINUX_SETUP_HEADER_MAX_END)
		return fail(error, "bzImage: the setup header ends at %#x, past %#x where the zero "
		            "page's other fields begin", *end, LINUX_SETUP_HEADER_MAX_END);
	if (*end > size)
		return fail(error, "bzImage: the setup header runs to %#x, past the end of the "
		            "%zu-byte file", *end, size);
	if (hdr->version >= LINUX_PROTOCOL(2, 12) && (hdr->xloadflags & LINUX_XLOADFLAGS_KERNEL_64))
		return fail(error, "bzImage: a 64-bit kernel (xloadflags has XLF_KERNEL_64); vmirun "
		            "runs i386 kernels");
	if (!(hdr->loadflags & LINUX_LOADFLAGS_LOADED_HIGH))
		return fail(error, "bzImage: loadflags say zImage (protected-mode code at 64 KiB); "
		            "vmirun loads bzImages only");
	return 0;
}

/* Where a bzImage decompresses itself: pref_address unless it is relocatable; then the
 * load address aligned up, never below pref_address (the 32-bit decompressor does not go
 * lower than LOAD_PHYSICAL_ADDR, which pref_address is). */
static int runtime_start(const struct linux_setup_header *hdr, uint64_t *start,
                         char error[LINUX_BOOT_ERROR_MAX])
{
	*start = hdr->pref_address;
	if (hdr->relocatable_kernel) {
		uint32_t alignment = hdr->kernel_alignment;
		if (alignment == 0 || (alignment & (alignment - 1)) != 0)
			return fail(error, "bzImage: kernel_alignment %#x is not a power of two", alignment);
		uint64_t aligned = ((uint64_t)LINUX_BZIMAGE_LOAD_ADDRESS + alignment - 1) &
		                   ~(uint64_t)(alignment - 1);
		if (aligned > *start)
			*start = aligned;
	}
	return 0;
}

static int parse_bzimage(const uint8_t *file, size_t size, const struct guest_memory *ram,
                         struct linux_image *image, char error[LINUX_BOOT_ERROR_MAX])
{
	if (size < SETUP_HEADER_MIN_END)
		return fail(error, "bzImage: the file is %zu bytes, too short for a setup header of "
		            "protocol 2.10 (%#zx bytes)", size, (size_t)SETUP_HEADER_MIN_END);
	struct linux_setup_header hdr;
	memcpy(&hdr, file + LINUX_SETUP_HEADER_OFFSET, sizeof hdr);
	uint32_t header_end = 0;
	if (check_setup_header(&hdr, size, &header_end, error) < 0)
		return -1;

	uint32_t setup_sects = hdr.setup_sects ? hdr.setup_sects : LINUX_SETUP_SECTS_DEFAULT;
	uint64_t code_offset = (uint64_t)(setup_sects + 1) * LINUX_SETUP_SECTOR_BYTES;
	if (code_offset >= size)
		return fail(error, "bzImage: the real-mode setup (%u sectors after the boot sector) "
		            "takes the whole %zu-byte file: no protected-mode kernel follows",
		            setup_sects, size);
	uint64_t code_bytes = size - code_offset;
	uint64_t code_end = LINUX_BZIMAGE_LOAD_ADDRESS + code_bytes;
	if (!inside_ram(LINUX_BZIMAGE_LOAD_ADDRESS, code_bytes, ram))
		return fail(error, "bzImage: its protected-mode kernel of %llu bytes at %#x does not "
		            "fit in guest RAM [%#x, %#llx): raise --mem",
		            (unsigned long long)code_bytes, LINUX_BZIMAGE_LOAD_ADDRESS, ram->base,
		            (unsigned long long)ram->base + ram->size);
	if (hdr.code32_start < LINUX_BZIMAGE_LOAD_ADDRESS || hdr.code32_start >= code_end)
		return fail(error, "bzImage: code32_start %#x is outside its protected-mode kernel, "
		            "loaded at [%#x, %#llx)", hdr.code32_start, LINUX_BZIMAGE_LOAD_ADDRESS,
		            (unsigned long long)code_end);

	uint64_t start;
	if (runtime_start(&hdr, &start, error) < 0)
		return -1;
	if (!inside_ram(start, hdr.init_size, ram))
		return fail(error, "bzImage: the kernel decompresses itself into [%#llx, %#llx) "
		            "(pref_address and init_size), outside guest RAM [%#x, %#llx): raise --mem",
		            (unsigned long long)start, (unsigned long long)start + hdr.init_size,
		            ram->base, (unsigned long long)ram->base + ram->size);

	image->format = LINUX_IMAGE_BZIMAGE;
	image->entry = hdr.code32_start;
	image->setup_header_bytes = header_end - LINUX_SETUP_HEADER_OFFSET;
	memcpy(image->setup_header, file + LINUX_SETUP_HEADER_OFFSET, image->setup_header_bytes);
	image->cmdline_max = hdr.cmdline_size;
	image->initrd_addr_max = hdr.initrd_addr_max;
	image->protected_mode_offset = (uint32_t)code_offset;
	image->protected_mode_bytes = (uint32_t)code_bytes;
	/* Both ranges are inside RAM, so below 4 GiB. */
	uint64_t end = start + hdr.init_size;
	image->footprint_start = start < LINUX_BZIMAGE_LOAD_ADDRESS ? (uint32_t)start
	                                                            : LINUX_BZIMAGE_LOAD_ADDRESS;
	image->footprint_end = (uint32_t)(end > code_end ? end : code_end);
	return 0;
}

/* The setup header a vmlinux lacks, as its bzImage would carry it (see above). */
static void make_up_setup_header(struct linux_image *image)
{
	struct linux_setup_header hdr;
	memset(&hdr, 0, sizeof hdr);
	hdr.boot_flag = LINUX_BOOT_FLAG;
	hdr.header = LINUX_SETUP_HEADER_MAGIC;
	hdr.version = OLDEST_PROTOCOL;
	hdr.loadflags = LINUX_LOADFLAGS_LOADED_HIGH;
	hdr.code32_start = image->entry;
	hdr.initrd_addr_max = VMLINUX_INITRD_ADDR_MAX;
	hdr.cmdline_size = VMLINUX_CMDLINE_MAX;
	hdr.jump[1] = (uint8_t)(SETUP_HEADER_MIN_END - LINUX_SETUP_HEADER_JUMP_BASE);
	memcpy(image->setup_header, &hdr, sizeof hdr);
	image->setup_header_bytes = sizeof hdr;
	image->cmdline_max = VMLINUX_CMDLINE_MAX;
	image->initrd_addr_max = VMLINUX_INITRD_ADDR_MAX;
}

static int parse_vmlinux(const uint8_t *file, size_t size, const struct guest_memory *ram,
                         struct linux_image *image, char error[LINUX_BOOT_ERROR_MAX])
{
	char elf_error[KERNEL_IMAGE_ERROR_MAX];
	if (kernel_image_parse_elf(file, size, ram, &image->elf, elf_error) < 0)
		return fail(error, "vmlinux: %s", elf_error);
	image->format = LINUX_IMAGE_VMLINUX;
	image->entry = image->elf.entry;
	image->footprint_start = image->elf.load_start;
	image->footprint_end = image->elf.load_end;
	make_up_setup_header(image);
	return 0;
}

int linux_image_parse(const uint8_t *file, size_t size, const struct guest_memory *ram,
                      struct linux_image *image, char error[LINUX_BOOT_ERROR_MAX])
{
	memset(image, 0, sizeof *image);
	error[0] = '\0';
	switch (linux_image_recognise(file, size)) {
	case LINUX_IMAGE_BZIMAGE:
		return parse_bzimage(file, size, ram, image, error);
	case LINUX_IMAGE_VMLINUX:
		return parse_vmlinux(file, size, ram, image, error);
	case LINUX_IMAGE_NONE:
		break;
	}
	return fail(error, "not a Linux kernel: neither a bzImage (\"HdrS\" at 0x202) nor an i386 "
	            "ELF with a \"Linux\" note and no multiboot header");
}

void linux_image_load(const struct linux_image *image, const uint8_t *file,
                      const struct guest_memory *ram)
{
	if (image->format == LINUX_IMAGE_VMLINUX) {
		kernel_image_load(&image->elf, file, ram);
		return;
	}
	memcpy(ram->host + (LINUX_BZIMAGE_LOAD_ADDRESS - ram->base),
	       file + image->protected_mode_offset, image->protected_mode_bytes);
}

int linux_initrd_place(const struct linux_image *image, const struct guest_memory *ram,
                       uint32_t initrd_bytes, uint32_t *address,
                       char error[LINUX_BOOT_ERROR_MAX])
{
	uint64_t top = (uint64_t)ram->base + ram->size;
	if ((uint64_t)image->initrd_addr_max + 1 < top)
		top = (uint64_t)image->initrd_addr_max + 1;
	top &= ~(uint64_t)(PAGE_BYTES - 1);
	uint64_t start = top >= initrd_bytes ? (top - initrd_bytes) & ~(uint64_t)(PAGE_BYTES - 1) : 0;
	if (initrd_bytes == 0 || start < image->footprint_end)
		return fail(error, "initrd of %u bytes does not fit in guest RAM between the kernel's "
		            "end at %#x and %#llx (the end of RAM or the kernel's initrd_addr_max): %s",
		            initrd_bytes, image->footprint_end, (unsigned long long)top,
		            initrd_bytes == 0 ? "it is empty" : "raise --mem");
	*address = (uint32_t)start;
	return 0;
}

/* The process platform's memory, lowest first, as e820 says it: low memory from 64 KiB
 * (a process cannot map below; Linux reserves the first 64 KiB anyway), the ROM area up to
 * RAM, RAM from 1 MiB, vmirun's window. Returns the number of entries. */
static unsigned fill_e820(struct linux_e820_entry *table, uint32_t ram_bytes)
{
	const struct linux_e820_entry map[] = {
		{ VMI_PROCESS_LOW_RAM_BASE, VMI_PROCESS_LOW_RAM_END - VMI_PROCESS_LOW_RAM_BASE,
		  LINUX_E820_RAM },
		{ VMI_ROM_BASE, VMI_PROCESS_RAM_BASE - VMI_ROM_BASE, LINUX_E820_RESERVED },
		{ VMI_PROCESS_RAM_BASE, ram_bytes, LINUX_E820_RAM },
		{ VMI_PROCESS_WINDOW_BASE, VMI_PROCESS_WINDOW_SIZE, LINUX_E820_RESERVED },
	};
	memcpy(table, map, sizeof map);
	return sizeof map / sizeof map[0];
}

int linux_boot_params_build(const struct linux_image *image,
                            const struct linux_boot_request *request,
                            const struct guest_memory *area, uint32_t *boot_params_address,
                            char error[LINUX_BOOT_ERROR_MAX])
{
	error[0] = '\0';
	const char *cmdline = request->cmdline ? request->cmdline : "";
	size_t cmdline_bytes = strlen(cmdline) + 1;

	if (request->ram_bytes == 0)
		return fail(error, "guest RAM size is 0");
	if ((uint64_t)VMI_PROCESS_RAM_BASE + request->ram_bytes > VMI_PROCESS_WINDOW_BASE)
		return fail(error, "guest RAM of %u bytes from %#x runs into vmirun's reserved window "
		            "at %#x", request->ram_bytes, VMI_PROCESS_RAM_BASE, VMI_PROCESS_WINDOW_BASE);
	if ((uint64_t)area->base + area->size > FOUR_GIB)
		return fail(error, "boot info area [%#x, +%#x) wraps past 4 GiB", area->base, area->size);
	if (area->size / 2 < CMDLINE_OFFSET + 1)
		return fail(error, "boot info area of %u bytes is too small for the zero page "
		            "(%u bytes, half the area at most)", area->size, CMDLINE_OFFSET);
	if (cmdline_bytes - 1 > image->cmdline_max)
		return fail(error, "command line is %zu bytes; this kernel takes at most %u "
		            "(its cmdline_size)", cmdline_bytes - 1, image->cmdline_max);
	size_t cmdline_room = area->size / 2 - CMDLINE_OFFSET;
	if (cmdline_bytes > cmdline_room)
		return fail(error, "command line is %zu bytes; at most %zu fit in the boot info area",
		            cmdline_bytes - 1, cmdline_room - 1);

	struct linux_boot_params params;
	memset(&params, 0, sizeof params);
	memcpy((uint8_t *)&params + LINUX_SETUP_HEADER_OFFSET, image->setup_header,
	       image->setup_header_bytes);
	/* Non-zero, or the kernel ignores the initrd; 0xFF: no assigned boot loader id. */
	params.hdr.type_of_loader = LINUX_TYPE_OF_LOADER_UNDEFINED;
	/* No real-mode setup runs, so no heap for it (CAN_USE_HEAP), and the kernel prints
	 * what it prints (QUIET_FLAG is for boot loaders that say so). */
	params.hdr.loadflags &= LINUX_LOADFLAGS_LOADED_HIGH;
	params.hdr.cmd_line_ptr = area->base + CMDLINE_OFFSET;
	params.hdr.ramdisk_image = request->initrd_bytes ? request->initrd_address : 0;
	params.hdr.ramdisk_size = request->initrd_bytes;
	params.e820_entries = (uint8_t)fill_e820(params.e820_table, request->ram_bytes);

	memset(area->host, 0, area->size);
	memcpy(area->host + BOOT_PARAMS_OFFSET, &params, sizeof params);
	memcpy(area->host + CMDLINE_OFFSET, cmdline, cmdline_bytes);
	*boot_params_address = area->base + BOOT_PARAMS_OFFSET;
	return 0;
}
