/* hw_platform: the devices a real-code guest reaches through port I/O,
 * the minimal PC of FACTS.md s.8: a 16550 UART at 0x3F8, QEMU's
 * isa-debug-exit at 0xF4, QEMU's fw_cfg at 0x510/0x511, the two 8259 PICs'
 * ports (their masks), and open bus everywhere else.  On bare metal they
 * are the machine's devices; in a VM they are the VMM's, reached through
 * an I/O exit to userspace. */
#ifndef HW_PLATFORM_H
#define HW_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

#define HW_PLATFORM_SERIAL_MAX (64 * 1024)	/* bytes kept of the serial log */

#define HW_PORT_COM1		0x3F8	/* 16550 UART base */
#define HW_PORT_DEBUG_EXIT	0xF4	/* isa-debug-exit */
#define HW_PORT_FW_CFG		0x510	/* selector (16 bits); data at 0x511 */
#define HW_PORT_PIC1		0x20	/* command; mask at 0x21 */
#define HW_PORT_PIC2		0xA0	/* command; mask at 0xA1 */

struct hw_platform {
	struct sim *sim;
	/* 16550 registers that software can read back. */
	uint8_t uart_ier, uart_lcr, uart_mcr, uart_scr, uart_dll, uart_dlm;
	char serial[HW_PLATFORM_SERIAL_MAX];
	size_t serial_len;
	bool serial_truncated;		/* bytes beyond the buffer were dropped */
	bool exited;			/* isa-debug-exit was written */
	uint32_t exit_status;		/* (value << 1) | 1 */
	uint64_t nr_unhandled;		/* accesses to ports nothing claims */
	/* fw_cfg: what it says, and where a read is. */
	uint64_t ram_size;
	uint16_t nb_cpus;
	uint16_t fw_key;
	uint32_t fw_off;
	/* The 8259s: the masks, and where an initialization sequence is. */
	uint8_t pic_imr[2], pic_icw[2], pic_icw4[2];
};

/* `ram` bytes of RAM and one CPU, as fw_cfg reports them. */
void hw_platform_init(struct hw_platform *p, struct sim *sim);
void hw_platform_set_ram(struct hw_platform *p, uint64_t ram);

/* One port access of `size` bytes (1, 2 or 4).  A read fills *val; a
 * write takes val.  Never faults: unclaimed ports read as all ones and
 * ignore writes (open bus), and are traced. */
void hw_platform_io(struct hw_platform *p, uint16_t port, unsigned size,
		    bool in, uint32_t *val);

/* One I/O instruction: `count` accesses (string I/O) to one port, data[i]
 * read or written; `p` NULL: no devices (open bus).  Returns whether the
 * instruction completes: not when a device ended the machine inside it
 * (isa-debug-exit), so that it never retires. */
bool hw_platform_io_insn(struct hw_platform *p, uint16_t port, unsigned size,
			 bool in, uint32_t *data, unsigned count);

#endif
