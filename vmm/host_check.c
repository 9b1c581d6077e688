/* The host check: probes what the process platform needs, each probe that could disturb
 * this process (32-bit code, an LDT, a seccomp filter, signal handlers) in a child of its
 * own that writes what it saw into shared memory. */
#include <asm/ldt.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vmi/process.h>
#include "host_check.h"

#define PAGE_SIZE        4096u
#define FOUR_GIB         0x100000000ull
#define PROBE_MAGIC      0x32b17c0du
#define I386_GETPID      20
#define LDT_CODE32       ((0u << 3) | 4u | 3u)   /* LDT entry 0, table indicator, RPL 3 */
#define CHILD_TIMEOUT_MS 2000
/* The 64-bit part of the probe code, after the 32-bit part in the same page. */
#define PROBE_CODE64_OFFSET 32

/* What to do where no process can run 32-bit code. */
#define RUN_32BIT_REMEDY "use a host whose processes may run 32-bit code (not a PVM guest nor " \
	"gVisor; where IA-32 emulation is off, boot it with ia32_emulation=1), or run the kernel " \
	"under QEMU (make run and make check do, in an x86-64 VM)"

uint32_t host_probe_enter(uint64_t entry32, uint64_t code32_selector);
void host_probe_return(void);

static const struct {
	const char *name;
	const char *what;
	const char *remedy;
} capabilities[HOST_CAPABILITY_COUNT] = {
	[HOST_CODE32_GDT] = { "code32-gdt", "32-bit code segment in the GDT (0x23)",
		RUN_32BIT_REMEDY },
	[HOST_CODE32_LDT] = { "code32-ldt", "32-bit code segment in the LDT",
		"only needed where the GDT has none" },
	[HOST_ROUND_TRIP] = { "round-trip", "a real 64 -> 32 -> 64 round trip",
		RUN_32BIT_REMEDY },
	[HOST_LOW_MEMORY] = { "low-memory", "the low 4 GiB from 64 KiB (mmap_min_addr)",
		"sysctl vm.mmap_min_addr=65536 (or lower) as root" },
	[HOST_MEMFD] = { "memfd", "memfd_create for guest RAM",
		"use a Linux 3.17+ host kernel with memfd" },
	[HOST_SECCOMP_TRAP] = { "seccomp-trap", "seccomp filters with SECCOMP_RET_TRAP",
		"use a host kernel built with CONFIG_SECCOMP_FILTER" },
	[HOST_ALT_STACK] = { "alt-stack", "signals on an alternate stack",
		"use an ordinary Linux host" },
	[HOST_POSIX_TIMER] = { "posix-timer", "POSIX timers (timer_create) with a signal",
		"use a host kernel built with CONFIG_POSIX_TIMERS" },
	[HOST_GUEST_INT80] = { "guest-int80", "how a guest's int $0x80 arrives",
		"use an ordinary Linux host" },
};

const char *host_capability_name(enum host_capability capability)
{
	return capability < HOST_CAPABILITY_COUNT ? capabilities[capability].name : "?";
}

int host_parse_mmap_min_addr(const char *text, uint64_t *value)
{
	char *end;
	if (!text || text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	unsigned long long parsed = strtoull(text, &end, 10);
	if (errno != 0 || end == text)
		return -1;
	while (*end == '\n' || *end == ' ')
		end++;
	if (*end != '\0')
		return -1;
	*value = parsed;
	return 0;
}

#define SEEN(facts, capability, ...) \
	snprintf((facts)->seen[capability], HOST_SEEN_MAX, __VA_ARGS__)

/* --- child processes --------------------------------------------------------------------- */

/* Runs probe(facts) in a child; returns its exit status, or -signal if a signal ended it
 * (or -SIGKILL after CHILD_TIMEOUT_MS). */
static int in_child(void (*probe)(struct host_facts *), struct host_facts *facts)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1000;
	if (pid == 0) {
		probe(facts);
		_exit(0);
	}
	int status = 0;
	/* Looked at every 50 us: the check runs before every guest, and a probe takes a few
	 * hundred; a 1 ms step made the three of them most of vmirun's start-up. */
	for (long waited_us = 0;; waited_us += 50) {
		pid_t done = waitpid(pid, &status, WNOHANG);
		if (done == pid)
			break;
		if (done < 0 && errno != EINTR)
			return -1000;
		if (waited_us >= CHILD_TIMEOUT_MS * 1000L) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -SIGKILL;
		}
		struct timespec step = { 0, 50000 };
		nanosleep(&step, NULL);
	}
	return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

/* Access rights by LAR, or -1 if the selector is not valid for this process. */
static int64_t load_access_rights(uint16_t selector)
{
	uint32_t rights = 0;
	uint8_t valid;
	__asm__ volatile("lar %2, %0; setz %1" : "=r"(rights), "=q"(valid) : "r"((uint32_t)selector)
	                 : "cc");
	return valid ? (int64_t)rights : -1;
}

/* A 32-bit (D=1, L=0) code segment with DPL 3, present. */
static int is_code32(uint32_t rights)
{
	return (rights & (1u << 15)) && ((rights >> 13) & 3) == 3 && (rights & (1u << 11)) &&
	       (rights & (1u << 22)) && !(rights & (1u << 21));
}

/* A page below 4 GiB with `mov $value, %eax; [int $0x80;] ljmp $0x33, $code64`, and at
 * code64 an absolute jump to host_probe_return. */
static uint8_t *build_probe_code(uint32_t eax, int with_int80)
{
	uint8_t *page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
	                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (page == MAP_FAILED || (uintptr_t)page + PAGE_SIZE > FOUR_GIB)
		return NULL;
	memset(page, 0xCC, PAGE_SIZE);
	uint8_t *p = page;
	*p++ = 0xB8;                                  /* mov $eax, %eax */
	memcpy(p, &eax, 4);
	p += 4;
	if (with_int80) {
		*p++ = 0xCD;                              /* int $0x80 */
		*p++ = 0x80;
	}
	uint32_t code64 = (uint32_t)(uintptr_t)page + PROBE_CODE64_OFFSET;
	uint16_t selector64 = VMI_PROCESS_CODE64_SELECTOR;
	*p++ = 0xEA;                                  /* ljmp $0x33, $code64 */
	memcpy(p, &code64, 4);
	memcpy(p + 4, &selector64, 2);
	uint8_t *jump = page + PROBE_CODE64_OFFSET;
	uint64_t back = (uint64_t)(uintptr_t)host_probe_return;
	jump[0] = 0xFF;                               /* jmp *0(%rip) */
	jump[1] = 0x25;
	memset(jump + 2, 0, 4);
	memcpy(jump + 6, &back, 8);
	return page;
}

static void probe_code32(struct host_facts *facts)
{
	int64_t rights = load_access_rights(VMI_PROCESS_CODE32_SELECTOR);
	facts->works[HOST_CODE32_GDT] = rights >= 0 && is_code32((uint32_t)rights);
	if (rights < 0)
		SEEN(facts, HOST_CODE32_GDT, "LAR on 0x%x fails: no such segment",
		     VMI_PROCESS_CODE32_SELECTOR);
	else
		SEEN(facts, HOST_CODE32_GDT, "LAR on 0x%x: access rights 0x%08x%s",
		     VMI_PROCESS_CODE32_SELECTOR, (uint32_t)rights,
		     facts->works[HOST_CODE32_GDT] ? "" : ", not 32-bit user code");

	struct user_desc entry = {
		.entry_number = 0, .base_addr = 0, .limit = 0xFFFFF, .seg_32bit = 1,
		.contents = MODIFY_LDT_CONTENTS_CODE, .read_exec_only = 0, .limit_in_pages = 1,
		.seg_not_present = 0, .useable = 1,
	};
	long written = syscall(SYS_modify_ldt, 0x11, &entry, sizeof(entry));
	if (written != 0) {
		facts->works[HOST_CODE32_LDT] = 0;
		SEEN(facts, HOST_CODE32_LDT, "modify_ldt: %s", strerror(errno));
	} else {
		int64_t ldt_rights = load_access_rights(LDT_CODE32);
		facts->works[HOST_CODE32_LDT] = ldt_rights >= 0 && is_code32((uint32_t)ldt_rights);
		if (ldt_rights < 0)
			SEEN(facts, HOST_CODE32_LDT,
			     "modify_ldt returns 0, but LAR on 0x%x fails: the LDT never reaches the CPU",
			     LDT_CODE32);
		else
			SEEN(facts, HOST_CODE32_LDT, "LAR on 0x%x: access rights 0x%08x", LDT_CODE32,
			     (uint32_t)ldt_rights);
	}

	/* The GDT's segment if there is one: it is the one vmirun's guests run on. */
	uint16_t selector = facts->works[HOST_CODE32_GDT] ? VMI_PROCESS_CODE32_SELECTOR :
	                    facts->works[HOST_CODE32_LDT] ? LDT_CODE32 : 0;
	if (!selector) {
		SEEN(facts, HOST_ROUND_TRIP, "not tried: no 32-bit code segment");
		return;
	}
	uint8_t *code = build_probe_code(PROBE_MAGIC, 0);
	if (!code) {
		SEEN(facts, HOST_ROUND_TRIP, "no executable page below 4 GiB: %s", strerror(errno));
		return;
	}
	/* If the trip faults, the parent reports the signal. */
	SEEN(facts, HOST_ROUND_TRIP, "through 0x%x: the 32-bit code never came back", selector);
	facts->code32_selector = selector;
	uint32_t got = host_probe_enter((uint64_t)(uintptr_t)code, selector);
	facts->works[HOST_ROUND_TRIP] = got == PROBE_MAGIC;
	SEEN(facts, HOST_ROUND_TRIP, "through 0x%x: %s", selector,
	     got == PROBE_MAGIC ? "32-bit code ran and came back" : "came back with a wrong eax");
}

static struct host_facts *int80_facts;

static void on_int80_signal(int sig, siginfo_t *info, void *context)
{
	(void)context;
	if (sig == SIGSYS && info->si_arch == AUDIT_ARCH_I386) {
		int80_facts->int80 = HOST_INT80_SIGSYS;
		SEEN(int80_facts, HOST_GUEST_INT80, "SIGSYS from the seccomp filter (i386 call %d)",
		     info->si_syscall);
	} else if (sig == SIGSEGV) {
		int80_facts->int80 = HOST_INT80_GP;
		SEEN(int80_facts, HOST_GUEST_INT80,
		     "#GP as SIGSEGV: 32-bit system calls are off (ia32_emulation=0)");
	} else {
		SEEN(int80_facts, HOST_GUEST_INT80, "signal %d", sig);
	}
	int80_facts->works[HOST_GUEST_INT80] = int80_facts->int80 != HOST_INT80_UNKNOWN;
	_exit(0);
}

/* A filter that traps every i386 system call, as vmirun's sandbox does. */
static int trap_i386_system_calls(void)
{
	struct sock_filter program[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog filter = { .len = sizeof(program) / sizeof(program[0]), .filter = program };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter);
}

static char child_signal_stack[64 * 1024] __attribute__((aligned(16)));

static int handle_on_alt_stack(int sig, void (*handler)(int, siginfo_t *, void *))
{
	stack_t stack = { .ss_sp = child_signal_stack, .ss_size = sizeof(child_signal_stack) };
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_sigaction = handler;
	action.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&action.sa_mask);
	return sigaltstack(&stack, NULL) == 0 && sigaction(sig, &action, NULL) == 0 ? 0 : -1;
}

static void probe_int80(struct host_facts *facts)
{
	int80_facts = facts;
	facts->int80 = HOST_INT80_OTHER;
	uint8_t *code = build_probe_code(I386_GETPID, 1);
	if (!code || handle_on_alt_stack(SIGSYS, on_int80_signal) != 0 ||
	    handle_on_alt_stack(SIGSEGV, on_int80_signal) != 0) {
		SEEN(facts, HOST_GUEST_INT80, "could not set the probe up: %s", strerror(errno));
		return;
	}
	if (trap_i386_system_calls() != 0) {
		SEEN(facts, HOST_GUEST_INT80, "no seccomp filter to catch it: %s", strerror(errno));
		return;
	}
	uint32_t eax = host_probe_enter((uint64_t)(uintptr_t)code, facts->code32_selector);
	SEEN(facts, HOST_GUEST_INT80, "reached the host kernel past the filter (eax 0x%x)", eax);
}

static volatile sig_atomic_t trap_seen, trap_on_alt_stack;

static void on_trap(int sig, siginfo_t *info, void *context)
{
	char here;
	(void)sig;
	(void)context;
	trap_seen = info->si_syscall == SYS_getppid;
	trap_on_alt_stack = &here >= child_signal_stack &&
	                    &here < child_signal_stack + sizeof(child_signal_stack);
}

/* A seccomp filter with SECCOMP_RET_TRAP, its SIGSYS on the alternate stack, then a POSIX
 * timer's signal. */
static void probe_signals(struct host_facts *facts)
{
	SEEN(facts, HOST_SECCOMP_TRAP, "no SIGSYS for a trapped getppid");
	SEEN(facts, HOST_ALT_STACK, "not tried");
	struct sock_filter program[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog filter = { .len = sizeof(program) / sizeof(program[0]), .filter = program };
	if (handle_on_alt_stack(SIGSYS, on_trap) != 0) {
		SEEN(facts, HOST_ALT_STACK, "sigaltstack or sigaction: %s", strerror(errno));
	} else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	           syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) != 0) {
		SEEN(facts, HOST_SECCOMP_TRAP, "seccomp: %s", strerror(errno));
	} else {
		syscall(SYS_getppid);
		facts->works[HOST_SECCOMP_TRAP] = trap_seen;
		if (trap_seen)
			SEEN(facts, HOST_SECCOMP_TRAP, "a trapped getppid raised SIGSYS");
		facts->works[HOST_ALT_STACK] = trap_seen && trap_on_alt_stack;
		SEEN(facts, HOST_ALT_STACK, "%s", !trap_seen ? "no signal to look at" :
		     trap_on_alt_stack ? "the SIGSYS handler ran on it" : "the handler ran elsewhere");
	}

	sigset_t alarm_set;
	sigemptyset(&alarm_set);
	sigaddset(&alarm_set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &alarm_set, NULL);
	struct sigevent event = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN };
	timer_t timer;
	if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) {
		SEEN(facts, HOST_POSIX_TIMER, "timer_create: %s", strerror(errno));
		return;
	}
	struct itimerspec due = { .it_value = { 0, 100000 } };
	struct timespec patience = { 1, 0 };
	if (timer_settime(timer, 0, &due, NULL) != 0) {
		SEEN(facts, HOST_POSIX_TIMER, "timer_settime: %s", strerror(errno));
		return;
	}
	int got = sigtimedwait(&alarm_set, NULL, &patience);
	facts->works[HOST_POSIX_TIMER] = got == SIGRTMIN;
	SEEN(facts, HOST_POSIX_TIMER, "%s", got == SIGRTMIN ? "a 100 us timer signalled" :
	     "no signal within 1 s");
}

/* --- probes that leave nothing behind, run here ------------------------------------------- */

static void probe_low_memory(struct host_facts *facts)
{
	char text[64] = "";
	uint64_t min_addr = 0;
	FILE *file = fopen("/proc/sys/vm/mmap_min_addr", "re");
	if (file) {
		if (!fgets(text, sizeof(text), file))
			text[0] = '\0';
		fclose(file);
	}
	int known = host_parse_mmap_min_addr(text, &min_addr) == 0;
	if (known && min_addr > VMI_PROCESS_LOW_RAM_BASE) {
		SEEN(facts, HOST_LOW_MEMORY, "mmap_min_addr is %llu, above %u",
		     (unsigned long long)min_addr, VMI_PROCESS_LOW_RAM_BASE);
		return;
	}
	size_t size = FOUR_GIB - VMI_PROCESS_LOW_RAM_BASE;
	void *reserved = mmap((void *)(uintptr_t)VMI_PROCESS_LOW_RAM_BASE, size, PROT_NONE,
	                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
	                      -1, 0);
	if (reserved == MAP_FAILED) {
		SEEN(facts, HOST_LOW_MEMORY, "cannot reserve 0x%x-4 GiB: %s", VMI_PROCESS_LOW_RAM_BASE,
		     strerror(errno));
		return;
	}
	munmap(reserved, size);
	facts->works[HOST_LOW_MEMORY] = 1;
	if (known)
		SEEN(facts, HOST_LOW_MEMORY, "mmap_min_addr %llu; 0x%x-4 GiB reserved",
		     (unsigned long long)min_addr, VMI_PROCESS_LOW_RAM_BASE);
	else
		SEEN(facts, HOST_LOW_MEMORY, "mmap_min_addr unreadable; 0x%x-4 GiB reserved",
		     VMI_PROCESS_LOW_RAM_BASE);
}

static void probe_memfd(struct host_facts *facts)
{
	int fd = (int)syscall(SYS_memfd_create, "vmirun-check", 1u /* MFD_CLOEXEC */);
	if (fd < 0) {
		SEEN(facts, HOST_MEMFD, "memfd_create: %s", strerror(errno));
		return;
	}
	void *page = MAP_FAILED;
	if (ftruncate(fd, PAGE_SIZE) == 0)
		page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED) {
		/* EFBIG: the file-size limit covers memfds (SIGXFSZ is ignored, main.c). */
		SEEN(facts, HOST_MEMFD, "cannot size or map a memfd: %s%s", strerror(errno),
		     errno == EFBIG ? " (the file-size limit, ulimit -f, is below one page)" : "");
	} else {
		*(volatile uint8_t *)page = 1;
		munmap(page, PAGE_SIZE);
		facts->works[HOST_MEMFD] = 1;
		SEEN(facts, HOST_MEMFD, "a shared memfd page mapped and written");
	}
	close(fd);
}

static void describe_child_death(struct host_facts *facts, enum host_capability capability,
                                 int status)
{
	size_t used = strlen(facts->seen[capability]);
	if (status < 0 && used + 1 < HOST_SEEN_MAX)
		snprintf(facts->seen[capability] + used, HOST_SEEN_MAX - used, "%s(killed by %s)",
		         used ? " " : "", status == -1000 ? "no child" : strsignal(-status));
}

void host_probe(struct host_facts *result, const char *forced_missing)
{
	/* Shared with the children, which write what they saw into it. */
	struct host_facts *facts = mmap(NULL, sizeof(*facts), PROT_READ | PROT_WRITE,
	                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (facts == MAP_FAILED) {
		memset(result, 0, sizeof(*result));
		for (int i = 0; i < HOST_CAPABILITY_COUNT; i++)
			SEEN(result, i, "no memory for the probe");
		return;
	}
	memset(facts, 0, sizeof(*facts));

	describe_child_death(facts, HOST_ROUND_TRIP, in_child(probe_code32, facts));
	if (facts->works[HOST_ROUND_TRIP]) {
		describe_child_death(facts, HOST_GUEST_INT80, in_child(probe_int80, facts));
	} else {
		facts->works[HOST_GUEST_INT80] = -1;
		SEEN(facts, HOST_GUEST_INT80, "not tried: no 32-bit code runs here");
	}
	int status = in_child(probe_signals, facts);
	describe_child_death(facts, HOST_SECCOMP_TRAP, status);
	describe_child_death(facts, HOST_POSIX_TIMER, status);
	probe_low_memory(facts);
	probe_memfd(facts);

	for (int i = 0; forced_missing && i < HOST_CAPABILITY_COUNT; i++) {
		if (strcmp(forced_missing, capabilities[i].name) == 0 ||
		    strcmp(forced_missing, "all") == 0) {
			facts->works[i] = 0;
			SEEN(facts, i, "reported missing by VMIRUN_HOST_CHECK_FAIL (for tests)");
		}
	}
	*result = *facts;
	munmap(facts, sizeof(*facts));
}

int host_verdict(const struct host_facts *facts, char *line, size_t line_size)
{
	int missing = -1;
	if (facts->works[HOST_CODE32_GDT] != 1 && facts->works[HOST_CODE32_LDT] != 1)
		missing = HOST_CODE32_GDT;
	else if (facts->works[HOST_CODE32_GDT] != 1)
		missing = HOST_CODE32_GDT;   /* the guest ABI's selectors are the GDT's */
	else if (facts->works[HOST_ROUND_TRIP] != 1)
		missing = HOST_ROUND_TRIP;
	else
		for (int i = HOST_LOW_MEMORY; i < HOST_CAPABILITY_COUNT && missing < 0; i++)
			if (facts->works[i] != 1)
				missing = i;
	if (missing < 0)
		return -1;

	if (missing == HOST_CODE32_GDT && facts->works[HOST_CODE32_LDT] == 1)
		snprintf(line, line_size,
		         "this host has no 32-bit code segment in the GDT (0x%x), and vmirun's guests "
		         "run on the GDT's selectors (an LDT one works here, but the guest ABI names "
		         "0x%x); remedy: %s", VMI_PROCESS_CODE32_SELECTOR, VMI_PROCESS_CODE32_SELECTOR,
		         capabilities[HOST_ROUND_TRIP].remedy);
	else if (missing == HOST_CODE32_GDT)
		snprintf(line, line_size,
		         "this host lets no process run 32-bit code (no segment 0x%x in the GDT; the "
		         "LDT: %s); remedy: %s", VMI_PROCESS_CODE32_SELECTOR,
		         facts->seen[HOST_CODE32_LDT], RUN_32BIT_REMEDY);
	else
		snprintf(line, line_size, "this host lacks %s (%s); remedy: %s",
		         capabilities[missing].what, facts->seen[missing], capabilities[missing].remedy);
	return missing;
}

void host_print_table(FILE *out, const struct host_facts *facts)
{
	char line[512];
	int missing = host_verdict(facts, line, sizeof(line));

	fprintf(out, "%-13s %-4s %s\n", "capability", "ok", "seen");
	for (int i = 0; i < HOST_CAPABILITY_COUNT; i++) {
		const char *ok = facts->works[i] == 1 ? "yes" : facts->works[i] < 0 ? "-" : "no";
		fprintf(out, "%-13s %-4s %s\n", capabilities[i].name, ok, facts->seen[i]);
		/* An LDT (or GDT) segment that is missing matters only if the other one is too. */
		int optional = (i == HOST_CODE32_LDT && facts->works[HOST_CODE32_GDT] == 1);
		if (facts->works[i] == 0 && !optional && i != HOST_CODE32_LDT)
			fprintf(out, "%-13s %-4s to do: %s\n", "", "", capabilities[i].remedy);
	}
	if (missing < 0)
		fprintf(out, "verdict: this host runs vmirun's guests (32-bit code through 0x%x; guest "
		        "int $0x80 arrives as %s)\n", facts->code32_selector,
		        facts->int80 == HOST_INT80_GP ? "#GP" : "SIGSYS");
	else
		fprintf(out, "verdict: %s\n", line);
}
