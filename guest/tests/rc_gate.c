/* rc_gate: delivery through an interrupt gate clears RFLAGS.IF for the
 * handler, and IRET brings the saved RFLAGS back (SDM vol. 3 6.12.1.3):
 * the handler of `int $0x40` (the runtime's gates are interrupt gates),
 * run with IF = 1, sees IF = 0 live and IF = 1 in its saved frame; after
 * the IRET IF is 1 again. */
#include "mvpmu-guest.h"

#define VECTOR 0x40
#define RFLAGS_IF 0x200

static volatile uint64_t live, saved;
static volatile unsigned hits;

static void handler(struct mvg_regs *r)
{
	hits++;
	live = mvg_rflags();
	saved = r->rflags;
}

int main(void)
{
	uint64_t after;

	mvg_set_handler(VECTOR, handler);
	mvg_sti();
	__asm__ volatile("int $0x40" ::: "memory");
	after = mvg_rflags();
	mvg_cli();
	mvg_printf("hits=%u live_if=%d saved_if=%d after_if=%d\n", hits,
		   (live & RFLAGS_IF) != 0, (saved & RFLAGS_IF) != 0, (after & RFLAGS_IF) != 0);
	return 0;
}
