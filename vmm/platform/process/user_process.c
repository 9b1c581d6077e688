/* A user process under strict isolation, from its fork to the stub: maps the stub's pages
 * above 4 GiB and this slot's command and exit pages, keeps one descriptor (its socket),
 * points its signals and the hypercall page at the stub, writes the filter it locks itself
 * with, and jumps into the stub, which unmaps everything else of vmirun's. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <vmi/process.h>
#include "platform/process/hypercall_page.h"
#include "platform/process/user_process.h"
#include "platform/process/user_stub_layout.h"

#define PAGE 4096ull
#define FOUR_GIB 0x100000000ull
#define USER_SPACE_END 0x7ffffffff000ull   /* the host's TASK_SIZE */
#define X32_SYSCALL_BIT 0x40000000u
#define SA_RESTORER 0x04000000   /* the kernel's flag: glibc's headers keep it to glibc */

extern const uint8_t __start_user_stub[], __stop_user_stub[];
void user_stub_begin(void), user_stub_on_signal(void), user_stub_hypercall(void);
void user_stub_restorer(void), user_stub_recvmsg_return(void);

/* An address in the stub's copy at STUB_CODE. */
static uint64_t in_stub(void (*symbol)(void))
{
	return STUB_CODE + (uint64_t)((const uint8_t *)(uintptr_t)symbol - __start_user_stub);
}

size_t user_stub_size(void)
{
	return (size_t)(__stop_user_stub - __start_user_stub);
}

/* The kernel's own sigaction: glibc's would name a restorer in glibc, which goes. */
struct kernel_sigaction {
	uint64_t handler, flags, restorer, mask;
};

static int set_handler(int sig, uint64_t handler)
{
	struct kernel_sigaction action = {
		.handler = handler,
		.flags = handler > 1 ? SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTORER : 0,
		.restorer = handler > 1 ? in_stub(user_stub_restorer) : 0,
		.mask = 0,
	};
	return (int)syscall(SYS_rt_sigaction, sig, &action, NULL, 8);
}

/* The filter the stub locks itself with: the guest's i386 system calls trapped (to the
 * stub's handler), and of the 64-bit ones only those the stub makes from its own code;
 * recvmsg, which brings the guest-memory descriptor, only from its one place. Anything
 * else kills the process, which the guest kernel then sees as a #GP. */
unsigned user_process_filter(struct sock_filter *program, unsigned max)
{
	const uint32_t code_low = (uint32_t)STUB_CODE, code_high = (uint32_t)(STUB_CODE >> 32);
	const uint32_t code_end = code_low + (uint32_t)user_stub_size();
	const uint32_t recvmsg_low = (uint32_t)in_stub(user_stub_recvmsg_return);
	const struct sock_filter filter[] = {
#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define LOAD_AT(offset) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (offset))
#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define IP_LOW  offsetof(struct seccomp_data, instruction_pointer)
#define IP_HIGH (IP_LOW + 4)
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HIGH(i) (ARG_LOW(i) + 4)
		LOAD(arch),                                               /* 0 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
		RET(SECCOMP_RET_TRAP),                                    /* the guest's */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LOAD_AT(IP_HIGH),                                         /* 5 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, code_high, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LOAD_AT(IP_LOW),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_low, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),                            /* 10 */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_end, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),                          /* X = ip, low half */
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1), /* 15 */
		RET(SECCOMP_RET_KILL_PROCESS),
		/* recvmsg: from its place in the stub only, on descriptor 0 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_recvmsg, 0, 7),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, recvmsg_low, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),                            /* 20 */
		LOAD_AT(ARG_LOW(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		RET(SECCOMP_RET_ALLOW),
		RET(SECCOMP_RET_KILL_PROCESS),
		/* mmap: below 4 GiB only (the guest's user pages) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 6),      /* 25 */
		LOAD_AT(ARG_HIGH(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),
		LOAD_AT(ARG_HIGH(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		RET(SECCOMP_RET_ALLOW),                                   /* 30 */
		RET(SECCOMP_RET_KILL_PROCESS),
		/* the rest: no argument picks anything outside this process */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 6, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_timer_settime, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigreturn, 3, 0), /* 35 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
#undef LOAD
#undef LOAD_AT
#undef RET
	};
	const unsigned count = sizeof(filter) / sizeof(filter[0]);
	if (count > max)
		return 0;
	memcpy(program, filter, sizeof(filter));
	return count;
}

/* glibc registered the thread's rseq area in its TLS, which the stub unmaps: the host
 * kernel would write it at the next preemption and kill the process. glibc 2.36 registers
 * 32 bytes though __rseq_size says 20; the unregistration must name the registered size. */
static int unregister_rseq(void)
{
	if (__rseq_size == 0)
		return 0;
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
	if (syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0)
		return 0;
	return (int)syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
}

static int map_private(uint64_t address, uint64_t size, int prot)
{
	void *p = mmap((void *)(uintptr_t)address, size, prot,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return p == (void *)(uintptr_t)address ? 0 : -1;
}

/* A second mapping of shared pages, at `view`. */
static int map_view(uint64_t shared, uint64_t size, uint64_t view, int prot)
{
	void *p = mremap((void *)(uintptr_t)shared, 0, size, MREMAP_MAYMOVE | MREMAP_FIXED,
	                 (void *)(uintptr_t)view);
	return p == (void *)(uintptr_t)view && mprotect(p, size, prot) == 0 ? 0 : -1;
}

int user_process_prepare(unsigned index, unsigned slot)
{
	const size_t code_size = (user_stub_size() + PAGE - 1) & ~(PAGE - 1);
	/* the stub's alarm must not be a signal glibc keeps for itself */
	if (index >= STUB_SLOTS_MAX || code_size > STUB_CODE_MAX || SIGRTMIN > STUB_TIMER_SIGNAL)
		return -1;
	/* The stub's code, data, stacks, and this slot's pages. */
	if (map_private(STUB_CODE, code_size, PROT_READ | PROT_WRITE) != 0)
		return -1;
	memcpy((void *)(uintptr_t)STUB_CODE, __start_user_stub, user_stub_size());
	if (mprotect((void *)(uintptr_t)STUB_CODE, code_size, PROT_READ | PROT_EXEC) != 0 ||
	    map_private(STUB_DATA, STUB_COMMAND_VIEW - STUB_DATA, PROT_READ | PROT_WRITE) != 0 ||
	    map_view(STUB_COMMANDS_AREA + index * STUB_COMMAND_SIZE, STUB_COMMAND_SIZE,
	             STUB_COMMAND_VIEW, PROT_READ) != 0 ||
	    map_view(STUB_EXITS_AREA + index * STUB_EXIT_SIZE, STUB_EXIT_SIZE, STUB_EXIT_VIEW,
	             PROT_READ | PROT_WRITE) != 0 ||
	    map_view(STUB_SPINNER_PAGE, PAGE, STUB_SPINNER_VIEW, PROT_READ) != 0)
		return -1;
	/* The vCPU page: nothing of the kernel's but the interrupt flag; zeros elsewhere: no
	 * published gate (the ROM's fast entry goes to vmirun), no ROM ring switches. Read-only:
	 * a write is refused (#GP). */
	if (map_view(STUB_VCPU_VIEWS_AREA + index * PAGE, PAGE, VMI_PROCESS_VCPU_PAGE,
	             PROT_READ) != 0)
		return -1;
	/* The hypercall page's common stub jumps through this slot: to the stub now. */
	uint64_t *target = (uint64_t *)(uintptr_t)HYPERCALL_TARGET_SLOT;
	if (mprotect(target, PAGE, PROT_READ | PROT_WRITE) != 0)
		return -1;
	*target = in_stub(user_stub_hypercall);
	if (mprotect(target, PAGE, PROT_READ) != 0)
		return -1;

	/* One descriptor: this slot's socket, as 0, never blocking (the stub only reads what
	 * was sent before it was told to). */
	if (dup2(STUB_USER_SOCKET_FD + (int)index, 0) != 0 || fcntl(0, F_SETFL, O_NONBLOCK) != 0 ||
	    syscall(SYS_close_range, 1, ~0u, 0) != 0)
		return -1;

	/* Signals: the guest's exits to the stub, the rest as the host's defaults. */
	stack_t stack = { .ss_sp = (void *)(uintptr_t)STUB_SIGNAL_STACK,
	                  .ss_size = STUB_SIGNAL_STACK_SIZE };
	if (sigaltstack(&stack, NULL) != 0)
		return -1;
	for (int sig = 1; sig <= SIGRTMAX; sig++)   /* not those glibc keeps, [32, SIGRTMIN) */
		if (sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig >= SIGRTMIN))
			(void)set_handler(sig, (uint64_t)(uintptr_t)SIG_DFL);
	static const int exits[] = { SIGSEGV, SIGILL, SIGTRAP, SIGFPE, SIGBUS, SIGSYS,
		                     STUB_TIMER_SIGNAL };
	for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++)
		if (set_handler(exits[i], in_stub(user_stub_on_signal)) != 0)
			return -1;
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
		return -1;

	uint8_t *data = (uint8_t *)(uintptr_t)STUB_DATA;
	struct sigevent event = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = STUB_TIMER_SIGNAL };
	int timer_id;
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer_id) != 0)
		return -1;
	memcpy(data + DATA_TIMER_ID, &timer_id, 4);
	const uint32_t token = slot + 1;
	memcpy(data + DATA_SLOT, &token, 4);
	/* The command under way is the last the slot's previous process had, if any. */
	memcpy(data + DATA_LAST_SEQUENCE, (const void *)(uintptr_t)STUB_COMMAND_VIEW + COMMAND_SEQUENCE,
	       4);

	/* What the stub unmaps: all but its own pages, the hypercall page, the vCPU page and
	 * the hypercall slot (and [vsyscall], which cannot go). */
	static const uint64_t keep[][2] = {
		{ VMI_PROCESS_WINDOW_BASE, VMI_PROCESS_VCPU_PAGE + PAGE },
		{ HYPERCALL_TARGET_SLOT, HYPERCALL_TARGET_SLOT + PAGE },
		{ STUB_BASE, STUB_PRIVATE_END },
	};
	uint64_t from = 0;
	uint32_t count = 0;
	for (unsigned i = 0; i <= sizeof(keep) / sizeof(keep[0]); i++) {
		uint64_t to = i < sizeof(keep) / sizeof(keep[0]) ? keep[i][0] : USER_SPACE_END;
		uint64_t range[2] = { from, to - from };
		memcpy(data + DATA_UNMAP + 16 * count++, range, sizeof range);
		if (i < sizeof(keep) / sizeof(keep[0]))
			from = keep[i][1];
	}
	memcpy(data + DATA_UNMAP_COUNT, &count, 4);

	/* recvmsg's one-byte message with room for one descriptor */
	struct iovec *iov = (struct iovec *)(data + DATA_IOVEC);
	iov->iov_base = data + DATA_IOBYTE;
	iov->iov_len = 1;
	struct msghdr *message = (struct msghdr *)(data + DATA_MSGHDR);
	memset(message, 0, sizeof *message);
	message->msg_iov = iov;
	message->msg_iovlen = 1;
	message->msg_control = data + DATA_CMSG;
	message->msg_controllen = DATA_CMSG_SIZE;

	struct sock_filter *program = (struct sock_filter *)(data + DATA_FILTER_PROGRAM);
	unsigned length = user_process_filter(program, DATA_FILTER_MAX);
	struct sock_fprog *filter = (struct sock_fprog *)(data + DATA_FILTER);
	filter->len = (unsigned short)length;
	filter->filter = program;
	if (length == 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return unregister_rseq();
}

_Noreturn void user_process_enter_stub(void)
{
	__asm__ volatile("mov %0, %%rsp; jmp *%1"
	                 : : "r"((uint64_t)STUB_MAIN_STACK_TOP), "r"(in_stub(user_stub_begin))
	                 : "memory");
	__builtin_unreachable();
}
