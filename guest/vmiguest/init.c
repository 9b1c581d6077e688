/* vmi_guest_init: the guest-only part of linking (i386): calling ROM stubs for real, reading
 * the option-ROM area, patching this kernel's sites, serializing, and the boot log. */
#include <vmi/init.h>
#include <vmi/pc.h>
#include <vmi/rom.h>
#include "native_rom.h"
#include "text.h"
#include "vmiguest.h"

/* Defined by the kernel's linker script (vmi_sites.ld); weak, so a kernel that passes its
 * own bounds, or has no sites, still links. */
extern const struct vmi_site __vmi_sites_start[] __attribute__((weak));
extern const struct vmi_site __vmi_sites_end[] __attribute__((weak));

/* --- calling a ROM's stubs (regparm(3); the ROM preserves all but its results, but ECX
 * and EDX are declared changed anyway: this runs before we trust the ROM's records) --- */

static uint32_t call_rom_init(void *context, uint32_t entry, struct vmi_init_info *info)
{
	(void)context;
	uint32_t eax = (uint32_t)(uintptr_t)info;
	__asm__ __volatile__("call *%[entry]"
	                     : "+a"(eax) : [entry] "r"(entry) : "ecx", "edx", "cc", "memory");
	return eax;
}

static uint32_t call_rom_get_relocation_info(void *context, uint32_t entry, uint32_t call,
                                             struct vmi_link_record *record, uint32_t *type)
{
	(void)context;
	uint32_t eax = call;
	uint32_t edx = (uint32_t)(uintptr_t)record;
	__asm__ __volatile__("call *%[entry]"
	                     : "+a"(eax), "+d"(edx) : [entry] "r"(entry) : "ecx", "cc", "memory");
	*type = edx;
	return eax;
}

/* After rewriting code, make sure no stale prefetched bytes run: `iret` to the next
 * instruction. IRET is architecturally serializing, unprivileged, and returns at the same
 * privilege with the same CS and EFLAGS (ring 0 on a PC, ring 3 under vmirun), touching no
 * register. CPUID would serialize too, but it clobbers four registers and a hypervisor may
 * trap it (CPUID faulting); a far jump is not serializing. */
static void serialize_after_patching(void)
{
	__asm__ __volatile__("pushfl\n\t"
	                     "pushl %%cs\n\t"
	                     "pushl $1f\n\t"
	                     "iretl\n"
	                     "1:"
	                     : : : "memory");
}

/* --- the log ------------------------------------------------------------------------------ */

static void print_line(const struct vmi_guest_config *config, struct vmi_text *text)
{
	vmi_text_add(text, "\n");
	if (config->print)
		config->print(text->buffer);
}

static void log_report(const struct vmi_guest_config *config,
                       const struct vmi_guest_report *report)
{
	char buffer[240];
	struct vmi_text text;

	vmi_text_init(&text, buffer, sizeof(buffer));
	vmi_text_add(&text, report->probe.message);
	print_line(config, &text);

	if (report->link.unknown) {
		vmi_text_init(&text, buffer, sizeof(buffer));
		vmi_text_add(&text, "vmi: unknown vmi.link=");
		vmi_text_add_span(&text, report->link.value, report->link.value_length);
		vmi_text_add(&text, "; using inline (known: inline, call, indirect)");
		print_line(config, &text);
	}

	const struct vmi_patch_counts *counts = &report->patch.counts;
	vmi_text_init(&text, buffer, sizeof(buffer));
	vmi_text_add(&text, "vmi: ");
	vmi_text_add_decimal(&text, report->sites);
	vmi_text_add(&text, " sites, link=");
	vmi_text_add(&text, vmi_link_mode_name(report->link.mode));
	vmi_text_add(&text, ": inlined=");
	vmi_text_add_decimal(&text, counts->inlined);
	vmi_text_add(&text, " called=");
	vmi_text_add_decimal(&text, counts->called);
	vmi_text_add(&text, " nop=");
	vmi_text_add_decimal(&text, counts->nopped);
	vmi_text_add(&text, " table=");
	vmi_text_add_decimal(&text, counts->table);
	vmi_text_add(&text, " refused=");
	vmi_text_add_decimal(&text, counts->refused);
	if (report->sites == 0)
		vmi_text_add(&text, " (no .vmi_sites records: does the linker script keep them?)");
	print_line(config, &text);

	if (report->patch.clobber_conflicts) {
		vmi_text_init(&text, buffer, sizeof(buffer));
		vmi_text_add(&text, "vmi: warning: ");
		vmi_text_add_decimal(&text, report->patch.clobber_conflicts);
		vmi_text_add(&text, " sites call ROM stubs that change registers the site keeps");
		print_line(config, &text);
	}

	for (unsigned i = 0; i < report->patch.refusals_kept; i++) {
		const struct vmi_patch_refusal_note *note = &report->patch.refusals[i];
		vmi_text_init(&text, buffer, sizeof(buffer));
		vmi_text_add(&text, "vmi: refused the site at ");
		vmi_text_add_hex(&text, note->address);
		vmi_text_add(&text, " (call ");
		vmi_text_add_decimal(&text, note->call);
		vmi_text_add(&text, "): ");
		vmi_text_add(&text, vmi_refusal_text((enum vmi_refusal)note->reason));
		print_line(config, &text);
	}
	if (counts->refused > report->patch.refusals_kept) {
		vmi_text_init(&text, buffer, sizeof(buffer));
		vmi_text_add(&text, "vmi: and ");
		vmi_text_add_decimal(&text, counts->refused - report->patch.refusals_kept);
		vmi_text_add(&text, " more sites refused");
		print_line(config, &text);
	}
}

/* --- init ---------------------------------------------------------------------------------- */

static struct vmi_link_record link_records[VMI_CALL_COUNT];
static struct vmi_guest_report guest_report;
static int linked;

const struct vmi_guest_report *vmi_guest_init(const struct vmi_guest_config *config)
{
	struct vmi_guest_report *report = &guest_report;
	if (linked) {
		/* The sites no longer hold what the SDK emitted: patching again would refuse them
		 * all, and a changed table under running code helps nobody. */
		report->repeated = 1;
		return report;
	}
	linked = 1;

	vmi_link_option_parse(config->cmdline, &report->link);

	const struct vmi_rom_calls rom_calls = {
		.init = call_rom_init,
		.get_relocation_info = call_rom_get_relocation_info,
		.context = 0,
	};
	struct vmi_probe_memory memory = {
		.native = vmi_native_rom,
		.native_address = (uint32_t)(uintptr_t)vmi_native_rom,
		/* Our own image: its length byte is as trustworthy as the rest of the kernel. */
		.native_size = (uint32_t)vmi_native_rom[VMI_ROM_HDR_LENGTH] * VMI_ROM_LENGTH_UNIT,
	};
	/* The option-ROM area where this kernel maps physical memory: the ROM is found,
	 * linked and called there. */
	vmi_probe_scan_area(config->physical_base, &memory);
	vmi_probe(&memory, &rom_calls, link_records, &report->probe);
	report->native = report->probe.native;
	report->rom_address = report->probe.rom_address;
	report->api_major = report->probe.api_major;
	report->api_minor = report->probe.api_minor;
	report->info = report->probe.info;
	report->platform = report->probe.info.platform;

	const struct vmi_site *sites = config->sites;
	const struct vmi_site *sites_end = config->sites_end;
	if (sites == 0) {
		sites = __vmi_sites_start;
		sites_end = __vmi_sites_end;
	}
	report->sites = (sites && sites_end > sites) ? (unsigned)(sites_end - sites) : 0;

	const struct vmi_patch_env env = {
		.mode = report->link.mode,
		.table_address = (uint32_t)(uintptr_t)vmi_link_table,
		.rom_address = report->rom_address,
		.records = link_records,
	};
	/* The table first, in every mode: a site left as a table call (NONE, refused, or in
	 * code the patcher never saw) must still reach the ROM linked to. */
	vmi_link_table_fill(&env, vmi_link_table);
	vmi_patch_sites(&env, sites, report->sites, 0, &report->patch);
	serialize_after_patching();

	/* Only now: the kernel's print may itself go through sites. */
	log_report(config, report);
	return report;
}
