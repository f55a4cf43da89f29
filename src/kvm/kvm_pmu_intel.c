/* kvm_pmu_intel: the Intel half of the vPMU (KVM's intel_pmu_ops): the
 * guest PMU's shape, its MSRs, RDPMC decoding, and the Intel halves of
 * the mediated load/put and intercept policy. */
#include "kvm_internal.h"

/* KVM's guest reserved bits for PERFEVTSEL: 63:32 and AnyThread (21)
 * (FACTS.md s.1). */
#define INTEL_EVTSEL_RSVD (0xFFFFFFFF00000000ULL | EVTSEL_ANY)
static int imin(int a, int b)
{
	return a < b ? a : b;
}

static uint64_t counter_bits(const struct kvm_pmu *pmu)
{
	uint64_t bits = X86_MASK(pmu->nr_gp);

	for (unsigned i = 0; i < pmu->nr_fixed; i++)
		bits |= X86_BIT(32 + i);
	return bits;
}

/* The guest's shape is what it asks (CPUID from userspace) within what KVM
 * offers (kvm_pmu_cap, capped at module load: version <= 2, fixed <= 3 for
 * both vPMUs in 7.0; kvm_init_pmu_capability). */
static void intel_refresh(struct kvm_vcpu *v, const struct mv_vm_config *cfg)
{
	const struct hw_model *m = vcpu_host_model(v);
	const struct kvm_pmu_cap *cap = &v->vm->kvm->pmu_cap;
	struct kvm_pmu *pmu = &v->pmu;
	int max_version = (int)cap->version, max_gp = (int)cap->nr_gp;
	int max_fixed = (int)cap->nr_fixed;
	/* KVM accepts only the PERF_CAPABILITIES bits it virtualizes: full-
	 * width writes, when the host has them (vmx_get_perf_capabilities;
	 * no LBR or PEBS while mediated). */
	uint64_t caps_ok = m->perf_caps & PERF_CAP_FW_WRITE;

	pmu->version = (unsigned)(cfg->pmu_version > 0 ? imin(cfg->pmu_version, max_version) : max_version);
	pmu->nr_gp = (unsigned)(cfg->nr_gp >= 0 ? imin(cfg->nr_gp, max_gp) : max_gp);
	pmu->nr_fixed = pmu->version < 2 ? 0 :
			(unsigned)(cfg->nr_fixed >= 0 ? imin(cfg->nr_fixed, max_fixed) : max_fixed);
	pmu->gp_width = cap->gp_width;
	pmu->fixed_width = pmu->nr_fixed ? cap->fixed_width : 0;
	pmu->perf_caps = cfg->perf_caps >= 0 ? ((uint64_t)cfg->perf_caps & caps_ok) : caps_ok;
	pmu->eventsel_rsvd = INTEL_EVTSEL_RSVD;
	pmu->fixed_ctrl_rsvd = ~0ULL;
	for (unsigned i = 0; i < pmu->nr_fixed; i++)
		pmu->fixed_ctrl_rsvd &= ~FIXED_CTRL_FIELD(i, FIXED_CTRL_OS | FIXED_CTRL_USR | FIXED_CTRL_PMI);
	pmu->global_ctrl_rsvd = ~counter_bits(pmu);
	pmu->status_rsvd = ~(counter_bits(pmu) | GLOBAL_STATUS_BUFFER | GLOBAL_STATUS_COND_CHGD);
	/* GLOBAL_CTRL resets with the GP enables set, as the hardware does. */
	pmu->global_ctrl = pmu->version >= 2 ? X86_MASK(pmu->nr_gp) : 0;
	if (pmu->version)
		v->misc_enable |= MISC_ENABLE_EMON;	/* intel_pmu_refresh */
}

static bool in_range(uint32_t msr, uint32_t base, unsigned n, unsigned *i)
{
	if (msr < base || msr >= base + n)
		return false;
	*i = msr - base;
	return true;
}

static struct kvm_pmc *intel_msr_to_pmc(struct kvm_pmu *pmu, uint32_t msr,
					bool *sel, bool *full)
{
	unsigned i;

	*sel = *full = false;
	if (in_range(msr, MSR_IA32_PMC0, pmu->nr_gp, &i))
		return &pmu->gp[i];
	if ((pmu->perf_caps & PERF_CAP_FW_WRITE) &&
	    in_range(msr, MSR_IA32_A_PMC0, pmu->nr_gp, &i)) {
		*full = true;
		return &pmu->gp[i];
	}
	if (in_range(msr, MSR_IA32_PERFEVTSEL0, pmu->nr_gp, &i)) {
		*sel = true;
		return &pmu->gp[i];
	}
	if (in_range(msr, MSR_IA32_FIXED_CTR0, pmu->nr_fixed, &i))
		return &pmu->fixed[i];
	return NULL;
}

static int intel_global_msr(const struct kvm_pmu *pmu, uint32_t msr)
{
	if (pmu->version < 2)
		return -1;
	switch (msr) {
	case MSR_IA32_PERF_GLOBAL_CTRL: return 0;
	case MSR_IA32_PERF_GLOBAL_STATUS: return 1;
	case MSR_IA32_PERF_GLOBAL_OVF_CTRL: return 2;
	case MSR_IA32_PERF_GLOBAL_STATUS_SET: return pmu->version >= 4 ? 3 : -1;
	}
	return -1;
}

static bool intel_get_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val, int *fault)
{
	struct kvm_pmu *pmu = &v->pmu;

	*fault = X86_OK;
	if (msr == MSR_IA32_FIXED_CTR_CTRL && pmu->version >= 2)
		*val = pmu->fixed_ctr_ctrl;
	else if (msr == MSR_IA32_PERF_CAPABILITIES && pmu->perf_caps)
		*val = pmu->perf_caps;
	else
		return false;
	return true;
}

static bool intel_set_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t val,
			  bool host, int *fault)
{
	struct kvm_pmu *pmu = &v->pmu;

	*fault = X86_OK;
	if (msr == MSR_IA32_FIXED_CTR_CTRL && pmu->version >= 2) {
		if (val & pmu->fixed_ctrl_rsvd) {
			*fault = X86_GP;
			return true;
		}
		if (val != pmu->fixed_ctr_ctrl) {
			pmu->fixed_ctr_ctrl = val;
			for (unsigned i = 0; i < pmu->nr_fixed; i++)
				kvm_pmu_reprogram(v, &pmu->fixed[i]);
			if (pmu->mediated)
				v->vm->kvm->pmu_ops->pmc_eventsel_hw(v, NULL);
		}
		return true;
	}
	if (msr == MSR_IA32_PERF_CAPABILITIES) {
		/* Guests may not write it; the host only bits the host
		 * supports (KVM vmx_set_msr), and after KVM_RUN only the
		 * value it already has (KVM do_set_msr: immutable feature
		 * MSRs accept a rewrite of the same value). */
		if (!host || (v->ran && val != pmu->perf_caps) ||
		    (val & ~(vcpu_host_model(v)->perf_caps & PERF_CAP_FW_WRITE))) {
			*fault = X86_GP;
			return true;
		}
		pmu->perf_caps = val;
		kvm_mediated_recalc_intercepts(v);
		return true;
	}
	return false;
}

static void intel_cpuid(struct kvm_vcpu *v, uint32_t leaf, uint32_t r[4])
{
	const struct kvm_pmu *pmu = &v->pmu;
	const struct hw_model *m = vcpu_host_model(v);

	if (leaf == 1) {
		r[2] &= ~(uint32_t)CPUID_1_ECX_PDCM;
		if (pmu->perf_caps)
			r[2] |= (uint32_t)CPUID_1_ECX_PDCM;
	} else if (leaf == 0xA) {
		r[0] = pmu->version | (pmu->nr_gp << 8) | (pmu->gp_width << 16) |
		       (m->ebx_len << 24);
		r[1] = m->arch_events_unavail;
		r[2] = pmu->version >= 5 ? (uint32_t)X86_MASK(pmu->nr_fixed) : 0;
		r[3] = pmu->version >= 2 ? (pmu->nr_fixed | (pmu->fixed_width << 5) |
			(m->anythread_deprecated ? 1u << 15 : 0)) : 0;
	}
}

static struct kvm_pmc *intel_rdpmc_pmc(struct kvm_pmu *pmu, uint32_t ecx)
{
	uint32_t type = ecx & 0xFFFF0000u, idx = ecx & 0xFFFF;

	if (type == 0 && idx < pmu->nr_gp)
		return &pmu->gp[idx];
	if (type == RDPMC_FIXED && idx < pmu->nr_fixed)
		return &pmu->fixed[idx];
	return NULL;
}

static uint64_t fixed_field(const struct kvm_pmc *pmc)
{
	return (pmc->vcpu->pmu.fixed_ctr_ctrl >> (4 * pmc->idx)) & 0xF;
}

static bool intel_pmc_enabled(const struct kvm_pmc *pmc)
{
	const struct kvm_pmu *pmu = &pmc->vcpu->pmu;

	if (pmc->fixed)
		return (fixed_field(pmc) & 3) && (pmu->global_ctrl & X86_BIT(32 + pmc->idx));
	if (!(pmc->eventsel & EVTSEL_EN))
		return false;
	return pmu->version < 2 || (pmu->global_ctrl & X86_BIT(pmc->idx));
}

static uint64_t intel_pmc_selector(const struct kvm_pmc *pmc)
{
	return pmc->fixed ? 0 : pmc->eventsel;
}

static bool intel_pmc_int(const struct kvm_pmc *pmc)
{
	return pmc->fixed ? (fixed_field(pmc) & FIXED_CTRL_PMI) : (pmc->eventsel & EVTSEL_INT);
}

static bool intel_pmc_counts_mode(const struct kvm_pmc *pmc, bool kernel)
{
	if (pmc->fixed)
		return fixed_field(pmc) & (kernel ? FIXED_CTRL_OS : FIXED_CTRL_USR);
	return pmc->eventsel & (kernel ? EVTSEL_OS : EVTSEL_USR);
}

/* The switch writes full-width aliases (the mediated vPMU requires
 * FW_WRITE on the host, so any 48-bit guest value can be restored). */
static uint32_t intel_pmc_msr(const struct kvm_pmc *pmc, bool sel)
{
	if (pmc->fixed)
		return MSR_IA32_FIXED_CTR0 + pmc->idx;
	if (sel)
		return MSR_IA32_PERFEVTSEL0 + pmc->idx;
	return MSR_IA32_A_PMC0 + pmc->idx;
}

/* The hardware view: a denied event loses its enable while the guest
 * still reads back what it wrote.  NULL recomputes FIXED_CTR_CTRL's. */
static uint64_t intel_pmc_eventsel_hw(struct kvm_vcpu *v, const struct kvm_pmc *pmc)
{
	struct kvm_pmu *pmu = &v->pmu;

	if (!pmc) {
		pmu->fixed_ctr_ctrl_hw = pmu->fixed_ctr_ctrl;
		for (unsigned i = 0; i < pmu->nr_fixed; i++)
			if (!kvm_pmc_hw_allowed(v, &pmu->fixed[i]))
				pmu->fixed_ctr_ctrl_hw &= ~FIXED_CTRL_FIELD(i, 0xF);
		return pmu->fixed_ctr_ctrl_hw;
	}
	if (pmc->fixed)
		return 0;
	return kvm_pmc_hw_allowed(v, pmc) ? pmc->eventsel : pmc->eventsel & ~EVTSEL_EN;
}

/* Status through OVF_CTRL / STATUS_SET (each only if needed), then
 * FIXED_CTR_CTRL with the hardware view, always (intel_mediated_pmu_load);
 * GLOBAL_CTRL itself goes in atomically with VM-entry. */
static void intel_mediated_load(struct kvm_vcpu *v)
{
	kvm_mediated_load_status(v);
	kvm_mediated_wrmsr(v, MSR_IA32_FIXED_CTR_CTRL, v->pmu.fixed_ctr_ctrl_hw);
}

/* GLOBAL_CTRL is already 0 (the VM-exit loaded the host's 0). */
static void intel_mediated_put(struct kvm_vcpu *v)
{
	v->pmu.global_status = kvm_mediated_put_status(v);
	if (v->pmu.fixed_ctr_ctrl_hw)
		kvm_mediated_wrmsr(v, MSR_IA32_FIXED_CTR_CTRL, 0);
}

/* vmx_recalc_pmu_msr_intercepts (7.0): selectors and FIXED_CTR_CTRL always
 * exit; exposed counters pass through (full-width aliases only with
 * FW_WRITE); GLOBAL_CTRL, GLOBAL_STATUS and OVF_CTRL pass through only when
 * the guest has v2+ and as many GP and fixed counters as perf reports for
 * the host (4 fixed on Ice Lake and later, so never in 7.0 there);
 * GLOBAL_STATUS_SET always exits; RDPMC passes through only when the
 * counts and the widths match the host. */
static void intel_recalc_intercepts(struct kvm_vcpu *v)
{
	const struct kvm_x86_ops *x86 = v->vm->kvm->x86;
	const struct hw_model *m = vcpu_host_model(v);
	struct kvm_pmu *pmu = &v->pmu;
	bool fw = pmu->perf_caps & PERF_CAP_FW_WRITE;

	for (unsigned i = 0; i < m->nr_gp; i++) {
		bool expose = i < pmu->nr_gp;

		x86->msr_intercept(v, MSR_IA32_PMC0 + i, !expose, !expose);
		x86->msr_intercept(v, MSR_IA32_A_PMC0 + i, !(expose && fw), !(expose && fw));
		x86->msr_intercept(v, MSR_IA32_PERFEVTSEL0 + i, true, true);
	}
	for (unsigned i = 0; i < HW_MAX_FIXED; i++) {
		bool expose = i < pmu->nr_fixed;

		x86->msr_intercept(v, MSR_IA32_FIXED_CTR0 + i, !expose, !expose);
	}
	x86->msr_intercept(v, MSR_IA32_FIXED_CTR_CTRL, true, true);
	pmu->passthrough_global = !kvm_need_perf_global_ctrl_intercept(v);
	for (int w = 0; w < 4; w++) {
		uint32_t msr = kvm_intel_pmu_ops.global_msr_addr[w];
		bool pass = pmu->passthrough_global && msr != MSR_IA32_PERF_GLOBAL_STATUS_SET;

		x86->msr_intercept(v, msr, !pass, !pass);
	}
	pmu->passthrough_rdpmc = !kvm_need_rdpmc_intercept(v);
	x86->set_rdpmc_exiting(v, !pmu->passthrough_rdpmc);
}

/* intel_pmu_is_mediated_pmu_supported and the VMX side (7.0): PMU v4+ for
 * GLOBAL_STATUS_SET, full-width writes to load any counter value, and the
 * VMCS load-GLOBAL_CTRL controls (without the exit-save control the exit
 * MSR-store list saves the guest's value). */
static const char *intel_mediated_unsupported(const struct kvm *kvm)
{
	const struct hw_model *m = kvm->cpus[0]->model;

	if (kvm->host_pmu.version < 4)
		return "host PMU version below 4";
	if (!(m->perf_caps & PERF_CAP_FW_WRITE))
		return "host lacks full-width counter writes";
	if (!m->vmx_load_global_ctrl)
		return "host lacks the VMCS PERF_GLOBAL_CTRL load controls";
	return NULL;
}

/* Counter MSRs the guest reaches without an exit, in address order:
 * legacy GP 0xC1+i, fixed 0x309+i, full-width 0x4C1+i. */
static unsigned intel_pt_counters(const struct kvm_vcpu *v, uint32_t *out, unsigned max)
{
	const struct kvm_x86_ops *x86 = v->vm->kvm->x86;
	static const uint32_t base[3] = { MSR_IA32_PMC0, MSR_IA32_FIXED_CTR0, MSR_IA32_A_PMC0 };
	static const unsigned nr[3] = { HW_MAX_GP, HW_MAX_FIXED, HW_MAX_GP };
	unsigned n = 0;

	for (int b = 0; b < 3; b++)
		for (uint32_t i = 0; i < nr[b]; i++) {
			uint32_t msr = base[b] + i;
			struct kvm_vcpu *vc = (struct kvm_vcpu *)v;

			if (n < max && !x86->msr_exits(vc, msr, false) && !x86->msr_exits(vc, msr, true))
				out[n++] = msr;
		}
	return n;
}

const struct kvm_pmu_ops kvm_intel_pmu_ops = {
	.msr_to_pmc = intel_msr_to_pmc,
	.global_msr = intel_global_msr,
	.global_msr_addr = { MSR_IA32_PERF_GLOBAL_CTRL, MSR_IA32_PERF_GLOBAL_STATUS,
			     MSR_IA32_PERF_GLOBAL_OVF_CTRL, MSR_IA32_PERF_GLOBAL_STATUS_SET },
	.get_msr = intel_get_msr,
	.set_msr = intel_set_msr,
	.refresh = intel_refresh,
	.cpuid = intel_cpuid,
	.rdpmc_pmc = intel_rdpmc_pmc,
	.pmc_enabled = intel_pmc_enabled,
	.pmc_selector = intel_pmc_selector,
	.pmc_int = intel_pmc_int,
	.pmc_counts_mode = intel_pmc_counts_mode,
	.pmc_msr = intel_pmc_msr,
	.pmc_eventsel_hw = intel_pmc_eventsel_hw,
	.mediated_load = intel_mediated_load,
	.mediated_put = intel_mediated_put,
	.recalc_intercepts = intel_recalc_intercepts,
	.mediated_unsupported = intel_mediated_unsupported,
	.pt_counters = intel_pt_counters,
	.max_nr_gp = KVM_MAX_NR_INTEL_GP,
	.max_nr_fixed = KVM_MAX_NR_INTEL_FIXED,
	.max_nr_fixed_fc3 = KVM_MAX_NR_INTEL_FIXED_FC3,
};
