/* perf_x86: the vendor-neutral part of the x86 perf driver: discovery,
 * counter assignment and programming, period arming, the PMI entry point. */
#include <errno.h>
#include <string.h>

#include "host/perf_internal.h"

void perf_x86_msr_fault(struct perf *p, uint32_t msr, uint64_t val, int fault, bool write)
{
	p->nr_msr_faults++;
	sim_trace(p->sim, TR_PERF, msr, val, (uint64_t)fault, write ? "wrmsr fault" : "rdmsr fault");
}

/* Linux sets late_ack for the big cores since Haswell and mid_ack for
 * Alder Lake's Atom cores (arch/x86/events/intel/core.c, intel_pmu_init);
 * everything else acks at entry. */
static const struct {
	const char *model;
	enum perf_ack ack;
} ack_table[] = {
	{ "haswell", PERF_ACK_LATE },
	{ "broadwell", PERF_ACK_LATE },
	{ "skylake", PERF_ACK_LATE },
	{ "cascadelake", PERF_ACK_LATE },
	{ "icelake", PERF_ACK_LATE },
	{ "tigerlake", PERF_ACK_LATE },
	{ "sapphirerapids", PERF_ACK_LATE },
	{ "emeraldrapids", PERF_ACK_LATE },
	{ "graniterapids", PERF_ACK_LATE },
	{ "alderlake", PERF_ACK_LATE },
	{ "alderlake_atom", PERF_ACK_MID },
	{ "gracemont", PERF_ACK_MID },
};

enum perf_ack perf_x86_ack_for_model(const char *model)
{
	if (!model)
		return PERF_ACK_EARLY;
	for (size_t i = 0; i < sizeof(ack_table) / sizeof(ack_table[0]); i++)
		if (!strcmp(ack_table[i].model, model))
			return ack_table[i].ack;
	return PERF_ACK_EARLY;
}

void perf_x86_set_ack(struct perf *p, enum perf_ack ack)
{
	p->ack = ack;
}

static void vendor_of(struct perf *p, char v[13])
{
	uint32_t r[4] = { 0 };

	/* CPUID 0: the vendor string is EBX, EDX, ECX. */
	p->ops->cpuid(p->hw[0], 0, 0, r);
	memcpy(v, &r[1], 4);
	memcpy(v + 4, &r[3], 4);
	memcpy(v + 8, &r[2], 4);
	v[12] = 0;
}

bool perf_x86_init(struct perf *p)
{
	char vendor[13];

	vendor_of(p, vendor);
	if (!strcmp(vendor, "GenuineIntel"))
		p->x86 = &perf_intel_ops;
	else if (!strcmp(vendor, "AuthenticAMD"))
		p->x86 = &perf_amd_ops;
	else
		return false;
	if (!p->x86->init(p) || !p->nr_gp)
		return false;
	for (unsigned i = 0; i < PERF_X86_MAX_GP; i++) {
		p->sel_msr[i] = p->x86->sel_msr(p, i);
		p->ctr_msr[i] = p->x86->ctr_msr(p, i);
	}
	p->width_mask[0] = X86_MASK(p->gp_width);
	p->width_mask[1] = X86_MASK(p->fixed_width);
	p->ack = perf_x86_ack_for_model(p->ops->model_name ?
					p->ops->model_name(p->hw[0]) : NULL);
	for (int c = 0; c < p->nr_cpus; c++) {
		/* Linux programs LVTPC for NMI delivery at CPU bring-up. */
		perf_x86_lvtpc_nmi(p, c);
		p->x86->disable_all(p, c);
	}
	sim_trace(p->sim, TR_PERF, p->version, p->nr_gp, p->nr_fixed,
		  p->x86->name);
	return true;
}

int perf_x86_event_init(struct perf *p, struct perf_event *ev)
{
	const struct perf_event_attr *a = &ev->attr;
	bool only = false;
	int ret;

	if (!p->has_pmu)
		return -ENOENT;
	switch (a->type) {
	case PERF_TYPE_HARDWARE:
		if (a->config >= PERF_COUNT_HW_MAX)
			return -EINVAL;
		ret = p->x86->event_map(p, (unsigned)a->config, &ev->config);
		if (ret)
			return ret;
		break;
	case PERF_TYPE_RAW:
		/* Like x86's raw mask: bits perf owns (EN, INT, USR/OS) are
		 * dropped, the exclude bits decide them. */
		ev->config = a->config & p->x86->raw_mask;
		break;
	default:
		return -EINVAL;
	}
	ev->fixed_idx = p->x86->fixed_idx ?
		p->x86->fixed_idx(p, ev->config, &only) : -1;
	ev->fixed_only = only;
	if (only && (ev->fixed_idx < 0 ||
		     !(p->fixed_mask & (1u << ev->fixed_idx))))
		return -ENOENT;
	return 0;
}

/* The helpers of scheduling in and out are always inlined: each wraps one
 * MSR access (itself inline), and a call per helper costs as much as the
 * work around the access. */
#define X86_INLINE static inline __attribute__((always_inline))

X86_INLINE uint64_t ctr_mask(const struct perf *p, int idx)
{
	return p->width_mask[idx >= PERF_IDX_FIXED];
}

uint64_t perf_x86_ctr_mask(const struct perf *p, int idx)
{
	return ctr_mask(p, idx);
}

X86_INLINE uint32_t ctr_msr(const struct perf *p, int idx)
{
	if (idx >= PERF_IDX_FIXED)
		return MSR_IA32_FIXED_CTR0 + (uint32_t)(idx - PERF_IDX_FIXED);
	return p->ctr_msr[idx & (PERF_X86_MAX_GP - 1)];	/* idx < nr_gp <= the maximum */
}

X86_INLINE void write_fixed_ctrl(struct perf *p, int cpu)
{
	perf_x86_wrmsr(p, cpu, MSR_IA32_FIXED_CTR_CTRL, p->cpu[cpu].fixed_ctrl);
}

static uint64_t fixed_bits(const struct perf_event *ev)
{
	uint64_t bits = 0;

	if (!ev->attr.exclude_kernel)
		bits |= FIXED_CTRL_OS;
	if (!ev->attr.exclude_user)
		bits |= FIXED_CTRL_USR;
	/* Every event interrupts (counting ones to fold their count). */
	bits |= FIXED_CTRL_PMI;
	return bits;
}

X86_INLINE uint64_t update(struct perf *p, int cpu, struct perf_event *ev)
{
	uint64_t raw, delta;

	if (ev->hw_idx < 0)
		return 0;
	raw = perf_x86_rdmsr(p, cpu, ctr_msr(p, ev->hw_idx));
	/* Modulo the counter width, as x86_perf_event_update does. */
	delta = (raw - ev->prev_raw) & ctr_mask(p, ev->hw_idx);
	ev->prev_raw = raw;
	ev->count += delta;
	if (ev->period)
		ev->period_left -= (int64_t)delta;
	return delta;
}

uint64_t perf_x86_update(struct perf *p, int cpu, struct perf_event *ev)
{
	return update(p, cpu, ev);
}

X86_INLINE void write_counter(struct perf *p, int cpu, struct perf_event *ev, uint64_t val)
{
	val &= ctr_mask(p, ev->hw_idx);
	perf_x86_wrmsr(p, cpu, ctr_msr(p, ev->hw_idx), val);
	ev->prev_raw = val;
}

X86_INLINE bool set_period(struct perf *p, int cpu, struct perf_event *ev)
{
	int64_t left = ev->period_left;
	bool elapsed = false;

	if (!ev->period) {
		/* Counting: as x86_setup_perfctr, a period of max_period, so
		 * the PMI folds the count long before the counter could wrap
		 * twice between two reads (a block may be any size). */
		write_counter(p, cpu, ev, (uint64_t)0 - p->max_period);
		return false;
	}
	if (left <= 0) {
		/* Overshoot (skid) shortens the next period, keeping the
		 * long-run rate at one sample per period. */
		left += (int64_t)ev->period;
		if (left <= 0)
			left = (int64_t)ev->period;
		ev->period_left = left;
		elapsed = true;
	}
	/* Legacy PMC writes sign-extend bit 31, so the preset must fit. */
	if ((uint64_t)left > p->max_period)
		left = (int64_t)p->max_period;
	write_counter(p, cpu, ev, (uint64_t)-left);
	return elapsed;
}

bool perf_x86_set_period(struct perf *p, int cpu, struct perf_event *ev)
{
	return set_period(p, cpu, ev);
}

/* Every counter whose bit is set in `status` overflowed: hand each active
 * event to perf_x86_overflow (both vendors' global-status handlers). */
void perf_x86_handle_status(struct perf *p, int cpu, uint64_t status)
{
	while (status) {
		int idx = __builtin_ctzll(status);
		struct perf_event *ev = p->cpu[cpu].active[idx];

		status &= status - 1;
		if (ev)
			perf_x86_overflow(p, cpu, ev);
	}
}

void perf_x86_overflow(struct perf *p, int cpu, struct perf_event *ev)
{
	perf_x86_update(p, cpu, ev);
	if (!ev->period) {
		/* A counting event used up max_period: count on from there. */
		perf_x86_set_period(p, cpu, ev);
		return;
	}
	if (perf_x86_set_period(p, cpu, ev))
		perf_event_record_sample(p, cpu, ev);
}

static void enable_gp(struct perf *p, int cpu, struct perf_event *ev)
{
	uint64_t sel = p->x86->hw_config(p, cpu, ev);

	/* With global enables the selector keeps EN; without them (v1,
	 * AMD before PerfMonV2) EN is the only switch, set by enable_all. */
	if (p->has_global || p->cpu[cpu].disable_depth == 0)
		sel |= EVTSEL_EN;
	perf_x86_wrmsr(p, cpu, p->sel_msr[ev->hw_idx & (PERF_X86_MAX_GP - 1)], sel);
}

void perf_x86_add(struct perf *p, int cpu, struct perf_event *ev, int idx)
{
	struct perf_cpu *pc = &p->cpu[cpu];

	perf_event_settle_running(p, ev);
	pc->active[idx] = ev;
	pc->active_mask |= X86_BIT(idx);
	ev->hw_idx = idx;
	/* A period that ran out while the PMI was still in flight (skid)
	 * would be lost to the reprogramming: take its sample now. */
	if (set_period(p, cpu, ev))
		perf_event_record_sample(p, cpu, ev);
	if (idx >= PERF_IDX_FIXED) {
		unsigned i = (unsigned)(idx - PERF_IDX_FIXED);

		pc->fixed_ctrl &= ~FIXED_CTRL_FIELD(i, 0xF);
		pc->fixed_ctrl |= FIXED_CTRL_FIELD(i, fixed_bits(ev));
		write_fixed_ctrl(p, cpu);
	} else {
		enable_gp(p, cpu, ev);
	}
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, ev->seq, (uint64_t)idx,
		  "sched in");
}

void perf_x86_del(struct perf *p, int cpu, struct perf_event *ev)
{
	struct perf_cpu *pc = &p->cpu[cpu];
	int idx = ev->hw_idx;

	if (idx < 0)
		return;
	if (idx >= PERF_IDX_FIXED) {
		pc->fixed_ctrl &= ~FIXED_CTRL_FIELD(idx - PERF_IDX_FIXED, 0xF);
		write_fixed_ctrl(p, cpu);
	} else {
		perf_x86_wrmsr(p, cpu, p->sel_msr[idx & (PERF_X86_MAX_GP - 1)], 0);
	}
	/* Read after stopping, so nothing counted in between is lost. */
	update(p, cpu, ev);
	perf_event_settle_running(p, ev);
	pc->active[idx] = NULL;
	pc->active_mask &= ~X86_BIT(idx);
	ev->hw_idx = -1;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, ev->seq, (uint64_t)idx,
		  "sched out");
}

void perf_pmu_disable(struct perf *p, int cpu)
{
	if (p->cpu[cpu].disable_depth++ == 0)
		p->x86->disable_all(p, cpu);
}

void perf_pmu_enable(struct perf *p, int cpu)
{
	if (--p->cpu[cpu].disable_depth == 0)
		p->x86->enable_all(p, cpu);
}

bool perf_pmi(struct perf *p, int cpu)
{
	struct perf_cpu *pc;

	if (!p->has_pmu || cpu < 0 || cpu >= p->nr_cpus)
		return false;
	pc = &p->cpu[cpu];
	/* Linux perf_event_nmi_handler: with no x86 event anywhere
	 * (active_events == 0) the NMI is not the PMU's to look at. */
	if (!p->events)
		return false;
	if (pc->guest_lvtpc) {
		/* The PMU belongs to the guest: its overflows arrive on the
		 * mediated vector, an NMI now is not ours to touch. */
		pc->nr_ignored_nmis++;
		sim_trace(p->sim, TR_PERF, (uint32_t)cpu, 0, 0,
			  "pmi ignored: guest lvtpc");
		return false;
	}
	pc->nr_pmis++;
	return p->x86->handle_irq(p, cpu);
}

unsigned perf_guest_get_msrs(struct perf *p, int cpu,
			     struct perf_guest_switch_msr *out, unsigned max)
{
	if (!p->has_pmu || cpu < 0 || cpu >= p->nr_cpus || !p->x86->guest_get_msrs)
		return 0;
	return p->x86->guest_get_msrs(p, cpu, out, max);
}

unsigned perf_nr_gp(const struct perf *p)
{
	return p->nr_gp;
}

unsigned perf_nr_fixed(const struct perf *p)
{
	return p->nr_fixed;
}

void perf_get_pmu_caps(const struct perf *p, struct perf_pmu_caps *out)
{
	*out = (struct perf_pmu_caps){ 0 };
	if (!p || !p->has_pmu)
		return;
	*out = (struct perf_pmu_caps){
		.version = p->version, .nr_gp = p->nr_gp, .nr_fixed = p->nr_fixed,
		.gp_width = p->gp_width, .fixed_width = p->nr_fixed ? p->fixed_width : 0,
		.mediated = p->mediated_capable,
	};
}

/* The generic handler (Intel v1, AMD before PerfMonV2): no status
 * register, so a counter whose top bit is clear after its negative preset
 * has wrapped (x86_pmu_handle_irq: counting events too, re-armed). */
bool perf_x86_handle_irq_legacy(struct perf *p, int cpu)
{
	unsigned handled = 0;

	/* Linux x86_pmu_handle_irq unmasks LVTPC at entry. */
	perf_x86_lvtpc_nmi(p, cpu);
	for (unsigned i = 0; i < p->nr_gp; i++) {
		struct perf_event *ev = p->cpu[cpu].active[i];

		if (!ev)
			continue;
		perf_x86_update(p, cpu, ev);
		if (ev->prev_raw & X86_BIT(p->gp_width - 1))
			continue;
		handled++;
		if (perf_x86_set_period(p, cpu, ev) && ev->period)
			perf_event_record_sample(p, cpu, ev);
	}
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, handled, 0, "pmi legacy");
	return handled > 0;
}
