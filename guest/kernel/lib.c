/* Freestanding helpers the kernel (and gcc, for struct copies) needs: memory copies and
 * fills, string length, sorting samples, and finding a word on the command line. */
#include "kernel.h"

void *memcpy(void *destination, const void *source, size_t count)
{
	void *result = destination;
	__asm__ volatile("rep movsb" : "+D"(destination), "+S"(source), "+c"(count) : : "memory");
	return result;
}

void *memset(void *destination, int value, size_t count)
{
	void *result = destination;
	__asm__ volatile("rep stosb" : "+D"(destination), "+c"(count) : "a"(value) : "memory");
	return result;
}

size_t strlen(const char *text)
{
	size_t length = 0;
	while (text[length])
		length++;
	return length;
}

void sort_u64(uint64_t *values, unsigned count)
{
	for (unsigned i = 1; i < count; i++)
		for (unsigned j = i; j > 0 && values[j - 1] > values[j]; j--) {
			uint64_t t = values[j];
			values[j] = values[j - 1];
			values[j - 1] = t;
		}
}

/* 1 if a space-separated word of `cmdline` is `word` exactly, or, with `prefix_only`, starts
 * with it. */
static int cmdline_match(const char *cmdline, const char *word, int prefix_only)
{
	size_t word_length = strlen(word);
	const char *p = cmdline;
	while (p && *p) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ' ')
			p++;
		size_t length = (size_t)(p - start);
		if (length < word_length || (!prefix_only && length != word_length))
			continue;
		size_t i = 0;
		while (i < word_length && start[i] == word[i])
			i++;
		if (i == word_length)
			return 1;
	}
	return 0;
}

int cmdline_has_word(const char *cmdline, const char *word)
{
	return cmdline_match(cmdline, word, 0);
}

int cmdline_has_prefix(const char *cmdline, const char *prefix)
{
	return cmdline_match(cmdline, prefix, 1);
}
