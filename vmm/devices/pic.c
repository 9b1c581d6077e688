/* The 8259 pair, reduced to what an i386 kernel programs: ICW1-ICW4 (vector base), OCW1
 * (mask), OCW2 (EOI, accepted and ignored: delivery does not model in-service priority),
 * OCW3 register reads answer 0. Interrupts go straight to the virtual CPU's pending set. */
#include "devices/pic.h"
#include "devices/port_device.h"
#include "devices/machine.h"

struct pic {
	uint8_t vector_base;
	uint8_t mask;
	uint8_t init_step;   /* 0: ready; 1..3: expecting ICW2..ICW4 */
	uint8_t expects_icw4;
};

/* Power-on state as the BIOS leaves it: IRQ 0-7 at 0x08, 8-15 at 0x70, all masked. */
static struct pic pics[2] = { { 0x08, 0xFF, 0, 0 }, { 0x70, 0xFF, 0, 0 } };

static struct pic *pic_for(uint16_t port)
{
	return (port & 0x80) ? &pics[1] : &pics[0];
}

static uint8_t pic_read(uint16_t port)
{
	struct pic *pic = pic_for(port);
	return (port & 1) ? pic->mask : 0;
}

static void pic_write(uint16_t port, uint32_t written)
{
	uint8_t value = (uint8_t)written;   /* an 8-bit device: the low byte */
	struct pic *pic = pic_for(port);
	if (!(port & 1)) {
		if (value & 0x10) { /* ICW1 starts initialization */
			pic->init_step = 1;
			pic->expects_icw4 = value & 1;
		}
		return; /* OCW2 (EOI) and OCW3 need no action here */
	}
	switch (pic->init_step) {
	case 1:
		pic->vector_base = value & 0xF8;
		pic->init_step = 2;
		break;
	case 2: /* ICW3: cascade wiring, fixed on a PC */
		pic->init_step = pic->expects_icw4 ? 3 : 0;
		break;
	case 3: /* ICW4: mode */
		pic->init_step = 0;
		break;
	default:
		pic->mask = value;
		break;
	}
}

unsigned pic_vector(unsigned irq)
{
	return irq < 8 ? pics[0].vector_base + irq : pics[1].vector_base + (irq - 8);
}

void pic_raise_irq(unsigned irq)
{
	if (irq >= 16)
		return;
	if (irq < 8 ? (pics[0].mask >> irq) & 1 : ((pics[1].mask >> (irq - 8)) & 1) || (pics[0].mask & 4))
		return;
	machine_raise_vector(pic_vector(irq));
}

const struct port_device pic_device = {
	"8259 PIC pair", { { PIC_MASTER_COMMAND, 2 }, { PIC_SLAVE_COMMAND, 2 } }, pic_read, pic_write,
};
