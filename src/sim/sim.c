/* sim: the run-wide engine state, time accounting and invariant checks
 * (sim_trace() is inline in sim.h, the trace in sim_trace.c). */
#include <stdio.h>
#include <string.h>

#include "sim.h"

static const char *const inv_names[INV_NR] = {
	[INV_ISOLATION] = "isolation",	 [INV_CONSERVATION] = "conservation",
	[INV_PMI] = "pmi",		 [INV_ORDERING] = "ordering",
	[INV_NO_LEAK] = "no-leak",	 [INV_EXCLUSION] = "exclusion",
	[INV_TIME] = "time",		 [INV_FILTER] = "filter",
};

const char *sim_invariant_name(enum sim_invariant inv)
{
	return (inv > 0 && inv < INV_NR) ? inv_names[inv] : "?";
}

void sim_init(struct sim *sim, uint64_t seed, bool keep_trace)
{
	memset(sim, 0, sizeof(*sim));
	sim->seed = seed;
	sim_rng_seed(&sim->rng, seed);
	sim_trace_init(&sim->trace, keep_trace);
	sim->cur_cpu = -1;
}

void sim_free(struct sim *sim)
{
	sim_trace_free(&sim->trace);
}

static void record_violation(struct sim *sim, enum sim_invariant inv,
			     const char *msg, const char *cause)
{
	struct sim_violation *v = &sim->violations[sim->nr_violations++];
	struct sim_trace_rec tail[SIM_TRACE_WINDOW / 2];
	size_t n = sim_trace_tail(&sim->trace, tail, SIM_TRACE_WINDOW / 2);
	size_t off = 0;

	v->inv = inv;
	v->seed = sim->seed;
	v->step = sim_trace_seq(&sim->trace);
	snprintf(v->msg, sizeof(v->msg), "%s", msg);
	v->site = sim->site ? sim->site : "";
	snprintf(v->cause, sizeof(v->cause), "%s", cause);
	v->trace[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(v->trace) - 1; i++) {
		int w = sim_trace_format(&tail[i], v->trace + off,
					 sizeof(v->trace) - off - 1);

		if (w < 0)
			break;
		off += (size_t)w;
		if (off >= sizeof(v->trace) - 1) {
			off = sizeof(v->trace) - 1;
			break;
		}
		v->trace[off++] = '\n';
		v->trace[off] = '\0';
	}
}

bool sim_check_failed(struct sim *sim, enum sim_invariant inv, const char *fmt, ...)
{
	char msg[160], cause[SIM_CAUSE_LEN];
	va_list ap;
	bool first;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim->inv_violated++;
	sim_trace(sim, TR_INVARIANT, inv, 0, 0, sim_invariant_name(inv));
	sim_cause_format(sim, cause, sizeof(cause));
	first = sim_sig_count(sim, inv, cause, msg);
	/* The last few slots are kept for the first violation of each new
	 * signature, so a report can show every kind that happened. */
	if (sim->nr_violations < SIM_MAX_VIOLATIONS - 4 ||
	    (first && sim->nr_violations < SIM_MAX_VIOLATIONS))
		record_violation(sim, inv, msg, cause);
	return false;
}

/* The draw behind sim_inject, once injection is on. */
bool sim_inject_draw(struct sim *sim, const char *where)
{
	if (sim_rng_below(&sim->rng, 1000000) >= sim->inject_ppm)
		return false;
	sim->nr_injected++;
	if (sim->nr_causes < SIM_MAX_CAUSES)
		sim->causes[sim->nr_causes++] = where;
	sim_trace(sim, TR_NOTE, 0, 0, 0, where);
	return true;
}
