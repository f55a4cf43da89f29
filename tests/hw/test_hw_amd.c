/* AMD specifics on zen3/zen4/zen5: the K7 MSRs alias core counters 0-3,
 * reserved selector bits are ignored, and the Host/Guest-only truth table
 * against EFER.SVME and guest mode (FACTS.md s.2). */
#include "hw_facts.c"

static void test_legacy_alias(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct rig r;

		if (f->intel)
			continue;
		rig_init(&r, f);
		for (unsigned i = 0; i < 4; i++) {
			uint64_t sel = ev_branch(f) | EVTSEL_OS | EVTSEL_INT;

			wr(&r, MSR_K7_PERFCTR0 + i, 0x1000 + i);
			assert_int_equal(rd(&r, MSR_F15H_PERF_CTR0 + 2 * i), 0x1000 + i);
			wr(&r, MSR_F15H_PERF_CTR0 + 2 * i, 0x2000 + i);
			assert_int_equal(rd(&r, MSR_K7_PERFCTR0 + i), 0x2000 + i);
			wr(&r, MSR_K7_EVNTSEL0 + i, sel);
			assert_int_equal(rd(&r, MSR_F15H_PERF_CTL0 + 2 * i), sel);
			wr(&r, MSR_F15H_PERF_CTL0 + 2 * i, sel | EVTSEL_USR);
			assert_int_equal(rd(&r, MSR_K7_EVNTSEL0 + i), sel | EVTSEL_USR);
		}
		/* Programmed through the legacy MSRs, counted by the core
		 * counter (and RDPMC of the same index). */
		wr(&r, MSR_K7_PERFCTR0 + 3, 0);
		wr(&r, MSR_K7_EVNTSEL0 + 3, ev_instr(f) | EVTSEL_OS | EVTSEL_EN);
		run_known(&r, true);
		assert_int_equal(rd(&r, MSR_F15H_PERF_CTR0 + 6), BLK_INSTR);
		/* Counters 4 and 5 have no legacy alias. */
		wr(&r, MSR_F15H_PERF_CTR0 + 8, 0x55);
		assert_int_equal(rd(&r, MSR_K7_PERFCTR0), 0x2000);
		rig_free(&r);
	}
}

/* Reserved: 19, 21, 39:36, 63:42 (bits 31:0 as Intel except 19 and 21;
 * 35:32 event[11:8]; 40 GuestOnly; 41 HostOnly).  Written without a fault,
 * they read back as 0 and do not change what the selector counts. */
#define AMD_RESERVED (EVTSEL_PC | EVTSEL_ANY | (0xFULL << 36) | (~0ULL << 42))

static void test_reserved_ignored(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		uint64_t sel;
		struct rig r;

		if (f->intel)
			continue;
		rig_init(&r, f);
		sel = ev_instr(f) | EVTSEL_OS | EVTSEL_EN;
		wr(&r, sel_msr(f, 0), 0);
		assert_int_equal(wr_fault(&r, sel_msr(f, 0), sel | AMD_RESERVED), X86_OK);
		assert_int_equal(rd(&r, sel_msr(f, 0)), sel);
		wr(&r, sel_msr(f, 1), ~0ULL);
		assert_int_equal(rd(&r, sel_msr(f, 1)), ~AMD_RESERVED);
		wr(&r, sel_msr(f, 1), 0);
		run_known(&r, true);
		assert_int_equal(rd(&r, ctr_msr(f, 0)), BLK_INSTR);
		rig_free(&r);
	}
}

/* The truth table: neither bit counts everywhere; with SVME=1 GuestOnly
 * counts only in guest mode, HostOnly only in host mode, both in both;
 * with SVME=0 either bit stops the counter. */
static bool hg_counts(bool g, bool h, bool svme, bool guest)
{
	if (!g && !h)
		return true;
	if (!svme)
		return false;
	return (g && guest) || (h && !guest);
}

static void check_hg(const struct fact_model *f, bool g, bool h, bool svme,
		     bool guest)
{
	uint64_t sel = ev_instr(f) | EVTSEL_OS | EVTSEL_USR | EVTSEL_EN;
	struct rig r;

	rig_init(&r, f);
	if (g)
		sel |= AMD_EVTSEL_GUESTONLY;
	if (h)
		sel |= AMD_EVTSEL_HOSTONLY;
	wr(&r, MSR_EFER, svme ? EFER_SVME : 0);
	wr(&r, sel_msr(f, 0), sel);
	hw_cpu_set_guest_mode(&r.cpu, guest);
	run_known(&r, true);
	run_known(&r, false);
	hw_cpu_set_guest_mode(&r.cpu, false);
	assert_int_equal(rd(&r, ctr_msr(f, 0)),
			 hg_counts(g, h, svme, guest) ? 2 * BLK_INSTR : 0);
	rig_free(&r);
}

static void test_host_guest_truth_table(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		if (fact_models[m].intel)
			continue;
		for (unsigned bits = 0; bits < 16; bits++)
			check_hg(&fact_models[m], bits & 1, bits & 2, bits & 4, bits & 8);
	}
}

/* Zen3 has no PerfMonV2: no global MSRs, and counting needs only EN. */
static void test_zen3_no_global(void **state)
{
	const struct fact_model *f = &fact_models[3];
	struct rig r;

	(void)state;
	assert_string_equal(f->name, "zen3");
	rig_init(&r, f);
	assert_int_equal(rd_fault(&r, MSR_AMD_GLOBAL_CTL), X86_GP);
	assert_int_equal(rd_fault(&r, MSR_AMD_GLOBAL_STATUS), X86_GP);
	assert_int_equal(wr_fault(&r, MSR_AMD_GLOBAL_STATUS_CLR, 1), X86_GP);
	assert_int_equal(wr_fault(&r, MSR_AMD_GLOBAL_STATUS_SET, 1), X86_GP);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_alias),
		cmocka_unit_test(test_reserved_ignored),
		cmocka_unit_test(test_host_guest_truth_table),
		cmocka_unit_test(test_zen3_no_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
