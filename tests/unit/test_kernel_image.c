/* Unit tests of the multiboot ELF kernel loader (vmm/loader/kernel_image.c), on ELF images
 * built in memory: one good image, then one defect at a time. */
#include <criterion/criterion.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "loader/kernel_image.h"
#include "vmi/multiboot.h"
#include "vmi/process.h"
#include <vmi/pc.h>

/* The good image: ELF header, program headers right after it, then two segments.
 * text carries the multiboot header and has 0x200 bytes of bss; data has no bss. */
#define KIMG_CAPACITY      16384u
#define KIMG_PHOFF         ((uint32_t)sizeof(Elf32_Ehdr))
#define KIMG_TEXT_OFFSET   0x100u
#define KIMG_TEXT_PADDR    0x100000u
#define KIMG_TEXT_FILESZ   0x100u
#define KIMG_TEXT_MEMSZ    0x300u
#define KIMG_DATA_OFFSET   0x200u
#define KIMG_DATA_PADDR    0x102000u
#define KIMG_DATA_FILESZ   0x80u
#define KIMG_DATA_MEMSZ    0x80u
#define KIMG_GOOD_SIZE     (KIMG_DATA_OFFSET + KIMG_DATA_FILESZ)
#define KIMG_ENTRY         (KIMG_TEXT_PADDR + 0x20u)

/* Guest RAM the images are checked against: 1 MiB at 1 MiB. */
#define KIMG_RAM_BASE      VMI_PROCESS_RAM_BASE
#define KIMG_RAM_SIZE      0x100000u

struct kimg {
	uint8_t bytes[KIMG_CAPACITY];
	size_t size;
};

static Elf32_Ehdr kimg_get_ehdr(const struct kimg *k)
{
	Elf32_Ehdr ehdr;
	memcpy(&ehdr, k->bytes, sizeof ehdr);
	return ehdr;
}

static void kimg_put_ehdr(struct kimg *k, const Elf32_Ehdr *ehdr)
{
	memcpy(k->bytes, ehdr, sizeof *ehdr);
}

static Elf32_Phdr kimg_get_phdr(const struct kimg *k, unsigned index)
{
	Elf32_Ehdr ehdr = kimg_get_ehdr(k);
	Elf32_Phdr phdr;
	memcpy(&phdr, k->bytes + ehdr.e_phoff + index * sizeof phdr, sizeof phdr);
	return phdr;
}

static void kimg_put_phdr(struct kimg *k, unsigned index, const Elf32_Phdr *phdr)
{
	Elf32_Ehdr ehdr = kimg_get_ehdr(k);
	size_t offset = ehdr.e_phoff + index * sizeof *phdr;
	cr_assert_leq(offset + sizeof *phdr, KIMG_CAPACITY, "test builder: phdr outside buffer");
	memcpy(k->bytes + offset, phdr, sizeof *phdr);
}

static void kimg_put_u32(struct kimg *k, size_t offset, uint32_t value)
{
	memcpy(k->bytes + offset, &value, sizeof value);
}

/* A multiboot header whose checksum is off by `checksum_error` (0 for a correct one). */
static void kimg_put_multiboot(struct kimg *k, size_t offset, uint32_t flags,
                               uint32_t checksum_error)
{
	kimg_put_u32(k, offset, MULTIBOOT_HEADER_MAGIC);
	kimg_put_u32(k, offset + 4, flags);
	kimg_put_u32(k, offset + 8, -(MULTIBOOT_HEADER_MAGIC + flags) + checksum_error);
}

static void kimg_put_load_segment(struct kimg *k, unsigned index, uint32_t offset,
                                  uint32_t paddr, uint32_t filesz, uint32_t memsz)
{
	Elf32_Phdr phdr = {
		.p_type = PT_LOAD,
		.p_offset = offset,
		.p_vaddr = paddr,
		.p_paddr = paddr,
		.p_filesz = filesz,
		.p_memsz = memsz,
		.p_flags = PF_R | PF_W | PF_X,
		.p_align = 0x10,
	};
	kimg_put_phdr(k, index, &phdr);
}

static void kimg_make_good(struct kimg *k)
{
	memset(k, 0, sizeof *k);
	k->size = KIMG_GOOD_SIZE;

	Elf32_Ehdr ehdr = {
		.e_type = ET_EXEC,
		.e_machine = EM_386,
		.e_version = EV_CURRENT,
		.e_entry = KIMG_ENTRY,
		.e_phoff = KIMG_PHOFF,
		.e_ehsize = sizeof(Elf32_Ehdr),
		.e_phentsize = sizeof(Elf32_Phdr),
		.e_phnum = 2,
	};
	memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
	ehdr.e_ident[EI_CLASS] = ELFCLASS32;
	ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
	ehdr.e_ident[EI_VERSION] = EV_CURRENT;
	kimg_put_ehdr(k, &ehdr);

	kimg_put_load_segment(k, 0, KIMG_TEXT_OFFSET, KIMG_TEXT_PADDR, KIMG_TEXT_FILESZ,
	                      KIMG_TEXT_MEMSZ);
	kimg_put_load_segment(k, 1, KIMG_DATA_OFFSET, KIMG_DATA_PADDR, KIMG_DATA_FILESZ,
	                      KIMG_DATA_MEMSZ);

	/* Recognisable, never-zero payload bytes, so copied and zeroed bytes can be told apart. */
	for (size_t i = KIMG_TEXT_OFFSET; i < KIMG_GOOD_SIZE; i++)
		k->bytes[i] = (uint8_t)(i * 7 + 1) | 0x01;
	kimg_put_multiboot(k, KIMG_TEXT_OFFSET, MULTIBOOT_FLAG_PAGE_ALIGN | MULTIBOOT_FLAG_MEMORY_INFO, 0);
}

static void kimg_set_entry(struct kimg *k, uint32_t entry)
{
	Elf32_Ehdr ehdr = kimg_get_ehdr(k);
	ehdr.e_entry = entry;
	kimg_put_ehdr(k, &ehdr);
}

/* Parses a copy of the first `size` bytes in a buffer of exactly that size, so ASan
 * catches any read past the end. */
static int kimg_parse_prefix(const struct kimg *k, size_t size, const struct guest_memory *ram,
                             struct kernel_image *image, char error[KERNEL_IMAGE_ERROR_MAX])
{
	uint8_t *copy = malloc(size ? size : 1);
	cr_assert_not_null(copy);
	memcpy(copy, k->bytes, size);
	int result = kernel_image_parse(copy, size, ram, image, error);
	free(copy);
	return result;
}

static const struct guest_memory kimg_ram = { .host = NULL, .base = KIMG_RAM_BASE, .size = KIMG_RAM_SIZE };

static int kimg_parse(const struct kimg *k, struct kernel_image *image,
                      char error[KERNEL_IMAGE_ERROR_MAX])
{
	return kimg_parse_prefix(k, k->size, &kimg_ram, image, error);
}

static void kimg_expect_error_with_ram(const struct kimg *k, const struct guest_memory *ram,
                                       const char *expected)
{
	struct kernel_image image;
	char error[KERNEL_IMAGE_ERROR_MAX];
	memset(error, 'x', sizeof error);
	int result = kimg_parse_prefix(k, k->size, ram, &image, error);
	cr_assert_eq(result, -1, "parse should fail with \"%s\"", expected);
	cr_assert_lt(strnlen(error, sizeof error), sizeof error, "error not NUL-terminated");
	cr_assert_null(strchr(error, '\n'), "error has a newline: \"%s\"", error);
	cr_assert_not_null(strstr(error, expected), "error \"%s\" lacks \"%s\"", error, expected);
}

static void kimg_expect_error(const struct kimg *k, const char *expected)
{
	kimg_expect_error_with_ram(k, &kimg_ram, expected);
}

static void kimg_expect_ok(const struct kimg *k, struct kernel_image *image)
{
	char error[KERNEL_IMAGE_ERROR_MAX];
	int result = kimg_parse(k, image, error);
	cr_assert_eq(result, 0, "parse failed: %s", error);
}

/* --- a good image ----------------------------------------------------------------------- */

Test(kernel_image, good_image_parses)
{
	struct kimg k;
	kimg_make_good(&k);
	struct kernel_image image;
	kimg_expect_ok(&k, &image);

	cr_assert_eq(image.entry, KIMG_ENTRY);
	cr_assert_eq(image.multiboot_header_offset, KIMG_TEXT_OFFSET);
	cr_assert_eq(image.multiboot_flags, MULTIBOOT_FLAG_PAGE_ALIGN | MULTIBOOT_FLAG_MEMORY_INFO);
	cr_assert_eq(image.segment_count, 2);
	cr_assert_eq(image.segments[0].paddr, KIMG_TEXT_PADDR);
	cr_assert_eq(image.segments[0].filesz, KIMG_TEXT_FILESZ);
	cr_assert_eq(image.segments[0].memsz, KIMG_TEXT_MEMSZ);
	cr_assert_eq(image.segments[0].file_offset, KIMG_TEXT_OFFSET);
	cr_assert_eq(image.segments[1].paddr, KIMG_DATA_PADDR);
	cr_assert_eq(image.segments[1].filesz, KIMG_DATA_FILESZ);
	cr_assert_eq(image.segments[1].memsz, KIMG_DATA_MEMSZ);
	cr_assert_eq(image.segments[1].file_offset, KIMG_DATA_OFFSET);
	cr_assert_eq(image.load_start, KIMG_TEXT_PADDR);
	cr_assert_eq(image.load_end, KIMG_DATA_PADDR + KIMG_DATA_MEMSZ);
}

Test(kernel_image, good_image_loads_bytes_and_zeroes_bss)
{
	struct kimg k;
	kimg_make_good(&k);
	uint8_t *host = malloc(KIMG_RAM_SIZE);
	cr_assert_not_null(host);
	memset(host, 0xAA, KIMG_RAM_SIZE);
	struct guest_memory ram = { .host = host, .base = KIMG_RAM_BASE, .size = KIMG_RAM_SIZE };

	struct kernel_image image;
	char error[KERNEL_IMAGE_ERROR_MAX];
	cr_assert_eq(kimg_parse_prefix(&k, k.size, &ram, &image, error), 0, "%s", error);
	kernel_image_load(&image, k.bytes, &ram);

	const uint8_t *text = host + (KIMG_TEXT_PADDR - KIMG_RAM_BASE);
	cr_assert_eq(memcmp(text, k.bytes + KIMG_TEXT_OFFSET, KIMG_TEXT_FILESZ), 0, "text copied");
	for (uint32_t i = KIMG_TEXT_FILESZ; i < KIMG_TEXT_MEMSZ; i++)
		cr_assert_eq(text[i], 0, "bss byte %#x not zeroed", i);
	cr_assert_eq(text[KIMG_TEXT_MEMSZ], 0xAA, "byte after the text segment touched");

	const uint8_t *data = host + (KIMG_DATA_PADDR - KIMG_RAM_BASE);
	cr_assert_eq(memcmp(data, k.bytes + KIMG_DATA_OFFSET, KIMG_DATA_FILESZ), 0, "data copied");
	cr_assert_eq(data[-1], 0xAA, "byte before the data segment touched");
	cr_assert_eq(data[KIMG_DATA_MEMSZ], 0xAA, "byte after the data segment touched");
	free(host);
}

Test(kernel_image, zero_size_segments_are_skipped)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phnum = 3;
	kimg_put_ehdr(&k, &ehdr);
	/* In the ROM area and outside the file, but empty, so harmless. */
	kimg_put_load_segment(&k, 2, 0xFFFFFF00u, VMI_ROM_BASE, 0, 0);

	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.segment_count, 2);
}

Test(kernel_image, non_load_program_headers_are_ignored)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phnum = 3;
	kimg_put_ehdr(&k, &ehdr);
	Elf32_Phdr note = { .p_type = PT_NOTE, .p_offset = 0xFFFFFFF0u, .p_filesz = 0x100,
	                    .p_paddr = VMI_ROM_BASE, .p_memsz = 0x100 };
	kimg_put_phdr(&k, 2, &note);

	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.segment_count, 2);
}

Test(kernel_image, entry_at_last_bss_byte_is_accepted)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_set_entry(&k, KIMG_TEXT_PADDR + KIMG_TEXT_MEMSZ - 1);
	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.entry, KIMG_TEXT_PADDR + KIMG_TEXT_MEMSZ - 1);
}

Test(kernel_image, sixteen_segments_are_accepted)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phoff = 0x400;
	ehdr.e_phnum = KERNEL_IMAGE_MAX_SEGMENTS;
	ehdr.e_entry = KIMG_TEXT_PADDR;
	kimg_put_ehdr(&k, &ehdr);
	for (unsigned i = 0; i < KERNEL_IMAGE_MAX_SEGMENTS; i++)
		kimg_put_load_segment(&k, i, KIMG_TEXT_OFFSET, KIMG_TEXT_PADDR + i * 0x1000u, 0x10, 0x10);
	k.size = 0x400 + KERNEL_IMAGE_MAX_SEGMENTS * sizeof(Elf32_Phdr);

	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.segment_count, KERNEL_IMAGE_MAX_SEGMENTS);
	cr_assert_eq(image.load_end, KIMG_TEXT_PADDR + (KERNEL_IMAGE_MAX_SEGMENTS - 1) * 0x1000u + 0x10);
}

/* --- the ELF header --------------------------------------------------------------------- */

Test(kernel_image, empty_file)
{
	struct kimg k;
	kimg_make_good(&k);
	k.size = 0;
	kimg_expect_error(&k, "kernel file is empty");
}

Test(kernel_image, file_too_small_for_elf_header)
{
	struct kimg k;
	kimg_make_good(&k);
	k.size = 10;
	kimg_expect_error(&k, "kernel file is 10 bytes, too small for an ELF header (52 bytes)");
}

Test(kernel_image, bad_magic)
{
	struct kimg k;
	kimg_make_good(&k);
	k.bytes[1] = 'X';
	kimg_expect_error(&k, "not an ELF file (bad magic 7f 58 4c 46)");
}

Test(kernel_image, elf64_is_refused)
{
	struct kimg k;
	kimg_make_good(&k);
	k.bytes[EI_CLASS] = ELFCLASS64;
	kimg_expect_error(&k, "is a 64-bit ELF; vmirun runs i386 kernels");
}

Test(kernel_image, invalid_class)
{
	struct kimg k;
	kimg_make_good(&k);
	k.bytes[EI_CLASS] = ELFCLASSNONE;
	kimg_expect_error(&k, "ELF class 0 is invalid");
}

Test(kernel_image, big_endian_is_refused)
{
	struct kimg k;
	kimg_make_good(&k);
	k.bytes[EI_DATA] = ELFDATA2MSB;
	kimg_expect_error(&k, "not little-endian");
}

Test(kernel_image, wrong_machine_is_named)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_machine = EM_X86_64;
	kimg_put_ehdr(&k, &ehdr);
	kimg_expect_error(&k, "ELF machine is 62, not EM_386 (3)");
}

Test(kernel_image, not_an_executable)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_type = ET_DYN;
	kimg_put_ehdr(&k, &ehdr);
	kimg_expect_error(&k, "ELF type is 3, not ET_EXEC (2)");
}

Test(kernel_image, bad_program_header_entry_size)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phentsize = 40;
	kimg_put_ehdr(&k, &ehdr);
	kimg_expect_error(&k, "program header entry size is 40 bytes, expected 32");
}

Test(kernel_image, program_headers_past_end_of_file)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phoff = (uint32_t)k.size - sizeof(Elf32_Phdr);   /* second one sticks out */
	kimg_put_ehdr(&k, &ehdr);
	kimg_expect_error(&k, "ELF program headers [0x260, 0x2a0) lie outside the 640-byte file");
}

Test(kernel_image, program_header_offset_that_would_overflow)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phoff = 0xFFFFFFF0u;
	ehdr.e_phnum = 0xFFFF;
	kimg_put_ehdr(&k, &ehdr);
	kimg_expect_error(&k, "lie outside the 640-byte file");
}

Test(kernel_image, no_program_headers)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phnum = 0;
	kimg_put_ehdr(&k, &ehdr);
	kimg_expect_error(&k, "no PT_LOAD segment");
}

Test(kernel_image, no_load_segment)
{
	struct kimg k;
	kimg_make_good(&k);
	for (unsigned i = 0; i < 2; i++) {
		Elf32_Phdr phdr = kimg_get_phdr(&k, i);
		phdr.p_type = PT_NOTE;
		kimg_put_phdr(&k, i, &phdr);
	}
	kimg_expect_error(&k, "no PT_LOAD segment");
}

Test(kernel_image, only_empty_load_segments)
{
	struct kimg k;
	kimg_make_good(&k);
	for (unsigned i = 0; i < 2; i++) {
		Elf32_Phdr phdr = kimg_get_phdr(&k, i);
		phdr.p_filesz = phdr.p_memsz = 0;
		kimg_put_phdr(&k, i, &phdr);
	}
	kimg_expect_error(&k, "no PT_LOAD segment");
}

Test(kernel_image, too_many_segments)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Ehdr ehdr = kimg_get_ehdr(&k);
	ehdr.e_phoff = 0x400;
	ehdr.e_phnum = KERNEL_IMAGE_MAX_SEGMENTS + 1;
	ehdr.e_entry = KIMG_TEXT_PADDR;
	kimg_put_ehdr(&k, &ehdr);
	for (unsigned i = 0; i <= KERNEL_IMAGE_MAX_SEGMENTS; i++)
		kimg_put_load_segment(&k, i, KIMG_TEXT_OFFSET, KIMG_TEXT_PADDR + i * 0x1000u, 0x10, 0x10);
	k.size = 0x400 + (KERNEL_IMAGE_MAX_SEGMENTS + 1) * sizeof(Elf32_Phdr);
	kimg_expect_error(&k, "more than 16 loadable segments (segment 16 is one too many)");
}

/* --- the multiboot header --------------------------------------------------------------- */

Test(kernel_image, missing_multiboot_header)
{
	struct kimg k;
	kimg_make_good(&k);
	memset(k.bytes + KIMG_TEXT_OFFSET, 0, 12);
	kimg_expect_error(&k, "no multiboot header (magic 0x1badb002 at 4-byte alignment) in the first 8192 bytes");
}

Test(kernel_image, unaligned_multiboot_header_is_not_found)
{
	struct kimg k;
	kimg_make_good(&k);
	memset(k.bytes + KIMG_TEXT_OFFSET, 0, 12);
	kimg_put_multiboot(&k, KIMG_TEXT_OFFSET + 2, 0, 0);
	kimg_expect_error(&k, "no multiboot header");
}

Test(kernel_image, bad_multiboot_checksum)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_put_multiboot(&k, KIMG_TEXT_OFFSET, 0, 5);
	kimg_expect_error(&k, "multiboot header at offset 0x100 has a bad checksum "
	                      "(magic + flags + checksum = 0x5, not 0)");
}

Test(kernel_image, stray_magic_before_the_real_header_is_skipped)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_put_multiboot(&k, KIMG_TEXT_OFFSET, 0, 1);
	kimg_put_multiboot(&k, KIMG_TEXT_OFFSET + 0x40, MULTIBOOT_FLAG_MEMORY_INFO, 0);
	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.multiboot_header_offset, KIMG_TEXT_OFFSET + 0x40);
	cr_assert_eq(image.multiboot_flags, MULTIBOOT_FLAG_MEMORY_INFO);
}

Test(kernel_image, unsupported_required_flags_are_named)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_put_multiboot(&k, KIMG_TEXT_OFFSET, MULTIBOOT_FLAG_MEMORY_INFO | (1u << 3) | (1u << 5), 0);
	kimg_expect_error(&k, "multiboot header requires unsupported feature flag bits 3, 5 (flags 0x2a)");
}

Test(kernel_image, video_mode_flag_is_accepted)
{
	struct kimg k;
	kimg_make_good(&k);
	uint32_t flags = MULTIBOOT_FLAG_PAGE_ALIGN | MULTIBOOT_FLAG_MEMORY_INFO | MULTIBOOT_FLAG_VIDEO_MODE;
	kimg_put_multiboot(&k, KIMG_TEXT_OFFSET, flags, 0);
	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.multiboot_flags, flags);
}

Test(kernel_image, aout_kludge_addresses_are_ignored)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_put_multiboot(&k, KIMG_TEXT_OFFSET, MULTIBOOT_FLAG_AOUT_KLUDGE | (1u << 20), 0);
	for (size_t field = 12; field < sizeof(struct multiboot_header); field += 4)
		kimg_put_u32(&k, KIMG_TEXT_OFFSET + field, 0xDEADBEEFu);   /* nonsense addresses */
	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.entry, KIMG_ENTRY);
	cr_assert_eq(image.segments[0].paddr, KIMG_TEXT_PADDR);
}

/* A file of 8192 + 64 bytes whose only multiboot header is at `offset`. */
static void kimg_make_with_header_at(struct kimg *k, size_t offset)
{
	kimg_make_good(k);
	memset(k->bytes + KIMG_TEXT_OFFSET, 0, 12);
	k->size = MULTIBOOT_SEARCH_BYTES + 64;
	kimg_put_multiboot(k, offset, 0, 0);
}

Test(kernel_image, header_at_last_valid_offset_is_found)
{
	struct kimg k;
	const size_t last = MULTIBOOT_SEARCH_BYTES - 12;   /* magic, flags, checksum end at 8192 */
	kimg_make_with_header_at(&k, last);
	struct kernel_image image;
	kimg_expect_ok(&k, &image);
	cr_assert_eq(image.multiboot_header_offset, last);
}

Test(kernel_image, header_reaching_past_8192_bytes_is_not_found)
{
	struct kimg k;
	kimg_make_with_header_at(&k, MULTIBOOT_SEARCH_BYTES - 8);
	kimg_expect_error(&k, "no multiboot header");
}

Test(kernel_image, header_just_past_8192_bytes_is_not_found)
{
	struct kimg k;
	kimg_make_with_header_at(&k, MULTIBOOT_SEARCH_BYTES);
	kimg_expect_error(&k, "no multiboot header");
}

/* --- segments --------------------------------------------------------------------------- */

static void kimg_move_data_segment(struct kimg *k, uint32_t paddr, uint32_t memsz)
{
	Elf32_Phdr phdr = kimg_get_phdr(k, 1);
	phdr.p_paddr = paddr;
	phdr.p_memsz = memsz;
	if (phdr.p_filesz > memsz)
		phdr.p_filesz = memsz;
	kimg_put_phdr(k, 1, &phdr);
}

/* RAM covering nearly all of the 4 GiB, so only the ROM and window rules can object. */
static const struct guest_memory kimg_huge_ram = { .host = NULL, .base = 0, .size = 0xFFFFFFFFu };

Test(kernel_image, file_size_larger_than_memory_size)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Phdr phdr = kimg_get_phdr(&k, 1);
	phdr.p_memsz = 0x40;
	kimg_put_phdr(&k, 1, &phdr);
	kimg_expect_error(&k, "segment 1: file size 0x80 exceeds memory size 0x40");
}

Test(kernel_image, segment_file_bytes_past_end_of_file)
{
	struct kimg k;
	kimg_make_good(&k);
	k.size -= 1;
	kimg_expect_error(&k, "segment 1: file bytes [0x200, 0x280) lie outside the 639-byte file");
}

Test(kernel_image, segment_file_offset_that_would_overflow)
{
	struct kimg k;
	kimg_make_good(&k);
	Elf32_Phdr phdr = kimg_get_phdr(&k, 1);
	phdr.p_offset = 0xFFFFFFC0u;
	kimg_put_phdr(&k, 1, &phdr);
	kimg_expect_error(&k, "segment 1: file bytes [0xffffffc0, 0x100000040) lie outside the 640-byte file");
}

Test(kernel_image, segment_wrapping_past_4_gib)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_move_data_segment(&k, 0xFFFFF000u, 0x2000);
	kimg_expect_error(&k, "segment 1: [0xfffff000, 0x100001000) wraps past 4 GiB");
}

Test(kernel_image, segment_in_rom_area)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_move_data_segment(&k, 0xF0000, 0x100);
	kimg_expect_error(&k, "segment 1 at [0xf0000, 0xf0100) overlaps the ROM area [0xc0000, 0x100000)");
	kimg_expect_error_with_ram(&k, &kimg_huge_ram, "overlaps the ROM area");
}

Test(kernel_image, segment_running_into_rom_area)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_move_data_segment(&k, VMI_ROM_BASE - 0x80, 0x81);
	kimg_expect_error_with_ram(&k, &kimg_huge_ram, "overlaps the ROM area");
	kimg_move_data_segment(&k, VMI_ROM_BASE - 0x80, 0x80);   /* ends right at the ROM */
	struct kernel_image image;
	char error[KERNEL_IMAGE_ERROR_MAX];
	cr_assert_eq(kimg_parse_prefix(&k, k.size, &kimg_huge_ram, &image, error), 0, "%s", error);
}

Test(kernel_image, segment_in_vmirun_window)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_move_data_segment(&k, VMI_PROCESS_WINDOW_BASE, 0x100);
	kimg_expect_error(&k, "segment 1 at [0xffff0000, 0xffff0100) overlaps vmirun's reserved window "
	                      "[0xffff0000, 4 GiB)");
	kimg_move_data_segment(&k, VMI_PROCESS_WINDOW_BASE - 0x100, 0x101);
	kimg_expect_error_with_ram(&k, &kimg_huge_ram, "overlaps vmirun's reserved window");
}

Test(kernel_image, segment_below_guest_ram)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_move_data_segment(&k, 0x80000, 0x100);
	kimg_expect_error(&k, "segment 1 at [0x80000, 0x80100) is outside guest RAM [0x100000, 0x200000)");
}

Test(kernel_image, segment_past_end_of_guest_ram)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_move_data_segment(&k, KIMG_RAM_BASE + KIMG_RAM_SIZE - 0x80, 0x81);
	kimg_expect_error(&k, "segment 1 at [0x1fff80, 0x200001) is outside guest RAM [0x100000, 0x200000)");
	kimg_move_data_segment(&k, KIMG_RAM_BASE + KIMG_RAM_SIZE - 0x80, 0x80);   /* fills it */
	struct kernel_image image;
	kimg_expect_ok(&k, &image);
}

Test(kernel_image, overlapping_segments_are_named)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_move_data_segment(&k, KIMG_TEXT_PADDR + 0x200, 0x80);   /* lands in text's bss */
	kimg_expect_error(&k, "segments 0 [0x100000, 0x100300) and 1 [0x100200, 0x100280) overlap");
}

Test(kernel_image, entry_outside_every_segment)
{
	struct kimg k;
	kimg_make_good(&k);
	kimg_set_entry(&k, KIMG_TEXT_PADDR + KIMG_TEXT_MEMSZ);   /* one past text's bss */
	kimg_expect_error(&k, "entry point 0x100300 is not inside any loaded segment");
}

/* --- robustness ------------------------------------------------------------------------- */

Test(kernel_image, every_truncation_fails_cleanly)
{
	struct kimg k;
	kimg_make_good(&k);
	for (size_t size = 0; size < k.size; size++) {
		struct kernel_image image;
		char error[KERNEL_IMAGE_ERROR_MAX] = "";
		int result = kimg_parse_prefix(&k, size, &kimg_ram, &image, error);
		cr_assert_eq(result, -1, "truncated to %zu bytes yet parsed", size);
		cr_assert_gt(strlen(error), 0, "no reason at %zu bytes", size);
		cr_assert_null(strchr(error, '\n'));
	}
	struct kernel_image image;
	char error[KERNEL_IMAGE_ERROR_MAX];
	cr_assert_eq(kimg_parse_prefix(&k, k.size, &kimg_ram, &image, error), 0, "%s", error);
}

Test(kernel_image, every_header_byte_corruption_is_handled)
{
	struct kimg good;
	kimg_make_good(&good);
	static const uint8_t patterns[] = { 0x00, 0xFF, 0x80, 0x7F };
	const size_t headers_end = KIMG_PHOFF + 2 * sizeof(Elf32_Phdr);
	for (size_t offset = 0; offset < headers_end; offset++) {
		for (size_t p = 0; p < sizeof patterns; p++) {
			struct kimg k = good;
			k.bytes[offset] = patterns[p];
			struct kernel_image image;
			char error[KERNEL_IMAGE_ERROR_MAX] = "";
			if (kimg_parse(&k, &image, error) == 0) {
				cr_assert_leq(image.segment_count, KERNEL_IMAGE_MAX_SEGMENTS);
				cr_assert_geq(image.load_start, KIMG_RAM_BASE);
				cr_assert_leq(image.load_end, KIMG_RAM_BASE + KIMG_RAM_SIZE);
			} else {
				cr_assert_gt(strlen(error), 0, "byte %zu = %#x: no reason", offset, patterns[p]);
			}
		}
	}
}
