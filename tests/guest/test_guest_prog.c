/* Guest programs on bare metal (skylake, zen4, ...): perf stat, perf
 * record, the rr tick counter, raw counters over emulated instructions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/guest_bare.h"
#include "guest/guest_prog.h"
#include "guest/guest_prog_internal.h"
#include "hw/hw_cpu.h"

#define CTX 1

struct bench {
	struct sim sim;
	struct hw_cpu cpu;
	struct guest_bare gb;
	struct perf *perf;
	int vendor;
	struct mv_result *res;
};

static struct bench *bench_new(const char *model)
{
	struct bench *b = calloc(1, sizeof(*b));
	const struct hw_model *m = hw_model_find(model);
	struct mv_guest *gs[1];

	assert_non_null(b);
	assert_non_null(m);
	sim_init(&b->sim, 1, false);
	hw_cpu_init(&b->cpu, 0, &b->sim, m);
	guest_bare_init(&b->gb, &b->cpu, CTX);
	gs[0] = &b->gb.g;
	b->perf = guest_perf_new(&b->sim, CTX, gs, 1);
	assert_non_null(b->perf);
	b->vendor = m->vendor == HW_INTEL ? 0 : 1;
	b->res = calloc(1, sizeof(*b->res));
	assert_non_null(b->res);
	return b;
}

static void bench_free(struct bench *b)
{
	perf_free(b->perf);
	sim_free(&b->sim);
	free(b->res);
	free(b);
}

static void add_seg(struct mv_program *c, const char *label, uint64_t n,
		    bool kernel, unsigned emulated)
{
	struct mv_segment *s = &c->work.seg[c->work.nr_seg++];

	snprintf(s->label, sizeof(s->label), "%s", label);
	s->instructions = n;
	s->kernel = kernel;
	s->emulated = emulated;
}

static void add_events(struct mv_program *c, const char *const *ev)
{
	for (; *ev; ev++)
		snprintf(c->events[c->nr_events++], MV_NAME_MAX, "%s", *ev);
}

/* Runs `c` to completion and reports it into b->res; returns the program
 * (freed by the caller) so tests can look at its private state. */
static struct guest_prog *run(struct bench *b, const struct mv_program *c)
{
	char err[160];
	struct guest_prog *p = guest_prog_new(c, &b->gb.g, b->perf, 0, CTX,
					      b->vendor, err, sizeof(err));
	uint64_t steps = 0;

	if (!p)
		fail_msg("guest_prog_new: %s", err);
	while (guest_prog_step(p))
		steps++;
	assert_true(steps > 1);
	assert_false(guest_prog_step(p));
	guest_prog_report(p, "bare/cpu0", &b->sim, b->res);
	assert_int_equal(perf_nr_bugs(b->perf), 0);
	return p;
}

static const struct mv_counter_result *counter(const struct bench *b,
					       const char *event)
{
	for (unsigned i = 0; i < b->res->nr_guest; i++)
		if (!strcmp(b->res->guest[i].event, event))
			return &b->res->guest[i];
	fail_msg("no counter for %s", event);
	return NULL;
}

static uint64_t udiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* ---- perf stat ---- */

static const char *const stat_intel[] = {
	"instructions", "cycles:u", "branches", "branch-misses:k",
	"cache-references", "r01c4", NULL,
};
static const char *const stat_amd[] = {
	"instructions", "cycles:u", "branches", "branch-misses:k",
	"cache-references", "rd1", NULL,
};

static void stat_exact(const char *model, const char *const *events)
{
	struct bench *b = bench_new(model);
	struct mv_program c = { .kind = MV_PROG_STAT };

	add_events(&c, events);
	add_seg(&c, "main", 1000000, false, 0);
	add_seg(&c, "sys", 300000, true, 0);
	c.work.passes = 10;
	c.work.chunk = 50000;
	guest_prog_free(run(b, &c));
	assert_int_equal(b->res->nr_guest, c.nr_events);
	for (unsigned i = 0; i < b->res->nr_guest; i++) {
		const struct mv_counter_result *r = &b->res->guest[i];

		assert_string_equal(r->name, "bare/cpu0");
		assert_true(r->truth > 0);
		assert_int_equal(r->value, r->truth);
		assert_int_equal(r->raw, r->truth);
		assert_true(r->time_enabled > 0);
		assert_int_equal(r->time_running, r->time_enabled);
	}
	/* The modifiers select modes: cycles:u is the user work's cycles alone,
	 * branch-misses:k the kernel work's misses. */
	assert_int_equal(counter(b, "cycles:u")->truth,
			 sim_truth_get(&b->sim.truth, CTX, MV_EV_CYCLES, true, false));
	assert_true(counter(b, "cycles:u")->truth <
		    sim_truth_get(&b->sim.truth, CTX, MV_EV_CYCLES, true, true));
	assert_int_equal(counter(b, "branch-misses:k")->truth,
			 sim_truth_get(&b->sim.truth, CTX, MV_EV_BRANCH_MISSES, false, true));
	bench_free(b);
}

static void test_stat_exact_skylake(void **state)
{
	(void)state;
	stat_exact("skylake", stat_intel);
}

static void test_stat_exact_zen4(void **state)
{
	(void)state;
	stat_exact("zen4", stat_amd);
}

/* Ten events on fewer counters: the guest kernel's tick rotates them.
 * The workload is uniform at a grain (120k instructions, 60k cycles)
 * much finer than the tick (1M cycles), so scaling by enabled/running
 * is within 1% of the truth for every event. */
static void stat_multiplexed(const char *model, const char *const *events)
{
	struct bench *b = bench_new(model);
	struct mv_program c = { .kind = MV_PROG_STAT };
	bool multiplexed = false;

	add_events(&c, events);
	add_seg(&c, "user", 100000, false, 0);
	add_seg(&c, "kern", 20000, true, 0);
	c.work.passes = 1000;
	c.work.chunk = 50000;
	guest_prog_free(run(b, &c));
	assert_int_equal(b->res->nr_guest, c.nr_events);
	for (unsigned i = 0; i < b->res->nr_guest; i++) {
		const struct mv_counter_result *r = &b->res->guest[i];

		assert_true(r->truth > 0);
		assert_true(r->time_running > 0);
		assert_true(r->time_running <= r->time_enabled);
		if (r->time_running < r->time_enabled)
			multiplexed = true;
		if (udiff(r->value, r->truth) * 100 > r->truth)
			fail_msg("%s: scaled %llu truth %llu (running %llu of %llu)",
				 r->event, (unsigned long long)r->value,
				 (unsigned long long)r->truth,
				 (unsigned long long)r->time_running,
				 (unsigned long long)r->time_enabled);
	}
	assert_true(multiplexed);
	bench_free(b);
}

static void test_stat_multiplexed_skylake(void **state)
{
	static const char *const ev[] = {
		"instructions", "cycles", "branches", "branch-misses",
		"cache-references", "cache-misses", "r01c4", "ref-cycles",
		"instructions:u", "branches:k", NULL,
	};

	(void)state;
	stat_multiplexed("skylake", ev);
}

static void test_stat_multiplexed_zen4(void **state)
{
	static const char *const ev[] = {
		"instructions", "cycles", "branches", "branch-misses",
		"cache-references", "cache-misses", "rd1", "rc0",
		"instructions:u", "branches:k", NULL,
	};

	(void)state;
	stat_multiplexed("zen4", ev);
}

static void test_bad_event(void **state)
{
	static const char *const bad[] = { "instructionz", "cycles:q", "rzz" };
	struct bench *b = bench_new("skylake");

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mv_program c = { .kind = MV_PROG_STAT };
		char err[160], want[64];

		add_events(&c, (const char *const[]){ "cycles", bad[i], NULL });
		add_seg(&c, "main", 1000, false, 0);
		c.work.passes = 1;
		err[0] = '\0';
		assert_null(guest_prog_new(&c, &b->gb.g, b->perf, 0, CTX,
					   b->vendor, err, sizeof(err)));
		snprintf(want, sizeof(want), "event '%s': ", bad[i]);
		assert_non_null(strstr(err, want));
		assert_true(strlen(err) > strlen(want));
	}
	bench_free(b);
}

/* ---- perf record ---- */

/* Each contiguous run of a label holds floor or ceil of (its events /
 * period) overflow points, so a label's samples differ from
 * truth/period by at most one per run (`passes` runs per label) plus one:
 * that is the tolerance, about 1% of the samples here. */
static void record_shares(const char *model)
{
	struct bench *b = bench_new(model);
	struct mv_program c = { .kind = MV_PROG_RECORD, .period = 10007 };
	uint64_t total = 0;
	struct guest_prog *p;

	add_events(&c, (const char *const[]){ "instructions", NULL });
	add_seg(&c, "hot", 600000, false, 0);
	add_seg(&c, "warm", 300000, false, 0);
	add_seg(&c, "cold", 100000, true, 0);
	c.work.passes = 20;
	c.work.chunk = 25000;
	p = run(b, &c);
	assert_int_equal(b->res->nr_labels, 3);
	for (unsigned i = 0; i < 3; i++)
		total += b->res->labels[i].truth_events;
	assert_int_equal(total, 20 * 1000000);
	for (unsigned i = 0; i < 3; i++) {
		const struct mv_label_result *l = &b->res->labels[i];
		int t = sim_truth_label(&b->sim.truth, l->label);

		assert_true(t >= 0);
		assert_int_equal(l->truth_events,
				 b->sim.truth.label_ev[CTX][t][MV_EV_INSTRUCTIONS]);
		if (udiff(l->samples, l->truth_events / c.period) >
		    c.work.passes + 1)
			fail_msg("%s: %llu samples for %llu events", l->label,
				 (unsigned long long)l->samples,
				 (unsigned long long)l->truth_events);
	}
	/* Skid 0: one sample per full period, none for the partial last one;
	 * the +-1 allows the overflow landing on the very last event. */
	assert_true(udiff(b->res->samples, total / c.period) <= 1);
	assert_int_equal(b->res->samples_lost, 0);
	/* One event: every sample is one PMI. */
	assert_int_equal(b->res->guest_pmis, b->res->samples);
	assert_int_equal(counter(b, "instructions")->value, total);
	guest_prog_free(p);
	bench_free(b);
}

static void test_record_shares_skylake(void **state)
{
	(void)state;
	record_shares("skylake");
}

static void test_record_shares_zen4(void **state)
{
	(void)state;
	record_shares("zen4");
}

/* A label's true events count only the modes the sampled event selects
 * (instructions:u: a kernel label has none, and takes no sample). */
static void test_record_label_truth_follows_modes(void **state)
{
	struct bench *b = bench_new("skylake");
	struct mv_program c = { .kind = MV_PROG_RECORD, .period = 10007 };
	struct guest_prog *p;

	(void)state;
	add_events(&c, (const char *const[]){ "instructions:u", NULL });
	add_seg(&c, "user", 300000, false, 0);
	add_seg(&c, "kern", 200000, true, 0);
	c.work.passes = 4;
	p = run(b, &c);
	assert_int_equal(b->res->nr_labels, 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct mv_label_result *l = &b->res->labels[i];
		int t = sim_truth_label(&b->sim.truth, l->label);

		assert_true(t >= 0);
		if (!strcmp(l->label, "kern")) {
			assert_int_equal(l->truth_events, 0);
			assert_int_equal(l->samples, 0);
		} else {
			assert_int_equal(l->truth_events,
					 b->sim.truth.label_ev[CTX][t][MV_EV_INSTRUCTIONS]);
			assert_true(l->samples > 0);
		}
	}
	guest_prog_free(p);
	bench_free(b);
}

/* The RFC's basic case: six instruction events sampling at once (no
 * multiplexing on an 8-counter PMU): each takes every sample it should. */
static void test_record_six_events(void **state)
{
	struct bench *b = bench_new("sapphirerapids");
	struct mv_program c = { .kind = MV_PROG_RECORD, .period = 100003 };
	struct guest_prog *p;

	(void)state;
	for (int i = 0; i < 6; i++)
		add_events(&c, (const char *const[]){ "instructions", NULL });
	add_seg(&c, "f", 700000, false, 0);
	add_seg(&c, "g", 300000, false, 0);
	c.work.passes = 30;
	p = run(b, &c);
	for (unsigned i = 0; i < p->nr_ev; i++) {
		assert_int_equal(p->ev[i].running, p->ev[i].enabled);
		assert_true(udiff(p->ev[i].samples, 30000000 / c.period) <= 1);
	}
	assert_int_equal(b->res->nr_labels, 2);
	assert_int_equal(b->res->labels[0].truth_events, 6 * 30 * 700000);
	guest_prog_free(p);
	bench_free(b);
}

/* Frequency mode: the period follows the observed rate (2 instructions
 * per cycle) to give about `freq` samples per simulated second; the first
 * tick runs with the initial guess, hence the 10% tolerance. */
static void test_record_freq(void **state)
{
	struct bench *b = bench_new("skylake");
	struct mv_program c = { .kind = MV_PROG_RECORD, .freq = 1000 };
	uint64_t c0 = b->sim.cycle, want;

	(void)state;
	add_events(&c, (const char *const[]){ "instructions", NULL });
	add_seg(&c, "main", 100000, false, 0);
	c.work.passes = 3000;		/* 300M instructions, 0.05 s */
	guest_prog_free(run(b, &c));
	want = (b->sim.cycle - c0) * c.freq / GUEST_PROG_HZ;
	if (udiff(b->res->samples, want) * 10 > want)
		fail_msg("%llu samples, want about %llu",
			 (unsigned long long)b->res->samples,
			 (unsigned long long)want);
	bench_free(b);
}

/* The RFC's multiplexed case: ten sampling events in frequency mode on
 * seven counters.  Each event samples at about `freq` per second of its
 * own running time, so the total follows the sum of running times (15%:
 * the first tick of each event runs on the initial guess). */
static void test_record_multiplexed_freq(void **state)
{
	static const char *const ev[] = {
		"instructions", "cycles", "branches", "branch-misses",
		"cache-references", "cache-misses", "ref-cycles",
		"instructions:u", "instructions:k", "cycles:u", NULL,
	};
	struct bench *b = bench_new("skylake");
	struct mv_program c = { .kind = MV_PROG_RECORD, .freq = 1000 };
	uint64_t running = 0, want;
	bool multiplexed = false;
	struct guest_prog *p;

	(void)state;
	add_events(&c, ev);
	add_seg(&c, "compute", 2000000, false, 0);
	add_seg(&c, "syscall", 200000, true, 0);
	c.work.passes = 100;
	p = run(b, &c);
	for (unsigned i = 0; i < p->nr_ev; i++) {
		running += p->ev[i].running;
		if (p->ev[i].running < p->ev[i].enabled)
			multiplexed = true;
		assert_true(p->ev[i].samples > 0);
	}
	assert_true(multiplexed);
	want = running * c.freq / GUEST_PROG_HZ;
	if (udiff(b->res->samples, want) * 100 > want * 15)
		fail_msg("%llu samples, want about %llu",
			 (unsigned long long)b->res->samples,
			 (unsigned long long)want);
	guest_prog_free(p);
	bench_free(b);
}

/* ---- rr ---- */

static void rr_exact(const char *model)
{
	struct bench *b = bench_new(model);
	struct mv_program c = { .kind = MV_PROG_RR, .rr_ticks = 5003 };
	uint64_t user_cond;

	add_seg(&c, "a", 400000, false, 0);
	add_seg(&c, "k", 100000, true, 0);
	add_seg(&c, "b", 250000, false, 0);
	c.work.passes = 8;
	c.work.chunk = 30000;
	guest_prog_free(run(b, &c));
	user_cond = sim_truth_get(&b->sim.truth, CTX, MV_EV_COND_BRANCHES,
				  true, false);
	assert_true(b->res->rr.present);
	assert_int_equal(b->res->rr.target, 5003);
	assert_int_equal(b->res->rr.ticks_truth, user_cond);
	assert_int_equal(b->res->rr.ticks_counted, b->res->rr.ticks_truth);
	assert_int_equal(b->res->rr.interrupts, user_cond / 5003);
	assert_int_equal(b->res->rr.exact, b->res->rr.interrupts);
	assert_int_equal(b->res->rr.max_overshoot, 0);
	bench_free(b);
}

static void test_rr_skylake(void **state)
{
	(void)state;
	rr_exact("skylake");
}

static void test_rr_zen4(void **state)
{
	(void)state;
	rr_exact("zen4");
}

/* With skid the PMI comes late: rr sees every interrupt overshoot its
 * target, which is what makes a PMU unusable for rr. */
static void test_rr_sees_skid(void **state)
{
	struct bench *b = bench_new("skylake");
	struct mv_program c = { .kind = MV_PROG_RR, .rr_ticks = 5003 };

	(void)state;
	b->cpu.skid = 60;	/* instructions: 8 conditional branches */
	add_seg(&c, "a", 100000, false, 0);
	c.work.passes = 10;
	c.work.chunk = 30000;
	guest_prog_free(run(b, &c));
	assert_true(b->res->rr.interrupts > 0);
	assert_int_equal(b->res->rr.exact, 0);
	assert_true(b->res->rr.max_overshoot > 0);
	assert_int_equal(b->res->rr.ticks_counted, b->res->rr.ticks_truth);
	bench_free(b);
}

/* ---- raw counters across emulated instructions ---- */

/* N emulated instructions after a preset of -N: counter 0 wraps on the
 * N-th exactly (status set, value 0, one PMI); with one fewer it does not.
 * Every other emulated instruction is a branch: N/2 branches, no wrap. */
static void emulated_preset(const char *model, unsigned n, bool wraps)
{
	struct bench *b = bench_new(model);
	struct mv_program c = { .kind = MV_PROG_EMULATED, .preset = 100 };
	struct guest_prog *p;
	const struct mv_counter_result *ins, *br;

	add_seg(&c, "emu", 0, false, n);
	c.work.passes = 1;
	p = run(b, &c);
	ins = counter(b, "instructions");
	br = counter(b, "branches");
	assert_int_equal(p->raw.fault, 0);
	assert_int_equal(ins->truth, n);
	assert_int_equal(ins->value, ins->truth);
	assert_int_equal(br->truth, n / 2);
	assert_int_equal(br->value, br->truth);
	assert_false(p->raw.overflowed[1]);
	if (wraps) {
		assert_int_equal(ins->raw, 0);
		assert_true(p->raw.overflowed[0]);
		assert_int_equal(b->res->guest_pmis, 1);
	} else {
		assert_int_equal(ins->raw, X86_MASK(48));
		assert_false(p->raw.overflowed[0]);
		assert_int_equal(b->res->guest_pmis, 0);
	}
	guest_prog_free(p);
	bench_free(b);
}

static void test_emulated_skylake(void **state)
{
	(void)state;
	emulated_preset("skylake", 100, true);
	emulated_preset("skylake", 99, false);
}

static void test_emulated_icelake(void **state)
{
	(void)state;
	emulated_preset("icelake", 100, true);
}

static void test_emulated_zen4(void **state)
{
	(void)state;
	emulated_preset("zen4", 100, true);
	emulated_preset("zen4", 99, false);
}

/* Work blocks and emulated instructions together: 1000 - 10 in blocks,
 * the preset's last 10 emulated. */
static void test_emulated_mixed(void **state)
{
	struct bench *b = bench_new("skylake");
	struct mv_program c = { .kind = MV_PROG_EMULATED, .preset = 1000 };
	struct guest_prog *p;

	(void)state;
	add_seg(&c, "mix", 990, true, 10);
	c.work.passes = 1;
	c.work.chunk = 100;
	p = run(b, &c);
	assert_int_equal(counter(b, "instructions")->raw, 0);
	assert_int_equal(counter(b, "instructions")->value, 1000);
	assert_int_equal(counter(b, "instructions")->truth, 1000);
	assert_true(p->raw.overflowed[0]);
	guest_prog_free(p);
	bench_free(b);
}

/* ---- interrupts held while the guest's handler runs ---- */

struct held {
	unsigned calls, depth, max_depth;
};

static void held_handler(struct mv_guest *g, unsigned vector, void *arg)
{
	struct held *h = arg;
	struct mv_work w = mv_work_make(1000, true, "handler");

	(void)vector;
	h->calls++;
	if (++h->depth > h->max_depth)
		h->max_depth = h->depth;
	/* The first call works long enough for counter 1 to overflow too. */
	if (h->calls == 1)
		mv_run(g, &w);
	h->depth--;
}

/* A PMI raised while the guest's interrupt handler runs (its own work
 * overflows another counter) waits until the handler returns, as an
 * interrupt does with IF clear on entry, and is taken once then: the
 * handler is never re-entered (AMD: the LVTPC stays unmasked).  A fixed
 * vector, so that the guest's own hold is what keeps it out (an NMI would
 * be held by the CPU's NMI blocking already). */
static void test_bare_irq_held_while_handler_runs(void **state)
{
	struct bench *b = bench_new("zen4");
	struct mv_guest *g = &b->gb.g;
	struct mv_work w = mv_work_make(5000, false, "main");
	struct held h = { 0 };
	const uint64_t sel = 0xC0 | EVTSEL_USR | EVTSEL_OS | EVTSEL_INT | EVTSEL_EN;

	(void)state;
	mv_set_irq_handler(g, held_handler, &h);
	assert_int_equal(mv_wrmsr_safe(g, MSR_X2APIC_LVTPC, 0xF0), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_F15H_PERF_CTR0, X86_MASK(48) - 99), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_F15H_PERF_CTR0 + 2, X86_MASK(48) - 599), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_F15H_PERF_CTL0, sel), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_F15H_PERF_CTL0 + 2, sel), X86_OK);
	/* The guest kernel's perf left PerfCntrGlobalCtl at 0 (disable_all). */
	assert_int_equal(mv_wrmsr_safe(g, MSR_AMD_GLOBAL_CTL, 3), X86_OK);
	mv_run(g, &w);
	assert_int_equal(h.calls, 2);
	assert_int_equal(h.max_depth, 1);
	assert_false(g->in_irq);
	assert_int_equal(g->nr_irqs, 2);
	assert_int_equal(b->cpu.nr_pmis, 2);
	mv_set_irq_handler(g, NULL, NULL);
	bench_free(b);
}

static void test_idle(void **state)
{
	struct bench *b = bench_new("zen4");
	struct mv_program c = { .kind = MV_PROG_IDLE };

	(void)state;
	add_seg(&c, "idle", 12345, false, 3);
	c.work.passes = 2;
	c.work.chunk = 1000;
	guest_prog_free(run(b, &c));
	assert_int_equal(sim_truth_get(&b->sim.truth, CTX, MV_EV_INSTRUCTIONS,
				       true, true), 2 * (12345 + 3));
	assert_int_equal(b->res->nr_guest, 0);
	bench_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_exact_skylake),
		cmocka_unit_test(test_stat_exact_zen4),
		cmocka_unit_test(test_stat_multiplexed_skylake),
		cmocka_unit_test(test_stat_multiplexed_zen4),
		cmocka_unit_test(test_bad_event),
		cmocka_unit_test(test_record_shares_skylake),
		cmocka_unit_test(test_record_shares_zen4),
		cmocka_unit_test(test_record_six_events),
		cmocka_unit_test(test_record_label_truth_follows_modes),
		cmocka_unit_test(test_record_freq),
		cmocka_unit_test(test_record_multiplexed_freq),
		cmocka_unit_test(test_rr_skylake),
		cmocka_unit_test(test_rr_zen4),
		cmocka_unit_test(test_rr_sees_skid),
		cmocka_unit_test(test_emulated_skylake),
		cmocka_unit_test(test_emulated_icelake),
		cmocka_unit_test(test_emulated_zen4),
		cmocka_unit_test(test_emulated_mixed),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_bare_irq_held_while_handler_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
