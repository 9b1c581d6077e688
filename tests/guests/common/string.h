/* What tests/guests/common/string.c gives every test guest. */
#ifndef TEST_GUESTS_COMMON_STRING_H
#define TEST_GUESTS_COMMON_STRING_H

#include <stddef.h>

void *memcpy(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);

#endif
