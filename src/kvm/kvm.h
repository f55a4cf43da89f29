/* kvm: the hypervisor as the rest of the machine sees it: module
 * parameters (decided once for the host, as Linux 7.0 decides them at
 * module load), VM and vCPU creation, the vCPU run step, exit statistics,
 * and what each VM ended up with. */
#ifndef KVM_H
#define KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "host/perf.h"
#include "hw/hw_cpu.h"
#include "mvpmu/guest.h"
#include "mvpmu/scenario.h"
#include "sim/sim.h"

struct kvm;
struct kvm_vm;
struct kvm_vcpu;

/* Module parameters (kvm.enable_pmu, kvm_{intel,amd}.enable_mediated_pmu,
 * read-only after load) and the later proposals in force (MV_PATCH_*). */
struct kvm_params {
	bool enable_pmu;		/* default true */
	bool enable_mediated_pmu;	/* default false, as upstream */
	bool force_emulation_prefix;	/* kvm.force_emulation_prefix, default false */
	uint32_t patches;
};

/* Design knobs that undo one decision of the real design, for exploring
 * the counterexample it prevents (DESIGN.md "Determinism and exploration"). */
struct kvm_knobs {
	bool no_global_ctrl_clear_on_load;	/* skip GLOBAL_CTRL=0 at load */
	bool no_counter_clear_on_put;		/* leave guest values in hardware */
	bool no_write_elision;			/* always write counters at load */
	bool assert_instead_of_clear;		/* WARN if GLOBAL_CTRL != 0 instead of clearing */
	bool lvtpc_before_clear;		/* LVTPC switched before GLOBAL_CTRL=0 */
	bool lvtpc_outside_switch;		/* LVTPC switched before perf's load, after its put */
	bool no_mask_copy;			/* guest's LVTPC mask not carried into hardware */
	bool no_guestonly;			/* AMD: guest selectors not forced GuestOnly */
	bool no_fastpath_bail;			/* fastpath even while instructions are counted */
	bool inject_after_load;			/* pending PMI injected after the mediated load */
};

/* "Loads the module": the host's requirements are checked once here
 * (kvm_init_pmu_capability): a hybrid host gets no vPMU, a host that
 * cannot support the mediated vPMU gets enable_mediated_pmu forced off. */
struct kvm *kvm_new(struct sim *sim, struct hw_cpu *cpus[], int nr_cpus,
		    struct perf *host_perf, const struct kvm_params *params);
void kvm_free(struct kvm *kvm);
struct kvm_knobs *kvm_knobs(struct kvm *kvm);
/* The parameters in force, and why one was forced off ("" when none). */
const struct kvm_params *kvm_get_params(const struct kvm *kvm);
const char *kvm_params_reason(const struct kvm *kvm);

/* KVM_CREATE_VM from a configuration.  Returns NULL with a message when
 * the configuration is invalid (the event filter is rejected, ...). */
struct kvm_vm *kvm_vm_create(struct kvm *kvm, int index,
			     const struct mv_vm_config *cfg, char *err, size_t errlen);
void kvm_vm_destroy(struct kvm_vm *vm);
/* KVM_CAP_PMU_CAPABILITY(DISABLE): -EINVAL without enable_pmu, once a vCPU
 * exists, or once the VM's mediated PMU was created. */
int kvm_vm_disable_pmu(struct kvm_vm *vm);
/* KVM_SET_PMU_EVENT_FILTER at run time: reprograms every counter. */
int kvm_vm_set_filter(struct kvm_vm *vm, const struct mv_filter *f);

/* KVM_CREATE_VCPU: vCPU `idx` on physical CPU `pcpu`.  Before the first
 * vCPU of a VM with a PMU and an in-kernel irqchip, the mediated vPMU asks
 * perf for the mediated PMU; if perf refuses, this fails (NULL) with
 * kvm_vm_create_error() -EBUSY and the kernel's warning, as in 7.0. */
struct kvm_vcpu *kvm_vcpu_create(struct kvm_vm *vm, int idx, int pcpu);
struct mv_guest *kvm_vcpu_guest(struct kvm_vcpu *vcpu);
struct perf_task *kvm_vcpu_task(struct kvm_vcpu *vcpu);
int kvm_vcpu_pcpu(const struct kvm_vcpu *vcpu);

/* Runs the guest on its physical CPU: enter, call `guest_step(arg)` until
 * it returns false or simulated time reaches `until`, then exit to the
 * host (timer interrupt, or HLT when the guest finished).  Returns the
 * last value of guest_step. */
bool kvm_vcpu_run(struct kvm_vcpu *vcpu, bool (*guest_step)(void *arg),
		  void *arg, uint64_t until);

/* An injection point where a host interrupt may exit the guest (docs/
 * explore.md, "Injection points"): when exploration picks it, the vCPU
 * takes a VM-exit for the host's timer and comes back, the PMU switched
 * out and in.  The guest API calls it before every step; a real-code CPU
 * calls it at each instruction of the guest's PMI handler with
 * SIM_PT_GUEST_INSN.  Returns whether the exit happened. */
bool kvm_vcpu_exit_point(struct kvm_vcpu *vcpu, enum sim_point_kind kind, const char *label);

/* Kernel warnings KVM logged (a WARN_ON the model checks), and the first. */
uint64_t kvm_warnings(const struct kvm *kvm, const char **first);
/* WRMSRs KVM made in mediated loads and puts, and VM-exits for the
 * mediated PMI vector (0xF5): what the design knobs cost. */
uint64_t kvm_switch_wrmsrs(const struct kvm *kvm);
uint64_t kvm_exits_mediated_pmi(const struct kvm *kvm);

/* What the VM got: its vPMU (none until its first vCPU exists), why it
 * has less than the module offers, the last vCPU creation error (-errno,
 * 0 none) and the line the kernel logged for it. */
enum mv_vpmu kvm_vm_vpmu(const struct kvm_vm *vm);
const char *kvm_vm_fallback_reason(const struct kvm_vm *vm);
int kvm_vm_create_error(const struct kvm_vm *vm);
const char *kvm_vm_warning(const struct kvm_vm *vm);
uint64_t kvm_vm_guest_pmis(const struct kvm_vm *vm);
bool kvm_vm_event_allowed(const struct kvm_vm *vm, uint64_t eventsel);
bool kvm_vm_fixed_allowed(const struct kvm_vm *vm, unsigned idx);
/* The VM's guest PMU shape, what passes through, and its exits
 * (fills the KVM parts of `out`: not name, created, error, warning). */
void kvm_vm_describe(const struct kvm_vm *vm, struct mv_vm_result *out);

/* Exit statistics over every VM. */
unsigned kvm_exit_reasons(const struct kvm *kvm, const char **names,
			  uint64_t *counts, unsigned max);
uint64_t kvm_exits_total(const struct kvm *kvm);
uint64_t kvm_exits_fastpath(const struct kvm *kvm);
/* MSR exits over every VM, as mv_exit_stats keeps them. */
void kvm_exit_msrs(const struct kvm *kvm, struct mv_exit_stats *out);

#endif
