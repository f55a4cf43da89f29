/* perf_amd: the AMD part of the x86 perf driver: legacy / PerfCtrExtCore /
 * PerfMonV2 counters, Host/GuestOnly bits, the v2 PMI handler, reload-virt. */
#include <errno.h>

#include "host/perf_internal.h"

#define AMD_CNT_WIDTH 48	/* APM vol. 2 13.2: counters are 48 bits */

static const uint64_t amd_map[PERF_COUNT_HW_MAX] = {
	[PERF_COUNT_HW_CPU_CYCLES] = 0x0076,
	[PERF_COUNT_HW_INSTRUCTIONS] = 0x00C0,
	[PERF_COUNT_HW_CACHE_REFERENCES] = 0xFF60,
	[PERF_COUNT_HW_CACHE_MISSES] = 0x0964,
	[PERF_COUNT_HW_BRANCH_INSTRUCTIONS] = 0x00C2,
	[PERF_COUNT_HW_BRANCH_MISSES] = 0x00C3,
	[PERF_COUNT_HW_REF_CPU_CYCLES] = 0,	/* none on AMD */
};

static bool amd_init(struct perf *p)
{
	uint32_t r[4] = { 0 };
	uint32_t max_ext;

	p->ops->cpuid(p->hw[0], 0x80000000, 0, r);
	max_ext = r[0];
	if (max_ext >= 0x80000001) {
		p->ops->cpuid(p->hw[0], 0x80000001, 0, r);
		p->amd_perfctr_core = (r[2] & CPUID_80000001_ECX_PERFCTR_CORE) != 0;
	}
	p->nr_gp = p->amd_perfctr_core ? 6 : 4;
	p->version = 1;
	if (max_ext >= 0x80000022) {
		p->ops->cpuid(p->hw[0], 0x80000022, 0, r);
		if (r[0] & CPUID_80000022_EAX_PERFMON_V2) {
			p->version = 2;
			p->nr_gp = r[1] & 0xF;
		}
	}
	if (p->nr_gp > PERF_X86_MAX_GP)
		p->nr_gp = PERF_X86_MAX_GP;
	p->gp_width = AMD_CNT_WIDTH;
	p->has_global = p->version >= 2;
	/* Counters take full 48-bit writes: max period width-1 bits. */
	p->max_period = X86_MASK(AMD_CNT_WIDTH - 1);
	/* Linux 7.0: the mediated vPMU needs PerfMonV2 on AMD. */
	p->mediated_capable = p->version >= 2;
	return true;
}

uint64_t perf_amd_generic_config(unsigned id)
{
	return id < PERF_COUNT_HW_MAX ? amd_map[id] : 0;
}

static int amd_event_map(struct perf *p, unsigned id, uint64_t *config)
{
	(void)p;
	if (!amd_map[id])
		return -ENOENT;
	*config = amd_map[id];
	return 0;
}

static uint64_t amd_hw_config(struct perf *p, int cpu,
			      const struct perf_event *ev)
{
	uint64_t sel = ev->config;
	bool user = !ev->attr.exclude_user, kernel = !ev->attr.exclude_kernel;

	(void)p;
	if (ev->attr.exclude_host && ev->attr.exclude_guest) {
		/* HO == GO == 1 counts everywhere; Linux emulates "count
		 * nowhere" by clearing USR and OS (amd_core_hw_config). */
		user = kernel = false;
	} else if (ev->attr.exclude_host) {
		sel |= AMD_EVTSEL_GUESTONLY;
	} else if (ev->attr.exclude_guest) {
		sel |= AMD_EVTSEL_HOSTONLY;
	}
	if (user)
		sel |= EVTSEL_USR;
	if (kernel)
		sel |= EVTSEL_OS;
	/* x86_pmu_hw_config: INT for every event, counting ones too. */
	sel |= EVTSEL_INT;
	/* With EFER.SVME=0 a HostOnly counter counts nothing, so Linux
	 * strips HostOnly until SVM is enabled (perf_ctr_virt_mask). */
	if (!p->cpu[cpu].amd_virt)
		sel &= ~AMD_EVTSEL_HOSTONLY;
	return sel;
}

static uint32_t amd_sel_msr(const struct perf *p, unsigned idx)
{
	return p->amd_perfctr_core ? MSR_F15H_PERF_CTL0 + 2 * idx :
		MSR_K7_EVNTSEL0 + idx;
}

static uint32_t amd_ctr_msr(const struct perf *p, unsigned idx)
{
	return p->amd_perfctr_core ? MSR_F15H_PERF_CTR0 + 2 * idx :
		MSR_K7_PERFCTR0 + idx;
}

static void amd_set_en(struct perf *p, int cpu, bool en)
{
	for (unsigned i = 0; i < p->nr_gp; i++) {
		const struct perf_event *ev = p->cpu[cpu].active[i];

		if (!ev)
			continue;
		perf_x86_wrmsr(p, cpu, amd_sel_msr(p, i),
			       amd_hw_config(p, cpu, ev) | (en ? EVTSEL_EN : 0));
	}
}

static uint64_t amd_global_cntr_mask(const struct perf *p)
{
	return X86_MASK(p->nr_gp);
}

static void amd_enable_all(struct perf *p, int cpu)
{
	if (!p->has_global) {
		amd_set_en(p, cpu, true);
		return;
	}
	/* Linux amd_pmu_v2_enable_all sets every supported GlobalCtl bit,
	 * whatever is scheduled; idle counters have EN clear. */
	perf_x86_wrmsr(p, cpu, MSR_AMD_GLOBAL_CTL, amd_global_cntr_mask(p));
}

static void amd_disable_all(struct perf *p, int cpu)
{
	if (!p->has_global) {
		amd_set_en(p, cpu, false);
		return;
	}
	perf_x86_wrmsr(p, cpu, MSR_AMD_GLOBAL_CTL, 0);
}

static bool amd_v2_handle_irq(struct perf *p, int cpu)
{
	uint64_t status;

	/* No LVTPC write: AMD's APIC does not mask LVTPC on delivery. */
	p->cpu[cpu].disable_depth++;
	perf_x86_wrmsr(p, cpu, MSR_AMD_GLOBAL_CTL, 0);
	status = perf_x86_rdmsr(p, cpu, MSR_AMD_GLOBAL_STATUS);
	perf_x86_handle_status(p, cpu, status & amd_global_cntr_mask(p));
	if (status)
		perf_x86_wrmsr(p, cpu, MSR_AMD_GLOBAL_STATUS_CLR, status);
	if (--p->cpu[cpu].disable_depth == 0)
		amd_enable_all(p, cpu);
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, status != 0, status,
		  "pmi amd v2");
	return status != 0;
}

static bool amd_handle_irq(struct perf *p, int cpu)
{
	if (p->has_global)
		return amd_v2_handle_irq(p, cpu);
	return perf_x86_handle_irq_legacy(p, cpu);
}

/* Linux amd_pmu_reload_virt: stop, rewrite every selector with the new
 * HostOnly policy, start again (on v2 that sets every GlobalCtl bit). */
static void amd_reload_virt(struct perf *p, int cpu)
{
	if (p->cpu[cpu].guest_loaded && p->mediated_capable)
		return;	/* the PMU holds guest state; put reloads it */
	amd_disable_all(p, cpu);
	for (unsigned i = 0; i < p->nr_gp; i++) {
		const struct perf_event *ev = p->cpu[cpu].active[i];

		if (ev)
			perf_x86_wrmsr(p, cpu, amd_sel_msr(p, i),
				       amd_hw_config(p, cpu, ev) | EVTSEL_EN);
	}
	amd_enable_all(p, cpu);
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, p->cpu[cpu].amd_virt, 0,
		  "amd reload virt");
}

static bool amd_cpu_ok(const struct perf *p, int cpu)
{
	return p->has_pmu && p->x86 == &perf_amd_ops && cpu >= 0 &&
		cpu < p->nr_cpus;
}

void perf_amd_enable_virt(struct perf *p, int cpu)
{
	if (!amd_cpu_ok(p, cpu))
		return;
	p->cpu[cpu].amd_virt = true;
	amd_reload_virt(p, cpu);
}

void perf_amd_disable_virt(struct perf *p, int cpu)
{
	if (!amd_cpu_ok(p, cpu))
		return;
	p->cpu[cpu].amd_virt = false;
	amd_reload_virt(p, cpu);
}

const struct perf_x86_ops perf_amd_ops = {
	.name = "amd",
	.init = amd_init,
	.event_map = amd_event_map,
	.fixed_idx = NULL,
	.raw_mask = EVTSEL_EVENT | EVTSEL_UMASK | EVTSEL_EDGE | EVTSEL_INV |
		    EVTSEL_CMASK | AMD_EVTSEL_EVENT_HI,
	.hw_config = amd_hw_config,
	.sel_msr = amd_sel_msr,
	.ctr_msr = amd_ctr_msr,
	.enable_all = amd_enable_all,
	.disable_all = amd_disable_all,
	.handle_irq = amd_handle_irq,
	.guest_get_msrs = NULL,
};
