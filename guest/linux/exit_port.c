/* exit-port STATUS: ends OpenVMI's Linux guest by writing STATUS to the exit port (0xf4)
 * after ioperm, so QEMU's isa-debug-exit and vmirun exit with (STATUS << 1) | 1. A static
 * i386 program with no C library: the initramfs needs nothing else for it. */
#include <asm/unistd.h>
#include <stdint.h>

#include <vmi/pc.h>

/* The kernel starts _start with argc at (%esp) and argv after it. */
__asm__(".globl _start\n"
        "_start:\n"
        "\tmovl %esp, %eax\n"
        "\tandl $-16, %esp\n"
        "\tpushl %eax\n"
        "\tcall exit_port_main\n"
        "\thlt\n");

static long system_call3(long number, long a, long b, long c)
{
	long result;
	__asm__ volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a), "c"(b), "d"(c)
	                 : "memory");
	return result;
}

static void say(const char *text)
{
	long length = 0;
	while (text[length])
		length++;
	system_call3(__NR_write, 2, (long)text, length);
}

_Noreturn void exit_port_main(const uint32_t *stack);
_Noreturn void exit_port_main(const uint32_t *stack)
{
	uint32_t argc = stack[0];
	const char *const *argv = (const char *const *)(stack + 1);
	unsigned status = 0;
	int valid = argc == 2 && argv[1][0] != '\0';
	for (const char *digit = argc == 2 ? argv[1] : ""; valid && *digit; digit++) {
		valid = *digit >= '0' && *digit <= '9' && status <= 255;
		status = status * 10 + (unsigned)(*digit - '0');
	}
	if (!valid || status > 255) {
		say("usage: exit-port STATUS (0-255)\n");
		system_call3(__NR_exit, 2, 0, 0);
	}
	if (system_call3(__NR_ioperm, VMI_PORT_EXIT, 1, 1) != 0) {
		say("exit-port: ioperm on the exit port failed (root, and CONFIG_X86_IOPL_IOPERM?)\n");
		system_call3(__NR_exit, 3, 0, 0);
	}
	__asm__ volatile("outb %b0, %w1" : : "a"(status), "Nd"(VMI_PORT_EXIT));
	say("exit-port: the write to the exit port returned: no exit device here\n");
	system_call3(__NR_exit, 4, 0, 0);
	for (;;)
		;
}
