# libFuzzer targets, included by tests/tests.mk; each runs on tests/fuzz/seeds/<target>/.

# The kernel loader: kernel_image_parse/load and boot_info_build on untrusted input.
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_loader
$(BUILD)/fuzz/fuzz_loader: tests/fuzz/fuzz_loader.c vmm/loader/kernel_image.c vmm/loader/boot_info.c \
                           vmm/loader/kernel_image.h vmm/loader/boot_info.h \
                           include/vmi/multiboot.h include/vmi/process.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)
