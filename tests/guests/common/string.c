/* memcpy and memset for the test guests, which have no C library (gcc may emit calls to them
 * for struct copies and clears; string instructions keep it from turning them back into calls
 * to themselves), and the command-line word test they share. Linked into every test guest. */
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

int cmdline_has_word(const char *cmdline, const char *word)
{
	for (const char *p = cmdline; *p; p++) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		const char *a = p, *b = word;
		while (*b && *a == *b) {
			a++;
			b++;
		}
		if (!*b && (*a == ' ' || !*a))
			return 1;
	}
	return 0;
}
