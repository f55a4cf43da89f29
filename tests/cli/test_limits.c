/* test_limits (issue 14): every documented maximum is reported whole, huge
 * blocks count exactly, the budget stops a run with a partial result, and
 * run-time errors name FILE:LINE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_builtin.h"
#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "cli/cli_text.h"

static struct mv_scenario sc;
static struct mv_result res;
static char err[CLI_ERR_MAX];

static void parse_ok(const char *text)
{
	if (cli_scenario_parse("t.yaml", text, strlen(text), &sc, err, sizeof(err)))
		fail_msg("%s", err);
}

static void run_ok(void)
{
	if (cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)))
		fail_msg("%s", err);
}

/* Appends to a growing YAML text. */
static char *cat(char *y, size_t *len, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	y = realloc(y, *len + n + 1);
	assert_non_null(y);
	memcpy(y + *len, line, n + 1);
	*len += n;
	return y;
}

static const char *const ev16[MV_MAX_EVENTS] = {
	"instructions", "cycles", "branches", "branch-misses", "cache-references",
	"cache-misses", "ref-cycles", "instructions:u", "instructions:k", "cycles:u",
	"cycles:k", "branches:u", "branches:k", "r00c0", "r003c", "r00c4",
};

/* 4 VMs x 4 vCPUs x 16 events: 256 guest counters; 16 host events on each
 * of 8 CPUs: 128 host counters; 16 labels in each of 16 programs. */
static void test_every_maximum_reported(void **state)
{
	char *y = NULL;
	size_t len = 0;

	(void)state;
	y = cat(y, &len, "vpmu: mediated\npcpus: 8\nhost:\n  system_wide: true\n  events: [");
	/* Host events exclude guests (:H), or perf refuses the mediated PMU
	 * (EBUSY, Linux 7.0) and no VM is created. */
	for (int e = 0; e < MV_MAX_EVENTS; e++)
		y = cat(y, &len, "%s%s%s", e ? ", " : "", ev16[e], strchr(ev16[e], ':') ? "H" : ":H");
	y = cat(y, &len, "]\nvms:\n");
	for (int v = 0; v < MV_MAX_VMS; v++) {
		y = cat(y, &len, "  - vcpus: 4\n    programs:\n");
		for (int c = 0; c < MV_MAX_VCPUS; c++) {
			/* vCPU 0 of each VM samples over 16 labels, the others count. */
			y = cat(y, &len, "      - kind: %s\n        events: [", c ? "stat" : "record");
			for (int e = 0; e < MV_MAX_EVENTS; e++)
				y = cat(y, &len, "%s%s", e ? ", " : "", ev16[e]);
			y = cat(y, &len, "]\n%s        work:\n          segments:\n",
				c ? "" : "        period: 20000\n");
			for (int s = 0; s < MV_MAX_SEGMENTS; s++)
				y = cat(y, &len, "            - {label: vm%d_cpu%d_f%d, instructions: 20000}\n",
					v, c, s);
		}
	}
	parse_ok(y);
	run_ok();
	assert_int_equal(res.nr_guest, MV_MAX_VMS * MV_MAX_VCPUS * MV_MAX_EVENTS);
	assert_int_equal(res.nr_host, MV_MAX_EVENTS * 8);
	/* Only the samplers' labels are reported: 4 programs x 16. */
	assert_int_equal(res.nr_labels, MV_MAX_VMS * MV_MAX_SEGMENTS);
	for (unsigned i = 0; i < res.nr_guest; i++) {
		char who[32];

		snprintf(who, sizeof(who), "vm%u/vcpu%u", i / 64, i / 16 % 4);
		assert_string_equal(res.guest[i].name, who);
		assert_string_equal(res.guest[i].event, ev16[i % 16]);
		assert_true(res.guest[i].truth > 0 || strchr(res.guest[i].event, ':'));
	}
	for (unsigned i = 0; i < res.nr_labels; i++)
		assert_int_equal(res.labels[i].truth_events > 0, 1);
	assert_int_equal(res.inv_violated, 0);
	free(y);
}

/* A 63-character event spec that perf cannot open keeps its whole name. */
static void test_event_text_whole(void **state)
{
	(void)state;
	parse_ok("vpmu: none\nvms:\n  - programs:\n      - kind: stat\n"
		 "        events: [r0000000000000000:uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu]\n");
	run_ok();
	assert_int_equal(res.nr_guest, 1);
	assert_non_null(strstr(res.guest[0].event,
			       "r0000000000000000:uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"));
}

/* A block larger than any counter's range: counters wrap at their width,
 * perf folds each wrap, and the count equals the 64-bit truth. */
static void test_huge_block_exact(void **state)
{
	static const char *const cpus[] = { "skylake", "sapphirerapids", "zen4", "zen3" };
	static const char *const vpmus[] = { "none", "mediated", "emulated" };

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		for (size_t v = 0; v < 3; v++) {
			char y[512];

			snprintf(y, sizeof(y), "cpu: %s\nvpmu: %s\nvms:\n  - programs:\n"
				 "      - kind: stat\n        events: [instructions, cycles, branches]\n"
				 "        work: {chunk: 0x4000000000000, segments: "
				 "[{label: a, instructions: 0x4000000000001}]}\n", cpus[c], vpmus[v]);
			parse_ok(y);
			/* Past the default budget: 2^50 instructions, over 2^48. */
			sc.budget.max_cycles = sc.budget.max_insns = UINT64_MAX;
			run_ok();
			assert_int_equal(res.nr_guest, 3);
			/* In a VM the guest kernel's timer re-arms (the fastpath
			 * WRMSRs KVM skips) retire kernel instructions too. */
			if (v == 0)
				assert_true(res.guest[0].truth == 0x4000000000001ULL);
			else
				assert_true(res.guest[0].truth > 0x4000000000001ULL);
			if (res.inv_violated)
				fail_msg("%s %s: %s", cpus[c], vpmus[v], res.violations[0].msg);
			for (int i = 0; i < 3; i++)
				if (res.guest[i].value != res.guest[i].truth && v != 2)
					fail_msg("%s %s %s: %llu of %llu", cpus[c], vpmus[v],
						 res.guest[i].event,
						 (unsigned long long)res.guest[i].value,
						 (unsigned long long)res.guest[i].truth);
			assert_false(res.partial);
		}
	}
}

/* Raw counters hold their value modulo their width: no false violation. */
static void test_huge_block_raw(void **state)
{
	(void)state;
	parse_ok("vpmu: mediated\nvms:\n  - programs:\n      - kind: emulated\n"
		 "        events: [instructions]\n        preset: 5\n"
		 "        work: {chunk: 0x4000000000000, segments: "
		 "[{label: a, instructions: 0x4000000000001}]}\n");
	sc.budget.max_cycles = sc.budget.max_insns = UINT64_MAX;
	run_ok();
	assert_int_equal(res.nr_guest, 2);
	assert_int_equal(res.guest[0].width, 48);
	assert_true(res.guest[0].truth >= 0x4000000000001ULL);
	assert_true(res.guest[0].value == (res.guest[0].truth & ((1ULL << 48) - 1)));
	assert_int_equal(res.inv_violated, 0);
}

/* No built-in comes near the default budget. */
static void test_builtins_within_budget(void **state)
{
	(void)state;
	for (size_t i = 0; i < cli_nr_builtins; i++) {
		assert_int_equal(cli_scenario_lookup(cli_builtins[i].name, &sc, err, sizeof(err)), 0);
		run_ok();
		assert_false(res.partial);
		assert_true(res.budget.max_cycles == MV_DEFAULT_MAX_CYCLES);
		assert_true(res.cycles_total < MV_DEFAULT_MAX_CYCLES / 20);
		assert_true(res.insns_total < MV_DEFAULT_MAX_INSNS / 20);
		assert_true(res.steps_total < MV_DEFAULT_MAX_STEPS / 20);
	}
}

/* Each budget stops the run with a partial result that still holds every
 * invariant (the programs stop as at the end of their work). */
static void test_budget_partial(void **state)
{
	static const struct { const char *key; const char *reason; } b[] = {
		{ "max_cycles: 1000000", "reached max_cycles 1000000" },
		{ "max_insns: 1000000", "reached max_insns 1000000" },
		{ "max_steps: 50", "reached max_steps 50" },
	};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char y[512];

		snprintf(y, sizeof(y), "%s\nvpmu: mediated\nvms:\n  - programs:\n"
			 "      - kind: stat\n        events: [instructions]\n"
			 "        work: {passes: 1000, segments: [{label: a, instructions: 100000}]}\n",
			 b[i].key);
		parse_ok(y);
		run_ok();
		assert_true(res.partial);
		assert_non_null(strstr(res.partial_reason, b[i].reason));
		assert_int_equal(res.inv_violated, 0);
		assert_true(res.guest[0].value == res.guest[0].truth);
		assert_true(res.guest[0].truth < 1000 * 100000ULL);
		assert_true(res.guest[0].truth > 0);
	}
	/* A budget that the run does not reach is not partial. */
	parse_ok("max_cycles: 100000000\nvpmu: mediated\nvms:\n  - programs:\n"
		 "      - {kind: stat, events: [instructions], work: {segments: [{label: a, instructions: 1000}]}}\n");
	run_ok();
	assert_false(res.partial);
	assert_string_equal(res.partial_reason, "");
}

/* Tiny blocks take no cycles: the step budget still ends the run. */
static void test_budget_tiny_blocks(void **state)
{
	(void)state;
	parse_ok("vpmu: none\nvms:\n  - programs:\n      - kind: stat\n        events: [instructions]\n"
		 "        work: {chunk: 1, passes: 1000000, segments: [{label: a, instructions: 0x100000000}]}\n");
	sc.budget.max_steps = 20000;
	run_ok();
	assert_true(res.partial);
	assert_non_null(strstr(res.partial_reason, "max_steps 20000"));
	assert_true(res.steps_total >= 20000 && res.steps_total < 20010);
}

struct calls {
	unsigned n;
	uint64_t last_steps;
};

static void count_progress(const struct mv_progress *pr, void *arg)
{
	struct calls *c = arg;

	c->n++;
	assert_true(pr->steps > c->last_steps);
	assert_true(pr->budget->max_steps == MV_DEFAULT_MAX_STEPS);
	c->last_steps = pr->steps;
}

/* The progress hook is called as the run goes and changes nothing. */
static void test_progress_changes_nothing(void **state)
{
	struct calls calls = { 0, 0 };
	uint64_t hash;

	(void)state;
	parse_ok("vpmu: mediated\nvms:\n  - programs:\n      - kind: stat\n        events: [instructions]\n"
		 "        work: {chunk: 10, segments: [{label: a, instructions: 200000}]}\n");
	run_ok();
	hash = res.trace_hash;
	sc.progress = count_progress;
	sc.progress_arg = &calls;
	run_ok();
	assert_true(calls.n >= 4);
	assert_true(res.trace_hash == hash);
}

/* Checks made when the run starts name the file and the line. */
static void test_run_errors_name_line(void **state)
{
	(void)state;
	parse_ok("vpmu: emulated\nvms:\n  - name: a\n    filter: {action: deny, flags: 6}\n"
		 "    programs: [{kind: stat, events: [instructions]}]\n");
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 2);
	assert_string_equal(err, "t.yaml:4: expected a filter KVM_SET_PMU_EVENT_FILTER accepts, "
			    "got one it refuses with EINVAL");
	parse_ok("cpu: zen4\nvpmu: none\n");
	snprintf(sc.cpu, sizeof(sc.cpu), "pentium\x1b");
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 2);
	assert_string_equal(err, "t.yaml:1: unknown cpu model 'pentium\\x1b' (see mvpmu cpus)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_maximum_reported),
		cmocka_unit_test(test_event_text_whole),
		cmocka_unit_test(test_huge_block_exact),
		cmocka_unit_test(test_huge_block_raw),
		cmocka_unit_test(test_builtins_within_budget),
		cmocka_unit_test(test_budget_partial),
		cmocka_unit_test(test_budget_tiny_blocks),
		cmocka_unit_test(test_progress_changes_nothing),
		cmocka_unit_test(test_run_errors_name_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
