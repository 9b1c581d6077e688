/* What tests/guests/common/string.c gives every test guest: memory and command-line words. */
#ifndef TEST_GUESTS_COMMON_STRING_H
#define TEST_GUESTS_COMMON_STRING_H

#include <stddef.h>

void *memcpy(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);

/* Nonzero if `word` stands in `cmdline` as a whole word (between spaces or the ends). */
int cmdline_has_word(const char *cmdline, const char *word);

#endif
