/* hw_pmu_amd: AMD core performance counters: legacy K7 MSRs aliasing
 * counters 0-3, PerfCtrExtCore's six counters, PerfMonV2 global registers,
 * and the Host/Guest-only qualifiers (APM vol. 2 s.13.2; FACTS.md s.2). */
#include "hw_cpu.h"

#define AMD_LEGACY_CTRS 4

/* Bits the PERF_CTL register keeps; the rest are reserved and ignored on
 * write (not faulted): 19, 21, 39:36 and 63:42 (APM vol. 2, 13.2.1). */
#define AMD_EVTSEL_VALID (0xFFFFFFFFULL & ~(EVTSEL_PC | EVTSEL_ANY)) | \
	AMD_EVTSEL_EVENT_HI | AMD_EVTSEL_GUESTONLY | AMD_EVTSEL_HOSTONLY

static unsigned nr_ctrs(const struct hw_cpu *cpu)
{
	return cpu->model->amd_perfctr_core ? cpu->model->nr_gp : AMD_LEGACY_CTRS;
}

static uint64_t ctr_bits(const struct hw_cpu *cpu)
{
	return X86_MASK(nr_ctrs(cpu));
}

/* Maps an MSR to a counter: *ctl says selector (true) or counter. */
static bool amd_counter_msr(const struct hw_cpu *cpu, uint32_t msr,
			    unsigned *i, bool *ctl)
{
	if (msr >= MSR_K7_EVNTSEL0 && msr < MSR_K7_EVNTSEL0 + AMD_LEGACY_CTRS) {
		*i = msr - MSR_K7_EVNTSEL0;
		*ctl = true;
		return true;
	}
	if (msr >= MSR_K7_PERFCTR0 && msr < MSR_K7_PERFCTR0 + AMD_LEGACY_CTRS) {
		*i = msr - MSR_K7_PERFCTR0;
		*ctl = false;
		return true;
	}
	if (cpu->model->amd_perfctr_core && msr >= MSR_F15H_PERF_CTL0 &&
	    msr < MSR_F15H_PERF_CTL0 + 2 * nr_ctrs(cpu)) {
		*i = (msr - MSR_F15H_PERF_CTL0) / 2;
		*ctl = ((msr - MSR_F15H_PERF_CTL0) % 2) == 0;
		return true;
	}
	return false;
}

static bool is_global(const struct hw_cpu *cpu, uint32_t msr)
{
	return cpu->model->amd_perfmon_v2 && msr >= MSR_AMD_GLOBAL_STATUS &&
	       msr <= MSR_AMD_GLOBAL_STATUS_SET;
}

static int amd_wrmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t val)
{
	struct hw_pmu *p = &cpu->pmu;
	unsigned i;
	bool ctl;

	if (amd_counter_msr(cpu, msr, &i, &ctl)) {
		if (ctl)
			p->gp_sel[i] = val & (AMD_EVTSEL_VALID);
		else
			p->gp_ctr[i] = val & hw_pmu_counter_mask(cpu, false);
	} else if (is_global(cpu, msr)) {
		switch (msr) {
		case MSR_AMD_GLOBAL_STATUS:
			break;	/* read-only: writes are ignored */
		case MSR_AMD_GLOBAL_CTL:
			p->global_ctrl = val & ctr_bits(cpu);
			break;
		case MSR_AMD_GLOBAL_STATUS_CLR:
			p->global_status &= ~val;
			break;
		case MSR_AMD_GLOBAL_STATUS_SET:
			p->global_status |= val & ctr_bits(cpu);
			break;
		}
	} else if (msr == MSR_IA32_DEBUGCTL) {
		p->debugctl = val;
	} else {
		return HW_MSR_NOT_MINE;
	}
	return X86_OK;
}

static int amd_rdmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t *val)
{
	const struct hw_pmu *p = &cpu->pmu;
	unsigned i;
	bool ctl;

	if (amd_counter_msr(cpu, msr, &i, &ctl))
		*val = ctl ? p->gp_sel[i] : p->gp_ctr[i];
	else if (msr == MSR_AMD_GLOBAL_STATUS && is_global(cpu, msr))
		*val = p->global_status;
	else if (msr == MSR_AMD_GLOBAL_CTL && is_global(cpu, msr))
		*val = p->global_ctrl;
	else if (is_global(cpu, msr))
		*val = 0;
	else if (msr == MSR_IA32_DEBUGCTL)
		*val = p->debugctl;
	else
		return HW_MSR_NOT_MINE;
	return X86_OK;
}

/* RDPMC ECX 0-5 read the core counters (APM vol. 3 RDPMC); the model has
 * no L3/DF counters, so higher indices and any type bit #GP. */
static int amd_rdpmc(struct hw_cpu *cpu, uint32_t ecx, uint64_t *val)
{
	if (ecx >= nr_ctrs(cpu))
		return X86_GP;
	*val = cpu->pmu.gp_ctr[ecx];
	return X86_OK;
}

static bool amd_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	const struct hw_model *m = cpu->model;

	(void)sub;
	if (leaf == 0x80000001) {
		if (m->amd_perfctr_core)
			r[2] |= (uint32_t)CPUID_80000001_ECX_PERFCTR_CORE;
		return true;
	}
	if (leaf == 0x80000022) {
		if (m->amd_perfmon_v2) {
			r[0] = (uint32_t)CPUID_80000022_EAX_PERFMON_V2;
			r[1] = m->nr_gp & 0xF;
		}
		return true;
	}
	return false;
}

/* Zen events the workloads use (PPR for family 19h): 0x76 cycles not in
 * halt, 0xC0 retired instructions, 0xC2 retired branches, 0xC3 retired
 * mispredicted branches, 0xD1 retired conditional branches, and Linux's
 * cache-references / cache-misses encodings 0xFF60 and 0x0964.  Edge,
 * invert and counter mask are not modelled: such a selector counts nothing. */
static int amd_decode(uint64_t sel)
{
	uint16_t event = (uint16_t)((sel & EVTSEL_EVENT) | ((sel & AMD_EVTSEL_EVENT_HI) >> 24));
	uint8_t umask = (sel & EVTSEL_UMASK) >> 8;

	if (sel & (EVTSEL_EDGE | EVTSEL_INV | EVTSEL_CMASK))
		return -1;
	switch (event) {
	case 0x76: return MV_EV_CYCLES;
	case 0xC0: return MV_EV_INSTRUCTIONS;
	case 0xC2: return MV_EV_BRANCHES;
	case 0xC3: return MV_EV_BRANCH_MISSES;
	case 0xD1: return MV_EV_COND_BRANCHES;
	case 0x60: return umask == 0xFF ? MV_EV_LLC_REFS : -1;
	case 0x64: return umask == 0x09 ? MV_EV_LLC_MISSES : -1;
	}
	return -1;
}

/* APM 13.2.1: with EFER.SVME=1, GuestOnly counts only in guest mode and
 * HostOnly only in host mode, both set counts in both; with SVME=0 a
 * counter with either bit set counts nothing.  Neither bit: everywhere. */
static bool host_guest_allows(const struct hw_cpu *cpu, uint64_t sel)
{
	bool g = sel & AMD_EVTSEL_GUESTONLY, h = sel & AMD_EVTSEL_HOSTONLY;

	if (!g && !h)
		return true;
	if (!(cpu->efer & EFER_SVME))
		return false;
	if (g && h)
		return true;
	return cpu->guest_mode ? g : h;
}

static bool amd_gp_active(const struct hw_cpu *cpu, unsigned i, bool kernel)
{
	uint64_t sel = cpu->pmu.gp_sel[i];

	if (!(sel & EVTSEL_EN) || !(sel & (kernel ? EVTSEL_OS : EVTSEL_USR)))
		return false;
	if (cpu->model->amd_perfmon_v2 && !(cpu->pmu.global_ctrl & X86_BIT(i)))
		return false;
	return host_guest_allows(cpu, sel);
}

static bool amd_fixed_active(const struct hw_cpu *cpu, unsigned i, bool kernel)
{
	(void)cpu; (void)i; (void)kernel;
	return false;	/* no fixed counters */
}

static bool amd_overflow(struct hw_cpu *cpu, bool fixed, unsigned i)
{
	(void)fixed;
	if (cpu->model->amd_perfmon_v2)
		cpu->pmu.global_status |= X86_BIT(i);
	return cpu->pmu.gp_sel[i] & EVTSEL_INT;
}

/* PerfMonV2: PerfCntrGlobalCtl resets with every counter enabled so that
 * software unaware of it keeps working (as Intel's GLOBAL_CTRL). */
static void amd_reset(struct hw_cpu *cpu)
{
	cpu->pmu.global_ctrl = cpu->model->amd_perfmon_v2 ? ctr_bits(cpu) : 0;
	cpu->pmu.perf_caps = 0;
	cpu->valid.rdpmc_gp = nr_ctrs(cpu);	/* as amd_rdpmc reads them */
}

const struct hw_pmu_ops hw_pmu_amd_ops = {
	.wrmsr = amd_wrmsr,
	.rdmsr = amd_rdmsr,
	.rdpmc = amd_rdpmc,
	.cpuid = amd_cpuid,
	.decode = amd_decode,
	.gp_active = amd_gp_active,
	.fixed_active = amd_fixed_active,
	.overflow = amd_overflow,
	.lvtpc_mask_on_pmi = false,
	.reset = amd_reset,
};
