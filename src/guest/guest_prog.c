/* guest_prog: the program driver shared by every kind: creation, the
 * workload walked one block per step, the guest kernel's tick, reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_image.h"
#include "guest_prog_internal.h"
#include "host/perf_internal.h"

int gp_label_index(const struct guest_prog *p, const char *label)
{
	for (unsigned i = 0; i < p->nr_label; i++)
		if (label && !strcmp(p->label[i].name, label))
			return (int)i;
	return -1;
}

uint64_t gp_truth(const struct guest_prog *p, int mv_ev, bool user,
		  bool kernel)
{
	if (mv_ev < 0 || mv_ev >= MV_EV_NR)
		return 0;
	return sim_truth_get(&p->sim->truth, p->ctx, (enum mv_event)mv_ev,
			     user, kernel);
}

/* Labels of the workload, and the modes each runs in (a label's truth
 * is counted for an event when one of its modes is selected). */
static void collect_labels(struct guest_prog *p)
{
	const struct mv_workload *w = &p->cfg.work;

	for (unsigned s = 0; s < w->nr_seg; s++) {
		const struct mv_segment *seg = &w->seg[s];
		int i = gp_label_index(p, seg->label);

		if (i < 0) {
			if (p->nr_label == MV_MAX_SEGMENTS)
				continue;	/* cannot happen: one label per segment at most */
			i = (int)p->nr_label++;
			p->label[i].name = seg->label;
		}
		if (seg->kernel)
			p->label[i].kernel = true;
		else
			p->label[i].user = true;
	}
}

static void label_truth(const struct guest_prog *p, uint64_t out[][MV_EV_NR])
{
	const struct sim_truth *t = &p->sim->truth;

	for (unsigned i = 0; i < p->nr_label; i++) {
		int l = sim_truth_label(t, p->label[i].name);

		for (int e = 0; e < MV_EV_NR; e++)
			out[i][e] = l < 0 ? 0 : t->label_ev[p->ctx][l][e];
	}
}

static void snapshot_labels(struct guest_prog *p, bool end)
{
	uint64_t now[MV_MAX_SEGMENTS][MV_EV_NR];

	label_truth(p, now);
	for (unsigned i = 0; i < p->nr_label; i++)
		for (int e = 0; e < MV_EV_NR; e++) {
			if (end)
				p->label[i].truth[e] = now[i][e] -
						       p->label[i].truth0[e];
			else
				p->label[i].truth0[e] = now[i][e];
		}
}

static bool uses_perf(const struct guest_prog *p)
{
	enum mv_program_kind k = p->cfg.kind;

	return k == MV_PROG_STAT || k == MV_PROG_RECORD || k == MV_PROG_RR;
}

struct guest_prog *guest_prog_new(const struct mv_program *cfg,
				  struct mv_guest *g, struct perf *perf,
				  int cpu, int ctx, int vendor,
				  char *err, size_t errlen)
{
	struct guest_prog *p;

	if (errlen)
		err[0] = '\0';
	if (!perf) {
		snprintf(err, errlen, "the guest kernel has no perf instance");
		return NULL;
	}
	if (cfg->work.nr_seg > MV_MAX_SEGMENTS ||
	    cfg->nr_events > MV_MAX_EVENTS) {
		snprintf(err, errlen, "too many segments or events");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	p->g = g;
	p->perf = perf;
	p->sim = perf->sim;
	p->cpu = cpu;
	p->ctx = ctx;
	p->vendor = vendor;
	if (!p->cfg.work.chunk)
		p->cfg.work.chunk = GUEST_PROG_DEFAULT_CHUNK;
	collect_labels(p);
	if (uses_perf(p) && gp_perf_prepare(p, err, errlen)) {
		free(p);
		return NULL;
	}
	return p;
}

struct guest_prog *guest_prog_new_image(const struct mv_program *cfg,
					struct mv_guest *g, struct sim *sim,
					int ctx, char *err, size_t errlen)
{
	struct guest_prog *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	p->g = g;
	p->sim = sim;
	p->ctx = ctx;
	p->image = guest_image_new(cfg, g, sim, err, errlen);
	if (!p->image) {
		free(p);
		return NULL;
	}
	return p;
}

/* ---- the workload, one block per step ---- */

/* An instruction the hypervisor emulates belongs to the segment's code:
 * it runs under the segment's label and privilege. */
static void emulate_one(struct guest_prog *p, const struct mv_segment *seg)
{
	const char *label = p->g->label;
	bool kernel = p->g->kernel;

	p->g->label = seg->label;
	p->g->kernel = seg->kernel;
	mv_emulate(p->g, p->nr_emulated++ % 2 == 1);
	p->g->label = label;
	p->g->kernel = kernel;
	p->emu_done++;
}

/* A block overflows a counter at most about this many times, so that no
 * single step (a block and the PMIs inside it) takes long: the runner
 * checks the run's budget between steps. */
#define GP_MAX_WRAPS_PER_BLOCK 256

/* The largest block: counters wrap at least every min_period events (the
 * smallest sample period, else 2^31-1, the smallest max_period perf uses
 * for counting), and a block has at most 2 events of a kind per
 * instruction (mv_work_make). */
static uint64_t block_cap(const struct guest_prog *p)
{
	uint64_t min_period = (1ULL << 31) - 1;

	for (unsigned i = 0; i < p->nr_ev; i++)
		if (p->ev[i].attr.sample_period && p->ev[i].attr.sample_period < min_period)
			min_period = p->ev[i].attr.sample_period;
	return min_period * (GP_MAX_WRAPS_PER_BLOCK / 2);
}

/* Runs the next block or emulated instruction; false when the workload
 * is over.  A segment's emulated instructions follow its blocks, and
 * alternate plain / branch so that both counters see some. */
static bool work_step(struct guest_prog *p)
{
	const struct mv_workload *w = &p->cfg.work;

	while (!p->stop && p->pass < w->passes && w->nr_seg) {
		const struct mv_segment *seg = &w->seg[p->seg];

		if (p->seg_done < seg->instructions) {
			uint64_t n = seg->instructions - p->seg_done;
			struct mv_work blk;

			if (n > w->chunk)
				n = w->chunk;
			if (n > block_cap(p))
				n = block_cap(p);
			blk = mv_work_make(n, seg->kernel, seg->label);
			p->seg_done += n;
			mv_run(p->g, &blk);
			return true;
		}
		if (p->emu_done < seg->emulated) {
			emulate_one(p, seg);
			return true;
		}
		p->seg_done = 0;
		p->emu_done = 0;
		if (++p->seg == w->nr_seg) {
			p->seg = 0;
			p->pass++;
		}
	}
	return false;
}

/* The guest kernel's tick, driven by simulated time: perf rotates its
 * multiplexed events and adjusts frequency-mode periods. */
static void maybe_tick(struct guest_prog *p)
{
	uint64_t now = p->sim->cycle;

	if (now < p->next_tick)
		return;
	gp_perf_tick(p);
	/* One tick per step at most: a long block is one long tick. */
	p->next_tick = now - now % GUEST_PROG_TICK_CYCLES +
		       GUEST_PROG_TICK_CYCLES;
}

static void setup(struct guest_prog *p)
{
	p->irqs0 = p->g->nr_irqs;
	p->next_tick = p->sim->cycle + GUEST_PROG_TICK_CYCLES;
	if (uses_perf(p))
		gp_perf_setup(p);
	else if (p->cfg.kind == MV_PROG_EMULATED)
		gp_raw_setup(p);
	snapshot_labels(p, false);
}

static void teardown(struct guest_prog *p)
{
	snapshot_labels(p, true);
	if (uses_perf(p))
		gp_perf_teardown(p);
	else if (p->cfg.kind == MV_PROG_EMULATED)
		gp_raw_teardown(p);
	p->pmis = p->g->nr_irqs - p->irqs0;
}

bool guest_prog_step(struct guest_prog *p)
{
	if (p->image) {
		if (p->state == GP_SETUP)
			p->irqs0 = p->g->nr_irqs;
		/* The run's budget stops the guest where it is. */
		if (p->stop) {
			guest_image_stop(p->image);
			p->state = GP_DONE;
			return false;
		}
		p->state = guest_image_step(p->image) ? GP_RUN : GP_DONE;
		return p->state == GP_RUN;
	}
	switch (p->state) {
	case GP_SETUP:
		setup(p);
		p->state = GP_RUN;
		return true;
	case GP_RUN:
		if (uses_perf(p))
			maybe_tick(p);
		if (work_step(p))
			return true;
		teardown(p);
		p->state = GP_DONE;
		return false;
	case GP_DONE:
		break;
	}
	return false;
}

/* Whether work_step would still run a block or an emulated instruction. */
static bool work_left(const struct guest_prog *p)
{
	const struct mv_workload *w = &p->cfg.work;
	const struct mv_segment *seg;

	if (p->pass >= w->passes || !w->nr_seg)
		return false;
	if (p->pass + 1 < w->passes || p->seg + 1 < w->nr_seg)
		return true;
	seg = &w->seg[p->seg];
	return p->seg_done < seg->instructions || p->emu_done < seg->emulated;
}

bool guest_prog_stop(struct guest_prog *p)
{
	bool left = p->state == GP_SETUP || (p->state == GP_RUN && (p->image || work_left(p)));

	p->stop = true;
	return left;
}

void guest_prog_report(struct guest_prog *p, const char *who,
		       const struct sim *sim, struct mv_result *res)
{
	(void)sim;
	if (p->image) {
		res->guest_pmis += p->g->nr_irqs - p->irqs0;
		guest_image_report(p->image, who, res);
		return;
	}
	res->guest_pmis += p->pmis;
	if (uses_perf(p))
		gp_perf_report(p, who, res);
	else if (p->cfg.kind == MV_PROG_EMULATED)
		gp_raw_report(p, who, res);
}

void guest_prog_free(struct guest_prog *p)
{
	if (!p)
		return;
	if (p->image)
		guest_image_free(p->image);
	else if (p->state == GP_RUN)
		teardown(p);
	free(p);
}
