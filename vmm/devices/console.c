/* COM1 as a write-only console. The guest sees a UART that is always ready to transmit and
 * never has input; its bytes reach stdout in batches so a chatty guest costs few syscalls. */
#include <errno.h>
#include <unistd.h>

#include <vmi/pc.h>
#include "devices/console.h"
#include "devices/port_device.h"
#include "stats.h"
#include "devices/machine.h"

#define UART_THR 0             /* transmit holding register (write) */
#define UART_LSR 5             /* line status register (read) */
#define UART_LSR_THR_EMPTY 0x20
#define UART_LSR_TX_IDLE   0x40

static char buffer[4096];
static unsigned used;
static int output_error;

void console_flush(void)
{
	unsigned done = 0;
	while (done < used && !output_error) {
		ssize_t n = write(STDOUT_FILENO, buffer + done, used - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue; /* EAGAIN: a non-blocking stdout; wait as a blocking one would */
		if (n <= 0)
			output_error = n < 0 ? errno : EIO;
		else
			done += (unsigned)n;
	}
	used = 0;
	/* SIGPIPE and SIGXFSZ are ignored (main.c), so a closed reader or the file-size limit
	 * arrive here as EPIPE or EFBIG. A guest writing into the void would run on unseen, and
	 * one in a pipeline would never end: stop it, as SIGPIPE stops a shell command. main()
	 * names the reason. */
	if (output_error)
		machine_stop_for_output_failure();
}

int console_output_error(void)
{
	return output_error;
}

static uint8_t console_read(uint16_t port)
{
	unsigned offset = port - VMI_PORT_COM1;
	if (offset == UART_LSR)
		return UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE;
	return 0;
}

static void console_write(uint16_t port, uint32_t written)
{
	unsigned offset = port - VMI_PORT_COM1;
	uint8_t value = (uint8_t)written;
	if (offset != UART_THR)
		return; /* divisor, line control and the like change nothing here */
	stats_count_console_byte();
	buffer[used++] = (char)value;
	if (value == '\n' || used == sizeof(buffer))
		console_flush();
}

const struct port_device console_device = {
	"COM1 console", { { VMI_PORT_COM1, 8 } }, console_read, console_write,
};
