/* The console: a 16550-style UART at COM1 whose transmit register goes to vmirun's stdout,
 * buffered and flushed on newline, when full, and at exit. */
#ifndef VMM_DEVICES_CONSOLE_H
#define VMM_DEVICES_CONSOLE_H

#include <stdint.h>

/* offset is the register (0-7) from the UART's base port. */
uint8_t console_port_read(unsigned offset);
void console_port_write(unsigned offset, uint8_t value);

/* Writes out whatever is buffered. */
void console_flush(void);

#endif
