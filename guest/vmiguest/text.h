/* A bounded text builder for the SDK's log lines: freestanding (no printf), also built for
 * the host. Output is always NUL-terminated and silently truncated at the buffer's end. */
#ifndef VMIGUEST_TEXT_H
#define VMIGUEST_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct vmi_text {
	char *buffer;
	size_t capacity;   /* bytes of buffer, the NUL included */
	size_t length;
};

void vmi_text_init(struct vmi_text *text, char *buffer, size_t capacity);
void vmi_text_add(struct vmi_text *text, const char *string);
void vmi_text_add_span(struct vmi_text *text, const char *string, size_t length);
void vmi_text_add_decimal(struct vmi_text *text, uint32_t value);
void vmi_text_add_hex(struct vmi_text *text, uint32_t value);   /* "0x" and lowercase digits */

#endif
