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

/* CPUID.1:EAX of the real parts the models stand for (SDM vol. 2 CPUID,
 * AMD APM vol. 3 E.3.2): Skylake-SP 06_55 stepping 4, Ice Lake-SP 06_6A
 * stepping 6, Sapphire Rapids 06_8F stepping 8, Milan family 19h model
 * 01h, Genoa 19h model 11h, Turin 1Ah model 02h, stepping 1. */
static uint32_t real_signature(const char *name)
{
	static const struct { const char *name; uint32_t sig; } t[] = {
		{ "skylake", 0x50654 }, { "icelake", 0x606A6 }, { "sapphirerapids", 0x806F8 },
		{ "zen3", 0xA00F11 }, { "zen4", 0xA10F11 }, { "zen5", 0xB00F21 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, name))
			return t[i].sig;
	fail_msg("no signature for %s", name);
	return 0;
}

/* The leaves a bare-metal test kernel reads besides the PMU's: the
 * signature, the feature bits this machine implements and no others,
 * x2APIC on every model, the brand, and 0 for what is not modelled. */
static void test_cpuid_platform(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_FACT_MODELS; i++) {
		struct rig r;
		uint32_t c[4], d[4];
		char brand[49];

		rig_init(&r, &fact_models[i]);
		cpuid(&r, 0, c);
		assert_int_equal(c[0], 0xD);			/* highest basic leaf */
		cpuid(&r, 1, c);
		assert_int_equal(c[0], real_signature(fact_models[i].name));
		assert_int_equal(c[1] >> 24, 0);		/* APIC ID of CPU 0 */
		assert_true(c[2] & (1u << 21));			/* x2APIC */
		assert_true(c[3] & (1u << 9));			/* APIC, enabled at reset */
		assert_true(c[3] & (1u << 4));			/* MSR */
		assert_true(c[3] & (1u << 5));			/* TSC */
		/* Not implemented here, so not advertised: MONITOR (#UD),
		 * XSAVE, AVX, RDRAND (#UD), hypervisor (bare metal), TSC
		 * deadline (no timer); SEP (SYSENTER #UDs), MTRR, MCE/MCA
		 * (no such MSRs), HTT (one logical CPU). */
		assert_int_equal(c[2] & ((1u << 3) | (1u << 26) | (1u << 28) | (1u << 30) |
					 (1u << 31) | (1u << 24)), 0);
		assert_int_equal(c[3] & ((1u << 11) | (1u << 12) | (1u << 7) | (1u << 14) |
					 (1u << 28)), 0);
		cpuid(&r, 0x80000001, c);
		assert_true(c[3] & (1u << 29));			/* long mode */
		assert_true(c[3] & (1u << 11));			/* SYSCALL */
		/* Leaves not modelled read 0 (caches, power, topology 4). */
		for (uint32_t leaf = 2; leaf <= 6; leaf++) {
			cpuid(&r, leaf, c);
			assert_true(!c[0] && !c[1] && !c[2] && !c[3]);
		}
		cpuid(&r, 0x80000005, c);
		assert_true(!c[0] && !c[1] && !c[2] && !c[3]);
		/* Beyond the highest leaf: Intel answers with the highest basic
		 * leaf, AMD with 0 (SDM vol. 2 CPUID). */
		cpuid(&r, 0x40000000, c);
		cpuid(&r, 0xD, d);
		assert_int_equal(hw_cpuid_leaf(r.cpu.model, 0x40000000),
				 fact_models[i].intel ? 0xD : 0x40000000);
		assert_int_equal(hw_cpuid_leaf(r.cpu.model, 0x80000001), 0x80000001);
		if (fact_models[i].intel)
			assert_memory_equal(c, d, sizeof(c));
		else
			assert_true(!c[0] && !c[1] && !c[2] && !c[3]);
		/* The brand string, 48 bytes NUL-terminated, the vendor's. */
		for (uint32_t k = 0; k < 3; k++) {
			cpuid(&r, 0x80000002 + k, c);
			memcpy(brand + 16 * k, c, 16);
		}
		brand[48] = '\0';
		assert_int_equal(brand[47], '\0');
		assert_int_equal(strncmp(brand, fact_models[i].intel ? "Intel" : "AMD",
					 fact_models[i].intel ? 5 : 3), 0);
		rig_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_table),
		cmocka_unit_test(test_cpuid_leaves),
		cmocka_unit_test(test_cpuid_v5_bitmap),
		cmocka_unit_test(test_cpuid_platform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
