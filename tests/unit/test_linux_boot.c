/* Unit tests of the Linux loader (vmm/loader/linux_boot.c) on images built in memory: a
 * bzImage and a vmlinux that are good, then one defect at a time; the zero page against
 * the boot protocol (Documentation/x86/boot.rst, zero-page.rst); the initrd's place. */
#include <criterion/criterion.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "loader/kernel_image.h"
#include "loader/linux_boot.h"
#include "vmi/multiboot.h"
#include "vmi/process.h"

/* The good bzImage: a boot sector and 2 setup sectors, then 0x800 bytes of protected-mode
 * code; protocol 2.15, header to 0x26C, decompressing itself at 2 MiB into 1 MiB. */
#define BZ_SETUP_SECTS     2u
#define BZ_CODE_OFFSET     ((BZ_SETUP_SECTS + 1) * 512u)
#define BZ_CODE_BYTES      0x800u
#define BZ_SIZE            (BZ_CODE_OFFSET + BZ_CODE_BYTES)
#define BZ_HEADER_END      0x26Cu
#define BZ_PREF_ADDRESS    0x200000u
#define BZ_INIT_SIZE       0x100000u
#define BZ_CMDLINE_SIZE    0x7FFu

/* Guest RAM: 4 MiB at 1 MiB, in a host buffer. */
#define RAM_BASE  VMI_PROCESS_RAM_BASE
#define RAM_SIZE  0x400000u

struct image {
	uint8_t bytes[0x4000];
	size_t size;
};

static uint8_t *ram_buffer;
static struct guest_memory ram;

static void setup_ram(void)
{
	ram_buffer = calloc(1, RAM_SIZE);
	cr_assert_not_null(ram_buffer);
	ram = (struct guest_memory){ .host = ram_buffer, .base = RAM_BASE, .size = RAM_SIZE };
}

static void teardown_ram(void)
{
	free(ram_buffer);
}

static void put16(struct image *k, size_t offset, uint16_t value)
{
	memcpy(k->bytes + offset, &value, sizeof value);
}

static void put32(struct image *k, size_t offset, uint32_t value)
{
	memcpy(k->bytes + offset, &value, sizeof value);
}

static void put64(struct image *k, size_t offset, uint64_t value)
{
	memcpy(k->bytes + offset, &value, sizeof value);
}

static void make_bzimage(struct image *k)
{
	memset(k, 0, sizeof *k);
	k->size = BZ_SIZE;
	/* Recognisable never-zero bytes everywhere, header fields over them. */
	for (size_t i = 0; i < k->size; i++)
		k->bytes[i] = (uint8_t)(i * 7 + 1) | 1;
	k->bytes[0x1F1] = BZ_SETUP_SECTS;
	put16(k, 0x1FE, 0xAA55);
	k->bytes[0x200] = 0xEB;
	k->bytes[0x201] = BZ_HEADER_END - 0x202;
	memcpy(k->bytes + 0x202, "HdrS", 4);
	put16(k, 0x206, 0x020F);
	k->bytes[0x210] = 0;                  /* type_of_loader: the loader's to write */
	k->bytes[0x211] = 0x01 | 0x20 | 0x80;   /* LOADED_HIGH, QUIET_FLAG, CAN_USE_HEAP */
	put32(k, 0x214, LINUX_BZIMAGE_LOAD_ADDRESS);
	put32(k, 0x218, 0);
	put32(k, 0x21C, 0);
	put32(k, 0x228, 0);
	put32(k, 0x22C, 0x7FFFFFFF);
	put32(k, 0x230, 0x200000);
	k->bytes[0x234] = 0;                  /* not relocatable */
	put16(k, 0x236, 0);
	put32(k, 0x238, BZ_CMDLINE_SIZE);
	put64(k, 0x258, BZ_PREF_ADDRESS);
	put32(k, 0x260, BZ_INIT_SIZE);
}

/* Parses a copy of exactly `size` bytes, so ASan catches a read past the end. */
static int parse_prefix(const struct image *k, size_t size, struct linux_image *image,
                        char error[LINUX_BOOT_ERROR_MAX])
{
	uint8_t *copy = malloc(size ? size : 1);
	cr_assert_not_null(copy);
	memcpy(copy, k->bytes, size);
	memset(error, 'x', LINUX_BOOT_ERROR_MAX);
	int result = linux_image_parse(copy, size, &ram, image, error);
	free(copy);
	return result;
}

static void expect_ok(const struct image *k, struct linux_image *image)
{
	char error[LINUX_BOOT_ERROR_MAX];
	cr_assert_eq(parse_prefix(k, k->size, image, error), 0, "parse failed: %s", error);
}

static void expect_error(const struct image *k, const char *expected)
{
	struct linux_image image;
	char error[LINUX_BOOT_ERROR_MAX];
	cr_assert_eq(parse_prefix(k, k->size, &image, error), -1, "accepted; expected \"%s\"",
	             expected);
	cr_assert_lt(strnlen(error, sizeof error), sizeof error, "error not terminated");
	cr_assert_null(strchr(error, '\n'), "error has a newline: \"%s\"", error);
	cr_assert_not_null(strstr(error, expected), "error \"%s\" lacks \"%s\"", error, expected);
}

TestSuite(linux_boot, .init = setup_ram, .fini = teardown_ram);

/* --- recognising the protocol ------------------------------------------------------------ */

/* An i386 ELF with one PT_LOAD at 2 MiB and, when asked, a PT_NOTE owned by "Linux". */
#define ELF_LOAD_OFFSET 0x200u
#define ELF_LOAD_PADDR  0x200000u
#define ELF_LOAD_FILESZ 0x100u
#define ELF_LOAD_MEMSZ  0x400u
#define ELF_NOTE_OFFSET 0x180u
#define ELF_ENTRY       (ELF_LOAD_PADDR + 0x10u)

static void make_vmlinux(struct image *k, int with_linux_note)
{
	memset(k, 0, sizeof *k);
	k->size = ELF_LOAD_OFFSET + ELF_LOAD_FILESZ;
	Elf32_Ehdr ehdr = {
		.e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
		.e_entry = ELF_ENTRY, .e_phoff = sizeof(Elf32_Ehdr), .e_ehsize = sizeof(Elf32_Ehdr),
		.e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 2,
	};
	memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
	ehdr.e_ident[EI_CLASS] = ELFCLASS32;
	ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
	ehdr.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(k->bytes, &ehdr, sizeof ehdr);
	Elf32_Phdr load = {
		.p_type = PT_LOAD, .p_offset = ELF_LOAD_OFFSET, .p_vaddr = 0xC0000000u + ELF_LOAD_PADDR,
		.p_paddr = ELF_LOAD_PADDR, .p_filesz = ELF_LOAD_FILESZ, .p_memsz = ELF_LOAD_MEMSZ,
		.p_flags = PF_R | PF_X, .p_align = 0x1000,
	};
	/* Two notes: one whose name and descriptor are padded to 4 bytes first, so the walker
	 * has to step over it as the ELF format says. */
	static const uint8_t notes[] = {
		3, 0, 0, 0,  2, 0, 0, 0,  4, 0, 0, 0,  'G', 'o', 0, 0,  0xAA, 0xBB, 0, 0,
		6, 0, 0, 0,  4, 0, 0, 0,  0, 1, 0, 0,  'L', 'i', 'n', 'u', 'x', 0, 0, 0,  0, 0, 0, 0,
	};
	Elf32_Phdr note = {
		.p_type = PT_NOTE, .p_offset = ELF_NOTE_OFFSET,
		.p_filesz = with_linux_note ? sizeof notes : 20, .p_align = 4,
	};
	memcpy(k->bytes + sizeof ehdr, &load, sizeof load);
	memcpy(k->bytes + sizeof ehdr + sizeof load, &note, sizeof note);
	memcpy(k->bytes + ELF_NOTE_OFFSET, notes, sizeof notes);
	for (size_t i = ELF_LOAD_OFFSET; i < k->size; i++)
		k->bytes[i] = (uint8_t)(i * 5 + 1) | 1;
}

Test(linux_boot, recognises_bzimage_and_vmlinux_and_nothing_else)
{
	struct image k;
	make_bzimage(&k);
	cr_assert_eq(linux_image_recognise(k.bytes, k.size), LINUX_IMAGE_BZIMAGE);
	cr_assert_eq(linux_image_recognise(k.bytes, 0x205), LINUX_IMAGE_NONE, "too short for HdrS");
	k.bytes[0x202] = 'h';
	cr_assert_eq(linux_image_recognise(k.bytes, k.size), LINUX_IMAGE_NONE);

	make_vmlinux(&k, 1);
	cr_assert_eq(linux_image_recognise(k.bytes, k.size), LINUX_IMAGE_VMLINUX);
	make_vmlinux(&k, 0);
	cr_assert_eq(linux_image_recognise(k.bytes, k.size), LINUX_IMAGE_NONE,
	             "an ELF without a Linux note is not Linux");

	/* A multiboot header wins: such a kernel asked for multiboot. */
	make_vmlinux(&k, 1);
	uint32_t header[3] = { MULTIBOOT_HEADER_MAGIC, 0, -MULTIBOOT_HEADER_MAGIC };
	memcpy(k.bytes + ELF_LOAD_OFFSET, header, sizeof header);
	cr_assert_eq(linux_image_recognise(k.bytes, k.size), LINUX_IMAGE_NONE);
	cr_assert_eq(linux_image_recognise(k.bytes, 3), LINUX_IMAGE_NONE);
	cr_assert_eq(linux_image_recognise(k.bytes, 0), LINUX_IMAGE_NONE);
}

Test(linux_boot, a_note_with_sizes_near_4_gib_is_not_linux_and_reads_nothing_outside)
{
	struct image k;
	make_vmlinux(&k, 1);
	put32(&k, ELF_NOTE_OFFSET, 0xFFFFFFFF);       /* the first note's name size */
	cr_assert_eq(linux_image_recognise(k.bytes, k.size), LINUX_IMAGE_NONE);
	make_vmlinux(&k, 1);
	put32(&k, ELF_NOTE_OFFSET + 4, 0xFFFFFFFD);   /* its descriptor size */
	cr_assert_eq(linux_image_recognise(k.bytes, k.size), LINUX_IMAGE_NONE);
}

/* --- a good bzImage ---------------------------------------------------------------------- */

Test(linux_boot, good_bzimage_parses)
{
	struct image k;
	make_bzimage(&k);
	struct linux_image image;
	expect_ok(&k, &image);
	cr_assert_eq(image.format, LINUX_IMAGE_BZIMAGE);
	cr_assert_eq(image.entry, LINUX_BZIMAGE_LOAD_ADDRESS);
	cr_assert_eq(image.protected_mode_offset, BZ_CODE_OFFSET);
	cr_assert_eq(image.protected_mode_bytes, BZ_CODE_BYTES);
	cr_assert_eq(image.setup_header_bytes, BZ_HEADER_END - 0x1F1);
	cr_assert_arr_eq(image.setup_header, k.bytes + 0x1F1, BZ_HEADER_END - 0x1F1);
	cr_assert_eq(image.cmdline_max, BZ_CMDLINE_SIZE);
	cr_assert_eq(image.initrd_addr_max, 0x7FFFFFFF);
	/* From the code at 1 MiB to the end of the room it decompresses into. */
	cr_assert_eq(image.footprint_start, LINUX_BZIMAGE_LOAD_ADDRESS);
	cr_assert_eq(image.footprint_end, BZ_PREF_ADDRESS + BZ_INIT_SIZE);
}

Test(linux_boot, setup_sects_zero_means_four)
{
	struct image k;
	make_bzimage(&k);
	k.bytes[0x1F1] = 0;
	k.size = 5 * 512 + 0x100;
	struct linux_image image;
	expect_ok(&k, &image);
	cr_assert_eq(image.protected_mode_offset, 5 * 512);
	cr_assert_eq(image.protected_mode_bytes, 0x100);
}

Test(linux_boot, a_relocatable_bzimage_decompresses_at_its_aligned_load_address_or_higher)
{
	struct image k;
	make_bzimage(&k);
	k.bytes[0x234] = 1;
	put64(&k, 0x258, 0x100000);          /* pref_address below the aligned load address */
	put32(&k, 0x230, 0x400000);          /* 4 MiB alignment: 1 MiB rounds up to 4 MiB */
	put32(&k, 0x260, 0x80000);
	struct linux_image image;
	expect_ok(&k, &image);
	cr_assert_eq(image.footprint_end, 0x400000 + 0x80000);
	put32(&k, 0x230, 0x1000);            /* aligned already: pref_address, 1 MiB */
	expect_ok(&k, &image);
	cr_assert_eq(image.footprint_end, 0x100000 + 0x80000);
	put32(&k, 0x230, 0x3000);
	expect_error(&k, "kernel_alignment 0x3000 is not a power of two");
	put32(&k, 0x230, 0);
	expect_error(&k, "kernel_alignment 0 is not a power of two");
}

Test(linux_boot, load_copies_the_protected_mode_code_to_1_mib)
{
	struct image k;
	make_bzimage(&k);
	struct linux_image image;
	expect_ok(&k, &image);
	memset(ram_buffer, 0xEE, RAM_SIZE);
	linux_image_load(&image, k.bytes, &ram);
	uint8_t *at = ram_buffer + (LINUX_BZIMAGE_LOAD_ADDRESS - RAM_BASE);
	cr_assert_arr_eq(at, k.bytes + BZ_CODE_OFFSET, BZ_CODE_BYTES);
	cr_assert_eq(at[BZ_CODE_BYTES], 0xEE, "nothing written past the code");
}

/* --- one defect at a time ---------------------------------------------------------------- */

Test(linux_boot, bzimage_defects_are_one_line_errors)
{
	struct image k;
	make_bzimage(&k);
	k.size = 0x263;
	expect_error(&k, "too short for a setup header of protocol 2.10");

	make_bzimage(&k);
	put16(&k, 0x1FE, 0x55AA);
	expect_error(&k, "boot_flag at 0x1fe is 0x55aa, not 0xaa55");

	make_bzimage(&k);
	put16(&k, 0x206, 0x0209);
	expect_error(&k, "boot protocol 2.09 is older than 2.10");

	make_bzimage(&k);
	k.bytes[0x201] = 0x60;
	expect_error(&k, "the setup header ends at 0x262, before its init_size field");

	make_bzimage(&k);
	k.bytes[0x201] = 0x90;
	expect_error(&k, "the setup header ends at 0x292, past 0x290");

	make_bzimage(&k);
	k.size = 0x268;
	expect_error(&k, "the setup header runs to 0x26c, past the end of the 616-byte file");

	make_bzimage(&k);
	put16(&k, 0x236, 0x0001);
	expect_error(&k, "a 64-bit kernel (xloadflags has XLF_KERNEL_64)");
	put16(&k, 0x206, 0x020B);   /* xloadflags came with 2.12: before, the bytes mean nothing */
	struct linux_image image;
	expect_ok(&k, &image);

	make_bzimage(&k);
	k.bytes[0x211] = 0x80;
	expect_error(&k, "loadflags say zImage");

	make_bzimage(&k);
	k.size = BZ_CODE_OFFSET;
	expect_error(&k, "the real-mode setup (2 sectors after the boot sector) takes the whole "
	                 "1536-byte file");

	make_bzimage(&k);
	put32(&k, 0x214, LINUX_BZIMAGE_LOAD_ADDRESS + BZ_CODE_BYTES);
	expect_error(&k, "code32_start 0x100800 is outside its protected-mode kernel, loaded at "
	                 "[0x100000, 0x100800)");

	make_bzimage(&k);
	put64(&k, 0x258, RAM_BASE + RAM_SIZE - BZ_INIT_SIZE + 0x1000);
	expect_error(&k, "decompresses itself into [0x401000, 0x501000)");
	expect_error(&k, "outside guest RAM [0x100000, 0x500000): raise --mem");

	make_bzimage(&k);
	put64(&k, 0x258, 0xFFFFFFFFFFFFF000ull);   /* plus init_size wraps: still refused */
	expect_error(&k, "decompresses itself into [0xfffffffffffff000,");
	put64(&k, 0x258, 0x100000000ull);
	expect_error(&k, "decompresses itself into [0x100000000,");
}

Test(linux_boot, a_protected_mode_kernel_larger_than_ram_is_refused)
{
	struct image k;
	make_bzimage(&k);
	struct guest_memory small = { .host = ram_buffer, .base = RAM_BASE, .size = BZ_CODE_BYTES - 1 };
	struct linux_image image;
	char error[LINUX_BOOT_ERROR_MAX];
	cr_assert_eq(linux_image_parse(k.bytes, k.size, &small, &image, error), -1);
	cr_assert_not_null(strstr(error, "protected-mode kernel of 2048 bytes at 0x100000 does not "
	                                 "fit in guest RAM [0x100000, 0x1007ff)"), "%s", error);
}

/* Every prefix of a good image is either accepted or refused in one line, never a read past
 * its end (ASan watches the exact-size copies). */
Test(linux_boot, every_prefix_is_handled)
{
	struct image k;
	make_bzimage(&k);
	for (size_t size = 0; size <= k.size; size++) {
		struct linux_image image;
		char error[LINUX_BOOT_ERROR_MAX];
		if (parse_prefix(&k, size, &image, error) != 0)
			cr_assert(strnlen(error, sizeof error) > 0 && !strchr(error, '\n'), "%zu: %s",
			          size, error);
	}
	make_vmlinux(&k, 1);
	for (size_t size = 0; size <= k.size; size++) {
		struct linux_image image;
		char error[LINUX_BOOT_ERROR_MAX];
		if (parse_prefix(&k, size, &image, error) != 0)
			cr_assert(strnlen(error, sizeof error) > 0 && !strchr(error, '\n'), "%zu: %s",
			          size, error);
	}
}

/* --- vmlinux ----------------------------------------------------------------------------- */

Test(linux_boot, good_vmlinux_parses_loads_and_gets_a_made_up_header)
{
	struct image k;
	make_vmlinux(&k, 1);
	struct linux_image image;
	expect_ok(&k, &image);
	cr_assert_eq(image.format, LINUX_IMAGE_VMLINUX);
	cr_assert_eq(image.entry, ELF_ENTRY);
	cr_assert_eq(image.footprint_start, ELF_LOAD_PADDR);
	cr_assert_eq(image.footprint_end, ELF_LOAD_PADDR + ELF_LOAD_MEMSZ);
	cr_assert_eq(image.cmdline_max, 2047);
	cr_assert_eq(image.initrd_addr_max, 0x7FFFFFFF);

	memset(ram_buffer, 0xEE, RAM_SIZE);
	linux_image_load(&image, k.bytes, &ram);
	uint8_t *at = ram_buffer + (ELF_LOAD_PADDR - RAM_BASE);
	cr_assert_arr_eq(at, k.bytes + ELF_LOAD_OFFSET, ELF_LOAD_FILESZ);
	for (size_t i = ELF_LOAD_FILESZ; i < ELF_LOAD_MEMSZ; i++)
		cr_assert_eq(at[i], 0, "bss byte %zu not zeroed", i);

	struct linux_setup_header hdr;
	memcpy(&hdr, image.setup_header, sizeof hdr);
	cr_assert_eq(image.setup_header_bytes, sizeof hdr);
	cr_assert_eq(hdr.header, LINUX_SETUP_HEADER_MAGIC);
	cr_assert_eq(hdr.boot_flag, LINUX_BOOT_FLAG);
	cr_assert_eq(hdr.version, 0x020A);
	cr_assert_eq(hdr.loadflags, LINUX_LOADFLAGS_LOADED_HIGH);
	cr_assert_eq(hdr.code32_start, ELF_ENTRY);
	cr_assert_eq(hdr.cmdline_size, 2047);
	cr_assert_eq(0x202 + hdr.jump[1], 0x264, "the header's own end");
}

Test(linux_boot, vmlinux_elf_defects_are_said_as_vmlinux)
{
	struct image k;
	make_vmlinux(&k, 1);
	Elf32_Phdr load;
	memcpy(&load, k.bytes + sizeof(Elf32_Ehdr), sizeof load);
	load.p_paddr = 0x1000000;   /* 16 MiB, beyond the 4 MiB of RAM */
	memcpy(k.bytes + sizeof(Elf32_Ehdr), &load, sizeof load);
	expect_error(&k, "vmlinux: segment 0 at [0x1000000, 0x1000400) is outside guest RAM");

	make_vmlinux(&k, 1);
	put32(&k, offsetof(Elf32_Ehdr, e_entry), 0x300000);
	expect_error(&k, "vmlinux: entry point 0x300000 is not inside any loaded segment");
}

Test(linux_boot, anything_else_is_not_a_linux_kernel)
{
	struct image k;
	make_vmlinux(&k, 0);
	expect_error(&k, "not a Linux kernel: neither a bzImage");
}

/* --- the zero page ----------------------------------------------------------------------- */

static uint8_t boot_area[VMI_PROCESS_BOOT_INFO_SIZE];
static const struct guest_memory area = {
	.host = boot_area, .base = VMI_PROCESS_BOOT_INFO_BASE, .size = sizeof boot_area,
};

static struct linux_boot_params build(const struct linux_image *image,
                                      const struct linux_boot_request *request)
{
	uint32_t address = 0;
	char error[LINUX_BOOT_ERROR_MAX];
	memset(boot_area, 0xEE, sizeof boot_area);
	cr_assert_eq(linux_boot_params_build(image, request, &area, &address, error), 0, "%s", error);
	cr_assert_eq(address, VMI_PROCESS_BOOT_INFO_BASE, "the zero page starts the area");
	struct linux_boot_params params;
	memcpy(&params, boot_area, sizeof params);
	return params;
}

Test(linux_boot, the_zero_page_follows_the_protocol)
{
	struct image k;
	make_bzimage(&k);
	struct linux_image image;
	expect_ok(&k, &image);
	struct linux_boot_request request = {
		.ram_bytes = RAM_SIZE, .cmdline = "console=ttyS0 rdinit=/init",
		.initrd_address = 0x4FF000, .initrd_bytes = 0x800,
	};
	struct linux_boot_params params = build(&image, &request);
	const uint8_t *raw = (const uint8_t *)&params;

	/* Zeroed, but for the setup header (copied from the file, up to its end) and what the
	 * loader writes into it and the e820 map. */
	for (size_t i = 0; i < 0x1E8; i++)
		cr_assert_eq(raw[i], 0, "byte %#zx not zero", i);
	cr_assert_eq(params.sentinel, 0);
	for (size_t i = 0x1F1; i < BZ_HEADER_END; i++) {
		if ((i >= 0x210 && i < 0x212) || (i >= 0x218 && i < 0x220) || (i >= 0x228 && i < 0x22C))
			continue;   /* written by the loader, checked below */
		cr_assert_eq(raw[i], k.bytes[i], "header byte %#zx: %#x, the file has %#x", i, raw[i],
		             k.bytes[i]);
	}
	for (size_t i = BZ_HEADER_END; i < 0x2D0; i++)
		cr_assert_eq(raw[i], 0, "byte %#zx past the header not zero", i);

	cr_assert_eq(params.hdr.type_of_loader, 0xFF, "non-zero, or Linux ignores the initrd");
	cr_assert_eq(params.hdr.loadflags, LINUX_LOADFLAGS_LOADED_HIGH,
	             "no heap (CAN_USE_HEAP), not quiet");
	cr_assert_eq(params.hdr.cmd_line_ptr, VMI_PROCESS_BOOT_INFO_BASE + 0x1000);
	cr_assert_str_eq((const char *)boot_area + 0x1000, "console=ttyS0 rdinit=/init");
	cr_assert_eq(params.hdr.ramdisk_image, 0x4FF000);
	cr_assert_eq(params.hdr.ramdisk_size, 0x800);

	/* What exists: low memory from 64 KiB, the ROM hole, RAM, vmirun's window. */
	cr_assert_eq(params.e820_entries, 4);
	const struct linux_e820_entry expected[] = {
		{ 0x10000, 0x9FC00 - 0x10000, LINUX_E820_RAM },
		{ 0xC0000, 0x40000, LINUX_E820_RESERVED },
		{ 0x100000, RAM_SIZE, LINUX_E820_RAM },
		{ 0xFFFF0000, 0x10000, LINUX_E820_RESERVED },
	};
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(params.e820_table[i].addr, expected[i].addr, "entry %u", i);
		cr_assert_eq(params.e820_table[i].size, expected[i].size, "entry %u", i);
		cr_assert_eq(params.e820_table[i].type, expected[i].type, "entry %u", i);
	}
	for (size_t i = 0x2D0 + 4 * sizeof(struct linux_e820_entry); i < sizeof params; i++)
		cr_assert_eq(raw[i], 0, "byte %#zx after the map not zero", i);
}

Test(linux_boot, no_initrd_and_no_command_line)
{
	struct image k;
	make_vmlinux(&k, 1);
	struct linux_image image;
	expect_ok(&k, &image);
	struct linux_boot_request request = { .ram_bytes = RAM_SIZE };
	struct linux_boot_params params = build(&image, &request);
	cr_assert_eq(params.hdr.ramdisk_image, 0);
	cr_assert_eq(params.hdr.ramdisk_size, 0);
	cr_assert_eq(params.hdr.type_of_loader, 0xFF);
	cr_assert_eq(params.hdr.header, LINUX_SETUP_HEADER_MAGIC);
	cr_assert_str_eq((const char *)boot_area + 0x1000, "");
}

Test(linux_boot, command_lines_too_long_and_bad_ram_are_refused)
{
	struct image k;
	make_bzimage(&k);
	struct linux_image image;
	expect_ok(&k, &image);
	char error[LINUX_BOOT_ERROR_MAX];
	uint32_t address;
	static char line[0x9000];

	memset(line, 'a', BZ_CMDLINE_SIZE);
	line[BZ_CMDLINE_SIZE] = '\0';
	struct linux_boot_request request = { .ram_bytes = RAM_SIZE, .cmdline = line };
	cr_assert_eq(linux_boot_params_build(&image, &request, &area, &address, error), 0, "%s",
	             error);
	line[BZ_CMDLINE_SIZE] = 'a';
	line[BZ_CMDLINE_SIZE + 1] = '\0';
	cr_assert_eq(linux_boot_params_build(&image, &request, &area, &address, error), -1);
	cr_assert_str_eq(error, "command line is 2048 bytes; this kernel takes at most 2047 (its "
	                        "cmdline_size)");

	image.cmdline_max = 0xFFFFFFFF;   /* the kernel's word is not the only limit */
	memset(line, 'a', sizeof line - 1);
	cr_assert_eq(linux_boot_params_build(&image, &request, &area, &address, error), -1);
	cr_assert_str_eq(error, "command line is 36863 bytes; at most 28671 fit in the boot info area");

	request.cmdline = "";
	request.ram_bytes = 0;
	cr_assert_eq(linux_boot_params_build(&image, &request, &area, &address, error), -1);
	cr_assert_str_eq(error, "guest RAM size is 0");
	request.ram_bytes = VMI_PROCESS_WINDOW_BASE;
	cr_assert_eq(linux_boot_params_build(&image, &request, &area, &address, error), -1);
	cr_assert_not_null(strstr(error, "runs into vmirun's reserved window"), "%s", error);
}

/* --- the initrd -------------------------------------------------------------------------- */

Test(linux_boot, the_initrd_goes_to_the_top_of_ram_below_initrd_addr_max)
{
	struct image k;
	make_bzimage(&k);
	struct linux_image image;
	expect_ok(&k, &image);
	char error[LINUX_BOOT_ERROR_MAX];
	uint32_t address;
	cr_assert_eq(linux_initrd_place(&image, &ram, 0x1800, &address, error), 0, "%s", error);
	cr_assert_eq(address, RAM_BASE + RAM_SIZE - 0x2000, "page-aligned, ending by RAM's end");

	image.initrd_addr_max = 0x3FFFFF;   /* the highest byte it may occupy */
	cr_assert_eq(linux_initrd_place(&image, &ram, 0x1000, &address, error), 0, "%s", error);
	cr_assert_eq(address, 0x3FF000);

	/* Above the kernel's footprint (its code and where it decompresses, up to 3 MiB). */
	image.initrd_addr_max = 0x7FFFFFFF;
	cr_assert_eq(linux_initrd_place(&image, &ram, RAM_BASE + RAM_SIZE - 0x300000, &address,
	                                error), 0, "%s", error);
	cr_assert_eq(address, 0x300000);
	cr_assert_eq(linux_initrd_place(&image, &ram, RAM_BASE + RAM_SIZE - 0x300000 + 1, &address,
	                                error), -1);
	cr_assert_str_eq(error, "initrd of 2097153 bytes does not fit in guest RAM between the "
	                        "kernel's end at 0x300000 and 0x500000 (the end of RAM or the "
	                        "kernel's initrd_addr_max): raise --mem");
	cr_assert_eq(linux_initrd_place(&image, &ram, 0xFFFFFFFF, &address, error), -1);
	cr_assert_eq(linux_initrd_place(&image, &ram, 0, &address, error), -1);
	cr_assert_not_null(strstr(error, "it is empty"), "%s", error);
}
