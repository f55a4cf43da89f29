/* cli_run: assembles the machine a scenario describes (CPUs, host kernel
 * with perf, hypervisor, VMs, guest programs), runs it to completion and
 * fills the result.  The CLI and the tests call this; it never exits. */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <stddef.h>

#include "mvpmu/scenario.h"
#include "sim/sim.h"

/* Fills `sc` with the defaults a scenario file starts from. */
void cli_scenario_defaults(struct mv_scenario *sc);

/* Runs `sc`.  Returns 0 when it ran (res->inv_violated tells whether an
 * invariant broke), or 2 when the scenario cannot be built (unknown CPU,
 * bad event, ...) with a one-line message in `err`.  When sc->keep_trace
 * is set, *trace receives every trace record in one block (free() it):
 * memory grows with the run, so the command streams instead. */
int cli_run_scenario(const struct mv_scenario *sc, struct mv_result *res,
		     struct sim_trace_rec **trace, size_t *nr_trace,
		     char *err, size_t errlen);

/* Runs `sc`, handing every trace record to `sink` while the run goes
 * (bounded memory, whatever the run's length; sc->keep_trace is not
 * needed).  Same return values. */
int cli_run_scenario_stream(const struct mv_scenario *sc, struct mv_result *res,
			    const struct sim_trace_sink *sink, char *err, size_t errlen);

/* The injection points of a run (docs/explore.md, "Injection points").
 * `log` in: keep every point visited (kind, label, cycle) in `log_recs`;
 * out: `injected`, the numbers of the points injected at, in order. */
struct cli_points {
	bool log;
	struct sim_point_rec *log_recs;
	size_t nr_log;
	uint32_t *injected;
	size_t nr_injected;
};

/* Runs `sc` with its injection points numbered (as cli_run_scenario) and
 * fills `pts` (free it with cli_points_free). */
int cli_run_scenario_points(const struct mv_scenario *sc, struct mv_result *res,
			    struct cli_points *pts, char *err, size_t errlen);
void cli_points_free(struct cli_points *pts);

#endif
