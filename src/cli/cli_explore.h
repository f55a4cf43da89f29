/* cli_explore: `mvpmu explore` and `mvpmu merge` (docs/explore.md): a
 * scenario run under a range of seeds, in one process or several (fork
 * and pipes, results printed in seed order), a shard of that range with
 * a JSON summary, and the merge of shard summaries into the whole. */
#ifndef CLI_EXPLORE_H
#define CLI_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli_pool.h"
#include "mvpmu/scenario.h"

#define CLI_EXPLORE_MAX_JOBS CLI_POOL_MAX_JOBS

/* What a campaign is: equal in every shard of it. */
struct cli_campaign {
	char scenario[MV_NAME_MAX];
	char cpu[MV_NAME_MAX];
	char vpmu[16];
	uint64_t first;			/* seeds first .. first + seeds - 1 */
	uint64_t seeds;
	uint32_t inject_ppm;
	char knobs[128];		/* "no-counter-clear,..." in option order */
	char patches[128];		/* "fixed-counter-3,..." in bit order */
	unsigned nr_shards;		/* 1: the whole campaign */
};

struct cli_bad_seed {
	uint64_t seed;
	uint64_t violations;
};

/* The result of a campaign, or of shard `shard` (1..nr_shards) of it. */
struct cli_explore_summary {
	struct cli_campaign c;
	unsigned shard;
	uint64_t shard_first, shard_seeds;
	uint64_t checks;
	uint64_t nr_partial;		/* seeds whose run stopped at the budget */
	struct cli_bad_seed *bad;	/* in seed order */
	size_t nr_bad;
	char *first_report;		/* violations of the first bad seed, NULL none */
};

/* The slice of shard k (1..n) of `seeds` seeds from `first`: disjoint,
 * in order, together the whole range. */
void cli_explore_slice(uint64_t first, uint64_t seeds, unsigned k, unsigned n,
		       uint64_t *slice_first, uint64_t *slice_seeds);

/* Runs `sc` under the seeds of shard `shard` of campaign `c` in `jobs`
 * processes (1: this one).  With `text` set, prints as it goes what
 * `explore` prints, in seed order whatever `jobs`.  Fills `out` (free it
 * with cli_explore_summary_free).  Returns 0, or 2 with a one-line
 * message in `err` (a run that could not be built, a worker that died). */
int cli_explore_run(const struct cli_campaign *c, unsigned shard, unsigned jobs,
		    struct mv_scenario *sc, FILE *text,
		    struct cli_explore_summary *out, char *err, size_t errlen);

/* The text `explore` prints for a summary (a merged one included). */
int cli_explore_text(FILE *f, const struct cli_explore_summary *s);

/* The summary as JSON (docs/explore.md), and back: 0, or 2 with a
 * message naming what is wrong. */
json_t *cli_explore_json(const struct cli_explore_summary *s);
int cli_explore_from_json(const json_t *doc, struct cli_explore_summary *s,
			  char *err, size_t errlen);

/* Combines the summaries of every shard of one campaign (in any order)
 * into the summary of the whole campaign.  0, or 2 with a message (shards
 * of different campaigns, a shard missing or given twice). */
int cli_explore_merge(struct cli_explore_summary *const in[], size_t n,
		      struct cli_explore_summary *out, char *err, size_t errlen);

void cli_explore_summary_free(struct cli_explore_summary *s);

#endif
