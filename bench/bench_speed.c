/* bench_speed: model throughput, simulated guest instructions per host
 * second, for a long run of a built-in scenario under each vPMU mode.
 * Wall-clock time is measured with clock_gettime(CLOCK_MONOTONIC): it is
 * outside the model and changes nothing in it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cli_builtin.h"
#include "cli/cli_run.h"
#include "cli/cli_scenario.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Guest instructions of the run: the size of VM 0's workload. */
static uint64_t instructions(const struct mv_scenario *sc)
{
	const struct mv_workload *w = &sc->vm[0].prog[0].work;
	uint64_t per_pass = 0;

	for (unsigned i = 0; i < w->nr_seg; i++)
		per_pass += w->seg[i].instructions;
	return per_pass * (w->passes ? w->passes : 1);
}

int main(void)
{
	static const char *const scen = "rfc-sampling-basic";
	static const enum mv_vpmu modes[3] = {
		MV_VPMU_NONE, MV_VPMU_EMULATED, MV_VPMU_MEDIATED,
	};
	static const char *const mode_name[3] = { "bare", "emulated", "mediated" };
	const struct cli_builtin *b = cli_builtin_find(scen);
	struct mv_scenario *sc = calloc(1, sizeof(*sc));
	struct mv_result *res = calloc(1, sizeof(*res));
	char err[256];

	if (!b || !sc || !res)
		return 1;
	printf("bench_speed: %s scaled to 10x its passes, on sapphirerapids;\n"
	       "simulated guest instructions per host second\n"
	       "(wall clock, CLOCK_MONOTONIC; outside the model).\n\n", scen);
	printf("%-9s %16s %10s %16s %14s\n", "vpmu", "guest insns", "wall s",
	       "insns/s", "exits");
	for (int r = 0; r < 3; r++) {
		double t0, t1;
		uint64_t n;

		if (cli_scenario_parse(b->path, b->text, b->len, sc, err, sizeof(err))) {
			fprintf(stderr, "bench_speed: %s\n", err);
			return 1;
		}
		sc->vpmu = modes[r];
		for (unsigned i = 0; i < sc->nr_vms; i++) {
			sc->vm[i].vpmu = modes[r];
			sc->vm[i].vpmu_set = true;
			sc->vm[i].prog[0].work.passes *= 10;
		}
		sc->bare = sc->vm[0].prog[0];
		n = instructions(sc);
		t0 = now();
		if (cli_run_scenario(sc, res, NULL, NULL, err, sizeof(err))) {
			fprintf(stderr, "bench_speed: %s\n", err);
			return 1;
		}
		t1 = now();
		printf("%-9s %16" PRIu64 " %10.3f %16.3e %14" PRIu64 "\n", mode_name[r], n,
		       t1 - t0, (double)n / (t1 - t0), res->exits_total);
	}
	free(sc);
	free(res);
	return 0;
}
