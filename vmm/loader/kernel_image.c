/* Multiboot (v1) i386 ELF kernels: validation of an untrusted kernel file and copying of
 * its segments into guest memory. Fuzzed; every read of the file is bounds-checked. */
#include "loader/kernel_image.h"

#include <elf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmi/multiboot.h"
#include "vmi/process.h"
#include <vmi/pc.h>

/* File structures are copied out with memcpy and used as they are: the host (x86-64) is
 * little-endian like the i386 files we accept, and memcpy sidesteps unaligned access. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the loader assumes a little-endian host");

#define FOUR_GIB   0x100000000ull
#define ROM_END    0x00100000u   /* the ROM area runs up to the start of RAM at 1 MiB */

/* Requirement flags we can honour: PAGE_ALIGN only concerns modules (we load none),
 * MEMORY_INFO is always provided, and VIDEO_MODE is a request we may ignore because
 * there is no display. */
#define SUPPORTED_REQUIRED_FLAGS \
	(MULTIBOOT_FLAG_PAGE_ALIGN | MULTIBOOT_FLAG_MEMORY_INFO | MULTIBOOT_FLAG_VIDEO_MODE)

/* The part of the multiboot header every kernel has: magic, flags, checksum. */
#define MULTIBOOT_HEADER_CORE_BYTES 12u

__attribute__((format(printf, 2, 3)))
static int fail(char error[KERNEL_IMAGE_ERROR_MAX], const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(error, KERNEL_IMAGE_ERROR_MAX, format, args);
	va_end(args);
	return -1;
}

/* [a_start, a_end) and [b_start, b_end) share at least one byte (ends may be 2^32). */
static bool ranges_overlap(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end)
{
	return a_start < b_end && b_start < a_end;
}

static int check_elf_header(const uint8_t *file, size_t size, Elf32_Ehdr *header,
                            char error[KERNEL_IMAGE_ERROR_MAX])
{
	if (size == 0)
		return fail(error, "kernel file is empty");
	if (size < sizeof *header)
		return fail(error, "kernel file is %zu bytes, too small for an ELF header (%zu bytes)",
		            size, sizeof *header);
	memcpy(header, file, sizeof *header);

	const unsigned char *ident = header->e_ident;
	if (memcmp(ident, ELFMAG, SELFMAG) != 0)
		return fail(error, "not an ELF file (bad magic %02x %02x %02x %02x)",
		            ident[0], ident[1], ident[2], ident[3]);
	if (ident[EI_CLASS] == ELFCLASS64)
		return fail(error, "kernel is a 64-bit ELF; vmirun runs i386 kernels");
	if (ident[EI_CLASS] != ELFCLASS32)
		return fail(error, "ELF class %u is invalid (expected %u, 32-bit)",
		            ident[EI_CLASS], ELFCLASS32);
	if (ident[EI_DATA] != ELFDATA2LSB)
		return fail(error, "ELF data encoding %u is not little-endian; vmirun runs i386 kernels",
		            ident[EI_DATA]);
	if (header->e_machine != EM_386)
		return fail(error, "ELF machine is %u, not EM_386 (%u); vmirun runs i386 kernels",
		            header->e_machine, EM_386);
	if (header->e_type != ET_EXEC)
		return fail(error, "ELF type is %u, not ET_EXEC (%u): the kernel must be a linked executable",
		            header->e_type, ET_EXEC);
	if (header->e_phnum == 0)
		return fail(error, "ELF has no program headers, so no PT_LOAD segment");
	if (header->e_phentsize != sizeof(Elf32_Phdr))
		return fail(error, "ELF program header entry size is %u bytes, expected %zu",
		            header->e_phentsize, sizeof(Elf32_Phdr));

	uint64_t table_end = (uint64_t)header->e_phoff + (uint64_t)header->e_phnum * sizeof(Elf32_Phdr);
	if (table_end > size)
		return fail(error, "ELF program headers [%#x, %#llx) lie outside the %zu-byte file",
		            header->e_phoff, (unsigned long long)table_end, size);
	return 0;
}

/* Finds the first header (at 4-byte alignment, wholly inside the first 8 KiB) whose
 * checksum is right, as GRUB does: a stray magic number in code must not hide a later
 * real header. A bad checksum is reported only when no valid header follows. */
static int find_multiboot_header(const uint8_t *file, size_t size, struct kernel_image *image,
                                 char error[KERNEL_IMAGE_ERROR_MAX])
{
	size_t limit = size < MULTIBOOT_SEARCH_BYTES ? size : MULTIBOOT_SEARCH_BYTES;
	bool saw_bad_checksum = false;
	uint32_t bad_offset = 0, bad_sum = 0;

	for (size_t offset = 0; offset + MULTIBOOT_HEADER_CORE_BYTES <= limit;
	     offset += MULTIBOOT_HEADER_ALIGN) {
		uint32_t fields[3];
		memcpy(fields, file + offset, sizeof fields);
		if (fields[0] != MULTIBOOT_HEADER_MAGIC)
			continue;
		uint32_t sum = fields[0] + fields[1] + fields[2];
		if (sum != 0) {
			if (!saw_bad_checksum) {
				saw_bad_checksum = true;
				bad_offset = (uint32_t)offset;
				bad_sum = sum;
			}
			continue;
		}
		image->multiboot_header_offset = (uint32_t)offset;
		image->multiboot_flags = fields[1];
		return 0;
	}
	if (saw_bad_checksum)
		return fail(error, "multiboot header at offset %#x has a bad checksum "
		            "(magic + flags + checksum = %#x, not 0)", bad_offset, bad_sum);
	return fail(error, "no multiboot header (magic %#x at 4-byte alignment) in the first %u bytes",
	            MULTIBOOT_HEADER_MAGIC, MULTIBOOT_SEARCH_BYTES);
}

/* Bits 0-15 are requirements: refuse what we cannot honour. Bit 16 (the a.out kludge)
 * is accepted but its address fields are ignored, since the ELF program headers say
 * where everything goes; bits 17-31 are optional and ignored. */
static int check_multiboot_flags(uint32_t flags, char error[KERNEL_IMAGE_ERROR_MAX])
{
	const uint32_t supported = SUPPORTED_REQUIRED_FLAGS;
	uint32_t unsupported = flags & MULTIBOOT_REQUIRED_MASK & ~supported;
	if (unsupported == 0)
		return 0;

	char bits[64] = "";
	size_t used = 0;
	for (unsigned bit = 0; bit < 16; bit++) {
		if (!(unsupported & (1u << bit)))
			continue;
		int n = snprintf(bits + used, sizeof bits - used, "%s%u", used ? ", " : "", bit);
		if (n > 0)
			used += (size_t)n;
	}
	return fail(error, "multiboot header requires unsupported feature flag bits %s (flags %#x)",
	            bits, flags);
}

/* Checks one PT_LOAD program header (number `index`, as readelf numbers segments). */
static int check_segment(const Elf32_Phdr *phdr, unsigned index, size_t size,
                         const struct guest_memory *ram, char error[KERNEL_IMAGE_ERROR_MAX])
{
	if (phdr->p_filesz > phdr->p_memsz)
		return fail(error, "segment %u: file size %#x exceeds memory size %#x",
		            index, phdr->p_filesz, phdr->p_memsz);

	uint64_t file_end = (uint64_t)phdr->p_offset + phdr->p_filesz;
	if (phdr->p_filesz > 0 && file_end > size)
		return fail(error, "segment %u: file bytes [%#x, %#llx) lie outside the %zu-byte file",
		            index, phdr->p_offset, (unsigned long long)file_end, size);

	uint64_t start = phdr->p_paddr;
	uint64_t end = start + phdr->p_memsz;
	if (end > FOUR_GIB)
		return fail(error, "segment %u: [%#llx, %#llx) wraps past 4 GiB",
		            index, (unsigned long long)start, (unsigned long long)end);
	if (ranges_overlap(start, end, VMI_ROM_BASE, ROM_END))
		return fail(error, "segment %u at [%#llx, %#llx) overlaps the ROM area [%#x, %#x)",
		            index, (unsigned long long)start, (unsigned long long)end,
		            VMI_ROM_BASE, ROM_END);
	if (ranges_overlap(start, end, VMI_PROCESS_WINDOW_BASE, FOUR_GIB))
		return fail(error, "segment %u at [%#llx, %#llx) overlaps vmirun's reserved window "
		            "[%#x, 4 GiB)", index, (unsigned long long)start,
		            (unsigned long long)end, VMI_PROCESS_WINDOW_BASE);

	uint64_t ram_end = (uint64_t)ram->base + ram->size;
	if (start < ram->base || end > ram_end)
		return fail(error, "segment %u at [%#llx, %#llx) is outside guest RAM [%#x, %#llx)",
		            index, (unsigned long long)start, (unsigned long long)end,
		            ram->base, (unsigned long long)ram_end);
	return 0;
}

/* Collects and checks the PT_LOAD segments and the entry point of a checked ELF header. */
static int parse_segments(const uint8_t *file, size_t size, const Elf32_Ehdr *header,
                          const struct guest_memory *ram, struct kernel_image *image,
                          char error[KERNEL_IMAGE_ERROR_MAX])
{
	unsigned phdr_index[KERNEL_IMAGE_MAX_SEGMENTS] = { 0 };   /* for messages */
	for (unsigned i = 0; i < header->e_phnum; i++) {
		Elf32_Phdr phdr;
		memcpy(&phdr, file + header->e_phoff + (size_t)i * sizeof phdr, sizeof phdr);
		if (phdr.p_type != PT_LOAD || phdr.p_memsz == 0)
			continue;
		if (image->segment_count == KERNEL_IMAGE_MAX_SEGMENTS)
			return fail(error, "more than %d loadable segments (segment %u is one too many)",
			            KERNEL_IMAGE_MAX_SEGMENTS, i);
		if (check_segment(&phdr, i, size, ram, error) < 0)
			return -1;
		phdr_index[image->segment_count] = i;
		image->segments[image->segment_count++] = (struct kernel_segment){
			.paddr = phdr.p_paddr,
			.memsz = phdr.p_memsz,
			.filesz = phdr.p_filesz,
			.file_offset = phdr.p_offset,
		};
	}
	if (image->segment_count == 0)
		return fail(error, "ELF has no PT_LOAD segment with a nonzero memory size");

	/* Segments are checked to end below 4 GiB, so end fits in 32 bits. */
	image->load_start = UINT32_MAX;
	for (unsigned a = 0; a < image->segment_count; a++) {
		const struct kernel_segment *seg = &image->segments[a];
		uint32_t end = seg->paddr + seg->memsz;
		for (unsigned b = a + 1; b < image->segment_count; b++) {
			const struct kernel_segment *other = &image->segments[b];
			uint32_t other_end = other->paddr + other->memsz;
			if (ranges_overlap(seg->paddr, end, other->paddr, other_end))
				return fail(error, "segments %u [%#x, %#x) and %u [%#x, %#x) overlap",
				            phdr_index[a], seg->paddr, end,
				            phdr_index[b], other->paddr, other_end);
		}
		if (seg->paddr < image->load_start)
			image->load_start = seg->paddr;
		if (end > image->load_end)
			image->load_end = end;
	}

	/* ELF e_entry is where GRUB jumps with paging off, so it must be a loaded address. */
	bool entry_loaded = false;
	for (unsigned i = 0; i < image->segment_count; i++) {
		const struct kernel_segment *seg = &image->segments[i];
		if (header->e_entry >= seg->paddr && header->e_entry - seg->paddr < seg->memsz)
			entry_loaded = true;
	}
	if (!entry_loaded)
		return fail(error, "entry point %#x is not inside any loaded segment "
		            "(loaded range [%#x, %#x))", header->e_entry, image->load_start,
		            image->load_end);
	image->entry = header->e_entry;
	return 0;
}

/* Both parsers: the ELF header, the multiboot header when asked for, then the segments. */
static int parse(const uint8_t *file, size_t size, const struct guest_memory *ram,
                 bool multiboot, struct kernel_image *image, char error[KERNEL_IMAGE_ERROR_MAX])
{
	memset(image, 0, sizeof *image);
	error[0] = '\0';

	Elf32_Ehdr header;
	if (check_elf_header(file, size, &header, error) < 0)
		return -1;
	if (multiboot && (find_multiboot_header(file, size, image, error) < 0 ||
	                  check_multiboot_flags(image->multiboot_flags, error) < 0))
		return -1;
	return parse_segments(file, size, &header, ram, image, error);
}

int kernel_image_parse(const uint8_t *file, size_t size, const struct guest_memory *ram,
                       struct kernel_image *image, char error[KERNEL_IMAGE_ERROR_MAX])
{
	return parse(file, size, ram, true, image, error);
}

int kernel_image_parse_elf(const uint8_t *file, size_t size, const struct guest_memory *ram,
                           struct kernel_image *image, char error[KERNEL_IMAGE_ERROR_MAX])
{
	return parse(file, size, ram, false, image, error);
}

bool kernel_image_has_multiboot_header(const uint8_t *file, size_t size)
{
	struct kernel_image scratch;
	char error[KERNEL_IMAGE_ERROR_MAX];
	memset(&scratch, 0, sizeof scratch);
	return find_multiboot_header(file, size, &scratch, error) == 0;
}

void kernel_image_load(const struct kernel_image *image, const uint8_t *file,
                       const struct guest_memory *ram)
{
	for (unsigned i = 0; i < image->segment_count; i++) {
		const struct kernel_segment *seg = &image->segments[i];
		uint8_t *dest = ram->host + (seg->paddr - ram->base);
		/* A segment with no file bytes may name any offset; don't form that pointer. */
		if (seg->filesz > 0)
			memcpy(dest, file + seg->file_offset, seg->filesz);
		memset(dest + seg->filesz, 0, seg->memsz - seg->filesz);
	}
}
