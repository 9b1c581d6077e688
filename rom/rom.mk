# ROM images: the process platform's ROM (embedded in vmirun) and a flat copy of the guest
# SDK's native ROM, each linked at VMI_ROM_BASE, sealed by rom_seal and checked by
# `vmirom verify`, so a malformed image fails the build.

PROCESS_ROM_IMAGE := $(BUILD)/rom/process_rom.bin
NATIVE_ROM_IMAGE  := $(BUILD)/rom/native_rom.bin
ROM_SEAL          := $(BUILD)/rom/rom_seal
ROM_LD            := $(BUILD)/rom/rom.ld
all: $(PROCESS_ROM_IMAGE) $(NATIVE_ROM_IMAGE)

$(ROM_SEAL): rom/rom_seal.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $<

$(ROM_LD): rom/rom.ld.S
	@mkdir -p $(dir $@)
	$(CC) -E -P -x c -D__ASSEMBLER__ -Iinclude -o $@ $<

# process_rom.o: the top-level Makefile's rule compiles it; named here so that make keeps it
# (unnamed, it would be an intermediate of the .bin and deleted).
$(BUILD)/rom/process_rom.o: rom/process_rom.S

# native_rom.o: the same source the guest SDK links into guests; here only for the flat image.
# Like the SDK's copy, it finds rom_layout.inc through -Irom.
$(BUILD)/rom/native_rom.o: guest/vmiguest/native_rom.S
	$(compile_object)
$(BUILD)/rom/native_rom.o: GUEST_CFLAGS += -Irom

$(BUILD)/rom/%.elf: $(BUILD)/rom/%.o $(ROM_LD)
	$(CC) $(GUEST_LDFLAGS) -T $(ROM_LD) -o $@ $<

$(BUILD)/rom/%.flat: $(BUILD)/rom/%.elf
	objcopy -O binary -j .rom $< $@

# .DELETE_ON_ERROR removes an image that vmirom refuses.
$(BUILD)/rom/%.bin: $(BUILD)/rom/%.flat $(ROM_SEAL) $(BUILD)/vmirom
	$(ROM_SEAL) $< $@
	$(BUILD)/vmirom verify $@

# Keep the linked and flat intermediates for inspection (objdump, cmp).
.PRECIOUS: $(BUILD)/rom/%.elf $(BUILD)/rom/%.flat
