/* mvpmu public API: what a guest program sees of its CPU.  The same program
 * runs on bare metal (directly on a simulated CPU) or in a VM (every call
 * is one step of the vCPU: intercepted, passed through, faulted or
 * interrupted).  Accessors follow the `_safe` style of KVM's selftests:
 * they return X86_OK or the fault vector instead of crashing. */
#ifndef MVPMU_GUEST_H
#define MVPMU_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "mvpmu/events.h"
#include "mvpmu/x86.h"

struct mv_guest;
struct hw_headroom;
struct hw_platform;

typedef void (*mv_irq_fn)(struct mv_guest *g, unsigned vector, void *arg);

/* One implementation per environment (bare metal, vCPU). */
struct mv_guest_ops {
	int (*wrmsr)(struct mv_guest *g, uint32_t msr, uint64_t val);
	int (*rdmsr)(struct mv_guest *g, uint32_t msr, uint64_t *val);
	int (*rdpmc)(struct mv_guest *g, uint32_t ecx, uint64_t *val);
	void (*cpuid)(struct mv_guest *g, uint32_t leaf, uint32_t sub,
		      uint32_t r[4]);
	void (*run)(struct mv_guest *g, const struct mv_work *w);
	/* An instruction the hypervisor must emulate (1 instruction, and one
	 * branch if `branch`); native on bare metal. */
	void (*emulate)(struct mv_guest *g, bool branch);
	void (*set_cpl)(struct mv_guest *g, unsigned cpl);
	void (*set_cr4_pce)(struct mv_guest *g, bool pce);

	/* Real machine code (src/hw/hw_x86, docs/realcode.md): the guest
	 * executed the instruction itself, which retires as the hardware
	 * retires it (passed through, bare metal) or as KVM's software path
	 * counts an instruction it completed (intercepted), at g->kernel
	 * under g->label.  An instruction that faults does not retire. */
	int (*insn_wrmsr)(struct mv_guest *g, uint32_t msr, uint64_t val);
	int (*insn_rdmsr)(struct mv_guest *g, uint32_t msr, uint64_t *val);
	int (*insn_rdpmc)(struct mv_guest *g, uint32_t ecx, uint64_t *val);
	void (*insn_cpuid)(struct mv_guest *g, uint32_t leaf, uint32_t sub,
			   uint32_t r[4]);
	/* IN/OUT/INS/OUTS: `count` accesses of `size` bytes to one port
	 * (data[i] read or written), one instruction.  The devices are
	 * g->platform (in a VM, the VMM's: an I/O exit to userspace). */
	void (*insn_io)(struct mv_guest *g, uint16_t port, unsigned size,
			bool in, uint32_t *data, unsigned count);
	void (*insn_hlt)(struct mv_guest *g);
	/* What the hardware under this guest can still count before it
	 * acts (hw_pmu_headroom): the engine's exact stops.  No cost. */
	void (*headroom)(struct mv_guest *g, struct hw_headroom *h);
	/* An access to the local APIC's xAPIC page at offset `off` (*val
	 * read or written) by the instruction running: the CPU's APIC on bare
	 * metal; in a VM an APIC-access exit (VMX) or NPF (SVM) that KVM
	 * completes in its emulator.  `how` says who retires the instruction:
	 * MV_MMIO_HW the hardware, MV_MMIO_SKIP the environment may (returns
	 * true when it did: KVM's skipped instruction), MV_MMIO_EMULATED the
	 * access is part of an instruction the hypervisor already emulates. */
	bool (*insn_mmio)(struct mv_guest *g, uint32_t off, unsigned size, bool write,
			  uint64_t *val, int how);
	/* An invalid opcode (#UD).  In a VM KVM intercepts it; with its
	 * force_emulation_prefix on and `fep` (the instruction follows the
	 * bytes 0F 0B 6B 76 6D) it emulates that instruction: emulate(arg)
	 * carries it out (true: it completed, false: it faulted) and KVM's
	 * software path counts it (a branch when `branch`).  Returns -1 when
	 * nothing emulated it (the #UD is delivered), else emulate's result. */
	int (*insn_ud)(struct mv_guest *g, bool fep, bool branch,
		       bool (*emulate)(void *arg), void *arg);
	/* The firmware's local APIC before the guest's first instruction:
	 * enabled, in x2APIC or xAPIC mode.  No exit, nothing retires. */
	void (*apic_init)(struct mv_guest *g, bool x2apic);
	/* Real code inside an interrupt handler is about to execute an
	 * instruction: an exploration point where a host interrupt may exit
	 * the guest (docs/explore.md, `guest-insn`).  True when it did.
	 * NULL where nothing can interrupt the guest (bare metal). */
	bool (*insn_point)(struct mv_guest *g);
};

enum { MV_MMIO_HW, MV_MMIO_SKIP, MV_MMIO_EMULATED };

struct mv_guest {
	const struct mv_guest_ops *ops;
	void *env;		/* the environment's own state */
	int cpu;		/* the CPU index as the program sees it */
	mv_irq_fn irq;		/* interrupt handler, NULL: none */
	void *irq_arg;
	bool in_irq;		/* interrupts are held while a handler runs */
	const char *label;	/* label of the work being executed */
	bool kernel;		/* privilege of the work being executed */
	uint64_t nr_irqs;	/* interrupts taken by this program */
	uint64_t nr_faults;	/* faults returned by the accessors */
	struct hw_platform *platform;	/* port I/O devices (real code), or NULL */
};

int mv_wrmsr_safe(struct mv_guest *g, uint32_t msr, uint64_t val);
int mv_rdmsr_safe(struct mv_guest *g, uint32_t msr, uint64_t *val);
int mv_rdpmc_safe(struct mv_guest *g, uint32_t ecx, uint64_t *val);
void mv_cpuid(struct mv_guest *g, uint32_t leaf, uint32_t sub, uint32_t r[4]);
void mv_run(struct mv_guest *g, const struct mv_work *w);
void mv_emulate(struct mv_guest *g, bool branch);
void mv_set_cpl(struct mv_guest *g, unsigned cpl);
void mv_set_cr4_pce(struct mv_guest *g, bool pce);
void mv_set_irq_handler(struct mv_guest *g, mv_irq_fn fn, void *arg);

/* Called by an environment to deliver an interrupt to the program: runs
 * the handler unless one is already running (then it reports false, and
 * the environment keeps the interrupt pending). */
bool mv_guest_deliver(struct mv_guest *g, unsigned vector);

#endif
