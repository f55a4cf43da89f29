/* Host perf's scheduling: counter assignment, multiplexing with scaled
 * estimates, task contexts, privilege and host/guest filters, parsing. */
#include "host_test.h"

static void test_parse(void **state)
{
	struct perf_event_attr a;
	char err[64];

	(void)state;
	assert_int_equal(perf_parse_event("cycles", &a, err, sizeof(err)), 0);
	assert_int_equal(a.type, PERF_TYPE_HARDWARE);
	assert_int_equal(a.config, PERF_COUNT_HW_CPU_CYCLES);
	assert_false(a.exclude_user || a.exclude_kernel || a.exclude_host ||
		     a.exclude_guest);
	assert_int_equal(perf_parse_event("branch-misses:kH", &a, err, sizeof(err)), 0);
	assert_int_equal(a.config, PERF_COUNT_HW_BRANCH_MISSES);
	assert_true(a.exclude_user && !a.exclude_kernel);
	assert_true(a.exclude_guest && !a.exclude_host);
	assert_int_equal(perf_parse_event("r01c4:G", &a, err, sizeof(err)), 0);
	assert_int_equal(a.type, PERF_TYPE_RAW);
	assert_int_equal(a.config, 0x1c4);
	assert_true(a.exclude_host && !a.exclude_guest);
	assert_int_equal(perf_parse_event("ref-cycles:uk", &a, err, sizeof(err)), 0);
	assert_false(a.exclude_user || a.exclude_kernel);
	assert_int_equal(perf_parse_event("instructions:u", &a, err, sizeof(err)), 0);
	assert_true(a.exclude_kernel && !a.exclude_user);
	assert_int_equal(perf_parse_event("cache-misses", &a, err, sizeof(err)), 0);
	assert_int_equal(perf_parse_event("cycles:x", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cycles:x"));
	assert_int_equal(perf_parse_event("cyclez", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(perf_parse_event("rxyz", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(perf_parse_event("r", &a, err, sizeof(err)), -EINVAL);
}

static void test_open_errors(void **state)
{
	struct box *amd = box_new("zen4");
	struct box *intel = box_new("skylake");
	struct perf_event_attr a;
	struct perf_event *ev;

	(void)state;
	assert_int_equal(perf_parse_event("ref-cycles", &a, NULL, 0), 0);
	assert_int_equal(perf_event_open(amd->p, &a, 0, NULL, NULL, NULL, &ev), -ENOENT);
	assert_int_equal(perf_event_open(intel->p, &a, 0, NULL, NULL, NULL, &ev), 0);
	assert_int_equal(perf_event_hw_idx(ev), PERF_IDX_FIXED + 2);
	assert_int_equal(perf_event_open(intel->p, &a, 5, NULL, NULL, NULL, &ev), -EINVAL);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_MAX;
	assert_int_equal(perf_event_open(intel->p, &a, 0, NULL, NULL, NULL, &ev), -EINVAL);
	box_free(amd);
	box_free(intel);
}

/* Six GP-only events on four GP counters: every one runs part of the
 * time, and the scaled estimates match the truth within 1%. */
static void test_multiplexing(void **state)
{
	static const struct {
		const char *spec;
		enum mv_event ev;
	} evs[] = {
		{ "branches", MV_EV_BRANCHES },
		{ "branch-misses", MV_EV_BRANCH_MISSES },
		{ "cache-references", MV_EV_LLC_REFS },
		{ "cache-misses", MV_EV_LLC_MISSES },
		{ "r01c4", MV_EV_COND_BRANCHES },
		{ "r00c4:u", MV_EV_BRANCHES },
	};
	enum { N = sizeof(evs) / sizeof(evs[0]) };
	struct box *b = box_new("skylake");
	struct perf_event *e[N], *ins;

	(void)state;
	for (int i = 0; i < N; i++)
		e[i] = box_open(b, evs[i].spec, 0, NULL, 0);
	{
		/* Pinned: a flexible event behind a failed one waits too
		 * (Linux merge_sched_in), even if its fixed counter is free. */
		struct perf_event_attr a;

		assert_int_equal(perf_parse_event("instructions", &a, NULL, 0), 0);
		a.pinned = true;
		assert_int_equal(perf_event_open(b->p, &a, 0, NULL, NULL, NULL, &ins), 0);
	}
	for (int t = 0; t < 300; t++) {
		box_run(b, 0, 100000, false, "uniform");
		perf_tick(b->p, 0);
	}
	for (int i = 0; i < N; i++) {
		uint64_t en, run, truth, est;

		perf_event_read(e[i], &en, &run);
		truth = sim_truth_get(&b->sim.truth, 0, evs[i].ev, true, true);
		est = perf_event_read_scaled(e[i]);
		assert_true(run > 0);
		assert_true(run < en);
		assert_true(est * 100 >= truth * 99 && est * 100 <= truth * 101);
	}
	/* The fixed counter was never contended. */
	{
		uint64_t en, run;

		assert_int_equal(perf_event_read(ins, &en, &run), 30000000);
		assert_int_equal(en, run);
	}
	box_free(b);
}

/* ref-cycles can only be counted by fixed counter 2 (SDM 18.2.2: no GP
 * encoding of the TSC-rate reference clock; Linux's fixed-only events):
 * two of them share that one counter, never a GP one, so each runs part
 * of the time while GP counters stay free. */
static void test_fixed_only_events_share_their_counter(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event *e[2];
	uint64_t en[2], run[2];

	(void)state;
	for (int i = 0; i < 2; i++)
		e[i] = box_open(b, "ref-cycles", 0, NULL, 0);
	for (int t = 0; t < 100; t++) {
		box_run(b, 0, 100000, false, "uniform");
		perf_tick(b->p, 0);
		/* At most one is on a counter, and it is fixed counter 2. */
		assert_true((perf_event_hw_idx(e[0]) < 0) != (perf_event_hw_idx(e[1]) < 0));
		for (int i = 0; i < 2; i++)
			assert_true(perf_event_hw_idx(e[i]) < 0 ||
				    perf_event_hw_idx(e[i]) == PERF_IDX_FIXED + 2);
	}
	for (int i = 0; i < 2; i++) {
		perf_event_read(e[i], &en[i], &run[i]);
		assert_true(run[i] > 0);
		assert_true(run[i] < en[i]);
	}
	/* Between them they covered the run once, not twice. */
	assert_true(run[0] + run[1] <= en[0]);
	box_free(b);
}

static void test_pinned_first_and_error(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event *flex, *pin[5];
	struct perf_event_attr a;

	(void)state;
	flex = box_open(b, "branches", 0, NULL, 0);
	assert_int_equal(perf_parse_event("branch-misses", &a, NULL, 0), 0);
	a.pinned = true;
	for (int i = 0; i < 5; i++)
		assert_int_equal(perf_event_open(b->p, &a, 0, NULL, NULL, NULL, &pin[i]), 0);
	/* Pinned go first: four fit, the flexible one waits, the fifth
	 * pinned errors out and accrues no time. */
	for (int i = 0; i < 4; i++)
		assert_true(perf_event_hw_idx(pin[i]) >= 0);
	assert_int_equal(perf_event_hw_idx(pin[4]), -1);
	assert_int_equal(perf_event_hw_idx(flex), -1);
	{
		uint64_t en, run, en0, run0;

		/* flex ran while the pinned events were being opened. */
		perf_event_read(flex, &en0, &run0);
		box_run(b, 0, 1000, false, "x");
		perf_event_read(pin[4], &en, &run);
		assert_int_equal(en, 0);
		assert_int_equal(run, 0);
		perf_event_read(flex, &en, &run);
		assert_true(en >= en0 + 500);
		assert_int_equal(run, run0);
	}
	/* A freed counter goes to the flexible event; the errored pinned
	 * one stays out until enabled again. */
	perf_event_close(pin[0]);
	assert_true(perf_event_hw_idx(flex) >= 0);
	assert_int_equal(perf_event_hw_idx(pin[4]), -1);
	perf_event_disable(flex);
	perf_event_enable(pin[4]);
	assert_true(perf_event_hw_idx(pin[4]) >= 0);
	box_free(b);
}

static void test_task_events(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_task a = { 1, "vcpu" }, o = { 2, "other" };
	struct perf_event *ev = box_open(b, "instructions", -1, &a, 0);
	uint64_t en, run, t;

	(void)state;
	assert_int_equal(perf_event_hw_idx(ev), -1);
	perf_task_switch(b->p, 0, NULL, &a);
	t = b->sim.cycle;
	box_run(b, 0, 1000, false, "a");
	perf_task_switch(b->p, 0, &a, &o);
	t = b->sim.cycle - t;
	assert_int_equal(perf_event_hw_idx(ev), -1);
	box_run(b, 0, 5000, false, "o");
	perf_task_switch(b->p, 1, NULL, &a);	/* migrates to CPU 1 */
	box_run(b, 1, 3000, false, "a");
	box_run(b, 0, 5000, false, "o");
	assert_int_equal(perf_event_read(ev, &en, &run), 4000);
	/* One clock for all CPUs: CPU 0's work after the migration counts
	 * as enabled time of the event now on CPU 1. */
	assert_true(en >= t + 1500 + 2500 && en < t + 4000 + 1000);
	assert_int_equal(en, run);
	box_free(b);
}

static void test_privilege_filters(void **state)
{
	struct box *b = box_new("icelake");
	struct perf_event *u = box_open(b, "instructions:u", 0, NULL, 0);
	struct perf_event *k = box_open(b, "branches:k", 0, NULL, 0);

	(void)state;
	box_run(b, 0, 1000, false, "u");
	box_run(b, 0, 5000, true, "k");
	assert_int_equal(perf_event_read(u, NULL, NULL), 1000);
	assert_int_equal(perf_event_read(k, NULL, NULL), 1000);
	box_free(b);
}

static void test_intel_guest_switch_msrs(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event *g = box_open(b, "branches:G", 0, NULL, 0);
	struct perf_event *h = box_open(b, "branch-misses:H", 0, NULL, 0);
	struct perf_event *both = box_open(b, "cache-misses", 0, NULL, 0);
	struct perf_guest_switch_msr m[4];
	uint64_t gb = X86_BIT(perf_event_hw_idx(g));
	uint64_t hb = X86_BIT(perf_event_hw_idx(h));
	uint64_t bb = X86_BIT(perf_event_hw_idx(both));

	(void)state;
	/* intel_guest_get_msrs: every counter bit but the exclude_host
	 * events' (host) or the exclude_guest events' (guest). */
	uint64_t all = X86_MASK(4) | (X86_MASK(3) << 32);

	assert_int_equal(perf_guest_get_msrs(b->p, 0, m, 4), 1);
	assert_int_equal(m[0].msr, MSR_IA32_PERF_GLOBAL_CTRL);
	assert_int_equal(m[0].host, all & ~gb);
	assert_int_equal(m[0].guest, all & ~hb);
	assert_true(m[0].host & hb && m[0].host & bb && m[0].guest & gb && m[0].guest & bb);
	/* The host runs with the host value. */
	assert_int_equal(b->cpu[0].pmu.global_ctrl, all & ~gb);
	box_run(b, 0, 1000, false, "host");
	assert_int_equal(perf_event_read(g, NULL, NULL), 0);
	assert_int_equal(perf_event_read(h, NULL, NULL),
			 sim_truth_get(&b->sim.truth, 0, MV_EV_BRANCH_MISSES, true, true));
	assert_true(perf_event_read(h, NULL, NULL) > 0);
	box_free(b);
}

/* A guest-sized PMU reached through ops, as a guest kernel sees it:
 * Intel v1, two GP counters, no fixed or global MSRs (they #GP). */
struct fake {
	uint64_t sel[2], ctr[2];
	unsigned faults, global_writes;
};

static int fake_wrmsr(void *hw, uint32_t msr, uint64_t val)
{
	struct fake *f = hw;

	if (msr >= MSR_IA32_PERFEVTSEL0 && msr < MSR_IA32_PERFEVTSEL0 + 2) {
		f->sel[msr - MSR_IA32_PERFEVTSEL0] = val;
		return X86_OK;
	}
	if (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + 2) {
		f->ctr[msr - MSR_IA32_PMC0] = (uint64_t)(int64_t)(int32_t)val &
			X86_MASK(40);
		return X86_OK;
	}
	if (msr == MSR_X2APIC_LVTPC)
		return X86_OK;
	if (msr == MSR_IA32_PERF_GLOBAL_CTRL)
		f->global_writes++;
	f->faults++;
	return X86_GP;
}

static int fake_rdmsr(void *hw, uint32_t msr, uint64_t *val)
{
	struct fake *f = hw;

	*val = 0;
	if (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + 2) {
		*val = f->ctr[msr - MSR_IA32_PMC0];
		return X86_OK;
	}
	f->faults++;
	return X86_GP;
}

static void fake_cpuid(void *hw, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)hw;
	(void)sub;
	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf == 0) {
		r[0] = 0xA;
		memcpy(&r[1], "Genu", 4);
		memcpy(&r[3], "ineI", 4);
		memcpy(&r[2], "ntel", 4);
	} else if (leaf == 1) {
		r[2] = (uint32_t)CPUID_1_ECX_PDCM;	/* but the MSR #GPs */
	} else if (leaf == 0xA) {
		r[0] = 1 | 2 << 8 | 40 << 16 | 7 << 24;
	}
}

static const struct perf_hw_ops fake_ops = {
	.wrmsr = fake_wrmsr,
	.rdmsr = fake_rdmsr,
	.cpuid = fake_cpuid,
};

static void test_small_guest_pmu(void **state)
{
	struct sim sim;
	struct fake f = { 0 };
	void *hw[1] = { &f };
	struct perf *p;
	struct perf_event *ev[3];
	struct perf_event_attr a;
	struct perf_guest_switch_msr m[1];

	(void)state;
	sim_init(&sim, 1, false);
	p = perf_new(&sim, 1, 1, &fake_ops, hw);
	assert_non_null(p);
	assert_int_equal(perf_nr_gp(p), 2);
	assert_int_equal(perf_nr_fixed(p), 0);
	/* Linux 7.0's Intel core PMU offers the mediated vPMU whatever the
	 * version; KVM is the one that requires v4 and full-width writes. */
	assert_true(perf_mediated_capable(p));
	assert_int_equal(perf_nr_msr_faults(p), 1);	/* PERF_CAPABILITIES */
	assert_int_equal(perf_parse_event("ref-cycles", &a, NULL, 0), 0);
	assert_int_equal(perf_event_open(p, &a, 0, NULL, NULL, NULL, &ev[0]), -ENOENT);
	assert_int_equal(perf_parse_event("instructions", &a, NULL, 0), 0);
	a.sample_period = 1ULL << 40;
	assert_int_equal(perf_event_open(p, &a, 0, NULL, NULL, NULL, &ev[0]), 0);
	/* Instructions go on a GP counter, enabled by EN alone, and the
	 * period is capped so the legacy write sign-extends correctly. */
	assert_int_equal(perf_event_hw_idx(ev[0]), 0);
	assert_true(f.sel[0] & EVTSEL_EN);
	assert_true(f.sel[0] & EVTSEL_INT);
	assert_int_equal(f.ctr[0], X86_MASK(40) - ((1ULL << 31) - 1) + 1);
	a.sample_period = 0;
	assert_int_equal(perf_event_open(p, &a, 0, NULL, NULL, NULL, &ev[1]), 0);
	assert_int_equal(perf_event_open(p, &a, 0, NULL, NULL, NULL, &ev[2]), 0);
	assert_int_equal(perf_event_hw_idx(ev[2]), -1);
	f.ctr[1] += 500;
	assert_int_equal(perf_event_read(ev[1], NULL, NULL), 500);
	perf_tick(p, 0);
	assert_true(perf_event_hw_idx(ev[2]) >= 0);
	assert_int_equal(perf_event_read(ev[1], NULL, NULL), 500);
	assert_int_equal(perf_guest_get_msrs(p, 0, m, 1), 0);
	assert_false(perf_pmi(p, 0));
	assert_int_equal(f.global_writes, 0);
	assert_int_equal(perf_nr_bugs(p), 0);
	perf_free(p);
	sim_free(&sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_multiplexing),
		cmocka_unit_test(test_fixed_only_events_share_their_counter),
		cmocka_unit_test(test_pinned_first_and_error),
		cmocka_unit_test(test_task_events),
		cmocka_unit_test(test_privilege_filters),
		cmocka_unit_test(test_intel_guest_switch_msrs),
		cmocka_unit_test(test_small_guest_pmu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
