/* test_explore_shard: explore in several processes prints what one
 * process prints, in seed order; shards are disjoint slices that cover
 * the campaign; their JSON summaries merge into the unsharded result,
 * and summaries that do not make one campaign are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_builtin.h"
#include "cli/cli_explore.h"
#include "cli/cli_report.h"

static struct mv_scenario sc;

/* A campaign where some seeds break invariant 4 and some do not: AMD
 * with a few host NMIs injected into the switch (docs/explore.md). */
static struct cli_campaign campaign(uint64_t first, uint64_t seeds, unsigned shards)
{
	struct cli_campaign c = { .first = first, .seeds = seeds, .inject_ppm = 2000,
				  .nr_shards = shards };
	char err[256];

	assert_int_equal(cli_scenario_lookup("host-and-guest", &sc, err, sizeof(err)), 0);
	snprintf(sc.cpu, sizeof(sc.cpu), "zen4");
	sc.inject_ppm = c.inject_ppm;
	snprintf(c.scenario, sizeof(c.scenario), "%s", sc.name);
	snprintf(c.cpu, sizeof(c.cpu), "zen4");
	snprintf(c.vpmu, sizeof(c.vpmu), "mediated");
	return c;
}

/* The text `explore` prints with `jobs` processes, and its summary. */
static char *explore_text(const struct cli_campaign *c, unsigned shard, unsigned jobs,
			  struct cli_explore_summary *sum)
{
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	if (cli_explore_run(c, shard, jobs, &sc, f, sum, err, sizeof(err)))
		fail_msg("%s", err);
	fclose(f);
	return text;
}

static void test_jobs_same_output(void **state)
{
	struct cli_campaign c = campaign(1, 40, 1);
	struct cli_explore_summary s1, s2, s3;
	char *one = explore_text(&c, 1, 1, &s1);
	char *two = explore_text(&c, 1, 2, &s2);
	char *seven = explore_text(&c, 1, 7, &s3);

	(void)state;
	/* The campaign is mixed: the comparison covers both kinds of seed. */
	assert_true(s1.nr_bad > 0 && s1.nr_bad < 40);
	assert_non_null(strstr(one, "trace leading to it:"));
	assert_string_equal(one, two);
	assert_string_equal(one, seven);
	assert_int_equal(s1.checks, s3.checks);
	for (size_t i = 1; i < s1.nr_bad; i++)
		assert_true(s1.bad[i].seed > s1.bad[i - 1].seed);
	cli_explore_summary_free(&s1);
	cli_explore_summary_free(&s2);
	cli_explore_summary_free(&s3);
	free(one);
	free(two);
	free(seven);
}

static void test_slices_cover_once(void **state)
{
	static const uint64_t sizes[] = { 1, 2, 3, 10, 999, 1000, 1001 };

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (unsigned n = 1; n <= 12; n++) {
			uint64_t next = 5, total = 0;

			for (unsigned k = 1; k <= n; k++) {
				uint64_t first, count;

				cli_explore_slice(5, sizes[s], k, n, &first, &count);
				assert_int_equal(first, next);	/* disjoint, in order, no gap */
				next = first + count;
				total += count;
				assert_true(count <= sizes[s] / n + 1);
			}
			assert_int_equal(total, sizes[s]);
		}
	}
	/* Seeds near 2^64 wrap as --seed does. */
	{
		uint64_t first, count;

		cli_explore_slice(UINT64_MAX - 1, 4, 2, 2, &first, &count);
		assert_int_equal(first, 0);
		assert_int_equal(count, 2);
	}
}

/* Through JSON text, as files would carry them. */
static struct cli_explore_summary *reread(const struct cli_explore_summary *s)
{
	struct cli_explore_summary *out = calloc(1, sizeof(*out));
	json_t *doc = cli_explore_json(s);
	char *text = json_dumps(doc, CLI_JSON_FLAGS), err[256];
	json_t *back = json_loads(text, 0, NULL);

	assert_non_null(out);
	assert_non_null(back);
	if (cli_explore_from_json(back, out, err, sizeof(err)))
		fail_msg("%s", err);
	json_decref(doc);
	json_decref(back);
	free(text);
	return out;
}

static void test_shards_merge_to_the_whole(void **state)
{
	struct cli_campaign whole = campaign(3, 31, 1), part = campaign(3, 31, 3);
	struct cli_explore_summary all, merged, *sh[3];
	char *want = explore_text(&whole, 1, 2, &all), *got = NULL, *wj, *gj;
	size_t len;
	FILE *f;
	char err[256];

	(void)state;
	for (unsigned k = 1; k <= 3; k++) {
		struct cli_explore_summary s;

		free(explore_text(&part, k, 2, &s));
		assert_int_equal(s.shard, k);
		sh[3 - k] = reread(&s);		/* merge takes them in any order */
		cli_explore_summary_free(&s);
	}
	if (cli_explore_merge(sh, 3, &merged, err, sizeof(err)))
		fail_msg("%s", err);
	f = open_memstream(&got, &len);
	assert_int_equal(cli_explore_text(f, &merged), all.nr_bad ? 1 : 0);
	fclose(f);
	assert_string_equal(got, want);
	/* The merged summary is the unsharded run's summary. */
	{
		json_t *a = cli_explore_json(&all), *m = cli_explore_json(&merged);

		wj = json_dumps(a, CLI_JSON_FLAGS);
		gj = json_dumps(m, CLI_JSON_FLAGS);
		assert_string_equal(gj, wj);
		json_decref(a);
		json_decref(m);
		free(wj);
		free(gj);
	}
	/* A shard missing, or given twice, is not the campaign. */
	cli_explore_summary_free(&merged);
	assert_int_equal(cli_explore_merge(sh, 2, &merged, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "missing"));
	{
		struct cli_explore_summary *twice[3] = { sh[0], sh[1], sh[1] };

		assert_int_equal(cli_explore_merge(twice, 3, &merged, err, sizeof(err)), 2);
		assert_non_null(strstr(err, "twice"));
	}
	/* Another campaign (another CPU) does not mix in. */
	snprintf(sh[0]->c.cpu, sizeof(sh[0]->c.cpu), "zen5");
	assert_int_equal(cli_explore_merge(sh, 3, &merged, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "another campaign"));
	for (int k = 0; k < 3; k++) {
		cli_explore_summary_free(sh[k]);
		free(sh[k]);
	}
	cli_explore_summary_free(&all);
	free(want);
	free(got);
}

static void test_bad_summaries_refused(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"campaign\": {}, \"shard\": {}}",
		/* a shard whose seeds are not its slice */
		"{\"campaign\": {\"scenario\": \"s\", \"cpu\": \"zen4\", \"vpmu\": \"mediated\","
		" \"first_seed\": \"1\", \"seeds\": 10, \"inject_ppm\": 0, \"knobs\": [], \"shards\": 2},"
		" \"shard\": {\"index\": 1, \"first_seed\": \"2\", \"seeds\": 5}, \"checks\": 0,"
		" \"seeds_broken\": 0, \"bad_seeds\": [], \"first_report\": null}",
		/* a bad seed outside the shard */
		"{\"campaign\": {\"scenario\": \"s\", \"cpu\": \"zen4\", \"vpmu\": \"mediated\","
		" \"first_seed\": \"1\", \"seeds\": 10, \"inject_ppm\": 0, \"knobs\": [], \"shards\": 2},"
		" \"shard\": {\"index\": 1, \"first_seed\": \"1\", \"seeds\": 5}, \"checks\": 0,"
		" \"seeds_broken\": 1, \"bad_seeds\": [{\"seed\": \"9\", \"violations\": 1}],"
		" \"first_report\": \"x\"}",
		/* a seed that is not a string of digits */
		"{\"campaign\": {\"scenario\": \"s\", \"cpu\": \"zen4\", \"vpmu\": \"mediated\","
		" \"first_seed\": 1, \"seeds\": 10, \"inject_ppm\": 0, \"knobs\": [], \"shards\": 1},"
		" \"shard\": {\"index\": 1, \"first_seed\": \"1\", \"seeds\": 10}, \"checks\": 0,"
		" \"seeds_broken\": 0, \"bad_seeds\": [], \"first_report\": null}",
		/* shard index beyond the count */
		"{\"campaign\": {\"scenario\": \"s\", \"cpu\": \"zen4\", \"vpmu\": \"mediated\","
		" \"first_seed\": \"1\", \"seeds\": 10, \"inject_ppm\": 0, \"knobs\": [], \"shards\": 1},"
		" \"shard\": {\"index\": 2, \"first_seed\": \"1\", \"seeds\": 10}, \"checks\": 0,"
		" \"seeds_broken\": 0, \"bad_seeds\": [], \"first_report\": null}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *doc = json_loads(bad[i], 0, NULL);
		struct cli_explore_summary s;
		char err[256] = "";

		assert_non_null(doc);
		if (cli_explore_from_json(doc, &s, err, sizeof(err)) != 2)
			fail_msg("summary %zu was accepted", i);
		assert_non_null(strstr(err, "expected"));
		json_decref(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_same_output),
		cmocka_unit_test(test_slices_cover_once),
		cmocka_unit_test(test_shards_merge_to_the_whole),
		cmocka_unit_test(test_bad_summaries_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
