/* The PC every platform presents to the guest, native or not: where the VMI ROM is found
 * and the ports of the console and the exit device. Freestanding; usable from assembly. */
#ifndef VMI_PC_H
#define VMI_PC_H

/* The ROM's place, where guests have always looked for it. */
#define VMI_ROM_BASE                 0x000C0000
#define VMI_ROM_SCAN_END             0x000E0000

/* Ports every platform provides. */
#define VMI_PORT_COM1                0x3F8
#define VMI_PORT_COM1_LSR            0x3FD
#define VMI_PORT_EXIT                0xF4   /* QEMU isa-debug-exit: status (v << 1) | 1 */

#endif
