/* libFuzzer target for ROM images: parses and verifies the input as an image, and (since a
 * valid image is far larger than fuzzing inputs grow) also as a patch over a small valid
 * image built here, so the record, template and stub checks see inputs too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/calls.h>
#include <vmi/link.h>
#include <vmi/rom.h>
#include "../../tools/rom_image.h"
#include "../../tools/rom_verify.h"

/* The skeleton: call table, one body, the link records, the program header, a pad byte. */
#define SKELETON_BODY   VMI_ROM_CALL_TABLE_END
#define SKELETON_TABLE  (SKELETON_BODY + 64)
#define SKELETON_PHDR   (SKELETON_TABLE + VMI_CALL_COUNT * VMI_LINK_RECORD_SIZE)
#define SKELETON_SIZE   ((SKELETON_PHDR + 32 + 1 + VMI_ROM_LENGTH_UNIT - 1) / \
                         VMI_ROM_LENGTH_UNIT * VMI_ROM_LENGTH_UNIT)
#define SKELETON_BASE   0x000C0000u

/* A template with an internal branch: cmpl $0, 0x1000; je +2; nop; nop. */
static const uint8_t skeleton_template[] = { 0x83, 0x3D, 0x00, 0x10, 0x00, 0x00, 0x00,
                                             0x74, 0x02, 0x90, 0x90 };

static uint8_t skeleton[SKELETON_SIZE];
static uint8_t work[SKELETON_SIZE];

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void seal(uint8_t *image, size_t size)
{
	uint8_t sum = 0;
	for (size_t i = 0; i + 1 < size; i++)
		sum = (uint8_t)(sum + image[i]);
	image[size - 1] = (uint8_t)-sum;
}

static void record(unsigned call, uint8_t type, uint8_t flags, uint32_t clobbers,
                   const uint8_t *template_bytes, uint8_t length)
{
	uint8_t *r = skeleton + SKELETON_TABLE + call * VMI_LINK_RECORD_SIZE;
	r[VMI_LINK_REC_TYPE] = type;
	r[VMI_LINK_REC_LENGTH] = length;
	r[VMI_LINK_REC_FLAGS] = flags;
	put32(r + VMI_LINK_REC_TARGET, SKELETON_BASE + VMI_ROM_CALL_OFFSET(call));
	put32(r + VMI_LINK_REC_CLOBBERS, clobbers);
	if (length)
		memcpy(r + VMI_LINK_REC_TEMPLATE, template_bytes, length);
}

static void build_skeleton(void)
{
	uint8_t *h = skeleton;
	put16(h, VMI_ROM_OPTION_SIGNATURE);
	h[VMI_ROM_HDR_LENGTH] = SKELETON_SIZE / VMI_ROM_LENGTH_UNIT;
	h[VMI_ROM_HDR_ENTRY] = 0xCB;
	put32(h + VMI_ROM_HDR_VMI_SIGNATURE, VMI_ROM_VMI_SIGNATURE);
	h[VMI_ROM_HDR_API_MINOR] = VMI_API_MINOR;
	h[VMI_ROM_HDR_API_MAJOR] = VMI_API_MAJOR;
	put32(h + VMI_ROM_HDR_PRIVATE, SKELETON_TABLE);

	uint8_t *e = skeleton + VMI_ROM_ELF_HEADER_OFFSET;
	memcpy(e, "\177ELF\1\1\1", 7);
	put16(e + 16, 2);                                   /* ET_EXEC */
	put16(e + 18, 3);                                   /* EM_386 */
	put32(e + 20, 1);
	put32(e + 24, SKELETON_BASE + VMI_ROM_CALL_OFFSET(VMI_CALL_Init));
	put32(e + 28, SKELETON_PHDR);
	put16(e + 40, 52);
	put16(e + 42, 32);
	put16(e + 44, 1);

	uint8_t *p = skeleton + SKELETON_PHDR;
	put32(p + 0, 1);                                    /* PT_LOAD */
	put32(p + 8, SKELETON_BASE);
	put32(p + 12, SKELETON_BASE);
	put32(p + 16, SKELETON_SIZE);
	put32(p + 20, SKELETON_SIZE);
	put32(p + 24, 5);                                   /* R+X */
	put32(p + 28, 32);

	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		uint8_t *slot = skeleton + VMI_ROM_CALL_OFFSET(call);
		memset(slot, 0xCC, VMI_ROM_SLOT_SIZE);
		slot[0] = 0xC3;
		record(call, VMI_LINK_CALL_REL, 0, 0, NULL, 0);
	}
	/* Init jumps to a body after the call table. */
	uint8_t *init = skeleton + VMI_ROM_CALL_OFFSET(VMI_CALL_Init);
	init[0] = 0xE9;
	put32(init + 1, SKELETON_BODY - (VMI_ROM_CALL_OFFSET(VMI_CALL_Init) + 5));
	memset(skeleton + SKELETON_BODY, 0xCC, SKELETON_TABLE - SKELETON_BODY);
	skeleton[SKELETON_BODY] = 0xC3;
	/* One inline template, one jump, one nop. */
	uint8_t *sti = skeleton + VMI_ROM_CALL_OFFSET(VMI_CALL_EnableInterrupts);
	memcpy(sti, skeleton_template, sizeof(skeleton_template));
	sti[sizeof(skeleton_template)] = 0xC3;
	record(VMI_CALL_EnableInterrupts, VMI_LINK_INLINE, VMI_LINK_FLAG_INTERNAL_BRANCH,
	       VMI_CLOBBER_FLAGS, skeleton_template, sizeof(skeleton_template));
	uint8_t *iret = skeleton + VMI_ROM_CALL_OFFSET(VMI_CALL_IRET);
	iret[0] = 0x0F;
	iret[1] = 0x0B;                                     /* ud2 */
	record(VMI_CALL_IRET, VMI_LINK_JUMP_REL, 0, 0, NULL, 0);
	record(VMI_CALL_INVD, VMI_LINK_NOP, 0, 0, NULL, 0);
	seal(skeleton, SKELETON_SIZE);
}

/* Verifies one image and holds the promises: 0 or 1, and a reason of exactly one line. */
static void verify(const uint8_t *bytes, size_t size)
{
	struct rom_image image;
	rom_image_parse(&image, bytes, size);
	char reason[512];
	memset(reason, 'x', sizeof(reason));
	reason[sizeof(reason) - 1] = '\0';
	struct rom_verify_summary summary;
	int result = rom_verify(&image, reason, sizeof(reason), &summary);
	if (result != 0 && result != 1)
		abort();
	if (result == 1 && (reason[0] == '\0' || strchr(reason, '\n')))
		abort();
	if (result == 0) {
		unsigned total = 0;
		for (unsigned t = 0; t <= VMI_LINK_INLINE; t++)
			total += summary.by_type[t];
		if (total != VMI_CALL_COUNT)
			abort();
	}
	/* What vmirom calls/disasm read on a structurally valid image. */
	if (image.status == VMI_ROM_OK) {
		for (unsigned call = 0; call < VMI_CALL_COUNT; call++) {
			struct vmi_link_record r;
			if (rom_image_record(&image, call, &r) != 0)
				abort();
			char clobbers[128];
			rom_clobbers_text(r.clobbers, clobbers, sizeof(clobbers));
			rom_image_region(&image, rom_image_offset(&image, r.target));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		build_skeleton();
		struct rom_image image;
		char reason[512];
		rom_image_parse(&image, skeleton, SKELETON_SIZE);
		if (rom_verify(&image, reason, sizeof(reason), NULL) != 0) {
			fprintf(stderr, "fuzz_rom: the skeleton image is invalid: %s\n", reason);
			abort();
		}
		ready = 1;
	}

	/* The input as an image; copied so reads past its end are caught. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	verify(copy, size);
	free(copy);

	/* The input as a patch: two bytes of offset, then bytes laid over the skeleton. */
	if (size >= 3) {
		size_t offset = (size_t)(data[0] | data[1] << 8) % SKELETON_SIZE;
		size_t length = size - 2;
		if (length > SKELETON_SIZE - offset)
			length = SKELETON_SIZE - offset;
		memcpy(work, skeleton, SKELETON_SIZE);
		memcpy(work + offset, data + 2, length);
		seal(work, SKELETON_SIZE);
		verify(work, SKELETON_SIZE);
	}
	return 0;
}
