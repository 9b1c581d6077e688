/* A minimal 8254 PIT behind trapped port I/O: channel 0 as the periodic or one-shot timer
 * on IRQ0 that unmodified kernels program. */
#ifndef VMM_DEVICES_PIT_H
#define VMM_DEVICES_PIT_H

#include <stdint.h>

#define PIT_CHANNEL0 0x40
#define PIT_COMMAND  0x43
#define PIT_HZ       1193182u

#endif
