/* Decodes and emulates in, out and hlt. String forms and the rest of the privileged set
 * are reflected as faults until the monitor grows them. */
#include "devices/io_bus.h"
#include "monitor/emulate.h"

#define PREFIX_OPERAND_SIZE 0x66
#define MAX_PREFIXES        4

static unsigned operand_size(int operand16, int byte_form)
{
	return byte_form ? 1 : operand16 ? 2 : 4;
}

static void store_in(struct vcpu_regs *regs, unsigned size, uint32_t value)
{
	uint32_t keep = size == 4 ? 0 : ~((1u << (size * 8)) - 1);
	regs->eax = (regs->eax & keep) | value;
}

enum emulate_result emulate_instruction(struct vcpu_regs *regs, const uint8_t *code,
                                        size_t available)
{
	size_t at = 0;
	int operand16 = 0;

	while (at < available && at < MAX_PREFIXES && code[at] == PREFIX_OPERAND_SIZE) {
		operand16 = 1;
		at++;
	}
	if (at >= available)
		return EMULATE_UNSUPPORTED;

	uint8_t opcode = code[at++];
	uint16_t port;
	switch (opcode) {
	case 0xE4: case 0xE5: case 0xE6: case 0xE7:   /* in/out with an imm8 port */
		if (at >= available)
			return EMULATE_UNSUPPORTED;
		port = code[at++];
		break;
	case 0xEC: case 0xED: case 0xEE: case 0xEF:   /* in/out with the port in dx */
		port = (uint16_t)regs->edx;
		break;
	case 0xF4:
		if (operand16)
			return EMULATE_UNSUPPORTED;
		regs->eip += (uint32_t)at;
		return EMULATE_HALT;
	default:
		return EMULATE_UNSUPPORTED;
	}

	unsigned size = operand_size(operand16, (opcode & 1) == 0);
	int is_out = (opcode & 2) != 0;
	/* Advance first: an exit-port write never returns here. */
	regs->eip += (uint32_t)at;
	if (is_out)
		io_bus_write(port, size, regs->eax);
	else
		store_in(regs, size, io_bus_read(port, size));
	return EMULATE_DONE;
}
