/* Decodes and emulates the privileged instructions of an unmodified i386 kernel: port I/O
 * (string forms too), cli/sti/hlt, int n, iret, lgdt/lidt/lldt/ltr, moves to and from
 * control registers, clts/invd/wbinvd/invlpg, rdmsr/wrmsr, segment loads and far jumps and
 * calls with the guest's own selectors, resolved against its virtual GDT. */

#include <stdio.h>

#include <vmi/calls.h>
#include <vmi/mmu.h>
#include "devices/io_bus.h"
#include "monitor/descriptors.h"
#include "monitor/emulate.h"
#include "monitor/guest_access.h"
#include "monitor/mmu.h"
#include "monitor/monitor.h"
#include "monitor/msr.h"
#include "monitor/virtual_cpu.h"

#define PREFIX_OPERAND_SIZE 0x66
#define PREFIX_REP          0xF3
#define MAX_PREFIXES        4
#define VECTOR_GP           13
#define CR0_TS              0x8
#define EFLAGS_DF           0x400
#define DESC_PRESENT        (1ull << 47)
#define DESC_SEGMENT        (1ull << 44)
#define DESC_CODE           (1ull << 43)

static uint32_t *gpr(struct guest_regs *regs, unsigned number)
{
	switch (number & 7) {
	case 0: return &regs->eax;
	case 1: return &regs->ecx;
	case 2: return &regs->edx;
	case 3: return &regs->ebx;
	case 4: return &regs->esp;
	case 5: return &regs->ebp;
	case 6: return &regs->esi;
	default: return &regs->edi;
	}
}

static const char *gpr_name(unsigned number)
{
	static const char *const names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	return names[number & 7];
}

static uint32_t read_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int emulate_decode_modrm(const struct guest_regs *regs, const uint8_t *code, size_t available,
                         unsigned *reg_field, int *is_register, uint32_t *value_or_address)
{
	struct guest_regs *r = (struct guest_regs *)regs; /* gpr() only reads here */
	size_t at = 1;

	if (available < 1)
		return -1;
	unsigned mod = code[0] >> 6, rm = code[0] & 7;
	*reg_field = (code[0] >> 3) & 7;
	if (mod == 3) {
		*is_register = 1;
		*value_or_address = rm;
		return 1;
	}
	*is_register = 0;
	uint32_t address = 0;
	if (rm == 4) {
		if (available < 2)
			return -1;
		unsigned sib = code[at++];
		unsigned scale = sib >> 6, index = (sib >> 3) & 7, base = sib & 7;
		if (index != 4)
			address += *gpr(r, index) << scale;
		if (base == 5 && mod == 0) {
			if (available < at + 4)
				return -1;
			address += read_le32(code + at);
			at += 4;
		} else {
			address += *gpr(r, base);
		}
	} else if (rm == 5 && mod == 0) {
		if (available < at + 4)
			return -1;
		address = read_le32(code + at);
		at += 4;
	} else {
		address = *gpr(r, rm);
	}
	if (mod == 1) {
		if (available < at + 1)
			return -1;
		address += (uint32_t)(int32_t)(int8_t)code[at++];
	} else if (mod == 2) {
		if (available < at + 4)
			return -1;
		address += read_le32(code + at);
		at += 4;
	}
	*value_or_address = address;
	return (int)at;
}

/* The instructions that need the kernel ring (in/out/ins/outs need IOPL, which is 0):
 * everything emulated here except int n, iret (checked on its own), segment loads and far
 * jumps and calls. */
static int privileged(const uint8_t *code, size_t available)
{
	switch (code[0]) {
	case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xEC: case 0xED: case 0xEE: case 0xEF:
	case 0x6C: case 0x6D: case 0x6E: case 0x6F: case 0xF4: case 0xFA: case 0xFB:
		return 1;
	case 0x0F:
		return available > 1 && (code[1] == 0x00 || code[1] == 0x01 || code[1] == 0x06 ||
		                         code[1] == 0x08 || code[1] == 0x09 || code[1] == 0x20 ||
		                         code[1] == 0x22 || code[1] == 0x30 || code[1] == 0x32);
	default:
		return 0;
	}
}

static enum emulate_result general_protection(struct emulate_outcome *outcome, uint32_t error)
{
	outcome->vector = VECTOR_GP;
	outcome->error_code = error;
	outcome->software_length = 0;
	return EMULATE_INTERRUPT;
}

static enum emulate_result status_or_fault(uint32_t status, struct emulate_outcome *outcome)
{
	return status == 0 ? EMULATE_DONE : general_protection(outcome, 0);
}

void emulate_port_in(struct guest_regs *regs, uint16_t port, unsigned size)
{
	uint32_t keep = size == 4 ? 0 : ~((1u << (size * 8)) - 1);
	regs->eax = (regs->eax & keep) | io_bus_read(port, size);
}

int emulate_string_io(struct guest_regs *regs, unsigned size, int out, int rep)
{
	uint32_t count = rep ? regs->ecx : 1;
	int step = (regs->eflags & EFLAGS_DF) ? -(int)size : (int)size;
	uint16_t port = (uint16_t)regs->edx;

	while (count) {
		uint32_t value = 0;
		/* SIGALRM is held in the handler this runs in: read the clock now and then */
		if ((count & 0xFFFF) == 0 && monitor_stop_if_timed_out(1))
			return 0;
		if (out) {
			if (guest_read(regs->esi, &value, size) != 0)
				return -1;
			io_bus_write(port, size, value);
			regs->esi += (uint32_t)step;
		} else {
			value = io_bus_read(port, size);
			if (guest_write(regs->edi, &value, size) != 0)
				return -1;
			regs->edi += (uint32_t)step;
		}
		count--;
		if (rep)
			regs->ecx = count;
		if (platform_stop_requested())
			break; /* the exit port, the reset line: the guest ends here */
	}
	return 0;
}

/* A selector the guest loads from its own GDT: present code or data, or null for data. */
static int selector_usable(uint32_t selector, int for_code)
{
	unsigned index = (selector & 0xFFFF) >> 3;
	if (index == 0)
		return !for_code;
	uint64_t descriptor;
	if (descriptors_gdt_entry(selector, &descriptor) != 0)
		return 0;
	if (!(descriptor & DESC_PRESENT) || !(descriptor & DESC_SEGMENT))
		return 0;
	return for_code ? (descriptor & DESC_CODE) != 0 : 1;
}

static enum emulate_result far_transfer(struct guest_regs *regs, uint32_t selector,
                                        uint32_t offset, int is_call, uint32_t next_eip,
                                        struct emulate_outcome *outcome)
{
	if (!selector_usable(selector, 1))
		return general_protection(outcome, selector & 0xFFFC);
	if (is_call) {
		uint32_t frame[2] = { next_eip, virtual_cpu_shared()->cs & 0xFFFF };
		if (guest_write(regs->esp - 8, frame, 8) != 0)
			return general_protection(outcome, 0);
		regs->esp -= 8;
	}
	regs->eip = offset;
	virtual_cpu_set_code_selector((uint16_t)((selector & 0xFFFC) | virtual_cpu_ring()));
	return EMULATE_DONE;
}

static enum emulate_result two_byte(struct guest_regs *regs, const uint8_t *code, size_t available,
                                    size_t at, struct emulate_outcome *outcome)
{
	if (at >= available)
		return EMULATE_UNSUPPORTED;
	uint8_t opcode = code[at++];
	unsigned reg;
	int is_register;
	uint32_t operand;
	int used;

	switch (opcode) {
	case 0x00: /* group 6: lldt, ltr */
	case 0x01: /* group 7: lgdt, lidt, invlpg */
		used = emulate_decode_modrm(regs, code + at, available - at, &reg, &is_register, &operand);
		if (used < 0)
			return EMULATE_UNSUPPORTED;
		{
			uint32_t length = (uint32_t)(at + (size_t)used);
			enum emulate_result result = EMULATE_UNSUPPORTED;
			if (opcode == 0x00 && (reg == 2 || reg == 3)) {
				uint32_t selector = is_register ? *gpr(regs, operand) & 0xFFFF : 0;
				if (!is_register && guest_read(operand, &selector, 2) != 0)
					return general_protection(outcome, 0);
				outcome->mnemonic = reg == 2 ? "lldt" : "ltr";
				result = status_or_fault(reg == 2 ? descriptors_set_ldt(selector & 0xFFFF)
				                                  : descriptors_set_tr(selector & 0xFFFF), outcome);
			} else if (opcode == 0x01 && !is_register && (reg == 2 || reg == 3)) {
				outcome->mnemonic = reg == 2 ? "lgdt" : "lidt";
				result = status_or_fault(reg == 2 ? descriptors_set_gdt(operand)
				                                  : descriptors_set_idt(operand), outcome);
			} else if (opcode == 0x01 && !is_register && reg == 7) {
				outcome->mnemonic = "invlpg";
				mmu_invalidate(operand);
				result = EMULATE_DONE;
			} else if (opcode == 0x01 && reg == 6) {
				/* lmsw: PE, MP, EM and TS from the operand; PE can be set, not cleared */
				uint32_t word = is_register ? *gpr(regs, operand) & 0xFFFF : 0;
				if (!is_register && guest_read(operand, &word, 2) != 0)
					return general_protection(outcome, 0);
				outcome->mnemonic = "lmsw";
				virtual_cpu.cr0 = (virtual_cpu.cr0 & ~0xFu) | (word & 0xF) |
				                  (virtual_cpu.cr0 & 1);
				result = EMULATE_DONE;
			}
			if (result == EMULATE_DONE)
				regs->eip += length;
			return result;
		}
	case 0x06:
		outcome->mnemonic = "clts";
		virtual_cpu.cr0 &= ~CR0_TS;
		break;
	case 0x08:
	case 0x09:
		outcome->mnemonic = opcode == 0x08 ? "invd" : "wbinvd";
		break;
	case 0x20: /* mov %crN, r32 */
	case 0x22: /* mov r32, %crN */
		if (at >= available || (code[at] >> 6) != 3)
			return EMULATE_UNSUPPORTED;
		reg = (code[at] >> 3) & 7;
		{
			uint32_t *cr = reg == 0 ? &virtual_cpu.cr0 : reg == 2 ? &virtual_cpu.cr2
			             : reg == 3 ? &virtual_cpu.cr3 : reg == 4 ? &virtual_cpu.cr4 : NULL;
			if (!cr)
				return EMULATE_UNSUPPORTED; /* #UD on hardware; #GP here is close enough */
			uint32_t *target = gpr(regs, code[at] & 7);
			outcome->mnemonic = opcode == 0x20 ? "mov from cr" : "mov to cr";
			if (opcode == 0x20) {
				*target = reg == 2 ? virtual_cpu_shared()->cr2 : *cr;
			} else {
				/* PAE's tables are another format: a #GP would tell the kernel something
				 * no CPU says, so vmirun stops and says what is missing. */
				if (reg == 4 && (*target & VMI_CR4_PAE)) {
					snprintf(outcome->reason, sizeof outcome->reason,
					         "mov %%%s,%%cr4 sets CR4.PAE (value 0x%08x): PAE paging is "
					         "not implemented", gpr_name(code[at] & 7), *target);
					return EMULATE_NOT_IMPLEMENTED;
				}
				uint32_t old_cr0 = virtual_cpu.cr0, old_cr4 = virtual_cpu.cr4;
				*cr = *target;
				if (reg == 2)
					virtual_cpu_shared()->cr2 = *target;
				else if (reg == 3)
					mmu_cr3_loaded();
				else
					mmu_control_registers_written(old_cr0, old_cr4);
			}
		}
		at++;
		break;
	case 0x21: /* mov %drN, r32 */
	case 0x23: /* mov r32, %drN */
		if (at >= available || (code[at] >> 6) != 3)
			return EMULATE_UNSUPPORTED;
		reg = (code[at] >> 3) & 7;
		if (reg == 4 || reg == 5)
			reg += 2; /* DR4 and DR5 are DR6 and DR7 while CR4.DE is clear */
		outcome->mnemonic = opcode == 0x21 ? "mov from dr" : "mov to dr";
		if (opcode == 0x21)
			*gpr(regs, code[at] & 7) = virtual_cpu.dr[reg];
		else
			virtual_cpu.dr[reg] = *gpr(regs, code[at] & 7);
		at++;
		break;
	case 0x30:
		outcome->mnemonic = "wrmsr";
		if (msr_write(regs->ecx, (uint64_t)regs->edx << 32 | regs->eax) != 0)
			return general_protection(outcome, 0);
		break;
	case 0x32:
		outcome->mnemonic = "rdmsr";
		{
			uint64_t value;
			if (msr_read(regs->ecx, &value) != 0)
				return general_protection(outcome, 0);
			regs->eax = (uint32_t)value;
			regs->edx = (uint32_t)(value >> 32);
		}
		break;
	default:
		return EMULATE_UNSUPPORTED;
	}
	regs->eip += (uint32_t)at;
	return EMULATE_DONE;
}

enum emulate_result emulate_instruction(struct guest_regs *regs, const uint8_t *code,
                                        size_t available, struct emulate_outcome *outcome)
{
	size_t at = 0;
	int operand16 = 0, rep = 0;

	outcome->vector = 0;
	outcome->error_code = -1;
	outcome->software_length = 0;
	outcome->mnemonic = "?";
	while (at < available && at < MAX_PREFIXES &&
	       (code[at] == PREFIX_OPERAND_SIZE || code[at] == PREFIX_REP)) {
		if (code[at] == PREFIX_OPERAND_SIZE)
			operand16 = 1;
		else
			rep = 1;
		at++;
	}
	if (at >= available)
		return EMULATE_UNSUPPORTED;
	/* Virtual user mode may not do what only a kernel may: #GP, as on hardware. */
	if (virtual_cpu_ring() != 0 && privileged(code + at, available - at)) {
		outcome->mnemonic = "privileged instruction in user mode";
		return general_protection(outcome, 0);
	}

	uint8_t opcode = code[at++];
	uint16_t port;
	unsigned size = (opcode & 1) == 0 ? 1 : operand16 ? 2 : 4;
	switch (opcode) {
	case 0xE4: case 0xE5: case 0xE6: case 0xE7:   /* in/out with an imm8 port */
		if (at >= available)
			return EMULATE_UNSUPPORTED;
		port = code[at++];
		goto port_io;
	case 0xEC: case 0xED: case 0xEE: case 0xEF:   /* in/out with the port in dx */
		port = (uint16_t)regs->edx;
	port_io:
		outcome->mnemonic = (opcode & 2) ? "out" : "in";
		/* Advance first: an exit-port write never returns here. */
		regs->eip += (uint32_t)at;
		if (opcode & 2)
			io_bus_write(port, size, regs->eax);
		else
			emulate_port_in(regs, port, size);
		return EMULATE_DONE;
	case 0x6C: case 0x6D: case 0x6E: case 0x6F: { /* ins/outs */
		outcome->mnemonic = (opcode & 2) ? "outs" : "ins";
		/* A fault on guest memory stops the loop where it got to, as on hardware: #GP. */
		if (emulate_string_io(regs, size, (opcode & 2) != 0, rep) != 0)
			return general_protection(outcome, 0);
		regs->eip += (uint32_t)at;
		return EMULATE_DONE;
	}
	case 0xF4:
		if (operand16 || rep)
			return EMULATE_UNSUPPORTED;
		outcome->mnemonic = "hlt";
		regs->eip += (uint32_t)at;
		return EMULATE_HALT;
	case 0xFA:
		outcome->mnemonic = "cli";
		virtual_cpu_set_interrupts_enabled(0);
		break;
	case 0xFB:
		outcome->mnemonic = "sti";
		virtual_cpu_set_interrupts_enabled(1);
		/* The interrupt shadow: `sti; hlt` must not take an interrupt between the two. */
		if (at < available && code[at] == 0xF4) {
			regs->eip += (uint32_t)at + 1;
			return EMULATE_HALT;
		}
		break;
	case 0xCD:
		if (at >= available)
			return EMULATE_UNSUPPORTED;
		outcome->mnemonic = "int";
		outcome->vector = code[at++];
		outcome->software_length = (unsigned)at;   /* prefixes included: a #GP points at them */
		regs->eip += (uint32_t)at;
		return EMULATE_INTERRUPT;
	case 0xCF:
		if (operand16)
			return EMULATE_UNSUPPORTED;
		outcome->mnemonic = "iret";
		if (virtual_cpu_ring() != 0 || virtual_cpu_iret(regs, regs->esp) != 0)
			return general_protection(outcome, 0);
		return EMULATE_DONE;
	case 0x8E: { /* mov r/m16, %sreg */
		unsigned reg;
		int is_register;
		uint32_t operand, selector;
		int used = emulate_decode_modrm(regs, code + at, available - at, &reg, &is_register, &operand);
		if (used < 0 || reg == 1 || reg > 5)
			return EMULATE_UNSUPPORTED;
		selector = is_register ? *gpr(regs, operand) : 0;
		if (!is_register && guest_read(operand, &selector, 2) != 0)
			return general_protection(outcome, 0);
		outcome->mnemonic = "mov to segment register";
		if (!selector_usable(selector & 0xFFFF, 0))
			return general_protection(outcome, selector & 0xFFFC);
		/* The hardware keeps the host's flat data selector, which maps the same memory. */
		regs->eip += (uint32_t)(at + (size_t)used);
		return EMULATE_DONE;
	}
	case 0xEA: case 0x9A: { /* ljmp/lcall ptr16:32 */
		if (operand16 || available < at + 6)
			return EMULATE_UNSUPPORTED;
		outcome->mnemonic = opcode == 0xEA ? "ljmp" : "lcall";
		uint32_t offset = read_le32(code + at);
		uint32_t selector = (uint32_t)code[at + 4] | (uint32_t)code[at + 5] << 8;
		return far_transfer(regs, selector, offset, opcode == 0x9A, regs->eip + (uint32_t)at + 6,
		                    outcome);
	}
	case 0xFF: { /* ljmp/lcall m16:32 */
		unsigned reg;
		int is_register;
		uint32_t address, pointer[2] = { 0, 0 };
		int used = emulate_decode_modrm(regs, code + at, available - at, &reg, &is_register, &address);
		if (used < 0 || is_register || (reg != 3 && reg != 5) || operand16)
			return EMULATE_UNSUPPORTED;
		outcome->mnemonic = reg == 5 ? "ljmp" : "lcall";
		if (guest_read(address, pointer, 6) != 0)
			return general_protection(outcome, 0);
		return far_transfer(regs, pointer[1] & 0xFFFF, pointer[0], reg == 3,
		                    regs->eip + (uint32_t)(at + (size_t)used), outcome);
	}
	case 0x0F:
		return two_byte(regs, code, available, at, outcome);
	default:
		return EMULATE_UNSUPPORTED;
	}
	regs->eip += (uint32_t)at;
	return EMULATE_DONE;
}
