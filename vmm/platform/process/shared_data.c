/* Makes vmirun's writable data shared memory, so that the processes that hold the guest's
 * address spaces (address_space_processes.c), forked later, see one monitor. The segment is
 * copied into a memfd and that is mapped over it, at the same addresses. */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/process/shared_data.h"

struct writable_range {
	uintptr_t start, end;
	int found;
};

/* The executable is the first object dl_iterate_phdr reports. */
static int find_writable(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct writable_range *range = data;
	uintptr_t load_end = 0, load_start = 0, relro_end = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
			load_start = info->dlpi_addr + ph->p_vaddr;
			load_end = load_start + ph->p_memsz;
		} else if (ph->p_type == PT_GNU_RELRO) {
			relro_end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		}
	}
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	range->start = relro_end > load_start ? relro_end : load_start;
	range->end = (load_end + page - 1) & ~(page - 1);
	/* The linker ends RELRO on a page boundary; were it not, a variable on the page it
	 * shares would stay private, silently. */
	range->found = load_end != 0 && (range->start & (page - 1)) == 0;
	return 1;
}

int shared_data_create(char error[SHARED_DATA_ERROR_MAX])
{
	struct writable_range range = { 0 };
	dl_iterate_phdr(find_writable, &range);
	if (!range.found) {
		snprintf(error, SHARED_DATA_ERROR_MAX, "cannot find vmirun's writable data on a page "
		         "boundary to share it between address-space processes");
		return -1;
	}
	size_t size = range.end - range.start;
	int fd = memfd_create("vmirun-shared-data", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0 ||
	    pwrite(fd, (const void *)range.start, size, 0) != (ssize_t)size) {
		snprintf(error, SHARED_DATA_ERROR_MAX, "cannot copy vmirun's data to shared memory: %s",
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* From here to the mapping nothing writes the range: one thread, no handler yet. */
	void *shared = mmap((void *)range.start, size, PROT_READ | PROT_WRITE,
	                    MAP_SHARED | MAP_FIXED, fd, 0);
	int saved = errno;
	close(fd);
	if (shared == MAP_FAILED) {
		snprintf(error, SHARED_DATA_ERROR_MAX, "cannot map vmirun's data shared: %s",
		         strerror(saved));
		return -1;
	}
	return 0;
}
