# Guest SDK: build/guest/libvmiguest.a (i386, freestanding) from guest/vmiguest/*.{c,S}; its
# pure parts (patcher, probe, text) also build for the host, for unit tests and tools.

VMIGUEST_DIR  := guest/vmiguest
VMIGUEST_LIB  := $(BUILD)/guest/libvmiguest.a
VMIGUEST_C_OBJS := $(patsubst $(VMIGUEST_DIR)/%.c,$(BUILD)/$(VMIGUEST_DIR)/%.o,$(wildcard $(VMIGUEST_DIR)/*.c))
VMIGUEST_S_OBJS := $(patsubst $(VMIGUEST_DIR)/%.S,$(BUILD)/$(VMIGUEST_DIR)/%.o,$(wildcard $(VMIGUEST_DIR)/*.S))
VMIGUEST_OBJS   := $(VMIGUEST_C_OBJS) $(VMIGUEST_S_OBJS)
# The library must need nothing from the kernel: no memcpy/memset calls made up by gcc.
$(VMIGUEST_C_OBJS): GUEST_CFLAGS += -I$(VMIGUEST_DIR) -fno-tree-loop-distribute-patterns
# The native ROM's assembly finds rom/rom_layout.inc through -Irom.
$(VMIGUEST_S_OBJS): GUEST_CFLAGS += -I$(VMIGUEST_DIR) -Irom

# Rebuilt from scratch, so a removed source leaves no stale member behind.
$(VMIGUEST_LIB): $(VMIGUEST_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

all: $(VMIGUEST_LIB)

HOST_SHARED_SRCS += $(VMIGUEST_DIR)/patch.c $(VMIGUEST_DIR)/probe.c $(VMIGUEST_DIR)/text.c

# The sdk test guest links the library (tests/tests.mk's generic rule puts $(GUEST_LIBS)
# after the guest's objects) and keeps .vmi_sites with vmi_sites.ld; so do the paging and
# mmu_storm test guests.
SDK_TEST_GUESTS := sdk paging mmu_storm
define sdk_test_guest_rules
$(BUILD)/tests/guests/$(1).elf: $(VMIGUEST_LIB) $(VMIGUEST_DIR)/vmi_sites.ld
$(BUILD)/tests/guests/$(1).elf: GUEST_LIBS := $(VMIGUEST_LIB) $(GUEST_LIBS)
$(BUILD)/tests/guests/$(1).elf: GUEST_LDFLAGS += -Wl,-T,$(VMIGUEST_DIR)/vmi_sites.ld
$(BUILD)/tests/guests/$(1)/%.o: GUEST_CFLAGS += -I$(VMIGUEST_DIR)
endef
$(foreach g,$(SDK_TEST_GUESTS),$(eval $(call sdk_test_guest_rules,$(g))))
