/* test_exhaustive: exhaustive exploration (docs/explore.md): each design
 * knob's counterexample found in its built-in scenario, and not without
 * the knob; the real design clean on every mediated model apart from the
 * known findings, which are matched precisely; shrinking to the minimal
 * injections; the enumeration and the result the same every time and
 * whatever --jobs; replays exact; the CPU race; pmi-exit-masked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_builtin.h"
#include "cli/cli_exhaustive.h"
#include "cli/cli_race.h"
#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "sim/sim.h"

static struct mv_scenario sc;
static struct mv_result res;

static void load(const char *name, const char *cpu)
{
	char err[256];

	assert_int_equal(cli_scenario_lookup(name, &sc, err, sizeof(err)), 0);
	if (cpu)
		snprintf(sc.cpu, sizeof(sc.cpu), "%s", cpu);
}


static void explore(const struct cli_exh_opts *o, struct cli_exh_result *r)
{
	char err[512] = "";
	int rc = cli_exhaustive_run(&sc, o, r, err, sizeof(err));

	if (rc)
		fail_msg("%s", err);
}

static const struct cli_exh_opts depth1 = { .depth = 1, .jobs = 1, .max_executions = 100000,
					    .replay = "mvpmu run" };

static const struct cli_exh_finding *new_finding(const struct cli_exh_result *r, int inv)
{
	for (size_t i = 0; i < r->nr_f; i++)
		if (!r->f[i].known && r->f[i].invariant == inv)
			return &r->f[i];
	return NULL;
}

static size_t nr_new(const struct cli_exh_result *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nr_f; i++)
		n += !r->f[i].known;
	return n;
}

/* Each knob undoes one decision; the invariant expected is the one that
 * decision protects (docs/explore.md, "Knobs"): GLOBAL_CTRL=0 before the
 * LVTPC and guest writes (4), zeroing at put (5), the switch inside perf's
 * guest context (4, and 3: host PMIs to perf), the mask copy (3), GuestOnly
 * (1), the fastpath bail (2), injection before the load (3). */
static const struct {
	const char *knob, *cpu;
	int inv;
} counterexamples[] = {
	{ "no-global-ctrl-clear", "zen4", INV_ORDERING },
	{ "no-global-ctrl-clear", "skylake", INV_ORDERING },
	{ "no-counter-clear", "skylake", INV_NO_LEAK },
	{ "no-counter-clear", "zen4", INV_NO_LEAK },
	{ "assert-instead-of-clear", "zen4", INV_ORDERING },
	{ "assert-instead-of-clear", "skylake", INV_ORDERING },
	{ "lvtpc-before-clear", "zen4", INV_ORDERING },
	{ "lvtpc-before-clear", "sapphirerapids", INV_ORDERING },
	{ "lvtpc-outside-switch", "skylake", INV_ORDERING },
	{ "lvtpc-outside-switch", "skylake", INV_PMI },
	{ "lvtpc-outside-switch", "zen5", INV_PMI },
	{ "no-mask-copy", "skylake", INV_PMI },
	{ "no-mask-copy", "zen4", INV_PMI },
	{ "no-guestonly", "zen4", INV_ISOLATION },
	{ "no-fastpath-bail", "skylake", INV_CONSERVATION },
	{ "no-fastpath-bail", "zen4", INV_CONSERVATION },
	{ "inject-after-load", "skylake", INV_PMI },
};

static void test_knob_counterexamples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(counterexamples) / sizeof(counterexamples[0]); i++) {
		struct cli_exh_result r;

		load(counterexamples[i].knob, counterexamples[i].cpu);
		explore(&depth1, &r);
		assert_int_equal(nr_new(&r), 0);	/* the real design */
		assert_int_equal(cli_exhaustive_status(&depth1, &r), 0);
		cli_exhaustive_free(&r);
		assert_int_equal(cli_knob_set(&sc.knobs, counterexamples[i].knob), 0);
		explore(&depth1, &r);
		if (!new_finding(&r, counterexamples[i].inv))
			fail_msg("%s on %s: no invariant %d", counterexamples[i].knob,
				 counterexamples[i].cpu, counterexamples[i].inv);
		assert_int_equal(cli_exhaustive_status(&depth1, &r), 1);
		cli_exhaustive_free(&r);
	}
}

/* Where a knob undoes nothing (Intel has no GuestOnly; AMD's APIC masks
 * nothing on delivery), exploration with it stays clean; no-write-elision
 * is a cost, shown as more WRMSRs, never an invariant. */
static void test_knobs_that_do_not_apply(void **state)
{
	static const struct { const char *knob, *cpu; } none[] = {
		{ "no-guestonly", "skylake" }, { "inject-after-load", "zen4" },
		{ "no-write-elision", "skylake" }, { "no-write-elision", "zen4" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		struct cli_exh_result r;

		load(none[i].knob, none[i].cpu);
		cli_knob_set(&sc.knobs, none[i].knob);
		explore(&depth1, &r);
		assert_int_equal(nr_new(&r), 0);
		assert_true(r.have_cost);
		if (!strcmp(none[i].knob, "no-write-elision"))
			assert_true(r.cost_wrmsrs[0] > r.cost_wrmsrs[1]);
		else
			assert_int_equal(r.cost_wrmsrs[0], r.cost_wrmsrs[1]);
		cli_exhaustive_free(&r);
	}
}

/* inject-after-load: the branch counter overflows inside the guest's PMI
 * handler while it works masked; held by the masked LVTPC in the real
 * design, it exits on 0xF5 with the knob: exactly one more such exit. */
static void test_inject_after_load_cost(void **state)
{
	struct cli_exh_result r;

	(void)state;
	load("inject-after-load", "skylake");
	sc.knobs.inject_after_load = true;
	explore(&depth1, &r);
	assert_true(r.have_cost);
	assert_int_equal(r.cost_pmi_exits[0], r.cost_pmi_exits[1] + 1);
	cli_exhaustive_free(&r);
}

/* The WARN of assert-instead-of-clear fires and says why: perf's load did
 * nothing (the host's events are the host task's), and GLOBAL_CTRL held
 * what perf's vendor path left. */
static void test_assert_warns(void **state)
{
	static const struct { const char *cpu, *says; } w[] = {
		{ "zen4", "amd_pmu_reload_virt" }, { "skylake", "Intel enable-all" },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct cli_exh_result r;
		const struct cli_exh_finding *f;

		load("assert-instead-of-clear", w[i].cpu);
		sc.knobs.assert_instead_of_clear = true;
		explore(&depth1, &r);
		f = new_finding(&r, INV_ORDERING);
		assert_non_null(f);
		assert_non_null(strstr(f->kernel_warning, "did nothing"));
		assert_non_null(strstr(f->kernel_warning, w[i].says));
		cli_exhaustive_free(&r);
	}
}

/* The real design on every model with the mediated vPMU: whatever is
 * found is a known finding of its vendor. */
static void test_real_design_clean(void **state)
{
	static const char *const cpus[] = { "skylake", "icelake", "sapphirerapids", "zen4", "zen5" };
	static const char *const scen[] = { "pmi-exit-masked", "lvtpc-outside-switch" };

	(void)state;
	for (size_t c = 0; c < 5; c++)
		for (size_t s = 0; s < 2; s++) {
			struct cli_exh_result r;
			bool amd = cpus[c][0] == 'z';

			load(scen[s], cpus[c]);
			explore(&depth1, &r);
			assert_int_equal(cli_exhaustive_status(&depth1, &r), 0);
			for (size_t i = 0; i < r.nr_f; i++) {
				assert_non_null(r.f[i].known);
				assert_int_equal(r.f[i].known->amd, amd);
			}
			cli_exhaustive_free(&r);
		}
}

/* Known findings match by invariant, site and cause, not by invariant. */
static void test_known_match_is_precise(void **state)
{
	struct cli_exh_result r;
	const struct cli_exh_finding *f;

	(void)state;
	assert_non_null(cli_known_match(true, INV_ORDERING, "load/lvtpc=guest", "load/lvtpc=guest"));
	assert_non_null(cli_known_match(true, INV_ORDERING, "load/counters+selectors",
					"load/global_ctrl=0+load/lvtpc=guest"));
	assert_non_null(cli_known_match(false, INV_ISOLATION, "load/vendor status+enables",
					"load/lvtpc=guest"));
	assert_null(cli_known_match(true, INV_ORDERING, "load/lvtpc=guest", ""));
	assert_null(cli_known_match(true, INV_ORDERING, "load/lvtpc=guest", "load/counters+selectors"));
	assert_null(cli_known_match(true, INV_ORDERING, "put/lvtpc=nmi", "load/lvtpc=guest"));
	assert_null(cli_known_match(true, INV_NO_LEAK, "load/lvtpc=guest", "load/lvtpc=guest"));
	assert_null(cli_known_match(true, INV_ISOLATION, "load/vendor status+enables",
				    "load/lvtpc=guest"));
	assert_null(cli_known_match(false, INV_ORDERING, "load/lvtpc=guest", "load/global_ctrl=0"));
	/* The same invariant at the same site, without the NMI: new. */
	load("lvtpc-before-clear", "zen4");
	sc.knobs.lvtpc_before_clear = true;
	explore(&depth1, &r);
	f = new_finding(&r, INV_ORDERING);
	assert_non_null(f);
	assert_string_equal(f->site, "load/lvtpc=guest");
	cli_exhaustive_free(&r);
}

static uint32_t first_point(const char *name, const char *cpu, const char *label)
{
	struct cli_points pts = { .log = true };
	char err[256];
	uint32_t at = UINT32_MAX;

	load(name, cpu);
	sc.points = true;
	assert_int_equal(cli_run_scenario_points(&sc, &res, &pts, err, sizeof(err)), 0);
	for (size_t i = 0; i < pts.nr_log && at == UINT32_MAX; i++)
		if (!strcmp(pts.log_recs[i].label, label))
			at = (uint32_t)i;
	cli_points_free(&pts);
	sc.points = false;
	return at;
}

/* Depth 2, depth first: the first execution showing AMD's NMI window is
 * the pair (point 0, the first lvtpc=guest step), since point 0 alone (a
 * host NMI before perf's load) breaks nothing; shrinking drops point 0. */
static void test_shrink_exhaustive(void **state)
{
	struct cli_exh_opts o = depth1;
	struct cli_exh_result r;
	const struct cli_exh_finding *f = NULL;
	uint32_t window = first_point("no-global-ctrl-clear", "zen4", "load/lvtpc=guest");

	(void)state;
	assert_true(window > 0 && window != UINT32_MAX);
	o.depth = 2;
	o.max_executions = 400;	/* the run without injections and point 0's subtree */
	explore(&o, &r);
	assert_true(r.partial);
	for (size_t i = 0; i < r.nr_f; i++)
		if (r.f[i].known && !strcmp(r.f[i].known->name, "amd-nmi-reload-window"))
			f = &r.f[i];
	assert_non_null(f);
	assert_int_equal(f->first_len, 2);
	assert_int_equal(f->first[0], 0);
	assert_int_equal(f->first[1], window);
	assert_int_equal(f->min_len, 1);
	assert_int_equal(f->minimal[0], window);
	assert_string_equal(f->min_labels[0], "switch load/lvtpc=guest");
	assert_int_equal(cli_exhaustive_status(&o, &r), 3);	/* partial */
	cli_exhaustive_free(&r);
}

/* A random campaign's bad seed injects hundreds of NMIs; one, at the
 * LVTPC step after KVM's GLOBAL_CTL=0, is all the violation needs, and
 * the replay of that one injection (the seed's draws kept) is exact. */
static void test_shrink_random(void **state)
{
	json_t *j = NULL;
	char err[256];
	const json_t *inj;
	uint32_t at;

	(void)state;
	load("host-and-guest", "zen4");
	sc.seed = 1;
	sc.inject_ppm = 200000;
	assert_int_equal(cli_shrink_seed(&sc, "mvpmu run", NULL, &j, err, sizeof(err)), 0);
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(j, "injections_before")) > 10);
	inj = json_object_get(j, "injections");
	assert_int_equal(json_array_size(inj), 1);
	assert_string_equal(json_string_value(json_object_get(j, "known")), "amd-nmi-reload-window");
	assert_int_equal(json_integer_value(json_object_get(j, "invariant")), INV_ORDERING);
	at = (uint32_t)json_integer_value(json_array_get(inj, 0));
	sc.inject_at = &at;
	sc.nr_inject_at = 1;
	sc.points = true;
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
	char hash[24];

	snprintf(hash, sizeof(hash), "0x%016llx", (unsigned long long)res.trace_hash);
	assert_string_equal(hash, json_string_value(json_object_get(j, "trace_hash")));
	assert_int_equal(res.injected, 1);
	assert_int_equal(res.violations[0].invariant, INV_ORDERING);
	assert_string_equal(res.violations[0].site, "load/lvtpc=guest");
	json_decref(j);
}

static bool same_result(const struct cli_exh_result *a, const struct cli_exh_result *b)
{
	if (a->executions != b->executions || a->points != b->points || a->nr_f != b->nr_f)
		return false;
	for (size_t i = 0; i < a->nr_f; i++) {
		const struct cli_exh_finding *x = &a->f[i], *y = &b->f[i];

		if (x->known != y->known || x->invariant != y->invariant || strcmp(x->site, y->site) ||
		    x->executions != y->executions || x->first_len != y->first_len ||
		    memcmp(x->first, y->first, sizeof(x->first)) || x->min_len != y->min_len ||
		    (x->min_len && memcmp(x->minimal, y->minimal, x->min_len * sizeof(*x->minimal))) ||
		    x->trace_hash != y->trace_hash)
			return false;
	}
	return true;
}

/* The same points in the same order, and the same result whatever the
 * number of worker processes. */
static void test_deterministic(void **state)
{
	struct cli_points a = { .log = true }, b = { .log = true };
	struct cli_exh_result r1, r2;
	struct cli_exh_opts o = depth1;
	char err[256];

	(void)state;
	load("pmi-exit-masked", "sapphirerapids");
	sc.points = true;
	assert_int_equal(cli_run_scenario_points(&sc, &res, &a, err, sizeof(err)), 0);
	assert_int_equal(cli_run_scenario_points(&sc, &res, &b, err, sizeof(err)), 0);
	assert_true(a.nr_log > 100);
	assert_int_equal(a.nr_log, b.nr_log);
	assert_int_equal(res.points, a.nr_log);
	for (size_t i = 0; i < a.nr_log; i++) {
		assert_int_equal(a.log_recs[i].kind, b.log_recs[i].kind);
		assert_string_equal(a.log_recs[i].label, b.log_recs[i].label);
		assert_int_equal(a.log_recs[i].cycle, b.log_recs[i].cycle);
	}
	cli_points_free(&a);
	cli_points_free(&b);
	load("no-counter-clear", "zen4");
	sc.knobs.no_counter_clear_on_put = true;
	explore(&o, &r1);
	o.jobs = 3;
	explore(&o, &r2);
	assert_true(r1.nr_f >= 2);
	assert_true(same_result(&r1, &r2));
	cli_exhaustive_free(&r2);
	explore(&o, &r2);
	assert_true(same_result(&r1, &r2));
	cli_exhaustive_free(&r1);
	cli_exhaustive_free(&r2);
}

/* A finding's injections replayed give the finding's execution, byte for
 * byte (its trace hash), and that execution differs from the plain run. */
static void test_replay_exact(void **state)
{
	struct cli_exh_result r;
	const struct cli_exh_finding *f = NULL;
	char err[256];
	uint64_t plain;

	(void)state;
	load("lvtpc-outside-switch", "skylake");
	sc.knobs.lvtpc_outside_switch = true;
	explore(&depth1, &r);
	for (size_t i = 0; i < r.nr_f && !f; i++)
		if (r.f[i].min_len == 1 && !r.f[i].known)
			f = &r.f[i];
	assert_non_null(f);	/* a host PMI sent to the guest's vector */
	char label[sizeof(f->min_labels[0])];

	memcpy(label, f->min_labels[0], sizeof(label));
	label[sizeof(label) - 1] = '\0';
	assert_int_equal(strncmp(label, "host-pmi ", 9), 0);
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
	plain = res.trace_hash;
	sc.inject_at = f->minimal;
	sc.nr_inject_at = f->min_len;
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(res.trace_hash, f->trace_hash);
	assert_int_not_equal(res.trace_hash, plain);
	assert_int_equal(res.injected, 1);
	cli_exhaustive_free(&r);
}

/* The guests' PMIs in pmi-exit-masked, derived: each record guest takes
 * 40000 / 20000 = 2; the raw guest's instruction counter (preset 1000)
 * takes one, and its branch counter overflows inside the handler's 4500
 * instructions (200 + 900 branches >= 1000): held by the masked LVTPC on
 * Intel (the handler's status read sees it), a second PMI on AMD. */
static void test_pmi_exit_masked(void **state)
{
	static const struct { const char *cpu; uint64_t pmis; } want[] = {
		{ "skylake", 7 }, { "sapphirerapids", 7 }, { "zen4", 8 },
	};
	struct cli_points pts = { .log = true };
	char err[256];
	size_t in_handler = 0;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		load("pmi-exit-masked", want[i].cpu);
		assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
		assert_int_equal(res.inv_violated, 0);
		assert_int_equal(res.guest_pmis, want[i].pmis);
		for (unsigned c = 0; c < 3; c++)
			assert_int_equal(res.guest[c].samples, 2);
	}
	/* There are VM-exit points inside the guests' PMI handlers. */
	load("pmi-exit-masked", "skylake");
	sc.points = true;
	assert_int_equal(cli_run_scenario_points(&sc, &res, &pts, err, sizeof(err)), 0);
	for (size_t i = 0; i < pts.nr_log; i++)
		in_handler += !strncmp(pts.log_recs[i].label, "vmexit/pmi-handler", 18);
	assert_true(in_handler >= 7);
	cli_points_free(&pts);
}

/* The race: with 7.0's mutex one of the two always loses (EBUSY or
 * EOPNOTSUPP) at every interleaving; without it some interleaving lets
 * both through and the exclusion invariant catches it. */
static void test_race(void **state)
{
	struct cli_race_result r;
	char err[256];

	(void)state;
	assert_int_equal(cli_race_run("zen4", false, &r, err, sizeof(err)), 0);
	assert_int_equal(r.broken, 0);
	assert_true(r.c[0].interleavings > 2);
	assert_int_equal(r.c[0].outcomes[1][1], 0);
	assert_int_equal(r.c[0].outcomes[0][0], 0);
	assert_true(r.c[0].outcomes[1][0] > 0 && r.c[0].outcomes[0][1] > 0);
	assert_int_equal(r.c[1].outcomes[0][1], r.c[1].interleavings);	/* EBUSY always */
	assert_int_equal(r.c[2].outcomes[1][0], r.c[2].interleavings);	/* EOPNOTSUPP always */
	assert_int_equal(cli_race_run("skylake", true, &r, err, sizeof(err)), 0);
	assert_true(r.broken > 0);
	assert_true(r.c[0].outcomes[1][1] > 0);
	assert_int_equal(r.c[0].broken, r.c[0].outcomes[1][1]);
	assert_int_not_equal(cli_race_run("zen3", false, &r, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knob_counterexamples),
		cmocka_unit_test(test_knobs_that_do_not_apply),
		cmocka_unit_test(test_inject_after_load_cost),
		cmocka_unit_test(test_assert_warns),
		cmocka_unit_test(test_real_design_clean),
		cmocka_unit_test(test_known_match_is_precise),
		cmocka_unit_test(test_shrink_exhaustive),
		cmocka_unit_test(test_shrink_random),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_replay_exact),
		cmocka_unit_test(test_pmi_exit_masked),
		cmocka_unit_test(test_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
