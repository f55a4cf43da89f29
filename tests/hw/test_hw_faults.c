/* Counter write semantics and architectural faults on every model: legacy
 * sign extension, full-width writes, counters that do not exist, RDPMC
 * encodings and CR4.PCE, reserved bits, read-only MSRs (FACTS.md s.1-2). */
#include "hw_facts.c"

/* IA32_PMCx: EAX sign-extended to 64 bits, masked to the width; the
 * upper input bits are ignored. */
static void test_legacy_sign_extend(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		uint64_t mask = width_mask(f);
		struct rig r;

		if (!f->intel)
			continue;
		rig_init(&r, f);
		for (unsigned i = 0; i < f->nr_gp; i++) {
			uint32_t msr = MSR_IA32_PMC0 + i;

			wr(&r, msr, 0x80000000ULL);
			assert_int_equal(rd(&r, msr), 0xFFFFFFFF80000000ULL & mask);
			wr(&r, msr, 0x7FFFFFFFULL);
			assert_int_equal(rd(&r, msr), 0x7FFFFFFFULL);
			wr(&r, msr, 0xDEADBEEF00001234ULL);
			assert_int_equal(rd(&r, msr), 0x1234);
			wr(&r, msr, 0x00000001FFFFFFFEULL);
			assert_int_equal(rd(&r, msr), 0xFFFFFFFFFFFFFFFEULL & mask);
		}
		rig_free(&r);
	}
}

/* IA32_A_PMCx with FW_WRITE: the value as written (no sign extension),
 * bits above the width #GP and leave the counter alone. */
static void test_full_width(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		uint64_t mask = width_mask(f);
		struct rig r;

		if (!f->intel || !f->fw_write)
			continue;
		rig_init(&r, f);
		for (unsigned i = 0; i < f->nr_gp; i++) {
			uint32_t msr = MSR_IA32_A_PMC0 + i;

			wr(&r, msr, 0x80000000ULL);
			assert_int_equal(rd(&r, MSR_IA32_PMC0 + i), 0x80000000ULL);
			wr(&r, msr, mask);
			assert_int_equal(rd(&r, msr), mask);
			assert_int_equal(wr_fault(&r, msr, mask + 1), X86_GP);
			assert_int_equal(wr_fault(&r, msr, X86_BIT(63)), X86_GP);
			assert_int_equal(rd(&r, msr), mask);
		}
		rig_free(&r);
	}
}

/* A model variant without FW_WRITE: the A_PMCx aliases do not exist. */
static void test_full_width_absent(void **state)
{
	struct hw_model m = *hw_model_find("skylake");
	struct rig r;

	(void)state;
	m.perf_caps &= ~PERF_CAP_FW_WRITE;
	rig_init_model(&r, &m, &fact_models[0]);
	assert_int_equal(wr_fault(&r, MSR_IA32_A_PMC0, 1), X86_GP);
	assert_int_equal(rd_fault(&r, MSR_IA32_A_PMC0), X86_GP);
	rig_free(&r);
}

static void check_rdpmc_gp(struct rig *r, uint32_t ecx)
{
	uint64_t v = 0x5A5A;

	assert_int_equal(hw_rdpmc(&r->cpu, ecx, &v), X86_GP);
}

/* Counters past nr_gp: their MSRs and RDPMC indices #GP, as do an index
 * out of the 16-bit range's use and the old "fast read" bit 31. */
static void test_nonexistent_gp(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		unsigned n = f->nr_gp;
		struct rig r;

		rig_init(&r, f);
		assert_int_equal(wr_fault(&r, sel_msr(f, n), 0), X86_GP);
		assert_int_equal(wr_fault(&r, ctr_msr(f, n), 0), X86_GP);
		assert_int_equal(rd_fault(&r, sel_msr(f, n)), X86_GP);
		assert_int_equal(rd_fault(&r, ctr_msr(f, n)), X86_GP);
		if (f->intel && f->fw_write)
			assert_int_equal(wr_fault(&r, MSR_IA32_A_PMC0 + n, 0), X86_GP);
		check_rdpmc_gp(&r, n);
		check_rdpmc_gp(&r, 0xFFFF);
		check_rdpmc_gp(&r, (uint32_t)RDPMC_FAST);
		check_rdpmc_gp(&r, (uint32_t)RDPMC_FAST | 1);
		check_rdpmc_gp(&r, 0x10000);	/* an undefined type */
		rig_free(&r);
	}
}

static void test_nonexistent_fixed(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct rig r;

		rig_init(&r, f);
		for (unsigned i = 0; i < 4; i++) {
			if (f->fixed_exist & (1u << i))
				continue;
			/* AMD has no fixed counters: no such MSR either. */
			assert_int_equal(wr_fault(&r, MSR_IA32_FIXED_CTR0 + i, 0), X86_GP);
			assert_int_equal(rd_fault(&r, MSR_IA32_FIXED_CTR0 + i), X86_GP);
			check_rdpmc_gp(&r, (uint32_t)RDPMC_FIXED | i);
			if (f->intel)
				assert_int_equal(wr_fault(&r, MSR_IA32_PERF_GLOBAL_CTRL,
							  X86_BIT(32 + i)), X86_GP);
		}
		check_rdpmc_gp(&r, (uint32_t)RDPMC_FIXED | 0xFFFF);
		rig_free(&r);
	}
}

/* v5: fixed counter i exists iff ECX[i] or i < EDX[4:0].  A sparse
 * bitmap 0x5 with EDX[4:0] = 0 gives fixed 0 and 2, not 1 and 3. */
static void test_v5_bitmap(void **state)
{
	struct hw_model m = *hw_model_find("icelake");
	struct fact_model f = fact_models[1];
	struct rig r;
	uint64_t v;

	(void)state;
	m.nr_fixed = 0;
	m.fixed_bitmap = 0x5;
	f.nr_fixed = 0;
	f.fixed_exist = 0x5;
	rig_init_model(&r, &m, &f);
	assert_int_equal(wr_fault(&r, MSR_IA32_FIXED_CTR0 + 1, 0), X86_GP);
	assert_int_equal(wr_fault(&r, MSR_IA32_FIXED_CTR0 + 3, 0), X86_GP);
	check_rdpmc_gp(&r, (uint32_t)RDPMC_FIXED | 1);
	check_rdpmc_gp(&r, (uint32_t)RDPMC_FIXED | 3);
	assert_int_equal(wr_fault(&r, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_FIELD(1, 3)), X86_GP);
	assert_int_equal(wr_fault(&r, MSR_IA32_PERF_GLOBAL_CTRL, X86_BIT(33)), X86_GP);
	/* Fixed 2 (reference cycles) exists and counts. */
	wr(&r, MSR_IA32_FIXED_CTR0 + 2, 0);
	wr(&r, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_FIELD(0, 3) | FIXED_CTRL_FIELD(2, 3));
	wr(&r, MSR_IA32_PERF_GLOBAL_CTRL, X86_BIT(32) | X86_BIT(34));
	run_known(&r, true);
	assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0), BLK_INSTR);
	assert_int_equal(rd(&r, MSR_IA32_FIXED_CTR0 + 2), BLK_REF);
	assert_int_equal(hw_rdpmc(&r.cpu, RDPMC_FIXED | 2, &v), X86_OK);
	assert_int_equal(v, BLK_REF);
	rig_free(&r);
}

/* Before v5 ECX is reserved: a stray bitmap must not add counters. */
static void test_v4_ignores_bitmap(void **state)
{
	struct hw_model m = *hw_model_find("skylake");
	struct rig r;

	(void)state;
	m.fixed_bitmap = 0x8;
	rig_init_model(&r, &m, &fact_models[0]);
	assert_int_equal(wr_fault(&r, MSR_IA32_FIXED_CTR0 + 3, 0), X86_GP);
	check_rdpmc_gp(&r, (uint32_t)RDPMC_FIXED | 3);
	rig_free(&r);
}

/* RDPMC at CPL>0 needs CR4.PCE; CPL 0 never does. */
static void test_rdpmc_pce(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;
		uint64_t v = 0;

		rig_init(&r, &fact_models[m]);
		wr(&r, ctr_msr(r.f, 0), 0x777);
		r.cpu.cpl = 3;
		r.cpu.cr4_pce = false;
		check_rdpmc_gp(&r, 0);
		r.cpu.cr4_pce = true;
		assert_int_equal(hw_rdpmc(&r.cpu, 0, &v), X86_OK);
		assert_int_equal(v, 0x777);
		r.cpu.cpl = 0;
		r.cpu.cr4_pce = false;
		v = 0;
		assert_int_equal(hw_rdpmc(&r.cpu, 0, &v), X86_OK);
		assert_int_equal(v, 0x777);
		rig_free(&r);
	}
}

/* Intel: reserved bits of PERFEVTSEL (63:32 without TSX), FIXED_CTR_CTRL
 * and GLOBAL_CTRL #GP and change nothing; AnyThread is reserved once
 * deprecated (v5). */
static void test_intel_reserved(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		uint64_t sel;
		struct rig r;

		if (!f->intel)
			continue;
		rig_init(&r, f);
		sel = ev_instr(f) | EVTSEL_OS;
		wr(&r, sel_msr(f, 0), sel);
		assert_int_equal(wr_fault(&r, sel_msr(f, 0), sel | X86_BIT(63)), X86_GP);
		assert_int_equal(wr_fault(&r, sel_msr(f, 0), sel | X86_BIT(40)), X86_GP);
		assert_int_equal(rd(&r, sel_msr(f, 0)), sel);
		assert_int_equal(wr_fault(&r, sel_msr(f, 0), sel | EVTSEL_ANY),
				 f->version >= 5 ? X86_GP : X86_OK);
		/* GLOBAL_CTRL: bit nr_gp (past the GP counters) and 40 are reserved. */
		if (f->nr_gp < 32)
			assert_int_equal(wr_fault(&r, MSR_IA32_PERF_GLOBAL_CTRL,
						  X86_BIT(f->nr_gp)), X86_GP);
		assert_int_equal(wr_fault(&r, MSR_IA32_PERF_GLOBAL_CTRL, X86_BIT(40)), X86_GP);
		/* FIXED_CTR_CTRL: fields past the last fixed counter. */
		assert_int_equal(wr_fault(&r, MSR_IA32_FIXED_CTR_CTRL,
					  FIXED_CTRL_FIELD(4, 1)), X86_GP);
		rig_free(&r);
	}
}

/* GLOBAL_STATUS is read-only: a write #GPs on Intel, is ignored on AMD;
 * INUSE (v4) is read-only too. */
static void test_status_read_only(void **state)
{
	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		const struct fact_model *f = &fact_models[m];
		struct rig r;

		if (!has_global(f))
			continue;
		rig_init(&r, f);
		if (f->intel) {
			assert_int_equal(wr_fault(&r, msr_status(f), X86_BIT(0)), X86_GP);
			assert_int_equal(wr_fault(&r, MSR_IA32_PERF_GLOBAL_INUSE, 0), X86_GP);
		} else {
			assert_int_equal(wr_fault(&r, msr_status(f), X86_BIT(0)), X86_OK);
		}
		assert_int_equal(rd(&r, msr_status(f)), 0);
		rig_free(&r);
	}
}

/* IA32_MISC_ENABLE (SDM vol. 4 table 2-2) exists on Intel only: fast
 * strings on at reset, EMON (bit 7) set as every modelled part has a PMU,
 * BTS/PEBS unavailable (bits 11/12: the model has neither), those three
 * read-only; writable bits are kept, reserved ones #GP.  AMD: no such MSR. */
static void test_misc_enable_bare(void **state)
{
	const uint64_t ro = MISC_ENABLE_EMON | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;

	(void)state;
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		struct rig r;

		rig_init(&r, &fact_models[m]);
		if (!fact_models[m].intel) {
			assert_int_equal(rd_fault(&r, MSR_IA32_MISC_ENABLE), X86_GP);
			assert_int_equal(wr_fault(&r, MSR_IA32_MISC_ENABLE, 0), X86_GP);
			rig_free(&r);
			continue;
		}
		assert_int_equal(rd(&r, MSR_IA32_MISC_ENABLE), X86_BIT(0) | ro);
		wr(&r, MSR_IA32_MISC_ENABLE, X86_BIT(3));	/* RO bits written 0 */
		assert_int_equal(rd(&r, MSR_IA32_MISC_ENABLE), X86_BIT(3) | ro);
		assert_int_equal(wr_fault(&r, MSR_IA32_MISC_ENABLE, X86_BIT(1)), X86_GP);
		assert_int_equal(wr_fault(&r, MSR_IA32_MISC_ENABLE, X86_BIT(63)), X86_GP);
		assert_int_equal(rd(&r, MSR_IA32_MISC_ENABLE), X86_BIT(3) | ro);
		rig_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_sign_extend),
		cmocka_unit_test(test_misc_enable_bare),
		cmocka_unit_test(test_full_width),
		cmocka_unit_test(test_full_width_absent),
		cmocka_unit_test(test_nonexistent_gp),
		cmocka_unit_test(test_nonexistent_fixed),
		cmocka_unit_test(test_v5_bitmap),
		cmocka_unit_test(test_v4_ignores_bitmap),
		cmocka_unit_test(test_rdpmc_pce),
		cmocka_unit_test(test_intel_reserved),
		cmocka_unit_test(test_status_read_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
