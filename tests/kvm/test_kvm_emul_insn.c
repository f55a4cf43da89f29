/* test_kvm_emul_insn: instructions KVM emulates are counted in software by
 * both vPMUs on Intel and AMD: exact overflow, status, PMI, event, mode, filter. */
#include "kvm_test.h"

#define CTR_MASK X86_MASK(48)
#define GUEST_VEC 0xF0u

struct vendor {
	const char *model;
	bool intel;
	uint64_t insn, branch;	/* event selects */
	uint32_t status;	/* GLOBAL_STATUS */
};

static const struct vendor intel_v = { "sapphirerapids", true, 0xC0, 0xC4,
				       MSR_IA32_PERF_GLOBAL_STATUS };
static const struct vendor amd_v = { "zen4", false, 0xC0, 0xC2, MSR_AMD_GLOBAL_STATUS };

static uint32_t ctr_msr(const struct vendor *vd, unsigned i)
{
	return vd->intel ? MSR_IA32_A_PMC0 + i : MSR_F15H_PERF_CTR0 + 2 * i;
}

static uint32_t sel_msr(const struct vendor *vd, unsigned i)
{
	return vd->intel ? MSR_IA32_PERFEVTSEL0 + i : MSR_F15H_PERF_CTL0 + 2 * i;
}

static void wr(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	assert_int_equal(mv_wrmsr_safe(g, msr, val), X86_OK);
}

static uint64_t rd(struct mv_guest *g, uint32_t msr)
{
	uint64_t v = 0;

	assert_int_equal(mv_rdmsr_safe(g, msr, &v), X86_OK);
	return v;
}

static void setup(struct kt *t, const struct vendor *vd, enum mv_vpmu vpmu,
		  const struct mv_filter *filter)
{
	struct mv_vm_config cfg = kt_vm_config();

	if (filter)
		cfg.filter = *filter;
	kt_machine(t, vd->model, false, vpmu);
	kt_vm(t, &cfg);
	assert_int_equal(kvm_vm_vpmu(t->vm), vpmu);
}

/* ---- presets of -N overflow on the N-th emulated instruction ---- */

#define N 5

struct ovf_arg {
	const struct vendor *vd;
	bool intr;
	unsigned pmis;
};

static void on_pmi(struct mv_guest *g, unsigned vector, void *arg)
{
	struct ovf_arg *a = arg;

	(void)g;
	assert_int_equal(vector, GUEST_VEC);
	a->pmis++;
}

static void ovf_guest(struct mv_guest *g, void *arg)
{
	struct ovf_arg *a = arg;
	const struct vendor *vd = a->vd;

	mv_set_irq_handler(g, on_pmi, a);
	wr(g, MSR_X2APIC_LVTPC, GUEST_VEC);
	wr(g, ctr_msr(vd, 0), (CTR_MASK + 1 - N) & CTR_MASK);
	wr(g, sel_msr(vd, 0), vd->insn | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN |
	   (a->intr ? EVTSEL_INT : 0));
	for (unsigned k = 1; k < N; k++) {
		mv_emulate(g, false);
		assert_int_equal(rd(g, ctr_msr(vd, 0)), (CTR_MASK + 1 - N + k) & CTR_MASK);
		assert_false(rd(g, vd->status) & X86_BIT(0));
		assert_int_equal(a->pmis, 0);
	}
	mv_emulate(g, false);	/* the N-th wraps the counter */
	assert_int_equal(rd(g, ctr_msr(vd, 0)), 0);
	assert_true(rd(g, vd->status) & X86_BIT(0));
	assert_int_equal(a->pmis, a->intr ? 1 : 0);
	mv_emulate(g, false);
	assert_int_equal(rd(g, ctr_msr(vd, 0)), 1);
	assert_int_equal(a->pmis, a->intr ? 1 : 0);
}

static void overflow(const struct vendor *vd, enum mv_vpmu vpmu)
{
	for (int intr = 0; intr < 2; intr++) {
		struct kt t;
		struct ovf_arg a = { .vd = vd, .intr = intr };

		setup(&t, vd, vpmu, NULL);
		kt_run(&t, ovf_guest, &a);
		assert_int_equal(a.pmis, intr ? 1 : 0);
		assert_int_equal(kvm_vm_guest_pmis(t.vm), intr ? 1 : 0);
		if (vpmu == MV_VPMU_MEDIATED)
			assert_int_equal(t.sim.inv_violated, 0);
		kt_teardown(&t);
	}
}

static void test_overflow_intel_mediated(void **state)
{
	(void)state;
	overflow(&intel_v, MV_VPMU_MEDIATED);
}

static void test_overflow_intel_emulated(void **state)
{
	(void)state;
	overflow(&intel_v, MV_VPMU_EMULATED);
}

static void test_overflow_amd_mediated(void **state)
{
	(void)state;
	overflow(&amd_v, MV_VPMU_MEDIATED);
}

static void test_overflow_amd_emulated(void **state)
{
	(void)state;
	overflow(&amd_v, MV_VPMU_EMULATED);
}

/* ---- which counters count: event, privilege, filter ---- */

struct count_arg {
	const struct vendor *vd;
	uint64_t c[4];
};

static void read_all(struct mv_guest *g, struct count_arg *a)
{
	for (unsigned i = 0; i < 3; i++)
		a->c[i] = rd(g, ctr_msr(a->vd, i));
	a->c[3] = a->vd->intel ? rd(g, MSR_IA32_FIXED_CTR0) : 0;
}

/* Counter 0 instructions, 1 branches, 2 instructions in user mode only;
 * Intel fixed counter 0 (instructions, OS and USR) too. */
static void events_guest(struct mv_guest *g, void *arg)
{
	struct count_arg *a = arg;
	const struct vendor *vd = a->vd;
	uint64_t both = EVTSEL_USR | EVTSEL_OS | EVTSEL_EN;

	wr(g, sel_msr(vd, 0), vd->insn | both);
	wr(g, sel_msr(vd, 1), vd->branch | both);
	wr(g, sel_msr(vd, 2), vd->insn | EVTSEL_USR | EVTSEL_EN);
	if (vd->intel) {
		wr(g, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_OS | FIXED_CTRL_USR);
		wr(g, MSR_IA32_PERF_GLOBAL_CTRL, X86_MASK(8) | X86_BIT(32));
	}
	/* User mode: 3 plain instructions and 2 branches. */
	for (int k = 0; k < 3; k++)
		mv_emulate(g, false);
	for (int k = 0; k < 2; k++)
		mv_emulate(g, true);
	read_all(g, a);
	assert_int_equal(a->c[0], 5);
	assert_int_equal(a->c[1], 2);
	assert_int_equal(a->c[2], 5);
	if (vd->intel)
		assert_int_equal(a->c[3], 5);
	/* Kernel mode (the privilege of the code executing, as guest
	 * programs set it): the user-only counter stays. */
	g->kernel = true;
	for (int k = 0; k < 4; k++)
		mv_emulate(g, k == 0);
	g->kernel = false;
	read_all(g, a);
	assert_int_equal(a->c[0], 9);
	assert_int_equal(a->c[1], 3);
	assert_int_equal(a->c[2], 5);
	if (vd->intel)
		assert_int_equal(a->c[3], 9);
}

static void events(const struct vendor *vd, enum mv_vpmu vpmu)
{
	struct kt t;
	struct count_arg a = { .vd = vd };

	setup(&t, vd, vpmu, NULL);
	kt_run(&t, events_guest, &a);
	if (vpmu == MV_VPMU_MEDIATED)
		assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void test_events_intel(void **state)
{
	(void)state;
	events(&intel_v, MV_VPMU_MEDIATED);
	events(&intel_v, MV_VPMU_EMULATED);
}

static void test_events_amd(void **state)
{
	(void)state;
	events(&amd_v, MV_VPMU_MEDIATED);
	events(&amd_v, MV_VPMU_EMULATED);
}

/* A denied event counts no emulated instruction; an allowed one does. */
static void deny_guest(struct mv_guest *g, void *arg)
{
	struct count_arg *a = arg;
	const struct vendor *vd = a->vd;
	uint64_t both = EVTSEL_USR | EVTSEL_OS | EVTSEL_EN;

	wr(g, sel_msr(vd, 0), vd->insn | both);
	wr(g, sel_msr(vd, 1), vd->branch | both);
	for (int k = 0; k < 4; k++)
		mv_emulate(g, true);
	read_all(g, a);
	assert_int_equal(a->c[0], 0);
	assert_int_equal(a->c[1], 4);
}

static void deny(const struct vendor *vd, enum mv_vpmu vpmu)
{
	struct kt t;
	struct count_arg a = { .vd = vd };
	struct mv_filter f = { .present = true, .action = 1, .nevents = 1,
			       .events = { vd->insn } };

	setup(&t, vd, vpmu, &f);
	kt_run(&t, deny_guest, &a);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void test_denied_event(void **state)
{
	(void)state;
	deny(&intel_v, MV_VPMU_MEDIATED);
	deny(&intel_v, MV_VPMU_EMULATED);
	deny(&amd_v, MV_VPMU_MEDIATED);
	deny(&amd_v, MV_VPMU_EMULATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow_intel_mediated),
		cmocka_unit_test(test_overflow_intel_emulated),
		cmocka_unit_test(test_overflow_amd_mediated),
		cmocka_unit_test(test_overflow_amd_emulated),
		cmocka_unit_test(test_events_intel),
		cmocka_unit_test(test_events_amd),
		cmocka_unit_test(test_denied_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
