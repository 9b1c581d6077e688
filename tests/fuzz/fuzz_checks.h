/* What every loader fuzz target shares: the RAM and command-line sizes it fuzzes with, and
 * the check that a refusal's reason is one line. */
#ifndef TESTS_FUZZ_FUZZ_CHECKS_H
#define TESTS_FUZZ_FUZZ_CHECKS_H

#include <stdlib.h>
#include <string.h>

#include "vmi/process.h"

#define FUZZ_RAM_BASE    VMI_PROCESS_RAM_BASE
#define FUZZ_RAM_SIZE    (8u << 20)
#define FUZZ_CMDLINE_MAX 65535u   /* past the area, so both sides of the limit are reached */

/* A reason must be one non-empty line, terminated inside its buffer. */
static inline void fuzz_check_one_line(const char *reason, size_t capacity)
{
	size_t length = strnlen(reason, capacity);
	if (length == 0 || length == capacity || memchr(reason, '\n', length) != NULL)
		abort();
}

#endif
