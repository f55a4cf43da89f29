/* guest_api: the guest program API.  Each call goes to the environment's
 * ops (bare metal or vCPU); interrupts are delivered between steps. */
#include "mvpmu/guest.h"

static int count_fault(struct mv_guest *g, int fault)
{
	if (fault)
		g->nr_faults++;
	return fault;
}

int mv_wrmsr_safe(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	return count_fault(g, g->ops->wrmsr(g, msr, val));
}

int mv_rdmsr_safe(struct mv_guest *g, uint32_t msr, uint64_t *val)
{
	return count_fault(g, g->ops->rdmsr(g, msr, val));
}

int mv_rdpmc_safe(struct mv_guest *g, uint32_t ecx, uint64_t *val)
{
	return count_fault(g, g->ops->rdpmc(g, ecx, val));
}

void mv_cpuid(struct mv_guest *g, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	g->ops->cpuid(g, leaf, sub, r);
}

void mv_run(struct mv_guest *g, const struct mv_work *w)
{
	const char *label = g->label;
	bool kernel = g->kernel;

	g->label = w->label;
	g->kernel = w->kernel;
	g->ops->run(g, w);
	g->label = label;
	g->kernel = kernel;
}

void mv_emulate(struct mv_guest *g, bool branch)
{
	g->ops->emulate(g, branch);
}

void mv_set_cpl(struct mv_guest *g, unsigned cpl)
{
	g->ops->set_cpl(g, cpl);
}

void mv_set_cr4_pce(struct mv_guest *g, bool pce)
{
	g->ops->set_cr4_pce(g, pce);
}

void mv_set_irq_handler(struct mv_guest *g, mv_irq_fn fn, void *arg)
{
	g->irq = fn;
	g->irq_arg = arg;
}

bool mv_guest_deliver(struct mv_guest *g, unsigned vector)
{
	if (g->in_irq)
		return false;
	g->nr_irqs++;
	if (g->irq) {
		g->in_irq = true;
		g->irq(g, vector, g->irq_arg);
		g->in_irq = false;
	}
	return true;
}
