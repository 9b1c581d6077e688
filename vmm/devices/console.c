/* COM1 as a write-only console. The guest sees a UART that is always ready to transmit and
 * never has input; its bytes reach stdout in batches so a chatty guest costs few syscalls. */
#include <errno.h>
#include <unistd.h>

#include "devices/console.h"
#include "stats.h"

#define UART_THR 0             /* transmit holding register (write) */
#define UART_LSR 5             /* line status register (read) */
#define UART_LSR_THR_EMPTY 0x20
#define UART_LSR_TX_IDLE   0x40

static char buffer[4096];
static unsigned used;

void console_flush(void)
{
	unsigned done = 0;
	while (done < used) {
		ssize_t n = write(STDOUT_FILENO, buffer + done, used - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* stdout is gone; the guest's output has nowhere to go */
		done += (unsigned)n;
	}
	used = 0;
}

uint8_t console_port_read(unsigned offset)
{
	if (offset == UART_LSR)
		return UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE;
	return 0;
}

void console_port_write(unsigned offset, uint8_t value)
{
	if (offset != UART_THR)
		return; /* divisor, line control and the like change nothing here */
	stats_count_console_byte();
	buffer[used++] = (char)value;
	if (value == '\n' || used == sizeof(buffer))
		console_flush();
}
