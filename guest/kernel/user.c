/* The user programs: code that runs in ring 3 as processes and talks to the kernel only
 * through system calls. Besides those they use only unprivileged SDK sites (RDTSC, reading
 * the interrupt flag), except user_privileged_call, which must fault, and user_escape,
 * which leaves compatibility mode (a hostile program for issue 14). Each gets a pointer
 * to its argument block (user_fill_window: a page count) and ends with SYS_EXIT, unless a
 * fault the test provokes ends it first. */
#include <vmi/process.h>
#include <vmi/vcpu_page.h>

#include "paging.h"
#include "user.h"

static inline uint64_t user_cycles(void)
{
	return vmi_rdtsc();
}

static __attribute__((noreturn)) void user_exit(int fast, uint32_t status)
{
	user_syscall(fast, SYS_EXIT, status, 0, 0);
	for (;;)
		;   /* exit does not return */
}

/* Where an entry point that returns lands (process.c puts it below the argument). */
void user_program_returned(void)
{
	user_exit(0, 0);
}

void user_syscall_probe(uint32_t argument)
{
	struct syscall_probe *probe = (struct syscall_probe *)(uintptr_t)argument;
	int fast = probe->fast;
	probe->null_result = user_syscall(fast, SYS_NULL, 0, 0, 0);
	probe->getpid_result = user_syscall(fast, SYS_GETPID, 0, 0, 0);
	probe->write_result = user_syscall(fast, SYS_WRITE, (uint32_t)(uintptr_t)probe->text,
	                                   probe->text_length, 0);
	/* A buffer that is not memory the kernel would let us name. */
	probe->bad_write_result = user_syscall(fast, SYS_WRITE, 0x1000, 16, 0);
	user_exit(fast, 7);
}

void user_spinner(uint32_t argument)
{
	struct spinner *spinner = (struct spinner *)(uintptr_t)argument;
	uint64_t now = user_cycles();
	spinner->first_cycles = now;
	for (uint32_t i = 0; i < spinner->iterations; i++)
		now = user_cycles();
	spinner->last_cycles = now;
	user_exit(0, 0);
}

void user_pinger(uint32_t argument)
{
	struct ping_pong *game = (struct ping_pong *)(uintptr_t)argument;
	struct message message;
	for (uint32_t round = 0; round < game->rounds; round++) {
		message.type = MESSAGE_PING;
		message.data[0] = round;
		message.data[1] = 0;
		if (user_syscall(game->fast, SYS_SEND, (uint32_t)game->peer, (uint32_t)(uintptr_t)&message, 0) != 0) {
			game->errors++;
			break;
		}
		uint32_t sender = user_syscall(game->fast, SYS_RECEIVE, (uint32_t)(uintptr_t)&message, 0, 0);
		uint64_t start = user_cycles();
		uint32_t expected = pong_answer(round, game->work);
		game->compute_cycles += user_cycles() - start;
		if (sender != (uint32_t)game->peer || message.sender != sender ||
		    message.type != MESSAGE_PONG || message.data[0] != round ||
		    message.data[1] != expected)
			game->errors++;
		game->completed++;
	}
	message.type = MESSAGE_STOP;
	user_syscall(game->fast, SYS_SEND, (uint32_t)game->peer, (uint32_t)(uintptr_t)&message, 0);
	user_exit(game->fast, game->errors);
}

void user_ponger(uint32_t argument)
{
	struct ping_pong *game = (struct ping_pong *)(uintptr_t)argument;
	struct message message;
	for (;;) {
		uint32_t sender = user_syscall(game->fast, SYS_RECEIVE, (uint32_t)(uintptr_t)&message, 0, 0);
		if (message.type == MESSAGE_STOP)
			break;
		message.type = MESSAGE_PONG;
		uint64_t start = user_cycles();
		message.data[1] = pong_answer(message.data[0], game->work);
		game->compute_cycles += user_cycles() - start;
		if (user_syscall(game->fast, SYS_SEND, sender, (uint32_t)(uintptr_t)&message, 0) != 0)
			break;
	}
	user_exit(game->fast, 0);
}

#define FLOOD_NO_SUCH_PID 9999
/* The drainer waits (yielding, at most this often) until the flooder has begun the send
 * past a full mailbox, then yields a little more, so that send blocks whatever the timer's
 * slices were: a slow trapped system call can leave the flooder only a send or two per
 * slice, and 4 fixed yields were once not enough (--no-rom, under QEMU TCG). */
#define DRAINER_MAX_YIELDS   10000
#define DRAINER_EXTRA_YIELDS 3

void user_flooder(uint32_t argument)
{
	struct flood *flood = (struct flood *)(uintptr_t)argument;
	struct message message = { 0, MESSAGE_PING, { 0, 0 } };
	flood->bad_send_result = syscall_fast(SYS_SEND, FLOOD_NO_SUCH_PID, (uint32_t)(uintptr_t)&message, 0);
	for (uint32_t i = 0; i < flood->count; i++) {
		message.data[0] = i;
		flood->attempted = i + 1;
		if (syscall_fast(SYS_SEND, (uint32_t)flood->peer, (uint32_t)(uintptr_t)&message, 0) != 0)
			flood->send_failures++;
	}
	user_exit(1, 0);
}

void user_drainer(uint32_t argument)
{
	struct flood *flood = (struct flood *)(uintptr_t)argument;
	struct message message;
	for (int i = 0; i < DRAINER_MAX_YIELDS && flood->attempted <= flood->mailbox_slots; i++)
		syscall_fast(SYS_YIELD, 0, 0, 0);   /* let the flooder fill the mailbox first */
	for (int i = 0; i < DRAINER_EXTRA_YIELDS; i++)
		syscall_fast(SYS_YIELD, 0, 0, 0);
	for (uint32_t i = 0; i < flood->count; i++) {
		syscall_fast(SYS_RECEIVE, (uint32_t)(uintptr_t)&message, 0, 0);
		if (message.data[0] != i)
			flood->out_of_order++;
		flood->received++;
	}
	user_exit(1, 0);
}

void user_privileged_call(uint32_t argument)
{
	struct privileged_attempt *attempt = (struct privileged_attempt *)(uintptr_t)argument;
	attempt->value = vmi_get_cr0();   /* must fault: user mode has no business here */
	attempt->returned = 1;
	user_exit(0, 0);
}

void user_report_interrupt_flag(uint32_t argument)
{
	struct interrupt_flag_report *report = (struct interrupt_flag_report *)(uintptr_t)argument;
	report->mask = vmi_get_interrupt_mask();   /* reading the flag is not privileged */
	report->ran = 1;
	user_exit(0, 0);
}

void user_bench_null_syscall(uint32_t argument)
{
	struct syscall_bench *bench = (struct syscall_bench *)(uintptr_t)argument;
	for (uint32_t r = 0; r < bench->repetitions; r++) {
		uint64_t start = user_cycles();
		if (bench->fast)
			for (uint32_t i = 0; i < bench->iterations; i++)
				syscall_fast(SYS_NULL, 0, 0, 0);
		else
			for (uint32_t i = 0; i < bench->iterations; i++)
				syscall_int80(SYS_NULL, 0, 0, 0);
		bench->cycles[r] = user_cycles() - start;
	}
	user_exit(bench->fast, 0);
}

void user_bench_yield(uint32_t argument)
{
	struct yield_bench *bench = (struct yield_bench *)(uintptr_t)argument;
	if (!bench->leader) {
		while (!*bench->done)
			syscall_fast(SYS_YIELD, 0, 0, 0);
		user_exit(1, 0);
	}
	for (uint32_t r = 0; r < bench->repetitions; r++) {
		uint64_t start = user_cycles();
		for (uint32_t i = 0; i < bench->iterations; i++)
			syscall_fast(SYS_YIELD, 0, 0, 0);
		bench->cycles[r] = user_cycles() - start;
	}
	*bench->done = 1;
	user_exit(1, 0);
}

void user_cruncher(uint32_t argument)
{
	struct cruncher *cruncher = (struct cruncher *)(uintptr_t)argument;
	uint32_t x = 1;
	uint64_t start = user_cycles();
	for (uint32_t unit = 0; unit < cruncher->units; unit++)
		x = pong_answer(x + unit, 1);
	cruncher->compute_cycles = user_cycles() - start;
	cruncher->result = x;
	user_exit(0, 0);
}

void user_bench_compute(uint32_t argument)
{
	struct compute_bench *bench = (struct compute_bench *)(uintptr_t)argument;
	uint32_t x = 1;
	for (uint32_t r = 0; r < bench->repetitions; r++) {
		uint64_t start = user_cycles();
		for (uint32_t unit = 0; unit < bench->units; unit++)
			x = pong_answer(x + unit, 1);
		bench->cycles[r] = user_cycles() - start;
	}
	bench->result = x;
	user_exit(1, 0);
}

static volatile uint32_t *private_page(uint32_t page)
{
	return (volatile uint32_t *)(uintptr_t)(PRIVATE_WINDOW + page * 4096u);
}

void user_private_memory(uint32_t argument)
{
	struct private_memory *memory = (struct private_memory *)(uintptr_t)argument;
	for (uint32_t round = 0; round < memory->rounds; round++) {
		if (!memory->only_read) {
			for (uint32_t page = 0; page < memory->pages; page++)
				*private_page(page) = memory->tag + page * 16 + round;
			user_syscall(0, SYS_YIELD, 0, 0, 0);
		}
		for (uint32_t page = 0; page < memory->pages; page++) {
			uint32_t value = *private_page(page);
			if (value == (memory->only_read ? 0 : memory->tag + page * 16 + round))
				continue;
			if (memory->errors++ == 0) {
				memory->first_wrong = value;
				memory->first_wrong_page = page;
			}
		}
	}
	for (uint32_t i = 0; i < memory->linger; i++)
		user_syscall(0, SYS_YIELD, 0, 0, 0);
	user_exit(0, 0);
}

/* Writes tag + page into the first word of each of the first `pages` pages of the window. */
static void write_pattern(uint32_t pages, uint32_t tag)
{
	for (uint32_t page = 0; page < pages; page++)
		*private_page(page) = tag + page;
}

/* How many of those pages do not hold what write_pattern(pages, tag) wrote; the first wrong
 * value in *first_wrong. */
static uint32_t pattern_errors(uint32_t pages, uint32_t tag, uint32_t *first_wrong)
{
	uint32_t errors = 0;
	for (uint32_t page = 0; page < pages; page++) {
		uint32_t value = *private_page(page);
		if (value != tag + page && errors++ == 0)
			*first_wrong = value;
	}
	return errors;
}

void user_fill_window(uint32_t pages)
{
	write_pattern(pages, 0);
	user_exit(1, 0);
}

void user_fork_copy(uint32_t argument)
{
	struct fork_copy *copy = (struct fork_copy *)(uintptr_t)argument;
	struct message go_on = { 0, MESSAGE_PING, { 0, 0 } };
	write_pattern(copy->pages, copy->parent_tag);
	uint32_t pid = user_syscall(0, SYS_FORK, 0, 0, 0);
	if (pid == 0) {
		copy->child_fork_result = pid;
		copy->child_errors = pattern_errors(copy->pages, copy->parent_tag,
		                                    &copy->child_first_wrong);
		write_pattern(copy->pages, copy->child_tag);
		/* Keep the copy until the parent has tried its second fork (a tick may run us first). */
		user_syscall(0, SYS_RECEIVE, (uint32_t)(uintptr_t)&go_on, 0, 0);
		user_exit(0, 0);
	}
	copy->child_pid = pid;
	copy->second_fork_result = user_syscall(0, SYS_FORK, 0, 0, 0);
	if (copy->second_fork_result == 0)
		user_exit(0, 0);   /* it should not exist: end it before it checks anything */
	user_syscall(0, SYS_SEND, pid, (uint32_t)(uintptr_t)&go_on, 0);
	copy->wait_status = user_syscall(0, SYS_WAIT, pid, 0, 0);
	copy->parent_errors = pattern_errors(copy->pages, copy->parent_tag,
	                                     &copy->parent_first_wrong);
	user_exit(0, 0);
}

void user_bench_fork(uint32_t argument)
{
	struct fork_bench *bench = (struct fork_bench *)(uintptr_t)argument;
	write_pattern(bench->pages, 0);
	for (uint32_t r = 0; r < bench->repetitions; r++) {
		uint64_t start = user_cycles();
		for (uint32_t i = 0; i < bench->iterations; i++) {
			uint32_t pid = syscall_fast(SYS_FORK, 0, 0, 0);
			if (pid == 0)
				user_exit(1, 0);
			if (pid == SYSCALL_ERROR || syscall_fast(SYS_WAIT, pid, 0, 0) != 0)
				bench->failures++;
		}
		bench->cycles[r] = user_cycles() - start;
	}
	user_exit(1, 0);
}

void user_touch_word(uint32_t argument)
{
	struct word_touch *touch = (struct word_touch *)(uintptr_t)argument;
	volatile uint32_t *word = (volatile uint32_t *)(uintptr_t)touch->address;
	touch->value_read = *word;
	touch->done = TOUCH_READ;
	if (touch->write) {
		*word = touch->value;
		touch->done = TOUCH_WRITTEN;
	}
	user_exit(0, 0);
}

void user_write_word(uint32_t argument)
{
	struct word_touch *touch = (struct word_touch *)(uintptr_t)argument;
	*(volatile uint32_t *)(uintptr_t)touch->address = touch->value;
	touch->done = TOUCH_WRITTEN;
	user_exit(0, 0);
}

void user_bench_page_fault(uint32_t argument)
{
	struct page_fault_bench *bench = (struct page_fault_bench *)(uintptr_t)argument;
	for (uint32_t r = 0; r < bench->repetitions; r++) {
		uint64_t start = user_cycles();
		for (uint32_t page = 0; page < bench->pages; page++)
			*private_page(page) = page;
		bench->cycles[r] = user_cycles() - start;
		user_syscall(1, SYS_DROP_PRIVATE, 0, 0, 0);
	}
	user_exit(1, 0);
}

/* --- hostile programs (hostile=NAME, issue 14) ------------------------------------------- */

#define VCPU_WORD(offset) (*(volatile uint32_t *)(uintptr_t)(VMI_PROCESS_VCPU_PAGE + (offset)))

void user_hostile_vcpu(uint32_t argument)
{
	(void)argument;
	VCPU_WORD(VMI_VCPU_FLAGS) = 0;   /* what cli is on a PC: #GP in ring 3 */
	user_exit(0, HOSTILE_EXIT_LANDED);
}

/* Long enough for many timer ticks to fall due while the mark is held. */
#define HOSTILE_SPIN 50000000u

void user_hostile_mark(uint32_t argument)
{
	(void)argument;
	VCPU_WORD(VMI_VCPU_TRANSITION) = VMI_TRANSITION_IRET;
	for (volatile uint32_t i = 0; i < HOSTILE_SPIN; i++)
		;
	VCPU_WORD(VMI_VCPU_TRANSITION) = VMI_TRANSITION_NONE;
	user_exit(0, HOSTILE_EXIT_LANDED);
}

void user_hostile_ring0(uint32_t argument)
{
	struct hostile_attempt *attempt = (struct hostile_attempt *)(uintptr_t)argument;
	VCPU_WORD(VMI_VCPU_CS) = VMI_PROCESS_KERNEL_CS;   /* a forged IRET's end: ring 0 */
	attempt->privileged_result = vmi_get_cr3();
	VCPU_WORD(VMI_VCPU_CS) = VMI_PROCESS_USER_CS;     /* back, so its exit is a user's */
	user_exit(0, HOSTILE_EXIT_LANDED);
}

/* A null FS after a non-null one (Intel zeroes the base with the load), then the ROM's fast
 * entry: vmirun's own thread pointer lives in FS on the host. Exits with its pid. */
void user_hostile_nullfs(uint32_t argument)
{
	const struct hostile_attempt *attempt = (const struct hostile_attempt *)(uintptr_t)argument;
	__asm__ volatile("movw %0, %%fs; movw %1, %%fs"
	                 : : "r"((uint16_t)attempt->user_ds), "r"((uint16_t)0));
	uint32_t pid = syscall_fast(SYS_GETPID, 0, 0, 0);
	user_exit(1, pid);
}

/* A hostile program: it leaves compatibility mode by a far jump to the host's 64-bit code
 * selector (VMI_PROCESS_CODE64_SELECTOR, which a PC's GDT does not have: #GP there) and
 * asks the host kernel itself to create USER_ESCAPE_MARKER. */
#define USER_STRINGIFY_(x) #x
#define USER_STRINGIFY(x)  USER_STRINGIFY_(x)
__asm__(".text\n"
        ".globl user_escape\n"
        ".type user_escape, @function\n"
        "user_escape:\n\t"
        "ljmp $" USER_STRINGIFY(VMI_PROCESS_CODE64_SELECTOR) ", $1f\n"
        ".code64\n"
        "1:\tmovl $2, %eax\n\t"                 /* Linux x86-64 open */
        "movl $user_escape_marker, %edi\n\t"
        "movl $0x41, %esi\n\t"                  /* O_WRONLY | O_CREAT */
        "movl $0644, %edx\n\t"
        "syscall\n\t"
        "ud2\n"
        ".code32\n"
        ".size user_escape, . - user_escape\n"
        /* the same far jump, then another host call each: fork, write to fd 0, mmap of a page
         * anywhere, and a futex wake on the vCPU page (which every vmirun process maps) */
        ".globl user_escape_fork\n"
        "user_escape_fork:\n\t"
        "ljmp $" USER_STRINGIFY(VMI_PROCESS_CODE64_SELECTOR) ", $1f\n"
        ".code64\n"
        "1:\tmovl $57, %eax\n\t"
        "syscall\n\t"
        "ud2\n"
        ".code32\n"
        ".globl user_escape_write0\n"
        "user_escape_write0:\n\t"
        "ljmp $" USER_STRINGIFY(VMI_PROCESS_CODE64_SELECTOR) ", $1f\n"
        ".code64\n"
        "1:\tmovl $1, %eax\n\t"
        "xorl %edi, %edi\n\t"
        "movl $user_escape_marker, %esi\n\t"
        "movl $4, %edx\n\t"
        "syscall\n\t"
        "ud2\n"
        ".code32\n"
        ".globl user_escape_mmap\n"
        "user_escape_mmap:\n\t"
        "ljmp $" USER_STRINGIFY(VMI_PROCESS_CODE64_SELECTOR) ", $1f\n"
        ".code64\n"
        "1:\tmovl $9, %eax\n\t"
        "xorl %edi, %edi\n\t"
        "movl $4096, %esi\n\t"
        "movl $7, %edx\n\t"                   /* PROT_READ | PROT_WRITE | PROT_EXEC */
        "movl $0x22, %r10d\n\t"               /* MAP_PRIVATE | MAP_ANONYMOUS */
        "movq $-1, %r8\n\t"
        "xorl %r9d, %r9d\n\t"
        "syscall\n\t"
        "ud2\n"
        ".code32\n"
        ".globl user_escape_futex\n"
        "user_escape_futex:\n\t"
        "ljmp $" USER_STRINGIFY(VMI_PROCESS_CODE64_SELECTOR) ", $1f\n"
        ".code64\n"
        "1:\tmovl $202, %eax\n\t"
        "movl $" USER_STRINGIFY(VMI_PROCESS_VCPU_PAGE) ", %edi\n\t"
        "movl $1, %esi\n\t"                   /* FUTEX_WAKE */
        "movl $1, %edx\n\t"
        "syscall\n\t"
        "ud2\n"
        ".code32\n"
        /* the same jump, then a wait of its own through vmirun's user-mode stub: under strict
         * isolation the stub's code lies at 0x700000000000 (vmirun's user_stub_layout.h) and
         * its filter lets its own futex calls through; this finds one (mov $202, %eax;
         * syscall) and waits there, for ever */
        ".globl user_escape_hold\n"
        "user_escape_hold:\n\t"
        "ljmp $" USER_STRINGIFY(VMI_PROCESS_CODE64_SELECTOR) ", $1f\n"
        ".code64\n"
        "1:\tmovabs $0x700000000000, %rbx\n"
        "2:\tcmpl $0xcab8, (%rbx)\n\t"         /* b8 ca 00 00 */
        "jne 3f\n\t"
        "cmpl $0x050f0000, 3(%rbx)\n\t"         /* 00 00 0f 05 */
        "je 4f\n"
        "3:\tincq %rbx\n\t"
        "jmp 2b\n"
        "4:\taddq $5, %rbx\n\t"               /* the syscall instruction */
        "movabs $0x700000000000, %rdi\n\t"     /* a word that never changes (the stub's */
        "movl (%rdi), %edx\n\t"                /* first), so no write: a page not yet */
        "xorl %esi, %esi\n\t"                  /* dirty faults; FUTEX_WAIT while it is */
        "xorl %r10d, %r10d\n\t"
        "movl $202, %eax\n\t"
        "jmp *%rbx\n"
        ".code32\n"
        /* and no host call at all: a spin in 64-bit mode */
        ".globl user_escape_spin\n"
        "user_escape_spin:\n\t"
        "ljmp $" USER_STRINGIFY(VMI_PROCESS_CODE64_SELECTOR) ", $1f\n"
        ".code64\n"
        "1:\tjmp 1b\n"
        ".code32\n"
        ".section .rodata\n"
        "user_escape_marker:\n\t"
        ".asciz \"" USER_ESCAPE_MARKER "\"\n"
        ".text\n");

