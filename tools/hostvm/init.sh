#!/bin/sh
# /init of the host VM (tools/hostvm/run.sh): runs the job it was given on the second serial
# port, reports its exit status there, and powers the VM off.
PATH=/usr/bin:/bin:/usr/sbin:/sbin
export PATH
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
# No tmpfs over /tmp: the initramfs is writable already, and the files put in may live there.
chmod 1777 /tmp
# Raw output: the host reads the job's lines byte for byte.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
# What the job sees: the VM's kernel and whether the process platform works here.
echo "hostvm: VM kernel $(uname -r) ($(cat /proc/cmdline))" > /dev/ttyS1
# The job's output goes through a pipe, so the programs it runs never see a terminal.
( sh /hostvm/job; echo $? > /tmp/hostvm-status ) 2>&1 | cat > /dev/ttyS1
echo "hostvm: exit status $(cat /tmp/hostvm-status 2>/dev/null || echo 255)" > /dev/ttyS1
sync
poweroff -f
