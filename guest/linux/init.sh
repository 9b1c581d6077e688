#!/bin/sh
# /init of OpenVMI's Linux guest (guest/linux): proves a working userland with a few shell
# commands, then ends the machine through the exit port with status 0.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "openvmi-linux: init: $(uname -s -r -m), in the shell"
cpus=$(grep -c ^processor /proc/cpuinfo)
memory=$(sed -n 's/^MemTotal: *//p' /proc/meminfo)
echo "openvmi-linux: $cpus cpu, $memory of memory"
echo "openvmi-linux: a pipeline: $(echo pipes work | tr a-z A-Z)"
echo "openvmi-linux: done, exit port 0"
exec /bin/exit-port 0
