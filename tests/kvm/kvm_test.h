/* kvm_test: a harness for hypervisor tests: one simulated machine (CPUs,
 * host perf, KVM) with one VM, and a way to run a piece of guest code on
 * a vCPU as the runner does.  Header-only so each test binary stands
 * alone. */
#ifndef KVM_TEST_H
#define KVM_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/guest_bare.h"
#include "host/host_cpu.h"
#include "kvm/kvm.h"
#include "kvm/kvm_internal.h"

#define KT_MAX_CPUS 2

struct kt {
	struct sim sim;
	struct hw_cpu cpu[KT_MAX_CPUS];
	struct hw_cpu *cpus[KT_MAX_CPUS];
	struct perf *host;
	struct kvm *kvm;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct mv_guest *g;
	void (*guest_fn)(struct mv_guest *g, void *arg);
	void *guest_arg;
};

/* A VM configuration that asks for the host's PMU shape. */
static inline struct mv_vm_config kt_vm_config(void)
{
	struct mv_vm_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "vm0");
	cfg.nr_vcpus = 1;
	cfg.pmu_version = -1;
	cfg.nr_gp = -1;
	cfg.nr_fixed = -1;
	cfg.perf_caps = -1;
	return cfg;
}

/* The module parameters of a host that offers `vpmu` (Linux 7.0: the
 * vPMU is chosen for the whole host, never per VM). */
static inline struct kvm_params kt_params(enum mv_vpmu vpmu)
{
	return (struct kvm_params){
		.enable_pmu = vpmu != MV_VPMU_NONE,
		.enable_mediated_pmu = vpmu == MV_VPMU_MEDIATED,
	};
}

/* Machine with host perf and KVM loaded with `params`, on CPUs of model
 * `m`; no VM yet (kt_vm adds it). */
static inline void kt_machine_model(struct kt *t, const struct hw_model *m, bool keep_trace,
				    const struct kvm_params *params)
{
	assert_non_null(m);
	memset(t, 0, sizeof(*t));
	sim_init(&t->sim, 1, keep_trace);
	for (int i = 0; i < KT_MAX_CPUS; i++) {
		hw_cpu_init(&t->cpu[i], i, &t->sim, m);
		t->cpus[i] = &t->cpu[i];
	}
	t->host = host_perf_new(&t->sim, t->cpus, KT_MAX_CPUS);
	assert_non_null(t->host);
	t->kvm = kvm_new(&t->sim, t->cpus, KT_MAX_CPUS, t->host, params);
	assert_non_null(t->kvm);
}

static inline void kt_machine_params(struct kt *t, const char *model, bool keep_trace,
				     const struct kvm_params *params)
{
	kt_machine_model(t, hw_model_find(model), keep_trace, params);
}

/* Machine whose KVM offers `vpmu`. */
static inline void kt_machine(struct kt *t, const char *model, bool keep_trace,
			      enum mv_vpmu vpmu)
{
	struct kvm_params params = kt_params(vpmu);

	kt_machine_params(t, model, keep_trace, &params);
}

/* Adds VM 0 with one vCPU on CPU 0. */
static inline void kt_vm(struct kt *t, const struct mv_vm_config *cfg)
{
	char err[160];

	t->vm = kvm_vm_create(t->kvm, 0, cfg, err, sizeof(err));
	assert_non_null(t->vm);
	t->vcpu = kvm_vcpu_create(t->vm, 0, 0);
	assert_non_null(t->vcpu);
	t->g = kvm_vcpu_guest(t->vcpu);
}

static inline void kt_setup(struct kt *t, const char *model, enum mv_vpmu vpmu)
{
	struct mv_vm_config cfg = kt_vm_config();

	kt_machine(t, model, false, vpmu);
	kt_vm(t, &cfg);
}

static inline bool kt_step_once(void *arg)
{
	struct kt *t = arg;

	t->guest_fn(t->g, t->guest_arg);
	return false;
}

/* Runs `fn(g, arg)` as guest code on the vCPU: entry, the code, and the
 * final exit (HLT), exactly as the runner runs a guest program step. */
static inline void kt_run(struct kt *t, void (*fn)(struct mv_guest *, void *), void *arg)
{
	int cpu = kvm_vcpu_pcpu(t->vcpu);

	t->guest_fn = fn;
	t->guest_arg = arg;
	/* The vCPU thread is scheduled in: its per-task perf events (the
	 * emulated vPMU's) count only while it runs. */
	perf_task_switch(t->host, cpu, NULL, kvm_vcpu_task(t->vcpu));
	kvm_vcpu_run(t->vcpu, kt_step_once, t, UINT64_MAX);
	perf_task_switch(t->host, cpu, kvm_vcpu_task(t->vcpu), NULL);
}

static inline void kt_teardown(struct kt *t)
{
	kvm_free(t->kvm);
	perf_free(t->host);
	sim_free(&t->sim);
}

#endif
