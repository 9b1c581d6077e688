/* The i386 page walk (2-level, 4 KiB and 4 MiB pages), as the MMU does it: translation,
 * the #PF error code when it fails, and the A and D bits it sets when it succeeds. Pure:
 * guest-physical memory is reached through the two functions it is given. */
#ifndef VMM_MONITOR_PAGE_WALK_H
#define VMM_MONITOR_PAGE_WALK_H

#include <stdint.h>

struct page_walk_memory {
	/* 0, or -1 if the guest-physical word is not guest memory. */
	int (*read32)(void *context, uint32_t physical, uint32_t *value);
	/* Sets bits in a word, atomically where the guest may run alongside; 0 or -1. */
	int (*or32)(void *context, uint32_t physical, uint32_t bits);
	void *context;
};

/* What the access is. */
#define PAGE_WALK_WRITE 0x1
#define PAGE_WALK_USER  0x2       /* from the guest's ring 3 */

struct page_walk_result {
	uint32_t physical;            /* of the addressed byte */
	uint32_t page_base;           /* linear address of the page, 4 KiB or 4 MiB aligned */
	uint32_t page_size;
	int user;                     /* user mode may use the page (U in both levels) */
	int writable;                 /* this access's privilege may write it */
	int dirty;                    /* D is set (after this walk) */
	int global;
	uint32_t error_code;          /* for PAGE_WALK_FAULT: the #PF error code */
	uint32_t table_entry;         /* the physical address of the last entry read */
};

enum page_walk_status {
	PAGE_WALK_OK = 0,
	PAGE_WALK_FAULT = 1,          /* a #PF, with result->error_code */
	PAGE_WALK_BAD_TABLE = -1,     /* a table or entry outside guest memory */
	PAGE_WALK_ABOVE_4G = -2,      /* a 4 MiB page whose PSE-36 bits put it above 4 GiB */
};

/* Translates `linear` for `access` (PAGE_WALK_*) under CR0 (WP), CR3 and CR4 (PSE); on
 * success sets A in every entry used, and D in the last one for a write. */
enum page_walk_status page_walk(const struct page_walk_memory *memory, uint32_t cr0,
                                uint32_t cr3, uint32_t cr4, uint32_t linear, unsigned access,
                                struct page_walk_result *result);

#endif
