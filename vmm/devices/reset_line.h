/* The i8042 keyboard controller's one use here: the reset line PCs reboot through. */
#ifndef VMM_DEVICES_RESET_LINE_H
#define VMM_DEVICES_RESET_LINE_H

#include <stdint.h>

#define RESET_LINE_STATUS_PORT 0x64

/* The status register: 0, nothing to read and room to write, so a kernel's wait for the
 * controller ends at once. */
uint8_t reset_line_read_status(void);

/* Command 0xFE pulses the reset line: the guest reboots (vmirun stops it, as for the
 * Reboot call). Other commands are ignored: there is no keyboard. */
void reset_line_write_command(uint8_t command);

#endif
