/* The SDK's bounded text builder (see text.h). */
#include "text.h"

void vmi_text_init(struct vmi_text *text, char *buffer, size_t capacity)
{
	text->buffer = buffer;
	text->capacity = capacity;
	text->length = 0;
	if (capacity > 0)
		buffer[0] = '\0';
}

static void add_char(struct vmi_text *text, char c)
{
	if (text->capacity == 0 || text->length + 1 >= text->capacity)
		return;
	text->buffer[text->length++] = c;
	text->buffer[text->length] = '\0';
}

void vmi_text_add_span(struct vmi_text *text, const char *string, size_t length)
{
	for (size_t i = 0; i < length && string[i]; i++)
		add_char(text, string[i]);
}

void vmi_text_add(struct vmi_text *text, const char *string)
{
	while (*string)
		add_char(text, *string++);
}

void vmi_text_add_decimal(struct vmi_text *text, uint32_t value)
{
	char digits[10];
	unsigned count = 0;
	do {
		digits[count++] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	while (count > 0)
		add_char(text, digits[--count]);
}

void vmi_text_add_hex(struct vmi_text *text, uint32_t value)
{
	static const char hex_digits[] = "0123456789abcdef";
	char digits[8];
	unsigned count = 0;
	do {
		digits[count++] = hex_digits[value & 0xf];
		value >>= 4;
	} while (value != 0);
	add_char(text, '0');
	add_char(text, 'x');
	while (count > 0)
		add_char(text, digits[--count]);
}
