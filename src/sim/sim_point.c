/* sim_point: injection points for exhaustive exploration (docs/explore.md,
 * "Injection points"): points numbered in the order a run visits them, the
 * run injecting at chosen numbers, and where a violation happened (site,
 * and the injections that preceded it in the same switch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const char *const kind_names[SIM_PT_NR] = {
	[SIM_PT_SWITCH] = "switch", [SIM_PT_HOST_PMI] = "host-pmi",
	[SIM_PT_VMEXIT] = "vmexit", [SIM_PT_GUEST_INSN] = "guest-insn",
};

const char *sim_point_kind_name(enum sim_point_kind kind)
{
	return (unsigned)kind < SIM_PT_NR ? kind_names[kind] : "?";
}

static bool grow(void **buf, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *b;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	b = realloc(*buf, n * size);
	if (!b)
		return false;
	*buf = b;
	*cap = n;
	return true;
}

static void note_cause(struct sim *sim, const char *label)
{
	if (sim->nr_causes < SIM_MAX_CAUSES)
		sim->causes[sim->nr_causes++] = label;
}

bool sim_point_visit(struct sim *sim, enum sim_point_kind kind, const char *label)
{
	struct sim_points *pt = sim->pts;
	uint32_t idx = pt->visited++;
	bool hit;

	if ((unsigned)kind < SIM_PT_NR)
		pt->by_kind[kind]++;
	if (pt->log_on) {
		if (grow((void **)&pt->log, &pt->cap_log, pt->nr_log + 1, sizeof(*pt->log)))
			pt->log[pt->nr_log++] = (struct sim_point_rec){ kind, label, sim->cycle };
		else
			pt->oom = true;
	}
	/* A random run keeps drawing at switch points even when it replays
	 * a list, so that the seed's other choices stay where they were. */
	hit = kind == SIM_PT_SWITCH && sim->inject_ppm &&
	      sim_rng_below(&sim->rng, 1000000) < sim->inject_ppm;
	if (pt->use_at) {
		hit = pt->next < pt->nr_at && pt->at[pt->next] == idx;
		if (hit)
			pt->next++;
	}
	if (!hit)
		return false;
	if (grow((void **)&pt->injected, &pt->cap_injected, pt->nr_injected + 1,
		 sizeof(*pt->injected)))
		pt->injected[pt->nr_injected++] = idx;
	else
		pt->oom = true;
	sim->nr_injected++;
	note_cause(sim, label);
	/* A replayed point names its number; a drawn one is traced exactly as
	 * sim_inject_draw traces it, so a random run keeps its hash. */
	if (pt->use_at)
		sim_trace(sim, TR_NOTE, idx, kind, 1, label);
	else
		sim_trace(sim, TR_NOTE, 0, 0, 0, label);
	return true;
}

void sim_points_free(struct sim_points *pts)
{
	if (!pts)
		return;
	free(pts->log);
	free(pts->injected);
	pts->log = NULL;
	pts->injected = NULL;
	pts->nr_log = pts->cap_log = pts->nr_injected = pts->cap_injected = 0;
}

void sim_cause_format(const struct sim *sim, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < sim->nr_causes && off + 1 < len; i++) {
		size_t n = strlen(sim->causes[i]);

		if (i)
			buf[off++] = '+';
		if (off + n >= len)
			n = len - off - 1;
		memcpy(buf + off, sim->causes[i], n);
		off += n;
		buf[off] = '\0';
	}
}

bool sim_sig_count(struct sim *sim, enum sim_invariant inv, const char *cause,
		   const char *msg)
{
	const char *site = sim->site ? sim->site : "";
	struct sim_violation_sig *s;

	for (unsigned i = 0; i < sim->nr_sigs; i++) {
		s = &sim->sigs[i];
		if (s->inv == inv && !strcmp(s->site, site) && !strcmp(s->cause, cause)) {
			s->count++;
			return false;
		}
	}
	if (sim->nr_sigs == SIM_MAX_SIGS) {
		sim->sigs_overflow = true;
		return false;
	}
	s = &sim->sigs[sim->nr_sigs++];
	s->inv = inv;
	s->site = site;
	snprintf(s->cause, sizeof(s->cause), "%s", cause);
	s->count = 1;
	s->step = sim_trace_seq(&sim->trace);
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
	return true;
}
