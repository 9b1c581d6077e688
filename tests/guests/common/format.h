/* Numbers as text for the test guests, which print through different paths (hypercalls, SDK
 * sites, port I/O) but format the same way: tests/guests/common/format.c. */
#ifndef TEST_GUESTS_COMMON_FORMAT_H
#define TEST_GUESTS_COMMON_FORMAT_H

#include <stdint.h>

#define FORMAT_DECIMAL_SIZE 11   /* 4294967295 and the NUL */

/* `value` in decimal, NUL-terminated, at the end of `buffer`; returns where it starts. */
const char *format_decimal(uint32_t value, char buffer[FORMAT_DECIMAL_SIZE]);

/* The low `digit_count` (1 to 8) hex digits of `value`, lower case, into `out`, which needs
 * digit_count + 1 bytes for the NUL. */
void format_hex(uint32_t value, int digit_count, char *out);

#endif
