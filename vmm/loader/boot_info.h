/* Builds the multiboot information block vmirun hands the kernel in EBX. */
#ifndef VMM_LOADER_BOOT_INFO_H
#define VMM_LOADER_BOOT_INFO_H

#include <stddef.h>
#include <stdint.h>
#include "loader/kernel_image.h"

#define BOOT_INFO_ERROR_MAX 160

struct boot_info_request {
	uint32_t ram_bytes;        /* guest RAM from VMI_PROCESS_RAM_BASE */
	const char *cmdline;       /* passed to the kernel as is */
	const char *loader_name;
};

/* Writes the info block, memory map, command line and loader name into `area` (the boot
 * info area, VMI_PROCESS_BOOT_INFO_BASE..+SIZE). Returns 0 and the guest address of the
 * info block in *info_addr, or -1 with a one-line reason in `error` (e.g. a command line
 * too long for the area). */
int boot_info_build(const struct boot_info_request *request, const struct guest_memory *area,
                    uint32_t *info_addr, char error[BOOT_INFO_ERROR_MAX]);

#endif
