/* hw_platform: port I/O devices of the real-code machine (16550 UART,
 * isa-debug-exit, fw_cfg, 8259 masks, open bus).  Register behaviour
 * from the 16550 data sheet as QEMU's serial device implements it;
 * isa-debug-exit exits with (value << 1) | 1 (QEMU hw/misc/debugexit.c;
 * FACTS.md s.8); fw_cfg's keys as QEMU's hw/nvram/fw_cfg.c fills them and
 * kvm-unit-tests' lib/x86/fwcfg.c reads them; the 8259's ICW/OCW1
 * sequence (Intel 8259A data sheet), no interrupts. */
#include <string.h>

#include "hw_platform.h"

/* 16550 register offsets and bits. */
#define UART_THR	0	/* DLAB=0: write THR / read RBR; DLAB=1: DLL */
#define UART_IER	1	/* DLAB=1: DLM */
#define UART_IIR	2	/* read IIR, write FCR */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7
#define UART_LCR_DLAB	0x80
#define UART_LSR_THRE	0x20	/* transmitter holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */
#define UART_IIR_NONE	0x01	/* no interrupt pending */
#define UART_MSR_LINES	0xB0	/* DCD, DSR and CTS asserted */

/* fw_cfg keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MAX_CPUS		0x0F

void hw_platform_init(struct hw_platform *p, struct sim *sim)
{
	memset(p, 0, sizeof(*p));
	p->sim = sim;
	p->nb_cpus = 1;
	p->pic_imr[0] = p->pic_imr[1] = 0xFF;	/* no PIC interrupt exists here */
}

void hw_platform_set_ram(struct hw_platform *p, uint64_t ram)
{
	p->ram_size = ram;
}

/* Byte `off` of the item `key` (little endian, as QEMU stores numbers
 * for the legacy interface); 0 past its end and for unknown keys. */
static uint8_t fw_cfg_byte(const struct hw_platform *p, uint16_t key, uint32_t off)
{
	uint64_t v;
	unsigned len;

	switch (key) {
	case FW_CFG_SIGNATURE:
		return off < 4 ? (uint8_t)"QEMU"[off] : 0;
	case FW_CFG_ID: v = 1; len = 4; break;		/* the traditional interface, no DMA */
	case FW_CFG_RAM_SIZE: v = p->ram_size; len = 8; break;
	case FW_CFG_NB_CPUS: v = p->nb_cpus; len = 2; break;
	case FW_CFG_MAX_CPUS: v = p->nb_cpus; len = 2; break;
	default: return 0;
	}
	return off < len ? (uint8_t)(v >> (8 * off)) : 0;
}

/* An 8259 (0: master at 0x20, 1: slave at 0xA0): command writes start an
 * initialization (ICW1, bit 4) or are OCW2/OCW3; data writes are ICW2-4
 * during one, else the mask (OCW1).  Reads give the mask, or 0 for the
 * command port (nothing requested or in service). */
static void pic_write(struct hw_platform *p, unsigned i, bool data, uint8_t v)
{
	if (!data) {
		if (v & 0x10) {
			p->pic_icw[i] = 2;
			p->pic_icw4[i] = v & 1;
			p->pic_imr[i] = 0;	/* initialization clears the mask */
		}
		return;
	}
	switch (p->pic_icw[i]) {
	case 2: p->pic_icw[i] = 3; return;
	case 3: p->pic_icw[i] = p->pic_icw4[i] ? 4 : 0; return;
	case 4: p->pic_icw[i] = 0; return;
	}
	p->pic_imr[i] = v;
}

static void serial_out(struct hw_platform *p, uint8_t c)
{
	if (p->serial_len < sizeof(p->serial))
		p->serial[p->serial_len++] = (char)c;
	else
		p->serial_truncated = true;
}

static void uart_write(struct hw_platform *p, unsigned reg, uint8_t v)
{
	bool dlab = p->uart_lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			p->uart_dll = v;
		else
			serial_out(p, v);
		break;
	case UART_IER:
		if (dlab)
			p->uart_dlm = v;
		else
			p->uart_ier = v & 0x0F;
		break;
	case UART_LCR: p->uart_lcr = v; break;
	case UART_MCR: p->uart_mcr = v & 0x1F; break;
	case UART_SCR: p->uart_scr = v; break;
	default: break;		/* FCR, LSR, MSR: nothing kept */
	}
}

static uint8_t uart_read(const struct hw_platform *p, unsigned reg)
{
	bool dlab = p->uart_lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR: return dlab ? p->uart_dll : 0;	/* no input ever */
	case UART_IER: return dlab ? p->uart_dlm : p->uart_ier;
	case UART_IIR: return UART_IIR_NONE;
	case UART_LCR: return p->uart_lcr;
	case UART_MCR: return p->uart_mcr;
	case UART_LSR: return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR: return UART_MSR_LINES;
	default: return p->uart_scr;
	}
}

static bool in_uart(uint16_t port)
{
	return port >= HW_PORT_COM1 && port < HW_PORT_COM1 + 8;
}

void hw_platform_io(struct hw_platform *p, uint16_t port, unsigned size,
		    bool in, uint32_t *val)
{
	uint32_t mask = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;

	if (!in && port == HW_PORT_DEBUG_EXIT) {
		p->exited = true;
		p->exit_status = ((*val & mask) << 1) | 1;
		sim_trace(p->sim, TR_NOTE, port, *val & mask, p->exit_status,
			  "isa-debug-exit");
		return;
	}
	if (port == HW_PORT_FW_CFG || port == HW_PORT_FW_CFG + 1) {
		if (port == HW_PORT_FW_CFG && !in) {
			p->fw_key = (uint16_t)*val;
			p->fw_off = 0;
		} else if (port == HW_PORT_FW_CFG + 1 && in) {
			uint32_t v = 0;

			for (unsigned i = 0; i < size; i++)
				v |= (uint32_t)fw_cfg_byte(p, p->fw_key, p->fw_off++) << (8 * i);
			*val = v;
		} else if (in) {
			*val = 0;	/* the selector reads as 0 */
		}
		sim_trace(p->sim, TR_NOTE, port, in ? *val & mask : *val & mask, p->fw_key, "fw_cfg");
		return;
	}
	if (size == 1 && (port == HW_PORT_PIC1 || port == HW_PORT_PIC1 + 1 ||
			  port == HW_PORT_PIC2 || port == HW_PORT_PIC2 + 1)) {
		unsigned i = port >= HW_PORT_PIC2;
		bool data = port & 1;

		if (in)
			*val = data ? p->pic_imr[i] : 0;
		else
			pic_write(p, i, data, (uint8_t)*val);
		return;
	}
	if (in_uart(port) && in_uart((uint16_t)(port + size - 1))) {
		/* A wider access reaches consecutive byte registers. */
		uint32_t v = 0;

		for (unsigned i = 0; i < size; i++) {
			unsigned reg = (unsigned)(port - HW_PORT_COM1) + i;

			if (in)
				v |= (uint32_t)uart_read(p, reg) << (8 * i);
			else
				uart_write(p, reg, (uint8_t)(*val >> (8 * i)));
		}
		if (in)
			*val = v;
		return;
	}
	/* Open bus: nothing answers. */
	p->nr_unhandled++;
	if (in)
		*val = mask;
	sim_trace(p->sim, TR_NOTE, port, in ? mask : *val & mask, size,
		  in ? "unhandled port read" : "unhandled port write");
}

bool hw_platform_io_insn(struct hw_platform *p, uint16_t port, unsigned size,
			 bool in, uint32_t *data, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		if (p)
			hw_platform_io(p, port, size, in, &data[i]);
		else if (in)
			data[i] = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
	}
	return !p || !p->exited;
}
