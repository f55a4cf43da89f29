/* test_host_rule: the vPMU rule for scenarios built in C (no file, so no
 * line): one vPMU for the whole host, what runs is what the result says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_run.h"
#include "cli/cli_scenario.h"

static struct mv_scenario sc;
static struct mv_result res;
static char err[256];

/* Two VMs counting instructions, nothing saying which vPMU. */
static void two_vms(void)
{
	cli_scenario_defaults(&sc);
	snprintf(sc.name, sizeof(sc.name), "t");
	snprintf(sc.cpu, sizeof(sc.cpu), "skylake");
	sc.nr_vms = 2;
	for (int i = 0; i < 2; i++) {
		struct mv_vm_config *vm = &sc.vm[i];

		snprintf(vm->name, sizeof(vm->name), "vm%d", i);
		vm->nr_vcpus = 1;
		vm->prog[0].kind = MV_PROG_STAT;
		vm->prog[0].nr_events = 1;
		snprintf(vm->prog[0].events[0], MV_NAME_MAX, "instructions");
		vm->prog[0].work.nr_seg = 1;
		vm->prog[0].work.passes = 1;
		snprintf(vm->prog[0].work.seg[0].label, MV_NAME_MAX, "w");
		vm->prog[0].work.seg[0].instructions = 10000;
	}
}

static int run(void)
{
	err[0] = 0;
	return cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err));
}

static void test_default_is_legacy(void **state)
{
	(void)state;
	two_vms();
	assert_int_equal(run(), 0);
	assert_int_equal(res.vpmu, MV_VPMU_EMULATED);
	assert_int_equal(res.nr_vms, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_true(res.vms[i].created);
		assert_int_equal(res.vms[i].vpmu, MV_VPMU_EMULATED);
	}
	assert_int_equal(res.nr_guest, 2);
}

static void test_per_vm_only(void **state)
{
	(void)state;
	two_vms();
	for (int i = 0; i < 2; i++) {
		sc.vm[i].vpmu = MV_VPMU_MEDIATED;
		sc.vm[i].vpmu_set = true;
	}
	assert_int_equal(run(), 0);
	assert_int_equal(res.vpmu, MV_VPMU_MEDIATED);
	assert_int_equal(res.vpmu_effective, MV_VPMU_MEDIATED);
	assert_false(res.bare);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(res.vms[i].vpmu, MV_VPMU_MEDIATED);
	assert_int_equal(res.nr_guest, 2);
	for (unsigned i = 0; i < res.nr_guest; i++)
		assert_int_equal(res.guest[i].value, res.guest[i].truth);
}

static void test_mixed_refused(void **state)
{
	(void)state;
	two_vms();
	sc.vm[0].vpmu = MV_VPMU_EMULATED;
	sc.vm[0].vpmu_set = true;
	sc.vm[1].vpmu = MV_VPMU_MEDIATED;
	sc.vm[1].vpmu_set = true;
	assert_int_equal(run(), 2);
	assert_non_null(strstr(err, "one vPMU for the whole host"));
	/* The top level disagreeing with a VM too. */
	two_vms();
	sc.vpmu = MV_VPMU_MEDIATED;
	sc.vpmu_set = true;
	sc.vm[1].vpmu = MV_VPMU_EMULATED;
	sc.vm[1].vpmu_set = true;
	assert_int_equal(run(), 2);
	/* kvm: keys against vpmu:. */
	two_vms();
	sc.kvm = (struct mv_kvm_params){ .set = true, .enable_pmu = true };
	sc.vpmu = MV_VPMU_MEDIATED;
	sc.vpmu_set = true;
	assert_int_equal(run(), 2);
}

static void test_bare_metal(void **state)
{
	(void)state;
	two_vms();
	sc.vpmu = MV_VPMU_NONE;
	sc.vpmu_set = true;
	assert_int_equal(run(), 2);	/* two VMs cannot run natively */
	assert_non_null(strstr(err, "bare metal runs one program"));
	sc.bare = sc.vm[0].prog[0];
	sc.bare_set = true;
	assert_int_equal(run(), 0);
	assert_true(res.bare);
	assert_int_equal(res.bare_vms_not_run, 2);
	assert_int_equal(res.nr_vms, 0);
	assert_int_equal(res.nr_guest, 1);
	sc.nr_vms = 1;
	sc.bare_set = false;
	assert_int_equal(run(), 0);
	assert_string_equal(res.bare_program, "vm0/vcpu0");
	assert_int_equal(res.bare_vms_not_run, 0);
}

static void test_enable_pmu_off(void **state)
{
	(void)state;
	two_vms();
	sc.kvm = (struct mv_kvm_params){ .set = true, .enable_pmu = false,
					 .enable_mediated_pmu = true };
	assert_int_equal(run(), 0);
	assert_int_equal(res.vpmu, MV_VPMU_MEDIATED);
	assert_int_equal(res.vpmu_effective, MV_VPMU_NONE);
	assert_false(res.enable_pmu || res.enable_mediated_pmu);
	assert_true(strlen(res.fallback_reason) > 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(res.vms[i].vpmu, MV_VPMU_NONE);
		assert_int_equal(res.vms[i].version, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_legacy),
		cmocka_unit_test(test_per_vm_only),
		cmocka_unit_test(test_mixed_refused),
		cmocka_unit_test(test_bare_metal),
		cmocka_unit_test(test_enable_pmu_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
