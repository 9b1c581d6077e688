# vmirun: the user-space hypervisor (host, x86-64).

VMM_MAIN_SRC := vmm/main.c
VMM_LIB_SRCS := $(filter-out $(VMM_MAIN_SRC),$(wildcard vmm/*.c vmm/*/*.c))
VMM_ASM_SRCS := $(wildcard vmm/*.S vmm/*/*.S)
VMM_LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(VMM_LIB_SRCS)) \
                $(patsubst %.S,$(BUILD)/%.o,$(VMM_ASM_SRCS))
VMM_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(VMM_LIB_SRCS)) \
                $(patsubst %.S,$(BUILD)/san/%.o,$(VMM_ASM_SRCS))
VMM_LIBS     :=
# vmirun exports its global symbols, so an internal error can name the nearest one.
VMIRUN_LDFLAGS := -rdynamic

# The default ROM is embedded: the object depends on the sealed image rom/rom.mk builds.
ROM_EMBED_FLAGS := -DPROCESS_ROM_PATH='"$(PROCESS_ROM_IMAGE)"'
$(BUILD)/vmm/rom_embedded.o $(BUILD)/san/vmm/rom_embedded.o: $(PROCESS_ROM_IMAGE)
$(BUILD)/vmm/rom_embedded.o: HOST_CFLAGS += $(ROM_EMBED_FLAGS)
$(BUILD)/san/vmm/rom_embedded.o: SAN_CFLAGS += $(ROM_EMBED_FLAGS)
# vmirun shares the ROM checker with the guest SDK.
$(BUILD)/vmm/rom.o: HOST_CFLAGS += -Iguest/vmiguest
$(BUILD)/san/vmm/rom.o: SAN_CFLAGS += -Iguest/vmiguest

VMIRUN := $(BUILD)/vmirun
all: $(VMIRUN)

# HOST_SHARED_OBJS is complete only after every part's .mk is read: expand it late.
.SECONDEXPANSION:
$(VMIRUN): $(BUILD)/$(VMM_MAIN_SRC:.c=.o) $(VMM_LIB_OBJS) $$(HOST_SHARED_OBJS)
	$(CC) $(HOST_LDFLAGS) $(VMIRUN_LDFLAGS) -o $@ $(filter %.o,$^) $(VMM_LIBS)

# vmirun under UBSan: ASan cannot host a guest (its shadow memory sits in the low 4 GiB
# vmirun reserves), UBSan can; make check runs the guest-hosting suites with it too. A failed
# check traps (ud2) instead of calling the runtime, whose first report needs system calls
# the sandbox refuses (readlink, mmap, open); vmirun's fault handler names the place.
UBSAN_CFLAGS   := $(HOST_CFLAGS) -fsanitize=undefined -fsanitize-undefined-trap-on-error \
                  -DVMIRUN_UBSAN
VMIRUN_UBSAN   := $(BUILD)/ubsan/vmirun
VMM_UBSAN_OBJS := $(patsubst %.c,$(BUILD)/ubsan/%.o,$(VMM_MAIN_SRC) $(VMM_LIB_SRCS)) \
                  $(patsubst %.S,$(BUILD)/ubsan/%.o,$(VMM_ASM_SRCS))
$(VMIRUN_UBSAN): $(VMM_UBSAN_OBJS) $$(patsubst %.c,$(BUILD)/ubsan/%.o,$$(HOST_SHARED_SRCS))
	$(CC) $(VMIRUN_LDFLAGS) -o $@ $(filter %.o,$^) $(VMM_LIBS)
$(BUILD)/ubsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(UBSAN_CFLAGS) -Iguest/vmiguest -c -o $@ $<
$(BUILD)/ubsan/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(UBSAN_CFLAGS) -c -o $@ $<
$(BUILD)/ubsan/vmm/rom_embedded.o: $(PROCESS_ROM_IMAGE)
$(BUILD)/ubsan/vmm/rom_embedded.o: UBSAN_CFLAGS += $(ROM_EMBED_FLAGS)

$(BUILD)/vmm/%.o: vmm/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c -o $@ $<

$(BUILD)/vmm/%.o: vmm/%.S
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c -o $@ $<

$(BUILD)/san/vmm/%.o: vmm/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(BUILD)/san/vmm/%.o: vmm/%.S
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<
