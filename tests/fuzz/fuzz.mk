# libFuzzer targets, included by tests/tests.mk; each runs on tests/fuzz/seeds/<target>/.

# The kernel loader: kernel_image_parse/load and boot_info_build on untrusted input.
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_loader
$(BUILD)/fuzz/fuzz_loader: tests/fuzz/fuzz_loader.c vmm/loader/kernel_image.c vmm/loader/boot_info.c \
                           vmm/loader/kernel_image.h vmm/loader/boot_info.h tests/fuzz/fuzz_checks.h \
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

# The monitor's guest-facing code: the hypercall dispatcher and the instruction emulator with
# what they reach, over guest memory the target lends address_space.c. It links all of
# vmirun's code but main.c and the embedded ROM image, so what the monitor calls is the real
# thing; the platform's stop requests and its host mappings are wrapped (see fuzz_monitor.c).
FUZZ_MONITOR_SRCS := $(filter-out vmm/rom.c,$(VMM_LIB_SRCS)) \
                     $(filter-out vmm/rom_embedded.S,$(VMM_ASM_SRCS))
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_monitor
$(BUILD)/fuzz/fuzz_monitor: tests/fuzz/fuzz_monitor.c $(FUZZ_MONITOR_SRCS) \
                            $(shell find vmm -name '*.h') $(wildcard include/vmi/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c %.S,$^) \
		-Wl,--wrap=platform_request_stop,--wrap=platform_request_exit_port_stop \
		-Wl,--wrap=platform_stop_requested \
		-Wl,--wrap=platform_map_linear,--wrap=platform_unmap_linear

# The Linux loader: linux_image_parse/load, linux_initrd_place and linux_boot_params_build
# on untrusted input (vmm/loader/linux_boot.c, with the ELF side it shares with multiboot).
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_linux_boot
$(BUILD)/fuzz/fuzz_linux_boot: tests/fuzz/fuzz_linux_boot.c vmm/loader/linux_boot.c \
                               vmm/loader/kernel_image.c vmm/loader/linux_boot.h \
                               vmm/loader/linux_boot_params.h vmm/loader/kernel_image.h \
                               include/vmi/multiboot.h include/vmi/process.h tests/fuzz/fuzz_checks.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)
