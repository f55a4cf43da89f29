/* test_explore: exploration (DESIGN.md): design knobs show the
 * counterexample each real decision prevents, and seeded host-NMI
 * injection into the mediated PMU switch is deterministic and finds the
 * reload hazard on AMD and, since perf's Intel enable-all writes every
 * counter bit, on Intel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_run.h"
#include "cli/cli_builtin.h"
#include "cli/cli_scenario.h"
#include "sim/sim.h"

static struct mv_scenario sc;
static struct mv_result res;

static void run(const char *cpu, uint64_t seed, uint32_t ppm, const struct mv_knobs *k)
{
	char err[256];

	assert_int_equal(cli_scenario_lookup("host-and-guest", &sc, err, sizeof(err)), 0);
	snprintf(sc.cpu, sizeof(sc.cpu), "%s", cpu);
	sc.seed = seed;
	sc.inject_ppm = ppm;
	if (k)
		sc.knobs = *k;
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(cli_vpmu_name(res.vpmu_effective), "mediated");
}

static bool violated(enum sim_invariant inv)
{
	for (unsigned i = 0; i < res.nr_violations; i++)
		if (res.violations[i].invariant == (int)inv)
			return true;
	return false;
}

/* Intel too: perf's Intel enable-all writes every counter bit
 * (__intel_pmu_enable_all), so a host NMI between KVM's GLOBAL_CTRL=0
 * and the guest writes leaves GLOBAL_CTRL non-zero, as on AMD. */
static void test_intel_injection_finds_reload_hazard(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run("sapphirerapids", seed, 200000, NULL);
		assert_true(res.injected > 0);
		assert_true(violated(INV_ORDERING));
	}
	run("sapphirerapids", 1, 0, NULL);	/* without injection: clean */
	assert_int_equal(res.injected, 0);
	assert_int_equal(res.inv_violated, 0);
}

/* On AMD an NMI between KVM's GLOBAL_CTL=0 and the guest writes runs the
 * host v2 handler, whose exit re-enables every counter (Linux's
 * amd_pmu_v2_handle_irq): the ordering invariant catches it. */
static void test_amd_injection_finds_reload_hazard(void **state)
{
	(void)state;
	run("zen4", 1, 200000, NULL);
	assert_true(res.injected > 0);
	assert_true(violated(INV_ORDERING));
	run("zen4", 1, 0, NULL);	/* without injection: clean */
	assert_int_equal(res.injected, 0);
	assert_int_equal(res.inv_violated, 0);
}

static void test_injection_deterministic(void **state)
{
	uint64_t hash, violations;

	(void)state;
	run("zen4", 3, 100000, NULL);
	hash = res.trace_hash;
	violations = res.inv_violated;
	run("zen4", 3, 100000, NULL);
	assert_int_equal(res.trace_hash, hash);
	assert_int_equal(res.inv_violated, violations);
	run("zen4", 4, 100000, NULL);
	assert_int_not_equal(res.trace_hash, hash);
}

static void test_knob_global_ctrl_clear(void **state)
{
	struct mv_knobs k = { .no_global_ctrl_clear_on_load = true };

	(void)state;
	run("zen4", 1, 0, &k);
	assert_true(violated(INV_ORDERING));
}

static void test_knob_counter_clear(void **state)
{
	struct mv_knobs k = { .no_counter_clear_on_put = true };

	(void)state;
	run("skylake", 1, 0, &k);
	assert_true(violated(INV_NO_LEAK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intel_injection_finds_reload_hazard),
		cmocka_unit_test(test_amd_injection_finds_reload_hazard),
		cmocka_unit_test(test_injection_deterministic),
		cmocka_unit_test(test_knob_global_ctrl_clear),
		cmocka_unit_test(test_knob_counter_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
