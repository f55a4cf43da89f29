/* sim_work: event names and the default shape of a block of work. */
#include "mvpmu/events.h"

static const char *const ev_names[MV_EV_NR] = {
	[MV_EV_INSTRUCTIONS] = "instructions",
	[MV_EV_BRANCHES] = "branches",
	[MV_EV_COND_BRANCHES] = "cond-branches",
	[MV_EV_BRANCH_MISSES] = "branch-misses",
	[MV_EV_CYCLES] = "cycles",
	[MV_EV_REF_CYCLES] = "ref-cycles",
	[MV_EV_LLC_REFS] = "llc-references",
	[MV_EV_LLC_MISSES] = "llc-misses",
	[MV_EV_TOPDOWN_SLOTS] = "topdown-slots",
};

const char *mv_event_name(enum mv_event ev)
{
	return (unsigned)ev < MV_EV_NR ? ev_names[ev] : "?";
}

struct mv_work mv_work_make(uint64_t n, bool kernel, const char *label)
{
	struct mv_work w = { .kernel = kernel, .label = label };

	w.ev[MV_EV_INSTRUCTIONS] = n;
	w.ev[MV_EV_BRANCHES] = n / 5;
	w.ev[MV_EV_COND_BRANCHES] = n / 5 * 2 / 3;
	w.ev[MV_EV_BRANCH_MISSES] = n / 5 / 50;
	w.ev[MV_EV_CYCLES] = n / 2;
	w.ev[MV_EV_REF_CYCLES] = n / 2;
	w.ev[MV_EV_LLC_REFS] = n / 100;
	w.ev[MV_EV_LLC_MISSES] = n / 400;
	w.ev[MV_EV_TOPDOWN_SLOTS] = n / 2 * 4;
	return w;
}

struct mv_work mv_work_insns(uint64_t n, uint64_t branches, uint64_t cond,
			     bool kernel, const char *label)
{
	struct mv_work w = { .kernel = kernel, .label = label };

	w.ev[MV_EV_INSTRUCTIONS] = n;
	w.ev[MV_EV_BRANCHES] = branches;
	w.ev[MV_EV_COND_BRANCHES] = cond;
	w.ev[MV_EV_CYCLES] = n;
	w.ev[MV_EV_REF_CYCLES] = n;
	w.ev[MV_EV_TOPDOWN_SLOTS] = n * MV_SLOTS_PER_CYCLE;
	return w;
}
