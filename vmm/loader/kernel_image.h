/* i386 ELF kernels (multiboot v1, or any ELF for the Linux loader): parse and validate a
 * kernel file held in memory, then copy its segments into guest memory. Pure code with no
 * system calls, so it can be unit-tested and fuzzed on the host. */
#ifndef VMM_LOADER_KERNEL_IMAGE_H
#define VMM_LOADER_KERNEL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KERNEL_IMAGE_MAX_SEGMENTS 16
#define KERNEL_IMAGE_ERROR_MAX    160

/* A window of guest-physical memory and where the host sees it. */
struct guest_memory {
	uint8_t *host;        /* host address of guest address `base` */
	uint32_t base;        /* first guest address */
	uint32_t size;        /* bytes */
};

struct kernel_segment {
	uint32_t paddr;       /* guest load address (ELF p_paddr) */
	uint32_t memsz;
	uint32_t filesz;
	uint32_t file_offset;
};

struct kernel_image {
	uint32_t entry;
	uint32_t multiboot_flags;
	uint32_t multiboot_header_offset;
	unsigned segment_count;
	struct kernel_segment segments[KERNEL_IMAGE_MAX_SEGMENTS];
	uint32_t load_start;  /* lowest and one past the highest loaded byte */
	uint32_t load_end;
};

/* Checks `file` as a multiboot i386 ELF kernel whose PT_LOAD segments must fit inside
 * `ram`. Returns 0 and fills `image`, or -1 with a one-line reason (no trailing newline)
 * in `error`. Never reads outside [file, file + size). */
int kernel_image_parse(const uint8_t *file, size_t size, const struct guest_memory *ram,
                       struct kernel_image *image, char error[KERNEL_IMAGE_ERROR_MAX]);

/* The same checks without the multiboot header (multiboot_* stay 0): the ELF side of a
 * kernel that another boot protocol starts (Linux's vmlinux, vmm/loader/linux_boot.c). */
int kernel_image_parse_elf(const uint8_t *file, size_t size, const struct guest_memory *ram,
                           struct kernel_image *image, char error[KERNEL_IMAGE_ERROR_MAX]);

/* Whether the first 8 KiB of `file` hold a multiboot header with a correct checksum. */
bool kernel_image_has_multiboot_header(const uint8_t *file, size_t size);

/* Copies every segment of a parsed image into `ram` and zeroes its bss. */
void kernel_image_load(const struct kernel_image *image, const uint8_t *file,
                       const struct guest_memory *ram);

#endif
