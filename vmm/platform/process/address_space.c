/* Lays out the low 4 GiB of the vmirun process for the guest. Nothing of the host may land
 * there, so the whole range is reserved first and the guest's parts are mapped over it.
 * Guest-physical memory is one memfd (file offset = physical address: low memory, the ROM,
 * RAM); the monitor reaches it through a view of its own above 4 GiB, and the low 4 GiB
 * holds the guest's linear addresses, which are the physical ones until the guest pages
 * (then the host mappings there are its TLB: platform_map_linear and _unmap_linear). This
 * file implements the guest-memory part of platform.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmi/pc.h>
#include <vmi/process.h>
#include "platform/process/address_space.h"
#include "platform/process/user_driver.h"
#include "platform.h"

#define PAGE_SIZE      4096u
#define FOUR_GIB       0x100000000ull
#define ROM_AREA_END   0x00100000u

static uint64_t ram_size;
static uint32_t rom_base, rom_size;
static uint32_t low_ram_end_mapped;
/* Where guest-physical address 0 lies in the process: vmirun's view above 4 GiB; host-side
 * tests lend memory elsewhere (address_space_use_memory). */
static uintptr_t guest_zero;
static int ram_fd = -1;   /* the memfd, kept for the guest's TLB fills */

uint64_t address_space_max_ram(void)
{
	return (uint64_t)VMI_PROCESS_WINDOW_BASE - VMI_PROCESS_RAM_BASE;
}

uint64_t platform_guest_ram_bytes(void)
{
	return ram_size;
}

static int fail(char error[ADDRESS_SPACE_ERROR_MAX], const char *what)
{
	snprintf(error, ADDRESS_SPACE_ERROR_MAX, "%s: %s", what, strerror(errno));
	return -1;
}

static int map_fixed(uint64_t addr, uint64_t len, int prot, int fd, uint64_t offset)
{
	void *p = mmap((void *)(uintptr_t)addr, len, prot, MAP_SHARED | MAP_FIXED, fd,
	               (off_t)offset);
	return p == MAP_FAILED ? -1 : 0;
}

int address_space_create(uint64_t ram_bytes, char error[ADDRESS_SPACE_ERROR_MAX])
{
	/* A process cannot map below mmap_min_addr; 64 KiB covers every usual setting. */
	const uint64_t reserve_base = VMI_PROCESS_LOW_RAM_BASE;
	void *reserved = mmap((void *)(uintptr_t)reserve_base, FOUR_GIB - reserve_base, PROT_NONE,
	                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
	                      -1, 0);
	if (reserved == MAP_FAILED)
		return fail(error, "cannot reserve the low 4 GiB of the process for the guest");
	if ((uintptr_t)reserved != reserve_base) {
		errno = EEXIST;
		return fail(error, "cannot reserve the low 4 GiB of the process for the guest");
	}

	/* File offset = guest address, so one memfd backs low memory, the ROM and RAM. */
	int fd = memfd_create("vmirun-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return fail(error, "memfd_create for guest RAM");
	const uint64_t file_size = VMI_PROCESS_RAM_BASE + ram_bytes;
	if (ftruncate(fd, (off_t)file_size) != 0) {
		close(fd);
		return fail(error, "cannot size guest RAM");
	}
	const int rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
	low_ram_end_mapped = (VMI_PROCESS_LOW_RAM_END + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (map_fixed(VMI_PROCESS_LOW_RAM_BASE, low_ram_end_mapped - VMI_PROCESS_LOW_RAM_BASE,
	              rwx, fd, VMI_PROCESS_LOW_RAM_BASE) != 0 ||
	    map_fixed(VMI_PROCESS_RAM_BASE, ram_bytes, rwx, fd, VMI_PROCESS_RAM_BASE) != 0) {
		close(fd);
		return fail(error, "cannot map guest RAM");
	}
	/* The low 4 GiB is taken, so the view lands above it. */
	void *view = mmap(NULL, file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (view == MAP_FAILED || (uintptr_t)view < FOUR_GIB) {
		close(fd);
		return fail(error, "cannot map the monitor's view of guest memory");
	}
	guest_zero = (uintptr_t)view;
	ram_fd = fd;
	ram_size = ram_bytes;

	return 0;
}

int address_space_map_rom(uint32_t base, const void *image, size_t size,
                          char error[ADDRESS_SPACE_ERROR_MAX])
{
	uint32_t mapped = (uint32_t)((size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1));
	/* In the memfd, so that a guest page table can map the ROM's frames wherever the
	 * kernel wants them; the guest never gets a writable mapping of them. */
	uint8_t *in_view = (uint8_t *)(guest_zero + base);
	memset(in_view, 0, mapped);
	if (image)
		memcpy(in_view, image, size); /* else zero-filled: an empty ROM area */
	if (map_fixed(base, mapped, PROT_READ | PROT_EXEC, ram_fd, base) != 0)
		return fail(error, "cannot map the ROM");
	rom_base = base;
	rom_size = mapped;
	return 0;
}

void address_space_use_memory(void *guest_zero_host, uint64_t ram_bytes, uint32_t rom_bytes)
{
	guest_zero = (uintptr_t)guest_zero_host;
	ram_size = ram_bytes;
	low_ram_end_mapped = (VMI_PROCESS_LOW_RAM_END + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	rom_base = VMI_ROM_BASE;
	rom_size = rom_bytes;
}

static int inside(uint32_t addr, uint32_t len, uint64_t start, uint64_t end)
{
	return addr >= start && (uint64_t)addr + len <= end;
}

void *platform_guest_physical(uint32_t physical, uint32_t len, int write)
{
	if (inside(physical, len, 0, low_ram_end_mapped) ||
	    inside(physical, len, VMI_PROCESS_RAM_BASE, VMI_PROCESS_RAM_BASE + ram_size) ||
	    (!write && rom_size && inside(physical, len, rom_base, VMI_PROCESS_RAM_BASE)))
		return (void *)(guest_zero + physical);
	return NULL;
}

/* Before paging a guest address is also where the guest runs in this process, which cannot
 * map below 64 KiB: RAM and low memory from 64 KiB, and the ROM for reading. */
void *platform_guest_unpaged(uint32_t addr, uint32_t len, int write)
{
	if (inside(addr, len, VMI_PROCESS_LOW_RAM_BASE, low_ram_end_mapped) ||
	    inside(addr, len, VMI_PROCESS_RAM_BASE, VMI_PROCESS_RAM_BASE + ram_size) ||
	    (!write && rom_size && inside(addr, len, rom_base, (uint64_t)rom_base + rom_size)))
		return (void *)(guest_zero + addr);
	return NULL;
}

/* --- the guest's TLB: host mappings of guest-physical pages at linear addresses ---------- */

int platform_map_linear(uint32_t linear, uint32_t physical, uint32_t size, int writable)
{
	int prot = PROT_READ | PROT_EXEC | (writable ? PROT_WRITE : 0);
	if (user_driver_mapping())   /* a user process's, made by its stub */
		return user_driver_queue(linear, physical, size, prot);
	return map_fixed(linear, size, prot, ram_fd, physical);
}

int platform_unmap_linear(uint32_t linear, uint32_t size)
{
	if (user_driver_mapping())
		return user_driver_queue(linear, 0, size, PROT_NONE);
	/* PROT_NONE over it rather than munmap: the low 4 GiB stays reserved for the guest. */
	void *p = mmap((void *)(uintptr_t)linear, size, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	return p == MAP_FAILED ? -1 : 0;
}

int platform_linear_mappable(uint32_t linear, uint32_t size)
{
	return inside(linear, size, VMI_PROCESS_LOW_RAM_BASE, VMI_PROCESS_WINDOW_BASE);
}

int address_space_ram_fd(void)
{
	return ram_fd;
}
