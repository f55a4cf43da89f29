/* Overflow and PMI on every model: status bits with and without INT, PMI
 * iff INT, LVTPC masking (Intel only), status clear/set, GLOBAL_CTRL's reset
 * value, overflow at the exact event, skid, v4 freeze (FACTS.md s.1-3). */
#include "hw_facts.c"

#define N 1000

static void lvtpc_nmi(struct rig *r)
{
	wr(r, MSR_X2APIC_LVTPC, APIC_DM_NMI);
}

/* Counter 0 preset to -N counting instructions, with or without INT. */
static void overflow_gp0(struct rig *r, bool intr)
{
	gp_prog(r, 0, ev_instr(r->f), intr ? EVTSEL_INT : 0, minus(r->f, N));
	global_set(r, X86_BIT(0));
	run_instr(r, 3 * N);
	global_set(r, 0);
}

static void test_overflow_status_and_pmi(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		for (int intr = 0; intr < 2; intr++) {
			struct rig r;

			rig_init(&r, &fact_models[m]);
			r.unmask = true;
			lvtpc_nmi(&r);
			overflow_gp0(&r, intr);
			/* Wrapped at the N-th of 3N events. */
			assert_int_equal(rd(&r, ctr_msr(r.f, 0)), 2 * N);
			/* The status bit is set whether or not INT is. */
			if (has_global(r.f))
				assert_int_equal(rd(&r, msr_status(r.f)), X86_BIT(0));
			/* A PMI iff INT, delivered as an NMI. */
			assert_int_equal(r.nr_intr, intr ? 1 : 0);
			assert_int_equal(r.cpu.nr_pmis, intr ? 1 : 0);
			if (intr) {
				assert_true(r.nmi);
				assert_int_equal(r.vector, NMI_VECTOR);
			}
			rig_free(&r);
		}
	}
}

static void test_fixed_overflow(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		for (int pmi = 0; pmi < 2; pmi++) {
			const struct fact_model *f = &fact_models[m];
			struct rig r;

			if (!(f->fixed_exist & 1))
				continue;
			rig_init(&r, f);
			r.unmask = true;
			lvtpc_nmi(&r);
			wr(&r, MSR_IA32_FIXED_CTR0, minus(f, N));
			wr(&r, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_FIELD(0,
			   FIXED_CTRL_OS | (pmi ? FIXED_CTRL_PMI : 0)));
			global_set(&r, X86_BIT(32));
			run_instr(&r, 3 * N);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0), 2 * N);
			assert_int_equal(rd(&r, msr_status(f)), X86_BIT(32));
			assert_int_equal(r.nr_intr, pmi ? 1 : 0);
			rig_free(&r);
		}
	}
}

/* Intel sets the LVTPC mask bit when it delivers a PMI; AMD does not.
 * With the mask left set, the next PMI is dropped (status still set). */
static void test_lvtpc_mask_on_delivery(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;

		rig_init(&r, &fact_models[m]);
		assert_int_equal(r.cpu.apic.lvtpc, 0x00010000);	/* reset: masked */
		lvtpc_nmi(&r);
		overflow_gp0(&r, true);
		assert_int_equal(r.nr_intr, 1);
		assert_int_equal(r.lvtpc_in_handler & APIC_LVT_MASKED,
				 r.f->intel ? APIC_LVT_MASKED : 0);
		assert_int_equal(rd(&r, MSR_X2APIC_LVTPC),
				 APIC_DM_NMI | (r.f->intel ? APIC_LVT_MASKED : 0));
		overflow_gp0(&r, true);
		assert_int_equal(r.nr_intr, r.f->intel ? 1 : 2);
		rig_free(&r);
	}
}

static void test_masked_lvtpc_drops_pmi(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;

		rig_init(&r, &fact_models[m]);	/* LVTPC stays at its masked reset */
		overflow_gp0(&r, true);
		assert_int_equal(r.nr_intr, 0);
		assert_int_equal(r.cpu.nr_pmis, 0);
		if (has_global(r.f))
			assert_int_equal(rd(&r, msr_status(r.f)), X86_BIT(0));
		rig_free(&r);
	}
}

/* A fixed-delivery LVTPC delivers its vector, not an NMI. */
static void test_fixed_vector(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;

		rig_init(&r, &fact_models[m]);
		wr(&r, MSR_X2APIC_LVTPC, APIC_DM_FIXED | 0xE7);
		overflow_gp0(&r, true);
		assert_int_equal(r.nr_intr, 1);
		assert_false(r.nmi);
		assert_int_equal(r.vector, 0xE7);
		rig_free(&r);
	}
}

/* Writing the counter does not clear its status bit; OVF_CTRL /
 * STATUS_CLR clear exactly the bits written; STATUS_SET sets them. */
static void test_status_clear_and_set(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		bool set = f->intel ? f->version >= 4 : f->perfmon_v2;
		uint32_t set_msr = f->intel ? MSR_IA32_PERF_GLOBAL_STATUS_SET :
					      MSR_AMD_GLOBAL_STATUS_SET;
		struct rig r;

		if (!has_global(f))
			continue;
		rig_init(&r, f);
		overflow_gp0(&r, false);
		gp_prog(&r, 1, ev_instr(f), 0, minus(f, N));
		global_set(&r, X86_BIT(1));
		run_instr(&r, N);
		global_set(&r, 0);
		assert_int_equal(rd(&r, msr_status(f)), X86_BIT(0) | X86_BIT(1));
		wr(&r, ctr_msr(f, 0), 0);
		assert_int_equal(rd(&r, msr_status(f)), X86_BIT(0) | X86_BIT(1));
		wr(&r, msr_status_clr(f), X86_BIT(0));
		assert_int_equal(rd(&r, msr_status(f)), X86_BIT(1));
		wr(&r, msr_status_clr(f), X86_BIT(1));
		assert_int_equal(rd(&r, msr_status(f)), 0);
		if (set) {
			uint64_t bits = X86_BIT(2) | (f->intel ? X86_BIT(32) : X86_BIT(5));

			wr(&r, set_msr, bits);
			assert_int_equal(rd(&r, msr_status(f)), bits);
			wr(&r, msr_status_clr(f), bits);
			assert_int_equal(rd(&r, msr_status(f)), 0);
		}
		rig_free(&r);
	}
}

/* Reset: Intel GLOBAL_CTRL has every GP bit set and fixed bits clear;
 * AMD PerfMonV2 GlobalCtl every counter. */
static void test_global_ctrl_reset(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct rig r;

		if (!has_global(f))
			continue;
		rig_init(&r, f);
		assert_int_equal(rd(&r, msr_global_ctrl(f)), X86_MASK(f->nr_gp));
		/* So a selector alone starts counting, as on a v1 PMU. */
		wr(&r, sel_msr(f, f->nr_gp - 1), ev_instr(f) | EVTSEL_OS | EVTSEL_EN);
		run_known(&r, true);
		assert_int_equal(rd(&r, ctr_msr(f, f->nr_gp - 1)), BLK_INSTR);
		rig_free(&r);
	}
}

/* Counter 0 preset to -N overflows at exactly the N-th event even in the
 * middle of a block: counter 1, counting the same event from 0, reads N
 * in the PMI handler; with skid K it reads N + K. */
static void check_exact(const struct fact_model *f, uint64_t skid, bool dense)
{
	uint64_t total = dense ? 3 * N : BLK_INSTR;
	struct rig r;

	rig_init(&r, f);
	r.cpu.skid = skid;
	r.read_ctr = 1;
	r.unmask = true;
	lvtpc_nmi(&r);
	gp_prog(&r, 0, ev_instr(f), EVTSEL_INT, minus(f, N));
	gp_prog(&r, 1, ev_instr(f), 0, 0);
	global_set(&r, 3);
	if (dense)
		run_instr(&r, total);	/* one instruction per block position */
	else
		run_known(&r, true);	/* instructions spread among other events */
	assert_int_equal(r.nr_intr, 1);
	assert_int_equal(r.ctr_in_handler, N + skid);
	assert_int_equal(rd(&r, ctr_msr(f, 0)), total - N);
	assert_int_equal(rd(&r, ctr_msr(f, 1)), total);
	if (has_global(f))
		assert_int_equal(r.status_in_handler, X86_BIT(0));
	rig_free(&r);
}

static void test_overflow_exact(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		check_exact(&fact_models[m], 0, false);
		check_exact(&fact_models[m], 0, true);
	}
}

static void test_skid(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		check_exact(&fact_models[m], 1, false);
		check_exact(&fact_models[m], 37, true);
	}
}

/* FACTS.md s.3: software writes the LVTPC's vector, delivery mode and
 * mask; delivery status (bit 12) is read-only, the other bits reserved:
 * a write keeps only the writable bits, and bits 63:32 #GP (x2APIC). */
static void test_lvtpc_writable_bits(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m += 3) {
		struct rig r;

		rig_init(&r, &fact_models[m]);
		/* Vector 0xF0, fixed, masked, with every other bit of 31:0 set. */
		wr(&r, MSR_X2APIC_LVTPC, 0xFFFFF8F0ULL);
		assert_int_equal(rd(&r, MSR_X2APIC_LVTPC), 0x100F0);
		wr(&r, MSR_X2APIC_LVTPC, APIC_DM_NMI | 0x1000);
		assert_int_equal(rd(&r, MSR_X2APIC_LVTPC), APIC_DM_NMI);
		assert_int_equal(hw_wrmsr(&r.cpu, MSR_X2APIC_LVTPC, 1ULL << 32), X86_GP);
		assert_int_equal(rd(&r, MSR_X2APIC_LVTPC), APIC_DM_NMI);
		rig_free(&r);
	}
}

/* DESIGN.md: a block in which a counter overflows is split at the exact
 * event, the PMI raised, the rest resumed: one split per overflow.  Events
 * are spread evenly over the block's positions (floor(count * p / m) by
 * position p), so with 333 branches over 1000 instructions the 7th branch
 * retires at position ceil(7 * 1000 / 333) = 22: the trace is the
 * overflow and the work piece of 22 instructions it ended, the PMI, and a
 * piece of 978. */
static void test_block_split_once_at_the_overflow(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct mv_work w = { .kernel = true, .label = "split" };
		struct rig r;
		size_t first = 0, works = 0;
		uint64_t pieces[4] = { 0 };
		int kinds[8], nk = 0;

		rig_init(&r, f);
		sim_free(&r.sim);
		sim_init(&r.sim, 1, true);	/* keep the records */
		gp_prog(&r, 0, ev_branch(f), EVTSEL_INT, width_mask(f) - 6);
		global_set(&r, 1);
		wr(&r, MSR_X2APIC_LVTPC, APIC_DM_NMI);
		first = r.sim.trace.nr_all;
		w.ev[MV_EV_INSTRUCTIONS] = 1000;
		w.ev[MV_EV_BRANCHES] = 333;
		w.ev[MV_EV_CYCLES] = 1000;
		hw_run_work(&r.cpu, &w);
		assert_int_equal(r.nr_intr, 1);
		for (size_t i = first; i < r.sim.trace.nr_all; i++) {
			const struct sim_trace_rec *t = &r.sim.trace.all[i];

			if (t->kind == TR_WORK && works < 4)
				pieces[works++] = t->b;
			if ((t->kind == TR_WORK || t->kind == TR_OVERFLOW || t->kind == TR_PMI) && nk < 8)
				kinds[nk++] = (int)t->kind;
		}
		assert_int_equal(works, 2);
		assert_int_equal(pieces[0], 22);
		assert_int_equal(pieces[1], 978);
		assert_int_equal(nk, 4);
		/* The piece's overflow is recorded before the piece itself. */
		assert_int_equal(kinds[0], TR_OVERFLOW);
		assert_int_equal(kinds[1], TR_WORK);
		assert_int_equal(kinds[2], TR_PMI);
		assert_int_equal(kinds[3], TR_WORK);
		/* The counter wrapped on the 7th branch and counted the rest. */
		assert_int_equal(rd(&r, ctr_msr(f, 0)), 333 - 7);
		rig_free(&r);
	}
}

/* A counter with bits set across the whole width wraps after one event. */
static void test_wrap_at_width(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct rig r;

		rig_init(&r, f);
		gp_prog(&r, 0, ev_instr(f), 0, width_mask(f));
		global_set(&r, 1);
		run_instr(&r, 5);
		assert_int_equal(rd(&r, ctr_msr(f, 0)), 4);
		rig_free(&r);
	}
}

/* v4 freeze: with DEBUGCTL.FREEZE_PERFMON_ON_PMI a PMI sets CTR_Frz and
 * counting stops until software clears it through OVF_CTRL. */
static void test_freeze_on_pmi(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct rig r;

		if (!f->intel || f->version < 4)
			continue;
		rig_init(&r, f);
		r.read_ctr = 1;
		lvtpc_nmi(&r);
		wr(&r, MSR_IA32_DEBUGCTL, DEBUGCTL_FREEZE_PERFMON_ON_PMI);
		gp_prog(&r, 0, ev_instr(f), EVTSEL_INT, minus(f, N));
		gp_prog(&r, 1, ev_instr(f), 0, 0);
		global_set(&r, 3);
		run_known(&r, true);
		assert_int_equal(r.nr_intr, 1);
		assert_int_equal(rd(&r, msr_status(f)), X86_BIT(0) | GLOBAL_STATUS_CTR_FRZ);
		assert_int_equal(rd(&r, ctr_msr(f, 1)), N);
		assert_int_equal(rd(&r, ctr_msr(f, 0)), 0);
		wr(&r, MSR_IA32_PERF_GLOBAL_OVF_CTRL, X86_BIT(0) | GLOBAL_STATUS_CTR_FRZ);
		run_known(&r, true);
		assert_int_equal(rd(&r, ctr_msr(f, 1)), N + BLK_INSTR);
		/* Without the DEBUGCTL bit there is no freeze. */
		wr(&r, MSR_IA32_DEBUGCTL, 0);
		wr(&r, MSR_X2APIC_LVTPC, APIC_DM_NMI);
		gp_prog(&r, 0, ev_instr(f), EVTSEL_INT, minus(f, N));
		wr(&r, ctr_msr(f, 1), 0);
		run_known(&r, true);
		assert_int_equal(rd(&r, msr_status(f)) & GLOBAL_STATUS_CTR_FRZ, 0);
		assert_int_equal(rd(&r, ctr_msr(f, 1)), BLK_INSTR);
		rig_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow_status_and_pmi),
		cmocka_unit_test(test_fixed_overflow),
		cmocka_unit_test(test_lvtpc_mask_on_delivery),
		cmocka_unit_test(test_masked_lvtpc_drops_pmi),
		cmocka_unit_test(test_fixed_vector),
		cmocka_unit_test(test_status_clear_and_set),
		cmocka_unit_test(test_global_ctrl_reset),
		cmocka_unit_test(test_overflow_exact),
		cmocka_unit_test(test_skid),
		cmocka_unit_test(test_wrap_at_width),
		cmocka_unit_test(test_block_split_once_at_the_overflow),
		cmocka_unit_test(test_lvtpc_writable_bits),
		cmocka_unit_test(test_freeze_on_pmi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
