/* Numbers as text for the test guests (see format.h). */
#include "format.h"

const char *format_decimal(uint32_t value, char buffer[FORMAT_DECIMAL_SIZE])
{
	int position = FORMAT_DECIMAL_SIZE - 1;
	buffer[position] = '\0';
	do {
		buffer[--position] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	return &buffer[position];
}

void format_hex(uint32_t value, int digit_count, char *out)
{
	static const char hex_digits[] = "0123456789abcdef";
	for (int i = digit_count - 1; i >= 0; i--) {
		out[i] = hex_digits[value & 0xf];
		value >>= 4;
	}
	out[digit_count] = '\0';
}
