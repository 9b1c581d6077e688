/* Decodes and emulates the privileged instructions of an unmodified i386 kernel: port I/O
 * (string forms too), cli/sti/hlt, int n, iret, the descriptor-table loads and stores,
 * moves to and from control and debug registers, lmsw/smsw, clts/invd/wbinvd/invlpg,
 * rdmsr/wrmsr, cpuid, segment loads and far jumps and calls with the guest's own selectors,
 * resolved against its virtual GDT. docs/architecture.md lists them with their tests. */

#include <stdio.h>

#include <vmi/calls.h>
#include <vmi/mmu.h>
#include "devices/io_bus.h"
#include "monitor/control_registers.h"
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
#define VECTOR_UD           6
#define VECTOR_GP           13
#define CR0_TS              0x8
#define CR4_DE              0x8
#define CR4_UMIP            0x800
#define DR6_WRITABLE        0xE00Fu       /* B0-B3, BD, BS, BT; the rest read as fixed */
#define DR6_FIXED           0xFFFF0FF0u
#define DR7_WRITABLE        0xFFFF23FFu   /* enables, GD, conditions and lengths */
#define DR7_FIXED           0x400u
#define EFLAGS_DF           0x400
#define DESC_PRESENT        (1ull << 47)
#define DESC_SEGMENT        (1ull << 44)
#define DESC_CODE           (1ull << 43)

/* One trapped instruction as far as it is decoded. `at` is both the next byte and the length
 * so far, so an instruction that completes moves eip by it, and one that faults or is
 * refused leaves eip alone: the guest sees the fault at the instruction, as on hardware. */
struct instruction {
	struct guest_regs *regs;
	struct emulate_outcome *outcome;
	const uint8_t *code;
	size_t available;
	size_t at;
	uint8_t opcode; /* the byte that chose the group: after 0x0F, the second one */
	int operand16, rep;
};

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

/* sldt, str (0F 00 /0 /1), sgdt, sidt (0F 01 /0 /1 with memory) and smsw (0F 01 /4): the
 * stores any ring may run on an i386, unless CR4.UMIP says otherwise. */
static int descriptor_store(uint8_t group, uint8_t modrm)
{
	unsigned reg = (modrm >> 3) & 7;
	if (group == 0x00)
		return reg <= 1;
	return reg == 4 || (reg <= 1 && (modrm >> 6) != 3);
}

/* The instructions that need the kernel ring (in/out/ins/outs need IOPL, which is 0):
 * everything emulated here except int n, iret (checked on its own), segment loads, far
 * jumps and calls, cpuid and the descriptor stores. */
static int privileged(const uint8_t *code, size_t available)
{
	switch (code[0]) {
	case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xEC: case 0xED: case 0xEE: case 0xEF:
	case 0x6C: case 0x6D: case 0x6E: case 0x6F: case 0xF4: case 0xFA: case 0xFB:
		return 1;
	case 0x0F:
		if (available < 2)
			return 0;
		if (code[1] == 0x00 || code[1] == 0x01)
			return available < 3 || !descriptor_store(code[1], code[2]) ||
			       (virtual_cpu.cr4 & CR4_UMIP);
		return code[1] == 0x06 || code[1] == 0x08 || code[1] == 0x09 || code[1] == 0x20 ||
		       code[1] == 0x21 || code[1] == 0x22 || code[1] == 0x23 || code[1] == 0x30 ||
		       code[1] == 0x32 || (code[1] == 0x38 && available >= 3 && code[2] == 0x82);
	default:
		return 0;
	}
}

/* A fault the instruction raises: eip stays on it. error -1: the vector has no code. */
static enum emulate_result raise_fault(struct emulate_outcome *outcome, unsigned vector,
                                       int64_t error)
{
	outcome->vector = vector;
	outcome->error_code = error;
	outcome->software_length = 0;
	return EMULATE_INTERRUPT;
}

static enum emulate_result general_protection(struct emulate_outcome *outcome, uint32_t error)
{
	return raise_fault(outcome, VECTOR_GP, error);
}

/* #UD: an encoding no i386 has (CR1, CR5-7; DR4/5 under CR4.DE). */
static enum emulate_result invalid_opcode(struct emulate_outcome *outcome)
{
	return raise_fault(outcome, VECTOR_UD, -1);
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

/* --- decoding steps shared by the groups ------------------------------------------------- */

static int more(const struct instruction *in)
{
	return in->at < in->available;
}

/* The odd opcodes of a pair are the wide forms, 16 or 32 bits as the prefix says. */
static unsigned operand_size(const struct instruction *in)
{
	return (in->opcode & 1) == 0 ? 1 : in->operand16 ? 2 : 4;
}

static enum emulate_result finish(struct instruction *in)
{
	in->regs->eip += (uint32_t)in->at;
	return EMULATE_DONE;
}

/* For the loads whose checks (the guest's tables, its MSRs) may refuse it: #GP then. */
static enum emulate_result finish_or_fault(struct instruction *in, int failed)
{
	return failed ? general_protection(in->outcome, 0) : finish(in);
}

/* A ModRM operand (with SIB and displacement), passed over; -1 if it runs past the bytes. */
static int take_modrm(struct instruction *in, unsigned *reg, int *is_register,
                      uint32_t *operand)
{
	int used = emulate_decode_modrm(in->regs, in->code + in->at, in->available - in->at, reg,
	                                is_register, operand);
	if (used < 0)
		return -1;
	in->at += (size_t)used;
	return 0;
}

/* Moves to and from control and debug registers encode only a register operand (mod 3);
 * the other encodings are invalid, not a memory form. */
static int take_register_modrm(struct instruction *in, unsigned *reg, unsigned *rm)
{
	if (!more(in) || (in->code[in->at] >> 6) != 3)
		return -1;
	*reg = (in->code[in->at] >> 3) & 7;
	*rm = in->code[in->at] & 7;
	in->at++;
	return 0;
}

/* sgdt, sidt, lgdt, lidt with an operand-size prefix: the base's top byte is not used. */
static uint32_t table_base_mask(const struct instruction *in)
{
	return in->operand16 ? 0x00FFFFFFu : 0xFFFFFFFFu;
}

/* sldt, str, smsw: a register takes the whole value (only its low 16 bits with an
 * operand-size prefix; the rest kept), memory its low 16 bits. */
static enum emulate_result store_word(struct instruction *in, int is_register,
                                      uint32_t operand, uint32_t value)
{
	if (!is_register) {
		uint16_t word = (uint16_t)value;
		return finish_or_fault(in, guest_write(operand, &word, sizeof word) != 0);
	}
	uint32_t *destination = gpr(in->regs, operand);
	*destination = in->operand16 ? (*destination & 0xFFFF0000u) | (value & 0xFFFF) : value;
	return finish(in);
}

/* A 16-bit operand (selector, machine status word) from a register or guest memory. */
static int read_operand16(struct guest_regs *regs, int is_register, uint32_t operand,
                          uint32_t *value)
{
	*value = is_register ? *gpr(regs, operand) & 0xFFFF : 0;
	return !is_register && guest_read(operand, value, 2) != 0 ? -1 : 0;
}

/* --- segments and far transfers ---------------------------------------------------------- */

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

int emulate_data_selector_usable(uint32_t selector)
{
	return selector_usable(selector, 0);
}

/* The instruction has been passed over: a far call returns after it. */
static enum emulate_result far_transfer(struct instruction *in, uint32_t selector,
                                        uint32_t offset, int is_call)
{
	struct guest_regs *regs = in->regs;
	if (!selector_usable(selector, 1))
		return general_protection(in->outcome, selector & 0xFFFC);
	if (is_call) {
		uint32_t frame[2] = { regs->eip + (uint32_t)in->at,
		                      virtual_cpu_shared()->cs & 0xFFFF };
		if (guest_write(regs->esp - 8, frame, 8) != 0)
			return general_protection(in->outcome, 0);
		regs->esp -= 8;
	}
	regs->eip = offset;
	virtual_cpu_set_code_selector((uint16_t)((selector & 0xFFFC) | virtual_cpu_ring()));
	return EMULATE_DONE;
}

/* EA, 9A: ljmp and lcall ptr16:32. */
static enum emulate_result far_direct(struct instruction *in)
{
	if (in->operand16 || in->available < in->at + 6)
		return EMULATE_UNSUPPORTED;
	in->outcome->mnemonic = in->opcode == 0xEA ? "ljmp" : "lcall";
	uint32_t offset = read_le32(in->code + in->at);
	uint32_t selector = (uint32_t)in->code[in->at + 4] | (uint32_t)in->code[in->at + 5] << 8;
	in->at += 6;
	return far_transfer(in, selector, offset, in->opcode == 0x9A);
}

/* FF /5 and FF /3: ljmp and lcall m16:32; the rest of group 5 is not emulated. */
static enum emulate_result far_indirect(struct instruction *in)
{
	unsigned reg;
	int is_register;
	uint32_t address, pointer[2] = { 0, 0 };
	if (take_modrm(in, &reg, &is_register, &address) != 0 || is_register ||
	    (reg != 3 && reg != 5) || in->operand16)
		return EMULATE_UNSUPPORTED;
	in->outcome->mnemonic = reg == 5 ? "ljmp" : "lcall";
	if (guest_read(address, pointer, 6) != 0)
		return general_protection(in->outcome, 0);
	return far_transfer(in, pointer[1] & 0xFFFF, pointer[0], reg == 3);
}

/* 8E: mov r/m16, %sreg (not %cs, and 6 and 7 name no register). */
static enum emulate_result load_segment_register(struct instruction *in)
{
	unsigned reg;
	int is_register;
	uint32_t operand, selector;
	if (take_modrm(in, &reg, &is_register, &operand) != 0 || reg == 1 || reg > 5)
		return EMULATE_UNSUPPORTED;
	if (read_operand16(in->regs, is_register, operand, &selector) != 0)
		return general_protection(in->outcome, 0);
	in->outcome->mnemonic = "mov to segment register";
	if (!selector_usable(selector, 0))
		return general_protection(in->outcome, selector & 0xFFFC);
	/* The hardware keeps the host's flat data selector, which maps the same memory. */
	return finish(in);
}

/* --- one-byte opcodes -------------------------------------------------------------------- */

/* EC-EF, and E4-E7 once their imm8 is read. */
static enum emulate_result port_io(struct instruction *in, uint16_t port)
{
	int out = (in->opcode & 2) != 0;
	unsigned size = operand_size(in);
	in->outcome->mnemonic = out ? "out" : "in";
	/* Past the instruction before the device runs: a stop it requests (the exit port) then
	 * reports the guest after its last instruction. */
	in->regs->eip += (uint32_t)in->at;
	if (out)
		io_bus_write(port, size, in->regs->eax);
	else
		emulate_port_in(in->regs, port, size);
	return EMULATE_DONE;
}

static enum emulate_result port_io_imm8(struct instruction *in)
{
	if (!more(in))
		return EMULATE_UNSUPPORTED;
	uint16_t port = in->code[in->at++];
	return port_io(in, port);
}

/* 6C-6F: ins and outs, rep or not. */
static enum emulate_result string_io(struct instruction *in)
{
	int out = (in->opcode & 2) != 0;
	in->outcome->mnemonic = out ? "outs" : "ins";
	/* A fault on guest memory stops the loop where it got to, as on hardware: #GP. */
	if (emulate_string_io(in->regs, operand_size(in), out, in->rep) != 0)
		return general_protection(in->outcome, 0);
	return finish(in);
}

static enum emulate_result halt(struct instruction *in)
{
	if (in->operand16 || in->rep)
		return EMULATE_UNSUPPORTED;
	in->outcome->mnemonic = "hlt";
	in->regs->eip += (uint32_t)in->at;
	return EMULATE_HALT;
}

static enum emulate_result clear_interrupt_flag(struct instruction *in)
{
	in->outcome->mnemonic = "cli";
	virtual_cpu_set_interrupts_enabled(0);
	return finish(in);
}

static enum emulate_result set_interrupt_flag(struct instruction *in)
{
	in->outcome->mnemonic = "sti";
	virtual_cpu_set_interrupts_enabled(1);
	/* The interrupt shadow: `sti; hlt` must not take an interrupt between the two. */
	if (more(in) && in->code[in->at] == 0xF4) {
		in->regs->eip += (uint32_t)in->at + 1;
		return EMULATE_HALT;
	}
	return finish(in);
}

/* CD: int n, delivered by the caller through the gate, whose DPL it checks. */
static enum emulate_result software_interrupt(struct instruction *in)
{
	if (!more(in))
		return EMULATE_UNSUPPORTED;
	in->outcome->mnemonic = "int";
	in->outcome->vector = in->code[in->at++];
	/* prefixes included: a #GP points at them */
	in->outcome->software_length = (unsigned)in->at;
	in->regs->eip += (uint32_t)in->at;
	return EMULATE_INTERRUPT;
}

/* CF: iret, which sets eip itself from the frame. */
static enum emulate_result interrupt_return(struct instruction *in)
{
	if (in->operand16)
		return EMULATE_UNSUPPORTED;
	in->outcome->mnemonic = "iret";
	if (virtual_cpu_ring() != 0 || virtual_cpu_iret(in->regs, in->regs->esp) != 0)
		return general_protection(in->outcome, 0);
	return EMULATE_DONE;
}

/* --- two-byte opcodes (0F xx) ------------------------------------------------------------ */

/* 0F 00: sldt, str, lldt, ltr; verr and verw (/4, /5) never trap. */
static enum emulate_result group6(struct instruction *in)
{
	unsigned reg;
	int is_register;
	uint32_t operand, selector;
	if (take_modrm(in, &reg, &is_register, &operand) != 0 || reg > 3)
		return EMULATE_UNSUPPORTED;
	if (reg <= 1) {
		in->outcome->mnemonic = reg == 0 ? "sldt" : "str";
		return store_word(in, is_register, operand,
		                  reg == 0 ? virtual_cpu.ldt_selector : virtual_cpu.tr_selector);
	}
	if (read_operand16(in->regs, is_register, operand, &selector) != 0)
		return general_protection(in->outcome, 0);
	in->outcome->mnemonic = reg == 2 ? "lldt" : "ltr";
	struct descriptor_fault fault;
	if ((reg == 2 ? descriptors_load_ldt : descriptors_load_tr)(selector, &fault) != 0)
		return raise_fault(in->outcome, fault.vector, fault.error_code);
	return finish(in);
}

/* lmsw: PE, MP, EM and TS from the operand; PE can be set, not cleared. */
static enum emulate_result load_machine_status_word(struct instruction *in, int is_register,
                                                    uint32_t operand)
{
	uint32_t word;
	if (read_operand16(in->regs, is_register, operand, &word) != 0)
		return general_protection(in->outcome, 0);
	in->outcome->mnemonic = "lmsw";
	virtual_cpu.cr0 = (virtual_cpu.cr0 & ~0xFu) | (word & 0xF) | (virtual_cpu.cr0 & 1);
	return finish(in);
}

/* 0F 01: sgdt, sidt, lgdt, lidt, smsw, lmsw, invlpg. Its register forms other than
 * smsw's and lmsw's are other instructions (vmcall and the like), not emulated. */
static enum emulate_result group7(struct instruction *in)
{
	static const char *const mnemonics[4] = { "sgdt", "sidt", "lgdt", "lidt" };
	unsigned reg;
	int is_register;
	uint32_t operand;
	if (take_modrm(in, &reg, &is_register, &operand) != 0)
		return EMULATE_UNSUPPORTED;
	if (reg == 4) {
		in->outcome->mnemonic = "smsw";
		return store_word(in, is_register, operand, virtual_cpu.cr0);
	}
	if (reg == 6)
		return load_machine_status_word(in, is_register, operand);
	if (is_register)
		return EMULATE_UNSUPPORTED;
	enum descriptor_table table = (reg & 1) ? DESCRIPTOR_IDT : DESCRIPTOR_GDT;
	switch (reg) {
	case 0: case 1:
		in->outcome->mnemonic = mnemonics[reg];
		return finish_or_fault(in, descriptors_store_table_register(
		                                   table, operand, table_base_mask(in)) != 0);
	case 2: case 3:
		/* as the CPU loads them: the entries are checked where they are used */
		in->outcome->mnemonic = mnemonics[reg];
		return finish_or_fault(in, descriptors_load_table_register(
		                                   table, operand, table_base_mask(in)) != 0);
	case 7:
		in->outcome->mnemonic = "invlpg";
		mmu_invalidate(operand);
		return finish(in);
	default:
		return EMULATE_UNSUPPORTED;
	}
}

static enum emulate_result clear_task_switched(struct instruction *in)
{
	in->outcome->mnemonic = "clts";
	virtual_cpu.cr0 &= ~CR0_TS;
	return finish(in);
}

/* invd, wbinvd: the caches are the host's, coherent with guest memory; nothing to flush. */
static enum emulate_result invalidate_caches(struct instruction *in)
{
	in->outcome->mnemonic = in->opcode == 0x08 ? "invd" : "wbinvd";
	return finish(in);
}

/* NULL for the control registers i386 does not have. */
static uint32_t *control_register(unsigned number)
{
	switch (number) {
	case 0: return &virtual_cpu.cr0;
	case 2: return &virtual_cpu.cr2;
	case 3: return &virtual_cpu.cr3;
	case 4: return &virtual_cpu.cr4;
	default: return NULL;
	}
}

/* What the CPU would do but vmirun cannot: a #GP would tell the kernel something no CPU
 * says, so vmirun stops and says what is missing. */
static enum emulate_result control_register_not_implemented(struct instruction *in,
                                                            unsigned number, unsigned source,
                                                            uint32_t value, const char *what,
                                                            const char *missing)
{
	snprintf(in->outcome->reason, sizeof in->outcome->reason,
	         "mov %%%s,%%cr%u %s (value 0x%08x): %s is not implemented", gpr_name(source),
	         number, what, value, missing);
	return EMULATE_NOT_IMPLEMENTED;
}

static enum emulate_result write_control_register(struct instruction *in, unsigned number,
                                                  unsigned source)
{
	uint32_t value = *gpr(in->regs, source);
	const char *what = "", *missing = "";
	switch (control_register_write(number, &value, &what, &missing)) {
	case CONTROL_REGISTER_FAULTS:
		return general_protection(in->outcome, 0);
	case CONTROL_REGISTER_NOT_IMPLEMENTED:
		return control_register_not_implemented(in, number, source, value, what, missing);
	case CONTROL_REGISTER_TAKEN:
		break;
	}
	return finish(in);
}

/* 0F 20 (mov %crN, r32) and 0F 22 (mov r32, %crN). */
static enum emulate_result move_control_register(struct instruction *in)
{
	unsigned number, rm;
	if (take_register_modrm(in, &number, &rm) != 0)
		return EMULATE_UNSUPPORTED;
	uint32_t *cr = control_register(number);
	if (!cr)
		return invalid_opcode(in->outcome);
	if (in->opcode == 0x22) {
		in->outcome->mnemonic = "mov to cr";
		return write_control_register(in, number, rm);
	}
	in->outcome->mnemonic = "mov from cr";
	/* The guest's CR2 lives in the shared vCPU page, where the ROM reads it directly. */
	*gpr(in->regs, rm) = number == 2 ? virtual_cpu_shared()->cr2 : *cr;
	return finish(in);
}

/* 0F 21 (mov %drN, r32) and 0F 23 (mov r32, %drN). */
static enum emulate_result move_debug_register(struct instruction *in)
{
	unsigned number, rm;
	if (take_register_modrm(in, &number, &rm) != 0)
		return EMULATE_UNSUPPORTED;
	if (number == 4 || number == 5) {
		if (virtual_cpu.cr4 & CR4_DE)
			return invalid_opcode(in->outcome);
		number += 2; /* DR4 and DR5 are DR6 and DR7 while CR4.DE is clear */
	}
	in->outcome->mnemonic = in->opcode == 0x21 ? "mov from dr" : "mov to dr";
	if (in->opcode == 0x23) {
		virtual_cpu.dr[number] = *gpr(in->regs, rm);
		return finish(in);
	}
	/* DR6 and DR7 read their fixed bits as a CPU's do, whatever was written */
	uint32_t value = virtual_cpu.dr[number];
	if (number == 6)
		value = (value & DR6_WRITABLE) | DR6_FIXED;
	else if (number == 7)
		value = (value & DR7_WRITABLE) | DR7_FIXED;
	*gpr(in->regs, rm) = value;
	return finish(in);
}

static enum emulate_result write_msr(struct instruction *in)
{
	uint64_t value = (uint64_t)in->regs->edx << 32 | in->regs->eax;
	in->outcome->mnemonic = "wrmsr";
	return finish_or_fault(in, msr_write(in->regs->ecx, value) != 0);
}

static enum emulate_result read_msr(struct instruction *in)
{
	uint64_t value;
	in->outcome->mnemonic = "rdmsr";
	if (msr_read(in->regs->ecx, &value) != 0)
		return general_protection(in->outcome, 0);
	in->regs->eax = (uint32_t)value;
	in->regs->edx = (uint32_t)(value >> 32);
	return finish(in);
}

/* 0F A2: it traps only where the host makes `cpuid` fault; the same virtual CPUID then. */
static enum emulate_result cpu_identification(struct instruction *in)
{
	uint32_t out[4];
	in->outcome->mnemonic = "cpuid";
	msr_cpuid(in->regs->eax, in->regs->ecx, out);
	in->regs->eax = out[0];
	in->regs->ebx = out[1];
	in->regs->ecx = out[2];
	in->regs->edx = out[3];
	return finish(in);
}

/* 66 0F 38 82: invpcid. The guest's own `cpuid` shows the host's INVPCID (nothing makes it
 * fault), and Linux flushes its TLB with it then. Without long mode CR4.PCIDE is clear, so
 * only PCID 0 exists: one address, that context or all but global are what invlpg and a
 * flush drop; type 2 drops the global pages too. */
static enum emulate_result invalidate_pcid(struct instruction *in)
{
	unsigned reg;
	int is_register;
	uint32_t operand, descriptor[4];
	if (!in->operand16 || take_modrm(in, &reg, &is_register, &operand) != 0 || is_register)
		return EMULATE_UNSUPPORTED;
	in->outcome->mnemonic = "invpcid";
	uint32_t type = *gpr(in->regs, reg);
	if (type > 3 || guest_read(operand, descriptor, sizeof descriptor) != 0 ||
	    (descriptor[0] & ~0xFFFu) || descriptor[1] || (type <= 1 && descriptor[0] != 0))
		return general_protection(in->outcome, 0);
	if (type == 0)
		mmu_invalidate(descriptor[2]);
	else
		mmu_flush(type == 2);
	return finish(in);
}

static enum emulate_result three_byte_38(struct instruction *in)
{
	if (!more(in))
		return EMULATE_UNSUPPORTED;
	in->opcode = in->code[in->at++];
	return in->opcode == 0x82 ? invalidate_pcid(in) : EMULATE_UNSUPPORTED;
}

static enum emulate_result two_byte(struct instruction *in)
{
	if (!more(in))
		return EMULATE_UNSUPPORTED;
	in->opcode = in->code[in->at++];
	switch (in->opcode) {
	case 0x00: return group6(in);
	case 0x01: return group7(in);
	case 0x06: return clear_task_switched(in);
	case 0x08: case 0x09: return invalidate_caches(in);
	case 0x20: case 0x22: return move_control_register(in);
	case 0x21: case 0x23: return move_debug_register(in);
	case 0x30: return write_msr(in);
	case 0x32: return read_msr(in);
	case 0x38: return three_byte_38(in);
	case 0xA2: return cpu_identification(in);
	default: return EMULATE_UNSUPPORTED;
	}
}

/* --- the instruction --------------------------------------------------------------------- */

/* Only the prefixes a kernel puts on these instructions; any other is refused with them. */
static void take_prefixes(struct instruction *in)
{
	while (more(in) && in->at < MAX_PREFIXES &&
	       (in->code[in->at] == PREFIX_OPERAND_SIZE || in->code[in->at] == PREFIX_REP)) {
		if (in->code[in->at] == PREFIX_OPERAND_SIZE)
			in->operand16 = 1;
		else
			in->rep = 1;
		in->at++;
	}
}

enum emulate_result emulate_instruction(struct guest_regs *regs, const uint8_t *code,
                                        size_t available, struct emulate_outcome *outcome)
{
	struct instruction in = { .regs = regs, .outcome = outcome, .code = code,
	                          .available = available };

	outcome->vector = 0;
	outcome->error_code = -1;
	outcome->software_length = 0;
	outcome->mnemonic = "?";
	take_prefixes(&in);
	if (!more(&in))
		return EMULATE_UNSUPPORTED;
	/* Virtual user mode may not do what only a kernel may: #GP, as on hardware. */
	if (virtual_cpu_ring() != 0 && privileged(code + in.at, available - in.at)) {
		outcome->mnemonic = "privileged instruction in user mode";
		return general_protection(outcome, 0);
	}

	in.opcode = code[in.at++];
	switch (in.opcode) {
	case 0xE4: case 0xE5: case 0xE6: case 0xE7: return port_io_imm8(&in);
	case 0xEC: case 0xED: case 0xEE: case 0xEF: return port_io(&in, (uint16_t)regs->edx);
	case 0x6C: case 0x6D: case 0x6E: case 0x6F: return string_io(&in);
	case 0xF4: return halt(&in);
	case 0xFA: return clear_interrupt_flag(&in);
	case 0xFB: return set_interrupt_flag(&in);
	case 0xCD: return software_interrupt(&in);
	case 0xCF: return interrupt_return(&in);
	case 0x8E: return load_segment_register(&in);
	case 0xEA: case 0x9A: return far_direct(&in);
	case 0xFF: return far_indirect(&in);
	case 0x0F: return two_byte(&in);
	default: return EMULATE_UNSUPPORTED;
	}
}
