/* Linux kernels through the x86 32-bit boot protocol: recognise and check a bzImage or a
 * vmlinux held in memory, load it, place the initrd and build the zero page (boot_params)
 * the kernel reads at startup_32. Pure code with no system calls: unit-tested and fuzzed. */
#ifndef VMM_LOADER_LINUX_BOOT_H
#define VMM_LOADER_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>
#include "loader/kernel_image.h"
#include "loader/linux_boot_params.h"

#define LINUX_BOOT_ERROR_MAX 200

enum linux_image_format {
	LINUX_IMAGE_NONE,      /* not Linux: a multiboot kernel, or nothing vmirun knows */
	LINUX_IMAGE_BZIMAGE,   /* a setup header ("HdrS" at 0x202), protected-mode code after it */
	LINUX_IMAGE_VMLINUX,   /* an i386 ELF with a "Linux" note and no multiboot header */
};

struct linux_image {
	enum linux_image_format format;
	uint32_t entry;              /* startup_32: vmlinux's e_entry, bzImage's code32_start */
	/* What the zero page starts from: bzImage's own setup header, or for vmlinux (which
	 * has none) one vmirun makes up (see linux_boot.c). */
	uint8_t setup_header[LINUX_SETUP_HEADER_MAX_END - LINUX_SETUP_HEADER_OFFSET];
	uint32_t setup_header_bytes;
	uint32_t cmdline_max;        /* bytes, without the terminating NUL */
	uint32_t initrd_addr_max;    /* the highest byte an initrd may occupy */
	/* bzImage: the protected-mode code, loaded at LINUX_BZIMAGE_LOAD_ADDRESS. */
	uint32_t protected_mode_offset;
	uint32_t protected_mode_bytes;
	/* vmlinux: its segments, loaded at their physical addresses. */
	struct kernel_image elf;
	/* What the kernel occupies before it reads its memory map: the loaded image and, for a
	 * bzImage, init_size bytes from where it decompresses itself. Lowest start, highest end. */
	uint32_t footprint_start;
	uint32_t footprint_end;
};

/* Which boot protocol the file asks for, from its magic numbers alone. */
enum linux_image_format linux_image_recognise(const uint8_t *file, size_t size);

/* Checks `file` as a Linux kernel whose memory must fit in `ram`. Returns 0 and fills
 * `image`, or -1 with a one-line reason in `error`. Never reads outside the file. */
int linux_image_parse(const uint8_t *file, size_t size, const struct guest_memory *ram,
                      struct linux_image *image, char error[LINUX_BOOT_ERROR_MAX]);

/* Copies the parsed kernel into `ram` (a vmlinux's bss zeroed). */
void linux_image_load(const struct linux_image *image, const uint8_t *file,
                      const struct guest_memory *ram);

/* Where an initrd of `initrd_bytes` goes: the highest page in `ram` below the kernel's
 * initrd_addr_max, above everything the kernel occupies. 0 and *address, or -1. */
int linux_initrd_place(const struct linux_image *image, const struct guest_memory *ram,
                       uint32_t initrd_bytes, uint32_t *address,
                       char error[LINUX_BOOT_ERROR_MAX]);

struct linux_boot_request {
	uint32_t ram_bytes;          /* guest RAM from VMI_PROCESS_RAM_BASE */
	const char *cmdline;         /* NULL: none */
	uint32_t initrd_address;
	uint32_t initrd_bytes;       /* 0: no initrd */
};

/* Writes the zero page at the start of `area` (the boot info area) and the command line
 * after it: the setup header, type_of_loader, the e820 map of the process platform, the
 * command line and initrd pointers. Returns 0 and the zero page's guest address (for
 * %esi), or -1 with a one-line reason (a command line too long for the kernel). */
int linux_boot_params_build(const struct linux_image *image,
                            const struct linux_boot_request *request,
                            const struct guest_memory *area, uint32_t *boot_params_address,
                            char error[LINUX_BOOT_ERROR_MAX]);

#endif
