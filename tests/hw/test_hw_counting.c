/* Counting on every model: exact counts of a known block on every GP and
 * fixed counter, the enables and privilege filters, write and read back
 * (FACTS.md s.1 counting rule, s.2). */
#include "hw_facts.c"

/* Each GP counter counts instructions, then branches, over one kernel and
 * one user block: both privileges selected, so twice the block. */
static void check_gp(struct rig *r, unsigned i, uint64_t ev, uint64_t per_block)
{
	uint64_t v;

	gp_prog(r, i, ev, 0, 0);
	global_set(r, X86_BIT(i));
	run_known(r, true);
	run_known(r, false);
	global_set(r, 0);
	assert_int_equal(rd(r, ctr_msr(r->f, i)), 2 * per_block);
	assert_int_equal(hw_rdpmc(&r->cpu, i, &v), X86_OK);
	assert_int_equal(v, 2 * per_block);
	wr(r, sel_msr(r->f, i), 0);
}

static void test_gp_counts(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;

		rig_init(&r, &fact_models[m]);
		for (unsigned i = 0; i < r.f->nr_gp; i++) {
			check_gp(&r, i, ev_instr(r.f), BLK_INSTR);
			check_gp(&r, i, ev_branch(r.f), BLK_BRANCH);
		}
		rig_free(&r);
	}
}

static void test_fixed_counts(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;

		rig_init(&r, &fact_models[m]);
		for (unsigned i = 0; i < 4; i++) {
			uint64_t v;

			if (!(r.f->fixed_exist & (1u << i)))
				continue;
			wr(&r, MSR_IA32_FIXED_CTR0 + i, 0);
			wr(&r, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_FIELD(i, 3));
			global_set(&r, X86_BIT(32 + i));
			run_known(&r, true);
			run_known(&r, false);
			global_set(&r, 0);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0 + i), 2 * fixed_expected(i));
			assert_int_equal(hw_rdpmc(&r.cpu, RDPMC_FIXED | i, &v), X86_OK);
			assert_int_equal(v, 2 * fixed_expected(i));
		}
		rig_free(&r);
	}
}

/* USR counts CPL>0 work, OS CPL 0 work; fixed EN field 1 OS, 2 USR. */
static void test_privilege(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;
		uint64_t ev;

		rig_init(&r, &fact_models[m]);
		ev = ev_instr(r.f) | EVTSEL_EN;
		wr(&r, sel_msr(r.f, 0), ev | EVTSEL_USR);
		wr(&r, sel_msr(r.f, 1), ev | EVTSEL_OS);
		global_set(&r, 3);
		run_known(&r, true);
		run_known(&r, false);
		run_known(&r, false);
		assert_int_equal(rd(&r, ctr_msr(r.f, 0)), 2 * BLK_INSTR);
		assert_int_equal(rd(&r, ctr_msr(r.f, 1)), BLK_INSTR);
		if (r.f->intel) {
			wr(&r, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_FIELD(0, FIXED_CTRL_OS) |
			   FIXED_CTRL_FIELD(1, FIXED_CTRL_USR));
			global_set(&r, X86_BIT(32) | X86_BIT(33));
			run_known(&r, true);
			run_known(&r, false);
			run_known(&r, false);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0), BLK_INSTR);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0 + 1), 2 * BLK_CYCLES);
		}
		rig_free(&r);
	}
}

/* A counter counts only with EN and (v2+/PerfMonV2) its GLOBAL_CTRL bit;
 * a fixed counter only with a non-zero EN field and its global bit. */
static void test_disabled(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;
		uint64_t ev;

		rig_init(&r, &fact_models[m]);
		ev = ev_instr(r.f) | EVTSEL_USR | EVTSEL_OS;
		wr(&r, sel_msr(r.f, 0), ev);			/* no EN */
		wr(&r, sel_msr(r.f, 1), ev | EVTSEL_EN);	/* no global bit */
		wr(&r, sel_msr(r.f, 2), ev | EVTSEL_EN);	/* the control */
		global_set(&r, X86_BIT(0) | X86_BIT(2));
		run_known(&r, true);
		assert_int_equal(rd(&r, ctr_msr(r.f, 0)), 0);
		assert_int_equal(rd(&r, ctr_msr(r.f, 1)), has_global(r.f) ? 0 : BLK_INSTR);
		assert_int_equal(rd(&r, ctr_msr(r.f, 2)), BLK_INSTR);
		if (r.f->intel) {
			/* fixed 0: field 0 with global bit; fixed 1: field
			 * set without global bit. */
			wr(&r, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_FIELD(1, 3));
			global_set(&r, X86_BIT(32));
			run_known(&r, true);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0), 0);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0 + 1), 0);
		}
		rig_free(&r);
	}
}

static void test_write_read_back(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;

		rig_init(&r, &fact_models[m]);
		for (unsigned i = 0; i < r.f->nr_gp; i++) {
			uint64_t sel = ev_branch(r.f) | EVTSEL_OS | EVTSEL_INT | EVTSEL_EN |
				       EVTSEL_INV | (0x5ULL << 24);
			uint64_t v;

			wr(&r, ctr_msr(r.f, i), 0x12345678 + i);
			assert_int_equal(rd(&r, ctr_msr(r.f, i)), 0x12345678 + i);
			assert_int_equal(hw_rdpmc(&r.cpu, i, &v), X86_OK);
			assert_int_equal(v, 0x12345678 + i);
			wr(&r, sel_msr(r.f, i), sel);
			assert_int_equal(rd(&r, sel_msr(r.f, i)), sel);
		}
		for (unsigned i = 0; i < 4; i++) {
			if (!(r.f->fixed_exist & (1u << i)))
				continue;
			wr(&r, MSR_IA32_FIXED_CTR0 + i, 0xABCDEF012ULL + i);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0 + i), 0xABCDEF012ULL + i);
		}
		if (r.f->intel) {
			uint64_t fc = FIXED_CTRL_FIELD(0, 0xB) | FIXED_CTRL_FIELD(1, 2);

			wr(&r, MSR_IA32_FIXED_CTR_CTRL, fc);
			assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR_CTRL), fc);
		}
		if (has_global(r.f)) {
			wr(&r, msr_global_ctrl(r.f), 0x3);
			assert_int_equal(rd(&r, msr_global_ctrl(r.f)), 0x3);
		}
		rig_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gp_counts),
		cmocka_unit_test(test_fixed_counts),
		cmocka_unit_test(test_privilege),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_write_read_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
