# Linux for OpenVMI (guest/linux/): an i386 kernel from Debian's linux-source-6.1, configured
# as tinyconfig plus openvmi.config, and an initramfs of Debian's static i386 busybox, /init
# and the exit-port helper. `make linux` builds them into build/linux/ (bzImage, vmlinux,
# System.map, initramfs.cpio), each step only when its inputs changed; `make linux-qemu`
# boots them under QEMU TCG and checks the init's output. Nothing comes from elsewhere: the
# source is the package `make deps` installs, busybox is `apt-get download`ed.

LINUX_TARBALL := /usr/src/linux-source-6.1.tar.xz
LINUX_DIR     := $(BUILD)/linux
LINUX_WORK    := $(BUILD)/linux-work
LINUX_SRC     := $(LINUX_WORK)/src
LINUX_OBJ     := $(LINUX_WORK)/obj
LINUX_CONFIG  := guest/linux/openvmi.config
# Its own job count, not a share of ours: `make check` builds it beside the other tests.
LINUX_JOBS    ?= $(shell nproc)
# Reproducible: the same source and config give the same kernel, version string included.
LINUX_MAKE = $(MAKE) --no-print-directory -s -C $(LINUX_SRC) O=$(abspath $(LINUX_OBJ)) \
             ARCH=i386 KBUILD_BUILD_TIMESTAMP=2024-01-01 KBUILD_BUILD_USER=openvmi \
             KBUILD_BUILD_HOST=openvmi
LINUX_FILES := $(LINUX_DIR)/bzImage $(LINUX_DIR)/vmlinux $(LINUX_DIR)/System.map \
               $(LINUX_DIR)/initramfs.cpio

.PHONY: linux linux-files linux-qemu
linux: deps
	@$(MAKE) --no-print-directory linux-files
linux-files: $(LINUX_FILES)

linux-qemu: linux
	@guest/linux/qemu.sh $(LINUX_DIR)

$(LINUX_TARBALL):
	@echo "linux: $@ is missing: run make deps (it installs Debian's linux-source-6.1)" >&2
	@exit 1

$(LINUX_WORK)/unpacked.stamp: $(LINUX_TARBALL)
	@echo "linux: unpacking $<"
	rm -rf $(LINUX_SRC) $(LINUX_OBJ)
	mkdir -p $(LINUX_SRC)
	tar -xf $< -C $(LINUX_SRC) --strip-components=1
	touch $@

# Every line of openvmi.config must be in the result: one that did not take (a dependency
# it lacks) fails the build instead of silently giving another kernel.
$(LINUX_WORK)/config.stamp: $(LINUX_CONFIG) $(LINUX_WORK)/unpacked.stamp
	mkdir -p $(LINUX_OBJ)
	$(LINUX_MAKE) tinyconfig >/dev/null
	$(LINUX_SRC)/scripts/kconfig/merge_config.sh -m -O $(LINUX_OBJ) $(LINUX_OBJ)/.config \
		$(LINUX_CONFIG) >/dev/null
	$(LINUX_MAKE) olddefconfig >/dev/null
	@grep -E '^(CONFIG_|# CONFIG_)' $(LINUX_CONFIG) | while IFS= read -r line; do \
		grep -qxF "$$line" $(LINUX_OBJ)/.config || { \
			echo "linux: '$$line' from $(LINUX_CONFIG) did not take" >&2; exit 1; }; \
	done
	touch $@

$(LINUX_DIR)/bzImage $(LINUX_DIR)/vmlinux $(LINUX_DIR)/System.map &: $(LINUX_WORK)/config.stamp
	@echo "linux: building the kernel (a few minutes the first time)"
	MAKEFLAGS= $(LINUX_MAKE) -j$(LINUX_JOBS) bzImage
	mkdir -p $(LINUX_DIR)
	cp $(LINUX_OBJ)/arch/x86/boot/bzImage $(LINUX_OBJ)/vmlinux $(LINUX_OBJ)/System.map $(LINUX_DIR)/

# Debian's static i386 busybox (the i386 architecture is added by make deps).
$(LINUX_WORK)/busybox:
	rm -rf $(LINUX_WORK)/download
	mkdir -p $(LINUX_WORK)/download
	@cd $(LINUX_WORK)/download && apt-get download -q busybox-static:i386 >/dev/null 2>&1 || { \
		echo "linux: apt-get download busybox-static:i386 failed (make deps adds the i386" \
		     "architecture; then apt-get update)" >&2; exit 1; }
	dpkg-deb -x $(LINUX_WORK)/download/busybox-static_*_i386.deb $(LINUX_WORK)/download/unpacked
	cp $(LINUX_WORK)/download/unpacked/bin/busybox $@
	rm -rf $(LINUX_WORK)/download

$(LINUX_WORK)/exit-port: guest/linux/exit_port.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $<

# Linux's own initramfs writer: device nodes without mknod, and no cpio package needed.
$(LINUX_WORK)/gen_init_cpio: $(LINUX_WORK)/unpacked.stamp
	$(CC) -O2 -o $@ $(LINUX_SRC)/usr/gen_init_cpio.c

# The files go in with one fixed time (gen_init_cpio takes each file's own), and the rest of
# the entries with the same (-t): the same inputs give the same archive.
LINUX_INITRAMFS_FILES := $(LINUX_WORK)/initramfs-files
$(LINUX_DIR)/initramfs.cpio: guest/linux/initramfs.list guest/linux/init.sh $(LINUX_WORK)/busybox \
                             $(LINUX_WORK)/exit-port $(LINUX_WORK)/gen_init_cpio
	@mkdir -p $(dir $@)
	rm -rf $(LINUX_INITRAMFS_FILES)
	mkdir -p $(LINUX_INITRAMFS_FILES)
	cp $(LINUX_WORK)/busybox $(LINUX_WORK)/exit-port $(LINUX_INITRAMFS_FILES)/
	cp guest/linux/init.sh $(LINUX_INITRAMFS_FILES)/init
	touch -d @0 $(LINUX_INITRAMFS_FILES)/*
	OPENVMI_INITRAMFS_FILES=$(LINUX_INITRAMFS_FILES) $(LINUX_WORK)/gen_init_cpio -t 0 \
		guest/linux/initramfs.list > $@
