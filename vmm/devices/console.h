/* The console: a 16550-style UART at COM1 whose transmit register goes to vmirun's stdout,
 * buffered and flushed on newline, when full, and at exit. */
#ifndef VMM_DEVICES_CONSOLE_H
#define VMM_DEVICES_CONSOLE_H

#include <stdint.h>


/* Writes out whatever is buffered. If stdout refuses it (a closed pipe, a full disk, the
 * file-size limit), the output is lost for good: the error is kept, nothing more is written,
 * and a guest still running is stopped, since what it prints has nowhere to go. */
void console_flush(void);

/* The errno of the write that failed, or 0 while stdout takes the guest's output. */
int console_output_error(void);

#endif
