/* The guest's side of the process address space: guest-physical memory as one memfd, the
 * monitor's view of it, the low 4 GiB reserved for the guest's linear addresses (identical
 * to the physical ones until it pages), and vmirun's window at its top. */
#ifndef VMM_PLATFORM_PROCESS_ADDRESS_SPACE_H
#define VMM_PLATFORM_PROCESS_ADDRESS_SPACE_H

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

/* platform.h's guest memory, on this platform: platform_guest_unpaged reaches, before the
 * guest pages, RAM, low memory from 64 KiB (a process cannot map below) and the ROM (read
 * only); platform_guest_physical reaches, once it pages, the first 64 KiB too (only the
 * guest's linear addresses could not be there, not its page tables), and the ROM area (the
 * ROM and the zeros after it up to 1 MiB, where a PC has its other ROMs) for reading. */

/* For host-side tests, which cannot have the low 4 GiB (ASan keeps its shadow there): guest
 * physical address A is `guest_zero_host` + A, where the caller has made low memory (from
 * physical 0) and `ram_bytes` of RAM from 1 MiB writable and the ROM area (VMI_ROM_BASE to
 * 1 MiB; the ROM is its first `rom_bytes`) readable. Maps nothing; vmirun never calls it. */
void address_space_use_memory(void *guest_zero_host, uint64_t ram_bytes, uint32_t rom_bytes);

/* The memfd of guest memory (for the sandbox, which allows mapping it and nothing else). */
int address_space_ram_fd(void);

#endif
