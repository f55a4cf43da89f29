/* guest_prog_perf: perf-stat-like counting, perf-record-like sampling and
 * the rr-like tick counter, all through the guest kernel's perf. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guest_prog_internal.h"
#include "hw/hw_cpu.h"

/* rr's tick: retired conditional branches, user mode only (rr's
 * "rcb" counter: Intel BR_INST_RETIRED.CONDITIONAL C4/01, AMD
 * RETIRED_CONDITIONAL_BRANCH_INSTRUCTIONS D1). */
#define RR_EVENT_INTEL "r01c4:u"
#define RR_EVENT_AMD "rd1:u"

static int attr_event(const struct guest_prog *p,
		      const struct perf_event_attr *a)
{
	return perf_attr_event(a, p->vendor != 0);
}

static uint64_t attr_truth(const struct guest_prog *p,
			   const struct gp_event *e)
{
	return gp_truth(p, e->mv_ev, !e->attr.exclude_user,
			!e->attr.exclude_kernel);
}

/* The period a frequency-mode event starts with: as if it counted one
 * event per cycle; the tick corrects it from the observed rate. */
static uint64_t freq_initial_period(uint64_t freq)
{
	uint64_t period = GUEST_PROG_HZ / freq;

	return period ? period : 1;
}

static int prepare_event(struct guest_prog *p, const char *spec,
			 char *err, size_t errlen)
{
	struct gp_event *e = &p->ev[p->nr_ev];
	char msg[128];

	if (perf_parse_event(spec, &e->attr, msg, sizeof(msg))) {
		snprintf(err, errlen, "event '%s': %s", spec, msg);
		return -EINVAL;
	}
	e->prog = p;
	e->spec = spec;
	e->mv_ev = attr_event(p, &e->attr);
	e->attr.disabled = true;
	if (p->cfg.kind == MV_PROG_RECORD)
		e->attr.sample_period = p->cfg.period ? p->cfg.period :
					freq_initial_period(p->cfg.freq);
	else if (p->cfg.kind == MV_PROG_RR)
		e->attr.sample_period = p->cfg.rr_ticks;
	else
		e->attr.sample_period = 0;
	p->nr_ev++;
	return 0;
}

int gp_perf_prepare(struct guest_prog *p, char *err, size_t errlen)
{
	const struct mv_program *c = &p->cfg;

	if (c->kind == MV_PROG_RR) {
		if (!c->rr_ticks) {
			snprintf(err, errlen, "rr: rr_ticks must be > 0");
			return -EINVAL;
		}
		/* The rr event is rr's own, whatever the events list says. */
		snprintf(p->cfg.events[0], MV_NAME_MAX, "%s",
			 p->vendor == 0 ? RR_EVENT_INTEL : RR_EVENT_AMD);
		return prepare_event(p, p->cfg.events[0], err, errlen);
	}
	if (!c->nr_events) {
		snprintf(err, errlen, "no events to %s",
			 c->kind == MV_PROG_STAT ? "count" : "sample");
		return -EINVAL;
	}
	if (c->kind == MV_PROG_RECORD && !c->period && !c->freq) {
		snprintf(err, errlen, "record: needs a period or a frequency");
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->nr_events; i++) {
		int ret = prepare_event(p, p->cfg.events[i], err, errlen);

		if (ret)
			return ret;
	}
	return 0;
}

/* perf-record's sample handler: one sample, kept per label. */
static void record_sample(struct perf_event *ev, const struct perf_sample *s,
			  void *arg)
{
	struct gp_event *e = arg;
	int l = gp_label_index(e->prog, s->label);

	(void)ev;
	e->samples++;
	if (l >= 0)
		e->label_samples[l]++;
}

/* rr's interrupt: the count must be exactly the target tick (rr replays
 * by counting to the same tick; any skid breaks replay). */
static void rr_interrupt(struct perf_event *ev, const struct perf_sample *s,
			 void *arg)
{
	struct gp_event *e = arg;
	struct gp_rr *rr = &e->prog->rr;
	uint64_t en, run, count = perf_event_read(ev, &en, &run);
	uint64_t target = (rr->interrupts + 1) * e->prog->cfg.rr_ticks;
	uint64_t over = count >= target ? count - target : target - count;

	(void)s;
	rr->interrupts++;
	if (over == 0)
		rr->exact++;
	if (over > rr->max_overshoot)
		rr->max_overshoot = over;
}

void gp_perf_setup(struct guest_prog *p)
{
	perf_overflow_fn cb = NULL;

	if (p->cfg.kind == MV_PROG_RECORD)
		cb = record_sample;
	else if (p->cfg.kind == MV_PROG_RR)
		cb = rr_interrupt;
	for (unsigned i = 0; i < p->nr_ev; i++) {
		struct gp_event *e = &p->ev[i];

		e->open_err = perf_event_open(p->perf, &e->attr, p->cpu, NULL,
					      cb, e, &e->ev);
		if (e->open_err)
			e->ev = NULL;
	}
	/* Truth starts when counting starts; no work runs in between. */
	for (unsigned i = 0; i < p->nr_ev; i++) {
		struct gp_event *e = &p->ev[i];

		e->truth0 = attr_truth(p, e);
		e->last_count = 0;
		e->last_running = 0;
		if (e->ev)
			perf_event_enable(e->ev);
	}
}

/* Frequency mode, as perf's tick does: the period that would have given
 * `freq` samples per simulated second at the rate observed while the
 * event ran during the last tick.  Changing the period restarts it (as
 * perf_event_period does), so like perf_adjust_period it is only changed
 * when it is off by more than an eighth; otherwise small wobbles of the
 * rate would restart it every tick and it would never overflow. */
static void adjust_period(struct guest_prog *p, struct gp_event *e)
{
	uint64_t en, run, count = perf_event_read(e->ev, &en, &run);
	uint64_t dcount = count - e->last_count, drun = run - e->last_running;
	uint64_t cur = e->attr.sample_period, period;

	if (!dcount || !drun)
		return;
	e->last_count = count;
	e->last_running = run;
	period = dcount * (GUEST_PROG_HZ / p->cfg.freq) / drun;
	if (!period)
		period = 1;
	if ((period > cur ? period - cur : cur - period) <= cur / 8)
		return;
	if (!perf_event_period(e->ev, period))
		e->attr.sample_period = period;
}

void gp_perf_tick(struct guest_prog *p)
{
	perf_tick(p->perf, p->cpu);
	if (p->cfg.kind != MV_PROG_RECORD || p->cfg.period)
		return;
	for (unsigned i = 0; i < p->nr_ev; i++)
		if (p->ev[i].ev)
			adjust_period(p, &p->ev[i]);
}

void gp_perf_teardown(struct guest_prog *p)
{
	for (unsigned i = 0; i < p->nr_ev; i++) {
		struct gp_event *e = &p->ev[i];

		e->truth = attr_truth(p, e) - e->truth0;
		if (!e->ev)
			continue;
		perf_event_disable(e->ev);
		e->raw = perf_event_read(e->ev, &e->enabled, &e->running);
		e->value = perf_event_read_scaled(e->ev);
		p->lost += perf_event_lost(e->ev);
		perf_event_close(e->ev);
		e->ev = NULL;
	}
	if (p->cfg.kind == MV_PROG_RR && p->nr_ev) {
		p->rr.ticks_counted = p->ev[0].raw;
		p->rr.ticks_truth = p->ev[0].truth;
	}
}

static void counter_result(const struct gp_event *e, const char *who,
			   struct mv_result *res)
{
	struct mv_counter_result *c;

	if (res->nr_guest == MV_MAX_COUNTERS)
		return;
	c = &res->guest[res->nr_guest++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", who);
	/* perf stat prints "<not supported>" for an event it could not open. */
	snprintf(c->event, sizeof(c->event), "%s%s", e->spec,
		 e->open_err ? " <not supported>" : "");
	c->value = e->value;
	c->raw = e->raw;
	c->truth = e->truth;
	c->time_enabled = e->enabled;
	c->time_running = e->running;
	c->samples = e->samples;
	c->period = e->prog->cfg.kind == MV_PROG_RECORD ? e->prog->cfg.period : 0;
}

static struct mv_label_result *label_result(struct mv_result *res,
					    const char *name)
{
	struct mv_label_result *l;

	for (unsigned i = 0; i < res->nr_labels; i++)
		if (!strcmp(res->labels[i].label, name))
			return &res->labels[i];
	if (res->nr_labels == MV_MAX_LABELS)
		return NULL;
	l = &res->labels[res->nr_labels++];
	memset(l, 0, sizeof(*l));
	snprintf(l->label, sizeof(l->label), "%s", name);
	return l;
}

/* Samples per label, summed over the program's events, next to the true
 * events those events would have counted under the label (each event's
 * kind, in the modes it selects, summed the same way). */
static void label_results(const struct guest_prog *p, struct mv_result *res)
{
	for (unsigned i = 0; i < p->nr_label; i++) {
		const struct gp_label *lb = &p->label[i];
		struct mv_label_result *l = label_result(res, lb->name);

		if (!l)
			return;
		for (unsigned k = 0; k < p->nr_ev; k++) {
			const struct gp_event *e = &p->ev[k];
			bool counted = (lb->user && !e->attr.exclude_user) ||
				       (lb->kernel && !e->attr.exclude_kernel);

			l->samples += e->label_samples[i];
			if (counted && e->mv_ev >= 0)
				l->truth_events += lb->truth[e->mv_ev];
		}
	}
}

void gp_perf_report(struct guest_prog *p, const char *who,
		    struct mv_result *res)
{
	for (unsigned i = 0; i < p->nr_ev; i++) {
		counter_result(&p->ev[i], who, res);
		res->samples += p->ev[i].samples;
	}
	res->samples_lost += p->lost;
	if (p->cfg.kind == MV_PROG_RECORD)
		label_results(p, res);
	if (p->cfg.kind == MV_PROG_RR) {
		res->rr.present = true;
		res->rr.target = p->cfg.rr_ticks;
		res->rr.interrupts += p->rr.interrupts;
		res->rr.exact += p->rr.exact;
		if (p->rr.max_overshoot > res->rr.max_overshoot)
			res->rr.max_overshoot = p->rr.max_overshoot;
		res->rr.ticks_counted += p->rr.ticks_counted;
		res->rr.ticks_truth += p->rr.ticks_truth;
	}
}
