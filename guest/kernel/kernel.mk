# The reference kernel: build/guest/kernel.elf from guest/kernel/*.{c,S}, linked with the
# guest SDK (build/guest/libvmiguest.a) and libgcc. Included by the top-level Makefile.

KERNEL_DIR  := guest/kernel
KERNEL_ELF  := $(BUILD)/guest/kernel.elf
KERNEL_OBJS := $(patsubst $(KERNEL_DIR)/%.c,$(BUILD)/$(KERNEL_DIR)/%.o,$(wildcard $(KERNEL_DIR)/*.c)) \
               $(patsubst $(KERNEL_DIR)/%.S,$(BUILD)/$(KERNEL_DIR)/%.o,$(wildcard $(KERNEL_DIR)/*.S))
$(BUILD)/$(KERNEL_DIR)/%.o: GUEST_CFLAGS += -Iguest/vmiguest

$(KERNEL_ELF): $(KERNEL_OBJS) $(BUILD)/guest/libvmiguest.a $(KERNEL_DIR)/kernel.ld
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_LDFLAGS) -Wl,--no-warn-rwx-segments -T $(KERNEL_DIR)/kernel.ld -o $@ $(KERNEL_OBJS) \
		$(BUILD)/guest/libvmiguest.a $(GUEST_LIBS)

all: $(KERNEL_ELF)
