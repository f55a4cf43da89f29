/* kvm_nested: the vPMU's part of nested virtualization: the MSR bitmaps L0
 * builds for L2 from its own and L1's, and AMD Host/Guest-only emulation. */
#ifndef KVM_NESTED_H
#define KVM_NESTED_H

#include "kvm_internal.h"

#define KVM_NESTED_VMX_BITMAP_SIZE 4096
#define KVM_NESTED_SVM_MSRPM_SIZE 8192

/* Whether L0 merges L1's intercept of `msr` into L2's bitmap, for reads
 * or writes: with a mediated vPMU, on VMX the guest's counters (legacy and
 * full width) both ways, GLOBAL_CTRL both ways, GLOBAL_STATUS for reads,
 * OVF_CTRL for writes (nested_vmx_merge_pmu_msr_bitmaps, 7.0); on SVM the
 * K7 counters 0-3, the PerfCtrExtCore counters and the four global MSRs.
 * Never the selectors nor FIXED_CTR_CTRL.  Every other access exits while
 * L2 runs. */
bool kvm_nested_pmu_msr_merged(const struct kvm_vcpu *v, uint32_t msr, bool write);

/* The bitmap the hardware uses while L2 runs: a merged MSR passes through
 * iff L0's bitmap for L1 (v->vmcs / v->vmcb) and L1's bitmap for L2 both
 * pass it; everything else is intercepted.  A NULL L1 bitmap means L1
 * does not use MSR bitmaps (VMX) and so intercepts everything. */
void kvm_nested_vmx_merge_msr_bitmap(const struct kvm_vcpu *v,
				     const uint8_t *l1_bitmap,
				     uint8_t out[KVM_NESTED_VMX_BITMAP_SIZE]);
void kvm_nested_svm_merge_msrpm(const struct kvm_vcpu *v,
				const uint8_t l1_msrpm[KVM_NESTED_SVM_MSRPM_SIZE],
				uint8_t out[KVM_NESTED_SVM_MSRPM_SIZE]);

/* FACTS.md s.2 truth table for an L1 selector: whether it counts with
 * L1's EFER.SVME = `svme` while L1 (in_l2 false) or L2 (true) runs. */
bool kvm_nested_amd_hg_counts(uint64_t eventsel, bool svme, bool in_l2);

/* The hardware selector for L1's `eventsel`, given the view KVM computed
 * without nesting (`base_hw`: GuestOnly forced, filter applied): EN is
 * cleared when L1's Host/Guest bits exclude the level now running.
 * Unless kvm_nested_amd_hg_allowed, base_hw unchanged. */
uint64_t kvm_nested_amd_eventsel_hw(const struct kvm_vcpu *v, uint64_t eventsel,
				    uint64_t base_hw);

/* Whether L1's Host/Guest-only bits mean anything: not in 7.0 (bits 40/41
 * stay reserved, dropped); with the Jan 2026 proposal
 * (MV_PATCH_NESTED_AMD_HG) for nested SVM under the mediated vPMU. */
bool kvm_nested_amd_hg_allowed(const struct kvm_vcpu *v);

/* Exposes (or hides) nested SVM to L1; with the proposal it un-reserves
 * (re-reserves) selector bits 40/41 and recomputes the hardware view. */
void kvm_nested_svm_set(struct kvm_vcpu *v, bool on);
/* L1's VMRUN (to_l2) or L2's #VMEXIT to L1: flips in_l2 and recomputes
 * every counter's hardware selector. */
void kvm_nested_svm_transition(struct kvm_vcpu *v, bool to_l2);
/* L1 wrote EFER: a change of SVME changes what Host/Guest bits mean. */
void kvm_nested_svm_efer_changed(struct kvm_vcpu *v, uint64_t old_efer);

#endif
