/* guest_bare: the bare-metal environment: a guest program running directly
 * on a simulated CPU, its interrupts taken straight from the local APIC. */
#ifndef GUEST_BARE_H
#define GUEST_BARE_H

#include "hw/hw_cpu.h"
#include "mvpmu/guest.h"

struct guest_bare {
	struct mv_guest g;
	struct hw_cpu *cpu;
	unsigned pending[8];	/* vectors held while a handler runs */
	unsigned nr_pending;
};

/* Binds `gb` to `cpu`; the program's work counts as truth context `ctx`. */
void guest_bare_init(struct guest_bare *gb, struct hw_cpu *cpu, int ctx);

/* A host task's view of its CPU: the same direct access, but the host
 * kernel keeps the CPU's interrupts and the work counts as host work. */
void guest_bare_init_host(struct guest_bare *gb, struct hw_cpu *cpu);

#endif
