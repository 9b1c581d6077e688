/* The message processes exchange with send and receive: 16 bytes, the sender filled in by
 * the kernel. Shared by the kernel and user programs. */
#ifndef KERNEL_MESSAGE_H
#define KERNEL_MESSAGE_H

#include <stdint.h>

struct message {
	uint32_t sender;     /* pid, set by the kernel */
	uint32_t type;
	uint32_t data[2];
};

#endif
