/* kvm: the hypervisor as the rest of the machine sees it: module
 * parameters, VM and vCPU creation, the vCPU run step, exit statistics,
 * and the vPMU mode a VM ended up with. */
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

/* Module parameters (kvm.enable_pmu, kvm.enable_mediated_pmu). */
struct kvm_params {
	bool enable_pmu;		/* default true */
	bool enable_mediated_pmu;	/* default false, as upstream */
};

/* Design knobs that undo one decision of the real design, for exploring
 * the counterexample it prevents (DESIGN.md "Determinism and exploration"). */
struct kvm_knobs {
	bool no_global_ctrl_clear_on_load;	/* skip GLOBAL_CTRL=0 at load */
	bool no_counter_clear_on_put;		/* leave guest values in hardware */
	bool no_write_elision;			/* always write counters at load */
};

struct kvm *kvm_new(struct sim *sim, struct hw_cpu *cpus[], int nr_cpus,
		    struct perf *host_perf, const struct kvm_params *params);
void kvm_free(struct kvm *kvm);
struct kvm_knobs *kvm_knobs(struct kvm *kvm);

/* Creates VM `index` from its configuration; the PMU mode asked for is
 * `vpmu` (the mediated mode also needs params.enable_mediated_pmu).
 * Returns NULL with a message when the configuration is invalid (the
 * event filter is rejected, ...). */
struct kvm_vm *kvm_vm_create(struct kvm *kvm, int index,
			     const struct mv_vm_config *cfg, enum mv_vpmu vpmu,
			     char *err, size_t errlen);
void kvm_vm_destroy(struct kvm_vm *vm);
/* KVM_CAP_PMU_CAPABILITY(DISABLE): refused (-EINVAL) once a vCPU exists. */
int kvm_vm_disable_pmu(struct kvm_vm *vm);
/* KVM_SET_PMU_EVENT_FILTER at run time: reprograms every counter. */
int kvm_vm_set_filter(struct kvm_vm *vm, const struct mv_filter *f);

/* Creates vCPU `idx` running on physical CPU `pcpu`.  The first vCPU
 * creates the mediated PMU (or records why the VM falls back). */
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

enum mv_vpmu kvm_vm_vpmu(const struct kvm_vm *vm);
const char *kvm_vm_fallback_reason(const struct kvm_vm *vm);
uint64_t kvm_vm_guest_pmis(const struct kvm_vm *vm);
bool kvm_vm_event_allowed(const struct kvm_vm *vm, uint64_t eventsel);
bool kvm_vm_fixed_allowed(const struct kvm_vm *vm, unsigned idx);

/* Exit statistics over every VM. */
unsigned kvm_exit_reasons(const struct kvm *kvm, const char **names,
			  uint64_t *counts, unsigned max);
uint64_t kvm_exits_total(const struct kvm *kvm);
uint64_t kvm_exits_fastpath(const struct kvm *kvm);

#endif
