# Host tools: vmirom, which inspects and verifies ROM images. Its library part (rom_image.c,
# rom_verify.c) also goes into the unit-test binaries, normal and sanitizer builds.

VMIROM           := $(BUILD)/vmirom
TOOLS_LIB_SRCS   := tools/rom_image.c tools/rom_verify.c
TOOLS_LIB_OBJS   := $(patsubst %.c,$(BUILD)/%.o,$(TOOLS_LIB_SRCS))
TOOLS_SAN_OBJS   := $(patsubst %.c,$(BUILD)/san/%.o,$(TOOLS_LIB_SRCS))
UNIT_LIB_OBJS    += $(TOOLS_LIB_OBJS)
UNIT_SAN_OBJS    += $(TOOLS_SAN_OBJS)
all: $(VMIROM)

# HOST_SHARED_OBJS (rom_check.c) is complete only after every .mk is read: expand it late.
.SECONDEXPANSION:
$(VMIROM): $(BUILD)/tools/vmirom.o $(TOOLS_LIB_OBJS) $$(HOST_SHARED_OBJS)
	$(CC) $(HOST_LDFLAGS) -o $@ $(filter %.o,$^) -lcapstone
