/* cli_exhaustive: `mvpmu explore --exhaustive` (docs/explore.md): every
 * injection point of a run and every combination of up to K of them, in
 * a fixed order; each violation classified (a known finding of the real
 * design, or new), shrunk to a minimal set of injections and reported with
 * the command that replays it.  Also the shrinking of a random run. */
#ifndef CLI_EXHAUSTIVE_H
#define CLI_EXHAUSTIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "mvpmu/scenario.h"

#define CLI_EXH_MAX_DEPTH 4

/* A finding of the real design itself (docs/explore.md, "Known
 * findings"): matched by invariant, where it happens (a site prefix) and
 * the injection that opens the window, on one vendor. */
struct cli_known {
	const char *name;
	bool amd;			/* the vendor it is about */
	int inv[2];			/* the invariants it breaks (0: none) */
	const char *site_prefix;	/* where: the violation's site starts so */
	const char *cause;		/* the injection point among the causes */
	const char *summary;		/* one line */
};

/* The known finding a violation of this kind is, NULL when new. */
const struct cli_known *cli_known_match(bool amd, int inv, const char *site, const char *cause);

struct cli_exh_opts {
	unsigned depth;			/* 1..CLI_EXH_MAX_DEPTH */
	unsigned jobs;			/* worker processes, 1: this one */
	bool strict;			/* known findings count too */
	uint64_t max_executions;
	const char *replay;		/* "mvpmu run NAME --cpu ..." without --inject-at */
};

struct cli_exh_finding {
	int invariant;
	char name[32];			/* the invariant's */
	char site[48];
	const struct cli_known *known;	/* NULL: new */
	uint64_t executions;		/* executions that showed it */
	uint32_t first[CLI_EXH_MAX_DEPTH];	/* the first execution showing it */
	unsigned first_len;
	uint32_t *minimal;		/* shrunk from `first` */
	unsigned min_len;
	char min_labels[CLI_EXH_MAX_DEPTH][64];	/* what each minimal injection is */
	struct mv_violation_result report;	/* in the minimal execution */
	bool have_report;
	uint64_t trace_hash;		/* of the minimal execution */
	char kernel_warning[200];
};

struct cli_exh_result {
	uint64_t executions;
	uint64_t points, points_by_kind[4];	/* the run without injections */
	struct cli_exh_finding *f;	/* in order of first discovery */
	size_t nr_f;
	bool partial;			/* stopped at max_executions */
	uint64_t subtrees, subtrees_done;
	/* With knobs: the run without injections, with and without them. */
	bool have_cost;
	uint64_t cost_wrmsrs[2], cost_exits[2], cost_pmi_exits[2];
	uint64_t kernel_warnings;
	char kernel_warning[200];
};

/* Explores `sc` (its knobs, patches, seed as given).  0, or 2 with a
 * one-line message (a run that cannot be built, a worker that died). */
int cli_exhaustive_run(const struct mv_scenario *sc, const struct cli_exh_opts *o,
		       struct cli_exh_result *out, char *err, size_t errlen);
/* Prints the report; returns the exit status (0, 1 new violations or
 * known findings with --strict, 3 partial). */
int cli_exhaustive_print(FILE *f, const struct mv_scenario *sc, const struct cli_exh_opts *o,
			 const struct cli_exh_result *r);
json_t *cli_exhaustive_json(const struct mv_scenario *sc, const struct cli_exh_opts *o,
			    const struct cli_exh_result *r);
int cli_exhaustive_status(const struct cli_exh_opts *o, const struct cli_exh_result *r);
void cli_exhaustive_free(struct cli_exh_result *r);

/* Delta debugging (ddmin) over a set of injection point numbers: the
 * smallest subset found (1-minimal) under which the run still shows a
 * violation of `inv` at `site` (site NULL: anywhere), or of the known
 * finding `known`.  `sc` keeps its inject_ppm (a random run keeps its
 * draws).  *out is malloc'ed.  0, or 2 with a message. */
int cli_shrink(const struct mv_scenario *sc, const uint32_t *set, unsigned n, int inv,
	       const char *site, const struct cli_known *known, uint32_t **out, unsigned *out_n,
	       char *err, size_t errlen);

/* explore --shrink: the seed's run of `sc` (inject_ppm drawing), its
 * first kind of violation shrunk over the points its draws picked, printed
 * to `text` and/or returned as JSON.  0 (also when it broke nothing), or 2. */
int cli_shrink_seed(const struct mv_scenario *sc, const char *replay, FILE *text, json_t **json,
		    char *err, size_t errlen);

/* "3,17,42" (no spaces), or "" for none. */
void cli_format_points(const uint32_t *p, unsigned n, char *buf, size_t len);

#endif
