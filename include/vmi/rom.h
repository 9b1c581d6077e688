/* The VMI ROM image: option-ROM header, slots, the call table of 32-byte stubs, where the
 * link records live, and the API version. Freestanding; usable from assembly (constants)
 * and C (layouts). Shared by the ROMs, vmirun, the guest SDK and vmirom. */
#ifndef VMI_ROM_H
#define VMI_ROM_H

#include <vmi/calls.h>

/* Our API: the historic API 13 numbering. Appending a call bumps the minor version;
 * removing or reordering calls bumps the major, and a guest refuses a major it does not
 * know (falling back to its native ROM). */
#define VMI_API_MAJOR              13
#define VMI_API_MINOR              5

#define VMI_ROM_OPTION_SIGNATURE   0xAA55        /* bytes 0x55 0xAA */
#define VMI_ROM_VMI_SIGNATURE      0x696d5663    /* "cVmi" */
#define VMI_ROM_LENGTH_UNIT        512           /* the length byte counts these */
#define VMI_ROM_MAX_SIZE           (255 * VMI_ROM_LENGTH_UNIT)
#define VMI_ROM_SCAN_STEP          0x800         /* guests probe every 2 KiB */

/* Slot N is at N * 32: slot 0 the header, slot 1 reserved, slots 2-3 a 64-byte ELF header
 * describing the image, call N's stub at N * 32 for N >= VMI_CALL_FIRST. */
#define VMI_ROM_SLOT_SIZE          32
#define VMI_ROM_ELF_HEADER_OFFSET  (2 * VMI_ROM_SLOT_SIZE)
#define VMI_ROM_ELF_HEADER_SIZE    (2 * VMI_ROM_SLOT_SIZE)
#define VMI_ROM_CALL_OFFSET(n)     ((n) * VMI_ROM_SLOT_SIZE)
#define VMI_ROM_CALL_TABLE_END     VMI_ROM_CALL_OFFSET(VMI_CALL_COUNT)

/* Header field offsets (the historic API 13 layout). */
#define VMI_ROM_HDR_SIGNATURE      0
#define VMI_ROM_HDR_LENGTH         2
#define VMI_ROM_HDR_ENTRY          3
#define VMI_ROM_HDR_VMI_SIGNATURE  8
#define VMI_ROM_HDR_API_MINOR      12
#define VMI_ROM_HDR_API_MAJOR      13
#define VMI_ROM_HDR_RESERVED0      14
#define VMI_ROM_HDR_VIRTUAL_TOP    16
#define VMI_ROM_HDR_PRIVATE        20    /* ours: offset of the link-record table */
#define VMI_ROM_HDR_PCI_OFFSET     24
#define VMI_ROM_HDR_PNP_OFFSET     26
#define VMI_ROM_HDR_SIZE           32

/* The ELF header in slots 2-3 is an Elf32_Ehdr (52 bytes, zero-padded to 64) whose file
 * offsets count from the start of the ROM image: one PT_LOAD program header covers the whole
 * image at its guest address, and e_entry is the Init stub. */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct vmi_rom_header {
	uint16_t option_signature;   /* VMI_ROM_OPTION_SIGNATURE */
	uint8_t length_units;        /* image size / 512 */
	uint8_t entry[4];            /* 16-bit option-ROM entry code (a far return) */
	uint8_t pad0;
	uint32_t vmi_signature;      /* VMI_ROM_VMI_SIGNATURE */
	uint8_t api_minor;
	uint8_t api_major;
	uint16_t reserved0;
	/* The guest leaves [virtual_top, 4 GiB) of its linear space to the hypervisor; 0: none.
	 * API 3.0's field at this offset (reserved in API 13), so a kernel can reserve the top
	 * before it calls Init. */
	uint32_t virtual_top;
	uint32_t link_table_offset;  /* "reserved for private use" in API 13 */
	uint16_t pci_header_offset;
	uint16_t pnp_header_offset;
	uint32_t pad1;
} __attribute__((packed));

_Static_assert(sizeof(struct vmi_rom_header) == VMI_ROM_HDR_SIZE, "ROM header is 32 bytes");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, length_units) == VMI_ROM_HDR_LENGTH, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, entry) == VMI_ROM_HDR_ENTRY, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, vmi_signature) == VMI_ROM_HDR_VMI_SIGNATURE, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, api_minor) == VMI_ROM_HDR_API_MINOR, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, api_major) == VMI_ROM_HDR_API_MAJOR, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, reserved0) == VMI_ROM_HDR_RESERVED0, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, virtual_top) == VMI_ROM_HDR_VIRTUAL_TOP, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, link_table_offset) == VMI_ROM_HDR_PRIVATE, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, pci_header_offset) == VMI_ROM_HDR_PCI_OFFSET, "");
_Static_assert(__builtin_offsetof(struct vmi_rom_header, pnp_header_offset) == VMI_ROM_HDR_PNP_OFFSET, "");
#endif /* __ASSEMBLER__ */

#endif
