/* The exit port. QEMU computes (v << 1) | 1 and the host keeps its low 8 bits; so do we. */
#include "devices/exit_port.h"
#include "vcpu/vcpu.h"

int exit_port_status(uint32_t value)
{
	return (int)(((value << 1) | 1) & 0xFF);
}

_Noreturn void exit_port_write(uint32_t value)
{
	vcpu_stop_exit_port((int)value);
}
