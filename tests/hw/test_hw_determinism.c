/* Determinism of the hardware layer: it makes no random choice, so a
 * program's trace is a function of the program and the CPU model alone,
 * byte for byte, whatever the seed (DESIGN.md "Determinism"; the seed's
 * own effect, the scheduler's picks, is tested in tests/sim/test_sim_trace.c);
 * a different program or model gives a different one. */
#include <stdio.h>
#include <stdlib.h>

#include "guest/guest_bare.h"
#include "guest/guest_conf.h"
#include "hw_facts.c"

struct run {
	struct sim sim;
	struct hw_cpu cpu;
	struct guest_bare gb;
	struct guest_conf_log log;
};

/* The conformance probes are the program: MSRs, RDPMC, CPUID, work,
 * overflows, PMIs.  `variant` changes one block. */
static void run_program(struct run *r, const char *model, uint64_t seed,
			bool variant)
{
	struct mv_work w = known_block(true);

	sim_init(&r->sim, seed, true);
	hw_cpu_init(&r->cpu, 0, &r->sim, hw_model_find(model));
	guest_bare_init(&r->gb, &r->cpu, 1);
	guest_conf_log_init(&r->log);
	guest_conf_run_all(&r->gb.g, &r->log);
	if (variant)
		w.ev[MV_EV_INSTRUCTIONS]++;
	mv_run(&r->gb.g, &w);
}

static void assert_same_trace(const struct sim_trace *a, const struct sim_trace *b)
{
	char la[256], lb[256];

	assert_int_equal(a->nr_all, b->nr_all);
	for (size_t i = 0; i < a->nr_all; i++) {
		sim_trace_format(&a->all[i], la, sizeof(la));
		sim_trace_format(&b->all[i], lb, sizeof(lb));
		assert_string_equal(la, lb);
	}
	assert_int_equal(a->hash, b->hash);
}

static void test_same_program_same_trace_any_seed(void **state)
{
	struct run *a = calloc(1, sizeof(*a)), *b = malloc(sizeof(*b));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	/* Whatever the memory held before (sim_init and hw_cpu_init must
	 * leave nothing of it), and whatever the seed. */
	memset(b, 0xA5, sizeof(*b));
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		run_program(a, fact_models[m].name, 42, false);
		run_program(b, fact_models[m].name, 0xFFFFFFFFFFFFFFFFULL - m, false);
		assert_true(a->sim.trace.nr_all > 100);
		assert_same_trace(&a->sim.trace, &b->sim.trace);
		assert_int_equal(a->sim.cycle, b->sim.cycle);
		assert_string_equal(a->log.text, b->log.text);
		sim_free(&a->sim);
		sim_free(&b->sim);
	}
	free(a);
	free(b);
}

static void test_different_program_different_hash(void **state)
{
	struct run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (size_t m = 0; m < NR_FACT_MODELS; m++) {
		run_program(a, fact_models[m].name, 42, false);
		run_program(b, fact_models[m].name, 42, true);
		assert_true(a->sim.trace.hash != b->sim.trace.hash);
		sim_free(&a->sim);
		sim_free(&b->sim);
	}
	/* Another model runs another program too. */
	run_program(a, "skylake", 42, false);
	run_program(b, "icelake", 42, false);
	assert_true(a->sim.trace.hash != b->sim.trace.hash);
	sim_free(&a->sim);
	sim_free(&b->sim);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_program_same_trace_any_seed),
		cmocka_unit_test(test_different_program_different_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
