/* The console: COM1 through the SDK's port I/O calls, with a small printf. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

void console_init(void);
void console_write(const char *text, size_t length);
/* Sends what is buffered (output otherwise goes out at each newline). */
void console_flush(void);
/* printf subset: %s %c %d %u %x %p %%, with l/ll sizes, a width and 0 padding. */
void kprintf(const char *format, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *format, va_list arguments);
/* For the SDK's boot log: prints one line as given. */
void console_print_line(const char *line);

#endif
