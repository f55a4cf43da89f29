/* perf_core: events, per-CPU and per-task contexts, scheduling with
 * rotation (multiplexing), time accounting, samples and event parsing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/perf_internal.h"
#include "hw/hw_cpu.h"

/* ---- parsing ---- */

static const char *const hw_names[PERF_COUNT_HW_MAX] = {
	[PERF_COUNT_HW_CPU_CYCLES] = "cycles",
	[PERF_COUNT_HW_INSTRUCTIONS] = "instructions",
	[PERF_COUNT_HW_CACHE_REFERENCES] = "cache-references",
	[PERF_COUNT_HW_CACHE_MISSES] = "cache-misses",
	[PERF_COUNT_HW_BRANCH_INSTRUCTIONS] = "branches",
	[PERF_COUNT_HW_BRANCH_MISSES] = "branch-misses",
	[PERF_COUNT_HW_REF_CPU_CYCLES] = "ref-cycles",
};

static int parse_err(char *err, size_t errlen, const char *fmt, const char *s)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, s);
	return -EINVAL;
}

static int parse_raw(const char *s, size_t len, uint64_t *config)
{
	uint64_t v = 0;

	if (len < 2 || len > 17)
		return -EINVAL;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*config = v;
	return 0;
}

/* Modifiers as the perf tool reads them: any of u/k restricts the
 * privilege to those listed; G counts only in guests, H only in the host;
 * D pins the event (tools/perf/util/parse-events.c, "pinned"). */
static int parse_mods(const char *m, struct perf_event_attr *attr)
{
	bool u = false, k = false, g = false, h = false;

	for (; *m; m++) {
		switch (*m) {
		case 'u': u = true; break;
		case 'k': k = true; break;
		case 'G': g = true; break;
		case 'H': h = true; break;
		case 'D': attr->pinned = true; break;
		default: return -EINVAL;
		}
	}
	if (u || k) {
		attr->exclude_user = !u;
		attr->exclude_kernel = !k;
	}
	if (g || h) {
		attr->exclude_host = !h;
		attr->exclude_guest = !g;
	}
	return 0;
}

int perf_parse_event(const char *spec, struct perf_event_attr *attr,
		     char *err, size_t errlen)
{
	const char *colon;
	size_t len;
	unsigned id;

	if (!spec || !attr)
		return parse_err(err, errlen, "%s", "no event");
	memset(attr, 0, sizeof(*attr));
	colon = strchr(spec, ':');
	len = colon ? (size_t)(colon - spec) : strlen(spec);
	for (id = 0; id < PERF_COUNT_HW_MAX; id++)
		if (strlen(hw_names[id]) == len &&
		    !strncmp(hw_names[id], spec, len))
			break;
	if (id < PERF_COUNT_HW_MAX) {
		attr->type = PERF_TYPE_HARDWARE;
		attr->config = id;
	} else if (spec[0] == 'r') {
		/* Names first: "ref-cycles" is not a raw event. */
		attr->type = PERF_TYPE_RAW;
		if (parse_raw(spec, len, &attr->config))
			return parse_err(err, errlen, "bad raw event '%s'", spec);
	} else {
		return parse_err(err, errlen, "unknown event '%s'", spec);
	}
	if (colon && parse_mods(colon + 1, attr))
		return parse_err(err, errlen, "bad modifier in '%s'", spec);
	return 0;
}

/* ---- instance ---- */

struct perf *perf_new(struct sim *sim, int ctx, int nr_cpus,
		      const struct perf_hw_ops *ops, void *const hw[])
{
	struct perf *p;

	if (!sim || !ops || !hw || nr_cpus < 1 || nr_cpus > PERF_MAX_CPUS)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sim = sim;
	p->ctx = ctx;
	p->nr_cpus = nr_cpus;
	p->ops = ops;
	p->events_tail = &p->events;
	for (int c = 0; c < nr_cpus; c++)
		p->hw[c] = hw[c];
	p->has_pmu = perf_x86_init(p);
	return p;
}

static void event_free(struct perf_event *ev)
{
	free(ev->samples);
	free(ev);
}

void perf_free(struct perf *p)
{
	struct perf_event *ev, *next;

	if (!p)
		return;
	for (ev = p->events; ev; ev = next) {
		next = ev->next;
		event_free(ev);
	}
	if (p->host_free)
		p->host_free(p->host);
	free(p);
}

void perf_bug(struct perf *p, int cpu, const char *what)
{
	p->nr_bugs++;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, p->nr_bugs, 0, what);
}

uint64_t perf_nr_bugs(const struct perf *p)
{
	return p->nr_bugs;
}

uint64_t perf_nr_msr_faults(const struct perf *p)
{
	return p->nr_msr_faults;
}

static bool cpu_ok(const struct perf *p, int cpu)
{
	return cpu >= 0 && cpu < p->nr_cpus;
}

/* The guest owns the PMU of this CPU: host events stay out. */
static bool pmu_owned_by_guest(const struct perf *p, int cpu)
{
	return p->cpu[cpu].guest_loaded && p->mediated_capable;
}

/* ---- time (perf_internal.h, "Event times") ---- */

/* Linux 7.0: exclude_guest events' clocks stop while the guest context
 * is loaded (test_hooks.h can keep them running, to prove the check). */
static bool excludes_guest_time(const struct perf *p, const struct perf_event *ev)
{
	return ev->attr.exclude_guest && !p->sim->test.perf_time_in_guest;
}

/* A sync: event times count up to here.  The per-event work is done only
 * for events whose state changes (perf_event_settle_*). */
void perf_sync_times(struct perf *p)
{
	p->synced_at = p->sim->cycle;
}

void perf_event_settle_enabled(struct perf *p, struct perf_event *ev)
{
	if (ev->on_cpu >= 0) {
		uint64_t g = perf_cpu_guest_time(p, ev->on_cpu);

		if (ev->enabled && !ev->error)
			ev->time_enabled += p->synced_at - ev->estamp -
					    (excludes_guest_time(p, ev) ? g - ev->gstamp : 0);
		ev->gstamp = g;
	}
	ev->estamp = p->synced_at;
}

/* ---- scheduling ---- */

/* Whether ev belongs to the context of `cpu` right now. */
static bool in_ctx(const struct perf *p, const struct perf_event *ev, int cpu)
{
	if (!ev->enabled)
		return false;
	if (!ev->task)
		return ev->cpu == cpu;
	return p->cpu[cpu].cur_task == ev->task &&
		(ev->cpu < 0 || ev->cpu == cpu);
}

/* Linux's order: CPU pinned, task pinned, CPU flexible, task flexible.
 * Neither input changes after open, which keeps it in ev->klass. */
static int ev_class(const struct perf_event *ev)
{
	return (ev->attr.pinned ? 0 : 2) + (ev->task ? 1 : 0);
}

static bool ev_before(const struct perf_event *a, const struct perf_event *b)
{
	if (a->klass != b->klass)
		return a->klass < b->klass;
	return a->rot_key < b->rot_key;
}

/* The events of the context of `cpu`, just after update_on_cpu(p, cpu):
 * then ev->on_cpu == cpu exactly when in_ctx(p, ev, cpu). */
static size_t ctx_collect(struct perf *p, int cpu, struct perf_event **out,
			  size_t max)
{
	size_t n = 0;

	for (struct perf_event *ev = p->events; ev && n < max; ev = ev->next) {
		size_t i;

		if (ev->on_cpu != cpu || ev->error)
			continue;
		/* Insertion sort: few events, keys are unique integers. */
		for (i = n; i > 0 && ev_before(ev, out[i - 1]); i--)
			out[i] = out[i - 1];
		out[i] = ev;
		n++;
	}
	return n;
}

void perf_ctx_sched_out_all(struct perf *p, int cpu)
{
	/* In index order, as a scan of active[] would (active_mask has
	 * exactly the indexes whose active[] is set). */
	for (uint64_t m = p->cpu[cpu].active_mask; m; m &= m - 1)
		perf_x86_del(p, cpu, p->cpu[cpu].active[__builtin_ctzll(m)]);
}

static void set_on_cpu(struct perf *p, struct perf_event *ev, int cpu)
{
	perf_event_settle_enabled(p, ev);
	ev->on_cpu = cpu;
	if (cpu >= 0)
		ev->gstamp = perf_cpu_guest_time(p, cpu);
}

static void update_on_cpu(struct perf *p, int cpu)
{
	for (struct perf_event *ev = p->events; ev; ev = ev->next) {
		if (in_ctx(p, ev, cpu)) {
			if (ev->on_cpu != cpu)
				set_on_cpu(p, ev, cpu);
		} else if (ev->on_cpu == cpu) {
			set_on_cpu(p, ev, -1);
		}
	}
}

#define CTX_MAX_EVENTS 256

/* Right after update_on_cpu(p, cpu) (ctx_collect relies on it). */
static void ctx_sched_in(struct perf *p, int cpu)
{
	struct perf_event *list[CTX_MAX_EVENTS];
	struct perf_cpu *pc = &p->cpu[cpu];
	size_t n = ctx_collect(p, cpu, list, CTX_MAX_EVENTS);
	bool can_add = true;

	pc->rotate_cpu = pc->rotate_task = false;
	for (size_t i = 0; i < n; i++) {
		struct perf_event *ev = list[i];
		int idx = -1;

		if (ev->attr.pinned || can_add)
			idx = perf_x86_pick_counter(p, cpu, ev);
		if (idx >= 0) {
			perf_x86_add(p, cpu, ev, idx);
			continue;
		}
		if (ev->attr.pinned) {
			/* A pinned event that cannot go on errors out until it
			 * is enabled again (Linux PERF_EVENT_STATE_ERROR). */
			perf_event_settle_enabled(p, ev);
			ev->error = true;
			sim_trace(p->sim, TR_PERF, (uint32_t)cpu, ev->seq, 0,
				  "pinned error");
			continue;
		}
		/* Once a flexible event fails the rest wait their turn:
		 * keeps the rotation fair (Linux merge_sched_in). */
		can_add = false;
		if (ev->task)
			pc->rotate_task = true;
		else
			pc->rotate_cpu = true;
	}
}

/* Reschedules the context of `cpu` from scratch: everything out, then
 * in again in priority and rotation order. */
void perf_ctx_resched(struct perf *p, int cpu)
{
	if (!cpu_ok(p, cpu))
		return;
	perf_sync_times(p);
	if (!p->has_pmu || pmu_owned_by_guest(p, cpu)) {
		update_on_cpu(p, cpu);
		return;
	}
	perf_pmu_disable(p, cpu);
	perf_ctx_sched_out_all(p, cpu);
	update_on_cpu(p, cpu);
	ctx_sched_in(p, cpu);
	perf_pmu_enable(p, cpu);
}

static bool task_has_events(const struct perf *p, const struct perf_task *t)
{
	if (!t)
		return false;
	for (const struct perf_event *ev = p->events; ev; ev = ev->next)
		if (ev->task == t)
			return true;
	return false;
}

void perf_task_switch(struct perf *p, int cpu, struct perf_task *prev,
		      struct perf_task *next)
{
	bool resched;

	if (!cpu_ok(p, cpu))
		return;
	(void)prev;	/* the outgoing task is whatever runs on the CPU */
	resched = task_has_events(p, p->cpu[cpu].cur_task) ||
		task_has_events(p, next);
	if (resched)
		perf_sync_times(p);
	p->cpu[cpu].cur_task = next;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, next ? (uint64_t)next->id : 0,
		  resched, "task switch");
	if (resched)
		perf_ctx_resched(p, cpu);
}

/* Moves the first flexible event of one class (CPU or task context) to
 * the end of the rotation order. */
static void rotate_class(struct perf *p, int cpu, int class)
{
	struct perf_event *first = NULL;

	for (struct perf_event *ev = p->events; ev; ev = ev->next)
		if (in_ctx(p, ev, cpu) && ev->klass == class &&
		    (!first || ev->rot_key < first->rot_key))
			first = ev;
	if (first)
		first->rot_key = ++p->seq;
}

void perf_tick(struct perf *p, int cpu)
{
	struct perf_cpu *pc;

	if (!cpu_ok(p, cpu))
		return;
	pc = &p->cpu[cpu];
	if (pmu_owned_by_guest(p, cpu) || (!pc->rotate_cpu && !pc->rotate_task))
		return;
	if (pc->rotate_cpu)
		rotate_class(p, cpu, 2);
	if (pc->rotate_task)
		rotate_class(p, cpu, 3);
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, pc->rotate_cpu,
		  pc->rotate_task, "rotate");
	perf_ctx_resched(p, cpu);
}

/* CPUs whose context holds or should hold ev. */
static void event_resched(struct perf_event *ev)
{
	struct perf *p = ev->p;
	int was = ev->on_cpu;

	if (was >= 0)
		perf_ctx_resched(p, was);
	for (int c = 0; c < p->nr_cpus; c++)
		if (c != was && (ev->enabled ? in_ctx(p, ev, c) :
				 ev->on_cpu == c))
			perf_ctx_resched(p, c);
}

/* ---- events ---- */

int perf_event_open(struct perf *p, const struct perf_event_attr *attr,
		    int cpu, struct perf_task *task, perf_overflow_fn cb,
		    void *cb_arg, struct perf_event **out)
{
	struct perf_event *ev;
	int ret;

	if (out)
		*out = NULL;
	if (!p || !attr || !out)
		return -EINVAL;
	if (task ? (cpu < -1 || cpu >= p->nr_cpus) : !cpu_ok(p, cpu))
		return -EINVAL;
	if (attr->sample_period & X86_BIT(63))
		return -EINVAL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->p = p;
	ev->attr = *attr;
	ev->cpu = cpu;
	ev->task = task;
	ev->cb = cb;
	ev->cb_arg = cb_arg;
	ev->on_cpu = -1;
	ev->hw_idx = -1;
	ev->fixed_idx = -1;
	ev->period = attr->sample_period;
	ev->period_left = (int64_t)attr->sample_period;
	ret = perf_x86_event_init(p, ev);
	if (!ret)
		ret = perf_mediated_account(p, ev);
	if (ret) {
		sim_trace(p->sim, TR_PERF, (uint32_t)cpu, attr->config,
			  (uint64_t)-ret, "open failed");
		event_free(ev);
		return ret;
	}
	ev->seq = ev->rot_key = ++p->seq;
	ev->klass = ev_class(ev);
	/* Its times start at this sync. */
	perf_sync_times(p);
	ev->estamp = ev->rstamp = p->synced_at;
	*p->events_tail = ev;
	p->events_tail = &ev->next;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, ev->seq, ev->config, "open");
	ev->enabled = !attr->disabled;
	if (ev->enabled)
		event_resched(ev);
	*out = ev;
	return 0;
}

void perf_event_close(struct perf_event *ev)
{
	struct perf *p;
	struct perf_event **pp;

	if (!ev)
		return;
	p = ev->p;
	perf_event_disable(ev);
	for (pp = &p->events; *pp && *pp != ev; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = ev->next;
		if (p->events_tail == &ev->next)
			p->events_tail = pp;
	}
	perf_mediated_unaccount(p, ev);
	sim_trace(p->sim, TR_PERF, (uint32_t)ev->cpu, ev->seq, 0, "close");
	event_free(ev);
}

void perf_event_enable(struct perf_event *ev)
{
	if (!ev || (ev->enabled && !ev->error))
		return;
	perf_sync_times(ev->p);
	perf_event_settle_enabled(ev->p, ev);
	ev->enabled = true;
	ev->error = false;
	event_resched(ev);
}

void perf_event_disable(struct perf_event *ev)
{
	if (!ev || !ev->enabled)
		return;
	perf_sync_times(ev->p);
	perf_event_settle_enabled(ev->p, ev);
	ev->enabled = false;
	event_resched(ev);
}

uint64_t perf_event_pause(struct perf_event *ev, bool reset)
{
	uint64_t count;

	if (!ev)
		return 0;
	perf_event_disable(ev);
	count = ev->count;
	if (reset)
		ev->count = 0;
	return count;
}

uint64_t perf_event_read(struct perf_event *ev, uint64_t *enabled,
			 uint64_t *running)
{
	struct perf *p;

	if (!ev)
		return 0;
	p = ev->p;
	perf_sync_times(p);
	perf_event_settle_enabled(p, ev);
	perf_event_settle_running(p, ev);
	if (ev->hw_idx >= 0 && ev->on_cpu >= 0)
		perf_x86_update(p, ev->on_cpu, ev);
	if (enabled)
		*enabled = ev->time_enabled;
	if (running)
		*running = ev->time_running;
	return ev->count;
}

uint64_t perf_event_read_scaled(struct perf_event *ev)
{
	uint64_t en = 0, run = 0, raw = perf_event_read(ev, &en, &run);

	if (!run)
		return 0;
	if (run >= en)
		return raw;
	return (uint64_t)((unsigned __int128)raw * en / run);
}

int perf_event_period(struct perf_event *ev, uint64_t period)
{
	struct perf *p;
	int cpu;

	if (!ev || !ev->period || !period || (period & X86_BIT(63)))
		return -EINVAL;
	p = ev->p;
	ev->period = period;
	ev->attr.sample_period = period;
	cpu = ev->on_cpu;
	if (ev->hw_idx < 0 || cpu < 0) {
		ev->period_left = (int64_t)period;
		return 0;
	}
	/* Like Linux _perf_event_period: stop, restart a full period. */
	perf_pmu_disable(p, cpu);
	perf_x86_update(p, cpu, ev);
	ev->period_left = (int64_t)period;
	perf_x86_set_period(p, cpu, ev);
	perf_pmu_enable(p, cpu);
	return 0;
}

void perf_event_record_sample(struct perf *p, int cpu, struct perf_event *ev)
{
	struct perf_sample s = {
		.cycle = p->sim->cycle,
		.label = p->ops->cur_label ? p->ops->cur_label(p->hw[cpu]) : NULL,
		.kernel = p->ops->cur_kernel ? p->ops->cur_kernel(p->hw[cpu]) : false,
	};

	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, ev->seq, ev->count, "sample");
	if (ev->cb) {
		ev->cb(ev, &s, ev->cb_arg);
		return;
	}
	if (ev->nr_samples == ev->cap_samples) {
		size_t cap = ev->cap_samples ? ev->cap_samples * 2 : 64;
		struct perf_sample *n;

		if (cap > PERF_SAMPLES_MAX)
			cap = PERF_SAMPLES_MAX;
		n = cap > ev->cap_samples ?
			realloc(ev->samples, cap * sizeof(*n)) : NULL;
		if (!n) {
			ev->lost++;
			return;
		}
		ev->samples = n;
		ev->cap_samples = cap;
	}
	ev->samples[ev->nr_samples++] = s;
}

size_t perf_event_samples(const struct perf_event *ev,
			  const struct perf_sample **out)
{
	if (out)
		*out = ev ? ev->samples : NULL;
	return ev ? ev->nr_samples : 0;
}

uint64_t perf_event_lost(const struct perf_event *ev)
{
	return ev ? ev->lost : 0;
}

const struct perf_event_attr *perf_event_attr_of(const struct perf_event *ev)
{
	return ev ? &ev->attr : NULL;
}

int perf_event_hw_idx(const struct perf_event *ev)
{
	return ev ? ev->hw_idx : -1;
}

/* ---- local interrupt state ---- */

void perf_irq_disable(struct perf *p, int cpu)
{
	if (cpu_ok(p, cpu))
		p->cpu[cpu].irqs_off = true;
}

void perf_irq_enable(struct perf *p, int cpu)
{
	if (!cpu_ok(p, cpu))
		return;
	p->cpu[cpu].irqs_off = false;
	if (p->on_irq_enable)
		p->on_irq_enable(p, cpu);
}

bool perf_irqs_disabled(const struct perf *p, int cpu)
{
	return cpu_ok(p, cpu) && p->cpu[cpu].irqs_off;
}

/* Generic perf ids to the modelled events they count. */
static const int generic_ev[PERF_COUNT_HW_MAX] = {
	[PERF_COUNT_HW_CPU_CYCLES] = MV_EV_CYCLES,
	[PERF_COUNT_HW_INSTRUCTIONS] = MV_EV_INSTRUCTIONS,
	[PERF_COUNT_HW_CACHE_REFERENCES] = MV_EV_LLC_REFS,
	[PERF_COUNT_HW_CACHE_MISSES] = MV_EV_LLC_MISSES,
	[PERF_COUNT_HW_BRANCH_INSTRUCTIONS] = MV_EV_BRANCHES,
	[PERF_COUNT_HW_BRANCH_MISSES] = MV_EV_BRANCH_MISSES,
	[PERF_COUNT_HW_REF_CPU_CYCLES] = MV_EV_REF_CYCLES,
};

int perf_attr_event(const struct perf_event_attr *a, bool amd)
{
	if (a->type == PERF_TYPE_HARDWARE)
		return a->config < PERF_COUNT_HW_MAX ? generic_ev[a->config] : -1;
	return hw_decode_event(amd ? HW_AMD : HW_INTEL, a->config);
}

uint64_t perf_attr_config(const struct perf_event_attr *a, bool amd)
{
	if (a->type != PERF_TYPE_HARDWARE)
		return a->config;
	return amd ? perf_amd_generic_config((unsigned)a->config) :
		     perf_intel_generic_config((unsigned)a->config);
}
