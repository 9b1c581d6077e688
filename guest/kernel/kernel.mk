# The reference kernel: build/guest/kernel.elf from guest/kernel/*.{c,S}, linked with the
# guest SDK (build/guest/libvmiguest.a) and libgcc. Included by the top-level Makefile.

KERNEL_DIR  := guest/kernel
KERNEL_ELF  := $(BUILD)/guest/kernel.elf
KERNEL_LD   := $(BUILD)/guest/kernel.ld
KERNEL_OBJS := $(patsubst $(KERNEL_DIR)/%.c,$(BUILD)/$(KERNEL_DIR)/%.o,$(wildcard $(KERNEL_DIR)/*.c)) \
               $(patsubst $(KERNEL_DIR)/%.S,$(BUILD)/$(KERNEL_DIR)/%.o,\
                   $(filter-out $(KERNEL_DIR)/kernel.ld.S,$(wildcard $(KERNEL_DIR)/*.S)))
$(BUILD)/$(KERNEL_DIR)/%.o: GUEST_CFLAGS += -Iguest/vmiguest

# The linker script takes KERNEL_BASE from kernel.h.
$(KERNEL_LD): $(KERNEL_DIR)/kernel.ld.S $(KERNEL_DIR)/kernel.h
	@mkdir -p $(dir $@)
	$(CC) -E -P -x c -D__ASSEMBLER__ -Iinclude -Iguest/vmiguest -o $@ $<

$(KERNEL_ELF): $(KERNEL_OBJS) $(BUILD)/guest/libvmiguest.a $(KERNEL_LD)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_LDFLAGS) -Wl,--no-warn-rwx-segments -T $(KERNEL_LD) -o $@ $(KERNEL_OBJS) \
		$(BUILD)/guest/libvmiguest.a $(GUEST_LIBS)

all: $(KERNEL_ELF)
