/* kvm_internal: the hypervisor's structures and the tables that keep vendor
 * differences in one place: kvm_x86_ops (VMX vs SVM) and kvm_pmu_ops
 * (Intel vs AMD vPMU), as KVM has them. */
#ifndef KVM_INTERNAL_H
#define KVM_INTERNAL_H

#include "hw/hw_virt.h"
#include "kvm.h"
#include "kvm_pmu_filter.h"

#define KVM_MAX_VMS MV_MAX_VMS
#define KVM_MAX_VCPUS MV_MAX_VCPUS
#define KVM_NR_EXIT_SLOTS 16
#define KVM_MSR_SLOTS 256
/* KVM_MAX_NR_INTEL_GP_COUNTERS / _FIXED_COUNTERS (3 in 7.0; 4 with the
 * Feb 2026 fixed-counter-3 proposal), KVM_MAX_NR_AMD_GP_COUNTERS. */
#define KVM_MAX_NR_INTEL_GP 8
#define KVM_MAX_NR_INTEL_FIXED 3
#define KVM_MAX_NR_INTEL_FIXED_FC3 4
#define KVM_MAX_NR_AMD_GP 6

enum kvm_exit {
	KVM_EXIT_MSR_READ, KVM_EXIT_MSR_WRITE, KVM_EXIT_RDPMC, KVM_EXIT_CPUID,
	KVM_EXIT_HLT, KVM_EXIT_EXTINT, KVM_EXIT_NMI, KVM_EXIT_EMULATE,
	KVM_EXIT_IO,	/* port I/O of real code: to the VMM's devices */
	KVM_EXIT_APIC,	/* real code's xAPIC page: APIC access (VMX), NPF (SVM) */
	KVM_EXIT_UD,	/* #UD, which KVM intercepts (forced emulation) */
	KVM_EXIT_NR
};

/* MSR exits by MSR, kept sorted by address so reports are deterministic;
 * MSRs beyond the slots are summed in `other`. */
struct kvm_msr_stats {
	uint32_t msr[KVM_MSR_SLOTS];
	uint64_t count[KVM_MSR_SLOTS];
	unsigned nr;
	uint64_t other;
};

/* What KVM offers guests (kvm_pmu_cap): perf's description of the host PMU
 * (kvm_host_pmu) capped by KVM's limits at module load. */
struct kvm_pmu_cap {
	unsigned version, nr_gp, nr_fixed, gp_width, fixed_width;
};

struct kvm_pmc {
	bool fixed;
	unsigned idx;
	uint64_t counter;	/* guest value (mediated: saved at put) */
	uint64_t eventsel;	/* what the guest wrote */
	uint64_t eventsel_hw;	/* what the hardware gets (mediated) */
	struct perf_event *perf_event;	/* emulated backend */
	bool reprogram;		/* overflowed: re-arm before the next entry */
	uint32_t msr[2];	/* pmc_msr(pmc, false / true): the hardware counter, selector */
	struct kvm_vcpu *vcpu;
};

struct kvm_pmu {
	bool enabled;		/* the VM has a vPMU at all */
	bool mediated;		/* the effective backend */
	unsigned version, nr_gp, nr_fixed, gp_width, fixed_width;
	uint64_t gp_mask, fixed_mask;	/* counter width masks */
	uint64_t eventsel_rsvd, fixed_ctrl_rsvd, global_ctrl_rsvd, status_rsvd;
	uint64_t perf_caps;
	uint64_t global_ctrl, global_status, fixed_ctr_ctrl;
	uint64_t fixed_ctr_ctrl_hw;
	struct kvm_pmc gp[HW_MAX_GP];
	struct kvm_pmc fixed[HW_MAX_FIXED];
	bool pmi_pending;	/* KVM_REQ_PMI */
	bool reprogram_all;	/* filter changed: recompute eventsel_hw */
	bool reprogram_some;	/* some pmc->reprogram may be set */
	uint64_t nr_pmis;	/* PMIs injected */
	uint64_t nr_pmi_requests;	/* test-only drop_guest_pmi_every's count */
	uint64_t nr_emulated_overflows;
	bool passthrough_global, passthrough_rdpmc;
	bool loaded;		/* mediated state in hardware */
};

/* Vendor parts of the vPMU (KVM's kvm_pmu_ops). */
struct kvm_pmu_ops {
	/* Maps a PMU MSR to a counter (*sel: selector rather than counter;
	 * *full: full-width alias); NULL when the MSR is no counter MSR. */
	struct kvm_pmc *(*msr_to_pmc)(struct kvm_pmu *pmu, uint32_t msr,
				      bool *sel, bool *full);
	/* The global MSRs: 0 ctrl, 1 status, 2 clear, 3 set; -1 none. */
	int (*global_msr)(const struct kvm_pmu *pmu, uint32_t msr);
	uint32_t global_msr_addr[4];
	/* Other vendor MSRs (PERF_CAPABILITIES, FIXED_CTR_CTRL, ...). */
	bool (*get_msr)(struct kvm_vcpu *v, uint32_t msr, uint64_t *val, int *fault);
	bool (*set_msr)(struct kvm_vcpu *v, uint32_t msr, uint64_t val, bool host, int *fault);
	/* Guest PMU shape from the host and the VM's configuration. */
	void (*refresh)(struct kvm_vcpu *v, const struct mv_vm_config *cfg);
	void (*cpuid)(struct kvm_vcpu *v, uint32_t leaf, uint32_t r[4]);
	struct kvm_pmc *(*rdpmc_pmc)(struct kvm_pmu *pmu, uint32_t ecx);
	/* Whether a counter counts in the guest's view (enables). */
	bool (*pmc_enabled)(const struct kvm_pmc *pmc);
	uint64_t (*pmc_selector)(const struct kvm_pmc *pmc);	/* for decode/filter */
	bool (*pmc_int)(const struct kvm_pmc *pmc);
	bool (*pmc_counts_mode)(const struct kvm_pmc *pmc, bool kernel);
	uint32_t (*pmc_msr)(const struct kvm_pmc *pmc, bool sel);
	uint64_t (*pmc_eventsel_hw)(struct kvm_vcpu *v, const struct kvm_pmc *pmc);
	/* Mediated vendor halves of load and put (FACTS.md, DESIGN.md). */
	void (*mediated_load)(struct kvm_vcpu *v);
	void (*mediated_put)(struct kvm_vcpu *v);
	/* Mediated intercept policy for the vendor's MSRs. */
	void (*recalc_intercepts)(struct kvm_vcpu *v);
	/* Whether the host can run the mediated vPMU (is_mediated_pmu_supported);
	 * NULL when it can, else the reason. */
	const char *(*mediated_unsupported)(const struct kvm *kvm);
	/* The counter MSRs the guest's accesses go to directly (passed
	 * through for reads and writes), ascending; returns how many. */
	unsigned (*pt_counters)(const struct kvm_vcpu *v, uint32_t *out, unsigned max);
	/* KVM's counter limits (kvm_init_pmu_capability). */
	unsigned max_nr_gp, max_nr_fixed, max_nr_fixed_fc3;
};

/* VMX vs SVM (KVM's kvm_x86_ops, reduced to what the PMU needs). */
struct kvm_x86_ops {
	const char *name;
	void (*vcpu_init)(struct kvm_vcpu *v);
	void (*enter)(struct kvm_vcpu *v);
	void (*exit)(struct kvm_vcpu *v, enum kvm_exit reason, uint64_t qual);
	bool (*msr_exits)(struct kvm_vcpu *v, uint32_t msr, bool write);
	void (*msr_intercept)(struct kvm_vcpu *v, uint32_t msr, bool read, bool write);
	void (*set_rdpmc_exiting)(struct kvm_vcpu *v, bool on);
	bool (*rdpmc_exits)(struct kvm_vcpu *v);
	/* #GP the hardware raises before the intercept (AMD's bad index). */
	bool (*rdpmc_faults_first)(struct kvm_vcpu *v, uint32_t ecx);
	/* After an exit, refresh the guest GLOBAL_CTRL KVM tracks. */
	void (*sync_global_ctrl)(struct kvm_vcpu *v);
	const char *(*exit_name)(enum kvm_exit reason);
	uint32_t (*exit_code)(enum kvm_exit reason);
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	int idx, ctx;
	struct hw_cpu *cpu;
	int perf_cpu;		/* host perf's index of `cpu` (host_cpu_index, fixed) */
	struct mv_guest g;
	struct perf_task task;
	struct kvm_pmu pmu;
	struct hw_vmcs vmcs;
	struct hw_vmcb vmcb;
	/* guest architectural state the model tracks */
	unsigned cpl;
	bool cr4_pce;
	uint32_t lvtpc;		/* the guest's virtual LVTPC */
	struct hw_apic_misc apic_misc;	/* its APIC base, ID, TPR, SVR (real code) */
	uint64_t misc_enable;	/* IA32_MISC_ENABLE as KVM keeps it (kvm_pmu_init) */
	uint64_t guest_efer;	/* L1's EFER (SVME for Host/Guest bits) */
	bool nested_svm;	/* nested SVM exposed to L1 (kvm_nested.c) */
	bool in_l2;		/* L1's guest (L2) runs on this vCPU */
	bool pending_nmi_or_irq;
	unsigned pending_vector;
	uint64_t exit_qual;	/* of the exit being handled (the MSR of an MSR exit) */
	uint64_t x2apic_icr;
	bool in_guest;
	bool switching;		/* KVM writing PMU state in load/put (invariant 4) */
	bool ran;		/* KVM_RUN happened (PERF_CAPABILITIES locks) */
	uint64_t host_cpl_saved;
	bool host_pce_saved;
};

struct kvm_vm {
	struct kvm *kvm;
	int index;
	struct mv_vm_config cfg;
	enum mv_vpmu effective;	/* decided at the first vCPU */
	char fallback[128];
	bool pmu_disabled;	/* KVM_CAP_PMU_CAPABILITY DISABLE */
	bool pmu_off_irqchip;	/* mediated module, no in-kernel irqchip */
	bool mediated_created;	/* perf_create_mediated_pmu succeeded */
	int create_err;		/* -errno of the last failed KVM_CREATE_VCPU */
	char warning[160];
	struct kvm_pmu_filter *filter;
	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];
	int nr_vcpus;
	uint64_t nr_pmis;
	uint64_t exits[KVM_EXIT_NR];
	uint64_t exits_fastpath;
	struct kvm_msr_stats msr_exits;
};

struct kvm {
	struct sim *sim;
	struct hw_cpu *cpus[PERF_MAX_CPUS];
	int nr_cpus;
	struct perf *perf;
	struct kvm_params params;	/* in force */
	char params_reason[128];	/* why one was forced off */
	struct perf_pmu_caps host_pmu;	/* kvm_host_pmu: what perf reports */
	struct kvm_pmu_cap pmu_cap;	/* kvm_pmu_cap: what guests may get */
	struct kvm_knobs knobs;
	const struct kvm_x86_ops *x86;
	const struct kvm_pmu_ops *pmu_ops;
	struct kvm_vm *vms[KVM_MAX_VMS];
	uint64_t exits[KVM_EXIT_NR];
	uint64_t exits_fastpath;
	struct kvm_msr_stats msr_exits;
	struct kvm_vcpu *running[PERF_MAX_CPUS];	/* vCPU loaded on each pCPU */
	uint64_t nr_warnings;		/* WARN_ONs that fired */
	const char *first_warning;
	uint64_t switch_wrmsrs;		/* WRMSRs of mediated loads and puts */
	uint64_t exits_mediated_pmi;	/* exits for vector 0xF5 */
};

extern const struct kvm_x86_ops kvm_vmx_ops, kvm_svm_ops;
extern const struct kvm_pmu_ops kvm_intel_pmu_ops, kvm_amd_pmu_ops;

static inline const struct kvm_pmu_ops *vcpu_pmu_ops(const struct kvm_vcpu *v)
{
	return v->vm->kvm->pmu_ops;
}

static inline const struct hw_model *vcpu_host_model(const struct kvm_vcpu *v)
{
	return v->cpu->model;
}

/* kvm_pmu.c: the common vPMU */
void kvm_pmu_init(struct kvm_vcpu *v, const struct mv_vm_config *cfg);
void kvm_pmu_destroy(struct kvm_vcpu *v);
int kvm_pmu_get_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val);
int kvm_pmu_set_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t val, bool host);
int kvm_pmu_rdpmc(struct kvm_vcpu *v, uint32_t ecx, uint64_t *val);
void kvm_pmu_cpuid(struct kvm_vcpu *v, uint32_t leaf, uint32_t r[4]);
void kvm_pmu_deliver_pmi(struct kvm_vcpu *v);
void kvm_pmu_request_pmi(struct kvm_vcpu *v);
void kvm_pmu_overflow(struct kvm_pmc *pmc);
void kvm_pmu_instruction_retired(struct kvm_vcpu *v, bool branch);
/* kvm_pmu_is_fastpath_emulation_allowed: not while a mediated counter
 * counting instructions retired is enabled (locally and globally). */
bool kvm_pmu_fastpath_allowed(const struct kvm_vcpu *v);
/* kvm_init_pmu_capability, at module load. */
void kvm_init_pmu_capability(struct kvm *kvm);
/* The need-intercept rules of 7.0 (kvm_need_any_pmc_intercept and friends). */
bool kvm_need_any_pmc_intercept(const struct kvm_vcpu *v);
bool kvm_need_perf_global_ctrl_intercept(const struct kvm_vcpu *v);
bool kvm_need_rdpmc_intercept(const struct kvm_vcpu *v);
int kvm_pmc_event(const struct kvm_vcpu *v, const struct kvm_pmc *pmc);
bool kvm_pmc_allowed(const struct kvm_vcpu *v, const struct kvm_pmc *pmc);
/* The filter as the mediated vPMU applies it to the hardware view (the
 * test-only mediated_filter_keeps_en ignores it there, mvpmu/test_hooks.h). */
static inline bool kvm_pmc_hw_allowed(const struct kvm_vcpu *v, const struct kvm_pmc *pmc)
{
	return kvm_pmc_allowed(v, pmc) || v->vm->kvm->sim->test.mediated_filter_keeps_en;
}
uint64_t kvm_pmc_mask(const struct kvm_pmu *pmu, const struct kvm_pmc *pmc);
uint64_t kvm_pmc_read(struct kvm_pmc *pmc);
void kvm_pmc_write(struct kvm_pmc *pmc, uint64_t val);
void kvm_pmu_reprogram(struct kvm_vcpu *v, struct kvm_pmc *pmc);
void kvm_pmu_reprogram_all(struct kvm_vcpu *v);
void kvm_pmu_global_ctrl_changed(struct kvm_vcpu *v, uint64_t old);
/* Applies fn to every counter the guest has. */
#define kvm_for_each_pmc(pmu, pmc, i) \
	for ((i) = 0; (i) < (pmu)->nr_gp + HW_MAX_FIXED; (i)++) \
		if (((pmc) = (i) < (pmu)->nr_gp ? &(pmu)->gp[(i)] : \
		     ((i) - (pmu)->nr_gp < (pmu)->nr_fixed ? \
		      &(pmu)->fixed[(i) - (pmu)->nr_gp] : NULL)) != NULL)

/* kvm_pmu_emulated.c: the perf-backed backend */
void kvm_emul_reprogram(struct kvm_vcpu *v, struct kvm_pmc *pmc);
void kvm_emul_pause(struct kvm_pmc *pmc);
uint64_t kvm_emul_read(struct kvm_pmc *pmc);
void kvm_emul_release(struct kvm_pmc *pmc);

/* kvm_pmu_mediated.c */
void kvm_mediated_pmu_load(struct kvm_vcpu *v);
void kvm_mediated_pmu_put(struct kvm_vcpu *v);
void kvm_mediated_recalc_intercepts(struct kvm_vcpu *v);
int kvm_mediated_vm_init(struct kvm_vm *vm);
void kvm_mediated_vm_release(struct kvm_vm *vm);
uint64_t kvm_mediated_hw_global_ctrl(const struct kvm_vcpu *v);
void kvm_mediated_load_status(struct kvm_vcpu *v);
uint64_t kvm_mediated_put_status(struct kvm_vcpu *v);
/* Writes a PMU MSR on behalf of the switch, with its invariant check. */
void kvm_mediated_wrmsr(struct kvm_vcpu *v, uint32_t msr, uint64_t val);
/* Invariant 3 at VM-entry: the hardware LVTPC routes the guest's PMIs to
 * the mediated vector with the guest's own mask bit. */
void kvm_mediated_check_entry(struct kvm_vcpu *v);

/* kvm_x86.c */
void kvm_exit_count(struct kvm_vcpu *v, enum kvm_exit reason, bool fast);
/* A kernel WARN_ON that fired: counted, traced, the first kept (a literal). */
void kvm_warn(struct kvm *kvm, const char *msg);
void kvm_charge(struct kvm_vcpu *v, uint32_t cycles);
/* Invariant 4's check of a write during the switch (the CPU's
 * on_pmu_write hook, with the kvm as its opaque). */
void kvm_check_write(struct hw_cpu *cpu, uint32_t msr, uint64_t val, void *opaque);

/* The MSRs that hold guest state during the switch: LVTPC, counters and
 * selectors of both vendors ((x - base < n, unsigned: one compare per
 * range). */
static inline bool kvm_is_guest_state_msr(uint32_t msr)
{
	if (msr >= MSR_K7_EVNTSEL0)	/* the AMD ranges */
		return msr - MSR_K7_EVNTSEL0 < MSR_K7_PERFCTR0 + 4 - MSR_K7_EVNTSEL0 ||
		       msr - MSR_F15H_PERF_CTL0 < 2 * HW_MAX_GP;
	return msr == MSR_X2APIC_LVTPC ||
	       msr - MSR_IA32_PMC0 < HW_MAX_GP ||
	       msr - MSR_IA32_A_PMC0 < HW_MAX_GP ||
	       msr - MSR_IA32_PERFEVTSEL0 < HW_MAX_GP ||
	       msr - MSR_IA32_FIXED_CTR0 < HW_MAX_FIXED;
}

/* Invariant 4: while KVM switches the PMU, LVTPC and counter/selector
 * writes happen with the hardware GLOBAL_CTRL at 0.  Checked before the
 * write takes effect.  This half is for a write the caller knows to be of
 * guest state: a counter's own MSRs (struct kvm_pmc's msr[], which
 * kvm_pmu_init takes from the vendor and which are always among
 * kvm_is_guest_state_msr's; tests/kvm/test_kvm_mediated.c checks it). */
static inline void kvm_check_switch_state_write(struct kvm_vcpu *v, uint32_t msr)
{
	const struct hw_cpu *cpu = v->cpu;

	sim_check(v->vm->kvm->sim, INV_ORDERING, cpu->pmu.global_ctrl == 0,
		  "msr %#x written during the PMU switch with GLOBAL_CTRL=%#llx",
		  msr, (unsigned long long)cpu->pmu.global_ctrl);
}

static inline void kvm_check_switch_write(struct kvm_vcpu *v, uint32_t msr)
{
	if (kvm_is_guest_state_msr(msr))
		kvm_check_switch_state_write(v, msr);
}

/* KVM is (or stops) writing PMU state in load/put.  The ordering check is
 * armed on the vCPU's CPU for exactly that time: outside it,
 * kvm_check_write would find no vCPU switching and check nothing, so the
 * other writes skip the call. */
static inline void kvm_set_switching(struct kvm_vcpu *v, bool on)
{
	v->switching = on;
	v->cpu->hooks.on_pmu_write = on ? kvm_check_write : NULL;
}

#endif
