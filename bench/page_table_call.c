/* The monitor's share of a page-table call that changes a present entry, timed on the host
 * without a guest (like hypercall_path.c, so it runs on PVM hosts too): how it grows with
 * the address spaces vmirun keeps, each of which must be told of the change. Host mappings
 * are counted, not made (--wrap, see bench.mk). Median of 21 runs, TSC cycles per call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

#include <vmi/mmu.h>
#include <vmi/process.h>
#include "median.h"
#include "monitor/mmu.h"
#include "monitor/mmu_calls.h"
#include "monitor/virtual_cpu.h"
#include "platform/process/address_space.h"

#define RUNS          21
#define CALLS         20000
#define RAM_BYTES     (64u << 20)
#define SPACES_MAX    8
#define DIRECTORIES   0x00100000u          /* one page directory per address space */
#define TABLES        0x00200000u          /* TABLES_EACH page tables per address space */
#define TABLES_EACH   64u
#define FIRST_REGION  256u                 /* each table maps the 4 MiB slot 256 + k */
#define FRAMES        0x01000000u
#define CHANGED_TABLE 0x00800000u          /* a table no address space maps through */
#define IDENTITY_SLOTS 16u                 /* 64 MiB of 4 MiB pages: the tables' linear map */
#define RW            (VMI_PTE_PRESENT | VMI_PTE_WRITABLE)

/* The platform, played: `spaces` address spaces, this process maps for `running`. */
static unsigned spaces = 1, running;
static uint64_t host_calls;

int __wrap_platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size, int writable);
int __wrap_platform_unmap_linear(uint32_t linear, uint32_t size);
unsigned __wrap_platform_address_space_count(void);
unsigned __wrap_platform_mapping_address_space(void);
int __wrap_platform_switch_address_space(unsigned id);

int __wrap_platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size, int writable)
{
	(void)linear, (void)physical, (void)size, (void)writable;
	host_calls++;
	return 0;
}

int __wrap_platform_unmap_linear(uint32_t linear, uint32_t size)
{
	(void)linear, (void)size;
	host_calls++;
	return 0;
}

unsigned __wrap_platform_address_space_count(void) { return spaces; }
unsigned __wrap_platform_mapping_address_space(void) { return running; }
int __wrap_platform_switch_address_space(unsigned id)
{
	running = id;
	return 0;
}

static uint8_t *memory;

static uint32_t *word(uint32_t physical) { return (uint32_t *)(memory + physical); }

/* Address space `id`: its directory maps the tables' RAM with large pages and slots 256..
 * through tables of its own, each with one page, which a fault maps (so vmirun keeps track
 * of TABLES_EACH tables per address space). */
static void fill_address_space(unsigned id)
{
	uint32_t directory = DIRECTORIES + id * 4096;
	for (uint32_t slot = 0; slot < IDENTITY_SLOTS; slot++)
		*word(directory + slot * 4) = slot << 22 | RW | VMI_PTE_LARGE | VMI_PTE_ACCESSED;
	for (uint32_t k = 0; k < TABLES_EACH; k++) {
		uint32_t table = TABLES + (id * TABLES_EACH + k) * 4096;
		*word(directory + (FIRST_REGION + k) * 4) = table | RW | VMI_PTE_ACCESSED;
		*word(table) = (FRAMES + k * 4096) | RW | VMI_PTE_ACCESSED | VMI_PTE_DIRTY;
	}
	virtual_cpu.cr3 = directory;
	mmu_cr3_loaded();
	monitor_address_space_entered(running);
	char reason[MMU_REASON_MAX];
	uint32_t error;
	for (uint32_t k = 0; k < TABLES_EACH; k++)
		if (mmu_host_fault((FIRST_REGION + k) << 22, 0, 0, &error, reason) != MMU_FILLED) {
			fprintf(stderr, "bench-page_table_call: fault not filled: %s\n", reason);
			exit(1);
		}
}

/* SetPxE alternating one present entry of CHANGED_TABLE between two frames. */
static double cycles_per_change(void)
{
	double runs[RUNS];
	uint32_t entry = CHANGED_TABLE;   /* identity-mapped: its linear address is physical */
	for (int r = 0; r < RUNS; r++) {
		uint64_t start = __rdtsc();
		for (int i = 0; i < CALLS; i++)
			mmu_call_set_pxe((FRAMES + (uint32_t)(i & 1) * 4096) | RW, entry, VMI_PAGE_PT);
		runs[r] = (double)(__rdtsc() - start) / CALLS;
	}
	return median_of_runs(runs, RUNS);
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "Usage: bench-page_table_call (no arguments)\n");
		return 2;
	}
	memory = calloc(1, VMI_PROCESS_RAM_BASE + RAM_BYTES);
	if (!memory) {
		fprintf(stderr, "bench-page_table_call: out of memory\n");
		return 1;
	}
	address_space_use_memory(memory, RAM_BYTES, 0x4000);
	printf("| address spaces kept | cycles per SetPxE changing a present entry of a table "
	       "none maps through (median of %d x %d) | host calls |\n", RUNS, CALLS);
	printf("|---|---|---|\n");
	static const unsigned counts[] = { 1, 2, 8 };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		virtual_cpu_reset_state();
		spaces = counts[i];
		running = 0;
		mmu_reset();
		uint32_t old_cr4 = virtual_cpu.cr4, old_cr0 = virtual_cpu.cr0;
		virtual_cpu.cr4 |= VMI_CR4_PSE;
		virtual_cpu.cr0 |= VMI_CR0_PG;
		virtual_cpu.cr3 = DIRECTORIES;
		mmu_control_registers_written(old_cr0, old_cr4);
		for (unsigned id = spaces; id-- > 0;)   /* ends in address space 0 */
			fill_address_space(id);
		host_calls = 0;
		double cycles = cycles_per_change();
		printf("| %u | %.1f | %llu |\n", spaces, cycles, (unsigned long long)host_calls);
	}
	free(memory);
	return 0;
}
