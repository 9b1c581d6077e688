/* memcpy and memset for the test guests, which have no C library: gcc may emit calls to them
 * for struct copies and clears. String instructions keep it from turning them back into
 * calls to themselves. Linked into every test guest (tests/tests.mk). */
#include "string.h"

void *memcpy(void *destination, const void *source, size_t count)
{
	void *result = destination;
	__asm__ volatile("rep movsb"
	                 : "+D"(destination), "+S"(source), "+c"(count) : : "memory");
	return result;
}

void *memset(void *destination, int value, size_t count)
{
	void *result = destination;
	__asm__ volatile("rep stosb"
	                 : "+D"(destination), "+c"(count) : "a"(value) : "memory");
	return result;
}
