/* kvm_pmu_amd: the AMD half of the vPMU (KVM's amd_pmu_ops): legacy and
 * PerfCtrExtCore counter MSRs, PerfMonV2 global registers, and the AMD
 * halves of the mediated load/put (no atomic GLOBAL_CTL switch: every
 * guest selector runs GuestOnly). */
#include "kvm_internal.h"
#include "kvm_nested.h"

#define AMD_LEGACY_CTRS 4
/* KVM's AMD guest reserved bits: 19, 21 and 63:36, Host/GuestOnly
 * included (7.0 un-reserves them for no guest; the Jan 2026 proposal does
 * for nested SVM with the mediated vPMU); ignored, not faulted. */
#define AMD_EVTSEL_RSVD 0xFFFFFFF000280000ULL

static bool ext_core(const struct kvm_pmu *pmu)
{
	return pmu->nr_gp > AMD_LEGACY_CTRS;
}

/* Within kvm_pmu_cap: PerfMonV2 (version 2) unless the VM asks for 1;
 * GP counters as perf found them (6 with PerfCtrExtCore, else 4). */
static void amd_refresh(struct kvm_vcpu *v, const struct mv_vm_config *cfg)
{
	const struct kvm_pmu_cap *cap = &v->vm->kvm->pmu_cap;
	struct kvm_pmu *pmu = &v->pmu;
	unsigned host_nr = cap->nr_gp;

	pmu->version = cap->version >= 2 && cfg->pmu_version != 1 ? 2 : 1;
	pmu->nr_gp = cfg->nr_gp >= 0 && (unsigned)cfg->nr_gp < host_nr ?
		     (unsigned)cfg->nr_gp : host_nr;
	pmu->nr_fixed = 0;
	pmu->gp_width = cap->gp_width;
	pmu->fixed_width = 0;
	pmu->perf_caps = 0;
	pmu->eventsel_rsvd = AMD_EVTSEL_RSVD;
	if (kvm_nested_amd_hg_allowed(v))
		pmu->eventsel_rsvd &= ~(AMD_EVTSEL_GUESTONLY | AMD_EVTSEL_HOSTONLY);
	pmu->global_ctrl_rsvd = ~X86_MASK(pmu->nr_gp);
	pmu->status_rsvd = ~X86_MASK(pmu->nr_gp);
	/* PerfCntrGlobalCtl resets with every counter enabled. */
	pmu->global_ctrl = pmu->version >= 2 ? X86_MASK(pmu->nr_gp) : 0;
}

static struct kvm_pmc *amd_msr_to_pmc(struct kvm_pmu *pmu, uint32_t msr,
				      bool *sel, bool *full)
{
	*full = false;
	if (msr >= MSR_K7_EVNTSEL0 && msr < MSR_K7_EVNTSEL0 + AMD_LEGACY_CTRS &&
	    msr - MSR_K7_EVNTSEL0 < pmu->nr_gp) {
		*sel = true;
		return &pmu->gp[msr - MSR_K7_EVNTSEL0];
	}
	if (msr >= MSR_K7_PERFCTR0 && msr < MSR_K7_PERFCTR0 + AMD_LEGACY_CTRS &&
	    msr - MSR_K7_PERFCTR0 < pmu->nr_gp) {
		*sel = false;
		return &pmu->gp[msr - MSR_K7_PERFCTR0];
	}
	if (ext_core(pmu) && msr >= MSR_F15H_PERF_CTL0 &&
	    msr < MSR_F15H_PERF_CTL0 + 2 * pmu->nr_gp) {
		*sel = ((msr - MSR_F15H_PERF_CTL0) % 2) == 0;
		return &pmu->gp[(msr - MSR_F15H_PERF_CTL0) / 2];
	}
	return NULL;
}

static int amd_global_msr(const struct kvm_pmu *pmu, uint32_t msr)
{
	if (pmu->version < 2)
		return -1;
	switch (msr) {
	case MSR_AMD_GLOBAL_CTL: return 0;
	case MSR_AMD_GLOBAL_STATUS: return 1;
	case MSR_AMD_GLOBAL_STATUS_CLR: return 2;
	case MSR_AMD_GLOBAL_STATUS_SET: return 3;
	}
	return -1;
}

static bool amd_get_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val, int *fault)
{
	(void)v; (void)msr; (void)val; (void)fault;
	return false;
}

static bool amd_set_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t val,
			bool host, int *fault)
{
	(void)v; (void)msr; (void)val; (void)host; (void)fault;
	return false;
}

static void amd_cpuid(struct kvm_vcpu *v, uint32_t leaf, uint32_t r[4])
{
	const struct kvm_pmu *pmu = &v->pmu;

	if (leaf == 0x80000001) {
		r[2] &= ~(uint32_t)CPUID_80000001_ECX_PERFCTR_CORE;
		if (ext_core(pmu))
			r[2] |= (uint32_t)CPUID_80000001_ECX_PERFCTR_CORE;
	} else if (leaf == 0x80000022) {
		r[0] = pmu->version >= 2 ? (uint32_t)CPUID_80000022_EAX_PERFMON_V2 : 0;
		r[1] = pmu->version >= 2 ? pmu->nr_gp : 0;
	}
}

static struct kvm_pmc *amd_rdpmc_pmc(struct kvm_pmu *pmu, uint32_t ecx)
{
	return ecx < pmu->nr_gp ? &pmu->gp[ecx] : NULL;
}

static bool amd_pmc_enabled(const struct kvm_pmc *pmc)
{
	const struct kvm_pmu *pmu = &pmc->vcpu->pmu;

	if (!(pmc->eventsel & EVTSEL_EN))
		return false;
	return pmu->version < 2 || (pmu->global_ctrl & X86_BIT(pmc->idx));
}

static uint64_t amd_pmc_selector(const struct kvm_pmc *pmc)
{
	return pmc->eventsel;
}

static bool amd_pmc_int(const struct kvm_pmc *pmc)
{
	return pmc->eventsel & EVTSEL_INT;
}

static bool amd_pmc_counts_mode(const struct kvm_pmc *pmc, bool kernel)
{
	return pmc->eventsel & (kernel ? EVTSEL_OS : EVTSEL_USR);
}

static uint32_t amd_pmc_msr(const struct kvm_pmc *pmc, bool sel)
{
	const struct hw_model *m = vcpu_host_model(pmc->vcpu);

	if (m->amd_perfctr_core)
		return (sel ? MSR_F15H_PERF_CTL0 : MSR_F15H_PERF_CTR0) + 2 * pmc->idx;
	return (sel ? MSR_K7_EVNTSEL0 : MSR_K7_PERFCTR0) + pmc->idx;
}

/* SVM cannot switch GLOBAL_CTL atomically, so the hardware selector is
 * forced GuestOnly with HostOnly clear: it counts only in guest mode even
 * while the guest's enables sit in the hardware around VMRUN.  With nested
 * SVM, L1's own Host/Guest bits act through EN (kvm_nested.c). */
static uint64_t amd_pmc_eventsel_hw(struct kvm_vcpu *v, const struct kvm_pmc *pmc)
{
	uint64_t sel;

	if (!pmc)
		return 0;
	sel = (pmc->eventsel & ~AMD_EVTSEL_HOSTONLY) | AMD_EVTSEL_GUESTONLY;
	/* Knob no-guestonly: the guest's own bits go in as they are. */
	if (v->vm->kvm->knobs.no_guestonly)
		sel = pmc->eventsel;
	if (!kvm_pmc_hw_allowed(v, pmc))
		sel &= ~EVTSEL_EN;
	return kvm_nested_amd_eventsel_hw(v, pmc->eventsel, sel);
}

/* amd_mediated_pmu_load (7.0): clear whatever status the hardware holds
 * (STATUS_CLR, only if non-zero), set the guest's through STATUS_SET
 * (always), then GLOBAL_CTL: with no atomic switch the guest's enables go
 * in now, harmless in host mode because every selector is GuestOnly. */
static void amd_mediated_load(struct kvm_vcpu *v)
{
	uint64_t hw = 0;

	hw_rdmsr(v->cpu, MSR_AMD_GLOBAL_STATUS, &hw);
	if (hw)
		kvm_mediated_wrmsr(v, MSR_AMD_GLOBAL_STATUS_CLR, hw);
	kvm_mediated_wrmsr(v, MSR_AMD_GLOBAL_STATUS_SET, v->pmu.global_status);
	kvm_mediated_wrmsr(v, MSR_AMD_GLOBAL_CTL, kvm_mediated_hw_global_ctrl(v));
}

/* amd_mediated_pmu_put: GLOBAL_CTL 0, status saved, STATUS_CLR if non-zero. */
static void amd_mediated_put(struct kvm_vcpu *v)
{
	kvm_mediated_wrmsr(v, MSR_AMD_GLOBAL_CTL, 0);
	v->pmu.global_status = kvm_mediated_put_status(v);
}

static void amd_recalc_intercepts(struct kvm_vcpu *v)
{
	const struct kvm_x86_ops *x86 = v->vm->kvm->x86;
	const struct hw_model *m = vcpu_host_model(v);
	struct kvm_pmu *pmu = &v->pmu;

	for (unsigned i = 0; i < m->nr_gp; i++) {
		bool expose = i < pmu->nr_gp;
		/* The 0xC0010200 aliases exist for the guest only with
		 * PerfCtrExtCore (more than four counters here). */
		bool expose_ext = expose && ext_core(pmu);

		x86->msr_intercept(v, MSR_F15H_PERF_CTR0 + 2 * i, !expose_ext, !expose_ext);
		x86->msr_intercept(v, MSR_F15H_PERF_CTL0 + 2 * i, true, true);
		if (i < AMD_LEGACY_CTRS) {
			x86->msr_intercept(v, MSR_K7_PERFCTR0 + i, !expose, !expose);
			x86->msr_intercept(v, MSR_K7_EVNTSEL0 + i, true, true);
		}
	}
	/* svm_recalc_pmu_msr_intercepts: all four global MSRs together. */
	pmu->passthrough_global = !kvm_need_perf_global_ctrl_intercept(v);
	for (int w = 0; w < 4; w++) {
		uint32_t msr = kvm_amd_pmu_ops.global_msr_addr[w];

		x86->msr_intercept(v, msr, !pmu->passthrough_global, !pmu->passthrough_global);
	}
	pmu->passthrough_rdpmc = !kvm_need_rdpmc_intercept(v);
	x86->set_rdpmc_exiting(v, !pmu->passthrough_rdpmc);
}

/* amd_pmu_is_mediated_pmu_supported: PerfMonV2 (GlobalStatusSet/Clr). */
static const char *amd_mediated_unsupported(const struct kvm *kvm)
{
	return kvm->host_pmu.version >= 2 ? NULL : "host lacks PerfMonV2";
}

/* Counter MSRs the guest reaches without an exit, in address order:
 * legacy 0xC0010004+i, then PerfCtrExtCore 0xC0010201+2i. */
static unsigned amd_pt_counters(const struct kvm_vcpu *v, uint32_t *out, unsigned max)
{
	const struct kvm_x86_ops *x86 = v->vm->kvm->x86;
	struct kvm_vcpu *vc = (struct kvm_vcpu *)v;
	unsigned n = 0;

	for (uint32_t i = 0; i < AMD_LEGACY_CTRS; i++)
		if (n < max && !x86->msr_exits(vc, MSR_K7_PERFCTR0 + i, false) &&
		    !x86->msr_exits(vc, MSR_K7_PERFCTR0 + i, true))
			out[n++] = MSR_K7_PERFCTR0 + i;
	for (uint32_t i = 0; i < HW_MAX_GP; i++)
		if (n < max && !x86->msr_exits(vc, MSR_F15H_PERF_CTR0 + 2 * i, false) &&
		    !x86->msr_exits(vc, MSR_F15H_PERF_CTR0 + 2 * i, true))
			out[n++] = MSR_F15H_PERF_CTR0 + 2 * i;
	return n;
}

const struct kvm_pmu_ops kvm_amd_pmu_ops = {
	.msr_to_pmc = amd_msr_to_pmc,
	.global_msr = amd_global_msr,
	.global_msr_addr = { MSR_AMD_GLOBAL_CTL, MSR_AMD_GLOBAL_STATUS,
			     MSR_AMD_GLOBAL_STATUS_CLR, MSR_AMD_GLOBAL_STATUS_SET },
	.get_msr = amd_get_msr,
	.set_msr = amd_set_msr,
	.refresh = amd_refresh,
	.cpuid = amd_cpuid,
	.rdpmc_pmc = amd_rdpmc_pmc,
	.pmc_enabled = amd_pmc_enabled,
	.pmc_selector = amd_pmc_selector,
	.pmc_int = amd_pmc_int,
	.pmc_counts_mode = amd_pmc_counts_mode,
	.pmc_msr = amd_pmc_msr,
	.pmc_eventsel_hw = amd_pmc_eventsel_hw,
	.mediated_load = amd_mediated_load,
	.mediated_put = amd_mediated_put,
	.recalc_intercepts = amd_recalc_intercepts,
	.mediated_unsupported = amd_mediated_unsupported,
	.pt_counters = amd_pt_counters,
	.max_nr_gp = KVM_MAX_NR_AMD_GP,
	.max_nr_fixed = 0,
	.max_nr_fixed_fc3 = 0,
};
