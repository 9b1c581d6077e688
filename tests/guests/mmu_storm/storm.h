/* What the mmu_storm guest's files share: the linear space it plays in, its tables and what
 * it expects of them (tables.c), randomness and reporting (main.c), the operations
 * (operations.c). */
#ifndef TEST_GUESTS_MMU_STORM_H
#define TEST_GUESTS_MMU_STORM_H

#include <stdint.h>

#include <vmi/mmu.h>
#include <vmi/process.h>

#define PAGE_BYTES            (~VMI_PTE_FRAME_MASK + 1u)    /* 4 KiB */
#define TABLE_ENTRIES         1024u                         /* in a page table or directory */
#define SLOT_BYTES            (TABLE_ENTRIES * PAGE_BYTES)  /* what a directory entry maps */

/* Directory entries ("slots"): from 0 the identity map of the storm's own memory, the same in
 * every directory and never changed; the playground, random mappings the storm touches and
 * checks; the hostile slots above it, written with anything and never touched. The last slot
 * holds vmirun's window and stays empty, so an entry pointer there is never guest memory. */
#define PLAYGROUND_FIRST_SLOT 256u                          /* 0x40000000 */
#define PLAYGROUND_SLOTS      128u                          /* up to 0x5FFFFFFF */
#define PLAYGROUND_BASE       (PLAYGROUND_FIRST_SLOT * SLOT_BYTES)
#define PLAYGROUND_PAGES      (PLAYGROUND_SLOTS * TABLE_ENTRIES)
#define HOSTILE_FIRST_SLOT    (PLAYGROUND_FIRST_SLOT + PLAYGROUND_SLOTS)
#define WINDOW_SLOT           (VMI_PROCESS_WINDOW_BASE / SLOT_BYTES)

/* The storm's tables: three page directories (tables[0..2], CR3 switches between them) and
 * eight page tables; and the data frames most mappings point at, the only frames it writes
 * through the playground. They live past the storm's image (storm_memory_reset). */
#define DIRECTORIES           3u
#define PAGE_TABLES           8u
#define TABLES                (DIRECTORIES + PAGE_TABLES)
#define DATA_FRAMES           64u

extern volatile uint32_t (*tables)[TABLE_ENTRIES];
extern volatile uint32_t (*data_frames)[TABLE_ENTRIES];
/* What the storm wrote in each entry of its tables, as far as it knows: the MMU may only have
 * added A or D to a present entry since (absorb_entry adopts them). */
extern uint32_t (*expected)[TABLE_ENTRIES];
extern unsigned loaded_directory;

/* --- the machine (main.c) ----------------------------------------------------------------- */

extern int native;                      /* on the SDK's native ROM (QEMU), not vmirun's */
extern uint32_t ram_end;                /* the end of guest RAM, from the boot loader */
extern uint32_t identity_slots;         /* directory entries of the identity map */
extern uint32_t operation_number;
extern int tracing;                     /* trace=N: from operation N on, print every step */

uint32_t random32(void);
uint32_t random_below(uint32_t n);
int one_in(uint32_t n);

void print(const char *text);
void print_hex(uint32_t value);
void print_decimal(uint32_t value);
/* Prints "mmu_storm: FAIL ..." with the seed, the operation and the values, and exits with a
 * nonzero exit-port status. */
_Noreturn void fail(const char *what, uint32_t address, uint32_t expected_value,
                    uint32_t seen_value);
/* When tracing: "mmu_storm: trace N WHAT a b c". */
void trace(const char *what, uint32_t a, uint32_t b, uint32_t c);

/* --- the tables and the TLB as the storm expects them (tables.c) -------------------------- */

uint32_t table_frame(unsigned table);
int table_at(uint32_t frame);           /* the storm table at a physical frame, or -1 */
int data_frame(uint32_t frame);
/* A frame the storm reads through the playground and through its identity map alike. */
int readable_frame(uint32_t frame);

/* Places the tables, the data frames and what the storm knows of them at the first 4 MiB
 * boundary past its image (one large page, which vmirun maps whole: after each flush one host
 * fault refills it, where 4 KiB pages would cost one each) and clears them. */
void storm_memory_reset(void);
/* Compares an entry as seen with what the storm expects (the MMU may have set A or D in a
 * present entry, nothing else) and adopts it; fails with `what` otherwise. */
void absorb_entry(unsigned table, unsigned index, uint32_t seen, const char *what);
/* The entry read from memory and absorbed. */
uint32_t read_entry(unsigned table, unsigned index);

/* The TLB's rules: what may still be translated the old way after an entry changes, until
 * which invalidation. entry_changing goes before expected[][] takes the new value. */
void entry_changing(unsigned table, unsigned index);
void directory_loading(unsigned directory);
void tlb_flushed(int global);
void page_invalidated(uint32_t linear);
/* CR0.WP (supervisor writes obey W) and CR4.PGE (G makes translations global; a change of it
 * drops every translation). Both on at the start. */
void write_protect_set(int on);
void global_pages_set(int on);
int page_settled(unsigned page);        /* no translation of it can be stale */

enum touch_outcome {
	TOUCH_UNKNOWN,                  /* the storm cannot tell, or must not touch */
	TOUCH_FAULTS,                   /* #PF with error_code */
	TOUCH_MAPS,                     /* reaches `frame` */
};
struct expected_touch {
	enum touch_outcome outcome;
	uint32_t error_code;
	uint32_t frame;
	int large;                      /* through a 4 MiB page: the directory entry is the leaf */
	unsigned leaf_table, leaf_index;
};
/* What a supervisor access to playground page `page` must do, by the loaded directory. */
void expect_touch(unsigned page, int write, struct expected_touch *touch);

/* --- the storm (operations.c) ------------------------------------------------------------- */

void build_tables(void);
void random_operation(void);
void touch_playground(void);
void print_counts(void);
extern uint32_t accesses_checked, faults_as_expected;

/* --- the probes (entry.S) ----------------------------------------------------------------- */

uint32_t probe_read(uint32_t linear, const volatile uint32_t *identity, uint32_t *seen);
void probe_write(uint32_t linear, const volatile uint32_t *identity, uint32_t value,
                 uint32_t *seen);
extern volatile uint32_t probe_faults, probe_fault_error;

#endif
