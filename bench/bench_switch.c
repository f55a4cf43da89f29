/* bench_switch: simulated cycles of one CPUID VM-exit round trip with the
 * mediated vPMU, with and without eliding counter WRMSRs whose value the
 * hardware already holds (kvm_knobs()->no_write_elision), beside the
 * published figures (FACTS.md section 6).  CPUID always leaves the inner
 * run loop (src/kvm/kvm_x86.c vcpu_cpuid), so each round trip includes a
 * mediated PMU put and load.  The figures come from the cost model
 * (docs/costs.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_cpu.h"
#include "kvm/kvm.h"
#include "mvpmu/guest.h"

#define NR_CPUID 1000

struct probe {
	struct sim *sim;
	struct hw_cpu *cpu;
	struct mv_guest *g;
	bool counting;		/* guest counts instructions on GP 0 first */
	uint64_t cycles, wrmsrs, rdmsrs;
};

static bool step(void *arg)
{
	struct probe *p = arg;
	uint32_t r[4];

	if (p->counting) {
		/* INSTRUCTIONS_RETIRED (C0) in user and kernel, enabled; a
		 * block of work so the counter holds a non-zero value. */
		uint64_t sel = 0xC0 | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN;
		struct mv_work w = { .label = "work", .kernel = false };

		w.ev[MV_EV_INSTRUCTIONS] = 100000;
		w.ev[MV_EV_CYCLES] = 50000;
		mv_wrmsr_safe(p->g, p->cpu->model->vendor == HW_INTEL ?
			      MSR_IA32_PERFEVTSEL0 : MSR_F15H_PERF_CTL0, sel);
		mv_wrmsr_safe(p->g, p->cpu->model->vendor == HW_INTEL ?
			      MSR_IA32_PERF_GLOBAL_CTRL : MSR_AMD_GLOBAL_CTL, 1);
		mv_run(p->g, &w);
	}
	for (int i = 0; i < NR_CPUID; i++) {
		uint64_t c0 = p->sim->cycle, w0 = p->cpu->nr_wrmsr, r0 = p->cpu->nr_rdmsr;

		mv_cpuid(p->g, 0xA, 0, r);
		p->cycles += p->sim->cycle - c0;
		p->wrmsrs += p->cpu->nr_wrmsr - w0;
		p->rdmsrs += p->cpu->nr_rdmsr - r0;
	}
	return false;
}

static int measure(const char *model, bool elide, bool counting, struct probe *out)
{
	const struct hw_model *m = hw_model_find(model);
	struct kvm_params params = { .enable_pmu = true, .enable_mediated_pmu = true };
	struct mv_vm_config cfg;
	struct sim sim;
	struct hw_cpu cpu;
	struct hw_cpu *cpus[1] = { &cpu };
	struct perf *host;
	struct kvm *kvm;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	char err[160];
	int ret = -1;

	if (!m)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "vm0");
	cfg.nr_vcpus = 1;
	cfg.pmu_version = -1;
	cfg.nr_gp = -1;
	cfg.nr_fixed = -1;
	cfg.perf_caps = -1;
	sim_init(&sim, 1, false);
	hw_cpu_init(&cpu, 0, &sim, m);
	host = host_perf_new(&sim, cpus, 1);
	kvm = host ? kvm_new(&sim, cpus, 1, host, &params) : NULL;
	if (!kvm)
		goto out;
	kvm_knobs(kvm)->no_write_elision = !elide;
	vm = kvm_vm_create(kvm, 0, &cfg, err, sizeof(err));
	vcpu = vm ? kvm_vcpu_create(vm, 0, 0) : NULL;
	if (!vcpu || kvm_vm_vpmu(vm) != MV_VPMU_MEDIATED) {
		fprintf(stderr, "bench_switch: %s: no mediated vCPU (%s)\n", model,
			vm ? kvm_vm_fallback_reason(vm) : err);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->sim = &sim;
	out->cpu = &cpu;
	out->g = kvm_vcpu_guest(vcpu);
	out->counting = counting;
	perf_task_switch(host, 0, NULL, kvm_vcpu_task(vcpu));
	kvm_vcpu_run(vcpu, step, out, UINT64_MAX);
	perf_task_switch(host, 0, kvm_vcpu_task(vcpu), NULL);
	ret = sim.inv_violated ? -1 : 0;
	if (sim.inv_violated)
		fprintf(stderr, "bench_switch: %s: invariant violated\n", model);
out:
	kvm_free(kvm);
	if (host)
		perf_free(host);
	sim_free(&sim);
	return ret;
}

int main(void)
{
	static const struct {
		const char *model, *published;
	} rows[] = {
		{ "sapphirerapids", "~4k -> ~3k (Emerald Rapids)" },
		{ "zen5", "~6.2k -> ~5.3k (Turin)" },
	};

	printf("bench_switch: simulated cycles per CPUID VM-exit round trip, mediated vPMU,\n"
	       "mean of %d exits; from the cost model (docs/costs.md), not measured hardware.\n"
	       "'idle' = guest PMU untouched (all counters 0); 'counting' = GP0 counts\n"
	       "instructions and holds a non-zero value.\n\n", NR_CPUID);
	printf("%-15s %-9s %12s %12s %8s %10s   %s\n", "model", "guest", "no elision",
	       "elision", "saved", "WRMSR/exit", "published");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int counting = 0; counting < 2; counting++) {
			struct probe a, b;

			if (measure(rows[i].model, false, counting, &a) ||
			    measure(rows[i].model, true, counting, &b))
				return 1;
			printf("%-15s %-9s %12.0f %12.0f %8.0f %4.1f->%-4.1f   %s\n",
			       rows[i].model, counting ? "counting" : "idle",
			       (double)a.cycles / NR_CPUID, (double)b.cycles / NR_CPUID,
			       (double)(a.cycles - b.cycles) / NR_CPUID,
			       (double)a.wrmsrs / NR_CPUID, (double)b.wrmsrs / NR_CPUID,
			       rows[i].published);
		}
	}
	return 0;
}
