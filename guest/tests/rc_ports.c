/* rc_ports: the platform's ports (FACTS.md s.8): 16550 registers at
 * 0x3F8 (LSR says the transmitter is empty, divisor latch writes are not
 * output), REP OUTSB to the UART, open bus elsewhere (all ones), and
 * isa-debug-exit with an exit code of 0x55 (status 0xAB). */
#include "mvpmu-guest.h"

static inline uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0;

	if (size == 1)
		__asm__ volatile("inb %1, %b0" : "+a"(v) : "Nd"(port));
	else if (size == 2)
		__asm__ volatile("inw %1, %w0" : "+a"(v) : "Nd"(port));
	else
		__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port));
}

int main(void)
{
	static const char msg[] = "via rep outsb\n";
	const char *p = msg;
	size_t n = sizeof(msg) - 1;

	mvg_printf("lsr=%#x open8=%#x open16=%#x open32=%#x\n", in(0x3FD, 1), in(0x80, 1),
		   in(0x80, 2), in(0x80, 4));
	outb(0x3FB, 0x83);	/* DLAB on: 0x3F8 is the divisor */
	outb(0x3F8, 'X');
	outb(0x3FB, 0x03);
	__asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(0x3F8) : "memory");
	mvg_exit(0x55);
}
