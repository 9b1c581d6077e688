/* Unit tests for the host check: parsing mmap_min_addr, the verdict each combination of
 * capabilities gets (cause and remedy in one line), the table, and the forced failures
 * that integration tests use. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_check.h"

static struct host_facts everything_works(void)
{
	struct host_facts facts;
	memset(&facts, 0, sizeof(facts));
	for (int i = 0; i < HOST_CAPABILITY_COUNT; i++) {
		facts.works[i] = 1;
		snprintf(facts.seen[i], HOST_SEEN_MAX, "fine");
	}
	facts.int80 = HOST_INT80_SIGSYS;
	facts.code32_selector = 0x23;
	return facts;
}

Test(host_check, parses_mmap_min_addr)
{
	uint64_t value = 1;
	cr_assert_eq(host_parse_mmap_min_addr("65536\n", &value), 0);
	cr_assert_eq(value, 65536);
	cr_assert_eq(host_parse_mmap_min_addr("0", &value), 0);
	cr_assert_eq(value, 0);
	cr_assert_eq(host_parse_mmap_min_addr("", &value), -1);
	cr_assert_eq(host_parse_mmap_min_addr("-1\n", &value), -1);
	cr_assert_eq(host_parse_mmap_min_addr("4096 junk", &value), -1);
	cr_assert_eq(host_parse_mmap_min_addr(NULL, &value), -1);
	cr_assert_eq(host_parse_mmap_min_addr("99999999999999999999999", &value), -1);
}

Test(host_check, a_host_with_everything_runs_guests)
{
	struct host_facts facts = everything_works();
	char line[512] = "";
	cr_assert_eq(host_verdict(&facts, line, sizeof(line)), -1);
	/* int $0x80 as #GP is as good as SIGSYS: the monitor takes both */
	facts.int80 = HOST_INT80_GP;
	cr_assert_eq(host_verdict(&facts, line, sizeof(line)), -1);
	/* no LDT segment is fine where the GDT has one */
	facts.works[HOST_CODE32_LDT] = 0;
	cr_assert_eq(host_verdict(&facts, line, sizeof(line)), -1);
}

Test(host_check, no_32bit_segment_names_the_cause_and_the_remedies)
{
	struct host_facts facts = everything_works();
	facts.works[HOST_CODE32_GDT] = 0;
	facts.works[HOST_CODE32_LDT] = 0;
	facts.works[HOST_ROUND_TRIP] = 0;
	snprintf(facts.seen[HOST_CODE32_LDT], HOST_SEEN_MAX, "the LDT never reaches the CPU");
	char line[512];
	cr_assert_eq(host_verdict(&facts, line, sizeof(line)), HOST_CODE32_GDT);
	cr_assert(strstr(line, "no process run 32-bit code"), "%s", line);
	cr_assert(strstr(line, "the LDT never reaches the CPU"), "%s", line);
	cr_assert(strstr(line, "ia32_emulation=1"), "%s", line);
	cr_assert(strstr(line, "PVM"), "%s", line);
	cr_assert(strstr(line, "QEMU"), "%s", line);
	cr_assert_null(strchr(line, '\n'), "one line: %s", line);
}

Test(host_check, an_ldt_segment_alone_is_reported_as_not_enough)
{
	struct host_facts facts = everything_works();
	facts.works[HOST_CODE32_GDT] = 0;
	char line[512];
	cr_assert_eq(host_verdict(&facts, line, sizeof(line)), HOST_CODE32_GDT);
	cr_assert(strstr(line, "an LDT one works here"), "%s", line);
}

Test(host_check, a_failed_round_trip_stops_guests)
{
	struct host_facts facts = everything_works();
	facts.works[HOST_ROUND_TRIP] = 0;
	snprintf(facts.seen[HOST_ROUND_TRIP], HOST_SEEN_MAX, "killed by Segmentation fault");
	char line[512];
	cr_assert_eq(host_verdict(&facts, line, sizeof(line)), HOST_ROUND_TRIP);
	cr_assert(strstr(line, "round trip (killed by Segmentation fault)"), "%s", line);
}

Test(host_check, every_other_missing_capability_is_named_with_its_remedy)
{
	static const struct { enum host_capability capability; const char *words; } cases[] = {
		{ HOST_LOW_MEMORY, "mmap_min_addr" },
		{ HOST_MEMFD, "memfd" },
		{ HOST_SECCOMP_TRAP, "SECCOMP_RET_TRAP" },
		{ HOST_ALT_STACK, "alternate stack" },
		{ HOST_POSIX_TIMER, "timer_create" },
		{ HOST_GUEST_INT80, "int $0x80" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct host_facts facts = everything_works();
		facts.works[cases[i].capability] = 0;
		char line[512];
		cr_assert_eq(host_verdict(&facts, line, sizeof(line)), (int)cases[i].capability);
		cr_assert(strstr(line, cases[i].words), "%s", line);
		cr_assert(strstr(line, "remedy: "), "%s", line);
	}
}

Test(host_check, the_table_has_a_row_per_capability_and_a_verdict)
{
	struct host_facts facts = everything_works();
	facts.works[HOST_MEMFD] = 0;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	host_print_table(out, &facts);
	fclose(out);
	for (int i = 0; i < HOST_CAPABILITY_COUNT; i++)
		cr_assert(strstr(text, host_capability_name(i)), "%s missing:\n%s",
		          host_capability_name(i), text);
	cr_assert(strstr(text, "memfd         no"), "%s", text);
	cr_assert(strstr(text, "to do: "), "%s", text);
	cr_assert(strstr(text, "verdict: this host lacks memfd_create"), "%s", text);
	free(text);
}

Test(host_check, a_forced_failure_is_reported_whatever_the_host_has)
{
	struct host_facts facts;
	char line[512];
	host_probe(&facts, "posix-timer");
	cr_assert_eq(facts.works[HOST_POSIX_TIMER], 0);
	cr_assert(strstr(facts.seen[HOST_POSIX_TIMER], "VMIRUN_HOST_CHECK_FAIL"));
	cr_assert_neq(host_verdict(&facts, line, sizeof(line)), -1);

	host_probe(&facts, "all");
	for (int i = 0; i < HOST_CAPABILITY_COUNT; i++)
		cr_assert_eq(facts.works[i], 0, "%s", host_capability_name(i));
}

Test(host_check, probes_that_need_no_32bit_code_work_on_every_test_host)
{
	struct host_facts facts;
	host_probe(&facts, NULL);
	cr_assert_eq(facts.works[HOST_MEMFD], 1, "%s", facts.seen[HOST_MEMFD]);
	cr_assert_eq(facts.works[HOST_SECCOMP_TRAP], 1, "%s", facts.seen[HOST_SECCOMP_TRAP]);
	cr_assert_eq(facts.works[HOST_ALT_STACK], 1, "%s", facts.seen[HOST_ALT_STACK]);
	cr_assert_eq(facts.works[HOST_POSIX_TIMER], 1, "%s", facts.seen[HOST_POSIX_TIMER]);
	/* The round trip proves what LAR claims: it never succeeds without a segment. */
	if (facts.works[HOST_ROUND_TRIP] == 1)
		cr_assert(facts.works[HOST_CODE32_GDT] == 1 || facts.works[HOST_CODE32_LDT] == 1);
	else
		cr_assert_eq(facts.int80, HOST_INT80_UNKNOWN);
}
