/* The full verification of a VMI ROM image: the structural checks of rom_image.h, then every
 * link record, inline template and call stub, disassembled with Capstone. */
#ifndef TOOLS_ROM_VERIFY_H
#define TOOLS_ROM_VERIFY_H

#include <stddef.h>

#include <vmi/link.h>
#include "rom_image.h"

/* The instructions that end a stub: control never falls past them. */
#define ROM_STUB_TERMINATORS "ret/lret/jmp/ud2/iret/sysexit"

struct rom_verify_summary {
	unsigned by_type[VMI_LINK_INLINE + 1];   /* link records of each type */
};

/* 0: valid. 1: invalid, with `reason` set to one line (no newline) naming the first
 * problem found. -1: Capstone could not be opened (`reason` says so). `summary` may be NULL. */
int rom_verify(const struct rom_image *image, char *reason, size_t reason_size,
               struct rom_verify_summary *summary);

#endif
