/* The "mmu_storm" test guest: a hostile kernel that makes random MMU calls through the SDK
 * (issue 13: page tables pointing outside RAM, at the ROM, at vmirun's window, directories
 * that map themselves, 10^5 random calls) and checks each result and, between calls, what
 * touching the playground does, against its own software walk of its tables. The same binary
 * on QEMU's native ROM (the hardware is the reference) and on vmirun agrees seed for seed.
 *
 * Command line: `seed=N` (else the TSC picks it; printed first either way, to replay a run),
 * `count=N` operations (default 100000), `trace=N` prints every operation from the N-th on,
 * `hang=1` spins in directory 1 after the last instead of exiting, `hang=2` crashes there (an
 * invalid opcode with no IDT: a fault the guest cannot take).
 * The last line is "mmu_storm: N operations, A accesses checked, F page faults as expected"
 * and the exit port gets 0 (status 1); the first mismatch prints "mmu_storm: FAIL ..." and
 * exits with status 7. */
#include <stdint.h>

#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include "vmiguest.h"

#include "../common/format.h"
#include "../common/string.h"
#include "storm.h"

#define DEFAULT_COUNT     100000u
#define SERIAL_THR_EMPTY  0x20u
#define KERNEL_GATE       0x8E00u               /* present, DPL 0, 32-bit interrupt gate */
#define EXCEPTIONS        32u
#define EXIT_PASSED       0
#define EXIT_FAILED       3

int native, tracing;
uint32_t ram_end, identity_slots, operation_number;
volatile uint32_t probe_faults, probe_fault_error;
extern const uint32_t exception_entries[EXCEPTIONS];

void guest_main(uint32_t magic, const struct multiboot_info *info) __attribute__((noreturn));
void storm_exception(uint32_t vector, uint32_t error_code, uint32_t eip)
	__attribute__((noreturn));

static uint32_t seed, trace_from;
static char cmdline[256];

/* --- output ------------------------------------------------------------------------------- */

/* A PC's UART takes a byte once its holding register is empty (vmirun's always is). */
void print(const char *text)
{
	for (; *text; text++) {
		for (uint32_t polls = 0; polls < 100000; polls++)
			if (vmi_inb(VMI_PORT_COM1_LSR) & SERIAL_THR_EMPTY)
				break;
		vmi_outb((uint8_t)*text, VMI_PORT_COM1);
	}
}

void print_hex(uint32_t value)
{
	char text[9];
	format_hex(value, 8, text);
	print("0x");
	print(text);
}

void print_decimal(uint32_t value)
{
	char digits[FORMAT_DECIMAL_SIZE];
	print(format_decimal(value, digits));
}

static _Noreturn void exit_with(uint8_t code)
{
	vmi_outb(code, VMI_PORT_EXIT);
	for (;;)
		vmi_halt();
}

static void print_where(void)
{
	print("seed ");
	print_decimal(seed);
	print(", operation ");
	print_decimal(operation_number);
	print(native ? ", native ROM" : ", vmirun");
}

_Noreturn void fail(const char *what, uint32_t address, uint32_t expected_value,
                    uint32_t seen_value)
{
	print("mmu_storm: FAIL (");
	print_where();
	print(") ");
	print(what);
	print(" at ");
	print_hex(address);
	print(": expected ");
	print_hex(expected_value);
	print(", saw ");
	print_hex(seen_value);
	print("\n");
	exit_with(EXIT_FAILED);
}

void storm_exception(uint32_t vector, uint32_t error_code, uint32_t eip)
{
	print("mmu_storm: FAIL (");
	print_where();
	print(") exception ");
	print_decimal(vector);
	print(" at eip ");
	print_hex(eip);
	print(", error code ");
	print_hex(error_code);
	print(", CR2 ");
	print_hex(vmi_get_cr2());
	print("\n");
	exit_with(EXIT_FAILED);
}

/* --- randomness: xoshiro128**, seeded through splitmix32 ---------------------------------- */

static uint32_t random_state[4];

static uint32_t rotate_left(uint32_t value, unsigned bits)
{
	return value << bits | value >> (32 - bits);
}

static void seed_random(uint32_t value)
{
	for (unsigned i = 0; i < 4; i++) {
		uint32_t z = (value += 0x9E3779B9u);
		z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
		z = (z ^ (z >> 13)) * 0xC2B2AE35u;
		random_state[i] = z ^ (z >> 16);
	}
}

uint32_t random32(void)
{
	uint32_t *s = random_state;
	uint32_t result = rotate_left(s[1] * 5, 7) * 9, shifted = s[1] << 9;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= shifted;
	s[3] = rotate_left(s[3], 11);
	return result;
}

uint32_t random_below(uint32_t n)
{
	return (uint32_t)(((uint64_t)random32() * n) >> 32);
}

int one_in(uint32_t n)
{
	return random_below(n) == 0;
}

/* --- the command line --------------------------------------------------------------------- */

/* The number of the first word `NAME=digits`, if the command line has one. */
static int number_option(const char *name, uint32_t *value)
{
	unsigned length = 0;
	while (name[length])
		length++;
	for (const char *word = cmdline; *word;) {
		const char *end = word;
		while (*end && *end != ' ')
			end++;
		unsigned i = 0;
		while (i < length && word + i < end && word[i] == name[i])
			i++;
		if (i == length && word[length] == '=' && word + length + 1 < end) {
			uint32_t number = 0;
			const char *digit = word + length + 1;
			while (digit < end && *digit >= '0' && *digit <= '9')
				number = number * 10 + (uint32_t)(*digit++ - '0');
			if (digit == end) {
				*value = number;
				return 1;
			}
		}
		word = *end ? end + 1 : end;
	}
	return 0;
}

static void read_cmdline(const struct multiboot_info *info)
{
	if (!(info->flags & MULTIBOOT_INFO_CMDLINE))
		return;
	const char *from = (const char *)(uintptr_t)info->cmdline;
	for (unsigned n = 0; n < sizeof cmdline - 1 && from[n]; n++)
		cmdline[n] = from[n];
}

/* --- the machine -------------------------------------------------------------------------- */

static uint64_t idt[EXCEPTIONS] __attribute__((aligned(8)));

static void install_gates(void)
{
	uint32_t selector;
	__asm__ volatile("mov %%cs, %0" : "=r"(selector));
	for (unsigned vector = 0; vector < EXCEPTIONS; vector++) {
		uint32_t handler = exception_entries[vector];
		idt[vector] = (uint64_t)(selector << 16 | (handler & 0xFFFF)) |
		              (uint64_t)((handler & 0xFFFF0000u) | KERNEL_GATE) << 32;
	}
	struct vmi_pseudo_descriptor idtr = { sizeof idt - 1, (uint32_t)(uintptr_t)idt };
	if (vmi_set_idt(&idtr) != 0)
		fail("SetIDT refused the storm's IDT", idtr.base, 0, 1);
}

static void turn_paging_on(void)
{
	uint32_t result = vmi_set_cr4(vmi_get_cr4() | VMI_CR4_PSE | VMI_CR4_PGE);
	if (result == 0)
		result = vmi_set_cr3(table_frame(0));
	if (result == 0)
		result = vmi_set_cr0(vmi_get_cr0() | VMI_CR0_PG | VMI_CR0_WP);
	if (result != 0 || !(vmi_get_cr0() & VMI_CR0_PG))
		fail("turning paging on (SetCR4, SetCR3, SetCR0)", table_frame(0), 0, result);
	loaded_directory = 0;
}

void trace(const char *what, uint32_t a, uint32_t b, uint32_t c)
{
	if (!tracing)
		return;
	print("mmu_storm: trace ");
	print_decimal(operation_number);
	print(" ");
	print(what);
	print(" ");
	print_hex(a);
	print(" ");
	print_hex(b);
	print(" ");
	print_hex(c);
	print("\n");
}

void guest_main(uint32_t magic, const struct multiboot_info *info)
{
	read_cmdline(info);
	const struct vmi_guest_config config = { .cmdline = cmdline };
	const struct vmi_guest_report *report = vmi_guest_init(&config);
	native = report->native;
	if (!number_option("seed", &seed)) {
		uint64_t tsc = vmi_rdtsc();
		seed = (uint32_t)tsc ^ (uint32_t)(tsc >> 32);
	}
	print("mmu_storm: seed ");
	print_decimal(seed);
	print("\n");
	seed_random(seed);
	uint32_t count = DEFAULT_COUNT;
	number_option("count", &count);
	if (!number_option("trace", &trace_from))
		trace_from = UINT32_MAX;

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || !(info->flags & MULTIBOOT_INFO_MEMORY))
		fail("no multiboot memory information", (uint32_t)(uintptr_t)info,
		     MULTIBOOT_BOOTLOADER_MAGIC, magic);
	ram_end = VMI_PROCESS_RAM_BASE + info->mem_upper * 1024;
	identity_slots = (ram_end + SLOT_BYTES - 1) / SLOT_BYTES;
	if (ram_end > PLAYGROUND_BASE)
		fail("more RAM than the identity map below the playground holds", 0,
		     PLAYGROUND_BASE, ram_end);
	print(native ? "mmu_storm: on the native ROM, RAM up to "
	             : "mmu_storm: on vmirun's ROM, RAM up to ");
	print_hex(ram_end);
	print("\n");

	install_gates();
	storm_memory_reset();
	build_tables();
	turn_paging_on();
	for (operation_number = 1; operation_number <= count; operation_number++) {
		tracing = operation_number >= trace_from;
		trace("directory, probe faults", loaded_directory, probe_faults, 0);
		random_operation();
		touch_playground();
	}
	print_counts();
	print("mmu_storm: ");
	print_decimal(count);
	print(" operations, ");
	print_decimal(accesses_checked);
	print(" accesses checked, ");
	print_decimal(faults_as_expected);
	print(" page faults as expected\n");
	uint32_t hang;
	if (number_option("hang", &hang)) {
		/* For the host's teardown tests: spin or crash in another directory than the
		 * first. */
		vmi_set_cr3(table_frame(1));
		if (hang == 2) {
			static const struct vmi_pseudo_descriptor no_idt = { 0, 0 };
			print("mmu_storm: crashing in directory 1\n");
			vmi_set_idt(&no_idt);
			__asm__ volatile("ud2");
		}
		print("mmu_storm: spinning in directory 1\n");
		for (;;)
			;
	}
	exit_with(EXIT_PASSED);
}
