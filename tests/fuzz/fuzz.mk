# libFuzzer targets, included by tests/tests.mk; each runs on tests/fuzz/seeds/<target>/.

# The kernel loader: kernel_image_parse/load and boot_info_build on untrusted input.
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_loader
$(BUILD)/fuzz/fuzz_loader: tests/fuzz/fuzz_loader.c vmm/loader/kernel_image.c vmm/loader/boot_info.c \
                           vmm/loader/kernel_image.h vmm/loader/boot_info.h \
                           include/vmi/multiboot.h include/vmi/process.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# ROM images: vmirom's parser and verifier (rom_check.c, rom_image.c, rom_verify.c) on
# untrusted bytes.
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_rom
$(BUILD)/fuzz/fuzz_rom: tests/fuzz/fuzz_rom.c guest/vmiguest/rom_check.c tools/rom_image.c \
                        tools/rom_verify.c guest/vmiguest/rom_check.h tools/rom_image.h \
                        tools/rom_verify.h include/vmi/rom.h include/vmi/link.h \
                        include/vmi/calls.h include/vmi/call_names.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lcapstone
