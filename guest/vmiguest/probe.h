/* Finding and linking a ROM: scan the option-ROM area for a VMI ROM, check it, call its Init
 * and fetch every call's link record through its GetRelocationInfo, or fall back to the
 * guest's native ROM. Plain C over a small interface, so host tests can drive it. */
#ifndef VMIGUEST_PROBE_H
#define VMIGUEST_PROBE_H

#include <stdint.h>
#include <vmi/calls.h>
#include <vmi/init.h>
#include <vmi/link.h>
#include <vmi/vcpu_page.h>
#include "rom_check.h"

/* The one step that runs ROM code: calling a stub with the ROM calling convention. The
 * guest calls the stub at `entry` for real; host tests answer from the image's bytes. */
struct vmi_rom_calls {
	/* Init: EAX = info; returns EAX (status). */
	uint32_t (*init)(void *context, uint32_t entry, struct vmi_init_info *info);
	/* GetRelocationInfo: EAX = call, EDX = record to fill; returns EAX (the target) and
	 * stores EDX (the link type) in *type. */
	uint32_t (*get_relocation_info)(void *context, uint32_t entry, uint32_t call,
	                                struct vmi_link_record *record, uint32_t *type);
	void *context;
};

/* The memory the probe reads. */
struct vmi_probe_memory {
	const uint8_t *scan;          /* readable bytes standing for scan_address */
	uint32_t scan_address;        /* VMI_ROM_BASE in a guest, plus its physical_base */
	uint32_t scan_size;           /* VMI_ROM_SCAN_END - VMI_ROM_BASE in a guest */
	/* The built-in native ROM: part of the kernel image, so trusted as it is (it is not
	 * sealed: linked into a kernel, its relocated addresses change the checksum). */
	const uint8_t *native;
	uint32_t native_address;
	uint32_t native_size;
};

struct vmi_probe_result {
	int native;                   /* 1: linked to the native ROM */
	uint32_t rom_address;         /* the ROM linked to */
	uint32_t rom_size;
	uint8_t api_major, api_minor;
	int rejected;                 /* 1: a VMI ROM was found and refused */
	uint32_t rejected_address;
	enum vmi_rom_status rejected_status;  /* why (VMI_ROM_OK: its Init failed) */
	uint32_t rejected_major;      /* its major, for VMI_ROM_UNKNOWN_MAJOR */
	uint32_t rejected_init;       /* its Init's nonzero status */
	int native_failed;            /* 1: the native ROM's Init failed too */
	uint32_t init_status;         /* EAX from the linked ROM's Init */
	struct vmi_init_info info;    /* as Init filled it (zeros if it failed) */
	unsigned bad_records;         /* records refused by vmi_link_record_check */
	char message[200];            /* one log line, without "\n" */
};

/* Where the probe looks, for a guest that reaches physical memory at linear
 * `physical_base + physical` (0: identity): the option-ROM area there. */
void vmi_probe_scan_area(uint32_t physical_base, struct vmi_probe_memory *memory);

/* The address `image` (size bytes, found at `address`) was linked for: its ELF header's
 * e_entry less the Init stub's offset; `address` itself when it has no ELF header. A
 * record's target names the ROM as linked there; the probe moves it by the same distance
 * the ROM was moved, so a ROM reached through an alias (a kernel's linear map) is linked
 * where it is called. */
uint32_t vmi_rom_link_address(const uint8_t *image, uint32_t size, uint32_t address);

/* Probes and fills `records` (VMI_CALL_COUNT of them: a refused record becomes a CALL_REL
 * to the call's stub; calls below VMI_CALL_FIRST are NONE). Returns 0, or -1 when even the
 * native ROM's Init fails (then every record is NONE: sites stay table calls). */
int vmi_probe(const struct vmi_probe_memory *memory, const struct vmi_rom_calls *calls,
              struct vmi_link_record records[VMI_CALL_COUNT], struct vmi_probe_result *result);

#endif
