/* The guest's built-in native ROM (native_rom.S): a complete VMI ROM image, laid out like a
 * hypervisor's, whose code is the real instructions; what a guest uses when it finds no ROM. */
#ifndef VMIGUEST_NATIVE_ROM_H
#define VMIGUEST_NATIVE_ROM_H

/* The image's first byte (the option-ROM header), 2 KiB aligned; its length byte gives the
 * size. Its link records hold absolute addresses inside it, relocated with the kernel. The
 * checksum is not kept: relocation changes the bytes. */
extern const unsigned char vmi_native_rom[];

#endif
