/* guest_bare: bare-metal implementation of the guest program API. */
#include <string.h>

#include "guest_bare.h"
#include "hw/hw_platform.h"

static struct guest_bare *B(struct mv_guest *g)
{
	return g->env;
}

static int bare_wrmsr(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	return hw_wrmsr(B(g)->cpu, msr, val);
}

static int bare_rdmsr(struct mv_guest *g, uint32_t msr, uint64_t *val)
{
	return hw_rdmsr(B(g)->cpu, msr, val);
}

static int bare_rdpmc(struct mv_guest *g, uint32_t ecx, uint64_t *val)
{
	return hw_rdpmc(B(g)->cpu, ecx, val);
}

static void bare_cpuid(struct mv_guest *g, uint32_t leaf, uint32_t sub,
		       uint32_t r[4])
{
	hw_cpuid(B(g)->cpu, leaf, sub, r);
}

static void drain(struct guest_bare *gb)
{
	while (gb->nr_pending && !gb->g.in_irq) {
		unsigned v = gb->pending[0];

		memmove(gb->pending, gb->pending + 1,
			--gb->nr_pending * sizeof(gb->pending[0]));
		mv_guest_deliver(&gb->g, v);
	}
}

static void bare_run(struct mv_guest *g, const struct mv_work *w)
{
	hw_run_work(B(g)->cpu, w);
	drain(B(g));
}

/* Natively an "emulated" instruction is just one more instruction. */
static void bare_emulate(struct mv_guest *g, bool branch)
{
	struct mv_work w = { .kernel = g->kernel, .label = g->label };

	w.ev[MV_EV_INSTRUCTIONS] = 1;
	w.ev[MV_EV_BRANCHES] = branch;
	w.ev[MV_EV_CYCLES] = 1;
	w.ev[MV_EV_REF_CYCLES] = 1;
	hw_run_work(B(g)->cpu, &w);
	drain(B(g));
}

static void bare_set_cpl(struct mv_guest *g, unsigned cpl)
{
	B(g)->cpu->cpl = cpl;
}

static void bare_set_cr4_pce(struct mv_guest *g, bool pce)
{
	B(g)->cpu->cr4_pce = pce;
}

/* ---- real machine code: the instruction retires on the hardware ---- */

static void bare_retire(struct mv_guest *g)
{
	struct mv_work w = mv_work_insns(1, 0, 0, g->kernel, g->label);

	hw_run_work(B(g)->cpu, &w);
	drain(B(g));
}

static int bare_insn_wrmsr(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	struct mv_work w = mv_work_insns(1, 0, 0, g->kernel, g->label);
	int fault = hw_wrmsr_retire(B(g)->cpu, msr, val, &w);

	drain(B(g));
	return fault;
}

/* Reads sample the register before their own retirement. */
static int bare_insn_rdmsr(struct mv_guest *g, uint32_t msr, uint64_t *val)
{
	int fault = hw_rdmsr(B(g)->cpu, msr, val);

	if (!fault)
		bare_retire(g);
	return fault;
}

static int bare_insn_rdpmc(struct mv_guest *g, uint32_t ecx, uint64_t *val)
{
	int fault = hw_rdpmc(B(g)->cpu, ecx, val);

	if (!fault)
		bare_retire(g);
	return fault;
}

static void bare_insn_cpuid(struct mv_guest *g, uint32_t leaf, uint32_t sub,
			    uint32_t r[4])
{
	hw_cpuid(B(g)->cpu, leaf, sub, r);
	bare_retire(g);
}

/* The machine's own devices; isa-debug-exit ends the machine inside the
 * instruction, which therefore never retires. */
static void bare_insn_io(struct mv_guest *g, uint16_t port, unsigned size,
			 bool in, uint32_t *data, unsigned count)
{
	hw_cpu_enter(B(g)->cpu, B(g)->cpu->cost.port_io);
	if (hw_platform_io_insn(g->platform, port, size, in, data, count))
		bare_retire(g);
}

static void bare_insn_hlt(struct mv_guest *g)
{
	bare_retire(g);
}

static void bare_headroom(struct mv_guest *g, struct hw_headroom *h)
{
	hw_pmu_headroom(B(g)->cpu, g->kernel, h);
}

/* The xAPIC page is the CPU's own APIC: the access is part of the
 * instruction, which retires on the hardware.  It costs what an APIC
 * register access through its MSR costs. */
static bool bare_insn_mmio(struct mv_guest *g, uint32_t off, unsigned size, bool write,
			   uint64_t *val, int how)
{
	struct hw_cpu *cpu = B(g)->cpu;
	enum hw_apic_effect fx;

	(void)how;
	hw_cpu_enter(cpu, write ? cpu->cost.wrmsr : cpu->cost.rdmsr);
	fx = hw_apic_mmio(&cpu->apic.misc, &cpu->apic.lvtpc, (unsigned)cpu->id, off, size, write, val);
	sim_trace(cpu->sim, TR_NOTE, off, *val, write, write ? "xapic write" : "xapic read");
	if (fx == HW_APIC_EOI) {
		cpu->apic.nr_eoi++;
		sim_trace(cpu->sim, TR_EOI, 0, 0, 0, NULL);
	}
	return false;
}

static void bare_apic_init(struct mv_guest *g, bool x2apic)
{
	hw_apic_misc_set_mode(&B(g)->cpu->apic.misc, x2apic);
}

static const struct mv_guest_ops bare_ops = {
	.wrmsr = bare_wrmsr, .rdmsr = bare_rdmsr, .rdpmc = bare_rdpmc,
	.cpuid = bare_cpuid, .run = bare_run, .emulate = bare_emulate,
	.set_cpl = bare_set_cpl, .set_cr4_pce = bare_set_cr4_pce,
	.insn_wrmsr = bare_insn_wrmsr, .insn_rdmsr = bare_insn_rdmsr,
	.insn_rdpmc = bare_insn_rdpmc, .insn_cpuid = bare_insn_cpuid,
	.insn_io = bare_insn_io, .insn_hlt = bare_insn_hlt,
	.headroom = bare_headroom, .insn_mmio = bare_insn_mmio,
	.apic_init = bare_apic_init,
	/* insn_ud: a #UD is the guest's (UD2 before "kvm" is an ordinary #UD);
	 * insn_point: no VM exits to inject on bare metal. */
};

/* The CPU's interrupt hook: straight to the program's handler, or held
 * until the running handler returns. */
static void bare_intr(struct hw_cpu *cpu, unsigned vector, bool nmi, void *opaque)
{
	struct guest_bare *gb = opaque;

	(void)cpu; (void)nmi;
	sim_trace(cpu->sim, TR_IRQ, vector, (uint64_t)cpu->ctx, 0, "bare metal");
	if (!mv_guest_deliver(&gb->g, vector) &&
	    gb->nr_pending < sizeof(gb->pending) / sizeof(gb->pending[0]))
		gb->pending[gb->nr_pending++] = vector;
}

void guest_bare_init_host(struct guest_bare *gb, struct hw_cpu *cpu)
{
	memset(gb, 0, sizeof(*gb));
	gb->cpu = cpu;
	gb->g.ops = &bare_ops;
	gb->g.env = gb;
	gb->g.cpu = cpu->id;
}

void guest_bare_init(struct guest_bare *gb, struct hw_cpu *cpu, int ctx)
{
	guest_bare_init_host(gb, cpu);
	cpu->ctx = ctx;
	hw_cpu_set_bucket(cpu, SIM_T_GUEST);
	cpu->hooks.intr = bare_intr;
	cpu->hooks.intr_opaque = gb;
}
