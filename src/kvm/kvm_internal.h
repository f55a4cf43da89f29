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

enum kvm_exit {
	KVM_EXIT_MSR_READ, KVM_EXIT_MSR_WRITE, KVM_EXIT_RDPMC, KVM_EXIT_CPUID,
	KVM_EXIT_HLT, KVM_EXIT_EXTINT, KVM_EXIT_NMI, KVM_EXIT_EMULATE,
	KVM_EXIT_IO,	/* port I/O of real code: to the VMM's devices */
	KVM_EXIT_NR
};

struct kvm_pmc {
	bool fixed;
	unsigned idx;
	uint64_t counter;	/* guest value (mediated: saved at put) */
	uint64_t eventsel;	/* what the guest wrote */
	uint64_t eventsel_hw;	/* what the hardware gets (mediated) */
	struct perf_event *perf_event;	/* emulated backend */
	bool reprogram;		/* overflowed: re-arm before the next entry */
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
	uint64_t nr_pmis;	/* PMIs injected */
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
	bool capable_mediated;	/* filled at init from the host */
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
	uint64_t guest_efer;	/* L1's EFER (SVME for Host/Guest bits) */
	bool nested_svm;	/* nested SVM exposed to L1 (kvm_nested.c) */
	bool in_l2;		/* L1's guest (L2) runs on this vCPU */
	bool pending_nmi_or_irq;
	unsigned pending_vector;
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
	enum mv_vpmu asked, effective;
	char fallback[128];
	bool pmu_disabled;	/* KVM_CAP_PMU_CAPABILITY DISABLE */
	bool mediated_created;	/* perf_create_mediated_pmu succeeded */
	struct kvm_pmu_filter *filter;
	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];
	int nr_vcpus;
	uint64_t nr_pmis;
};

struct kvm {
	struct sim *sim;
	struct hw_cpu *cpus[PERF_MAX_CPUS];
	int nr_cpus;
	struct perf *perf;
	struct kvm_params params;
	struct kvm_knobs knobs;
	const struct kvm_x86_ops *x86;
	const struct kvm_pmu_ops *pmu_ops;
	struct kvm_vm *vms[KVM_MAX_VMS];
	uint64_t exits[KVM_EXIT_NR];
	uint64_t exits_fastpath;
	struct kvm_vcpu *running[PERF_MAX_CPUS];	/* vCPU loaded on each pCPU */
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
bool kvm_pmu_counts_insns(const struct kvm_vcpu *v);
int kvm_pmc_event(const struct kvm_vcpu *v, const struct kvm_pmc *pmc);
bool kvm_pmc_allowed(const struct kvm_vcpu *v, const struct kvm_pmc *pmc);
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

/* kvm_x86.c */
void kvm_exit_count(struct kvm *kvm, enum kvm_exit reason, bool fast);
void kvm_charge(struct kvm_vcpu *v, uint32_t cycles);

#endif
