/* bench_intercepts: what Linux 7.0's guest PMU cap costs a mediated guest.
 * 7.0 gives Intel guests at most 3 fixed counters; perf reports 4 on Ice
 * Lake and Sapphire Rapids, so GLOBAL_CTRL/STATUS/OVF_CTRL and RDPMC stay
 * intercepted there and every guest PMI handler's global-MSR access exits.
 * Skylake (3 fixed) and the fixed-counter-3 proposal pass them through.
 * Figures are simulated cycles from the cost model (docs/costs.md). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_builtin.h"
#include "cli/cli_run.h"
#include "cli/cli_scenario.h"

static struct mv_scenario sc;
static struct mv_result res;

static int run(const char *name, const char *cpu, enum mv_vpmu v, uint32_t patches)
{
	const struct cli_builtin *b = cli_builtin_find(name);
	char err[256];

	if (!b || cli_scenario_parse(b->path, b->text, b->len, &sc, err, sizeof(err))) {
		fprintf(stderr, "bench_intercepts: %s: %s\n", name, b ? err : "no such built-in");
		return -1;
	}
	snprintf(sc.cpu, sizeof(sc.cpu), "%s", cpu);
	/* As `mvpmu run --vpmu V --patch P`. */
	sc.vpmu = v;
	sc.vpmu_set = true;
	sc.kvm.set = false;
	for (unsigned i = 0; i < sc.nr_vms; i++)
		sc.vm[i].vpmu_set = false;
	sc.patches = patches;
	if (cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)) || res.inv_violated) {
		fprintf(stderr, "bench_intercepts: %s on %s: %s\n", name, cpu,
			err[0] ? err : "invariant violated");
		return -1;
	}
	return 0;
}

static uint64_t msr_exits(uint32_t msr)
{
	for (unsigned i = 0; i < res.nr_msr_exits; i++)
		if (res.msr_exits[i].msr == msr)
			return res.msr_exits[i].count;
	return 0;
}

static uint64_t reason(const char *name)
{
	for (unsigned i = 0; i < res.nr_exit_reasons; i++)
		if (!strcmp(res.exits[i].reason, name))
			return res.exits[i].count;
	return 0;
}

int main(void)
{
	static const char *const scenarios[] = { "rfc-sampling-basic", "host-and-guest" };
	static const struct {
		const char *cpu;
		uint32_t patches;
	} hosts[] = {
		{ "skylake", 0 },
		{ "icelake", 0 },
		{ "icelake", MV_PATCH_FIXED_COUNTER_3 },
		{ "sapphirerapids", 0 },
		{ "sapphirerapids", MV_PATCH_FIXED_COUNTER_3 },
	};

	printf("bench_intercepts: the mediated vPMU under Linux 7.0's guest PMU cap; simulated\n"
	       "cycles from the cost model (docs/costs.md), not measured hardware.  'globals'\n"
	       "= MSR exits on GLOBAL_CTRL (0x38f), GLOBAL_STATUS (0x38e), OVF_CTRL (0x390);\n"
	       "overhead = (cycles - bare metal) / bare metal.\n");
	for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
		printf("\n%s\n  %-15s %-16s %5s %8s %8s %8s %8s %8s %10s\n", scenarios[s],
		       "cpu", "patch", "fixed", "exits", "0x38f", "globals", "rdpmc", "g-PMIs",
		       "overhead");
		for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
			uint64_t bare, globals, exits, rdpmc, pmis;
			unsigned fixed;

			if (run(scenarios[s], hosts[h].cpu, MV_VPMU_NONE, 0))
				return 1;
			bare = res.cycles_total;
			if (run(scenarios[s], hosts[h].cpu, MV_VPMU_MEDIATED, hosts[h].patches))
				return 1;
			globals = msr_exits(0x38f) + msr_exits(0x38e) + msr_exits(0x390);
			exits = res.exits_total;
			rdpmc = reason("RDPMC");
			pmis = res.guest_pmis;
			fixed = res.nr_vms ? res.vms[0].fixed : 0;
			printf("  %-15s %-16s %5u %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			       " %8" PRIu64 " %+9.2f%%\n", hosts[h].cpu,
			       hosts[h].patches ? cli_patch_name(hosts[h].patches) : "-", fixed,
			       exits, msr_exits(0x38f), globals, rdpmc, pmis,
			       bare ? ((double)res.cycles_total - (double)bare) * 100.0 / (double)bare : 0.0);
		}
	}
	return 0;
}
