/* test_checks_fire (issue 15): every invariant check of the model is shown
 * to fire on the real model, driven there by a design knob, a fault
 * injection or a test-only variant (mvpmu/test_hooks.h), with the right
 * invariant, site, message, step and seed; and the same run without the
 * knob or variant keeps that check quiet.  The step is derived from the
 * run's own kept trace: the violation is the first TR_INVARIANT record of
 * its invariant after an anchor the row names (the run's start, the first
 * record of a switch step or of an injection, the end of the run), or the
 * one just before the first record of a kind it precedes (a guest PMI's
 * injection), and the step is that record's position + 1 (sim_check
 * records it before keeping the report).
 * docs/invariants.md lists which row makes which check fire. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_builtin.h"
#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "cli/cli_text.h"
#include "host/perf_internal.h"
#include "../kvm/kvm_test.h"

static struct mv_scenario sc;
static struct mv_result res;
static char err[CLI_ERR_MAX];

/* Where the violation is looked for in the kept trace. */
enum anchor {
	AT_START,		/* the first record of the run */
	AT_RECORD,		/* the first record of `kind` with `what` */
	AT_END,			/* after the last TR_SCHED: the end-of-run checks */
};

struct row {
	const char *name;
	const char *scenario, *cpu;
	const char *yaml;		/* instead of a built-in */
	bool set_vpmu;			/* else the scenario's */
	enum mv_vpmu vpmu;
	struct mv_knobs knobs;
	struct mv_test_hooks test;
	bool huge;			/* lift the budget (2^50-instruction blocks) */
	const char *inject_label;	/* inject at the first point with this label */
	/* What must fire. */
	int inv;
	const char *site, *msg;
	enum anchor anchor;
	enum sim_trace_kind anchor_kind;
	const char *anchor_what;
	bool has_next;			/* the record after the violation's is a `next_kind` */
	enum sim_trace_kind next_kind;
	bool before_next;		/* the violation is the record just before the
					 * first `next_kind` record after the anchor */
};

/* A raw-counter program over a 2^50-instruction block: its 48-bit
 * counters are compared with the truth modulo their width. */
static const char huge_raw[] =
	"cpu: skylake\nvpmu: mediated\nvms:\n  - programs:\n      - kind: emulated\n"
	"        events: [instructions]\n        preset: 5\n"
	"        work: {chunk: 0x4000000000000, segments: "
	"[{label: a, instructions: 0x4000000000001}]}\n";

/* A host perf stat that counts guests too (no :H), beside a mediated VM:
 * perf refuses the VM (EBUSY, Linux 7.0) unless it forgets the event. */
static const char guest_including_host[] =
	"cpu: sapphirerapids\nvpmu: mediated\nhost:\n  events: [instructions]\n"
	"  system_wide: true\nvms:\n  - programs:\n      - kind: stat\n"
	"        events: [instructions]\n"
	"        work: {passes: 2, segments: [{label: a, instructions: 200000}]}\n";

static const struct row rows[] = {
	/* 1: isolation */
	{ .name = "host-quiet", .scenario = "no-guestonly", .cpu = "zen4",
	  .knobs = { .no_guestonly = true },
	  .inv = INV_ISOLATION, .site = "load/vendor status+enables",
	  .msg = "counts host work with vm0/vcpu0's state loaded", .anchor = AT_START },
	{ .name = "guest counter counts host work", .scenario = "no-guestonly", .cpu = "zen4",
	  .knobs = { .no_guestonly = true }, .test = { .exit_host_work = 5000 },
	  .inv = INV_ISOLATION, .site = "", .msg = "more than the guest's", .anchor = AT_END },
	{ .name = "host exclude_guest event counts guest work", .scenario = "host-and-guest",
	  .cpu = "skylake", .set_vpmu = true, .vpmu = MV_VPMU_EMULATED, .test = { .vmx_no_perf_global_switch = true },
	  .inv = INV_ISOLATION, .site = "", .msg = "host events", .anchor = AT_END },
	/* 2: conservation */
	{ .name = "count != truth", .scenario = "no-fastpath-bail", .cpu = "skylake",
	  .knobs = { .no_fastpath_bail = true },
	  .inv = INV_CONSERVATION, .site = "", .msg = "instructions counted", .anchor = AT_END },
	{ .name = "count != truth modulo the width", .yaml = huge_raw, .huge = true,
	  .knobs = { .no_fastpath_bail = true },
	  .inv = INV_CONSERVATION, .site = "", .msg = "modulo 2^48", .anchor = AT_END },
	/* 3: PMIs */
	{ .name = "mask at VM-entry", .scenario = "no-mask-copy", .cpu = "skylake",
	  .knobs = { .no_mask_copy = true },
	  .inv = INV_PMI, .site = "entry", .msg = "VM-entry of vm0/vcpu0 with LVTPC",
	  .anchor = AT_START, .has_next = true, .next_kind = TR_VMENTRY },
	{ .name = "host PMIs reach perf", .scenario = "lvtpc-outside-switch", .cpu = "skylake",
	  .knobs = { .lvtpc_outside_switch = true },
	  .inv = INV_PMI, .site = "load/lvtpc=guest", .msg = "host PMIs would not reach perf",
	  .anchor = AT_START },
	{ .name = "no spurious guest PMI", .scenario = "lvtpc-outside-switch", .cpu = "skylake",
	  .knobs = { .lvtpc_outside_switch = true },
	  .inject_label = "host-pmi/before perf_load_guest_context",
	  .inv = INV_PMI, .site = "", .msg = "with no overflow pending",
	  .anchor = AT_RECORD, .anchor_kind = TR_OVERFLOW, .anchor_what = "injected host overflow",
	  .has_next = true, .next_kind = TR_INJECT, .before_next = true },
	{ .name = "no lost PMI", .scenario = "record-labels", .cpu = "skylake",
	  .test = { .drop_guest_pmi_every = 2 },
	  .inv = INV_PMI, .site = "", .msg = "samples for", .anchor = AT_END },
	{ .name = "rr exact", .scenario = "rr-ticks", .cpu = "sapphirerapids",
	  .test = { .unreported_skid = 30 },
	  .inv = INV_PMI, .site = "", .msg = "tick interrupts were not exact", .anchor = AT_END },
	/* 4: ordering, through perf's LVTPC switch and KVM's own writes */
	{ .name = "ordering, perf's LVTPC write", .scenario = "no-global-ctrl-clear", .cpu = "zen4",
	  .knobs = { .no_global_ctrl_clear_on_load = true },
	  .inv = INV_ORDERING, .site = "load/lvtpc=guest",
	  .msg = "msr 0x834 written during the PMU switch", .anchor = AT_START,
	  .has_next = true, .next_kind = TR_WRMSR },
	{ .name = "ordering, KVM's counter writes", .scenario = "no-global-ctrl-clear", .cpu = "zen4",
	  .knobs = { .no_global_ctrl_clear_on_load = true },
	  .inv = INV_ORDERING, .site = "load/counters+selectors",
	  .msg = "written during the PMU switch", .anchor = AT_RECORD, .anchor_kind = TR_PMU_LOAD,
	  .anchor_what = "counters+selectors", .has_next = true, .next_kind = TR_WRMSR },
	/* 5: no leak */
	{ .name = "no leak", .scenario = "no-counter-clear", .cpu = "skylake",
	  .knobs = { .no_counter_clear_on_put = true },
	  .inv = INV_NO_LEAK, .site = "put/counters+selectors", .msg = "guest state left in the PMU",
	  .anchor = AT_START },
	/* 6: exclusion, at the end of the run */
	{ .name = "exclusion", .yaml = guest_including_host,
	  .test = { .perf_no_guest_accounting = true },
	  .inv = INV_EXCLUSION, .site = "", .msg = "counts guests while a mediated VM exists",
	  .anchor = AT_END },
	/* 7: time */
	{ .name = "time", .scenario = "host-and-guest", .cpu = "skylake",
	  .test = { .perf_time_in_guest = true },
	  .inv = INV_TIME, .site = "", .msg = "of them in the guest", .anchor = AT_END },
	/* 8: filter, on both vendors */
	{ .name = "filter (Intel)", .scenario = "filter-deny", .cpu = "skylake",
	  .test = { .mediated_filter_keeps_en = true },
	  .inv = INV_FILTER, .site = "", .msg = "is denied by the filter but counted",
	  .anchor = AT_END },
	{ .name = "filter (AMD)", .scenario = "filter-deny", .cpu = "zen4",
	  .test = { .mediated_filter_keeps_en = true },
	  .inv = INV_FILTER, .site = "", .msg = "is denied by the filter but counted",
	  .anchor = AT_END },
};

static void load(const struct row *r, bool with_breakage)
{
	if (r->yaml) {
		if (cli_scenario_parse("t.yaml", r->yaml, strlen(r->yaml), &sc, err, sizeof(err)))
			fail_msg("%s: %s", r->name, err);
	} else {
		assert_int_equal(cli_scenario_lookup(r->scenario, &sc, err, sizeof(err)), 0);
	}
	if (r->cpu)
		snprintf(sc.cpu, sizeof(sc.cpu), "%s", r->cpu);
	if (r->set_vpmu) {
		sc.vpmu = r->vpmu;
		for (unsigned i = 0; i < sc.nr_vms; i++) {
			sc.vm[i].vpmu = sc.vpmu;
			sc.vm[i].vpmu_set = true;
		}
	}
	if (r->huge)
		sc.budget.max_cycles = sc.budget.max_insns = UINT64_MAX;
	if (with_breakage) {
		sc.knobs = r->knobs;
		sc.test = r->test;
	}
}

/* The number of the first injection point labelled `label` after the
 * guest first wrote its LVTPC (its perf unmasks it at start: before that
 * a PMI would find it masked), in the run without injections (the
 * numbering is that run's up to the first injection, docs/explore.md). */
static uint32_t first_point(const char *label)
{
	struct cli_points pts = { .log = true };
	struct sim_trace_rec *rec = NULL;
	uint64_t after = UINT64_MAX;
	uint32_t n = UINT32_MAX;
	size_t nr = 0;

	sc.keep_trace = true;
	assert_int_equal(cli_run_scenario(&sc, &res, &rec, &nr, err, sizeof(err)), 0);
	sc.keep_trace = false;
	for (size_t i = 0; i < nr && after == UINT64_MAX; i++)
		if (rec[i].kind == TR_VMEXIT && rec[i].a == VMX_EXIT_MSR_WRITE &&
		    rec[i].b == MSR_X2APIC_LVTPC)
			after = rec[i].cycle;
	free(rec);
	sc.points = true;
	assert_int_equal(cli_run_scenario_points(&sc, &res, &pts, err, sizeof(err)), 0);
	sc.points = false;
	for (size_t i = 0; i < pts.nr_log && n == UINT32_MAX; i++)
		if (pts.log_recs[i].cycle > after && !strcmp(pts.log_recs[i].label, label))
			n = (uint32_t)i;
	cli_points_free(&pts);
	if (n == UINT32_MAX)
		fail_msg("no point %s after the guest's LVTPC write", label);
	return n;
}

static const struct mv_violation_sig *find_sig(const struct row *r)
{
	for (unsigned i = 0; i < res.nr_sigs; i++) {
		const struct mv_violation_sig *s = &res.sigs[i];

		if (s->invariant == r->inv && !strcmp(s->site, r->site) && strstr(s->msg, r->msg))
			return s;
	}
	return NULL;
}

/* The step the row's violation must have: after the anchor, the first
 * record of the invariant, + 1. */
static uint64_t derived_step(const struct row *r, const struct sim_trace_rec *rec, size_t n)
{
	size_t from = 0;

	if (r->anchor == AT_END) {
		for (size_t i = 0; i < n; i++)
			if (rec[i].kind == TR_SCHED)
				from = i + 1;
	} else if (r->anchor == AT_RECORD) {
		from = n;
		for (size_t i = 0; i < n && from == n; i++)
			if (rec[i].kind == r->anchor_kind && !strcmp(rec[i].what, r->anchor_what))
				from = i;
		if (from == n)
			fail_msg("%s: no %s record '%s'", r->name,
				 sim_trace_kind_name(r->anchor_kind), r->anchor_what);
	}
	if (r->before_next) {
		for (size_t i = from + 1; i < n; i++)
			if (rec[i].kind == (uint32_t)r->next_kind) {
				if (rec[i - 1].kind != TR_INVARIANT || rec[i - 1].a != (uint32_t)r->inv)
					fail_msg("%s: the first %s after the anchor follows no violation",
						 r->name, sim_trace_kind_name(rec[i].kind));
				return i;
			}
		fail_msg("%s: no %s record after the anchor", r->name,
			 sim_trace_kind_name((enum sim_trace_kind)r->next_kind));
	}
	for (size_t i = from; i < n; i++)
		if (rec[i].kind == TR_INVARIANT && rec[i].a == (uint32_t)r->inv) {
			if (r->has_next && (i + 1 >= n || rec[i + 1].kind != (uint32_t)r->next_kind))
				fail_msg("%s: the violation at %zu is not followed by a %s record",
					 r->name, i, sim_trace_kind_name((enum sim_trace_kind)r->next_kind));
			return i + 1;
		}
	fail_msg("%s: no invariant %d record in the trace", r->name, r->inv);
	return 0;
}

static void run_row(const struct row *r, uint64_t seed)
{
	struct sim_trace_rec *rec = NULL;
	const struct mv_violation_sig *s;
	uint32_t at = 0;
	size_t n = 0;
	bool found = false;

	/* Without the knob or variant the check stays quiet. */
	load(r, false);
	sc.seed = seed;
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
	if (find_sig(r))
		fail_msg("%s: the check fires without the breakage", r->name);

	load(r, true);
	sc.seed = seed;
	if (r->inject_label) {
		at = first_point(r->inject_label);
		sc.inject_at = &at;
		sc.nr_inject_at = 1;
	}
	sc.keep_trace = true;
	if (cli_run_scenario(&sc, &res, &rec, &n, err, sizeof(err)))
		fail_msg("%s: %s", r->name, err);
	s = find_sig(r);
	if (!s) {
		for (unsigned i = 0; i < res.nr_sigs; i++)
			print_message("  got %s at '%s': %s\n", res.sigs[i].name, res.sigs[i].site,
				      res.sigs[i].msg);
		fail_msg("%s: invariant %d at '%s' (%s) did not fire", r->name, r->inv, r->site,
			 r->msg);
	}
	if (getenv("FIRE_VERBOSE"))
		print_message("%s: step %llu: %s\n", r->name, (unsigned long long)s->step, s->msg);
	assert_string_equal(s->name, sim_invariant_name((enum sim_invariant)r->inv));
	assert_true(res.inv_violated > 0);
	if (s->step != derived_step(r, rec, n))
		fail_msg("%s: step %llu, the trace says %llu", r->name, (unsigned long long)s->step,
			 (unsigned long long)derived_step(r, rec, n));
	/* Every report carries the run's seed; the row's own is among them
	 * (the first of each kind is kept before the others). */
	assert_true(res.nr_violations > 0);
	for (unsigned i = 0; i < res.nr_violations; i++) {
		const struct mv_violation_result *v = &res.violations[i];

		assert_true(v->seed == seed);
		if (v->invariant == r->inv && v->step == s->step && !strcmp(v->site, r->site)) {
			found = true;
			assert_non_null(strstr(v->msg, r->msg));
			assert_true(strlen(v->trace) > 0);
		}
	}
	/* The first violation of each kind is reported before the others,
	 * four in all: with more kinds this one may not be among them. */
	if (!found && res.nr_sigs <= 4)
		fail_msg("%s: the violation's report was not kept", r->name);
	free(rec);
	sc.inject_at = NULL;
	sc.nr_inject_at = 0;
}

static void test_every_check_fires(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i], 1000 + 7 * i);
}

/* ---- checks outside a scenario run ---- */

/* Invariant 3: vector 0xF5 is the mediated PMI's; KVM's callback finds
 * no mediated vCPU loaded when a PMI arrives there with the LVTPC left on
 * the guest's vector (injected fault: a stale LVTPC after the vCPU ran). */
static void test_mediated_vector_without_vcpu(void **state)
{
	struct kt t;
	size_t k;

	(void)state;
	kt_machine(&t, "sapphirerapids", true, MV_VPMU_MEDIATED);
	{
		struct mv_vm_config cfg = kt_vm_config();

		kt_vm(&t, &cfg);
	}
	assert_int_equal(t.sim.inv_violated, 0);
	/* No vCPU is running: raise a PMI with the LVTPC on 0xF5. */
	hw_wrmsr(&t.cpu[0], MSR_X2APIC_LVTPC, PERF_GUEST_MEDIATED_PMI_VECTOR);
	assert_int_equal(t.sim.inv_violated, 0);
	hw_apic_pmi(&t.cpu[0]);
	assert_int_equal(t.sim.inv_violated, 1);
	assert_int_equal(t.sim.violations[0].inv, INV_PMI);
	assert_int_equal(t.sim.violations[0].seed, t.sim.seed);
	assert_non_null(strstr(t.sim.violations[0].msg, "with no mediated vCPU loaded"));
	for (k = 0; k < t.sim.trace.nr_all; k++)
		if (t.sim.trace.all[k].kind == TR_INVARIANT)
			break;
	assert_true(k < t.sim.trace.nr_all);
	assert_int_equal(t.sim.trace.all[k].a, INV_PMI);
	assert_int_equal(t.sim.violations[0].step, k + 1);
	/* What led to it: the PMI through the LVTPC on 0xF5, then the host's
	 * IRQ dispatch of that vector. */
	{
		size_t pmi = k, irq = k;

		while (pmi > 0 && t.sim.trace.all[pmi].kind != TR_PMI)
			pmi--;
		while (irq > pmi && t.sim.trace.all[irq].kind != TR_IRQ)
			irq--;
		assert_int_equal(t.sim.trace.all[pmi].kind, TR_PMI);
		assert_int_equal(t.sim.trace.all[pmi].a, PERF_GUEST_MEDIATED_PMI_VECTOR);
		assert_true(irq > pmi);
		assert_int_equal(t.sim.trace.all[irq].a, PERF_GUEST_MEDIATED_PMI_VECTOR);
	}
	kt_teardown(&t);
}

/* Invariant 6 where perf decides it: the test-only unlocked accounting
 * lets a guest-including event in between perf_create_mediated_pmu's
 * check and its increment (another CPU's perf_event_open, run from the
 * race hook); the increment's check fires. */
struct racer {
	struct perf *p;
	struct perf_event *ev;
	int rc;
};

static void open_between(void *arg, const char *where, bool wants_lock)
{
	struct racer *r = arg;
	struct perf_event_attr a;

	(void)wants_lock;
	if (strcmp(where, "create: no guest-including event") || r->ev)
		return;
	assert_int_equal(perf_parse_event("cycles", &a, NULL, 0), 0);
	r->rc = perf_event_open(r->p, &a, 1, NULL, NULL, NULL, &r->ev);
}

static void test_exclusion_per_increment(void **state)
{
	struct sim sim;
	struct hw_cpu cpu[2];
	struct hw_cpu *cpus[2] = { &cpu[0], &cpu[1] };
	struct racer r = { 0 };
	size_t k;

	(void)state;
	sim_init(&sim, 77, true);
	for (int i = 0; i < 2; i++)
		hw_cpu_init(&cpu[i], i, &sim, hw_model_find("zen4"));
	r.p = host_perf_new(&sim, cpus, 2);
	assert_non_null(r.p);
	perf_set_race_hooks(r.p, open_between, &r, true);
	assert_int_equal(perf_create_mediated_pmu(r.p), 0);
	assert_int_equal(r.rc, 0);
	assert_non_null(r.ev);
	assert_int_equal(sim.inv_violated, 1);
	assert_int_equal(sim.violations[0].inv, INV_EXCLUSION);
	assert_int_equal(sim.violations[0].seed, 77);
	assert_non_null(strstr(sim.violations[0].msg, "1 mediated VM(s) and 1 guest-including"));
	for (k = 0; k < sim.trace.nr_all; k++)
		if (sim.trace.all[k].kind == TR_INVARIANT)
			break;
	assert_true(k < sim.trace.nr_all);
	assert_int_equal(sim.trace.all[k].a, INV_EXCLUSION);
	assert_int_equal(sim.violations[0].step, k + 1);
	/* The event was opened (and checked, clean) before the increment. */
	assert_true(sim.inv_checked_by[INV_EXCLUSION] >= 2);
	perf_event_close(r.ev);
	perf_free(r.p);
	sim_free(&sim);
}

/* Host work in KVM's exits (the test-only exit_host_work: KVM's handler
 * work runs as host kernel instructions on the vCPU's CPU) never reaches a
 * guest counter in the real design: the legacy vPMU's events are
 * exclude_host, the mediated vPMU's guest state counts nothing in host
 * mode (VMX loads GLOBAL_CTRL 0 at exit, SVM selectors are GuestOnly).
 * So every guest count stays exact, no invariant breaks, and a host
 * exclude_guest event on the CPU counts that work as host work (under the
 * legacy vPMU, where host events stay scheduled). */
static void test_host_work_in_exits_counts_nowhere(void **state)
{
	static const struct { const char *cpu; enum mv_vpmu vpmu; } on[] = {
		{ "skylake", MV_VPMU_EMULATED }, { "zen4", MV_VPMU_EMULATED },
		{ "zen3", MV_VPMU_EMULATED }, { "skylake", MV_VPMU_MEDIATED },
		{ "sapphirerapids", MV_VPMU_MEDIATED }, { "zen4", MV_VPMU_MEDIATED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		uint64_t exits;

		assert_int_equal(cli_scenario_lookup("host-and-guest", &sc, err, sizeof(err)), 0);
		snprintf(sc.cpu, sizeof(sc.cpu), "%s", on[i].cpu);
		sc.vpmu = on[i].vpmu;
		for (unsigned v = 0; v < sc.nr_vms; v++) {
			sc.vm[v].vpmu = sc.vpmu;
			sc.vm[v].vpmu_set = true;
		}
		assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
		exits = res.exits_total;
		sc.test.exit_host_work = 5000;
		assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
		if (res.inv_violated)
			fail_msg("%s vpmu %d: %s", on[i].cpu, on[i].vpmu, res.violations[0].msg);
		assert_true(res.exits_total >= exits);
		for (unsigned c = 0; c < res.nr_guest; c++)
			if (res.guest[c].value != res.guest[c].truth || !res.guest[c].truth)
				fail_msg("%s vpmu %d: guest %s %llu, truth %llu", on[i].cpu, on[i].vpmu,
					 res.guest[c].event, (unsigned long long)res.guest[c].value,
					 (unsigned long long)res.guest[c].truth);
		for (unsigned c = 0; c < res.nr_host && on[i].vpmu == MV_VPMU_EMULATED; c++) {
			if (!strstr(res.host[c].event, "instructions"))
				continue;
			/* The host's own 8M instructions and 5000 per exit. */
			assert_int_equal(res.host[c].truth, 8000000 + 5000 * res.exits_total);
			assert_int_equal(res.host[c].value, res.host[c].truth);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_check_fires),
		cmocka_unit_test(test_mediated_vector_without_vcpu),
		cmocka_unit_test(test_exclusion_per_increment),
		cmocka_unit_test(test_host_work_in_exits_counts_nowhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
