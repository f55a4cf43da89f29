/* Host perf's mediated-vPMU support: exclusion rules, guest context
 * load/put with time accounting, the LVTPC switch and the guest PMI vector. */
#include "host_test.h"

static void test_create_busy_then_unsupported(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event *incl, *ev = NULL;

	(void)state;
	assert_true(perf_mediated_capable(b->p));
	/* A host event that counts guests blocks the mediated PMU. */
	incl = box_open(b, "cycles", 0, NULL, 0);
	assert_int_equal(perf_create_mediated_pmu(b->p), -EBUSY);
	assert_int_equal(perf_nr_mediated_vms(b->p), 0);
	perf_event_close(incl);
	assert_int_equal(perf_create_mediated_pmu(b->p), 0);
	assert_int_equal(perf_nr_mediated_vms(b->p), 1);

	/* ...and the other order: no guest-including event while it exists. */
	assert_int_equal(box_try_open(b, "cycles", &ev), -EOPNOTSUPP);
	assert_null(ev);
	assert_int_equal(box_try_open(b, "instructions:G", &ev), -EOPNOTSUPP);
	assert_int_equal(box_try_open(b, "instructions:H", &ev), 0);
	perf_event_close(ev);

	/* Two VMs: still refused until both are gone. */
	assert_int_equal(perf_create_mediated_pmu(b->p), 0);
	perf_release_mediated_pmu(b->p);
	assert_int_equal(box_try_open(b, "cycles", &ev), -EOPNOTSUPP);
	perf_release_mediated_pmu(b->p);
	assert_int_equal(box_try_open(b, "cycles", &ev), 0);
	assert_int_equal(perf_create_mediated_pmu(b->p), -EBUSY);
	perf_event_close(ev);
	assert_int_equal(perf_create_mediated_pmu(b->p), 0);
	assert_int_equal(perf_nr_bugs(b->p), 0);
	box_free(b);
}

static void test_disabled_event_still_blocks(void **state)
{
	struct box *b = box_new("zen4");
	struct perf_event_attr attr;
	struct perf_event *ev;

	(void)state;
	assert_true(perf_mediated_capable(b->p));
	assert_int_equal(perf_parse_event("instructions", &attr, NULL, 0), 0);
	attr.disabled = true;
	assert_int_equal(perf_event_open(b->p, &attr, 0, NULL, NULL, NULL, &ev), 0);
	assert_int_equal(perf_create_mediated_pmu(b->p), -EBUSY);
	perf_event_close(ev);
	assert_int_equal(perf_create_mediated_pmu(b->p), 0);
	box_free(b);
}

static void test_release_never_underflows(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event *ev = NULL;

	(void)state;
	perf_release_mediated_pmu(b->p);
	assert_int_equal(perf_nr_bugs(b->p), 1);
	assert_int_equal(perf_nr_mediated_vms(b->p), 0);
	/* The bogus release must not have made room for a second count. */
	assert_int_equal(perf_create_mediated_pmu(b->p), 0);
	assert_int_equal(box_try_open(b, "cycles", &ev), -EOPNOTSUPP);
	perf_release_mediated_pmu(b->p);
	perf_release_mediated_pmu(b->p);
	assert_int_equal(perf_nr_bugs(b->p), 2);
	assert_int_equal(perf_nr_mediated_vms(b->p), 0);
	assert_int_equal(box_try_open(b, "cycles", &ev), 0);
	box_free(b);
}

static void test_incapable_pmu_unaffected(void **state)
{
	struct box *b = box_new("zen3");
	struct perf_event *ev = NULL;

	(void)state;
	assert_false(perf_mediated_capable(b->p));
	box_open(b, "cycles", 0, NULL, 0);
	/* perf does not refuse; KVM decides the fallback. */
	assert_int_equal(perf_create_mediated_pmu(b->p), 0);
	assert_int_equal(box_try_open(b, "instructions", &ev), 0);
	box_free(b);
}

/* Instructions and branches the host ran so far (its truth, context 0). */
static uint64_t host_truth(const struct box *b, enum mv_event ev)
{
	return sim_truth_get(&b->sim.truth, 0, ev, true, true);
}

static void test_load_put_stops_host_events(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event *ins, *br;
	uint64_t en, run, t0, t_load, t_put, total, guest;
	uint64_t ins0, br0, ins_in, br_in;

	(void)state;
	t0 = b->sim.cycle;
	ins = box_open(b, "instructions:H", 0, NULL, 0);
	br = box_open(b, "branches:H", 0, NULL, 0);
	ins0 = host_truth(b, MV_EV_INSTRUCTIONS);
	br0 = host_truth(b, MV_EV_BRANCHES);
	assert_int_equal(perf_event_hw_idx(ins), PERF_IDX_FIXED + 0);
	assert_true(perf_event_hw_idx(br) >= 0);
	box_run(b, 0, 10000, false, "host");

	perf_irq_disable(b->p, 0);
	t_load = b->sim.cycle;
	perf_load_guest_context(b->p, 0);
	assert_true(perf_guest_loaded(b->p, 0));
	assert_int_equal(perf_event_hw_idx(ins), -1);
	assert_int_equal(perf_event_hw_idx(br), -1);
	/* Nothing of ours is on the PMU while the guest owns it. */
	assert_int_equal(b->cpu[0].pmu.fixed_ctrl, 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(b->cpu[0].pmu.gp_sel[i], 0);
	ins_in = host_truth(b, MV_EV_INSTRUCTIONS);
	br_in = host_truth(b, MV_EV_BRANCHES);
	box_run(b, 0, 50000, false, "guest interval");
	ins_in = host_truth(b, MV_EV_INSTRUCTIONS) - ins_in;
	br_in = host_truth(b, MV_EV_BRANCHES) - br_in;
	/* Ticks and enables keep host events out. */
	perf_tick(b->p, 0);
	perf_event_disable(br);
	perf_event_enable(br);
	assert_int_equal(perf_event_hw_idx(br), -1);
	/* The clocks stop at load and restart at put, both when perf syncs
	 * its clocks, first thing in each (perf_sync_times). */
	t_put = b->sim.cycle;
	perf_put_guest_context(b->p, 0);
	perf_irq_enable(b->p, 0);
	assert_false(perf_guest_loaded(b->p, 0));
	assert_int_equal(perf_event_hw_idx(ins), PERF_IDX_FIXED + 0);
	assert_true(perf_event_hw_idx(br) >= 0);

	box_run(b, 0, 20000, false, "host");
	/* The clocks as of the read, which syncs them first. */
	total = b->sim.cycle - t0;
	/* What ran outside the interval, by the truth, and nothing of it. */
	assert_int_equal(perf_event_read(ins, &en, &run),
			 host_truth(b, MV_EV_INSTRUCTIONS) - ins0 - ins_in);
	assert_int_equal(perf_event_read(br, NULL, NULL),
			 host_truth(b, MV_EV_BRANCHES) - br0 - br_in);
	guest = t_put - t_load;
	/* The guest interval is missing from both clocks, and only it. */
	assert_true(guest > 0);
	assert_int_equal(run, en);
	assert_int_equal(en, total - guest);
	assert_int_equal(perf_nr_bugs(b->p), 0);
	box_free(b);
}

/* Linux 7.0 stops the clocks of exclude_guest events only: an event that
 * counts guests keeps its enabled time across a loaded guest context.  On
 * a capable PMU it is scheduled out meanwhile (running time and count
 * stop); on an incapable one (zen3) load and put change nothing for it. */
static void keeps_enabled_time_on(const char *model, bool capable)
{
	struct box *b = box_new(model);
	uint64_t t0 = b->sim.cycle, t_load, t_put, en, run, count, i0, i_in;
	/* Its clocks start when it is opened. */
	struct perf_event *ev = box_open(b, "instructions", 0, NULL, 0);

	i0 = host_truth(b, MV_EV_INSTRUCTIONS);
	box_run(b, 0, 4000, false, "before");
	perf_irq_disable(b->p, 0);
	t_load = b->sim.cycle;
	perf_load_guest_context(b->p, 0);
	assert_int_equal(perf_event_hw_idx(ev) >= 0, !capable);
	i_in = host_truth(b, MV_EV_INSTRUCTIONS);
	box_run(b, 0, 1000, false, "loaded");
	i_in = host_truth(b, MV_EV_INSTRUCTIONS) - i_in;
	t_put = b->sim.cycle;
	perf_put_guest_context(b->p, 0);
	perf_irq_enable(b->p, 0);
	box_run(b, 0, 3000, true, "after");
	t0 = b->sim.cycle - t0;		/* the clocks as of the read, which syncs first */
	count = perf_event_read(ev, &en, &run);
	assert_int_equal(en, t0);
	if (capable) {
		assert_int_equal(run, en - (t_put - t_load));
		assert_int_equal(count, host_truth(b, MV_EV_INSTRUCTIONS) - i0 - i_in);
	} else {
		assert_int_equal(run, en);
		assert_int_equal(count, host_truth(b, MV_EV_INSTRUCTIONS) - i0);
	}
	assert_int_equal(perf_nr_bugs(b->p), 0);
	box_free(b);
}

/* Event times are what perf_sync_times adds at each sync: the cycles
 * since the previous sync, by the event's state at that sync (enabled
 * and in the CPU's context, and for exclude_guest events the guest
 * context not loaded; running: on a counter).  Every call below syncs
 * first, at the cycle taken just before it, so the exact times follow
 * from those cycles alone, whatever the accesses in between cost. */
static void test_times_exact_across_guest_context(void **state)
{
	struct box *b = box_new("skylake");
	struct perf_event *ins, *cyc, *br;
	uint64_t t0, t1, t2, ta, tb, tc, td, te1, te2, te3, en, run;

	(void)state;
	t0 = b->sim.cycle;
	ins = box_open(b, "instructions:H", 0, NULL, 0);	/* exclude_guest */
	t1 = b->sim.cycle;
	cyc = box_open(b, "cycles", 0, NULL, 0);		/* counts guests too */
	t2 = b->sim.cycle;
	br = box_open(b, "branches:H", 0, NULL, 0);
	box_run(b, 0, 10000, false, "host");

	perf_irq_disable(b->p, 0);
	ta = b->sim.cycle;
	perf_load_guest_context(b->p, 0);	/* every event scheduled out */
	box_run(b, 0, 50000, false, "guest");
	tb = b->sim.cycle;
	perf_event_disable(cyc);		/* leave the context */
	perf_event_disable(br);
	assert_int_equal(b->sim.cycle, tb);	/* the PMU is the guest's: no access */
	box_run(b, 0, 7000, false, "guest");
	tc = b->sim.cycle;
	perf_event_enable(cyc);			/* back in the context, not on a counter */
	perf_event_enable(br);
	assert_int_equal(b->sim.cycle, tc);
	box_run(b, 0, 3000, false, "guest");
	td = b->sim.cycle;
	perf_put_guest_context(b->p, 0);	/* every event scheduled in */
	perf_irq_enable(b->p, 0);
	assert_true(perf_event_hw_idx(ins) >= 0 && perf_event_hw_idx(cyc) >= 0 &&
		    perf_event_hw_idx(br) >= 0);
	box_run(b, 0, 20000, false, "host");

	te1 = b->sim.cycle;
	assert_int_equal(perf_event_read(ins, &en, &run), 30000);
	assert_int_equal(en, (ta - t0) + (te1 - td));
	assert_int_equal(run, en);
	te2 = b->sim.cycle;	/* the read took an RDMSR */
	assert_true(te2 > te1);
	perf_event_read(cyc, &en, &run);
	/* Enabled in the guest interval except while disabled, running
	 * only outside it. */
	assert_int_equal(en, (tb - t1) + (te2 - tc));
	assert_int_equal(run, (ta - t1) + (te2 - td));
	te3 = b->sim.cycle;
	perf_event_read(br, &en, &run);
	/* exclude_guest: nothing while the guest context is loaded, the
	 * disabled stretch included. */
	assert_int_equal(en, (ta - t2) + (te3 - td));
	assert_int_equal(run, en);
	assert_int_equal(perf_nr_bugs(b->p), 0);
	box_free(b);
}

static void test_guest_including_event_keeps_enabled_time(void **state)
{
	(void)state;
	keeps_enabled_time_on("zen3", false);
	keeps_enabled_time_on("zen4", true);
	keeps_enabled_time_on("sapphirerapids", true);
}

static void test_load_put_bugs(void **state)
{
	struct box *b = box_new("skylake");

	(void)state;
	perf_load_guest_context(b->p, 0);	/* irqs enabled */
	assert_int_equal(perf_nr_bugs(b->p), 1);
	assert_true(perf_guest_loaded(b->p, 0));
	perf_irq_disable(b->p, 0);
	perf_load_guest_context(b->p, 0);	/* double load */
	assert_int_equal(perf_nr_bugs(b->p), 2);
	assert_true(perf_guest_loaded(b->p, 0));
	perf_put_guest_context(b->p, 0);
	assert_int_equal(perf_nr_bugs(b->p), 2);
	perf_put_guest_context(b->p, 0);	/* double put */
	assert_int_equal(perf_nr_bugs(b->p), 3);
	assert_false(perf_guest_loaded(b->p, 0));
	/* The other CPU is independent. */
	perf_irq_disable(b->p, 1);
	perf_load_guest_context(b->p, 1);
	assert_true(perf_guest_loaded(b->p, 1));
	assert_false(perf_guest_loaded(b->p, 0));
	assert_int_equal(perf_nr_bugs(b->p), 3);
	box_free(b);
}

static int guest_pmis;
static void guest_pmi(void *arg, int cpu)
{
	(void)arg;
	assert_int_equal(cpu, 0);
	guest_pmis++;
}

static void test_lvtpc_switch_and_guest_pmi(void **state)
{
	struct box *b = box_new("skylake");
	struct hw_cpu *c = &b->cpu[0];
	uint64_t eoi, wr, rd;
	struct host_stats st;

	(void)state;
	guest_pmis = 0;
	assert_int_equal(c->apic.lvtpc, APIC_DM_NMI);
	perf_register_guest_pmi(b->p, guest_pmi, NULL);
	perf_irq_disable(b->p, 0);
	perf_load_guest_context(b->p, 0);
	perf_load_guest_lvtpc(b->p, 0, APIC_LVT_MASKED | 0x20);
	assert_int_equal(c->apic.lvtpc, PERF_GUEST_MEDIATED_PMI_VECTOR | APIC_LVT_MASKED);
	perf_load_guest_lvtpc(b->p, 0, APIC_DM_NMI);
	assert_int_equal(c->apic.lvtpc, PERF_GUEST_MEDIATED_PMI_VECTOR);

	/* A PMU NMI now is not perf's: it must not touch the PMU. */
	wr = c->nr_wrmsr;
	rd = c->nr_rdmsr;
	assert_false(perf_pmi(b->p, 0));
	assert_int_equal(c->nr_wrmsr, wr);
	assert_int_equal(c->nr_rdmsr, rd);

	/* A PMI through the hardware arrives on 0xF5; held while IRQs are
	 * off, then EOIed and handed to the hypervisor. */
	eoi = c->apic.nr_eoi;
	hw_apic_pmi(c);
	assert_int_equal(guest_pmis, 0);
	perf_irq_enable(b->p, 0);
	assert_int_equal(guest_pmis, 1);
	assert_int_equal(c->apic.nr_eoi, eoi + 1);
	host_handle_intr(b->p, 0, PERF_GUEST_MEDIATED_PMI_VECTOR, false);
	assert_int_equal(guest_pmis, 2);

	perf_irq_disable(b->p, 0);
	perf_put_guest_lvtpc(b->p, 0);
	assert_int_equal(c->apic.lvtpc, APIC_DM_NMI);
	perf_put_guest_context(b->p, 0);
	perf_irq_enable(b->p, 0);
	host_get_stats(b->p, &st);
	assert_int_equal(st.deferred_irqs, 1);
	assert_int_equal(perf_nr_bugs(b->p), 0);
	box_free(b);
}

static void test_amd_load_sets_every_global_bit(void **state)
{
	/* Linux 7.0 keeps the AMD v2 enable_all behaviour on load: every
	 * supported GlobalCtl bit is set, which is why KVM clears it. */
	struct box *b = box_new("zen4");

	(void)state;
	box_open(b, "instructions:H", 0, NULL, 0);
	perf_irq_disable(b->p, 0);
	perf_load_guest_context(b->p, 0);
	assert_int_equal(b->cpu[0].pmu.global_ctrl, 0x3F);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(b->cpu[0].pmu.gp_sel[i] & EVTSEL_EN, 0);
	perf_put_guest_context(b->p, 0);
	perf_irq_enable(b->p, 0);
	box_free(b);
}

/* Linux 7.0: perf_load_guest_context does nothing to the PMU when the
 * CPU's contexts hold no event; with one, it schedules out and re-enables
 * (Intel: every counter bit, __intel_pmu_enable_all). */
static unsigned nr_wrmsr;

static void count_write(struct hw_cpu *cpu, uint32_t msr, uint64_t val, void *opaque)
{
	(void)cpu; (void)msr; (void)val; (void)opaque;
	nr_wrmsr++;
}

static unsigned load_writes(struct box *b)
{
	nr_wrmsr = 0;
	b->cpu[0].hooks.on_pmu_write = count_write;
	perf_irq_disable(b->p, 0);
	perf_load_guest_context(b->p, 0);
	perf_put_guest_context(b->p, 0);
	perf_irq_enable(b->p, 0);
	b->cpu[0].hooks.on_pmu_write = NULL;
	return nr_wrmsr;
}

static void test_load_without_events_is_noop(void **state)
{
	struct box *b = box_new("sapphirerapids");
	struct perf_event *ev, *other;

	(void)state;
	b->cpu[0].pmu.global_ctrl = 0x5;	/* whatever was there stays */
	assert_int_equal(load_writes(b), 0);
	assert_int_equal(b->cpu[0].pmu.global_ctrl, 0x5);
	/* An event of another CPU's context does not count. */
	other = box_open(b, "instructions:H", 1, NULL, 0);
	assert_int_equal(load_writes(b), 0);
	ev = box_open(b, "instructions:H", 0, NULL, 0);
	assert_true(load_writes(b) > 0);
	perf_event_close(ev);
	perf_event_close(other);
	assert_int_equal(perf_nr_bugs(b->p), 0);
	box_free(b);
}

/* The perf tool's D modifier pins an event. */
static void test_pinned_modifier(void **state)
{
	struct perf_event_attr a;

	(void)state;
	assert_int_equal(perf_parse_event("cycles:D", &a, NULL, 0), 0);
	assert_true(a.pinned);
	assert_false(a.exclude_user || a.exclude_kernel);
	assert_int_equal(perf_parse_event("branches:uD", &a, NULL, 0), 0);
	assert_true(a.pinned && a.exclude_kernel && !a.exclude_user);
	assert_int_equal(perf_parse_event("branches:u", &a, NULL, 0), 0);
	assert_false(a.pinned);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_busy_then_unsupported),
		cmocka_unit_test(test_disabled_event_still_blocks),
		cmocka_unit_test(test_release_never_underflows),
		cmocka_unit_test(test_incapable_pmu_unaffected),
		cmocka_unit_test(test_load_put_stops_host_events),
		cmocka_unit_test(test_times_exact_across_guest_context),
		cmocka_unit_test(test_guest_including_event_keeps_enabled_time),
		cmocka_unit_test(test_load_put_bugs),
		cmocka_unit_test(test_lvtpc_switch_and_guest_pmi),
		cmocka_unit_test(test_amd_load_sets_every_global_bit),
		cmocka_unit_test(test_load_without_events_is_noop),
		cmocka_unit_test(test_pinned_modifier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
