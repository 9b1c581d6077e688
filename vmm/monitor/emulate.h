/* Trap-and-emulate: the privileged instructions a deprivileged guest executes natively and
 * that fault (#GP) in ring 3, decoded at the faulting eip and carried out on the virtual
 * CPU. The slow path for an unmodified kernel; a VMI kernel calls the ROM instead. */
#ifndef VMM_MONITOR_EMULATE_H
#define VMM_MONITOR_EMULATE_H

#include <stddef.h>
#include <stdint.h>
#include "platform.h"

enum emulate_result {
	EMULATE_DONE,          /* carried out; regs->eip is past the instruction (or moved) */
	EMULATE_HALT,          /* hlt; regs->eip is past it */
	EMULATE_INTERRUPT,     /* deliver outcome.vector (int n, or a #GP the guest earned) */
	EMULATE_UNSUPPORTED,   /* not an instruction the monitor emulates: reflect #GP */
	EMULATE_NOT_IMPLEMENTED, /* one it decodes but the virtual CPU cannot carry out yet
	                            (outcome.reason says which and why): the guest stops */
};

struct emulate_outcome {
	unsigned vector;       /* for EMULATE_INTERRUPT */
	int64_t error_code;    /* -1: none */
	unsigned software_length; /* int n: its length (the gate's DPL is checked); else 0 */
	const char *mnemonic;  /* what was emulated, for statistics */
	char reason[160];      /* EMULATE_NOT_IMPLEMENTED: the instruction and why, one line */
};

/* code holds up to `available` bytes at regs->eip. */
enum emulate_result emulate_instruction(struct guest_regs *regs, const uint8_t *code,
                                        size_t available, struct emulate_outcome *outcome);

/* Port I/O on the virtual CPU, shared by the emulator and the I/O hypercalls. */

/* in: a `size`-byte read of `port` into AL, AX or EAX, the rest of EAX kept. */
/* 1 if the guest's descriptor tables let `selector` be loaded into a data segment register
 * (null, or a present segment): what an emulated load checks. */
int emulate_data_selector_usable(uint32_t selector);

void emulate_port_in(struct guest_regs *regs, uint16_t port, unsigned size);

/* ins/outs (ECX items with `rep`, else one) between guest memory at EDI/ESI and the port in
 * DX, stepping as DF says. ECX may be anything up to 2^32, so --timeout gets in now and
 * then, and a stop requested on the way (the exit port) ends it after that item. 0, or -1
 * at an item outside guest memory, the registers showing how far it got. */
int emulate_string_io(struct guest_regs *regs, unsigned size, int out, int rep);

/* Decodes a 32-bit ModRM memory or register operand at code[0]: returns the bytes used
 * (ModRM, SIB, displacement), or -1 if it runs past `available`. Exposed for tests. */
int emulate_decode_modrm(const struct guest_regs *regs, const uint8_t *code, size_t available,
                         unsigned *reg_field, int *is_register, uint32_t *value_or_address);

#endif
