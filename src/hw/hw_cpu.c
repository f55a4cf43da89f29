/* hw_cpu: MSR / CPUID / RDPMC dispatch with architectural faults, the local
 * APIC's LVTPC, and the counter engine that executes blocks of work,
 * splitting them at the exact event where a counter wraps. */
#include <string.h>

#include "hw_cpu.h"

#define FIXED_IDX_BASE 32	/* status/enable bit of fixed counter 0 */

/* Intel SDM vol. 3 table 21-2: fixed 0 instructions, 1 core cycles,
 * 2 reference cycles, 3 topdown slots. */
enum mv_event hw_fixed_event(unsigned i)
{
	static const enum mv_event fixed_ev[HW_MAX_FIXED] = {
		MV_EV_INSTRUCTIONS, MV_EV_CYCLES, MV_EV_REF_CYCLES,
		MV_EV_TOPDOWN_SLOTS,
	};
	return i < HW_MAX_FIXED ? fixed_ev[i] : MV_EV_NR;
}

const struct hw_pmu_ops *hw_pmu_ops_for(const struct hw_model *model)
{
	return model->vendor == HW_INTEL ? &hw_pmu_intel_ops : &hw_pmu_amd_ops;
}

int hw_decode_event(enum hw_vendor vendor, uint64_t sel)
{
	return (vendor == HW_INTEL ? &hw_pmu_intel_ops : &hw_pmu_amd_ops)->decode(sel);
}

void hw_cpu_init(struct hw_cpu *cpu, int id, struct sim *sim,
		 const struct hw_model *model)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->id = id;
	cpu->sim = sim;
	cpu->model = model;
	cpu->cost = model->cost;
	cpu->ops = hw_pmu_ops_for(model);
	cpu->apic.lvtpc = APIC_LVTPC_RESET;
	hw_apic_misc_reset(&cpu->apic.misc);
	hw_cpu_set_bucket(cpu, SIM_T_HOST);
	cpu->ops->reset(cpu);
}

/* ---- local APIC ---- */


static void deliver(struct hw_cpu *cpu, unsigned vector, bool nmi)
{
	if (nmi && cpu->in_nmi && !cpu->guest_mode) {
		cpu->nmi_latched = true;	/* NMIs are blocked until IRET */
		return;
	}
	do {
		cpu->nmi_latched = false;
		if (cpu->guest_mode && cpu->hooks.guest_intr) {
			cpu->hooks.guest_intr(cpu, vector, nmi, cpu->hooks.guest_opaque);
		} else if (cpu->hooks.intr) {
			bool was = cpu->in_nmi;

			sim_advance(cpu->sim, cpu->model->cost.irq_entry, cpu->bucket);			cpu->in_nmi = cpu->in_nmi || nmi;
			cpu->hooks.intr(cpu, vector, nmi, cpu->hooks.intr_opaque);
			cpu->in_nmi = was;
		} else {
			sim_trace(cpu->sim, TR_NOTE, vector, nmi, 0, "interrupt with no handler");
		}
	} while (cpu->nmi_latched && !cpu->in_nmi);
}

void hw_apic_pmi(struct hw_cpu *cpu)
{
	uint32_t lvt = cpu->apic.lvtpc;

	if (lvt & APIC_LVT_MASKED) {
		sim_trace(cpu->sim, TR_PMI_DROPPED, lvt, 0, 0, "lvtpc masked");
		return;
	}
	/* A globally disabled APIC delivers nothing (SDM 11.4.3). */
	if (!hw_apic_enabled(&cpu->apic.misc)) {
		sim_trace(cpu->sim, TR_PMI_DROPPED, lvt, 0, 0, "apic disabled");
		return;
	}
	bool nmi = (lvt & APIC_LVT_DM_MASK) == APIC_DM_NMI;
	unsigned vector = nmi ? NMI_VECTOR : (lvt & APIC_LVT_VECTOR);

	/* SDM vol. 3 11.5.1: on Intel the LVTPC mask bit is set when the PMI
	 * is delivered; AMD's APIC leaves it clear (FACTS.md s.1). */
	if (cpu->ops->lvtpc_mask_on_pmi)
		cpu->apic.lvtpc |= APIC_LVT_MASKED;
	cpu->nr_pmis++;
	sim_trace(cpu->sim, TR_PMI, vector, nmi, cpu->apic.lvtpc, cpu->guest_mode ? "in guest" : "in host");
	deliver(cpu, vector, nmi);
}

/* ---- retiring WRMSRs ---- */

/* The fault a write would take, found on a scratch copy of the CPU (the
 * vendor ops touch nothing but the CPU's own state, and trace nothing). */
static int wrmsr_fault(const struct hw_cpu *cpu, uint32_t msr, uint64_t val)
{
	struct hw_cpu tmp = *cpu;
	int fault = X86_GP;

	if (hw_common_wrmsr_fault(cpu, msr, val, &fault))
		return fault;
	fault = tmp.ops->wrmsr(&tmp, msr, val);
	return fault == HW_MSR_NOT_MINE ? X86_GP : fault;
}

int hw_wrmsr_retire(struct hw_cpu *cpu, uint32_t msr, uint64_t val,
		    const struct mv_work *retire)
{
	if (wrmsr_fault(cpu, msr, val) == X86_OK)
		hw_run_work(cpu, retire);
	return hw_wrmsr(cpu, msr, val);
}

/* ---- CPUID (MSRs and RDPMC are inline in hw_cpu.h) ---- */

void hw_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	const struct hw_model *m = cpu->model;

	hw_cpu_enter(cpu, m->cost.cpuid);
	memset(r, 0, 4 * sizeof(r[0]));
	leaf = hw_cpuid_leaf(m, leaf);
	hw_cpuid_base(cpu, leaf, sub, r);
	cpu->ops->cpuid(cpu, leaf, sub, r);
	sim_trace(cpu->sim, TR_CPUID, leaf, ((uint64_t)r[0] << 32) | r[1],
		  ((uint64_t)r[2] << 32) | r[3], NULL);
}

/* ---- the counter engine ---- */

struct ctr_ref {
	uint64_t *val;
	uint64_t mask;
	int ev;
	bool fixed;
	unsigned idx;
};

static unsigned active_counters(struct hw_cpu *cpu, bool kernel,
				struct ctr_ref out[HW_MAX_GP + HW_MAX_FIXED])
{
	unsigned n = 0;

	for (unsigned i = 0; i < cpu->model->nr_gp; i++) {
		int ev;

		/* Enabled first (a bit test), the event only then (a table). */
		if (!cpu->ops->gp_active(cpu, i, kernel) ||
		    (ev = cpu->ops->decode(cpu->pmu.gp_sel[i])) < 0)
			continue;
		out[n++] = (struct ctr_ref){ &cpu->pmu.gp_ctr[i],
			hw_pmu_counter_mask(cpu, false), ev, false, i };
	}
	for (unsigned i = 0; i < HW_MAX_FIXED; i++)
		if (cpu->ops->fixed_active(cpu, i, kernel))
			out[n++] = (struct ctr_ref){ &cpu->pmu.fixed_ctr[i],
				hw_pmu_counter_mask(cpu, true), (int)hw_fixed_event(i), true, i };
	return n;
}

/* Events of kind e are spread evenly over the block's positions 0..M:
 * by position p, floor(ev[e] * p / M) of them have happened. */
static uint64_t cum(uint64_t count, uint64_t p, uint64_t m)
{
	unsigned __int128 x = (unsigned __int128)count * p;

	/* A 64-bit division when the product fits (the library's 128-bit
	 * one is a call): the same quotient. */
	if (!(uint64_t)(x >> 64))
		return (uint64_t)x / m;
	return (uint64_t)(x / m);
}

/* First position after `pos` by which `need` more events of a kind with
 * `count` events in M positions have happened; UINT64_MAX when never. */
static uint64_t position_of(uint64_t count, uint64_t m, uint64_t pos,
			    uint64_t need)
{
	if (count == 0)
		return UINT64_MAX;
	unsigned __int128 target = (unsigned __int128)cum(count, pos, m) + need;
	unsigned __int128 num = target * m + count - 1;
	unsigned __int128 p = !(uint64_t)(num >> 64) ? (uint64_t)num / count : num / count;

	return p > m ? UINT64_MAX : (uint64_t)p;
}

static uint64_t block_length(const struct mv_work *w)
{
	uint64_t m = 0;

	for (int e = 0; e < MV_EV_NR; e++)
		if (w->ev[e] > m)
			m = w->ev[e];
	return m;
}

static void run_piece(struct hw_cpu *cpu, const struct mv_work *w,
		      uint64_t m, uint64_t from, uint64_t to,
		      struct ctr_ref *ctr, unsigned nr)
{
	uint64_t d[MV_EV_NR];
	bool pmi = false;

	for (int e = 0; e < MV_EV_NR; e++)
		d[e] = cum(w->ev[e], to, m) - cum(w->ev[e], from, m);
	for (unsigned i = 0; i < nr; i++) {
		uint64_t before = *ctr[i].val;
		uint64_t left = ctr[i].mask - before + 1;

		*ctr[i].val = (before + d[ctr[i].ev]) & ctr[i].mask;
		if (d[ctr[i].ev] >= left) {
			sim_trace(cpu->sim, TR_OVERFLOW, ctr[i].fixed ? 32 + ctr[i].idx : ctr[i].idx,
				  ctr[i].idx, 0, NULL);
			pmi |= cpu->ops->overflow(cpu, ctr[i].fixed, ctr[i].idx);
		}
	}
	sim_truth_add(&cpu->sim->truth, cpu->ctx, w->kernel, w->label, d);
	hw_cpu_where(cpu);
	sim_advance(cpu->sim, d[MV_EV_CYCLES], cpu->charge);
	sim_trace(cpu->sim, TR_WORK, w->kernel, d[MV_EV_INSTRUCTIONS],
		  d[MV_EV_CYCLES], w->label);
	if (cpu->skid_left && d[MV_EV_INSTRUCTIONS])
		cpu->skid_left -= d[MV_EV_INSTRUCTIONS] < cpu->skid_left ?
				  d[MV_EV_INSTRUCTIONS] : cpu->skid_left;
	if (pmi) {
		cpu->pmi_pending = true;
		cpu->skid_left = cpu->skid;
	}
}

/* The next position at which something happens: a counter wraps, or a
 * skidded PMI becomes due. */
static uint64_t next_stop(const struct hw_cpu *cpu, const struct mv_work *w,
			  uint64_t m, uint64_t pos, struct ctr_ref *ctr,
			  unsigned nr)
{
	uint64_t stop = m;

	for (unsigned i = 0; i < nr; i++) {
		uint64_t left = ctr[i].mask - *ctr[i].val + 1;
		uint64_t p = position_of(w->ev[ctr[i].ev], m, pos, left);

		if (p < stop)
			stop = p;
	}
	if (cpu->pmi_pending && cpu->skid_left) {
		uint64_t p = position_of(w->ev[MV_EV_INSTRUCTIONS], m, pos,
					 cpu->skid_left);
		if (p < stop)
			stop = p;
	}
	return stop;
}

static void deliver_pending_pmi(struct hw_cpu *cpu)
{
	if (!cpu->pmi_pending || cpu->skid_left)
		return;
	cpu->pmi_pending = false;
	hw_apic_pmi(cpu);
}

void hw_run_work(struct hw_cpu *cpu, const struct mv_work *w)
{
	uint64_t m = block_length(w);
	uint64_t pos = 0;
	struct ctr_ref ctr[HW_MAX_GP + HW_MAX_FIXED];

	const char *saved_label = cpu->cur_label;
	bool saved_kernel = cpu->cur_kernel;

	cpu->cur_label = w->label;
	cpu->cur_kernel = w->kernel;
	deliver_pending_pmi(cpu);
	while (pos < m) {
		/* Recomputed each piece: an interrupt handler may have
		 * reprogrammed the PMU, or a VM-exit switched it. */
		unsigned nr = active_counters(cpu, w->kernel, ctr);
		uint64_t to = next_stop(cpu, w, m, pos, ctr, nr);

		if (to <= pos)
			to = pos + 1;
		run_piece(cpu, w, m, pos, to, ctr, nr);
		pos = to;
		cpu->cur_label = w->label;
		cpu->cur_kernel = w->kernel;
		deliver_pending_pmi(cpu);
	}
	cpu->cur_label = saved_label;
	cpu->cur_kernel = saved_kernel;
}

void hw_pmu_headroom(struct hw_cpu *cpu, bool kernel, struct hw_headroom *h)
{
	struct ctr_ref ctr[HW_MAX_GP + HW_MAX_FIXED];
	unsigned nr = active_counters(cpu, kernel, ctr);

	for (int e = 0; e < MV_EV_NR; e++)
		h->ev[e] = UINT64_MAX;
	for (unsigned i = 0; i < nr; i++) {
		uint64_t left = ctr[i].mask - *ctr[i].val + 1;

		if (left < h->ev[ctr[i].ev])
			h->ev[ctr[i].ev] = left;
	}
	h->skid = cpu->pmi_pending ? cpu->skid_left : UINT64_MAX;
}
