/* The "hello" test guest: checks the multiboot handoff, prints over COM1 (through the
 * OUTB hypercall under vmirun, plain `out` elsewhere) and runs the actions on its command line. */
#include <stddef.h>
#include <stdint.h>

#include "vmi/calls.h"
#include "vmi/multiboot.h"
#include "vmi/process.h"

#include "../common/format.h"
#include <vmi/pc.h>

#define SERIAL_THR_EMPTY   0x20u
#define SERIAL_POLL_LIMIT  100000u

#define EXIT_BAD_ARGUMENT  2
#define EXIT_BAD_MAGIC     3
#define EXIT_NO_SHUTDOWN   4

extern uint64_t first_tsc;   /* written by _start */

void guest_main(uint32_t magic, uint32_t info_address) __attribute__((noreturn));

/* --- the machine ------------------------------------------------------------------------ */

static int under_vmirun;   /* decided once from the loader name */

static inline void port_out8(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint8_t port_in8(uint16_t port)
{
	uint8_t value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port) : "memory");
	return value;
}

/* The hypercall takes its arguments like the native instruction would: al = value,
 * dx = port (regparm(3)), result in eax. */
static inline uint32_t hypercall_outb(uint8_t value, uint16_t port)
{
	uint32_t eax = value;
	uint32_t edx = port;
	__asm__ volatile("lcall %[selector], %[entry]"
	                 : "+a"(eax), "+d"(edx)
	                 : [selector] "i"(VMI_PROCESS_CODE64_SELECTOR),
	                   [entry] "i"(VMI_PROCESS_HYPERCALL_ENTRY(VMI_CALL_OUTB))
	                 : "ecx", "memory");
	return eax;
}

static inline void hypercall_shutdown(void)
{
	uint32_t eax, ecx, edx;
	__asm__ volatile("lcall %[selector], %[entry]"
	                 : "=a"(eax), "=c"(ecx), "=d"(edx)
	                 : [selector] "i"(VMI_PROCESS_CODE64_SELECTOR),
	                   [entry] "i"(VMI_PROCESS_HYPERCALL_ENTRY(VMI_CALL_Shutdown))
	                 : "memory");
}

static void __attribute__((noreturn)) stop_forever(void)
{
	for (;;) {
		if (under_vmirun)
			__asm__ volatile("pause");   /* hlt is privileged there */
		else
			__asm__ volatile("cli; hlt");
	}
}

/* --- console ---------------------------------------------------------------------------- */

static void serial_out_native(char c)
{
	for (uint32_t polls = 0; polls < SERIAL_POLL_LIMIT; polls++)
		if (port_in8(VMI_PORT_COM1_LSR) & SERIAL_THR_EMPTY)
			break;
	port_out8(VMI_PORT_COM1, (uint8_t)c);
}

static void write_native(const char *text)
{
	while (*text)
		serial_out_native(*text++);
}

/* The normal console: the hypercall where there is one, the port elsewhere. */
static void write_text(const char *text)
{
	if (!under_vmirun) {
		write_native(text);
		return;
	}
	while (*text)
		hypercall_outb((uint8_t)*text++, VMI_PORT_COM1);
}

static void write_span(const char *text, size_t length)
{
	char chunk[2] = { 0, 0 };
	for (size_t i = 0; i < length; i++) {
		chunk[0] = text[i];
		write_text(chunk);
	}
}

static void write_decimal(uint32_t value)
{
	char digits[FORMAT_DECIMAL_SIZE];
	write_text(format_decimal(value, digits));
}

static void write_hex(uint32_t value, int digit_count)
{
	char text[9];
	format_hex(value, digit_count, text);
	write_text(text);
}

/* At least 8 digits; split into halves so no 64-bit helper from libgcc is needed. */
static void write_hex64(uint64_t value)
{
	uint32_t high = (uint32_t)(value >> 32);
	uint32_t low = (uint32_t)value;
	if (high != 0) {
		int high_digits = 1;
		while (high_digits < 8 && (high >> (4 * high_digits)) != 0)
			high_digits++;
		write_hex(high, high_digits);
	}
	write_hex(low, 8);
}

/* --- exit ------------------------------------------------------------------------------- */

static void __attribute__((noreturn)) exit_with(uint8_t code)
{
	port_out8(VMI_PORT_EXIT, code);
	write_text("hello: exit port did not stop the machine\n");
	stop_forever();
}

/* --- command line ----------------------------------------------------------------------- */

struct word {
	const char *start;
	size_t length;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Finds the word at or after *cursor and moves the cursor past it; 0 at the end. */
static int next_word(const char **cursor, struct word *word)
{
	const char *p = *cursor;
	while (*p && is_space(*p))
		p++;
	if (*p == '\0')
		return 0;
	word->start = p;
	while (*p && !is_space(*p))
		p++;
	word->length = (size_t)(p - word->start);
	*cursor = p;
	return 1;
}

static int word_is(const struct word *word, const char *text)
{
	size_t i = 0;
	for (; i < word->length; i++)
		if (text[i] != word->start[i])
			return 0;
	return text[i] == '\0';
}

static int word_starts_with(const struct word *word, const char *prefix)
{
	for (size_t i = 0; prefix[i]; i++)
		if (i >= word->length || prefix[i] != word->start[i])
			return 0;
	return 1;
}

static int starts_with(const char *text, const char *prefix)
{
	while (*prefix)
		if (*text++ != *prefix++)
			return 0;
	return 1;
}

/* "exit=N" with N a decimal 0-255; -1 if malformed. */
static int parse_exit_code(const struct word *word)
{
	const size_t prefix_length = sizeof("exit=") - 1;
	if (word->length == prefix_length || word->length > prefix_length + 3)
		return -1;
	int code = 0;
	for (size_t i = prefix_length; i < word->length; i++) {
		char c = word->start[i];
		if (c < '0' || c > '9')
			return -1;
		code = code * 10 + (c - '0');
	}
	return code <= 255 ? code : -1;
}

static void __attribute__((noreturn)) unknown_argument(const struct word *word)
{
	write_text("hello: unknown argument ");
	write_span(word->start, word->length);
	write_text("\n");
	exit_with(EXIT_BAD_ARGUMENT);
}

/* --- actions ---------------------------------------------------------------------------- */

static void echo_arguments(const char *arguments)
{
	struct word word;
	write_text("hello: args:");
	while (next_word(&arguments, &word)) {
		write_text(" ");
		write_span(word.start, word.length);
	}
	write_text("\n");
}

static void show_memory(const struct multiboot_info *info)
{
	if (info->flags & MULTIBOOT_INFO_MEMORY) {
		write_text("hello: mem_lower=");
		write_decimal(info->mem_lower);
		write_text(" mem_upper=");
		write_decimal(info->mem_upper);
		write_text("\n");
	} else {
		write_text("hello: no memory info\n");
	}
	if (!(info->flags & MULTIBOOT_INFO_MEM_MAP)) {
		write_text("hello: no memory map\n");
		return;
	}
	uint32_t address = info->mmap_addr;
	uint32_t end = info->mmap_addr + info->mmap_length;
	while (address < end) {
		const struct multiboot_mmap_entry *entry =
			(const struct multiboot_mmap_entry *)(uintptr_t)address;
		write_text("hello: mmap 0x");
		write_hex64(entry->addr);
		write_text(" 0x");
		write_hex64(entry->len);
		write_text(" type ");
		write_decimal(entry->type);
		write_text("\n");
		address += entry->size + 4;
	}
}

static void show_first_tsc(void)
{
	write_text("hello: first-tsc=0x");
	write_hex((uint32_t)(first_tsc >> 32), 8);
	write_hex((uint32_t)first_tsc, 8);
	write_text("\n");
}

static void attempt_system_call(void)
{
	uint32_t eax = 20;   /* i386 getpid */
	__asm__ volatile("int $0x80" : "+a"(eax) : : "ecx", "edx", "memory");
}

static void request_shutdown(void)
{
	if (!under_vmirun) {
		write_text("hello: shutdown needs vmirun\n");
		exit_with(EXIT_NO_SHUTDOWN);
	}
	hypercall_shutdown();
	write_text("hello: shutdown hypercall returned\n");
	exit_with(EXIT_NO_SHUTDOWN);
}

static void show_line_status(void)
{
	write_text("hello: lsr=0x");
	write_hex(port_in8(VMI_PORT_COM1_LSR), 2);
	write_text("\n");
}

/* Runs the actions in order (up to an `echo`, which takes the rest as its operands);
 * returns the exit code asked for (0 by default). */
static uint8_t run_actions(const struct multiboot_info *info, const char *arguments)
{
	uint8_t exit_code = 0;
	const char *cursor = arguments;
	struct word word;
	while (next_word(&cursor, &word)) {
		if (word_starts_with(&word, "exit=")) {
			int code = parse_exit_code(&word);
			if (code < 0)
				unknown_argument(&word);
			exit_code = (uint8_t)code;
		} else if (word_is(&word, "echo")) {
			/* The words after it are its operands (anything, e.g. "echo a b"), not actions. */
			echo_arguments(arguments);
			break;
		} else if (word_is(&word, "mem")) {
			show_memory(info);
		} else if (word_is(&word, "tsc")) {
			show_first_tsc();
		} else if (word_is(&word, "ud2")) {
			__asm__ volatile("ud2");
		} else if (word_is(&word, "int80")) {
			attempt_system_call();
		} else if (word_is(&word, "hang")) {
			stop_forever();
		} else if (word_is(&word, "shutdown")) {
			request_shutdown();
		} else if (word_is(&word, "wrport")) {
			show_line_status();
		} else {
			unknown_argument(&word);
		}
	}
	return exit_code;
}

/* The command line's first word is the kernel path; the arguments follow it. */
static const char *arguments_of(const struct multiboot_info *info)
{
	if (!(info->flags & MULTIBOOT_INFO_CMDLINE) || info->cmdline == 0)
		return "";
	const char *cursor = (const char *)(uintptr_t)info->cmdline;
	struct word path;
	next_word(&cursor, &path);
	return cursor;
}

void guest_main(uint32_t magic, uint32_t info_address)
{
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		write_native("hello: bad multiboot magic 0x");
		char text[9];
		format_hex(magic, 8, text);
		write_native(text);
		write_native("\n");
		exit_with(EXIT_BAD_MAGIC);
	}
	const struct multiboot_info *info = (const struct multiboot_info *)(uintptr_t)info_address;
	under_vmirun = (info->flags & MULTIBOOT_INFO_LOADER_NAME) && info->boot_loader_name != 0 &&
	               starts_with((const char *)(uintptr_t)info->boot_loader_name,
	                           VMI_PROCESS_LOADER_NAME);

	write_text("hello: multiboot ok\n");
	write_text("hello: console line through the hypercall\n");
	write_native("hello: console line through out\n");

	uint8_t exit_code = run_actions(info, arguments_of(info));
	write_text("hello: done\n");
	exit_with(exit_code);
}
