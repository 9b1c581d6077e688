/* The console: a 16550 UART at COM1 driven only through the SDK's I/O calls. Output is
 * buffered and sent 16 bytes (one FIFO load) per transmitter-empty poll with OUTSB, so a
 * trapping platform pays two traps per 16 characters, not two per character. */
#include <stdint.h>

#include <vmi/pc.h>
#include "console.h"
#include "kernel.h"

#define UART_DATA          (VMI_PORT_COM1 + 0)
#define UART_INTERRUPTS    (VMI_PORT_COM1 + 1)
#define UART_FIFO_CONTROL  (VMI_PORT_COM1 + 2)
#define UART_LINE_CONTROL  (VMI_PORT_COM1 + 3)
#define UART_MODEM_CONTROL (VMI_PORT_COM1 + 4)
#define UART_LINE_STATUS   VMI_PORT_COM1_LSR
#define UART_DLAB          0x80   /* line control: the divisor latch replaces data/IER */
#define UART_8N1           0x03
#define UART_FIFO_ENABLE   0xC7   /* enable and clear both FIFOs */
#define UART_DTR_RTS       0x03
#define UART_THR_EMPTY     0x20   /* line status: the transmit FIFO is empty */
#define UART_FIFO_BYTES    16
#define UART_POLL_LIMIT    100000 /* give up waiting on a UART that is not there */
#define UART_DIVISOR_115200 1

static char pending[UART_FIFO_BYTES];
static size_t pending_length;

void console_init(void)
{
	vmi_outb(0x00, UART_INTERRUPTS);          /* polled: no UART interrupts */
	vmi_outb(UART_DLAB, UART_LINE_CONTROL);
	vmi_outb(UART_DIVISOR_115200, UART_DATA);
	vmi_outb(0x00, UART_INTERRUPTS);          /* divisor high byte */
	vmi_outb(UART_8N1, UART_LINE_CONTROL);
	vmi_outb(UART_FIFO_ENABLE, UART_FIFO_CONTROL);
	vmi_outb(UART_DTR_RTS, UART_MODEM_CONTROL);
}

void console_flush(void)
{
	if (pending_length == 0)
		return;
	for (int polls = 0; polls < UART_POLL_LIMIT; polls++)
		if (vmi_inb(UART_LINE_STATUS) & UART_THR_EMPTY)
			break;
	vmi_outsb(UART_DATA, pending, pending_length);
	pending_length = 0;
}

static void put_char(char c)
{
	pending[pending_length++] = c;
	if (pending_length == UART_FIFO_BYTES || c == '\n')
		console_flush();
}

void console_write(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++)
		put_char(text[i]);
}

void console_print_line(const char *line)
{
	console_write(line, strlen(line));
}

/* --- formatting ----------------------------------------------------------------------------- */

static void put_padded(const char *digits, int length, int width, char pad)
{
	for (int i = length; i < width; i++)
		put_char(pad);
	for (int i = 0; i < length; i++)
		put_char(digits[i]);
}

static void put_unsigned(uint64_t value, unsigned base, int negative, int width, char pad)
{
	char digits[24];
	int length = sizeof(digits);
	do {
		digits[--length] = "0123456789abcdef"[value % base];
		value /= base;
	} while (value);
	if (negative)
		digits[--length] = '-';
	put_padded(digits + length, (int)sizeof(digits) - length, width, pad);
}

void kvprintf(const char *format, va_list arguments)
{
	for (const char *p = format; *p; p++) {
		if (*p != '%') {
			put_char(*p);
			continue;
		}
		p++;
		char pad = ' ';
		int width = 0, longs = 0;
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l') {
			longs++;
			p++;
		}
		uint64_t value;
		int64_t signed_value;
		switch (*p) {
		case 'd':
			signed_value = longs >= 2 ? va_arg(arguments, long long)
			                          : (longs ? va_arg(arguments, long) : va_arg(arguments, int));
			put_unsigned(signed_value < 0 ? -(uint64_t)signed_value : (uint64_t)signed_value, 10,
			             signed_value < 0, width, pad);
			break;
		case 'u':
		case 'x':
			value = longs >= 2 ? va_arg(arguments, unsigned long long)
			                   : (longs ? va_arg(arguments, unsigned long)
			                            : va_arg(arguments, unsigned int));
			put_unsigned(value, *p == 'u' ? 10 : 16, 0, width, pad);
			break;
		case 'p':
			put_char('0');
			put_char('x');
			put_unsigned((uintptr_t)va_arg(arguments, void *), 16, 0, 8, '0');
			break;
		case 'c':
			put_char((char)va_arg(arguments, int));
			break;
		case 's': {
			const char *text = va_arg(arguments, const char *);
			if (!text)
				text = "(null)";
			put_padded(text, (int)strlen(text), width, ' ');
			break;
		}
		case '%':
			put_char('%');
			break;
		default:   /* unknown: print it as written */
			put_char('%');
			if (*p)
				put_char(*p);
			else
				p--;
			break;
		}
	}
}

void kprintf(const char *format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	kvprintf(format, arguments);
	va_end(arguments);
}
