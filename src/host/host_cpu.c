/* host_cpu: the host kernel's binding of perf to simulated CPUs: direct
 * hw_cpu access for perf, and the NMI chain / IRQ vector dispatch. */
#include <stdlib.h>

#include "host/host_cpu.h"
#include "host/perf_internal.h"

/* ---- perf_hw_ops on a struct hw_cpu ---- */

static int host_wrmsr(void *hw, uint32_t msr, uint64_t val)
{
	return hw_wrmsr(hw, msr, val);
}

static int host_rdmsr(void *hw, uint32_t msr, uint64_t *val)
{
	return hw_rdmsr(hw, msr, val);
}

static void host_cpuid(void *hw, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	hw_cpuid(hw, leaf, sub, r);
}

static const char *host_cur_label(void *hw)
{
	return ((struct hw_cpu *)hw)->cur_label;
}

static bool host_cur_kernel(void *hw)
{
	return ((struct hw_cpu *)hw)->cur_kernel;
}

static const char *host_model_name(void *hw)
{
	return ((struct hw_cpu *)hw)->model->name;
}

const struct perf_hw_ops host_hw_ops = {
	.wrmsr = host_wrmsr,
	.rdmsr = host_rdmsr,
	.cpuid = host_cpuid,
	.cur_label = host_cur_label,
	.cur_kernel = host_cur_kernel,
	.model_name = host_model_name,
};

/* ---- interrupt dispatch ---- */

struct host_kernel {
	struct perf *perf;
	struct hw_cpu *cpus[PERF_MAX_CPUS];
	int nr;
	struct {
		host_nmi_fn fn;
		void *arg;
	} nmi[HOST_MAX_NMI_HANDLERS];
	unsigned nr_nmi;
	struct {
		host_irq_fn fn;
		void *arg;
	} vec[HOST_NR_VECTORS];
	/* IRQs that arrived with interrupts disabled, per CPU, and which of
	 * its words have a bit set (so an enable with nothing held is one
	 * test). */
	uint64_t pending[PERF_MAX_CPUS][HOST_NR_VECTORS / 64];
	uint8_t pending_words[PERF_MAX_CPUS];
	struct host_stats st;
};

_Static_assert(HOST_NR_VECTORS / 64 <= 8, "pending_words has a bit per word");

static struct host_kernel *host_of(const struct perf *p)
{
	return p ? p->host : NULL;
}

static bool perf_nmi(void *arg, int cpu)
{
	return perf_pmi(arg, cpu);
}

static void perf_vec(void *arg, int cpu, unsigned vector)
{
	(void)vector;
	perf_guest_pmi_irq(arg, cpu);
}

static void dispatch_irq(struct host_kernel *hk, int cpu, unsigned vector)
{
	hk->st.irqs++;
	sim_trace(hk->perf->sim, TR_IRQ, vector, 0, (uint64_t)cpu, "host");
	if (hk->vec[vector].fn) {
		hk->vec[vector].fn(hk->vec[vector].arg, cpu, vector);
		return;
	}
	hk->st.spurious_irqs++;
	sim_trace(hk->perf->sim, TR_PERF, (uint32_t)cpu, vector, 0,
		  "spurious irq");
}

static void dispatch_nmi(struct host_kernel *hk, int cpu)
{
	bool handled = false;

	hk->st.nmis++;
	/* Every handler of the chain runs, as Linux nmi_handle does for
	 * local NMIs: several sources may have fired at once. */
	for (unsigned i = 0; i < hk->nr_nmi; i++)
		handled |= hk->nmi[i].fn(hk->nmi[i].arg, cpu);
	if (!handled) {
		hk->st.unknown_nmis++;
		sim_trace(hk->perf->sim, TR_PERF, (uint32_t)cpu, 0, 0,
			  "unknown nmi");
	}
}

void host_handle_intr(struct perf *p, int cpu, unsigned vector, bool nmi)
{
	struct host_kernel *hk = host_of(p);

	if (!hk || cpu < 0 || cpu >= hk->nr)
		return;
	if (nmi) {
		dispatch_nmi(hk, cpu);
		return;
	}
	vector &= HOST_NR_VECTORS - 1;
	if (perf_irqs_disabled(p, cpu)) {
		/* Held in the APIC until the CPU enables interrupts. */
		hk->pending[cpu][vector / 64] |= X86_BIT(vector % 64);
		hk->pending_words[cpu] |= (uint8_t)(1u << (vector / 64));
		hk->st.deferred_irqs++;
		return;
	}
	dispatch_irq(hk, cpu, vector);
}

int host_cpu_index(const struct perf *p, const struct hw_cpu *hw)
{
	const struct host_kernel *hk = host_of(p);

	for (int i = 0; hk && i < hk->nr; i++)
		if (hk->cpus[i] == hw)
			return i;
	return -1;
}

static void host_intr(struct hw_cpu *cpu, unsigned vector, bool nmi,
		      void *opaque)
{
	struct perf *p = opaque;

	host_handle_intr(p, host_cpu_index(p, cpu), vector, nmi);
}

/* Delivers held IRQs, highest vector first as the APIC prioritises, each
 * at most once per enable: after a handler only vectors below it are
 * looked at (a handler that re-enables interrupts delivers the rest
 * itself).  The pending bitmap's words are searched with clz rather than
 * testing all 256 vectors. */
static void host_irq_enabled(struct perf *p, int cpu)
{
	struct host_kernel *hk = host_of(p);
	int limit = HOST_NR_VECTORS - 1;	/* highest vector still to look at */

	if (!hk || cpu < 0 || cpu >= hk->nr || !hk->pending_words[cpu])
		return;
	while (limit >= 0) {
		uint64_t *pend = hk->pending[cpu];
		int w = limit / 64;
		uint64_t bits = pend[w] & (limit % 64 == 63 ? ~0ULL : X86_BIT(limit % 64 + 1) - 1);
		unsigned v;

		while (!bits && w > 0)
			bits = pend[--w];
		if (!bits)
			return;
		if (perf_irqs_disabled(p, cpu))
			return;	/* a handler disabled them again */
		v = (unsigned)(w * 64 + 63 - __builtin_clzll(bits));
		pend[w] &= ~X86_BIT(v % 64);
		if (!pend[w])
			hk->pending_words[cpu] &= (uint8_t)~(1u << w);
		limit = (int)v - 1;
		dispatch_irq(hk, cpu, v);
	}
}

bool host_register_nmi(struct perf *p, host_nmi_fn fn, void *arg)
{
	struct host_kernel *hk = host_of(p);

	if (!hk || !fn || hk->nr_nmi == HOST_MAX_NMI_HANDLERS)
		return false;
	hk->nmi[hk->nr_nmi].fn = fn;
	hk->nmi[hk->nr_nmi].arg = arg;
	hk->nr_nmi++;
	return true;
}

bool host_register_irq(struct perf *p, unsigned vector, host_irq_fn fn,
		       void *arg)
{
	struct host_kernel *hk = host_of(p);

	if (!hk || vector >= HOST_NR_VECTORS)
		return false;
	hk->vec[vector].fn = fn;
	hk->vec[vector].arg = arg;
	return true;
}

void host_get_stats(const struct perf *p, struct host_stats *out)
{
	const struct host_kernel *hk = host_of(p);

	if (out)
		*out = hk ? hk->st : (struct host_stats){ 0 };
}

static void host_free(void *host)
{
	free(host);
}

struct perf *host_perf_new(struct sim *sim, struct hw_cpu *cpus[], int n)
{
	void *hw[PERF_MAX_CPUS];
	struct host_kernel *hk;
	struct perf *p;

	if (!cpus || n < 1 || n > PERF_MAX_CPUS)
		return NULL;
	hk = calloc(1, sizeof(*hk));
	if (!hk)
		return NULL;
	for (int i = 0; i < n; i++) {
		hk->cpus[i] = cpus[i];
		hw[i] = cpus[i];
	}
	hk->nr = n;
	p = perf_new(sim, 0, n, &host_hw_ops, hw);
	if (!p) {
		free(hk);
		return NULL;
	}
	hk->perf = p;
	p->host = hk;
	for (int i = 0; i < n; i++)
		p->direct[i] = cpus[i];	/* host_hw_ops are hw_wrmsr/hw_rdmsr */
	p->host_free = host_free;
	p->on_irq_enable = host_irq_enabled;
	/* perf's PMU handler is registered first, as at Linux boot. */
	host_register_nmi(p, perf_nmi, p);
	host_register_irq(p, PERF_GUEST_MEDIATED_PMI_VECTOR, perf_vec, p);
	for (int i = 0; i < n; i++) {
		cpus[i]->hooks.intr = host_intr;
		cpus[i]->hooks.intr_opaque = p;
	}
	return p;
}
