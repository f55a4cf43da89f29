/* test_kvm_nested: L2's merged PMU MSR bitmaps (VMX and SVM, 7.0's
 * directions) and L1's AMD Host/Guest-only bits under the mediated vPMU:
 * dropped in 7.0, emulated with the Jan 2026 proposal (FACTS.md s.2, s.4, s.7). */
#include "kvm_test.h"
#include "kvm/kvm_nested.h"

struct pass {
	uint32_t msr;
	bool rd, wr;	/* passes through for a read / a write */
};

static const struct pass *find_pass(const struct pass *p, unsigned n, uint32_t msr)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i].msr == msr)
			return &p[i];
	return NULL;
}

static bool vmx_exits(const uint8_t *bm, uint32_t msr, bool write)
{
	static struct hw_vmcs c;

	hw_vmcs_init(&c);
	memcpy(c.msr_bitmap, bm, sizeof(c.msr_bitmap));
	return hw_vmx_msr_exits(&c, msr, write);
}

static bool svm_exits(const uint8_t *pm, uint32_t msr, bool write)
{
	static struct hw_vmcb c;

	hw_vmcb_init(&c);
	memcpy(c.msrpm, pm, sizeof(c.msrpm));
	return hw_svm_msr_exits(&c, msr, write);
}

/* Every MSR the bitmap covers passes through exactly as `p` says. */
static void check_exact(const uint8_t *bm, bool svm, const struct pass *p, unsigned n)
{
	static const uint32_t base[3] = { 0, 0xC0000000, 0xC0010000 };

	for (int r = 0; r < (svm ? 3 : 2); r++) {
		for (uint32_t off = 0; off <= 0x1FFF; off++) {
			uint32_t msr = base[r] + off;
			const struct pass *e = find_pass(p, n, msr);

			for (int w = 0; w < 2; w++) {
				bool exits = svm ? svm_exits(bm, msr, w) : vmx_exits(bm, msr, w);
				bool want_pass = e && (w ? e->wr : e->rd);

				if (exits == want_pass)
					fail_msg("msr %#x %s: %s, expected %s", msr, w ? "write" : "read",
						 exits ? "exits" : "passes", want_pass ? "pass" : "exit");
			}
		}
	}
}

/* ---- VMX ---- */

static void test_vmx_merge_intersection(void **state)
{
	static struct hw_vmcs l1;
	static uint8_t out[KVM_NESTED_VMX_BITMAP_SIZE];
	const uint32_t l1_pass[] = {
		MSR_IA32_PMC0, MSR_IA32_A_PMC0 + 2, MSR_IA32_FIXED_CTR0 + 1,
		MSR_IA32_PERF_GLOBAL_CTRL, MSR_IA32_PERF_GLOBAL_STATUS,
		MSR_IA32_PERF_GLOBAL_OVF_CTRL, MSR_IA32_PERF_GLOBAL_STATUS_SET,
		MSR_IA32_PERFEVTSEL0, MSR_IA32_FIXED_CTR_CTRL, 0x6E0 /* TSC_DEADLINE */,
		MSR_EFER,
	};
	/* L0 passes every counter and the globals to a skylake guest of the
	 * host's shape, so the merge is L1's choice on the merged MSRs, in
	 * 7.0's directions (nested_vmx_merge_pmu_msr_bitmaps): GLOBAL_STATUS
	 * for reads only, OVF_CTRL for writes only, STATUS_SET not at all. */
	const struct pass want[] = {
		{ MSR_IA32_PMC0, true, true },
		{ MSR_IA32_A_PMC0 + 2, true, true },
		{ MSR_IA32_FIXED_CTR0 + 1, true, true },
		{ MSR_IA32_PERF_GLOBAL_CTRL, true, true },
		{ MSR_IA32_PERF_GLOBAL_STATUS, true, false },
		{ MSR_IA32_PERF_GLOBAL_OVF_CTRL, false, true },
	};
	struct kt t;

	(void)state;
	kt_setup(&t, "skylake", MV_VPMU_MEDIATED);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_MEDIATED);
	assert_true(t.vcpu->pmu.passthrough_global);
	for (unsigned i = 0; i < 4; i++) {
		assert_false(hw_vmx_msr_exits(&t.vcpu->vmcs, MSR_IA32_PMC0 + i, true));
		assert_false(hw_vmx_msr_exits(&t.vcpu->vmcs, MSR_IA32_A_PMC0 + i, true));
	}
	hw_vmcs_init(&l1);
	for (unsigned i = 0; i < sizeof(l1_pass) / sizeof(l1_pass[0]); i++)
		hw_vmx_msr_intercept(&l1, l1_pass[i], false, false);
	kvm_nested_vmx_merge_msr_bitmap(t.vcpu, l1.msr_bitmap, out);
	check_exact(out, false, want, sizeof(want) / sizeof(want[0]));
	assert_true(kvm_nested_pmu_msr_merged(t.vcpu, MSR_IA32_PERF_GLOBAL_STATUS, false));
	assert_false(kvm_nested_pmu_msr_merged(t.vcpu, MSR_IA32_PERF_GLOBAL_STATUS, true));
	assert_false(kvm_nested_pmu_msr_merged(t.vcpu, MSR_IA32_PERF_GLOBAL_STATUS_SET, true));
	/* The non-PMU MSRs and the selectors L1 passed still exit. */
	assert_true(vmx_exits(out, 0x6E0, true));
	assert_true(vmx_exits(out, MSR_IA32_PERFEVTSEL0, true));
	assert_true(vmx_exits(out, MSR_IA32_FIXED_CTR_CTRL, false));
	/* Without MSR bitmaps in L1, L2 exits on everything. */
	kvm_nested_vmx_merge_msr_bitmap(t.vcpu, NULL, out);
	check_exact(out, false, NULL, 0);
	kt_teardown(&t);

	/* 7.0 on Sapphire Rapids: L0 intercepts the globals (3 of 4 fixed
	 * counters), so only the counters L1 passes reach L2. */
	kt_setup(&t, "sapphirerapids", MV_VPMU_MEDIATED);
	assert_false(t.vcpu->pmu.passthrough_global);
	kvm_nested_vmx_merge_msr_bitmap(t.vcpu, l1.msr_bitmap, out);
	check_exact(out, false, want, 3);
	kt_teardown(&t);
}

static void test_vmx_merge_l0_intercepts(void **state)
{
	static uint8_t l1[KVM_NESTED_VMX_BITMAP_SIZE];	/* passes everything */
	static uint8_t out[KVM_NESTED_VMX_BITMAP_SIZE];
	struct mv_vm_config cfg = kt_vm_config();
	struct pass want[2 * 2 + HW_MAX_FIXED];
	unsigned n = 0;
	struct kt t;

	(void)state;
	cfg.nr_gp = 2;
	kt_machine(&t, "sapphirerapids", false, MV_VPMU_MEDIATED);
	kt_vm(&t, &cfg);
	assert_int_equal(t.vcpu->pmu.nr_gp, 2);
	assert_false(t.vcpu->pmu.passthrough_global);
	for (uint32_t i = 0; i < 2; i++) {
		want[n++] = (struct pass){ MSR_IA32_PMC0 + i, true, true };
		want[n++] = (struct pass){ MSR_IA32_A_PMC0 + i, true, true };
	}
	for (uint32_t i = 0; i < t.vcpu->pmu.nr_fixed; i++)
		want[n++] = (struct pass){ MSR_IA32_FIXED_CTR0 + i, true, true };
	memset(l1, 0, sizeof(l1));
	kvm_nested_vmx_merge_msr_bitmap(t.vcpu, l1, out);
	/* Counters 2..7 and the global MSRs: L0 intercepts, whatever L1. */
	check_exact(out, false, want, n);
	assert_true(vmx_exits(out, MSR_IA32_PMC0 + 2, false));
	assert_true(vmx_exits(out, MSR_IA32_PERF_GLOBAL_CTRL, true));
	kt_teardown(&t);
}

static void test_vmx_merge_emulated_merges_nothing(void **state)
{
	static uint8_t l1[KVM_NESTED_VMX_BITMAP_SIZE];
	static uint8_t out[KVM_NESTED_VMX_BITMAP_SIZE];
	struct kt t;

	(void)state;
	kt_setup(&t, "sapphirerapids", MV_VPMU_EMULATED);
	memset(l1, 0, sizeof(l1));
	kvm_nested_vmx_merge_msr_bitmap(t.vcpu, l1, out);
	check_exact(out, false, NULL, 0);
	kt_teardown(&t);
}

/* ---- SVM ---- */

static void test_svm_merge_intersection(void **state)
{
	static struct hw_vmcb l1;
	static uint8_t out[KVM_NESTED_SVM_MSRPM_SIZE];
	const uint32_t l1_pass[] = {
		MSR_F15H_PERF_CTR0, MSR_K7_PERFCTR0 + 1, MSR_AMD_GLOBAL_CTL,
		MSR_F15H_PERF_CTL0, MSR_K7_EVNTSEL0, MSR_EFER, 0x10 /* TSC */,
	};
	const struct pass want[] = {
		{ MSR_F15H_PERF_CTR0, true, true },
		{ MSR_K7_PERFCTR0 + 1, true, true },
		{ MSR_AMD_GLOBAL_CTL, true, true },
		{ MSR_AMD_GLOBAL_STATUS, true, false },
	};
	struct kt t;

	(void)state;
	kt_setup(&t, "zen4", MV_VPMU_MEDIATED);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_MEDIATED);
	assert_true(t.vcpu->pmu.passthrough_global);
	assert_false(hw_svm_msr_exits(&t.vcpu->vmcb, MSR_F15H_PERF_CTR0 + 2, true));
	hw_vmcb_init(&l1);
	for (unsigned i = 0; i < sizeof(l1_pass) / sizeof(l1_pass[0]); i++)
		hw_svm_msr_intercept(&l1, l1_pass[i], false, false);
	hw_svm_msr_intercept(&l1, MSR_AMD_GLOBAL_STATUS, false, true);
	kvm_nested_svm_merge_msrpm(t.vcpu, l1.msrpm, out);
	check_exact(out, true, want, sizeof(want) / sizeof(want[0]));
	/* L0 passes counter 1 (extended alias) but L1 intercepts it. */
	assert_false(hw_svm_msr_exits(&t.vcpu->vmcb, MSR_F15H_PERF_CTR0 + 2, false));
	assert_true(svm_exits(out, MSR_F15H_PERF_CTR0 + 2, false));
	assert_true(svm_exits(out, MSR_F15H_PERF_CTL0, true));
	assert_true(svm_exits(out, 0x10, false));
	kt_teardown(&t);
}

/* A guest with fewer counters than the host: L0 intercepts the missing
 * counters and the globals, and the PerfCtrExtCore aliases altogether
 * when the guest has no more than the four legacy counters. */
static void svm_merge_smaller(int nr_gp)
{
	static uint8_t l1[KVM_NESTED_SVM_MSRPM_SIZE];	/* passes everything */
	static uint8_t out[KVM_NESTED_SVM_MSRPM_SIZE];
	struct mv_vm_config cfg = kt_vm_config();
	struct pass want[2 * HW_MAX_GP];
	unsigned n = 0;
	struct kt t;

	cfg.nr_gp = nr_gp;
	kt_machine(&t, "zen4", false, MV_VPMU_MEDIATED);
	kt_vm(&t, &cfg);
	assert_int_equal(t.vcpu->pmu.nr_gp, nr_gp);
	assert_false(t.vcpu->pmu.passthrough_global);
	for (uint32_t i = 0; i < (uint32_t)nr_gp; i++) {
		if (i < 4)
			want[n++] = (struct pass){ MSR_K7_PERFCTR0 + i, true, true };
		if (nr_gp > 4)
			want[n++] = (struct pass){ MSR_F15H_PERF_CTR0 + 2 * i, true, true };
	}
	memset(l1, 0, sizeof(l1));
	kvm_nested_svm_merge_msrpm(t.vcpu, l1, out);
	check_exact(out, true, want, n);
	assert_true(svm_exits(out, MSR_F15H_PERF_CTR0 + 2 * 5, true));
	assert_true(svm_exits(out, MSR_AMD_GLOBAL_CTL, false));
	kt_teardown(&t);
}

static void test_svm_merge_l0_intercepts(void **state)
{
	(void)state;
	svm_merge_smaller(5);
	svm_merge_smaller(2);
}

/* ---- AMD Host/Guest-only bits ---- */

static const uint64_t hg_bits[4] = {
	0, AMD_EVTSEL_GUESTONLY, AMD_EVTSEL_HOSTONLY,
	AMD_EVTSEL_GUESTONLY | AMD_EVTSEL_HOSTONLY,
};

/* FACTS.md s.2, written out: [svme][in_l2][none, G, H, both]. */
static const bool hg_table[2][2][4] = {
	{ { true, false, false, false }, { true, false, false, false } },
	{ { true, false, true, true }, { true, true, false, true } },
};

static void test_hg_truth_table_pure(void **state)
{
	(void)state;
	for (int s = 0; s < 2; s++)
		for (int l2 = 0; l2 < 2; l2++)
			for (int b = 0; b < 4; b++) {
				uint64_t sel = 0xC0 | EVTSEL_USR | EVTSEL_EN | hg_bits[b];

				if (kvm_nested_amd_hg_counts(sel, s, l2) != hg_table[s][l2][b])
					fail_msg("svme %d in_l2 %d bits %d", s, l2, b);
			}
}

/* A zen4 mediated VM exposed nested SVM, on a host with `patches`: the
 * Host/Guest-only emulation below is the Jan 2026 proposal
 * (MV_PATCH_NESTED_AMD_HG), not 7.0. */
static void nested_amd_p(struct kt *t, uint32_t patches)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kvm_params params = kt_params(MV_VPMU_MEDIATED);

	params.patches = patches;
	kt_machine_params(t, "zen4", false, &params);
	kt_vm(t, &cfg);
	assert_int_equal(kvm_vm_vpmu(t->vm), MV_VPMU_MEDIATED);
	kvm_nested_svm_set(t->vcpu, true);
}

static void nested_amd(struct kt *t)
{
	nested_amd_p(t, MV_PATCH_NESTED_AMD_HG);
}

static void set_efer(struct kvm_vcpu *v, uint64_t efer)
{
	uint64_t old = v->guest_efer;

	v->guest_efer = efer;
	kvm_nested_svm_efer_changed(v, old);
}

/* The same table through a guest selector write and KVM's hardware view:
 * GuestOnly always forced, HostOnly always clear, EN per the table. */
static void test_hg_truth_table_eventsel_hw(void **state)
{
	struct kt t;

	(void)state;
	nested_amd(&t);
	for (int s = 0; s < 2; s++)
		for (int l2 = 0; l2 < 2; l2++)
			for (int b = 0; b < 4; b++) {
				struct kvm_pmc *pmc = &t.vcpu->pmu.gp[0];
				uint64_t sel = 0xC0 | EVTSEL_USR | EVTSEL_EN | hg_bits[b];

				set_efer(t.vcpu, s ? EFER_SVME : 0);
				kvm_nested_svm_transition(t.vcpu, l2);
				assert_int_equal(t.vcpu->in_l2, l2);
				assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_F15H_PERF_CTL0, 0, false), X86_OK);
				assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_F15H_PERF_CTL0, sel, false), X86_OK);
				assert_int_equal(pmc->eventsel, sel);	/* guest reads back */
				assert_true(pmc->eventsel_hw & AMD_EVTSEL_GUESTONLY);
				assert_false(pmc->eventsel_hw & AMD_EVTSEL_HOSTONLY);
				if (!!(pmc->eventsel_hw & EVTSEL_EN) != hg_table[s][l2][b])
					fail_msg("svme %d in_l2 %d bits %d: hw %#llx", s, l2, b,
						 (unsigned long long)pmc->eventsel_hw);
			}
	kt_teardown(&t);
}

/* Bits 40/41 are reserved (dropped, not faulted) for every 7.0 guest, with
 * nested SVM too; the proposal un-reserves them for nested SVM only. */
static void test_hg_bits_reserved_in_7_0(void **state)
{
	struct kt t;
	uint64_t sel = 0xC0 | EVTSEL_USR | EVTSEL_EN | AMD_EVTSEL_HOSTONLY;

	(void)state;
	nested_amd_p(&t, 0);
	assert_false(kvm_nested_amd_hg_allowed(t.vcpu));
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_F15H_PERF_CTL0, sel, false), X86_OK);
	assert_int_equal(t.vcpu->pmu.gp[0].eventsel, sel & ~AMD_EVTSEL_HOSTONLY);
	assert_true(t.vcpu->pmu.gp[0].eventsel_hw & EVTSEL_EN);
	kt_teardown(&t);
}

static void test_hg_bits_reserved_without_nested(void **state)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kvm_params params = kt_params(MV_VPMU_MEDIATED);
	struct kt t;
	uint64_t sel = 0xC0 | EVTSEL_USR | EVTSEL_EN | AMD_EVTSEL_HOSTONLY;

	(void)state;
	params.patches = MV_PATCH_NESTED_AMD_HG;
	kt_machine_params(&t, "zen4", false, &params);
	kt_vm(&t, &cfg);
	t.vcpu->guest_efer = 0;
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_F15H_PERF_CTL0, sel, false), X86_OK);
	assert_int_equal(t.vcpu->pmu.gp[0].eventsel, sel & ~AMD_EVTSEL_HOSTONLY);
	assert_true(t.vcpu->pmu.gp[0].eventsel_hw & EVTSEL_EN);
	kvm_nested_svm_set(t.vcpu, true);
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_F15H_PERF_CTL0, sel, false), X86_OK);
	assert_int_equal(t.vcpu->pmu.gp[0].eventsel, sel);
	/* SVME=0 with HostOnly: counts nothing. */
	assert_false(t.vcpu->pmu.gp[0].eventsel_hw & EVTSEL_EN);
	kvm_nested_svm_set(t.vcpu, false);
	assert_true(t.vcpu->pmu.gp[0].eventsel_hw & EVTSEL_EN);
	kt_teardown(&t);
}

static void test_transition_recomputes(void **state)
{
	struct kt t;
	struct kvm_pmu *pmu;

	(void)state;
	nested_amd(&t);
	pmu = &t.vcpu->pmu;
	set_efer(t.vcpu, EFER_SVME);
	for (int i = 0; i < 4; i++)
		assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_F15H_PERF_CTL0 + 2 * i,
						 0xC0 | EVTSEL_USR | EVTSEL_EN | hg_bits[i], false), X86_OK);
	/* In L1: GuestOnly off, the others on. */
	assert_true(pmu->gp[0].eventsel_hw & EVTSEL_EN);
	assert_false(pmu->gp[1].eventsel_hw & EVTSEL_EN);
	assert_true(pmu->gp[2].eventsel_hw & EVTSEL_EN);
	assert_true(pmu->gp[3].eventsel_hw & EVTSEL_EN);
	kvm_nested_svm_transition(t.vcpu, true);
	assert_true(t.vcpu->in_l2);
	assert_true(pmu->gp[1].eventsel_hw & EVTSEL_EN);
	assert_false(pmu->gp[2].eventsel_hw & EVTSEL_EN);
	assert_true(pmu->gp[0].eventsel_hw & EVTSEL_EN);
	assert_true(pmu->gp[3].eventsel_hw & EVTSEL_EN);
	kvm_nested_svm_transition(t.vcpu, false);
	assert_false(t.vcpu->in_l2);
	assert_false(pmu->gp[1].eventsel_hw & EVTSEL_EN);
	assert_true(pmu->gp[2].eventsel_hw & EVTSEL_EN);
	/* L1 turning SVM off: only the counter without bits still counts. */
	set_efer(t.vcpu, 0);
	assert_true(pmu->gp[0].eventsel_hw & EVTSEL_EN);
	assert_false(pmu->gp[1].eventsel_hw & EVTSEL_EN);
	assert_false(pmu->gp[2].eventsel_hw & EVTSEL_EN);
	assert_false(pmu->gp[3].eventsel_hw & EVTSEL_EN);
	kt_teardown(&t);
}

/* ---- L1 and L2 work counted on the simulated hardware ---- */

struct l1_prog {
	uint64_t efer;
	uint64_t n;
};

static void l1_setup_and_work(struct mv_guest *g, void *arg)
{
	const struct l1_prog *p = arg;
	struct mv_work w = mv_work_make(p->n, false, "l1");

	assert_int_equal(mv_wrmsr_safe(g, MSR_EFER, p->efer), X86_OK);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mv_wrmsr_safe(g, MSR_F15H_PERF_CTR0 + 2 * i, 0), X86_OK);
		assert_int_equal(mv_wrmsr_safe(g, MSR_F15H_PERF_CTL0 + 2 * i,
					       0xC0 | EVTSEL_USR | EVTSEL_EN | hg_bits[i]),
				 X86_OK);
	}
	mv_run(g, &w);
}

static void work(struct mv_guest *g, void *arg)
{
	struct mv_work w = mv_work_make(*(const uint64_t *)arg, false, "work");

	mv_run(g, &w);
}

/* L1 runs 1000 instructions, L2 2000, L1 500 more: counter i has L1's
 * bits hg_bits[i] and counts what the table allows at each level. */
static void run_l1_l2_l1_p(uint64_t efer, const uint64_t want[4], uint32_t patches)
{
	struct l1_prog p = { efer, 1000 };
	uint64_t n2 = 2000, n3 = 500;
	struct kt t;

	nested_amd_p(&t, patches);
	kt_run(&t, l1_setup_and_work, &p);
	kvm_nested_svm_transition(t.vcpu, true);	/* L1's VMRUN */
	kt_run(&t, work, &n2);
	kvm_nested_svm_transition(t.vcpu, false);	/* #VMEXIT to L1 */
	kt_run(&t, work, &n3);
	for (int i = 0; i < 4; i++)
		if (t.vcpu->pmu.gp[i].counter != want[i])
			fail_msg("counter %d (bits %d): %llu, expected %llu", i, i,
				 (unsigned long long)t.vcpu->pmu.gp[i].counter,
				 (unsigned long long)want[i]);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void run_l1_l2_l1(uint64_t efer, const uint64_t want[4])
{
	run_l1_l2_l1_p(efer, want, MV_PATCH_NESTED_AMD_HG);
}

/* 7.0: the bits are dropped, every counter counts L1 and L2 alike. */
static void test_counts_l1_l2_7_0(void **state)
{
	const uint64_t all[4] = { 3500, 3500, 3500, 3500 };

	(void)state;
	run_l1_l2_l1_p(EFER_SVME, all, 0);
	run_l1_l2_l1_p(0, all, 0);
}

static void test_counts_l1_l2_svme_on(void **state)
{
	/* none: all; GuestOnly: L2 only; HostOnly: L1 only; both: all. */
	const uint64_t want[4] = { 3500, 2000, 1500, 3500 };

	(void)state;
	run_l1_l2_l1(EFER_SVME, want);
}

static void test_counts_l1_l2_svme_off(void **state)
{
	/* L1 without SVME: any bit set counts nothing. */
	const uint64_t want[4] = { 3500, 0, 0, 0 };

	(void)state;
	run_l1_l2_l1(0, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmx_merge_intersection),
		cmocka_unit_test(test_vmx_merge_l0_intercepts),
		cmocka_unit_test(test_vmx_merge_emulated_merges_nothing),
		cmocka_unit_test(test_svm_merge_intersection),
		cmocka_unit_test(test_svm_merge_l0_intercepts),
		cmocka_unit_test(test_hg_truth_table_pure),
		cmocka_unit_test(test_hg_truth_table_eventsel_hw),
		cmocka_unit_test(test_hg_bits_reserved_in_7_0),
		cmocka_unit_test(test_hg_bits_reserved_without_nested),
		cmocka_unit_test(test_transition_recomputes),
		cmocka_unit_test(test_counts_l1_l2_svme_on),
		cmocka_unit_test(test_counts_l1_l2_svme_off),
		cmocka_unit_test(test_counts_l1_l2_7_0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
