/* bench_cost: what the model costs on the host, per simulated event, in
 * host instructions counted by callgrind (stable on a noisy machine) and
 * in wall time (noisy), beside the figures measured before issue 10.
 * Every instruction figure is a differential: the same workload at two
 * sizes, so start-up and teardown cancel.  Run without arguments it
 * drives itself: `bench_cost child WHAT N [K]` is one measured run. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "host/host_cpu.h"
#include "kvm/kvm.h"
#include "mvpmu/guest.h"

/* Measured on the landed code before issue 10 (the figures,
 * callgrind differentials; explore in wall time). */
#define BEFORE_ROUND_TRIP 262600.0
#define BEFORE_PMI 642000.0
#define BEFORE_HOST_EVENT 27500.0
#define BEFORE_SEEDS_PER_S 36.0
/* Real hardware: a CPUID round trip on Emerald Rapids (FACTS.md s.6,
 * ~3k cycles with write elision) at about 3 GHz: ~1 us. */
#define HW_ROUND_TRIP_NS 1000.0
/* The clock the trace export assumes (docs/cli.md): 3 GHz. */
#define SIM_HZ 3e9

/* ---- the measured workloads ---- */

struct rt {
	struct mv_guest *g;
	uint64_t n;
};

static bool cpuid_loop(void *arg)
{
	struct rt *rt = arg;
	uint32_t r[4];

	for (uint64_t i = 0; i < rt->n; i++)
		mv_cpuid(rt->g, 0xA, 0, r);
	return false;
}

/* `n` CPUID exits of an idle mediated guest on sapphirerapids (the
 * guest's PMU untouched, so the whole PMU is switched on every exit with
 * nothing to count), with `k` host exclude_guest events on the CPU.
 * Returns the simulated cycles of the loop, 0 on failure. */
static uint64_t round_trips(uint64_t n, unsigned k)
{
	static const char *const host_ev[] = {
		"cycles:H", "instructions:H", "branches:H", "branch-misses:H",
		"cache-references:H", "cache-misses:H", "ref-cycles:H", "r00c4:H",
	};
	const struct hw_model *m = hw_model_find("sapphirerapids");
	struct kvm_params params = { .enable_pmu = true, .enable_mediated_pmu = true };
	struct mv_vm_config cfg;
	struct perf_event *ev[8] = { 0 };
	struct sim *sim = calloc(1, sizeof(*sim));
	struct hw_cpu cpu;
	struct hw_cpu *cpus[1] = { &cpu };
	struct perf *host;
	struct kvm *kvm = NULL;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct rt rt;
	char err[160];
	uint64_t c0, cycles = 0;

	if (!sim || !m || k > 8)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "vm0");
	cfg.nr_vcpus = 1;
	cfg.pmu_version = cfg.nr_gp = cfg.nr_fixed = -1;
	cfg.perf_caps = -1;
	sim_init(sim, 1, false);
	hw_cpu_init(&cpu, 0, sim, m);
	host = host_perf_new(sim, cpus, 1);
	for (unsigned i = 0; host && i < k; i++) {
		struct perf_event_attr a;

		if (perf_parse_event(host_ev[i], &a, err, sizeof(err)) ||
		    perf_event_open(host, &a, 0, NULL, NULL, NULL, &ev[i]))
			goto out;
	}
	kvm = host ? kvm_new(sim, cpus, 1, host, &params) : NULL;
	if (!kvm)
		goto out;
	vm = kvm_vm_create(kvm, 0, &cfg, MV_VPMU_MEDIATED, err, sizeof(err));
	vcpu = vm ? kvm_vcpu_create(vm, 0, 0) : NULL;
	if (!vcpu || kvm_vm_vpmu(vm) != MV_VPMU_MEDIATED)
		goto out;
	rt.g = kvm_vcpu_guest(vcpu);
	rt.n = n;
	perf_task_switch(host, 0, NULL, kvm_vcpu_task(vcpu));
	c0 = sim->cycle;
	kvm_vcpu_run(vcpu, cpuid_loop, &rt, UINT64_MAX);
	cycles = sim->inv_violated ? 0 : sim->cycle - c0;
out:
	kvm_free(kvm);
	for (unsigned i = 0; i < k; i++)
		perf_event_close(ev[i]);
	if (host)
		perf_free(host);
	sim_free(sim);
	free(sim);
	return cycles;
}

/* A guest sampling its instructions with guest perf (perf record) on
 * sapphirerapids under the mediated vPMU: `work` instructions in one
 * block per step, one PMI every `period`.  Returns the guest PMIs, 0 on
 * failure. */
static uint64_t guest_pmis(uint64_t work, uint64_t period)
{
	char text[1024];
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct mv_result *res = calloc(1, sizeof(*res));
	char err[256];
	uint64_t pmis = 0;

	/* The same work at each size; only the number of PMIs changes. */
	snprintf(text, sizeof(text),
		 "name: pmi\ncpu: sapphirerapids\nvpmu: mediated\nseed: 1\n"
		 "vms:\n  - programs:\n      - kind: record\n"
		 "        events: [instructions]\n        period: %" PRIu64 "\n"
		 "        work:\n          passes: 1\n          chunk: 1000000000\n"
		 "          segments:\n            - {label: w, instructions: %" PRIu64 "}\n",
		 period, work);
	if (sc && res && !cli_scenario_parse("pmi", text, strlen(text), sc, err, sizeof(err)) &&
	    !cli_run_scenario(sc, res, NULL, NULL, err, sizeof(err)) && !res->inv_violated)
		pmis = res->guest_pmis;
	free(sc);
	free(res);
	return pmis;
}

static int child(int argc, char **argv)
{
	uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	uint64_t k = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;
	uint64_t r = 0;

	if (!strcmp(argv[2], "rt"))
		r = round_trips(n, (unsigned)k);
	else if (!strcmp(argv[2], "pmi"))
		r = guest_pmis(n, k);
	printf("%" PRIu64 "\n", r);
	return r ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "child"))
		return child(argc, argv);
	fprintf(stderr, "usage: bench_cost child rt|pmi N [K]\n");
	return 2;
}
