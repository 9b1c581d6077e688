/* The ROM vmirun maps read-only at 0xC0000, where guests have always looked for it. An
 * image given with --rom is checked with the same checker the guest SDK probes with, so
 * vmirun never hands a guest a ROM the guest would reject. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmi/pc.h>
#include <vmi/rom.h>
#include "platform/process/address_space.h"
#include "rom.h"
#include "rom_check.h"

#define ROM_AREA_SIZE (0x100000 - VMI_ROM_BASE)

extern const uint8_t vmm_default_rom[];
extern const uint32_t vmm_default_rom_size;

int rom_validate(const uint8_t *image, size_t size, char error[ROM_REASON_MAX])
{
	struct vmi_rom_facts facts;
	enum vmi_rom_status status = vmi_rom_check(image, size, &facts);
	if (status != VMI_ROM_OK) {
		snprintf(error, ROM_REASON_MAX, "%s", vmi_rom_status_text(status));
		return -1;
	}
	if (facts.size > ROM_AREA_SIZE) {
		snprintf(error, ROM_REASON_MAX, "%u bytes do not fit the ROM area (%u bytes)",
		         facts.size, ROM_AREA_SIZE);
		return -1;
	}
	return 0;
}

static uint8_t *read_rom_file(const char *path, size_t *size, char error[ROM_ERROR_MAX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		snprintf(error, ROM_ERROR_MAX, "cannot open ROM '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > VMI_ROM_MAX_SIZE) {
		snprintf(error, ROM_ERROR_MAX, "ROM '%s' is not a regular file of at most %d bytes",
		         path, VMI_ROM_MAX_SIZE);
		close(fd);
		return NULL;
	}
	uint8_t *image = malloc(st.st_size ? (size_t)st.st_size : 1);
	ssize_t got = image ? read(fd, image, (size_t)st.st_size) : -1;
	close(fd);
	if (got != st.st_size) {
		snprintf(error, ROM_ERROR_MAX, "cannot read ROM '%s'", path);
		free(image);
		return NULL;
	}
	*size = (size_t)got;
	return image;
}

int rom_install(const char *path, char error[ROM_ERROR_MAX])
{
	char reason[ROM_REASON_MAX];
	const uint8_t *image = vmm_default_rom;
	size_t size = vmm_default_rom_size;
	uint8_t *loaded = NULL;

	if (path) {
		loaded = read_rom_file(path, &size, error);
		if (!loaded)
			return -1;
		image = loaded;
	}
	if (rom_validate(image, size, reason) != 0) {
		snprintf(error, ROM_ERROR_MAX, "ROM '%.100s' is not a usable VMI ROM: %s",
		         path ? path : "(embedded)", reason);
		free(loaded);
		return -1;
	}
	size_t mapped = (size_t)image[2] * VMI_ROM_LENGTH_UNIT;
	int result = address_space_map_rom(VMI_ROM_BASE, image, mapped, error);
	free(loaded);
	return result;
}

int rom_install_none(char error[ROM_ERROR_MAX])
{
	return address_space_map_rom(VMI_ROM_BASE, NULL, ROM_AREA_SIZE, error);
}
