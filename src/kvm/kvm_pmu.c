/* kvm_pmu: the vPMU code common to both backends and both vendors: guest
 * PMU MSR emulation, RDPMC emulation, PMI delivery through the virtual
 * LVTPC, and instructions KVM emulates counted in software. */
#include <string.h>

#include "kvm_internal.h"

uint64_t kvm_pmc_mask(const struct kvm_pmu *pmu, const struct kvm_pmc *pmc)
{
	return pmc->fixed ? pmu->fixed_mask : pmu->gp_mask;
}

static struct kvm_pmu *pmc_pmu(const struct kvm_pmc *pmc)
{
	return &pmc->vcpu->pmu;
}

/* The modelled event a guest counter counts (what KVM's emulated-
 * instruction and filter code compare the selector with). */
int kvm_pmc_event(const struct kvm_vcpu *v, const struct kvm_pmc *pmc)
{
	if (pmc->fixed)
		return (int)hw_fixed_event(pmc->idx);
	return hw_decode_event(vcpu_host_model(v)->vendor,
			       vcpu_pmu_ops(v)->pmc_selector(pmc));
}

bool kvm_pmc_allowed(const struct kvm_vcpu *v, const struct kvm_pmc *pmc)
{
	const struct kvm_pmu_filter *f = v->vm->filter;

	if (pmc->fixed)
		return kvm_pmu_filter_fixed_allowed(f, pmc->idx);
	return kvm_pmu_filter_gp_allowed(f, pmc->eventsel);
}

/* The counter value the guest reads. */
uint64_t kvm_pmc_read(struct kvm_pmc *pmc)
{
	struct kvm_pmu *pmu = pmc_pmu(pmc);

	if (pmu->mediated)
		return pmc->counter & kvm_pmc_mask(pmu, pmc);
	return kvm_emul_read(pmc);
}

void kvm_pmc_write(struct kvm_pmc *pmc, uint64_t val)
{
	struct kvm_pmu *pmu = pmc_pmu(pmc);

	if (!pmu->mediated)
		kvm_emul_pause(pmc);
	pmc->counter = val & kvm_pmc_mask(pmu, pmc);
	if (!pmu->mediated)
		kvm_emul_reprogram(pmc->vcpu, pmc);
}

void kvm_pmu_reprogram(struct kvm_vcpu *v, struct kvm_pmc *pmc)
{
	if (v->pmu.mediated)
		pmc->eventsel_hw = vcpu_pmu_ops(v)->pmc_eventsel_hw(v, pmc);
	else
		kvm_emul_reprogram(v, pmc);
}

void kvm_pmu_reprogram_all(struct kvm_vcpu *v)
{
	struct kvm_pmc *pmc;
	unsigned i;

	kvm_for_each_pmc(&v->pmu, pmc, i)
		kvm_pmu_reprogram(v, pmc);
	if (v->pmu.mediated)
		vcpu_pmu_ops(v)->pmc_eventsel_hw(v, NULL);	/* fixed ctrl hw view */
}

void kvm_pmu_global_ctrl_changed(struct kvm_vcpu *v, uint64_t old)
{
	struct kvm_pmc *pmc;
	unsigned i;

	if (v->pmu.mediated)
		return;	/* the hardware applies GLOBAL_CTRL itself */
	kvm_for_each_pmc(&v->pmu, pmc, i) {
		uint64_t bit = X86_BIT(pmc->fixed ? 32 + pmc->idx : pmc->idx);

		if ((old ^ v->pmu.global_ctrl) & bit)
			kvm_pmu_reprogram(v, pmc);
	}
}

void kvm_pmu_init(struct kvm_vcpu *v, const struct mv_vm_config *cfg)
{
	struct kvm_pmu *pmu = &v->pmu;

	memset(pmu, 0, sizeof(*pmu));
	for (unsigned i = 0; i < HW_MAX_GP; i++)
		pmu->gp[i] = (struct kvm_pmc){ .idx = i, .vcpu = v };
	for (unsigned i = 0; i < HW_MAX_FIXED; i++)
		pmu->fixed[i] = (struct kvm_pmc){ .fixed = true, .idx = i, .vcpu = v };
	pmu->enabled = v->vm->effective != MV_VPMU_NONE;
	/* Module-wide: with enable_mediated_pmu every VM that has a PMU has
	 * the mediated one (kvm_vcpu_has_mediated_pmu). */
	pmu->mediated = pmu->enabled && v->vm->effective == MV_VPMU_MEDIATED;
	/* KVM keeps IA32_MISC_ENABLE for every vCPU, either vendor (x86.c),
	 * BTS and PEBS unavailable; Intel's refresh adds EMON when the guest
	 * has a PMU.  No PEBS is virtualized here, 7.0's mediated PMU
	 * included (PERF_CAPABILITIES FW_WRITES only). */
	v->misc_enable = MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
	if (pmu->enabled)
		vcpu_pmu_ops(v)->refresh(v, cfg);
	/* The counters' MSRs follow from the host model and the index
	 * alone: asked once, not on every mediated load and put. */
	for (unsigned i = 0; i < HW_MAX_GP + HW_MAX_FIXED; i++) {
		struct kvm_pmc *pmc = i < HW_MAX_GP ? &pmu->gp[i] : &pmu->fixed[i - HW_MAX_GP];

		pmc->msr[0] = vcpu_pmu_ops(v)->pmc_msr(pmc, false);
		pmc->msr[1] = vcpu_pmu_ops(v)->pmc_msr(pmc, true);
	}
	pmu->gp_mask = X86_MASK(pmu->gp_width);
	pmu->fixed_mask = X86_MASK(pmu->fixed_width);
}

static unsigned umin(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/* kvm_init_pmu_capability (Linux 7.0, arch/x86/kvm/pmu.c): start from what
 * perf reports and cap it for every guest, the mediated vPMU included:
 * version <= 2, GP counters <= the vendor's maximum, fixed counters <= 3
 * (KVM_MAX_NR_INTEL_FIXED_COUNTERS).  The Feb 2026 fixed-counter-3
 * proposal raises the fixed cap to 4 when enable_mediated_pmu is on and
 * keeps 3 for the legacy vPMU (no generic perf event for TOPDOWN.SLOTS). */
void kvm_init_pmu_capability(struct kvm *kvm)
{
	const struct kvm_pmu_ops *ops = kvm->pmu_ops;
	const struct perf_pmu_caps *h = &kvm->host_pmu;
	struct kvm_pmu_cap *c = &kvm->pmu_cap;
	bool fc3 = (kvm->params.patches & MV_PATCH_FIXED_COUNTER_3) &&
		   kvm->params.enable_mediated_pmu;

	*c = (struct kvm_pmu_cap){ 0 };
	if (!kvm->params.enable_pmu)
		return;
	c->version = umin(h->version, 2);
	c->nr_gp = umin(h->nr_gp, ops->max_nr_gp);
	c->nr_fixed = umin(h->nr_fixed, fc3 ? ops->max_nr_fixed_fc3 : ops->max_nr_fixed);
	c->gp_width = h->gp_width;
	c->fixed_width = c->nr_fixed ? h->fixed_width : 0;
}

/* The intercept rules compare with the *host* PMU as perf reports it
 * (kvm_host_pmu), not with KVM's capped capabilities (7.0,
 * kvm_need_any_pmc_intercept). */
bool kvm_need_any_pmc_intercept(const struct kvm_vcpu *v)
{
	const struct perf_pmu_caps *h = &v->vm->kvm->host_pmu;

	return !v->pmu.mediated || v->pmu.nr_gp != h->nr_gp || v->pmu.nr_fixed != h->nr_fixed;
}

/* kvm_pmu_has_perf_global_ctrl: Intel v2+, AMD PerfMonV2. */
bool kvm_need_perf_global_ctrl_intercept(const struct kvm_vcpu *v)
{
	return kvm_need_any_pmc_intercept(v) || v->pmu.version < 2;
}

bool kvm_need_rdpmc_intercept(const struct kvm_vcpu *v)
{
	const struct perf_pmu_caps *h = &v->vm->kvm->host_pmu;

	return kvm_need_any_pmc_intercept(v) || v->pmu.gp_mask != X86_MASK(h->gp_width) ||
	       v->pmu.fixed_mask != X86_MASK(h->fixed_width);
}

void kvm_pmu_destroy(struct kvm_vcpu *v)
{
	struct kvm_pmc *pmc;
	unsigned i;

	kvm_for_each_pmc(&v->pmu, pmc, i)
		kvm_emul_release(pmc);
}

static int get_global(struct kvm_vcpu *v, int which, uint64_t *val)
{
	switch (which) {
	case 0: *val = v->pmu.global_ctrl; break;
	case 1: *val = v->pmu.global_status; break;
	default: *val = 0; break;	/* clear/set registers read 0 */
	}
	return X86_OK;
}

/* Intel's global MSRs #GP on reserved bits; AMD ignores them (FACTS s.1-2). */
static int set_global(struct kvm_vcpu *v, int which, uint64_t val, bool host)
{
	struct kvm_pmu *pmu = &v->pmu;
	bool intel = vcpu_host_model(v)->vendor == HW_INTEL;
	uint64_t old = pmu->global_ctrl;

	switch (which) {
	case 0:
		if (val & pmu->global_ctrl_rsvd) {
			if (intel)
				return X86_GP;
			val &= ~pmu->global_ctrl_rsvd;
		}
		pmu->global_ctrl = val;
		kvm_pmu_global_ctrl_changed(v, old);
		return X86_OK;
	case 1:
		/* STATUS is read-only; the host (userspace) may restore it. */
		if (host) {
			pmu->global_status = val & ~pmu->status_rsvd;
			return X86_OK;
		}
		return intel ? X86_GP : X86_OK;
	case 2:
		if (val & pmu->status_rsvd) {
			if (intel)
				return X86_GP;
			val &= ~pmu->status_rsvd;
		}
		pmu->global_status &= ~val;
		return X86_OK;
	case 3:
		if (val & pmu->status_rsvd) {
			if (intel)
				return X86_GP;
			val &= ~pmu->status_rsvd;
		}
		pmu->global_status |= val;
		return X86_OK;
	}
	return X86_GP;
}

int kvm_pmu_get_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct kvm_pmu_ops *ops = vcpu_pmu_ops(v);
	struct kvm_pmc *pmc;
	bool sel, full;
	int which, fault = X86_GP;

	*val = 0;
	if (!v->pmu.enabled)
		return X86_GP;
	if ((pmc = ops->msr_to_pmc(&v->pmu, msr, &sel, &full))) {
		*val = sel ? pmc->eventsel : kvm_pmc_read(pmc);
		return X86_OK;
	}
	if ((which = ops->global_msr(&v->pmu, msr)) >= 0)
		return get_global(v, which, val);
	if (ops->get_msr(v, msr, val, &fault))
		return fault;
	return X86_GP;
}

static int set_pmc(struct kvm_vcpu *v, struct kvm_pmc *pmc, bool sel, bool full,
		   uint64_t val, bool host)
{
	struct kvm_pmu *pmu = &v->pmu;
	bool intel = vcpu_host_model(v)->vendor == HW_INTEL;

	if (sel) {
		if (val & pmu->eventsel_rsvd) {
			if (intel)
				return X86_GP;
			val &= ~pmu->eventsel_rsvd;	/* AMD ignores them */
		}
		if (val != pmc->eventsel) {
			pmc->eventsel = val;
			kvm_pmu_reprogram(v, pmc);
		}
		return X86_OK;
	}
	if (intel && !pmc->fixed) {
		/* Full-width writes beyond the width #GP; legacy writes of the
		 * guest sign-extend from 32 bits (SDM; KVM intel_pmu_set_msr). */
		if (full && (val & ~pmu->gp_mask))
			return X86_GP;
		if (!full && !host)
			val = (uint64_t)(int64_t)(int32_t)(uint32_t)val;
	}
	kvm_pmc_write(pmc, val);
	return X86_OK;
}

int kvm_pmu_set_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t val, bool host)
{
	const struct kvm_pmu_ops *ops = vcpu_pmu_ops(v);
	struct kvm_pmc *pmc;
	bool sel, full;
	int which, fault = X86_GP;

	if (!v->pmu.enabled)
		return X86_GP;
	if ((pmc = ops->msr_to_pmc(&v->pmu, msr, &sel, &full)))
		return set_pmc(v, pmc, sel, full, val, host);
	if ((which = ops->global_msr(&v->pmu, msr)) >= 0)
		return set_global(v, which, val, host);
	if (ops->set_msr(v, msr, val, host, &fault))
		return fault;
	return X86_GP;
}

/* RDPMC as KVM emulates it: CR4.PCE at CPL > 0, then the vendor's index
 * decoding against the guest's counters (kvm_pmu_rdpmc). */
int kvm_pmu_rdpmc(struct kvm_vcpu *v, uint32_t ecx, uint64_t *val)
{
	struct kvm_pmc *pmc;

	*val = 0;
	if (v->cpl > 0 && !v->cr4_pce)
		return X86_GP;
	if (!v->pmu.enabled || !(pmc = vcpu_pmu_ops(v)->rdpmc_pmc(&v->pmu, ecx)))
		return X86_GP;
	*val = kvm_pmc_read(pmc);
	return X86_OK;
}

void kvm_pmu_cpuid(struct kvm_vcpu *v, uint32_t leaf, uint32_t r[4])
{
	if (v->pmu.enabled) {
		vcpu_pmu_ops(v)->cpuid(v, leaf, r);
		return;
	}
	/* No vPMU: KVM reports version 0 and hides PDCM and the AMD bits. */
	if (leaf == 0xA)
		memset(r, 0, 4 * sizeof(r[0]));
	if (leaf == 1)
		r[2] &= ~(uint32_t)CPUID_1_ECX_PDCM;
	if (leaf == 0x80000001)
		r[2] &= ~(uint32_t)CPUID_80000001_ECX_PERFCTR_CORE;
	if (leaf == 0x80000022)
		memset(r, 0, 4 * sizeof(r[0]));
}

void kvm_pmu_request_pmi(struct kvm_vcpu *v)
{
	v->pmu.pmi_pending = true;
}

/* A guest counter overflowed (perf callback, or software increment):
 * status bit, and a PMI request when the counter's interrupt is on. */
void kvm_pmu_overflow(struct kvm_pmc *pmc)
{
	struct kvm_vcpu *v = pmc->vcpu;

	v->pmu.global_status |= X86_BIT(pmc->fixed ? 32 + pmc->idx : pmc->idx);
	if (vcpu_pmu_ops(v)->pmc_int(pmc))
		kvm_pmu_request_pmi(v);
}

/* KVM_REQ_PMI on entry: deliver through the guest's LVTPC.  Like KVM's
 * kvm_apic_local_deliver, a masked LVTPC swallows it, and an Intel-
 * compatible guest gets its mask bit set on delivery. */
void kvm_pmu_deliver_pmi(struct kvm_vcpu *v)
{
	struct sim *sim = v->vm->kvm->sim;
	bool ok;

	if (!v->pmu.pmi_pending)
		return;
	v->pmu.pmi_pending = false;
	/* Test-only: a lost KVM_REQ_PMI (mvpmu/test_hooks.h). */
	if (sim->test.drop_guest_pmi_every &&
	    ++v->pmu.nr_pmi_requests % sim->test.drop_guest_pmi_every == 0) {
		sim_trace(sim, TR_PMI_DROPPED, v->lvtpc, 1, 0, "test: guest pmi dropped");
		return;
	}
	/* kvm_pmu_deliver_pmi delivers only through an in-kernel LAPIC. */
	if (v->vm->cfg.no_irqchip) {
		sim_trace(sim, TR_PMI_DROPPED, v->lvtpc, 0, 0, "no in-kernel lapic");
		return;
	}
	if (v->lvtpc & APIC_LVT_MASKED) {
		sim_trace(sim, TR_PMI_DROPPED, v->lvtpc, 0, 0, "guest lvtpc masked");
		return;
	}
	/* Invariant 3: no spurious guest PMI: some counter has overflowed
	 * (a host PMI sent to the guest shows here).  An AMD guest without
	 * PerfMonV2 has no status register to tell. */
	ok = (v->pmu.global_status & ~(GLOBAL_STATUS_COND_CHGD | GLOBAL_STATUS_CTR_FRZ |
				       GLOBAL_STATUS_LBR_FRZ)) != 0 ||
	     (vcpu_host_model(v)->vendor == HW_AMD && v->pmu.version < 2);
	sim_check(sim, INV_PMI, ok, "guest PMI injected into vm%d/vcpu%d with no overflow pending",
		  v->vm->index, v->idx);
	bool nmi = (v->lvtpc & APIC_LVT_DM_MASK) == APIC_DM_NMI;

	v->pending_nmi_or_irq = true;
	v->pending_vector = nmi ? NMI_VECTOR : (v->lvtpc & APIC_LVT_VECTOR);
	if (vcpu_host_model(v)->vendor == HW_INTEL)
		v->lvtpc |= APIC_LVT_MASKED;
	v->pmu.nr_pmis++;
	v->vm->nr_pmis++;
	sim_trace(sim, TR_INJECT, v->pending_vector, v->ctx, v->lvtpc, "guest pmi");
}

/* 7.0's kvm_pmu_is_fastpath_emulation_allowed: the fastpath skips the
 * instruction without leaving the inner loop, with a mediated guest's
 * counters live in the hardware, so it is refused while one of them counts
 * instructions retired: locally enabled (pmc_counting_instructions) and
 * set in the guest's GLOBAL_CTRL (pmc_enabled checks both).  Branch counters do not matter (no
 * fastpath instruction is a branch), nor does the filter (not consulted
 * for that bitmap). */
bool kvm_pmu_fastpath_allowed(const struct kvm_vcpu *v)
{
	const struct kvm_pmu_ops *ops = vcpu_pmu_ops(v);
	struct kvm_pmc *pmc;
	unsigned i;

	/* Knob no-fastpath-bail undoes the rule. */
	if (!v->pmu.mediated || v->vm->kvm->knobs.no_fastpath_bail)
		return true;
	kvm_for_each_pmc(&((struct kvm_vcpu *)v)->pmu, pmc, i)
		if (kvm_pmc_event(v, pmc) == MV_EV_INSTRUCTIONS && ops->pmc_enabled(pmc))
			return false;
	return true;
}

static void incr_pmc(struct kvm_vcpu *v, struct kvm_pmc *pmc)
{
	uint64_t mask = kvm_pmc_mask(&v->pmu, pmc);

	if (!v->pmu.mediated)
		kvm_emul_pause(pmc);
	pmc->counter = (pmc->counter + 1) & mask;
	if (pmc->counter == 0) {
		v->pmu.nr_emulated_overflows++;
		kvm_pmu_overflow(pmc);
	}
	if (!v->pmu.mediated)
		kvm_emul_reprogram(v, pmc);
}

/* An instruction KVM emulated retires: every enabled, allowed counter
 * counting instructions (or branches, for a branch) at the guest's
 * privilege increments in software (KVM's kvm_pmu_trigger_event). */
void kvm_pmu_instruction_retired(struct kvm_vcpu *v, bool branch)
{
	const struct kvm_pmu_ops *ops = vcpu_pmu_ops(v);
	struct kvm_pmc *pmc;
	unsigned i;

	if (!v->pmu.enabled)
		return;
	kvm_for_each_pmc(&v->pmu, pmc, i) {
		int ev = kvm_pmc_event(v, pmc);
		bool match = ev == MV_EV_INSTRUCTIONS ||
			     (branch && ev == MV_EV_BRANCHES);

		if (match && ops->pmc_enabled(pmc) && kvm_pmc_allowed(v, pmc) &&
		    ops->pmc_counts_mode(pmc, v->g.kernel))
			incr_pmc(v, pmc);
	}
}
