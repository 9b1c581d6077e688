# OpenVMI: the one top-level Makefile. Each part adds its rules in its own .mk file.
#   make          build everything          make check   the whole test suite
#   make run      boot the reference guest  make bench   measurements (not tests)
#   make deps     install missing packages  make fuzz    longer fuzzing runs
#   make linux    the i386 Linux guest      make linux-qemu  boot it under QEMU
#   make clean

BUILD    := build
CC       := gcc
CLANG    := clang

# Host code: C11, warnings are errors. The guest SDK's sources that also build for the host
# (HOST_SHARED_SRCS below: the ROM checker, the patcher, the probe) are found by their names
# on the include path, e.g. #include "rom_check.h", wherever the includer lives.
HOST_CFLAGS  := -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -Iinclude -Ivmm \
                -Iguest/vmiguest -fno-stack-protector -MMD -MP
HOST_LDFLAGS :=
# The sanitizer build of everything that does not host a guest (see docs/architecture.md).
SAN_CFLAGS   := $(filter-out -O2,$(HOST_CFLAGS)) -O1 -fsanitize=address,undefined \
                -fno-omit-frame-pointer -fno-sanitize-recover=all
# vmirun under UBSan (vmm/vmm.mk): a failed check traps instead of calling the runtime.
UBSAN_CFLAGS := $(HOST_CFLAGS) -fsanitize=undefined -fsanitize-undefined-trap-on-error \
                -DVMIRUN_UBSAN
# i386 guest and ROM code: freestanding.
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -nostdlib -fno-pie -fno-pic \
                -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -g \
                -std=gnu11 -Wall -Wextra -Werror -Iinclude -MMD -MP
GUEST_LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none
# libgcc: 64-bit division and the like on i386.
GUEST_LIBS    := -lgcc

.PHONY: all deps check run bench fuzz clean
.DELETE_ON_ERROR:
all:

# --- compiling: the rules for every object, here only --------------------------------------
# An object's kind, and so its flags, follows from where it goes under $(BUILD); the source is
# the file at the rest of that path, at any depth:
#   $(BUILD)/<src>.o           host code (vmm/, tools/), HOST_CFLAGS; i386 guest and ROM code
#                              ($(BUILD)/guest/, rom/, tests/guests/), GUEST_CFLAGS
#   $(BUILD)/host/<src>.o      HOST_SHARED_SRCS built for the host, HOST_CFLAGS
#   $(BUILD)/san/<src>.o       the ASan+UBSan build (and san/host/<src>.o), SAN_CFLAGS
#   $(BUILD)/ubsan/<src>.o     vmirun under UBSan, UBSAN_CFLAGS
# A part that needs more for some of its objects adds to that kind's variable for them only
# (e.g. $(BUILD)/guest/kernel/%.o: GUEST_CFLAGS += ...); it writes no compile rule. Where the
# source is elsewhere, a rule names it and uses compile_object (rom/rom.mk's native_rom.o).
# The most specific pattern wins (an object's own, not that of a target it is a prerequisite of).
$(BUILD)/%.o:              OBJ_FLAGS = $(HOST_CFLAGS)
$(BUILD)/guest/%.o:        OBJ_FLAGS = $(GUEST_CFLAGS)
$(BUILD)/rom/%.o:          OBJ_FLAGS = $(GUEST_CFLAGS)
$(BUILD)/tests/guests/%.o: OBJ_FLAGS = $(GUEST_CFLAGS)
$(BUILD)/san/%.o:          OBJ_FLAGS = $(SAN_CFLAGS)
$(BUILD)/ubsan/%.o:        OBJ_FLAGS = $(UBSAN_CFLAGS)

define compile_object
@mkdir -p $(dir $@)
$(CC) $(OBJ_FLAGS) -c -o $@ $<
endef
$(BUILD)/%.o: %.c
	$(compile_object)
$(BUILD)/%.o: %.S
	$(compile_object)
$(BUILD)/host/%.o: %.c
	$(compile_object)
$(BUILD)/san/%.o: %.c
	$(compile_object)
$(BUILD)/san/%.o: %.S
	$(compile_object)
$(BUILD)/san/host/%.o: %.c
	$(compile_object)
$(BUILD)/ubsan/%.o: %.c
	$(compile_object)
$(BUILD)/ubsan/%.o: %.S
	$(compile_object)

deps:
	@sh tools/deps.sh

# `make run`: the reference kernel under vmirun, its self-tests and its benchmarks; on a host
# that cannot run guests (vmirun --check-host), under vmirun inside an x86-64 VM under QEMU.
RUN_KERNEL = $(VMIRUN) $(BUILD)/guest/kernel.elf -- vmi.link=inline bench
run: deps
	@$(MAKE) --no-print-directory all
	@if $(VMIRUN) --check-host >/dev/null 2>&1; then \
		$(RUN_KERNEL); \
	else \
		echo "make run: this host cannot run guests (see build/vmirun --check-host): booting" \
		     "the kernel under vmirun inside an x86-64 VM under QEMU TCG; its timings are QEMU's"; \
		tools/hostvm/run.sh --file $(VMIRUN) --file $(BUILD)/guest -- $(RUN_KERNEL); \
	fi; status=$$?; \
	if [ $$status -ne 1 ]; then \
		echo "make run: vmirun exited with $$status; 1 means the kernel passed its self-tests"; \
		exit 1; \
	fi

# Freestanding sources that also build for the host: one ROM checker and one patcher shared
# by the guest SDK, vmirun, vmirom and the tests. Parts append to HOST_SHARED_SRCS.
HOST_SHARED_SRCS := guest/vmiguest/rom_check.c
# Objects linked into the unit-test binaries besides vmm/'s; parts append to these.
UNIT_LIB_OBJS :=
UNIT_SAN_OBJS :=

-include guest/vmiguest/vmiguest.mk
-include guest/kernel/kernel.mk
-include guest/linux/linux.mk
-include rom/rom.mk
include vmm/vmm.mk
-include tools/tools.mk
include tests/tests.mk
-include bench/bench.mk

HOST_SHARED_OBJS     := $(patsubst %.c,$(BUILD)/host/%.o,$(HOST_SHARED_SRCS))
HOST_SHARED_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/host/%.o,$(HOST_SHARED_SRCS))

clean:
	rm -rf $(BUILD)

# Our dependency files; not the Linux tree's (guest/linux/linux.mk), which has its own.
-include $(shell find $(BUILD) -path $(BUILD)/linux-work -prune -o -type f -name '*.d' -print 2>/dev/null)
