/* Host perf's PMI handlers on the simulated hardware: Intel ack points,
 * AMD v2 and legacy handlers, reload-virt, exact sample counts. */
#include "host_test.h"

#define LOG_MAX 64
/* Every counter bit of skylake's GLOBAL_CTRL: GP 0-3, fixed 0-2. */
#define SKL_ALL_COUNTERS (X86_MASK(4) | (X86_MASK(3) << 32))

struct wlog {
	uint32_t msr[LOG_MAX];
	uint64_t val[LOG_MAX];
	bool masked[LOG_MAX];	/* LVTPC mask bit when the write happened */
	unsigned n;
};

static void log_write(struct hw_cpu *cpu, uint32_t msr, uint64_t val, void *opaque)
{
	struct wlog *l = opaque;

	if (msr != MSR_X2APIC_LVTPC && msr != MSR_IA32_PERF_GLOBAL_CTRL)
		return;
	if (l->n == LOG_MAX)
		return;
	l->msr[l->n] = msr;
	l->val[l->n] = val;
	l->masked[l->n] = (cpu->apic.lvtpc & APIC_LVT_MASKED) != 0;
	l->n++;
}

/* One PMI on skylake with the given ack point; returns the write log. */
static void pmi_with_ack(enum perf_ack ack, struct wlog *l)
{
	struct box *b = box_new("skylake");
	struct perf_event *ev = box_open(b, "instructions", 0, NULL, 10000);
	const struct perf_sample *s;

	perf_x86_set_ack(b->p, ack);
	memset(l, 0, sizeof(*l));
	b->cpu[0].hooks.on_pmu_write = log_write;
	b->cpu[0].hooks.write_opaque = l;
	box_run(b, 0, 15000, false, "loop");
	b->cpu[0].hooks.on_pmu_write = NULL;
	assert_int_equal(perf_event_samples(ev, &s), 1);
	assert_string_equal(s[0].label, "loop");
	assert_false(s[0].kernel);
	/* Whatever the ack point, the handler leaves LVTPC unmasked. */
	assert_int_equal(b->cpu[0].apic.lvtpc, APIC_DM_NMI);
	/* Re-enabled as __intel_pmu_enable_all does: every counter bit
	 * (skylake: 4 GP, 3 fixed), not only the active event's. */
	assert_int_equal(b->cpu[0].pmu.global_ctrl, SKL_ALL_COUNTERS);
	box_free(b);
}

static void test_intel_early_ack(void **state)
{
	struct wlog l;

	(void)state;
	pmi_with_ack(PERF_ACK_EARLY, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.msr[0], MSR_X2APIC_LVTPC);
	assert_true(l.masked[0]);		/* set by delivery */
	assert_int_equal(l.msr[1], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_int_equal(l.val[1], 0);
	assert_false(l.masked[1]);
	assert_int_equal(l.msr[2], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_int_equal(l.val[2], SKL_ALL_COUNTERS);
	assert_false(l.masked[2]);
}

static void test_intel_mid_ack(void **state)
{
	struct wlog l;

	(void)state;
	pmi_with_ack(PERF_ACK_MID, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.msr[0], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_int_equal(l.val[0], 0);
	assert_true(l.masked[0]);
	assert_int_equal(l.msr[1], MSR_X2APIC_LVTPC);
	assert_true(l.masked[1]);
	assert_int_equal(l.msr[2], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_int_equal(l.val[2], SKL_ALL_COUNTERS);
	assert_false(l.masked[2]);		/* unmasked right before */
}

static void test_intel_late_ack(void **state)
{
	struct wlog l;

	(void)state;
	pmi_with_ack(PERF_ACK_LATE, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.msr[0], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_true(l.masked[0]);
	assert_int_equal(l.msr[1], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_int_equal(l.val[1], SKL_ALL_COUNTERS);
	assert_true(l.masked[1]);		/* still masked at re-enable */
	assert_int_equal(l.msr[2], MSR_X2APIC_LVTPC);
	assert_int_equal(l.val[2], APIC_DM_NMI);
}

static void test_ack_from_model(void **state)
{
	struct box *b = box_new("sapphirerapids");

	(void)state;
	assert_int_equal(b->p->ack, PERF_ACK_LATE);
	assert_int_equal(perf_x86_ack_for_model("alderlake_atom"), PERF_ACK_MID);
	assert_int_equal(perf_x86_ack_for_model("core2"), PERF_ACK_EARLY);
	box_free(b);
}

static void test_amd_reload_sets_every_bit(void **state)
{
	struct box *b = box_new("zen4");
	struct perf_event *ev = box_open(b, "instructions:H", 0, NULL, 0);
	int idx = perf_event_hw_idx(ev);

	(void)state;
	assert_int_equal(perf_nr_gp(b->p), 6);
	assert_int_equal(perf_nr_fixed(b->p), 0);
	/* Before SVM is on, HostOnly is stripped (it would count nothing). */
	assert_int_equal(b->cpu[0].pmu.gp_sel[idx] & AMD_EVTSEL_HOSTONLY, 0);
	b->cpu[0].pmu.global_ctrl = 0;
	perf_amd_enable_virt(b->p, 0);
	assert_int_equal(b->cpu[0].pmu.global_ctrl, 0x3F);
	assert_true(b->cpu[0].pmu.gp_sel[idx] & AMD_EVTSEL_HOSTONLY);
	assert_true(b->cpu[0].pmu.gp_sel[idx] & EVTSEL_EN);
	b->cpu[0].pmu.global_ctrl = 0x1;
	perf_amd_disable_virt(b->p, 0);
	assert_int_equal(b->cpu[0].pmu.global_ctrl, 0x3F);
	assert_int_equal(b->cpu[0].pmu.gp_sel[idx] & AMD_EVTSEL_HOSTONLY, 0);
	/* And AMD has no GLOBAL_CTRL switch list for KVM. */
	struct perf_guest_switch_msr m[2];
	assert_int_equal(perf_guest_get_msrs(b->p, 0, m, 2), 0);
	box_free(b);
}

/* A workload of `n` instructions in uneven chunks; samples must be
 * exactly floor(events / period) whatever the vendor handler. */
static void check_exact_samples(const char *model, const char *spec,
				uint64_t period, enum mv_event truth)
{
	struct box *b = box_new(model);
	struct perf_event *ev = box_open(b, spec, 0, NULL, period);
	struct perf_event *cnt = box_open(b, "instructions", 0, NULL, 0);
	const uint64_t chunks[] = { 1, 999, 123457, 5000, 77777, 100000, 3 };
	uint64_t n = 0, events;

	for (int r = 0; r < 5; r++)
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			box_run(b, 0, chunks[i], i & 1, "w");
			n += chunks[i];
		}
	events = perf_event_read(ev, NULL, NULL);
	assert_int_equal(perf_event_read(cnt, NULL, NULL), n);
	assert_int_equal(events, sim_truth_get(&b->sim.truth, 0, truth, true, true));
	assert_int_equal(perf_event_samples(ev, NULL), events / period);
	assert_int_equal(perf_event_lost(ev), 0);
	assert_int_equal(perf_nr_bugs(b->p), 0);
	assert_int_equal(perf_nr_msr_faults(b->p), 0);
	box_free(b);
}

static void test_exact_samples(void **state)
{
	(void)state;
	check_exact_samples("skylake", "instructions", 1000, MV_EV_INSTRUCTIONS);
	check_exact_samples("skylake", "branches", 333, MV_EV_BRANCHES);
	check_exact_samples("skylake", "r01c4", 100, MV_EV_COND_BRANCHES);
	check_exact_samples("icelake", "cycles", 4096, MV_EV_CYCLES);
	check_exact_samples("zen4", "instructions", 1000, MV_EV_INSTRUCTIONS);
	check_exact_samples("zen3", "instructions", 1000, MV_EV_INSTRUCTIONS);
	check_exact_samples("zen3", "rd1", 77, MV_EV_COND_BRANCHES);
}

static int cb_calls;
static void on_overflow(struct perf_event *ev, const struct perf_sample *s,
			void *arg)
{
	(void)ev;
	assert_ptr_equal(arg, &cb_calls);
	assert_non_null(s->label);
	cb_calls++;
}

static void test_callback_and_period_change(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event_attr attr;
	struct perf_event *ev;

	(void)state;
	cb_calls = 0;
	assert_int_equal(perf_parse_event("branches:u", &attr, NULL, 0), 0);
	attr.sample_period = 100;
	assert_int_equal(perf_event_open(b->p, &attr, 0, NULL, on_overflow,
					 &cb_calls, &ev), 0);
	box_run(b, 0, 5000, false, "u");	/* 1000 branches */
	box_run(b, 0, 5000, true, "k");		/* not counted */
	assert_int_equal(cb_calls, 10);
	assert_int_equal(perf_event_samples(ev, NULL), 0);
	assert_int_equal(perf_event_period(ev, 1000), 0);
	box_run(b, 0, 10000, false, "u");
	assert_int_equal(cb_calls, 12);
	assert_int_equal(perf_event_read(ev, NULL, NULL), 3000);
	box_free(b);
}

static void disable_on_overflow(struct perf_event *ev,
				const struct perf_sample *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	perf_event_disable(ev);
}

/* The overflow callback may reprogram perf from inside the handler (the
 * emulated vPMU does): the handler's own re-enable must win. */
static void test_callback_reenters_perf(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event_attr a;
	struct perf_event *ev, *other;
	struct wlog l = { 0 };
	int calls = 0;

	(void)state;
	other = box_open(b, "branches", 0, NULL, 0);
	assert_int_equal(perf_parse_event("instructions", &a, NULL, 0), 0);
	a.sample_period = 1000;
	assert_int_equal(perf_event_open(b->p, &a, 0, NULL, disable_on_overflow,
					 &calls, &ev), 0);
	b->cpu[0].hooks.on_pmu_write = log_write;
	b->cpu[0].hooks.write_opaque = &l;
	box_run(b, 0, 5000, false, "w");
	assert_int_equal(calls, 1);
	assert_int_equal(perf_event_hw_idx(ev), -1);
	assert_int_equal(perf_event_read(ev, NULL, NULL), 1000);
	assert_int_equal(perf_event_read(other, NULL, NULL), 1000);
	/* GLOBAL_CTRL: 0 at entry, then only the final re-enable. */
	assert_int_equal(l.msr[0], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_int_equal(l.val[0], 0);
	{
		unsigned n = 0;

		for (unsigned i = 0; i < l.n; i++)
			n += l.msr[i] == MSR_IA32_PERF_GLOBAL_CTRL;
		assert_int_equal(n, 2);
	}
	/* Every counter bit, whatever is active (__intel_pmu_enable_all). */
	assert_int_equal(b->cpu[0].pmu.global_ctrl, SKL_ALL_COUNTERS);
	box_free(b);
}

static void test_pmi_not_ours(void **state)
{
	struct box *b = box_new("skylake");
	struct host_stats st;

	(void)state;
	box_open(b, "instructions", 0, NULL, 0);
	assert_false(perf_pmi(b->p, 0));
	host_handle_intr(b->p, 0, NMI_VECTOR, true);
	host_get_stats(b->p, &st);
	assert_int_equal(st.unknown_nmis, 1);
	box_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intel_early_ack),
		cmocka_unit_test(test_intel_mid_ack),
		cmocka_unit_test(test_intel_late_ack),
		cmocka_unit_test(test_ack_from_model),
		cmocka_unit_test(test_amd_reload_sets_every_bit),
		cmocka_unit_test(test_exact_samples),
		cmocka_unit_test(test_callback_and_period_change),
		cmocka_unit_test(test_callback_reenters_perf),
		cmocka_unit_test(test_pmi_not_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
