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

/* The PMI handler clears the status it handled (Intel OVF_CTRL, AMD v2
 * StatusClr), so the next NMI that is not the PMU's finds nothing and is
 * not claimed (Linux: it goes on down the chain, and is unknown here). */
static void clears_status_on(const char *model, uint32_t status_msr)
{
	struct box *b = box_new(model);
	struct perf_event *ev = box_open(b, "instructions", 0, NULL, 1000);
	struct host_stats st;
	uint64_t status = ~0ULL;

	box_run(b, 0, 1500, false, "w");
	assert_int_equal(perf_event_samples(ev, NULL), 1);
	assert_int_equal(hw_rdmsr(&b->cpu[0], status_msr, &status), X86_OK);
	assert_int_equal(status, 0);
	host_get_stats(b->p, &st);
	assert_int_equal(st.unknown_nmis, 0);
	host_handle_intr(b->p, 0, NMI_VECTOR, true);	/* another source's NMI */
	host_get_stats(b->p, &st);
	assert_int_equal(st.nmis, 2);
	assert_int_equal(st.unknown_nmis, 1);
	assert_int_equal(perf_event_samples(ev, NULL), 1);
	box_free(b);
}

static void test_pmi_handler_clears_status(void **state)
{
	(void)state;
	clears_status_on("skylake", MSR_IA32_PERF_GLOBAL_STATUS);
	clears_status_on("sapphirerapids", MSR_IA32_PERF_GLOBAL_STATUS);
	clears_status_on("zen4", MSR_AMD_GLOBAL_STATUS);
}

/* ---- skid: the overshoot is carried into the next period ---- */

struct skid_log {
	struct box *b;
	uint64_t at[512];	/* instructions retired (truth) at each sample */
	unsigned n;
};

static void note_truth(struct perf_event *ev, const struct perf_sample *s, void *arg)
{
	struct skid_log *l = arg;

	(void)ev; (void)s;
	if (l->n < 512)
		l->at[l->n] = sim_truth_get(&l->b->sim.truth, 0, MV_EV_INSTRUCTIONS, true, true);
	l->n++;
}

/* With skid s the PMI of each overflow arrives s instructions late;
 * perf's handler folds the overshoot into the next period
 * (x86_perf_event_set_period: left += period), so overflows stay at
 * exact multiples of the period: sample i (from 1) is taken when the
 * truth says i * period + s instructions retired, and there are
 * floor((n - s) / period) of them for n instructions. */
static void check_skid(const char *model, uint64_t period, uint64_t skid)
{
	struct box *b = box_new(model);
	struct skid_log l = { .b = b };
	struct perf_event_attr a;
	struct perf_event *ev;
	const uint64_t chunks[] = { 1, 999, 12345, 5000, 7777, 100, 3, 40000 };
	uint64_t n = 0;

	b->cpu[0].skid = skid;
	assert_int_equal(perf_parse_event("instructions", &a, NULL, 0), 0);
	a.sample_period = period;
	assert_int_equal(perf_event_open(b->p, &a, 0, NULL, note_truth, &l, &ev), 0);
	for (int r = 0; r < 6; r++)
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			box_run(b, 0, chunks[i], (i & 1) != 0, "w");
			n += chunks[i];
		}
	assert_int_equal(n, sim_truth_get(&b->sim.truth, 0, MV_EV_INSTRUCTIONS, true, true));
	assert_int_equal(perf_event_read(ev, NULL, NULL), n);
	assert_true(l.n <= 512);
	assert_int_equal(l.n, (n - skid) / period);
	for (unsigned i = 0; i < l.n; i++)
		if (l.at[i] != (i + 1) * period + skid)
			fail_msg("%s skid %llu: sample %u at %llu instructions, want %llu", model,
				 (unsigned long long)skid, i, (unsigned long long)l.at[i],
				 (unsigned long long)((i + 1) * period + skid));
	assert_int_equal(perf_nr_bugs(b->p), 0);
	box_free(b);
}

static void test_skid_carried_into_next_period(void **state)
{
	(void)state;
	check_skid("skylake", 1000, 0);
	check_skid("skylake", 1000, 37);
	check_skid("skylake", 997, 500);
	check_skid("icelake", 2000, 1);
	check_skid("zen4", 1000, 37);
	check_skid("zen3", 1500, 200);
}

/* ---- NMIs: one arriving inside the handler, and a chain ---- */

struct nmi_probe {
	struct box *b;
	unsigned calls, depth, max_depth;
	unsigned raise;		/* NMIs to raise from inside the handler */
	bool ret;		/* whether it claims the NMI */
};

static bool probe_nmi(void *arg, int cpu)
{
	struct nmi_probe *n = arg;

	n->calls++;
	if (++n->depth > n->max_depth)
		n->max_depth = n->depth;
	/* NMIs that arrive while the handler runs (another CPU's backtrace
	 * IPI, a second counter): delivered through the APIC now. */
	for (; n->raise; n->raise--)
		hw_apic_pmi(&n->b->cpu[cpu]);
	n->depth--;
	return n->ret;
}

/* SDM vol. 3 6.7.1: while an NMI handler runs, further NMIs are blocked
 * until IRET, and one of them is held (latched), not nested: the handler
 * is never re-entered, and runs exactly once more afterwards however many
 * arrived meanwhile. */
static void test_nmi_inside_nmi_handler(void **state)
{
	struct box *b = box_new("zen4");	/* AMD: delivery leaves LVTPC unmasked */
	struct nmi_probe n = { .b = b, .raise = 3 };
	struct host_stats st;

	(void)state;
	assert_true(host_register_nmi(b->p, probe_nmi, &n));
	hw_apic_pmi(&b->cpu[0]);
	assert_int_equal(b->cpu[0].nr_pmis, 4);	/* the APIC delivered four */
	assert_int_equal(n.calls, 2);
	assert_int_equal(n.max_depth, 1);
	assert_false(b->cpu[0].in_nmi);
	assert_false(b->cpu[0].nmi_latched);
	host_get_stats(b->p, &st);
	assert_int_equal(st.nmis, 2);
	assert_int_equal(st.unknown_nmis, 2);	/* nobody claimed them */
	/* Unblocked again: the next NMI is taken at once. */
	hw_apic_pmi(&b->cpu[0]);
	assert_int_equal(n.calls, 3);
	/* The other CPU is not blocked by this one's handler. */
	n.raise = 0;
	host_handle_intr(b->p, 1, NMI_VECTOR, true);
	assert_int_equal(n.calls, 4);
	box_free(b);
}

/* Linux nmi_handle: every handler of the chain runs for a local NMI
 * (several sources may have fired at once); the NMI is unknown only when
 * none of them claimed it. */
static void test_nmi_chain(void **state)
{
	struct box *b = box_new("skylake");
	struct nmi_probe h[3] = { { .b = b }, { .b = b }, { .b = b } };
	struct host_stats st;
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_true(host_register_nmi(b->p, probe_nmi, &h[i]));
	/* perf's handler is first, then the three: HOST_MAX_NMI_HANDLERS in
	 * all, the rest refused. */
	for (i = 4; i < HOST_MAX_NMI_HANDLERS; i++)
		assert_true(host_register_nmi(b->p, probe_nmi, &h[0]));
	assert_false(host_register_nmi(b->p, probe_nmi, &h[0]));
	h[1].ret = true;	/* the middle one claims it */
	host_handle_intr(b->p, 0, NMI_VECTOR, true);
	assert_int_equal(h[1].calls, 1);
	assert_int_equal(h[2].calls, 1);	/* the ones after it run too */
	assert_int_equal(h[0].calls, 1 + HOST_MAX_NMI_HANDLERS - 4);
	host_get_stats(b->p, &st);
	assert_int_equal(st.nmis, 1);
	assert_int_equal(st.unknown_nmis, 0);
	/* Only the last claims it: still known. */
	h[1].ret = false;
	h[2].ret = true;
	host_handle_intr(b->p, 0, NMI_VECTOR, true);
	host_get_stats(b->p, &st);
	assert_int_equal(st.unknown_nmis, 0);
	assert_int_equal(h[1].calls, 2);
	/* None claims it: unknown. */
	h[2].ret = false;
	host_handle_intr(b->p, 0, NMI_VECTOR, true);
	host_get_stats(b->p, &st);
	assert_int_equal(st.nmis, 3);
	assert_int_equal(st.unknown_nmis, 1);
	assert_int_equal(h[2].calls, 3);
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
		cmocka_unit_test(test_pmi_handler_clears_status),
		cmocka_unit_test(test_skid_carried_into_next_period),
		cmocka_unit_test(test_nmi_inside_nmi_handler),
		cmocka_unit_test(test_nmi_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
