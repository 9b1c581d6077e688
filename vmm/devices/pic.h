/* A minimal pair of 8259 PICs behind trapped port I/O, for unmodified kernels: the
 * initialization sequence (which sets the vector base), the interrupt mask, and EOI. */
#ifndef VMM_DEVICES_PIC_H
#define VMM_DEVICES_PIC_H

#include <stdint.h>

#define PIC_MASTER_COMMAND 0x20
#define PIC_MASTER_DATA    0x21
#define PIC_SLAVE_COMMAND  0xA0
#define PIC_SLAVE_DATA     0xA1

/* Raises IRQ `irq` (0-15): marks its vector pending unless masked. */
void pic_raise_irq(unsigned irq);

/* The vector IRQ `irq` arrives at (as the guest programmed the PICs). */
unsigned pic_vector(unsigned irq);

#endif
