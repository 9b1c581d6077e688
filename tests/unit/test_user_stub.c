/* The user process's stub under strict isolation (user_stub.S) and the filter it locks
 * itself with (user_process.c). Capstone: the stub, copied to STUB_CODE, refers to nothing
 * outside itself, and from the system call that may bring the guest-memory descriptor to
 * the close_range that drops it the code runs straight. Forked children: the filter lets
 * only the stub's own system calls through, recvmsg only from its one place, and kills the
 * process for anything else. */
#include <criterion/criterion.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmi/process.h>
#include "capstone_suite.h"
#include "platform/process/user_driver.h"
#include "platform/process/user_process.h"
#include "platform/process/user_stub_layout.h"

extern const uint8_t __start_user_stub[], __stop_user_stub[];
void user_stub_recvmsg_return(void);

static uint64_t recvmsg_return_offset(void)
{
	return (uint64_t)((const uint8_t *)(uintptr_t)user_stub_recvmsg_return - __start_user_stub);
}

CAPSTONE_SUITE(user_stub, CS_MODE_64);

static int is_branch(const cs_insn *insn)
{
	for (uint8_t i = 0; i < insn->detail->groups_count; i++)
		if (insn->detail->groups[i] == CS_GRP_JUMP || insn->detail->groups[i] == CS_GRP_CALL ||
		    insn->detail->groups[i] == CS_GRP_RET)
			return 1;
	return 0;
}

/* The address a direct branch goes to, or 0 for an indirect one (through a register or
 * memory) and a return. */
static uint64_t branch_target(const cs_insn *insn)
{
	const cs_x86 *x86 = &insn->detail->x86;
	if (x86->op_count == 1 && x86->operands[0].type == X86_OP_IMM)
		return (uint64_t)x86->operands[0].imm;
	return 0;
}

Test(user_stub, refers_to_nothing_outside_its_own_code)
{
	const size_t size = user_stub_size();
	cr_assert_gt(size, 0);
	cr_assert_leq(size, STUB_CODE_MAX);
	cs_insn *insn;
	size_t count = cs_disasm(capstone, __start_user_stub, size, STUB_CODE, 0, &insn);
	size_t decoded = 0;
	for (size_t i = 0; i < count; i++) {
		decoded += insn[i].size;
		if (is_branch(&insn[i]) && strcmp(insn[i].mnemonic, "ret") != 0) {
			uint64_t target = branch_target(&insn[i]);
			cr_assert_neq(target, 0, "indirect branch at +0x%llx: %s %s",
			              (unsigned long long)(insn[i].address - STUB_CODE), insn[i].mnemonic,
			              insn[i].op_str);
			cr_assert(target >= STUB_CODE && target < STUB_CODE + size,
			          "+0x%llx: %s %s leaves the stub",
			          (unsigned long long)(insn[i].address - STUB_CODE), insn[i].mnemonic,
			          insn[i].op_str);
		}
		const cs_x86 *x86 = &insn[i].detail->x86;
		for (uint8_t k = 0; k < x86->op_count; k++) {
			if (x86->operands[k].type != X86_OP_MEM || x86->operands[k].mem.base != X86_REG_RIP)
				continue;
			uint64_t target = insn[i].address + insn[i].size + (uint64_t)x86->operands[k].mem.disp;
			/* an address computed to the stub's end (not read) is its bound */
			cr_assert(target >= STUB_CODE && (target < STUB_CODE + size ||
			          (strcmp(insn[i].mnemonic, "lea") == 0 && target == STUB_CODE + size)),
			          "+0x%llx: %s %s reads outside the stub",
			          (unsigned long long)(insn[i].address - STUB_CODE), insn[i].mnemonic,
			          insn[i].op_str);
		}
	}
	cs_free(insn, count);
	cr_assert_eq(decoded, size, "only %zu of %zu bytes decode", decoded, size);
}

Test(user_stub, runs_straight_from_the_descriptor_s_arrival_to_close_range)
{
	const size_t size = user_stub_size(), from = recvmsg_return_offset();
	cr_assert_lt(from, size);
	cr_assert(from >= 2 && __start_user_stub[from - 2] == 0x0F && __start_user_stub[from - 1] == 0x05,
	          "user_stub_recvmsg_return does not follow a syscall");
	cs_insn *insn;
	size_t count = cs_disasm(capstone, __start_user_stub + from, size - from, STUB_CODE + from,
	                         0, &insn);
	/* the end: the first syscall with eax last set to close_range's number */
	size_t end = count;
	int64_t eax = -1;
	for (size_t i = 0; i < count && end == count; i++) {
		const cs_x86 *x86 = &insn[i].detail->x86;
		if (strcmp(insn[i].mnemonic, "mov") == 0 && x86->operands[0].type == X86_OP_REG &&
		    x86->operands[0].reg == X86_REG_EAX)
			eax = x86->operands[1].type == X86_OP_IMM ? x86->operands[1].imm : -1;
		if (strcmp(insn[i].mnemonic, "syscall") == 0 && eax == SYS_close_range)
			end = i;
	}
	cr_assert_lt(end, count, "no close_range after the recvmsg");
	const uint64_t low = STUB_CODE + from, high = insn[end].address;
	unsigned syscalls = 0;
	for (size_t i = 0; i < end; i++) {
		const cs_x86 *x86 = &insn[i].detail->x86;
		if (is_branch(&insn[i])) {
			uint64_t target = branch_target(&insn[i]);
			cr_assert(strcmp(insn[i].mnemonic, "call") != 0 && target >= low && target <= high,
			          "+0x%llx: %s %s leaves the way to close_range",
			          (unsigned long long)(insn[i].address - STUB_CODE), insn[i].mnemonic,
			          insn[i].op_str);
		}
		/* nothing from a stack, which code that jumped in would have chosen */
		for (uint8_t k = 0; k < x86->op_count; k++)
			cr_assert(x86->operands[k].type != X86_OP_MEM ||
			          (x86->operands[k].mem.base != X86_REG_RSP &&
			           x86->operands[k].mem.base != X86_REG_RBP),
			          "+0x%llx: %s %s", (unsigned long long)(insn[i].address - STUB_CODE),
			          insn[i].mnemonic, insn[i].op_str);
		cr_assert(strncmp(insn[i].mnemonic, "pop", 3) != 0, "a pop on the way");
		syscalls += strcmp(insn[i].mnemonic, "syscall") == 0;
	}
	cr_assert_eq(syscalls, 1, "one system call on the way (mmap, in the loop), not %u", syscalls);
	cs_free(insn, count);
}

/* --- the filter, in forked children ------------------------------------------------------- */

static const uint8_t syscall_and_return[] = { 0x0F, 0x05, 0xC3 };

/* A system call made by `syscall; ret` at STUB_CODE + offset. */
static long call_at(uint64_t offset, long nr, long a0, long a1, long a2, long a3, long a4,
                    long a5)
{
	register long r10 __asm__("r10") = a3, r8 __asm__("r8") = a4, r9 __asm__("r9") = a5;
	long result;
	__asm__ volatile("call *%[at]"
	                 : "=a"(result), "+r"(r10), "+r"(r8), "+r"(r9)
	                 : [at] "r"(STUB_CODE + offset), "a"(nr), "D"(a0), "S"(a1), "d"(a2)
	                 : "rcx", "r11", "memory");
	return result;
}

static void leave(int status)
{
	call_at(0, SYS_exit_group, status, 0, 0, 0, 0, 0);
}

/* A trapped call (not a killed one) arrives as SIGSYS: the child says so by its status.
 * (The guest's i386 calls are trapped so; the kernel suite's self-tests make them.) */
static void on_trapped(int sig)
{
	(void)sig;
	leave(7);
}

enum attempt {
	FUTEX_FROM_STUB, GETPID_FROM_STUB, FUTEX_FROM_ELSEWHERE, RECVMSG_FROM_ITS_PLACE,
	RECVMSG_FROM_ELSEWHERE_IN_STUB, RECVMSG_ON_ANOTHER_DESCRIPTOR, MMAP_LOW, MMAP_HIGH,
	WRITE_FROM_STUB,
};

/* The child's end: its exit status, or 128 + the signal that killed it. */
static int attempt_in_child(enum attempt what)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const size_t size = (user_stub_size() + 4095) & ~(size_t)4095;
		uint8_t *code = mmap((void *)(uintptr_t)STUB_CODE, size, PROT_READ | PROT_WRITE | PROT_EXEC,
		                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (code != (void *)(uintptr_t)STUB_CODE)
			_exit(90);
		memcpy(code, syscall_and_return, sizeof syscall_and_return);
		memcpy(code + recvmsg_return_offset() - 2, syscall_and_return, sizeof syscall_and_return);
		static struct sock_filter program[DATA_FILTER_MAX];
		unsigned length = user_process_filter(program, DATA_FILTER_MAX);
		struct sock_fprog filter = { .len = (unsigned short)length, .filter = program };
		signal(SIGSYS, on_trapped);
		if (length == 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) != 0)
			_exit(91);
		static uint32_t word;
		const uint64_t recvmsg_at = recvmsg_return_offset() - 2;
		switch (what) {
		case FUTEX_FROM_STUB:
			call_at(0, SYS_futex, (long)&word, FUTEX_WAKE, 1, 0, 0, 0);
			break;
		case GETPID_FROM_STUB:
			call_at(0, SYS_getpid, 0, 0, 0, 0, 0, 0);
			break;
		case FUTEX_FROM_ELSEWHERE:
			syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0);
			break;
		case RECVMSG_FROM_ITS_PLACE:
			call_at(recvmsg_at, SYS_recvmsg, 0, 0, 0, 0, 0, 0);
			break;
		case RECVMSG_FROM_ELSEWHERE_IN_STUB:
			call_at(0, SYS_recvmsg, 0, 0, 0, 0, 0, 0);
			break;
		case RECVMSG_ON_ANOTHER_DESCRIPTOR:
			call_at(recvmsg_at, SYS_recvmsg, 3, 0, 0, 0, 0, 0);
			break;
		case MMAP_LOW:
			call_at(0, SYS_mmap, 0x40000000, 4096, PROT_READ,
			        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		case MMAP_HIGH:
			call_at(0, SYS_mmap, 0x200000000000, 4096, PROT_READ,
			        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		case WRITE_FROM_STUB:
			call_at(0, SYS_write, 2, (long)"x", 1, 0, 0, 0);
			break;
		}
		leave(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define ALLOWED 0
#define KILLED  (128 + SIGSYS)

Test(user_stub, filter_lets_the_stub_s_own_calls_through)
{
	cr_expect_eq(attempt_in_child(FUTEX_FROM_STUB), ALLOWED);
	cr_expect_eq(attempt_in_child(RECVMSG_FROM_ITS_PLACE), ALLOWED);
	cr_expect_eq(attempt_in_child(MMAP_LOW), ALLOWED);
}

Test(user_stub, filter_kills_the_process_for_any_other_host_call)
{
	cr_expect_eq(attempt_in_child(GETPID_FROM_STUB), KILLED);
	cr_expect_eq(attempt_in_child(FUTEX_FROM_ELSEWHERE), KILLED);
	cr_expect_eq(attempt_in_child(RECVMSG_FROM_ELSEWHERE_IN_STUB), KILLED);
	cr_expect_eq(attempt_in_child(RECVMSG_ON_ANOTHER_DESCRIPTOR), KILLED);
	cr_expect_eq(attempt_in_child(MMAP_HIGH), KILLED);
	cr_expect_eq(attempt_in_child(WRITE_FROM_STUB), KILLED);
}

/* --- the driver's batch of mapping operations ----------------------------------------------- */

static void read_op(unsigned i, uint32_t op[4])
{
	memcpy(op, (const uint8_t *)(uintptr_t)STUB_COMMANDS_AREA + COMMAND_OPS + i * STUB_OP_SIZE,
	       STUB_OP_SIZE);
}

static uint32_t command_word(unsigned offset)
{
	uint32_t word;
	memcpy(&word, (const uint8_t *)(uintptr_t)STUB_COMMANDS_AREA + offset, 4);
	return word;
}

Test(user_stub, a_full_batch_becomes_one_unmapping_of_everything_then_the_new_mapping)
{
	char error[200];
	cr_assert_eq(user_driver_setup(1, 1, -1, error), 0, "%s", error);
	for (unsigned i = 0; i < STUB_OPS_MAX; i++)
		cr_assert_eq(user_driver_queue_for(0, 0x400000 + i * 4096, i * 4096, 4096, PROT_NONE), 0);
	cr_assert_eq(command_word(COMMAND_OP_COUNT), STUB_OPS_MAX);
	cr_assert_eq(command_word(COMMAND_WITH_FD), 0, "unmappings need no descriptor");
	cr_assert_eq(user_driver_queue_for(0, 0x500000, 0x9000, 4096, PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(command_word(COMMAND_OP_COUNT), 2);
	uint32_t op[4];
	read_op(0, op);
	cr_assert(op[0] == VMI_PROCESS_LOW_RAM_BASE && op[2] == VMI_PROCESS_WINDOW_BASE -
	          VMI_PROCESS_LOW_RAM_BASE && op[3] == PROT_NONE, "first: %x %x %x %x", op[0], op[1],
	          op[2], op[3]);
	read_op(1, op);
	cr_assert(op[0] == 0x500000 && op[1] == 0x9000 && op[2] == 4096 &&
	          op[3] == (PROT_READ | PROT_WRITE), "then: %x %x %x %x", op[0], op[1], op[2], op[3]);
	cr_assert_eq(command_word(COMMAND_WITH_FD), 1, "a mapping comes with the descriptor");
}
