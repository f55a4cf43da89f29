/* perf_intel: the Intel part of the x86 perf driver: architectural PMU
 * discovery (CPUID 0xA, PERF_CAPABILITIES), event map, PMI handler. */
#include <errno.h>

#include "host/perf_internal.h"

/* CPUID 0xA EBX bit order (SDM vol. 3 table 20-1 / FACTS.md s.1). */
enum { ARCH_CYCLES, ARCH_INSTR, ARCH_REF, ARCH_LLC_REF, ARCH_LLC_MISS,
       ARCH_BRANCH, ARCH_BRANCH_MISS };

/* Linux's pseudo-encoding for ref-cycles: event 0x00 umask 0x03, which
 * only fixed counter 2 accepts. */
#define INTEL_REF_CYCLES_PSEUDO 0x0300ULL

static const struct {
	int arch;		/* CPUID 0xA EBX bit, -1 none */
	uint64_t config;
} intel_map[PERF_COUNT_HW_MAX] = {
	[PERF_COUNT_HW_CPU_CYCLES] = { ARCH_CYCLES, 0x003C },
	[PERF_COUNT_HW_INSTRUCTIONS] = { ARCH_INSTR, 0x00C0 },
	[PERF_COUNT_HW_CACHE_REFERENCES] = { ARCH_LLC_REF, 0x4F2E },
	[PERF_COUNT_HW_CACHE_MISSES] = { ARCH_LLC_MISS, 0x412E },
	[PERF_COUNT_HW_BRANCH_INSTRUCTIONS] = { ARCH_BRANCH, 0x00C4 },
	[PERF_COUNT_HW_BRANCH_MISSES] = { ARCH_BRANCH_MISS, 0x00C5 },
	[PERF_COUNT_HW_REF_CPU_CYCLES] = { -1, INTEL_REF_CYCLES_PSEUDO },
};

static bool intel_init(struct perf *p)
{
	uint32_t r[4] = { 0 };
	unsigned nr_fixed_cpuid = 0;

	p->ops->cpuid(p->hw[0], 1, 0, r);
	/* PERF_CAPABILITIES exists only with PDCM (CPUID.1:ECX[15]). */
	if (r[2] & CPUID_1_ECX_PDCM)
		p->perf_caps = perf_x86_rdmsr(p, 0, MSR_IA32_PERF_CAPABILITIES);

	p->ops->cpuid(p->hw[0], 0xA, 0, r);
	p->version = r[0] & 0xFF;
	if (!p->version)
		return false;
	p->nr_gp = (r[0] >> 8) & 0xFF;
	if (p->nr_gp > PERF_X86_MAX_GP)
		p->nr_gp = PERF_X86_MAX_GP;
	p->gp_width = (r[0] >> 16) & 0xFF;
	p->arch_events_len = (r[0] >> 24) & 0xFF;
	p->arch_events_unavail = r[1];
	if (p->version >= 2) {
		nr_fixed_cpuid = r[3] & 0x1F;
		p->fixed_width = (r[3] >> 5) & 0xFF;
		for (unsigned i = 0; i < PERF_X86_MAX_FIXED; i++) {
			/* v5: fixed i exists iff ECX[i] or i < EDX[4:0]. */
			if (i < nr_fixed_cpuid ||
			    (p->version >= 5 && (r[2] & (1u << i))))
				p->fixed_mask |= 1u << i;
		}
	}
	p->nr_fixed = (unsigned)__builtin_popcount(p->fixed_mask);
	p->intel_ctrl = X86_MASK(p->nr_gp) | ((uint64_t)p->fixed_mask << GLOBAL_FIXED_SHIFT);
	p->has_global = p->version >= 2;
	p->fw_write = (p->perf_caps & PERF_CAP_FW_WRITE) != 0;
	/* Legacy PMC writes sign-extend from bit 31 (SDM 20.2.6):
	 * max period 2^31-1 unless full-width writes are available. */
	p->max_period = p->fw_write ? X86_MASK(p->gp_width - 1) :
		(1ULL << 31) - 1;
	/* Linux 7.0: intel_pmu_init sets PERF_PMU_CAP_MEDIATED_VPMU on the
	 * core PMU unconditionally; KVM checks v4+ and full-width writes
	 * itself (intel_pmu_is_mediated_pmu_supported). */
	p->mediated_capable = true;
	return true;
}

uint64_t perf_intel_generic_config(unsigned id)
{
	return id < PERF_COUNT_HW_MAX ? intel_map[id].config : 0;
}

static int intel_event_map(struct perf *p, unsigned id, uint64_t *config)
{
	int arch = intel_map[id].arch;

	if (arch >= 0 && ((unsigned)arch >= p->arch_events_len ||
			  (p->arch_events_unavail & (1u << arch))))
		return -ENOENT;
	*config = intel_map[id].config;
	return 0;
}

/* Fixed-counter constraints match the whole raw encoding, as Linux's
 * INTEL_FIXED_EVENT_CONSTRAINT does. */
static int intel_fixed_idx(const struct perf *p, uint64_t config, bool *only)
{
	(void)p;
	*only = false;
	switch (config) {
	case 0x00C0:
		return 0;
	case 0x003C:
		return 1;
	case INTEL_REF_CYCLES_PSEUDO:
		*only = true;
		return 2;
	}
	return -1;
}

static uint64_t intel_hw_config(struct perf *p, int cpu,
				const struct perf_event *ev)
{
	uint64_t sel = ev->config;

	(void)p;
	(void)cpu;
	if (!ev->attr.exclude_user)
		sel |= EVTSEL_USR;
	if (!ev->attr.exclude_kernel)
		sel |= EVTSEL_OS;
	/* x86_pmu_hw_config: INT for every event, counting ones too. */
	sel |= EVTSEL_INT;
	return sel;
}

static uint32_t intel_sel_msr(const struct perf *p, unsigned idx)
{
	(void)p;
	return MSR_IA32_PERFEVTSEL0 + idx;
}

static uint32_t intel_ctr_msr(const struct perf *p, unsigned idx)
{
	return (p->fw_write ? MSR_IA32_A_PMC0 : MSR_IA32_PMC0) + idx;
}

/* v1 has no GLOBAL_CTRL: each selector's EN is the switch. */
static void intel_v1_set_en(struct perf *p, int cpu, bool en)
{
	for (unsigned i = 0; i < p->nr_gp; i++) {
		const struct perf_event *ev = p->cpu[cpu].active[i];
		uint64_t sel;

		if (!ev)
			continue;
		sel = intel_hw_config(p, cpu, ev) | (en ? EVTSEL_EN : 0);
		perf_x86_wrmsr(p, cpu, intel_sel_msr(p, i), sel);
	}
}

/* Linux's intel_ctrl, computed at init. */
static uint64_t intel_counter_bits(const struct perf *p)
{
	return p->intel_ctrl;
}

/* Active events that count only in one mode: exclude_host (the guest
 * mask, KVM's legacy vPMU events) or exclude_guest (the host mask), as
 * perf's intel_ctrl_guest_mask / intel_ctrl_host_mask. */
static uint64_t intel_mode_mask(const struct perf *p, int cpu, bool guest_only)
{
	const struct perf_cpu *pc = &p->cpu[cpu];
	uint64_t mask = 0;

	/* active_mask has exactly the indexes whose active[] is set. */
	for (uint64_t m = pc->active_mask; m; m &= m - 1) {
		int idx = __builtin_ctzll(m);
		const struct perf_event *ev = pc->active[idx];

		if (guest_only ? ev->attr.exclude_host : ev->attr.exclude_guest)
			mask |= X86_BIT(idx);
	}
	return mask;
}

/* __intel_pmu_enable_all writes every counter bit but the guest mask
 * (intel_ctrl & ~intel_ctrl_guest_mask): idle counters are enabled too,
 * with their selectors and FIXED_CTR_CTRL fields off.  exclude_host
 * events stay off in host mode; KVM turns them on at VM-entry with the
 * value from perf_guest_get_msrs. */
static void intel_enable_all(struct perf *p, int cpu)
{
	if (!p->has_global) {
		intel_v1_set_en(p, cpu, true);
		return;
	}
	perf_x86_wrmsr(p, cpu, MSR_IA32_PERF_GLOBAL_CTRL,
		       intel_counter_bits(p) & ~intel_mode_mask(p, cpu, true));
}

static void intel_disable_all(struct perf *p, int cpu)
{
	if (!p->has_global) {
		intel_v1_set_en(p, cpu, false);
		return;
	}
	perf_x86_wrmsr(p, cpu, MSR_IA32_PERF_GLOBAL_CTRL, 0);
}

static void intel_ack_lvtpc(struct perf *p, int cpu, enum perf_ack at)
{
	/* Delivery sets the LVTPC mask bit on Intel; the handler clears it
	 * at the point its microarchitecture needs (FACTS.md s.1). */
	if (p->ack == at)
		perf_x86_lvtpc_nmi(p, cpu);
}

static bool intel_handle_irq(struct perf *p, int cpu)
{
	uint64_t status;
	bool handled = false;
	unsigned loops = 0;

	if (!p->has_global)
		return perf_x86_handle_irq_legacy(p, cpu);
	intel_ack_lvtpc(p, cpu, PERF_ACK_EARLY);
	/* Counted as a disabled section, so an overflow callback that
	 * reprograms an event does not re-enable the PMU under us. */
	p->cpu[cpu].disable_depth++;
	perf_x86_wrmsr(p, cpu, MSR_IA32_PERF_GLOBAL_CTRL, 0);
	status = perf_x86_rdmsr(p, cpu, MSR_IA32_PERF_GLOBAL_STATUS);
	while (status) {
		if (++loops > PERF_PMI_MAX_LOOPS) {
			/* Linux warns "irq loop stuck" and resets the PMU. */
			perf_bug(p, cpu, "pmi loop stuck");
			break;
		}
		handled = true;
		perf_x86_wrmsr(p, cpu, MSR_IA32_PERF_GLOBAL_OVF_CTRL, status);
		perf_x86_handle_status(p, cpu, status & intel_counter_bits(p));
		status = perf_x86_rdmsr(p, cpu, MSR_IA32_PERF_GLOBAL_STATUS);
	}
	intel_ack_lvtpc(p, cpu, PERF_ACK_MID);
	if (--p->cpu[cpu].disable_depth == 0)
		intel_enable_all(p, cpu);
	intel_ack_lvtpc(p, cpu, PERF_ACK_LATE);
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, handled, loops, "pmi intel");
	return handled;
}

static unsigned intel_guest_get_msrs(struct perf *p, int cpu,
				     struct perf_guest_switch_msr *out,
				     unsigned max)
{
	if (!p->has_global || max < 1)
		return 0;
	/* intel_guest_get_msrs: host = intel_ctrl & ~guest mask, guest =
	 * intel_ctrl & ~host mask (no PEBS in the model). */
	out[0].msr = MSR_IA32_PERF_GLOBAL_CTRL;
	out[0].host = intel_counter_bits(p) & ~intel_mode_mask(p, cpu, true);
	out[0].guest = intel_counter_bits(p) & ~intel_mode_mask(p, cpu, false);
	return 1;
}

const struct perf_x86_ops perf_intel_ops = {
	.name = "intel",
	.init = intel_init,
	.event_map = intel_event_map,
	.fixed_idx = intel_fixed_idx,
	.raw_mask = EVTSEL_EVENT | EVTSEL_UMASK | EVTSEL_EDGE | EVTSEL_INV |
		    EVTSEL_CMASK,
	.hw_config = intel_hw_config,
	.sel_msr = intel_sel_msr,
	.ctr_msr = intel_ctr_msr,
	.enable_all = intel_enable_all,
	.disable_all = intel_disable_all,
	.handle_irq = intel_handle_irq,
	.guest_get_msrs = intel_guest_get_msrs,
};
