/* rom_seal: turns a flat ROM image into an option ROM. Pads it to whole 512-byte units,
 * sets the length byte and makes all bytes sum to 0 mod 256 through the last byte (which
 * rom_layout.inc's VMI_ROM_END always leaves as padding). Build-time host tool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/rom.h>

static int fail(const char *path, const char *what)
{
	fprintf(stderr, "rom_seal: %s: %s\n", path, what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rom_seal FLAT-IMAGE SEALED-IMAGE\n");
		return 2;
	}
	static unsigned char image[VMI_ROM_MAX_SIZE + 1];
	FILE *in = fopen(argv[1], "rb");
	if (!in)
		return fail(argv[1], strerror(errno));
	size_t size = fread(image, 1, sizeof(image), in);
	int read_error = ferror(in);
	fclose(in);
	if (read_error)
		return fail(argv[1], "read error");
	if (size > VMI_ROM_MAX_SIZE)
		return fail(argv[1], "larger than the largest option ROM (255 x 512 bytes)");
	if (size < VMI_ROM_HDR_SIZE)
		return fail(argv[1], "shorter than a ROM header");

	/* Padding is zeros; the array is static, so they are already there. */
	size_t sealed = (size + VMI_ROM_LENGTH_UNIT - 1) / VMI_ROM_LENGTH_UNIT * VMI_ROM_LENGTH_UNIT;
	image[VMI_ROM_HDR_LENGTH] = (unsigned char)(sealed / VMI_ROM_LENGTH_UNIT);

	unsigned sum = 0;
	for (size_t i = 0; i + 1 < sealed; i++)
		sum += image[i];
	image[sealed - 1] = (unsigned char)(0x100 - (sum & 0xFF));

	FILE *out = fopen(argv[2], "wb");
	if (!out)
		return fail(argv[2], strerror(errno));
	size_t written = fwrite(image, 1, sealed, out);
	if (fclose(out) != 0 || written != sealed) {
		remove(argv[2]);
		return fail(argv[2], "write error");
	}
	return 0;
}
