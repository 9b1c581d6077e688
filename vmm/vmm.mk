# vmirun: the user-space hypervisor (host, x86-64). Its sources are every .c and .S under
# vmm/, at any depth; the top-level Makefile's rules compile them.

VMM_MAIN_SRC := vmm/main.c
VMM_LIB_SRCS := $(filter-out $(VMM_MAIN_SRC),$(sort $(shell find vmm -name '*.c')))
VMM_ASM_SRCS := $(sort $(shell find vmm -name '*.S'))
VMM_LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(VMM_LIB_SRCS)) \
                $(patsubst %.S,$(BUILD)/%.o,$(VMM_ASM_SRCS))
VMM_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(VMM_LIB_SRCS)) \
                $(patsubst %.S,$(BUILD)/san/%.o,$(VMM_ASM_SRCS))
VMM_LIBS     :=
# vmirun exports its global symbols, so an internal error can name the nearest one. Full
# RELRO (-z now): the GOT is read-only, outside the writable data that address-space
# processes share (shared_data.c), where guest code that escaped could rewrite it.
VMIRUN_LDFLAGS := -rdynamic -Wl,-z,now

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
VMIRUN_UBSAN   := $(BUILD)/ubsan/vmirun
VMM_UBSAN_OBJS := $(patsubst %.c,$(BUILD)/ubsan/%.o,$(VMM_MAIN_SRC) $(VMM_LIB_SRCS)) \
                  $(patsubst %.S,$(BUILD)/ubsan/%.o,$(VMM_ASM_SRCS))
$(VMIRUN_UBSAN): $(VMM_UBSAN_OBJS) $$(patsubst %.c,$(BUILD)/ubsan/%.o,$$(HOST_SHARED_SRCS))
	$(CC) $(VMIRUN_LDFLAGS) -o $@ $(filter %.o,$^) $(VMM_LIBS)

# The default ROM is embedded, in all three builds: rom_embedded.S (wherever it is under vmm/)
# depends on the sealed image rom/rom.mk builds. `private`: not passed on to that image's
# own prerequisites (vmirom, rom_seal and their objects).
ROM_EMBED_FLAGS := -DPROCESS_ROM_PATH='"$(PROCESS_ROM_IMAGE)"'
ROM_EMBEDDED_OBJ       := $(filter %/rom_embedded.o,$(VMM_LIB_OBJS))
ROM_EMBEDDED_SAN_OBJ   := $(filter %/rom_embedded.o,$(VMM_SAN_OBJS))
ROM_EMBEDDED_UBSAN_OBJ := $(filter %/rom_embedded.o,$(VMM_UBSAN_OBJS))
$(ROM_EMBEDDED_OBJ) $(ROM_EMBEDDED_SAN_OBJ) $(ROM_EMBEDDED_UBSAN_OBJ): $(PROCESS_ROM_IMAGE)
$(ROM_EMBEDDED_OBJ):       private HOST_CFLAGS  += $(ROM_EMBED_FLAGS)
$(ROM_EMBEDDED_SAN_OBJ):   private SAN_CFLAGS   += $(ROM_EMBED_FLAGS)
$(ROM_EMBEDDED_UBSAN_OBJ): private UBSAN_CFLAGS += $(ROM_EMBED_FLAGS)
