/* Channel 0 of the 8254, lobyte/hibyte access, modes 0 (one shot) and 2/3 (periodic),
 * backed by the machine's timer (devices/machine.h); reads return the latched reload value, which is
 * enough for kernels that only program the timer. */
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/port_device.h"
#include "devices/machine.h"

static uint16_t reload;
static uint8_t low_byte_next = 1, mode;

static uint8_t pit_read(uint16_t port)
{
	if (port != PIT_CHANNEL0)
		return 0xFF;
	uint8_t value = low_byte_next ? (uint8_t)reload : (uint8_t)(reload >> 8);
	low_byte_next = !low_byte_next;
	return value;
}

/* Channel 0 drives IRQ0, through the PIC's mask. */
static void tick(void)
{
	pic_raise_irq(0);
}

static void start(void)
{
	uint64_t count = reload ? reload : 65536;
	uint64_t period_ns = count * 1000000000ull / PIT_HZ;
	machine_arm_timer(tick, period_ns, mode != 0);
}

static void pit_write(uint16_t port, uint32_t written)
{
	uint8_t value = (uint8_t)written;   /* an 8-bit device: the low byte */
	if (port == PIT_COMMAND) {
		if ((value >> 6) == 0) { /* channel 0: access mode and operating mode */
			mode = (value >> 1) & 7;
			low_byte_next = 1;
		}
		return;
	}
	if (port != PIT_CHANNEL0)
		return;
	if (low_byte_next) {
		reload = (uint16_t)((reload & 0xFF00) | value);
		low_byte_next = 0;
	} else {
		reload = (uint16_t)((reload & 0x00FF) | value << 8);
		low_byte_next = 1;
		start();
	}
}

const struct port_device pit_device = {
	"8254 PIT", { { PIT_CHANNEL0, PIT_COMMAND - PIT_CHANNEL0 + 1 } }, pit_read, pit_write,
};
