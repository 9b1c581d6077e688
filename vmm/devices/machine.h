/* What a device may ask of the machine it is plugged into, and nothing more: raise an
 * interrupt vector, run a periodic or one-shot tick, stop the guest. monitor/machine.c
 * implements it over the virtual CPU, the host timer and the platform. */
#ifndef VMM_DEVICES_MACHINE_H
#define VMM_DEVICES_MACHINE_H

#include <stdint.h>

/* Marks `vector` pending at the virtual CPU (from a host timer's signal too). */
void machine_raise_vector(unsigned vector);

/* Calls `tick` every `period_ns` (or once, if not `periodic`), from the host timer. */
void machine_arm_timer(void (*tick)(void), uint64_t period_ns, int periodic);

/* Stops the guest once the access at hand completes: for a reboot, a failed console, or
 * (machine_stop_with_status) a status written to the exit port. */
void machine_stop_for_reboot(void);
void machine_stop_for_output_failure(void);
void machine_stop_with_status(int value);

#endif
