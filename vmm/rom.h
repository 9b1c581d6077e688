/* Choosing and mapping the VMI ROM: the embedded default, a file (--rom), or none. */
#ifndef VMM_ROM_H
#define VMM_ROM_H

#include <stddef.h>
#include <stdint.h>

#define ROM_ERROR_MAX 256
#define ROM_REASON_MAX 120

/* Checks an image as guests would (signatures, length, checksum, major version, link
 * table) and that it fits the ROM area. 0, or -1 with a one-line reason. */
int rom_validate(const uint8_t *image, size_t size, char error[ROM_REASON_MAX]);

/* Maps `path`'s image, or the embedded one when path is NULL, at VMI_ROM_BASE. */
int rom_install(const char *path, char error[ROM_ERROR_MAX]);

/* --no-rom: maps the ROM area zero-filled and read-only, as a PC with no option ROM there,
 * so a guest's probe reads "nothing" instead of faulting. */
int rom_install_none(char error[ROM_ERROR_MAX]);

#endif
