/* The exit port (0xf4), compatible with QEMU's isa-debug-exit: writing v ends the run and
 * vmirun exits with status (v << 1) | 1. */
#ifndef VMM_DEVICES_EXIT_PORT_H
#define VMM_DEVICES_EXIT_PORT_H

#include <stdint.h>

/* The process exit status for a value written to the port. */
int exit_port_status(uint32_t value);

#endif
