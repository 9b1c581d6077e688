/* Multiboot (version 1) boot protocol, as vmirun loads kernels and as our guests read it.
 * Layouts follow the Multiboot 0.6.96 specification; freestanding. */
#ifndef VMI_MULTIBOOT_H
#define VMI_MULTIBOOT_H

#define MULTIBOOT_HEADER_MAGIC        0x1BADB002
#define MULTIBOOT_BOOTLOADER_MAGIC    0x2BADB002
#define MULTIBOOT_SEARCH_BYTES        8192
#define MULTIBOOT_HEADER_ALIGN        4

/* Header flags: bits 0-15 are requirements a loader must understand or refuse. */
#define MULTIBOOT_FLAG_PAGE_ALIGN     (1 << 0)
#define MULTIBOOT_FLAG_MEMORY_INFO    (1 << 1)
#define MULTIBOOT_FLAG_VIDEO_MODE     (1 << 2)
#define MULTIBOOT_FLAG_AOUT_KLUDGE    (1 << 16)
#define MULTIBOOT_REQUIRED_MASK       0x0000FFFF

/* Info flags: which fields of struct multiboot_info are valid. */
#define MULTIBOOT_INFO_MEMORY         (1 << 0)
#define MULTIBOOT_INFO_CMDLINE        (1 << 2)
#define MULTIBOOT_INFO_MEM_MAP        (1 << 6)
#define MULTIBOOT_INFO_LOADER_NAME    (1 << 9)

#define MULTIBOOT_MEMORY_AVAILABLE    1
#define MULTIBOOT_MEMORY_RESERVED     2

/* Constants above are usable from assembly too; the layouts below are C only. */
#ifdef __ASSEMBLER__
/* A kernel's multiboot header, in section .multiboot (its linker script puts that first,
 * inside the first 8 KiB of the file). */
.macro MULTIBOOT_HEADER flags:req
	.pushsection .multiboot, "a"
	.align MULTIBOOT_HEADER_ALIGN
	.long MULTIBOOT_HEADER_MAGIC
	.long \flags
	.long -(MULTIBOOT_HEADER_MAGIC + (\flags))
	.popsection
.endm
#else
#include <stdint.h>

struct multiboot_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum;   /* magic + flags + checksum == 0 (mod 2^32) */
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	uint32_t entry_addr;
};

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;   /* KiB from 0 */
	uint32_t mem_upper;   /* KiB from 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
};

/* A memory-map entry; `size` does not count itself, so the next entry is at +size+4. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct multiboot_header) == 32, "multiboot header layout");
_Static_assert(sizeof(struct multiboot_info) == 88, "multiboot info layout");
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "multiboot mmap entry layout");
#endif /* !__ASSEMBLER__ */

#endif
