/* The guest's side of the process address space: the low 4 GiB reserved for it, guest RAM
 * backed by a memfd so that guest address A is process address A, and vmirun's window. */
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

/* The host pointer for guest address `addr`, if [addr, addr+len) is all guest memory the
 * guest may read (RAM, low memory, the ROM); NULL otherwise. */
const void *address_space_guest_readable(uint32_t addr, uint32_t len);

/* The same for memory the guest may write (RAM and low memory only). */
void *address_space_guest_writable(uint32_t addr, uint32_t len);

uint64_t address_space_ram_bytes(void);

/* For host-side tests, which cannot have the low 4 GiB (ASan keeps its shadow there): guest
 * address A is `guest_zero_host` + A, where the caller has made low memory and `ram_bytes`
 * of RAM from 1 MiB writable and `rom_bytes` at VMI_ROM_BASE readable. Maps nothing; vmirun
 * never calls it. */
void address_space_use_memory(void *guest_zero_host, uint64_t ram_bytes, uint32_t rom_bytes);

#endif
