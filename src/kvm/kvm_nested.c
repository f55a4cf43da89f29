/* kvm_nested: nested VMX/SVM as it touches the vPMU: L2's merged MSR
 * bitmaps (KVM nested_vmx_prepare_msr_bitmap, nested_svm_merge_msrpm) and,
 * with the Jan 2026 proposal, L1's AMD Host/Guest-only bits emulated on the
 * hardware enable. */
#include <string.h>

#include "kvm_nested.h"

#define AMD_LEGACY_CTRS 4
#define MAX_MERGED (3 * HW_MAX_GP + HW_MAX_FIXED + 4)

struct merged {
	uint32_t msr;
	bool rd, wr;	/* L1's intercept is merged for reads / writes */
};

/* The MSRs whose L1 intercept KVM merges for L2 with a mediated vPMU.
 * VMX (nested_vmx_merge_pmu_msr_bitmaps, 7.0): the guest's GP counters in
 * both aliases and its fixed counters, read and write; GLOBAL_CTRL read
 * and write; GLOBAL_STATUS read only; OVF_CTRL write only (STATUS_SET is
 * not merged).  SVM (the PMU entries of nested_svm_merge_msrpm's list):
 * K7 counters 0-3, the PerfCtrExtCore counters, the four global MSRs.
 * Selectors and FIXED_CTR_CTRL are never merged: L0 must see every
 * write to keep the hardware view (filter, GuestOnly) it computes. */
static unsigned merged_msrs(const struct kvm_vcpu *v, struct merged out[MAX_MERGED])
{
	const struct hw_model *m = vcpu_host_model(v);
	const struct kvm_pmu_ops *ops = vcpu_pmu_ops(v);
	unsigned n = 0;

	if (!v->pmu.mediated)
		return 0;
	if (m->vendor == HW_INTEL) {
		for (unsigned i = 0; i < v->pmu.nr_gp; i++) {
			out[n++] = (struct merged){ MSR_IA32_PMC0 + i, true, true };
			out[n++] = (struct merged){ MSR_IA32_A_PMC0 + i, true, true };
		}
		for (unsigned i = 0; i < v->pmu.nr_fixed; i++)
			out[n++] = (struct merged){ MSR_IA32_FIXED_CTR0 + i, true, true };
		out[n++] = (struct merged){ MSR_IA32_PERF_GLOBAL_CTRL, true, true };
		out[n++] = (struct merged){ MSR_IA32_PERF_GLOBAL_STATUS, true, false };
		out[n++] = (struct merged){ MSR_IA32_PERF_GLOBAL_OVF_CTRL, false, true };
		return n;
	}
	for (unsigned i = 0; i < m->nr_gp && i < AMD_LEGACY_CTRS; i++)
		out[n++] = (struct merged){ MSR_K7_PERFCTR0 + i, true, true };
	for (unsigned i = 0; m->amd_perfctr_core && i < m->nr_gp; i++)
		out[n++] = (struct merged){ MSR_F15H_PERF_CTR0 + 2 * i, true, true };
	for (int w = 0; w < 4; w++)
		out[n++] = (struct merged){ ops->global_msr_addr[w], true, true };
	return n;
}

bool kvm_nested_pmu_msr_merged(const struct kvm_vcpu *v, uint32_t msr, bool write)
{
	struct merged ms[MAX_MERGED];
	unsigned n = merged_msrs(v, ms);

	for (unsigned i = 0; i < n; i++)
		if (ms[i].msr == msr)
			return write ? ms[i].wr : ms[i].rd;
	return false;
}

void kvm_nested_vmx_merge_msr_bitmap(const struct kvm_vcpu *v,
				     const uint8_t *l1_bitmap,
				     uint8_t out[KVM_NESTED_VMX_BITMAP_SIZE])
{
	struct hw_vmcs l1, l2;
	struct merged ms[MAX_MERGED];
	unsigned n = merged_msrs(v, ms);

	/* L1's bitmap read with the hardware's rules; without one (L1 does
	 * not set "use MSR bitmaps") every access by L2 exits. */
	hw_vmcs_init(&l1);
	if (l1_bitmap)
		memcpy(l1.msr_bitmap, l1_bitmap, sizeof(l1.msr_bitmap));
	else
		l1.proc &= ~VMX_PROC_USE_MSR_BITMAPS;
	hw_vmcs_init(&l2);	/* everything intercepted */
	for (unsigned i = 0; i < n; i++) {
		uint32_t msr = ms[i].msr;
		bool rd = !ms[i].rd || hw_vmx_msr_exits(&v->vmcs, msr, false) ||
			  hw_vmx_msr_exits(&l1, msr, false);
		bool wr = !ms[i].wr || hw_vmx_msr_exits(&v->vmcs, msr, true) ||
			  hw_vmx_msr_exits(&l1, msr, true);

		hw_vmx_msr_intercept(&l2, msr, rd, wr);
	}
	memcpy(out, l2.msr_bitmap, KVM_NESTED_VMX_BITMAP_SIZE);
}

void kvm_nested_svm_merge_msrpm(const struct kvm_vcpu *v,
				const uint8_t l1_msrpm[KVM_NESTED_SVM_MSRPM_SIZE],
				uint8_t out[KVM_NESTED_SVM_MSRPM_SIZE])
{
	struct hw_vmcb l1, l2;
	struct merged ms[MAX_MERGED];
	unsigned n = merged_msrs(v, ms);

	/* SVM has no "use MSR protection" switch to model: L1's map is
	 * always consulted (APM 15.11). */
	hw_vmcb_init(&l1);
	memcpy(l1.msrpm, l1_msrpm, sizeof(l1.msrpm));
	hw_vmcb_init(&l2);
	for (unsigned i = 0; i < n; i++) {
		uint32_t msr = ms[i].msr;
		bool rd = !ms[i].rd || hw_svm_msr_exits(&v->vmcb, msr, false) ||
			  hw_svm_msr_exits(&l1, msr, false);
		bool wr = !ms[i].wr || hw_svm_msr_exits(&v->vmcb, msr, true) ||
			  hw_svm_msr_exits(&l1, msr, true);

		hw_svm_msr_intercept(&l2, msr, rd, wr);
	}
	memcpy(out, l2.msrpm, KVM_NESTED_SVM_MSRPM_SIZE);
}

/* FACTS.md s.2 (APM 13.2.1), read from L1's point of view: L1 is the
 * "host", L2 the "guest", and L1's own EFER.SVME decides. */
bool kvm_nested_amd_hg_counts(uint64_t eventsel, bool svme, bool in_l2)
{
	bool g = eventsel & AMD_EVTSEL_GUESTONLY, h = eventsel & AMD_EVTSEL_HOSTONLY;

	if (!g && !h)
		return true;
	if (!svme)
		return false;
	if (g && h)
		return true;
	return in_l2 ? g : h;
}

/* The mediated vPMU runs L1 and L2 both in hardware guest mode with the
 * selector forced GuestOnly, so the hardware cannot tell them apart: KVM
 * applies L1's bits itself through EN, recomputed on every transition. */
bool kvm_nested_amd_hg_allowed(const struct kvm_vcpu *v)
{
	/* "KVM: x86/pmu: Allow Host-Only/Guest-Only bits with nSVM and
	 * mediated PMU" (Jan 2026), not in 7.0. */
	return (v->vm->kvm->params.patches & MV_PATCH_NESTED_AMD_HG) &&
	       v->nested_svm && v->pmu.mediated;
}

uint64_t kvm_nested_amd_eventsel_hw(const struct kvm_vcpu *v, uint64_t eventsel,
				    uint64_t base_hw)
{
	if (!kvm_nested_amd_hg_allowed(v))
		return base_hw;
	if (!kvm_nested_amd_hg_counts(eventsel, v->guest_efer & EFER_SVME, v->in_l2))
		return base_hw & ~EVTSEL_EN;
	return base_hw;
}

/* Recompute every hardware selector.  KVM emulates VMRUN and #VMEXIT in
 * the full exit path, with the guest PMU put; if it is loaded here, go
 * through put and load so the new selectors reach the hardware in the
 * switch's order (invariant 4). */
static void recompute(struct kvm_vcpu *v)
{
	bool loaded = v->pmu.loaded;

	if (!v->pmu.mediated)
		return;	/* the emulated vPMU's H/G handling is not modelled */
	if (loaded)
		kvm_mediated_pmu_put(v);
	kvm_pmu_reprogram_all(v);
	if (loaded)
		kvm_mediated_pmu_load(v);
}

void kvm_nested_svm_set(struct kvm_vcpu *v, bool on)
{
	uint64_t hg = AMD_EVTSEL_GUESTONLY | AMD_EVTSEL_HOSTONLY;

	if (vcpu_host_model(v)->vendor != HW_AMD)
		return;
	v->nested_svm = on;
	if (!on)
		v->in_l2 = false;
	/* Bits 40/41 are reserved for every 7.0 guest; the proposal
	 * un-reserves them when the guest has SVM. */
	if (kvm_nested_amd_hg_allowed(v))
		v->pmu.eventsel_rsvd &= ~hg;
	else
		v->pmu.eventsel_rsvd |= hg;
	recompute(v);
}

void kvm_nested_svm_transition(struct kvm_vcpu *v, bool to_l2)
{
	if (!v->nested_svm || v->in_l2 == to_l2)
		return;
	v->in_l2 = to_l2;
	recompute(v);
}

void kvm_nested_svm_efer_changed(struct kvm_vcpu *v, uint64_t old_efer)
{
	if (v->nested_svm && ((old_efer ^ v->guest_efer) & EFER_SVME))
		recompute(v);
}
