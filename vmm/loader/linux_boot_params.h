/* The x86 Linux boot protocol's layouts as vmirun reads and writes them: the setup header
 * of a bzImage and the zero page (struct boot_params), with only the fields vmirun uses.
 * Written from Linux's Documentation/x86/boot.rst and zero-page.rst; offsets checked below. */
#ifndef VMM_LOADER_LINUX_BOOT_PARAMS_H
#define VMM_LOADER_LINUX_BOOT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#define LINUX_SETUP_HEADER_OFFSET  0x1F1       /* in the bzImage file and in the zero page */
#define LINUX_SETUP_HEADER_MAGIC   0x53726448  /* "HdrS" at 0x202 */
#define LINUX_BOOT_FLAG            0xAA55      /* at 0x1FE */
#define LINUX_SETUP_SECTOR_BYTES   512
#define LINUX_SETUP_SECTS_DEFAULT  4           /* what setup_sects == 0 means */
/* The header's end is 0x202 + the byte at 0x201 (the jump over it); past 0x290 the zero
 * page has other fields (edd_mbr_sig_buffer), so no real header reaches that far. */
#define LINUX_SETUP_HEADER_JUMP_BASE 0x202
#define LINUX_SETUP_HEADER_MAX_END   0x290

#define LINUX_LOADFLAGS_LOADED_HIGH  0x01      /* a bzImage: protected-mode code at 1 MiB */
#define LINUX_XLOADFLAGS_KERNEL_64   0x0001    /* a 64-bit kernel */
#define LINUX_TYPE_OF_LOADER_UNDEFINED 0xFF    /* boot loaders without an assigned id */
#define LINUX_BZIMAGE_LOAD_ADDRESS   0x100000

#define LINUX_E820_RAM       1
#define LINUX_E820_RESERVED  2
#define LINUX_E820_MAX_ENTRIES 128

/* Protocol versions are major << 8 | minor: 0x020A is 2.10. */
#define LINUX_PROTOCOL(major, minor) (((major) << 8) | (minor))

struct linux_setup_header {
	uint8_t  setup_sects;          /* 0x1F1 */
	uint8_t  unused_1f2[0x1FE - 0x1F2];
	uint16_t boot_flag;            /* 0x1FE */
	uint8_t  jump[2];              /* 0x200: a short jump over the header */
	uint32_t header;               /* 0x202 */
	uint16_t version;              /* 0x206 */
	uint8_t  unused_208[0x210 - 0x208];
	uint8_t  type_of_loader;       /* 0x210 */
	uint8_t  loadflags;            /* 0x211 */
	uint8_t  unused_212[2];
	uint32_t code32_start;         /* 0x214 */
	uint32_t ramdisk_image;        /* 0x218 */
	uint32_t ramdisk_size;         /* 0x21C */
	uint8_t  unused_220[0x228 - 0x220];
	uint32_t cmd_line_ptr;         /* 0x228 (2.02) */
	uint32_t initrd_addr_max;      /* 0x22C (2.03) */
	uint32_t kernel_alignment;     /* 0x230 (2.05) */
	uint8_t  relocatable_kernel;   /* 0x234 (2.05) */
	uint8_t  min_alignment;        /* 0x235 (2.10) */
	uint16_t xloadflags;           /* 0x236 (2.12) */
	uint32_t cmdline_size;         /* 0x238 (2.06) */
	uint8_t  unused_23c[0x258 - 0x23C];
	uint64_t pref_address;         /* 0x258 (2.10) */
	uint32_t init_size;            /* 0x260 (2.10) */
} __attribute__((packed));

struct linux_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct linux_boot_params {
	uint8_t  unused_000[0x1E8];    /* screen_info (zero: no text screen) and the rest */
	uint8_t  e820_entries;         /* 0x1E8 */
	uint8_t  unused_1e9[0x1EF - 0x1E9];
	uint8_t  sentinel;             /* 0x1EF: must stay 0 */
	uint8_t  unused_1f0;
	struct linux_setup_header hdr; /* 0x1F1 */
	uint8_t  unused_264[0x2D0 - 0x264];
	struct linux_e820_entry e820_table[LINUX_E820_MAX_ENTRIES];   /* 0x2D0 */
	uint8_t  unused_cd0[0x1000 - 0xCD0];
} __attribute__((packed));

#define LINUX_HEADER_AT(field, offset) \
	_Static_assert(offsetof(struct linux_boot_params, hdr.field) == (offset), #field)
LINUX_HEADER_AT(setup_sects, 0x1F1);
LINUX_HEADER_AT(boot_flag, 0x1FE);
LINUX_HEADER_AT(jump, 0x200);
LINUX_HEADER_AT(header, 0x202);
LINUX_HEADER_AT(version, 0x206);
LINUX_HEADER_AT(type_of_loader, 0x210);
LINUX_HEADER_AT(loadflags, 0x211);
LINUX_HEADER_AT(code32_start, 0x214);
LINUX_HEADER_AT(ramdisk_image, 0x218);
LINUX_HEADER_AT(ramdisk_size, 0x21C);
LINUX_HEADER_AT(cmd_line_ptr, 0x228);
LINUX_HEADER_AT(initrd_addr_max, 0x22C);
LINUX_HEADER_AT(kernel_alignment, 0x230);
LINUX_HEADER_AT(relocatable_kernel, 0x234);
LINUX_HEADER_AT(xloadflags, 0x236);
LINUX_HEADER_AT(cmdline_size, 0x238);
LINUX_HEADER_AT(pref_address, 0x258);
LINUX_HEADER_AT(init_size, 0x260);
#undef LINUX_HEADER_AT
_Static_assert(offsetof(struct linux_boot_params, e820_entries) == 0x1E8, "e820_entries");
_Static_assert(offsetof(struct linux_boot_params, sentinel) == 0x1EF, "sentinel");
_Static_assert(offsetof(struct linux_boot_params, e820_table) == 0x2D0, "e820_table");
_Static_assert(sizeof(struct linux_e820_entry) == 20, "e820 entry");
_Static_assert(sizeof(struct linux_boot_params) == 0x1000, "the zero page is one page");

#endif
