/* Counts what the guest did. Counters are plain integers: there is one vCPU, and signal
 * handlers only touch them while the guest, not the monitor, was interrupted. Each
 * address-space process counts into a set of its own (in the shared data, so the first
 * adds them up at the end): a counter written by two processes in turn would move its cache
 * line across at every handoff, as often as a system call under strict isolation. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <vmi/call_names.h>
#include <vmi/calls.h>
#include "stats.h"

struct counters {
	_Alignas(64) uint64_t hypercalls[VMI_CALL_COUNT];
	uint64_t traps[STATS_TRAP_KIND_COUNT];
	uint64_t paging[STATS_PAGING_KIND_COUNT];
	uint64_t console_bytes;
	uint64_t interrupts[256];
};
static struct counters per_process[STATS_PROCESSES_MAX];
static __thread struct counters *mine = &per_process[0];
#define MAX_MNEMONICS 32
static struct { const char *mnemonic; uint64_t count; } emulations[MAX_MNEMONICS];
static struct timespec start_time, entry_time, end_time;
static int status_fd = -1; /* opened at start: the sandbox allows reads, not opens */

static const char *const trap_names[STATS_TRAP_KIND_COUNT] = {
	[STATS_TRAP_EMULATED] = "emulated",
	[STATS_TRAP_GUEST_SYSCALL] = "guest_syscall",
	[STATS_TRAP_FAULT] = "fault",
	[STATS_TRAP_HALT] = "halt",
	[STATS_TRAP_TRANSITION_STEP] = "transition_step",
	[STATS_TRAP_TRANSITION_FAULT] = "transition_fault",
	[STATS_TRAP_HOST_SELECTOR] = "host_selector_replaced",
};

static const char *const paging_names[STATS_PAGING_KIND_COUNT] = {
	[STATS_PAGING_FILLED] = "host_faults_filled",
	[STATS_PAGING_WRITE_UPGRADE] = "host_faults_write_upgrade",
	[STATS_PAGING_FAULT_DELIVERED] = "page_faults_delivered",
	[STATS_PAGING_HOST_MAP] = "host_map_calls",
	[STATS_PAGING_PAGES_MAPPED] = "pages_mapped",
	[STATS_PAGING_HOST_UNMAP] = "host_unmap_calls",
	[STATS_PAGING_MAPPED_AT_SETPXE] = "mapped_at_setpxe",
	[STATS_PAGING_MAPPED_AROUND] = "pages_mapped_around",
	[STATS_PAGING_CR3_LOADS] = "cr3_loads",
	[STATS_PAGING_FLUSH_ALL] = "whole_tlb_flushes",
	[STATS_PAGING_FLUSH_KEEPING_GLOBAL] = "flushes_keeping_global",
	[STATS_PAGING_SWITCHES] = "address_space_switches",
	[STATS_PAGING_RING_SWITCHES] = "user_kernel_switches",
	[STATS_PAGING_HANDOFF_SPUN] = "handoffs_spinning",
	[STATS_PAGING_HANDOFF_SLEPT] = "handoffs_futex",
	[STATS_PAGING_USER_PROCESSES_ENDED] = "user_processes_ended",
	[STATS_PAGING_PROCESSES_CREATED] = "processes_created",
	[STATS_PAGING_EVICTED] = "address_spaces_evicted",
	[STATS_PAGING_QUEUED_UNMAPS] = "unmaps_queued",
	[STATS_PAGING_GLOBAL_CARRIED] = "global_mappings_carried",
};

/* The call's name, or NULL for the reserved slots 0-3. */
static const char *call_name(uint32_t call)
{
	return call < VMI_CALL_COUNT ? vmi_call_names[call] : NULL;
}

static const char *isolation = "shared";

void stats_set_isolation(const char *name)
{
	isolation = name;
}

void stats_mark_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start_time);
	status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
}
/* Stamped by platform_run just before the world switch: the guest's first instruction follows
 * one iretq later. bench/startup.c times that instruction itself, with the guest's rdtsc. */
void stats_mark_guest_entry(void) { clock_gettime(CLOCK_MONOTONIC, &entry_time); }
void stats_mark_end(void) { clock_gettime(CLOCK_MONOTONIC, &end_time); }

void stats_use_process_slot(unsigned slot)
{
	mine = &per_process[slot < STATS_PROCESSES_MAX ? slot : 0];
}

void stats_count_hypercall(uint32_t call)
{
	if (call < VMI_CALL_COUNT) /* the hypercall page has no other entries */
		mine->hypercalls[call]++;
}

void stats_count_trap(enum stats_trap_kind kind) { mine->traps[kind]++; }
void stats_count_console_byte(void) { mine->console_bytes++; }
void stats_count_paging(enum stats_paging_kind kind, uint64_t count)
{
	mine->paging[kind] += count;
}
void stats_count_interrupt(unsigned vector) { mine->interrupts[vector & 0xFF]++; }

void stats_count_emulation(const char *mnemonic)
{
	mine->traps[STATS_TRAP_EMULATED]++;
	for (unsigned i = 0; i < MAX_MNEMONICS; i++) {
		if (!emulations[i].mnemonic)
			emulations[i].mnemonic = mnemonic;
		if (emulations[i].mnemonic == mnemonic || strcmp(emulations[i].mnemonic, mnemonic) == 0) {
			emulations[i].count++;
			return;
		}
	}
}

/* Resident memory from /proc/self/status, in KiB: guest RAM is the memfd (RssShmem); the
 * rest (RssAnon + RssFile) is what vmirun itself costs the host. */
struct resident_memory {
	long anon_kib, file_kib, shmem_kib;
};

static long status_field(const char *text, const char *name)
{
	const char *at = strstr(text, name);
	return at ? strtol(at + strlen(name), NULL, 10) : 0;
}

static void read_resident_memory(struct resident_memory *memory)
{
	char text[4096];

	memset(memory, 0, sizeof(*memory));
	ssize_t length = status_fd >= 0 ? pread(status_fd, text, sizeof(text) - 1, 0) : -1;
	if (length <= 0)
		return;
	text[length] = 0;
	memory->anon_kib = status_field(text, "RssAnon:");
	memory->file_kib = status_field(text, "RssFile:");
	memory->shmem_kib = status_field(text, "RssShmem:");
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

int stats_status_fd(void)
{
	return status_fd;
}

/* Every process's counts added up. */
static void add_up(struct counters *total)
{
	memset(total, 0, sizeof *total);
	for (unsigned p = 0; p < STATS_PROCESSES_MAX; p++) {
		const struct counters *c = &per_process[p];
		for (unsigned i = 0; i < VMI_CALL_COUNT; i++)
			total->hypercalls[i] += c->hypercalls[i];
		for (unsigned k = 0; k < STATS_TRAP_KIND_COUNT; k++)
			total->traps[k] += c->traps[k];
		for (unsigned k = 0; k < STATS_PAGING_KIND_COUNT; k++)
			total->paging[k] += c->paging[k];
		total->console_bytes += c->console_bytes;
		for (unsigned v = 0; v < 256; v++)
			total->interrupts[v] += c->interrupts[v];
	}
}

void stats_print(FILE *out, int json)
{
	static struct counters sum;
	add_up(&sum);
	const uint64_t *hypercalls = sum.hypercalls, *traps = sum.traps, *paging = sum.paging,
	               *interrupts = sum.interrupts;
	const uint64_t console_bytes = sum.console_bytes;
	double to_entry = entry_time.tv_sec ? ms_between(&start_time, &entry_time) : -1;
	double total = ms_between(&start_time, &end_time);
	uint64_t all_calls = 0;
	for (unsigned i = 0; i < VMI_CALL_COUNT; i++)
		all_calls += hypercalls[i];
	struct resident_memory memory;
	read_resident_memory(&memory);

	uint64_t all_interrupts = 0;
	for (unsigned v = 0; v < 256; v++)
		all_interrupts += interrupts[v];

	if (json) {
		fprintf(out, "{\"isolation\":\"%s\",\"ms_to_guest_entry\":%.3f,\"ms_total\":%.3f,"
		        "\"host_memory_beyond_guest_kib\":%ld,\"guest_ram_resident_kib\":%ld,"
		        "\"console_bytes\":%llu,\"hypercalls_total\":%llu,\"hypercalls\":{",
		        isolation, to_entry, total, memory.anon_kib + memory.file_kib, memory.shmem_kib,
		        (unsigned long long)console_bytes, (unsigned long long)all_calls);
		const char *sep = "";
		for (unsigned i = 0; i < VMI_CALL_COUNT; i++) {
			if (!hypercalls[i])
				continue;
			const char *name = call_name(i);
			if (name)
				fprintf(out, "%s\"%s\":%llu", sep, name, (unsigned long long)hypercalls[i]);
			else
				fprintf(out, "%s\"call_%u\":%llu", sep, i, (unsigned long long)hypercalls[i]);
			sep = ",";
		}
		fprintf(out, "},\"traps\":{");
		for (unsigned k = 0; k < STATS_TRAP_KIND_COUNT; k++)
			fprintf(out, "%s\"%s\":%llu", k ? "," : "", trap_names[k],
			        (unsigned long long)traps[k]);
		fprintf(out, "},\"paging\":{");
		for (unsigned k = 0; k < STATS_PAGING_KIND_COUNT; k++)
			fprintf(out, "%s\"%s\":%llu", k ? "," : "", paging_names[k],
			        (unsigned long long)paging[k]);
		fprintf(out, "},\"emulated\":{");
		for (unsigned i = 0; i < MAX_MNEMONICS && emulations[i].mnemonic; i++)
			fprintf(out, "%s\"%s\":%llu", i ? "," : "", emulations[i].mnemonic,
			        (unsigned long long)emulations[i].count);
		fprintf(out, "},\"interrupts_total\":%llu,\"interrupts\":{",
		        (unsigned long long)all_interrupts);
		sep = "";
		for (unsigned v = 0; v < 256; v++) {
			if (!interrupts[v])
				continue;
			fprintf(out, "%s\"%u\":%llu", sep, v, (unsigned long long)interrupts[v]);
			sep = ",";
		}
		fprintf(out, "}}\n");
		return;
	}
	fprintf(out, "vmirun stats:\n");
	fprintf(out, "  isolation                        %s\n", isolation);
	fprintf(out, "  time to guest entry              %.3f ms\n", to_entry);
	fprintf(out, "  total time                       %.3f ms\n", total);
	fprintf(out, "  host memory beyond guest RAM     %ld KiB (anonymous %ld, file %ld)\n",
	        memory.anon_kib + memory.file_kib, memory.anon_kib, memory.file_kib);
	fprintf(out, "  guest RAM resident               %ld KiB\n", memory.shmem_kib);
	fprintf(out, "  console bytes                    %llu\n", (unsigned long long)console_bytes);
	fprintf(out, "  hypercalls                       %llu\n", (unsigned long long)all_calls);
	for (unsigned i = 0; i < VMI_CALL_COUNT; i++) {
		if (!hypercalls[i])
			continue;
		const char *name = call_name(i);
		char label[32];
		if (name)
			snprintf(label, sizeof(label), "%s", name);
		else
			snprintf(label, sizeof(label), "call %u", i);
		fprintf(out, "    %-30s %llu\n", label, (unsigned long long)hypercalls[i]);
	}
	fprintf(out, "  traps\n");
	for (unsigned k = 0; k < STATS_TRAP_KIND_COUNT; k++)
		fprintf(out, "    %-30s %llu\n", trap_names[k], (unsigned long long)traps[k]);
	fprintf(out, "  paging\n");
	for (unsigned k = 0; k < STATS_PAGING_KIND_COUNT; k++)
		fprintf(out, "    %-30s %llu\n", paging_names[k], (unsigned long long)paging[k]);
	if (emulations[0].mnemonic)
		fprintf(out, "  emulated instructions\n");
	for (unsigned i = 0; i < MAX_MNEMONICS && emulations[i].mnemonic; i++)
		fprintf(out, "    %-30s %llu\n", emulations[i].mnemonic,
		        (unsigned long long)emulations[i].count);
	fprintf(out, "  interrupts delivered             %llu\n", (unsigned long long)all_interrupts);
	for (unsigned v = 0; v < 256; v++)
		if (interrupts[v])
			fprintf(out, "    vector %-23u %llu\n", v, (unsigned long long)interrupts[v]);
}
