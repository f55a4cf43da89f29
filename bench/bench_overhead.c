/* bench_overhead: the simulated overhead of guest sampling under the
 * emulated and the mediated vPMU against bare metal, in the shape of the
 * mediated-vPMU RFC's figures (FACTS.md section 6).  The model's figures
 * come from its cost model (struct hw_costs, docs/costs.md), not from a
 * measurement of real hardware. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_builtin.h"
#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "mvpmu/events.h"

struct published {
	const char *scenario;
	const char *emulated, *mediated;
};

/* Guest perf record on Sapphire Rapids, SPECint 2017 (RFC v1, repeated
 * in the merge); host-and-guest has no published counterpart. */
static const struct published pub[] = {
	{ "rfc-sampling-basic", "33.62%", "4.24%" },
	{ "rfc-sampling-mux", "79.32%", "7.34%" },
	{ "host-and-guest", "-", "-" },
};

static const char *const cpus[] = { "sapphirerapids", "zen5" };

static int load(const char *name, const char *cpu, enum mv_vpmu v,
		struct mv_scenario *sc)
{
	const struct cli_builtin *b = cli_builtin_find(name);
	char err[256];

	if (!b) {
		fprintf(stderr, "bench_overhead: no built-in scenario %s\n", name);
		return -1;
	}
	if (cli_scenario_parse(b->path, b->text, b->len, sc, err, sizeof(err))) {
		fprintf(stderr, "bench_overhead: %s\n", err);
		return -1;
	}
	snprintf(sc->cpu, sizeof(sc->cpu), "%s", cpu);
	/* As `mvpmu run --vpmu`: the mode applies to every VM. */
	sc->vpmu = v;
	for (unsigned i = 0; i < sc->nr_vms; i++) {
		sc->vm[i].vpmu = v;
		sc->vm[i].vpmu_set = true;
	}
	return 0;
}

/* Cycles of the host's own workload: bare metal runs only the guest
 * program (src/cli/cli_run.c build()), so they are left out of the
 * second overhead column.  mv_work_make gives each segment's cycles. */
static uint64_t host_work_cycles(const struct mv_scenario *sc)
{
	const struct mv_workload *w = &sc->host.work;
	uint64_t c = 0;

	if (!sc->host.has_work)
		return 0;
	for (unsigned i = 0; i < w->nr_seg; i++)
		c += mv_work_make(w->seg[i].instructions, w->seg[i].kernel,
				  "host").ev[MV_EV_CYCLES];
	return c * (w->passes ? w->passes : 1);
}

/* Largest relative error of a guest counter against its truth, in %. */
static double worst_error(const struct mv_result *r)
{
	double worst = 0;

	for (unsigned i = 0; i < r->nr_guest; i++) {
		const struct mv_counter_result *c = &r->guest[i];
		double e;

		if (!c->truth || strstr(c->event, "not supported"))
			continue;
		e = 100.0 * ((double)c->value - (double)c->truth) / (double)c->truth;
		if (e < 0)
			e = -e;
		if (e > worst)
			worst = e;
	}
	return worst;
}

static int bench(const char *name, const char *cpu, const struct published *p)
{
	static const enum mv_vpmu modes[3] = {
		MV_VPMU_NONE, MV_VPMU_EMULATED, MV_VPMU_MEDIATED,
	};
	static const char *const mode_name[3] = { "bare", "emulated", "mediated" };
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct mv_result *res = calloc(3, sizeof(*res));
	uint64_t host_work;
	int ret = -1;

	if (!sc || !res)
		goto out;
	printf("\n%s on %s (seed 1)\n", name, cpu);
	printf("  %-9s %14s %10s %10s %8s %8s %8s %9s %10s\n", "vpmu", "cycles",
	       "overhead", "ovh-nohw", "exits", "g-PMIs", "h-PMIs", "samples",
	       "max-err");
	for (int r = 0; r < 3; r++) {
		char err[256];

		if (load(name, cpu, modes[r], sc))
			goto out;
		if (cli_run_scenario(sc, &res[r], NULL, NULL, err, sizeof(err))) {
			fprintf(stderr, "bench_overhead: %s: %s\n", name, err);
			goto out;
		}
	}
	host_work = host_work_cycles(sc);
	for (int r = 0; r < 3; r++) {
		const struct mv_result *x = &res[r];
		double bare = (double)res[0].cycles_total;
		double guest_side = (double)(x->cycles_total - host_work);
		char ovh[16] = "-", ovh_g[16] = "-";

		if (r) {
			snprintf(ovh, sizeof(ovh), "%+.2f%%",
				 100.0 * ((double)x->cycles_total - bare) / bare);
			snprintf(ovh_g, sizeof(ovh_g), "%+.2f%%",
				 100.0 * (guest_side - bare) / bare);
		}
		printf("  %-9s %14" PRIu64 " %10s %10s %8" PRIu64 " %8" PRIu64
		       " %8" PRIu64 " %9" PRIu64 " %9.3f%%%s\n",
		       mode_name[r], x->cycles_total, ovh, ovh_g, x->exits_total,
		       x->guest_pmis, x->host_pmis, x->samples, worst_error(x),
		       x->inv_violated ? "  INVARIANT VIOLATED" : "");
		if (r && x->vpmu_effective != x->vpmu)
			printf("            fell back: %s\n", x->fallback_reason);
	}
	printf("  split (guest / transitions / host-for-guest / host), cycles:\n");
	for (int r = 1; r < 3; r++)
		printf("  %-9s %" PRIu64 " / %" PRIu64 " / %" PRIu64 " / %" PRIu64 "\n",
		       mode_name[r], res[r].cycles_guest, res[r].cycles_transition,
		       res[r].cycles_host_for_guest, res[r].cycles_host);
	printf("  published (SPR, SPECint 2017 perf record): emulated %s, mediated %s\n",
	       p->emulated, p->mediated);
	ret = 0;
out:
	free(sc);
	free(res);
	return ret;
}

int main(void)
{
	printf("bench_overhead: simulated overhead vs bare metal, (cycles_total - bare) / bare.\n"
	       "The model's figures come from its documented cost model (docs/costs.md),\n"
	       "not from real hardware; the published figures are printed beside them.\n"
	       "ovh-nohw leaves out the cycles of the host's own workload, which the\n"
	       "bare-metal run does not execute; max-err is the worst |value - truth|\n"
	       "/ truth of a guest counter (scaled when the guest multiplexed).\n");
	for (size_t c = 0; c < sizeof(cpus) / sizeof(cpus[0]); c++)
		for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++)
			if (bench(pub[i].scenario, cpus[c], &pub[i]))
				return 1;
	return 0;
}
