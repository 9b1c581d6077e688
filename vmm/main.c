/* vmirun: loads an i386 kernel (multiboot, or Linux through its 32-bit boot protocol) into
 * the low 4 GiB of this process and runs it natively in 32-bit compatibility mode; turns how
 * it stopped into the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmi/multiboot.h>
#include <vmi/process.h>
#include "devices/console.h"
#include "devices/exit_port.h"
#include "exit_status.h"
#include "host_check.h"
#include "loader/boot_info.h"
#include "loader/kernel_image.h"
#include "loader/linux_boot.h"
#include "monitor/mmu.h"
#include "monitor/timer.h"
#include "monitor/virtual_cpu.h"
#include "options.h"
#include "platform.h"
#include "platform/process/address_space.h"
#include "platform/process/address_space_processes.h"
#include "platform/process/hypercall_page.h"
#include "platform/process/sandbox.h"
#include "platform/process/signals.h"
#include "rom.h"
#include "stats.h"
#include "watchdog.h"

#define VMIRUN_VERSION "0.1.0"


#define MAX_KERNEL_FILE_BYTES (1024ull * 1024 * 1024)
#define INITIAL_EFLAGS 0x202u  /* IF is always set in ring 3; the virtual IF starts clear */

static _Noreturn void die(const char *format, const char *detail)
{
	fprintf(stderr, "vmirun: ");
	fprintf(stderr, format, detail);
	fputc('\n', stderr);
	exit(EXIT_STATUS_VMIRUN_ERROR);
}

/* The whole of a kernel or initrd file (`what` names it in errors); exits on failure. */
static uint8_t *read_file(const char *path, const char *what, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmirun: cannot open %s '%s': %s\n", what, path, strerror(errno));
		exit(EXIT_STATUS_VMIRUN_ERROR);
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "vmirun: %s '%s' is not a regular file\n", what, path);
		exit(EXIT_STATUS_VMIRUN_ERROR);
	}
	if ((unsigned long long)st.st_size > MAX_KERNEL_FILE_BYTES) {
		fprintf(stderr, "vmirun: %s '%s' is larger than 1 GiB\n", what, path);
		exit(EXIT_STATUS_VMIRUN_ERROR);
	}
	uint8_t *data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data)
		die("out of memory reading '%s'", path);
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, data + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "vmirun: cannot read %s '%s': %s\n", what, path,
			        n < 0 ? strerror(errno) : "file shrank while reading");
			exit(EXIT_STATUS_VMIRUN_ERROR);
		}
		done += (size_t)n;
	}
	close(fd);
	*size = done;
	return data;
}

/* The kernel (and a Linux kernel's initrd), read and checked before any guest memory
 * exists, so that every complaint about them comes first. */
struct boot_plan {
	uint8_t *kernel;
	size_t kernel_size;
	int is_linux;
	struct kernel_image multiboot;
	struct linux_image linux_kernel;
	uint8_t *initrd;
	size_t initrd_size;
	uint32_t initrd_address;
};

static void plan_boot(const struct vmirun_options *options, const struct guest_memory *ram,
                      struct boot_plan *plan)
{
	char error[LINUX_BOOT_ERROR_MAX];
	const char *path = options->kernel_path;

	memset(plan, 0, sizeof *plan);
	plan->kernel = read_file(path, "kernel", &plan->kernel_size);
	plan->is_linux = linux_image_recognise(plan->kernel, plan->kernel_size) != LINUX_IMAGE_NONE;
	int parsed = plan->is_linux
	             ? linux_image_parse(plan->kernel, plan->kernel_size, ram, &plan->linux_kernel,
	                                 error)
	             : kernel_image_parse(plan->kernel, plan->kernel_size, ram, &plan->multiboot,
	                                  error);
	if (parsed != 0) {
		fprintf(stderr, "vmirun: %s: %s\n", path, error);
		exit(EXIT_STATUS_VMIRUN_ERROR);
	}
	if (!options->initrd_path)
		return;
	if (!plan->is_linux) {
		fprintf(stderr, "vmirun: --initrd is for Linux kernels, and %s is a multiboot kernel "
		        "(vmirun loads no multiboot modules)\n", path);
		exit(EXIT_STATUS_VMIRUN_ERROR);
	}
	plan->initrd = read_file(options->initrd_path, "initrd", &plan->initrd_size);
	if (linux_initrd_place(&plan->linux_kernel, ram, (uint32_t)plan->initrd_size,
	                       &plan->initrd_address, error) != 0) {
		fprintf(stderr, "vmirun: %s: %s\n", options->initrd_path, error);
		exit(EXIT_STATUS_VMIRUN_ERROR);
	}
}

/* Copies the planned kernel (and initrd) into guest memory, writes what its boot protocol
 * hands over in the boot info area, and says how the guest starts. */
static void load_boot(const struct vmirun_options *options, struct boot_plan *plan,
                      const struct guest_memory *ram, struct guest_regs *initial)
{
	char error[LINUX_BOOT_ERROR_MAX];
	struct guest_memory info_area = {
		.host = (uint8_t *)(uintptr_t)VMI_PROCESS_BOOT_INFO_BASE,
		.base = VMI_PROCESS_BOOT_INFO_BASE,
		.size = VMI_PROCESS_BOOT_INFO_SIZE,
	};
	char *cmdline = options_kernel_cmdline(options, !plan->is_linux);
	if (!cmdline)
		die("%s", "out of memory");
	memset(initial, 0, sizeof *initial);
	initial->esp = VMI_PROCESS_BOOT_STACK_TOP;
	initial->eflags = INITIAL_EFLAGS;

	if (plan->is_linux) {
		linux_image_load(&plan->linux_kernel, plan->kernel, ram);
		if (plan->initrd)
			memcpy(ram->host + (plan->initrd_address - ram->base), plan->initrd,
			       plan->initrd_size);
		struct linux_boot_request request = {
			.ram_bytes = ram->size,
			.cmdline = cmdline,
			.initrd_address = plan->initrd_address,
			.initrd_bytes = (uint32_t)plan->initrd_size,
		};
		/* startup_32: %esi the zero page, %ebx, %ebp and %edi zero (above), interrupts
		 * off (the virtual IF starts clear), paging off. */
		if (linux_boot_params_build(&plan->linux_kernel, &request, &info_area,
		                            &initial->esi, error) != 0)
			die("%s", error);
		initial->eip = plan->linux_kernel.entry;
	} else {
		kernel_image_load(&plan->multiboot, plan->kernel, ram);
		struct boot_info_request request = {
			.ram_bytes = ram->size,
			.cmdline = cmdline,
			.loader_name = VMI_PROCESS_LOADER_NAME " " VMIRUN_VERSION,
		};
		if (boot_info_build(&request, &info_area, &initial->ebx, error) != 0)
			die("%s", error);
		initial->eax = MULTIBOOT_BOOTLOADER_MAGIC;
		initial->eip = plan->multiboot.entry;
	}
	free(cmdline);
	free(plan->kernel);
	free(plan->initrd);
	plan->kernel = plan->initrd = NULL;
}

static void print_registers(const struct guest_regs *r)
{
	fprintf(stderr,
	        "vmirun: guest registers: eip=%08x eflags=%08x esp=%08x ebp=%08x\n"
	        "vmirun:   eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x\n",
	        r->eip, r->eflags, r->esp, r->ebp, r->eax, r->ebx, r->ecx, r->edx, r->esi, r->edi);
}

/* VMIRUN_TEST_INTERNAL_FAULT=segv|syscall|ub: a bug of vmirun's own, on purpose, once the
 * sandbox is locked, so tests see how internal errors are reported (ub: undefined behaviour
 * that the UBSan build reports; the normal build goes on). For tests only. */
void fault_on_purpose(const char *kind);
__attribute__((noinline)) void fault_on_purpose(const char *kind)
{
	static volatile uintptr_t nowhere = 8;
	static volatile int largest = INT_MAX;
	if (strcmp(kind, "segv") == 0)
		*(volatile int *)nowhere = 0;
	else if (strcmp(kind, "syscall") == 0)
		(void)getppid();
	else if (strcmp(kind, "ub") == 0)
		largest = largest + 1;
}

/* Guest RAM is a memfd, and the file-size limit (RLIMIT_FSIZE, `ulimit -f`) covers memfds:
 * sizing one past it fails. Said before the host check, whose own memfd probe would
 * otherwise take the blame. */
static void check_file_size_limit(uint64_t mem_bytes)
{
	struct rlimit limit;
	uint64_t memfd_bytes = VMI_PROCESS_RAM_BASE + mem_bytes; /* file offset = guest address */
	if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
	    limit.rlim_cur >= memfd_bytes)
		return;
	fprintf(stderr, "vmirun: guest RAM is a memfd of %llu bytes (--mem and the first MiB), "
	        "over this process's file-size limit of %llu bytes (ulimit -f): raise the limit or "
	        "lower --mem\n", (unsigned long long)memfd_bytes,
	        (unsigned long long)limit.rlim_cur);
	exit(EXIT_STATUS_VMIRUN_ERROR);
}

static int report_output_failed(int error)
{
	const char *why = error == EPIPE ? " (stdout was closed: nothing reads the output any more)"
	                : error == EFBIG ? " (the file-size limit, ulimit -f)" : "";
	fprintf(stderr, "vmirun: cannot write the guest's console output to stdout: %s%s; the guest "
	        "was stopped\n", strerror(error), why);
	return EXIT_STATUS_OUTPUT_FAILED;
}

static int report_stop(const struct guest_stop *stop, const struct vmirun_options *options)
{
	switch (stop->reason) {
	case GUEST_STOP_EXIT_PORT:
		return exit_port_status((uint32_t)stop->exit_port_value);
	case GUEST_STOP_SHUTDOWN:
		return EXIT_STATUS_SHUTDOWN;
	case GUEST_STOP_REBOOT:
		fprintf(stderr, "vmirun: the guest asked to reboot; vmirun stops it instead\n");
		return EXIT_STATUS_REBOOT;
	case GUEST_STOP_TIMEOUT:
		fprintf(stderr, "vmirun: timeout: the guest was stopped after %g s\n",
		        options->timeout_seconds);
		if (stop->have_regs)
			print_registers(&stop->regs);
		return EXIT_STATUS_TIMEOUT;
	case GUEST_STOP_SANDBOX:
		fprintf(stderr, "vmirun: %s\n", stop->message);
		return EXIT_STATUS_SANDBOX;
	case GUEST_STOP_HALTED:
	case GUEST_STOP_FAULT:
	case GUEST_STOP_NOT_IMPLEMENTED:
		fprintf(stderr, "vmirun: %s\n", stop->message);
		if (stop->have_regs)
			print_registers(&stop->regs);
		return stop->reason == GUEST_STOP_FAULT ? EXIT_STATUS_GUEST_FAULT
		     : stop->reason == GUEST_STOP_HALTED ? EXIT_STATUS_HALTED
		     : EXIT_STATUS_NOT_IMPLEMENTED;
	case GUEST_STOP_OUTPUT_FAILED: /* main() reports it, from the console's error */
	case GUEST_STOP_NONE:
		break;
	}
	fprintf(stderr, "vmirun: internal error: the guest stopped for no recorded reason\n");
	return EXIT_STATUS_VMIRUN_ERROR;
}

int main(int argc, char **argv)
{
	struct vmirun_options options;
	char error[256];

	/* Files inherited from the caller are not the guest's to reach, even escaped. */
	close_range(3, ~0u, 0);
	stats_mark_start();
	/* A closed stdout or the file-size limit must be errors vmirun reports (EPIPE, EFBIG),
	 * not signals that kill it. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (options_parse(argc, argv, &options, error) != 0)
		die("%s", error);
	if (options.show_help) {
		options_print_help();
		return 0;
	}
	if (options.show_version) {
		printf("vmirun (OpenVMI) %s\n", VMIRUN_VERSION);
		return 0;
	}

	/* Before anything else: a host that cannot run 32-bit code would only fail later, and
	 * less clearly. VMIRUN_HOST_CHECK_FAIL=NAME reports NAME missing, for tests. */
	if (!options.check_host)
		check_file_size_limit(options.mem_bytes);
	struct host_facts host;
	host_probe(&host, getenv("VMIRUN_HOST_CHECK_FAIL"));
	if (options.check_host) {
		host_print_table(stdout, &host);
		return host_verdict(&host, error, sizeof(error)) < 0 ? 0 : EXIT_STATUS_HOST_UNSUPPORTED;
	}
	char host_line[512];
	if (host_verdict(&host, host_line, sizeof(host_line)) >= 0) {
		fprintf(stderr, "vmirun: %s\n", host_line);
		return EXIT_STATUS_HOST_UNSUPPORTED;
	}

	struct guest_memory ram = {
		.host = (uint8_t *)(uintptr_t)VMI_PROCESS_RAM_BASE,
		.base = VMI_PROCESS_RAM_BASE,
		.size = (uint32_t)options.mem_bytes,
	};
	static struct boot_plan plan;
	plan_boot(&options, &ram, &plan);

	if (address_space_create(options.mem_bytes, error) != 0 || hypercall_page_install(error) != 0)
		die("%s", error);
	if ((options.no_rom ? rom_install_none(error) : rom_install(options.rom_path, error)) != 0)
		die("%s", error);
	struct guest_regs initial;
	load_boot(&options, &plan, &ram, &initial);

	virtual_cpu_set_user_isolation(!options.shared_isolation);
	stats_set_isolation(options.shared_isolation ? "shared" : "strict");
	virtual_cpu_reset();
	if (timer_setup() != 0)
		die("cannot create the alarm timer: %s", strerror(errno));
	if (process_install_signal_handlers() != 0)
		die("cannot install signal handlers: %s", strerror(errno));
	const char *test_fault = getenv("VMIRUN_TEST_INTERNAL_FAULT");
	if (process_set_timeout(options.timeout_seconds) != 0)
		die("cannot set the CPU-time limit that backs --timeout: %s", strerror(errno));
	if (watchdog_start(options.timeout_seconds) != 0)
		die("cannot start the watchdog that backs --timeout: %s", strerror(errno));
	int read_fds[2], read_fd_count = 0;
	if (timer_schedstat_fd() >= 0)
		read_fds[read_fd_count++] = timer_schedstat_fd();
	if (stats_status_fd() >= 0)
		read_fds[read_fd_count++] = stats_status_fd();
	/* Strict isolation: each address space a kernel's process and a user's (the second half). */
	unsigned processes = options.address_spaces * (options.shared_isolation ? 1 : 2);
	struct address_space_sandbox sandbox = { .read_fd_count = (unsigned)read_fd_count,
	                                          .guest_memory_fd = address_space_ram_fd(),
	                                          .first_user_slot = options.shared_isolation
	                                                             ? processes
	                                                             : options.address_spaces };
	memcpy(sandbox.read_fds, read_fds, sizeof(read_fds));
	if (address_space_processes_start(processes, &sandbox, error) != 0)
		die("%s", error);
	/* Without the ROM the guest's page-table writes are plain stores, which no call tells. */
	mmu_compare_tables_at_switch(options.no_rom && processes > 1);
	if (sandbox_lock(read_fds, (unsigned)read_fd_count, address_space_ram_fd()) != 0)
		die("cannot install the seccomp filter: %s", strerror(errno));
	if (test_fault)
		fault_on_purpose(test_fault);

	struct guest_stop stop;
	platform_run(&initial, &stop);
	stats_mark_end();
	console_flush();

	/* Console output was lost: that is the run's outcome, whether the loss stopped the
	 * guest or showed only in the last flush after it stopped on its own. */
	int status = console_output_error() ? report_output_failed(console_output_error())
	                                    : report_stop(&stop, &options);
	if (options.stats != STATS_NONE)
		stats_print(stderr, options.stats == STATS_JSON);
	return status;
}
