/* cli_run: placeholder until the machine assembly lands (lead's file). */
#include <stdio.h>
#include <string.h>

#include "cli_run.h"

void cli_scenario_defaults(struct mv_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->cpu, sizeof(sc->cpu), "skylake");
	sc->nr_pcpus = 1;
	sc->tick_cycles = 4000000;
}

int cli_run_scenario(const struct mv_scenario *sc, struct mv_result *res,
		     struct sim_trace_rec **trace, size_t *nr_trace,
		     char *err, size_t errlen)
{
	(void)sc; (void)res; (void)trace; (void)nr_trace;
	snprintf(err, errlen, "not implemented yet");
	return 2;
}
