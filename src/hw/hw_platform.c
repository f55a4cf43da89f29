/* hw_platform: port I/O devices of the real-code machine (16550 UART,
 * isa-debug-exit, open bus).  Register behaviour from the 16550 data
 * sheet as QEMU's serial device implements it; isa-debug-exit exits
 * with (value << 1) | 1 (QEMU hw/misc/debugexit.c; FACTS.md s.8). */
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

void hw_platform_init(struct hw_platform *p, struct sim *sim)
{
	memset(p, 0, sizeof(*p));
	p->sim = sim;
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
