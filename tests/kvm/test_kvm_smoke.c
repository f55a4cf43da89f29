/* test_kvm_smoke: the harness runs guest code in a VM under both vPMUs:
 * an intercepted selector write exits, and counting matches the truth. */
#include "kvm_test.h"

static void count_block(struct mv_guest *g, void *arg)
{
	uint64_t *out = arg;
	struct mv_work w = mv_work_make(10000, false, "smoke");

	/* Intel GP counter 0 counts instructions in user mode. */
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PMC0, 0), X86_OK);
	assert_int_equal(mv_wrmsr_safe(g, MSR_IA32_PERFEVTSEL0,
				       0xC0 | EVTSEL_USR | EVTSEL_EN), X86_OK);
	mv_run(g, &w);
	assert_int_equal(mv_rdmsr_safe(g, MSR_IA32_PMC0, out), X86_OK);
}

static void smoke(enum mv_vpmu vpmu)
{
	struct kt t;
	uint64_t val = 0;

	kt_setup(&t, "skylake", vpmu);
	assert_int_equal(kvm_vm_vpmu(t.vm), vpmu);
	kt_run(&t, count_block, &val);
	assert_int_equal(val, 10000);
	/* The selector write always exits, whatever the vPMU. */
	assert_true(t.kvm->exits[KVM_EXIT_MSR_WRITE] >= 1);
	kt_teardown(&t);
}

static void test_smoke_emulated(void **state)
{
	(void)state;
	smoke(MV_VPMU_EMULATED);
}

static void test_smoke_mediated(void **state)
{
	(void)state;
	smoke(MV_VPMU_MEDIATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smoke_emulated),
		cmocka_unit_test(test_smoke_mediated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
