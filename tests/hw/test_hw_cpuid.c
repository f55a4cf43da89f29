/* CPU models and the CPUID leaves that enumerate their PMUs: every preset
 * as FACTS.md section 5 lists it, every field where FACTS.md s.1-2 put it. */
#include "hw_facts.c"

static void test_model_table(void **state)
{
	(void)state;
	assert_int_equal(hw_nr_models, NR_FACT_MODELS);
	for (size_t i = 0; i < NR_FACT_MODELS; i++) {
		const struct fact_model *f = &fact_models[i];
		const struct hw_model *m = hw_model_find(f->name);

		assert_non_null(m);
		assert_int_equal(m->vendor, f->intel ? HW_INTEL : HW_AMD);
		assert_int_equal(m->nr_gp, f->nr_gp);
		assert_int_equal(m->gp_width, f->width);
		if (f->intel) {
			assert_int_equal(m->pmu_version, f->version);
			assert_int_equal(m->fixed_width, f->width);
			for (unsigned j = 0; j < HW_MAX_FIXED; j++)
				assert_int_equal(hw_model_fixed_exists(m, j),
						 !!(f->fixed_exist & (1u << j)));
		}
		assert_int_equal(m->amd_perfctr_core, f->perfctr_core);
		assert_int_equal(m->amd_perfmon_v2, f->perfmon_v2);
	}
}

static void cpuid(struct rig *r, uint32_t leaf, uint32_t out[4])
{
	hw_cpuid(&r->cpu, leaf, 0, out);
}

/* Leaf 0 names the vendor in EBX, EDX, ECX. */
static void check_vendor(struct rig *r)
{
	uint32_t c[4];
	char v[13];

	cpuid(r, 0, c);
	memcpy(v, &c[1], 4);
	memcpy(v + 4, &c[3], 4);
	memcpy(v + 8, &c[2], 4);
	v[12] = 0;
	assert_string_equal(v, r->f->intel ? "GenuineIntel" : "AuthenticAMD");
}

static void check_intel(struct rig *r)
{
	const struct fact_model *f = r->f;
	uint32_t c[4];
	uint64_t caps;

	/* CPUID.1:ECX[15] PDCM: IA32_PERF_CAPABILITIES exists. */
	cpuid(r, 1, c);
	assert_true(c[2] & CPUID_1_ECX_PDCM);
	caps = rd(r, MSR_IA32_PERF_CAPABILITIES);
	assert_int_equal(!!(caps & PERF_CAP_FW_WRITE), f->fw_write);

	cpuid(r, 0xA, c);
	assert_int_equal(c[0] & 0xFF, f->version);
	assert_int_equal((c[0] >> 8) & 0xFF, f->nr_gp);
	assert_int_equal((c[0] >> 16) & 0xFF, f->width);
	assert_true((c[0] >> 24) >= 7);	/* 7 architectural events at least */
	assert_int_equal(c[3] & 0x1F, f->nr_fixed);
	assert_int_equal((c[3] >> 5) & 0xFF, f->width);
	/* EDX[15] AnyThread deprecated, from v5. */
	assert_int_equal(!!(c[3] & (1u << 15)), f->version >= 5);
	/* ECX is the fixed bitmap from v5, reserved (0) before. */
	if (f->version >= 5)
		assert_int_equal(c[2], f->fixed_exist);
	else
		assert_int_equal(c[2], 0);
	/* The AMD leaves say nothing of a PMU on Intel. */
	cpuid(r, 0x80000001, c);
	assert_false(c[2] & CPUID_80000001_ECX_PERFCTR_CORE);
}

static void check_amd(struct rig *r)
{
	const struct fact_model *f = r->f;
	uint32_t c[4];

	cpuid(r, 1, c);
	assert_false(c[2] & CPUID_1_ECX_PDCM);	/* no PERF_CAPABILITIES */
	assert_int_equal(rd_fault(r, MSR_IA32_PERF_CAPABILITIES), X86_GP);
	cpuid(r, 0x80000001, c);
	assert_int_equal(!!(c[2] & CPUID_80000001_ECX_PERFCTR_CORE), f->perfctr_core);
	cpuid(r, 0x80000000, c);
	assert_true(c[0] >= 0x80000022);
	cpuid(r, 0x80000022, c);
	assert_int_equal(c[0] & CPUID_80000022_EAX_PERFMON_V2, f->perfmon_v2);
	/* EBX[3:0]: number of core counters (PerfMonV2). */
	if (f->perfmon_v2)
		assert_int_equal(c[1] & 0xF, f->nr_gp);
	/* No architectural PMU leaf on AMD. */
	cpuid(r, 0xA, c);
	assert_int_equal(c[0] & 0xFF, 0);
}

static void test_cpuid_leaves(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_FACT_MODELS; i++) {
		struct rig r;

		rig_init(&r, &fact_models[i]);
		check_vendor(&r);
		if (r.f->intel)
			check_intel(&r);
		else
			check_amd(&r);
		rig_free(&r);
	}
}

/* A v5 part enumerating fixed counters 0 and 2 only by the bitmap. */
static void test_cpuid_v5_bitmap(void **state)
{
	struct hw_model m = *hw_model_find("icelake");
	struct fact_model f = fact_models[1];
	struct rig r;
	uint32_t c[4];

	(void)state;
	m.nr_fixed = 0;
	m.fixed_bitmap = 0x5;
	rig_init_model(&r, &m, &f);
	cpuid(&r, 0xA, c);
	assert_int_equal(c[2], 0x5);
	assert_int_equal(c[3] & 0x1F, 0);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_table),
		cmocka_unit_test(test_cpuid_leaves),
		cmocka_unit_test(test_cpuid_v5_bitmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
