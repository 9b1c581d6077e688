/* A VMI ROM image in memory: loading, header and ELF fields, the structural checks (the
 * shared rom_check.c first, then what only a host tool cares about) and link records. */
#include "rom_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmi/calls.h>
#include <vmi/pc.h>

/* Bytes the ROM reserves past the call table for link records. */
#define LINK_TABLE_BYTES ((uint32_t)VMI_CALL_COUNT * VMI_LINK_RECORD_SIZE)

static uint16_t read_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t read_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void rom_image_parse(struct rom_image *image, const uint8_t *bytes, size_t size)
{
	memset(image, 0, sizeof(*image));
	image->bytes = bytes;
	image->size = size;
	image->base = VMI_ROM_BASE;

	if (size >= VMI_ROM_HDR_SIZE) {
		image->has_header = 1;
		memcpy(&image->header, bytes, sizeof(image->header));
	}
	image->status = vmi_rom_check(bytes, size, &image->facts);

	/* The ELF headers are read byte by byte: this builds on any host, and the image is
	 * little-endian whatever the host is. */
	if (size >= VMI_ROM_ELF_HEADER_OFFSET + sizeof(Elf32_Ehdr)) {
		const uint8_t *e = bytes + VMI_ROM_ELF_HEADER_OFFSET;
		Elf32_Ehdr *h = &image->ehdr;
		image->has_elf = 1;
		memcpy(h->e_ident, e, EI_NIDENT);
		h->e_type = read_u16(e + 16);
		h->e_machine = read_u16(e + 18);
		h->e_version = read_u32(e + 20);
		h->e_entry = read_u32(e + 24);
		h->e_phoff = read_u32(e + 28);
		h->e_shoff = read_u32(e + 32);
		h->e_flags = read_u32(e + 36);
		h->e_ehsize = read_u16(e + 40);
		h->e_phentsize = read_u16(e + 42);
		h->e_phnum = read_u16(e + 44);
		h->e_shentsize = read_u16(e + 46);
		h->e_shnum = read_u16(e + 48);
		h->e_shstrndx = read_u16(e + 50);

		if (h->e_phoff <= size && size - h->e_phoff >= sizeof(Elf32_Phdr)) {
			const uint8_t *p = bytes + h->e_phoff;
			Elf32_Phdr *ph = &image->phdr;
			image->has_phdr = 1;
			ph->p_type = read_u32(p + 0);
			ph->p_offset = read_u32(p + 4);
			ph->p_vaddr = read_u32(p + 8);
			ph->p_paddr = read_u32(p + 12);
			ph->p_filesz = read_u32(p + 16);
			ph->p_memsz = read_u32(p + 20);
			ph->p_flags = read_u32(p + 24);
			ph->p_align = read_u32(p + 28);
			image->base = ph->p_vaddr;
		}
	}
}

int rom_image_load(const char *path, struct rom_image *image, uint8_t **storage,
                   char *error, size_t error_size)
{
	*storage = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(error, error_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* One byte more than the largest ROM, to tell "too long" from "exactly full". */
	const size_t capacity = VMI_ROM_MAX_SIZE + 1;
	uint8_t *buffer = malloc(capacity);
	if (!buffer) {
		close(fd);
		snprintf(error, error_size, "%s: out of memory", path);
		return -1;
	}
	size_t used = 0;
	while (used < capacity) {
		ssize_t got = read(fd, buffer + used, capacity - used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(error, error_size, "%s: %s", path, strerror(errno));
			free(buffer);
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		used += (size_t)got;
	}
	close(fd);
	*storage = buffer;
	rom_image_parse(image, buffer, used);
	image->size_is_lower_bound = used == capacity;
	return 0;
}

uint8_t rom_image_sum(const struct rom_image *image)
{
	size_t count = image->size;
	if (image->has_header) {
		size_t declared = (size_t)image->header.length_units * VMI_ROM_LENGTH_UNIT;
		if (declared < count)
			count = declared;
	}
	uint8_t sum = 0;
	for (size_t i = 0; i < count; i++)
		sum = (uint8_t)(sum + image->bytes[i]);
	return sum;
}

static int fail(char *reason, size_t reason_size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *reason, size_t reason_size, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(reason, reason_size, format, args);
	va_end(args);
	return 1;
}

/* Says precisely what vmi_rom_check refused, with the numbers. */
static int structure_reason(const struct rom_image *image, char *reason, size_t reason_size)
{
	const struct vmi_rom_header *h = &image->header;
	uint32_t declared = (uint32_t)h->length_units * VMI_ROM_LENGTH_UNIT;
	const char *text = vmi_rom_status_text(image->status);

	switch (image->status) {
	case VMI_ROM_OK:
		return 0;
	case VMI_ROM_TRUNCATED_HEADER:
		return fail(reason, reason_size, "truncated file: %s: %zu bytes, a header needs %d",
		            text, image->size, VMI_ROM_HDR_SIZE);
	case VMI_ROM_BAD_OPTION_SIGNATURE:
		return fail(reason, reason_size, "bad option-ROM signature 0x%04x: %s",
		            h->option_signature, text);
	case VMI_ROM_BAD_VMI_SIGNATURE:
		return fail(reason, reason_size, "bad VMI signature 0x%08x: %s", h->vmi_signature,
		            text);
	case VMI_ROM_BAD_LENGTH:
		return fail(reason, reason_size,
		            "bad length: the length byte says %u x %d = %u bytes, but the call table "
		            "alone needs %d", h->length_units, VMI_ROM_LENGTH_UNIT, declared,
		            VMI_ROM_CALL_TABLE_END);
	case VMI_ROM_TRUNCATED:
		return fail(reason, reason_size,
		            "truncated file: the length byte says %u bytes but the file has only %zu "
		            "(%s)", declared, image->size, text);
	case VMI_ROM_BAD_CHECKSUM:
		return fail(reason, reason_size,
		            "bad checksum: the %u bytes sum to 0x%02x mod 256, not 0", declared,
		            rom_image_sum(image));
	case VMI_ROM_UNKNOWN_MAJOR:
		return fail(reason, reason_size,
		            "unknown API major version %u (API %u.%u); this vmirom knows %d",
		            h->api_major, h->api_major, h->api_minor, VMI_API_MAJOR);
	case VMI_ROM_BAD_LINK_TABLE:
		return fail(reason, reason_size,
		            "link-record table out of range: offset 0x%x must be 4-aligned, past the "
		            "call table (0x%x) and leave %u bytes for %d records in the %u-byte image",
		            h->link_table_offset, VMI_ROM_CALL_TABLE_END, LINK_TABLE_BYTES,
		            VMI_CALL_COUNT, declared);
	case VMI_ROM_STATUS_COUNT:
		break;
	}
	return fail(reason, reason_size, "%s", text);
}

static int is_power_of_two(uint32_t value)
{
	return value != 0 && (value & (value - 1)) == 0;
}

/* The ELF header in slots 2-3 and its one program header, as rom.h describes them. */
static int elf_reason(const struct rom_image *image, char *reason, size_t reason_size)
{
	const Elf32_Ehdr *h = &image->ehdr;
	const uint32_t size = image->facts.size;
	const char *what = NULL;
	static const uint8_t magic[SELFMAG] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3 };

	if (memcmp(h->e_ident, magic, SELFMAG) != 0)
		what = "no ELF magic";
	else if (h->e_ident[EI_CLASS] != ELFCLASS32)
		what = "not ELFCLASS32";
	else if (h->e_ident[EI_DATA] != ELFDATA2LSB)
		what = "not little-endian (ELFDATA2LSB)";
	else if (h->e_ident[EI_VERSION] != EV_CURRENT || h->e_version != EV_CURRENT)
		what = "version is not EV_CURRENT";
	else if (h->e_type != ET_EXEC)
		what = "e_type is not ET_EXEC";
	else if (h->e_machine != EM_386)
		what = "e_machine is not EM_386";
	else if (h->e_ehsize != sizeof(Elf32_Ehdr))
		what = "e_ehsize is not 52";
	else if (h->e_phentsize != sizeof(Elf32_Phdr) || h->e_phnum != 1)
		what = "it must have exactly one 32-byte program header";
	else if (h->e_shoff || h->e_shnum || h->e_shentsize || h->e_shstrndx)
		what = "it must have no section headers";
	else if (h->e_flags)
		what = "e_flags is not 0";
	if (what)
		return fail(reason, reason_size, "invalid ELF header in slots 2-3: %s", what);

	for (unsigned i = EI_PAD; i < EI_NIDENT; i++)
		if (h->e_ident[i])
			return fail(reason, reason_size,
			            "invalid ELF header in slots 2-3: nonzero e_ident padding");
	for (unsigned i = sizeof(Elf32_Ehdr); i < VMI_ROM_ELF_HEADER_SIZE; i++)
		if (image->bytes[VMI_ROM_ELF_HEADER_OFFSET + i])
			return fail(reason, reason_size,
			            "invalid ELF header in slots 2-3: nonzero padding after the 52-byte "
			            "header");

	/* The program header lies past the call table, inside the image, apart from the link
	 * records. */
	uint64_t phoff = h->e_phoff;
	uint64_t table = image->facts.link_table_offset;
	if (phoff % 4 || phoff < VMI_ROM_CALL_TABLE_END || phoff + sizeof(Elf32_Phdr) > size ||
	    (phoff + sizeof(Elf32_Phdr) > table && phoff < table + LINK_TABLE_BYTES))
		return fail(reason, reason_size,
		            "invalid ELF header in slots 2-3: program header offset 0x%llx is not a "
		            "4-aligned place past the call table, inside the image and clear of the "
		            "link records", (unsigned long long)phoff);

	const Elf32_Phdr *p = &image->phdr;
	if (p->p_type != PT_LOAD)
		what = "the program header is not PT_LOAD";
	else if (p->p_offset != 0)
		what = "the program header's p_offset is not 0";
	else if (p->p_filesz != size || p->p_memsz != size)
		what = "the program header's p_filesz and p_memsz are not the image size";
	else if (p->p_vaddr != p->p_paddr)
		what = "p_vaddr and p_paddr differ";
	else if (p->p_vaddr % VMI_ROM_SCAN_STEP)
		what = "the ROM's address (p_vaddr) is not 2 KiB aligned, where guests probe";
	else if ((uint64_t)p->p_vaddr + size > (1ull << 32))
		what = "the image would end past 4 GiB";
	else if (p->p_flags != (PF_R | PF_X))
		what = "the program header's flags are not R+X";
	else if (!is_power_of_two(p->p_align) || p->p_vaddr % p->p_align)
		what = "p_align is not a power of two dividing p_vaddr";
	else if (h->e_entry != p->p_vaddr + VMI_ROM_CALL_OFFSET(VMI_CALL_Init))
		what = "e_entry is not the Init stub";
	if (what)
		return fail(reason, reason_size, "invalid ELF header in slots 2-3: %s", what);
	return 0;
}

int rom_image_check(const struct rom_image *image, char *reason, size_t reason_size)
{
	if (image->status != VMI_ROM_OK)
		return structure_reason(image, reason, reason_size);

	const struct vmi_rom_header *h = &image->header;
	const uint32_t size = image->facts.size;
	if (image->size != size)
		return fail(reason, reason_size,
		            "bad length: the length byte says %u bytes but the file has %s%zu", size,
		            image->size_is_lower_bound ? "more than " : "", image->size);

	static const struct { unsigned offset, length; } reserved[] = {
		{ VMI_ROM_HDR_ENTRY + 4, 1 },            /* pad after the entry */
		{ VMI_ROM_HDR_RESERVED0, 2 },
		{ VMI_ROM_HDR_SIZE - 4, 4 },             /* pad at the end */
	};
	for (size_t r = 0; r < sizeof(reserved) / sizeof(reserved[0]); r++)
		for (unsigned i = 0; i < reserved[r].length; i++)
			if (image->bytes[reserved[r].offset + i])
				return fail(reason, reason_size,
				            "nonzero reserved field in the ROM header at offset %u",
				            reserved[r].offset);
	if (h->virtual_top % 4096)
		return fail(reason, reason_size, "virtual_top 0x%08x is not page-aligned",
		            h->virtual_top);
	if (h->pci_header_offset >= size || h->pnp_header_offset >= size)
		return fail(reason, reason_size,
		            "PCI/PnP header offset (0x%x/0x%x) outside the image",
		            h->pci_header_offset, h->pnp_header_offset);

	return elf_reason(image, reason, reason_size);
}

int rom_image_record(const struct rom_image *image, unsigned call,
                     struct vmi_link_record *record)
{
	if (image->status != VMI_ROM_OK)
		return -1;
	return vmi_rom_link_record(image->bytes, &image->facts, call, record);
}

uint64_t rom_image_offset(const struct rom_image *image, uint32_t address)
{
	return address < image->base ? UINT64_MAX : (uint64_t)address - image->base;
}

enum rom_region rom_image_region(const struct rom_image *image, uint64_t offset)
{
	uint64_t size = image->status == VMI_ROM_OK ? image->facts.size : image->size;
	if (offset >= size)
		return ROM_REGION_OUTSIDE;
	if (offset < VMI_ROM_SLOT_SIZE)
		return ROM_REGION_HEADER;
	if (offset < VMI_ROM_ELF_HEADER_OFFSET)
		return ROM_REGION_RESERVED_SLOT;
	if (offset < VMI_ROM_CALL_OFFSET(VMI_CALL_FIRST))
		return ROM_REGION_ELF_HEADER;
	if (offset < VMI_ROM_CALL_TABLE_END)
		return ROM_REGION_CALL_TABLE;
	uint64_t table = image->facts.link_table_offset;
	if (image->status == VMI_ROM_OK && offset >= table && offset < table + LINK_TABLE_BYTES)
		return ROM_REGION_LINK_TABLE;
	if (image->has_phdr && offset >= image->ehdr.e_phoff &&
	    offset < (uint64_t)image->ehdr.e_phoff + sizeof(Elf32_Phdr))
		return ROM_REGION_PROGRAM_HEADER;
	return ROM_REGION_BODY;
}

const char *rom_region_name(enum rom_region region)
{
	switch (region) {
	case ROM_REGION_HEADER: return "the ROM header";
	case ROM_REGION_RESERVED_SLOT: return "the reserved slot 1";
	case ROM_REGION_ELF_HEADER: return "the ELF header";
	case ROM_REGION_CALL_TABLE: return "the call table";
	case ROM_REGION_BODY: return "the code after the call table";
	case ROM_REGION_LINK_TABLE: return "the link-record table";
	case ROM_REGION_PROGRAM_HEADER: return "the ELF program header";
	case ROM_REGION_OUTSIDE: return "outside the image";
	}
	return "?";
}

const char *rom_link_type_name(unsigned type)
{
	switch (type) {
	case VMI_LINK_NONE: return "none";
	case VMI_LINK_CALL_REL: return "call_rel";
	case VMI_LINK_JUMP_REL: return "jump_rel";
	case VMI_LINK_NOP: return "nop";
	case VMI_LINK_INLINE: return "inline";
	}
	return NULL;
}

void rom_clobbers_text(uint32_t clobbers, char *text, size_t size)
{
	static const char *const names[] = { "eax", "ecx", "edx", "ebx", "esi", "edi", "ebp",
	                                     "flags" };
	size_t used = 0;
	if (size == 0)
		return;
	text[0] = '\0';
	for (unsigned bit = 0; bit < 32; bit++) {
		if (!(clobbers & (1u << bit)))
			continue;
		char unknown[16];
		const char *name = bit < 8 ? names[bit] : unknown;
		if (bit >= 8)
			snprintf(unknown, sizeof(unknown), "bit%u", bit);
		int n = snprintf(text + used, size - used, "%s%s", used ? "|" : "", name);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(text, size, "-");
}
