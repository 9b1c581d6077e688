/* Boots the monitor test guest, which checks the virtual CPU's documented semantics from
 * the inside, and the escape guest, which must be stopped by the sandbox. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define TIMEOUT 60.0
#define MARKER "/tmp/vmirun-escape-marker"

static struct run_result run_guest(const char *guest, const char *const *extra)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)vmirun_path();
	for (; extra && *extra && n < 12; extra++)
		argv[n++] = (char *)*extra;
	argv[n++] = strdup(build_path(guest));
	argv[n] = NULL;
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot start vmirun: %s", r.err);
	free(argv[n - 1]);
	cr_assert(!r.timed_out, "vmirun did not finish; stdout:\n%s", r.out);
	cr_assert(r.exited, "vmirun was killed by signal %d; stderr:\n%s", r.term_signal, r.err);
	return r;
}

TestSuite(monitor, .timeout = 120);

/* Under --isolation=shared: the ROM switches rings itself with paging on too, which strict
 * isolation (the default) hands to vmirun once the guest pages (the test below). */
Test(monitor, every_check_of_the_virtual_cpu_passes)
{
	const char *const extra[] = { "--stats", "--isolation=shared", NULL };
	struct run_result r = run_guest("tests/guests/monitor.elf", extra);
	cr_assert_null(strstr(r.out, "FAIL"), "a check failed:\n%s\nstderr:\n%s", r.out, r.err);
	cr_assert(strstr(r.out, " checks passed\n"), "no summary:\n%s\nstderr:\n%s", r.out, r.err);
	cr_assert_eq(r.exit_status, 1, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	/* the statistics saw what the guest did */
	cr_assert(strstr(r.err, "interrupts delivered"), "%s", r.err);
	cr_assert(strstr(r.err, "vector 32"), "no alarm interrupt counted:\n%s", r.err);
	cr_assert(strstr(r.err, "vector 128"), "no system call counted:\n%s", r.err);
	/* alarms met the ROM's ring switches, and one IRET faulted inside its own: once
	 * without paging, once with */
	cr_assert_gt(stats_count(r.err, "transition_step"), 0, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "transition_fault"), 2, "%s", r.err);
	/* with paging on, the user-mode checks ran on host mappings filled from the guest's
	 * tables, and the three user-mode page faults came from them */
	cr_assert_gt(stats_count(r.err, "host_faults_filled"), 0, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "page_faults_delivered"), 3, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "cr3_loads"), 6, "the guest loaded CR3 6 times paging:\n%s",
	             r.err);
	run_result_free(&r);
}

/* Strict isolation: the same checks, user mode in a process of its own once the guest pages.
 * There every ring switch goes through vmirun (a handoff between the processes each way), so
 * only the IRET before paging faulted inside the ROM's own. */
Test(monitor, every_check_of_the_virtual_cpu_passes_with_user_mode_apart)
{
	const char *const extra[] = { "--stats", NULL };
	struct run_result r = run_guest("tests/guests/monitor.elf", extra);
	cr_assert_null(strstr(r.out, "FAIL"), "a check failed:\n%s\nstderr:\n%s", r.out, r.err);
	cr_assert(strstr(r.out, " checks passed\n"), "no summary:\n%s\nstderr:\n%s", r.out, r.err);
	cr_assert_eq(r.exit_status, 1, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.err, "isolation                        strict"), "%s", r.err);
	cr_assert_eq(stats_count(r.err, "transition_fault"), 1, "%s", r.err);
	cr_assert_gt(stats_count(r.err, "user_kernel_switches"), 2000, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "page_faults_delivered"), 3, "%s", r.err);
	run_result_free(&r);
}

/* Only the "open" attempt looks at the marker: Criterion runs these tests in parallel, and
 * another test's unlink must not hide a file this one's guest created. */
static void expect_sandbox_stop(const char *attempt, const char *syscall_text)
{
	int opens = strcmp(attempt, "open") == 0;
	if (opens)
		unlink(MARKER);
	char *argv[] = { (char *)vmirun_path(), NULL, "--", (char *)attempt, NULL };
	argv[1] = strdup(build_path("tests/guests/escape.elf"));
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0);
	free(argv[1]);
	cr_assert(r.exited, "killed by signal %d", r.term_signal);
	cr_assert_eq(r.exit_status, 12, "status %d; stderr: %s", r.exit_status, r.err);
	cr_assert(strstr(r.err, "vmirun: sandbox: 64-bit system call"), "%s", r.err);
	cr_assert(strstr(r.err, syscall_text), "%s", r.err);
	if (opens)
		cr_assert_neq(access(MARKER, F_OK), 0, "the escaped guest created " MARKER);
	run_result_free(&r);
}

Test(monitor, escaped_guest_cannot_open_files)
{
	expect_sandbox_stop("open", "system call 2 ");
}

Test(monitor, escaped_guest_cannot_spawn_processes)
{
	expect_sandbox_stop("fork", "system call 57 ");
}

/* L2: the filter allowed write to fd 0, pread64 on any descriptor (inherited ones too)
 * and arch_prctl with any sub-command. */
Test(monitor, escaped_guest_cannot_write_to_stdin)
{
	expect_sandbox_stop("write0", "system call 1 ");
}

Test(monitor, escaped_guest_cannot_read_files_it_was_not_given)
{
	/* a descriptor the caller leaves open: vmirun closes it before the guest runs, and
	 * reads only its own two files */
	int inherited = open(build_path("tests/guests/escape.elf"), O_RDONLY);
	cr_assert_geq(inherited, 0);
	expect_sandbox_stop("pread", "system call 17 ");
	close(inherited);
}

Test(monitor, escaped_guest_cannot_read_the_fs_base)
{
	expect_sandbox_stop("archprctl", "system call 158 ");
}

/* Guest paging lets vmirun mmap, but only guest memory or nothing, inside the guest's part of
 * the low 4 GiB: never over vmirun's own pages above it, never into its window. */
Test(monitor, escaped_guest_cannot_map_over_vmirun)
{
	expect_sandbox_stop("mmap", "system call 9 ");
	expect_sandbox_stop("xwindow", "system call 9 ");
}

/* M4: setitimer and rt_sigprocmask are allowed (vmirun needs them), so an escaped guest can
 * turn --timeout off and block its signals: the CPU-time limit and the watchdog process
 * still end the run, with SIGKILL, within the timeout and its 2 s of grace (plus slack). */
static void expect_killed_despite(const char *attempt)
{
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	char *argv[] = { (char *)vmirun_path(), "--timeout", "1", NULL, "--", (char *)attempt, NULL };
	argv[3] = strdup(build_path("tests/guests/escape.elf"));
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0);
	free(argv[3]);
	clock_gettime(CLOCK_MONOTONIC, &end);
	double seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
	cr_assert(!r.timed_out, "the escaped guest ran until the test's own timeout");
	cr_assert(!r.exited && r.term_signal == SIGKILL,
	          "expected SIGKILL; exited %d status %d signal %d\n%s", r.exited, r.exit_status,
	          r.term_signal, r.err);
	cr_assert_lt(seconds, 10.0, "ended after %.1f s", seconds);
	run_result_free(&r);
}

Test(monitor, escaped_guest_that_turns_the_timeout_off_and_spins_is_still_ended)
{
	expect_killed_despite("timer");
}

Test(monitor, escaped_guest_that_turns_the_timeout_off_and_sleeps_is_still_ended)
{
	expect_killed_despite("sleep");
}

/* --- a hostile kernel: every attack is refused, reflected, or stopped with a reason ------ */

/* vmirun OPTIONS... hostile.elf -- ATTACK, which must end on its own (not by signal). */
static struct run_result hostile_with(const char *const *options, const char *attack)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)vmirun_path();
	for (; *options && n < 11; options++)
		argv[n++] = (char *)*options;
	char *kernel = strdup(build_path("tests/guests/hostile.elf"));
	argv[n++] = kernel;
	argv[n++] = "--";
	argv[n++] = (char *)attack;
	argv[n] = NULL;
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0);
	free(kernel);
	cr_assert(r.exited, "vmirun died of signal %d under attack '%s'; stderr:\n%s", r.term_signal,
	          attack, r.err);
	return r;
}

static struct run_result hostile(const char *attack, const char *timeout)
{
	return hostile_with((const char *const[]){ "--timeout", timeout, NULL }, attack);
}

/* The attack ends with `status` and prints `line` (the guest's own verdict). */
static void expect_hostile_outcome(const char *attack, int status, const char *line)
{
	struct run_result r = hostile(attack, "30");
	cr_assert_eq(r.exit_status, status, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.out, line), "no '%s' in:\n%s\n%s", line, r.out, r.err);
	run_result_free(&r);
}

Test(monitor, garbage_arguments_to_every_call_never_crash_vmirun)
{
	expect_hostile_outcome("garbage", 1, "hostile: garbage: vmirun survived ");
}

Test(monitor, every_vector_can_be_raised)
{
	expect_hostile_outcome("vectors", 1, "256 of 256 raised vectors taken");
}

Test(monitor, an_exception_with_the_stack_outside_guest_ram_stops_the_guest)
{
	struct run_result r = hostile("stack", "30");
	cr_assert_eq(r.exit_status, 4, "status %d\n%s", r.exit_status, r.err);
	cr_assert(strstr(r.err, "guest cannot take vector 6"), "%s", r.err);
	cr_assert(strstr(r.err, "is not guest memory"), "%s", r.err);
	run_result_free(&r);
}

Test(monitor, an_interrupt_handler_that_loops_is_stopped_by_the_timeout)
{
	struct run_result r = hostile("irqloop", "1");
	cr_assert_eq(r.exit_status, 6, "status %d\n%s", r.exit_status, r.err);
	cr_assert(strstr(r.err, "vmirun: timeout"), "%s", r.err);
	cr_assert(strstr(r.out, "hostile: irqloop: in the handler, looping with interrupts "
	                        "disabled\n"), "the handler was never entered:\n%s", r.out);
	run_result_free(&r);
}

Test(monitor, a_guest_that_holds_the_transition_mark_is_stopped_by_the_timeout)
{
	struct run_result r = hostile_with((const char *const[]){ "--stats", "--timeout", "1", NULL },
	                                   "transition");
	cr_assert_eq(r.exit_status, 6, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.err, "vmirun: timeout"), "%s", r.err);
	/* held, not taken: vmirun kept single-stepping towards the transition's end */
	cr_assert_null(strstr(r.out, "taken inside a held transition"), "%s", r.out);
	cr_assert_gt(stats_count(r.err, "transition_step"), 100, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "vector 32"), -1, "the alarm was delivered:\n%s", r.err);
	run_result_free(&r);
}

/* M4: a timeout that fired before the guest ran was lost, and the guest ran for ever. */
Test(monitor, a_timeout_that_fires_before_the_guest_runs_still_stops_it)
{
	struct run_result r = hostile("spin", "0.000001");
	cr_assert_eq(r.exit_status, 6, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.err, "vmirun: timeout"), "%s", r.err);
	run_result_free(&r);
}

/* M4: a trapped rep outsb is emulated inside the SIGSEGV handler, with the timeout's
 * signal held: only a look at the clock stops it in time. */
Test(monitor, a_long_trapped_string_io_is_stopped_by_the_timeout)
{
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	struct run_result r = hostile_with((const char *const[]){ "--mem", "3G", "--timeout", "0.5",
	                                                          NULL }, "longio");
	clock_gettime(CLOCK_MONOTONIC, &end);
	double seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
	cr_assert_eq(r.exit_status, 6, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.out, "hostile: longio: rep outsb over all of RAM, trapped\n"), "%s", r.out);
	cr_assert_lt(seconds, 3.0, "a 0.5 s timeout took %.1f s", seconds);
	run_result_free(&r);
}

Test(monitor, a_fault_inside_a_forged_iret_transition_stops_the_guest_with_a_reason)
{
	struct run_result r = hostile("transitionfault", "30");
	cr_assert_eq(r.exit_status, 4, "status %d\n%s", r.exit_status, r.err);
	cr_assert(strstr(r.err, "IRET with its frame outside guest memory"), "%s", r.err);
	run_result_free(&r);
}

Test(monitor, a_far_call_into_the_middle_of_an_entry_is_a_guest_fault)
{
	struct run_result r = hostile("misaligned", "30");
	cr_assert_eq(r.exit_status, 4, "status %d\n%s", r.exit_status, r.err);
	cr_assert(strstr(r.err, "vmirun: guest fault:"), "%s", r.err);
	run_result_free(&r);
}

Test(monitor, writing_vmiruns_window_is_a_guest_fault)
{
	struct run_result r = hostile("window", "30");
	cr_assert_eq(r.exit_status, 4, "status %d\n%s", r.exit_status, r.err);
	cr_assert(strstr(r.err, "page fault (#PF)"), "%s", r.err);
	cr_assert(strstr(r.err, "address 0xffff0000"), "%s", r.err);
	run_result_free(&r);
}

Test(monitor, a_guest_that_loads_fs_and_gs_does_not_disturb_vmirun)
{
	expect_hostile_outcome("segments", 1, "hostile: segments: FS kept\n");
}

/* Linux (__USER_DS) meets this on every host that runs guests itself: the load of 0x7b does
 * not trap there, and the host's segment is read-only with a limit of the CPU number.
 * QEMU's TCG checks no data segment limits or types, so in the VM runner this passes
 * without the repair too. */
Test(monitor, a_store_through_a_selector_the_host_means_otherwise_lands)
{
	expect_hostile_outcome("hostsel", 1, "hostile: hostsel: 8 words stored through ES 0x7b\n");
}

/* The monitor's C code (glibc's memcpy among it) runs in the guest's SSE registers at every
 * hypercall: the hypercall path keeps them aside (the storm in tests/guests/monitor checks
 * them across handoffs and signals too). */
Test(monitor, the_guests_sse_registers_survive_hypercalls)
{
	expect_hostile_outcome("simd", 1, "hostile: simd: 8 of 8 SSE registers kept\n");
}

/* M1: vmirun read such an instruction with one lookup that covered neither area, and
 * copied from NULL inside its SIGSEGV handler. On hardware the null DS makes the fault a
 * #GP, which vmirun reads the instruction for; QEMU's TCG checks no null data selectors,
 * so there the fault is a #PF at address 0 and the read is not reached. */
Test(monitor, a_fault_at_an_instruction_across_the_rom_areas_end_is_the_guests)
{
	struct run_result r = hostile_with((const char *const[]){ "--no-rom", "--timeout", "30", NULL },
	                                   "straddle");
	cr_assert_eq(r.exit_status, 4, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.err, "vmirun: guest fault:"), "%s", r.err);
	cr_assert(strstr(r.err, "eip 0x000ffff8"), "%s", r.err);
	run_result_free(&r);
}

/* L5: the fast entry saved the caller's flags inside its marked transition, so a fault
 * there stopped the whole guest; now it is the user's page fault, for the kernel. (M5: and
 * the TF vmirun sets to step out of a marked switch never reaches the saved flags.) */
Test(monitor, no_room_below_a_fast_system_calls_return_address_is_the_users_page_fault)
{
	expect_hostile_outcome("userstack", 1, "hostile: userstack: #PF at cr2 1048572 from user mode, "
	                                    "a user write\n");
}

/* T3: a guest that set TF before a hypercall was stopped with #DB at the entry in vmirun's
 * page; the call is one instruction to the guest, and the trap follows it. */
Test(monitor, a_single_stepped_hypercall_traps_once_at_its_return_address)
{
	expect_hostile_outcome("tfflag", 1, "hostile: tfflag: 1 single-step traps, at the call's "
	                                 "return address, and the call's result\n");
}

/* L7: the hypercall page held vmirun's code address, readable by any guest. */
Test(monitor, the_hypercall_page_shows_the_guest_no_host_address)
{
	expect_hostile_outcome("readpage", 1, "hostile: readpage: 0 host addresses in the hypercall "
	                                   "page's common stub\n");
}

/* L6: an exception with no gate stopped the guest, where docs/abi.md promises #GP. */
Test(monitor, an_exception_without_a_gate_is_a_general_protection_fault_naming_it)
{
	expect_hostile_outcome("nogate", 1, "hostile: nogate: #GP with error code 50\n");
}

/* M6: the hypercall path did not save EIP, so this #GP carried a stale one. */
Test(monitor, an_iret_that_faults_reports_the_iret_as_the_faulting_instruction)
{
	expect_hostile_outcome("badiret", 1, "hostile: badiret: #GP at the IRET's far call\n");
}

/* M2b: vmirun far-returned through the frame in guest memory, so a call that wrote cs=0x33
 * there sent the guest into 64-bit mode. The return takes eip from before the call and a
 * constant cs. */
Test(monitor, a_hypercall_that_writes_its_own_return_frame_still_returns_to_32_bit_code)
{
	expect_hostile_outcome("farframe", 1, "hostile: farframe: back in 32-bit code after the call\n");
}

/* M2a: iretq with EFLAGS.NT set raised #GP in vmirun's code (status 16). */
Test(monitor, eflags_nt_set_by_the_guest_does_not_fault_vmirun)
{
	expect_hostile_outcome("ntflag", 1, "hostile: ntflag: 1 interrupt taken\n");
}

/* L1: the hypercall page's jump target was misaligned, so with EFLAGS.AC every hypercall
 * took #AC on hardware. QEMU's TCG checks no alignment, so there this passes either way;
 * unit test hypercall_page checks the alignment itself. */
Test(monitor, hypercalls_work_with_eflags_ac_set)
{
	expect_hostile_outcome("acflag", 1, "hostile: acflag: a hypercall with AC set returned\n");
}

/* H1: a null FS with a zero base left vmirun's first thread-local access faulting. */
Test(monitor, a_guest_that_nulls_fs_does_not_disturb_vmirun)
{
	expect_hostile_outcome("nullfs", 1, "hostile: nullfs: vmirun kept its thread pointer\n");
}

Test(monitor, the_fast_system_call_entry_with_a_kernel_stack_outside_guest_ram_stops_the_guest)
{
	struct run_result r = hostile("esp0fast", "30");
	cr_assert_eq(r.exit_status, 4, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.err, "guest cannot take vector 128 from user mode"), "%s", r.err);
	cr_assert(strstr(r.err, "could not build its frame (the kernel stack the TSS names, "
	                        "esp0 0x70000000, is not guest memory)"), "%s", r.err);
	run_result_free(&r);
}

Test(monitor, a_kernel_stack_outside_guest_ram_stops_the_guest_at_the_first_entry)
{
	struct run_result r = hostile("esp0", "30");
	cr_assert_eq(r.exit_status, 4, "status %d\n%s\n%s", r.exit_status, r.out, r.err);
	cr_assert(strstr(r.err, "guest cannot take vector 65"), "%s", r.err);
	cr_assert(strstr(r.err, "is not guest memory"), "%s", r.err);
	run_result_free(&r);
}
