/* The guest's side of the process address space: guest-physical memory as one memfd, the
 * monitor's view of it, the low 4 GiB reserved for the guest's linear addresses (identical
 * to the physical ones until it pages), and vmirun's window at its top. */
#ifndef VMM_ADDRESS_SPACE_H
#define VMM_ADDRESS_SPACE_H

#include <stddef.h>
#include <stdint.h>

#define ADDRESS_SPACE_ERROR_MAX 200

/* Largest guest RAM that fits between 1 MiB and vmirun's window, in bytes. */
uint64_t address_space_max_ram(void);

/* Reserves the low 4 GiB, maps low memory, `ram_bytes` of RAM from 1 MiB and the window.
 * Returns 0, or -1 with a one-line reason. */
int address_space_create(uint64_t ram_bytes, char error[ADDRESS_SPACE_ERROR_MAX]);

/* Maps `size` bytes of `image` (zeros if NULL) read-only and executable at guest address
 * `base` (the ROM area). */
int address_space_map_rom(uint32_t base, const void *image, size_t size,
                          char error[ADDRESS_SPACE_ERROR_MAX]);

/* The monitor's pointer for guest address `addr` while the guest does not page (physical =
 * linear = process address), if [addr, addr+len) is all guest memory the guest may read
 * (RAM, low memory from 64 KiB, the ROM); NULL otherwise. */
const void *address_space_guest_readable(uint32_t addr, uint32_t len);

/* The same for memory the guest may write (RAM and low memory only). */
void *address_space_guest_writable(uint32_t addr, uint32_t len);

/* The monitor's pointer for guest-physical [physical, physical+len) once the guest pages:
 * as above, and also the first 64 KiB, which only the guest's linear addresses below 64 KiB
 * could not reach (a process cannot map there), not its page tables. The ROM area (the ROM
 * and the zeros after it up to 1 MiB, where a PC has its other ROMs) only if not `write`.
 * NULL if not all guest memory. */
void *address_space_physical(uint32_t physical, uint32_t len, int write);

uint64_t address_space_ram_bytes(void);

/* For host-side tests, which cannot have the low 4 GiB (ASan keeps its shadow there): guest
 * physical address A is `guest_zero_host` + A, where the caller has made low memory (from
 * physical 0) and `ram_bytes` of RAM from 1 MiB writable and the ROM area (VMI_ROM_BASE to
 * 1 MiB; the ROM is its first `rom_bytes`) readable. Maps nothing; vmirun never calls it. */
void address_space_use_memory(void *guest_zero_host, uint64_t ram_bytes, uint32_t rom_bytes);

/* The guest's TLB (monitor/mmu.c decides what, these do it): map `size` bytes of guest-
 * physical memory from `physical` at `linear` (read and execute, and write if asked), or
 * drop mappings. Each 0, or -1 (errno). */
int address_space_map_linear(uint32_t linear, uint32_t physical, uint32_t size, int writable);
int address_space_unmap_linear(uint32_t linear, uint32_t size);

/* 1 if [linear, linear+size) may hold guest mappings: above the lowest address a process
 * may map (VMI_PROCESS_LOW_RAM_BASE) and below vmirun's window. */
int address_space_linear_mappable(uint32_t linear, uint32_t size);

/* The memfd of guest memory (for the sandbox, which allows mapping it and nothing else). */
int address_space_ram_fd(void);

#endif
