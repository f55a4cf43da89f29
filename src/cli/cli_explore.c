/* cli_explore: many seeds of one scenario.  Seeds run in this process or
 * in forked workers (worker w runs every jobs-th seed from w and sends one
 * fixed-size record per seed, followed by its violation report, through a
 * pipe); the parent reads the records in seed order, so the output does
 * not depend on the number of workers.  Shards and their JSON summaries
 * let a job engine (GNU parallel, Slurm) run a campaign on many hosts. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_explore.h"
#include "cli_pool.h"
#include "cli_report.h"
#include "cli_run.h"

/* ---- one seed ---- */

struct seed_result {
	uint64_t seed, checked, violated;
	bool partial;			/* stopped at the run budget */
	int status;			/* 0 ran, 2 could not run (text: why) */
	char *text;			/* violation report, or the error */
	size_t len;
};

static void run_seed(struct mv_scenario *sc, struct mv_result *res, uint64_t seed,
		     struct seed_result *r)
{
	char err[512] = "";
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->seed = seed;
	sc->seed = seed;
	if (cli_run_scenario(sc, res, NULL, NULL, err, sizeof(err))) {
		r->status = 2;
		f = open_memstream(&r->text, &r->len);
		if (f) {
			fprintf(f, "%s: %s", sc->name, err);
			fclose(f);
		}
		return;
	}
	r->checked = res->inv_checked;
	r->violated = res->inv_violated;
	r->partial = res->partial;
	if (!r->violated)
		return;
	f = open_memstream(&r->text, &r->len);
	if (f) {
		cli_report_violations(f, res);
		fclose(f);
	}
}

/* ---- printing, shared by a live run and a merged summary ---- */

static void print_bad(FILE *f, uint64_t seed, uint64_t violations, const char *report)
{
	if (report)
		fputs(report, f);
	fprintf(f, "seed %" PRIu64 ": %" PRIu64 " violation(s)\n", seed, violations);
}

static void print_total(FILE *f, const struct cli_explore_summary *s)
{
	fprintf(f, "explored %" PRIu64 " seeds from %" PRIu64 " (%s, %s, inject %u ppm): "
		"%" PRIu64 " checks, %zu seed(s) broke an invariant\n",
		s->shard_seeds, s->shard_first, s->c.scenario, s->c.cpu, s->c.inject_ppm,
		s->checks, s->nr_bad);
	if (s->nr_partial)
		fprintf(f, "%" PRIu64 " seed(s) stopped at the run budget: their runs are partial\n",
			s->nr_partial);
}

int cli_explore_text(FILE *f, const struct cli_explore_summary *s)
{
	for (size_t i = 0; i < s->nr_bad; i++)
		print_bad(f, s->bad[i].seed, s->bad[i].violations, i ? NULL : s->first_report);
	print_total(f, s);
	return s->nr_bad ? 1 : s->nr_partial ? 3 : 0;
}

/* Folds one seed's result into the summary, in seed order. */
static int consume(struct cli_explore_summary *s, FILE *text, struct seed_result *r)
{
	s->checks += r->checked;
	s->nr_partial += r->partial;
	if (!r->violated)
		return 0;
	if (s->nr_bad % 64 == 0) {
		struct cli_bad_seed *b = realloc(s->bad, (s->nr_bad + 64) * sizeof(*b));

		if (!b)
			return -1;
		s->bad = b;
	}
	s->bad[s->nr_bad++] = (struct cli_bad_seed){ r->seed, r->violated };
	if (s->nr_bad == 1) {
		s->first_report = r->text ? r->text : strdup("");
		r->text = NULL;
		if (!s->first_report)
			return -1;
	}
	if (text)
		print_bad(text, r->seed, r->violated, s->nr_bad == 1 ? s->first_report : NULL);
	return 0;
}

/* ---- slices ---- */

void cli_explore_slice(uint64_t first, uint64_t seeds, unsigned k, unsigned n,
		       uint64_t *slice_first, uint64_t *slice_seeds)
{
	uint64_t lo = (uint64_t)((unsigned __int128)seeds * (k - 1) / n);
	uint64_t hi = (uint64_t)((unsigned __int128)seeds * k / n);

	*slice_first = first + lo;	/* seeds wrap around 2^64, as --seed does */
	*slice_seeds = hi - lo;
}

/* ---- workers ---- */

struct wire {			/* one seed's record on a worker's pipe */
	uint64_t seed, checked, violated;
	uint32_t status, len;	/* len bytes of text follow */
	uint32_t partial, unused;
};

struct seed_job {
	struct mv_scenario *sc;
	uint64_t first, n;
};

/* Worker w runs seeds w, w + jobs, ... and sends one record per seed. */
static void seed_worker(int fd, unsigned w, unsigned jobs, void *arg)
{
	const struct seed_job *job = arg;
	struct mv_result *res = malloc(sizeof(*res));

	if (!res)
		_exit(3);
	for (uint64_t i = w; i < job->n; i += jobs) {
		struct seed_result r;
		struct wire m;

		run_seed(job->sc, res, job->first + i, &r);
		m = (struct wire){ r.seed, r.checked, r.violated, (uint32_t)r.status,
				   r.len > UINT32_MAX ? UINT32_MAX : (uint32_t)r.len, r.partial, 0 };
		if (cli_write_all(fd, &m, sizeof(m)) || cli_write_all(fd, r.text ? r.text : "", m.len))
			_exit(3);	/* the parent went away */
		free(r.text);
		if (r.status)
			break;
	}
	_exit(0);
}

/* The next record of worker w; 2 with a message when it died. */
static int pool_read(struct cli_pool *p, unsigned w, uint64_t seed, struct seed_result *r,
		     char *err, size_t errlen)
{
	struct wire m;
	char how[96];

	memset(r, 0, sizeof(*r));
	if (cli_read_all(p->fd[w], &m, sizeof(m)) == 0 && m.seed == seed) {
		r->seed = m.seed;
		r->checked = m.checked;
		r->violated = m.violated;
		r->partial = m.partial != 0;
		r->status = (int)m.status;
		r->len = m.len;
		r->text = malloc((size_t)m.len + 1);
		if (r->text && cli_read_all(p->fd[w], r->text, m.len) == 0) {
			r->text[m.len] = '\0';
			return 0;
		}
		free(r->text);
		r->text = NULL;
	}
	cli_pool_reap(p, w, how, sizeof(how));
	snprintf(err, errlen, "%s before seed %" PRIu64, how, seed);
	return 2;
}

int cli_explore_run(const struct cli_campaign *c, unsigned shard, unsigned jobs,
		    struct mv_scenario *sc, FILE *text,
		    struct cli_explore_summary *out, char *err, size_t errlen)
{
	struct cli_pool *pool = NULL;
	struct seed_job job;
	struct mv_result *res = NULL;
	uint64_t first, n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->c = *c;
	out->shard = shard;
	cli_explore_slice(c->first, c->seeds, shard, c->nr_shards, &first, &n);
	out->shard_first = first;
	out->shard_seeds = n;
	if (jobs > n)
		jobs = n ? (unsigned)n : 1;
	if (jobs > CLI_POOL_MAX_JOBS)
		jobs = CLI_POOL_MAX_JOBS;
	if (jobs > 1) {
		pool = calloc(1, sizeof(*pool));
		if (!pool) {
			snprintf(err, errlen, "out of memory");
			return 2;
		}
		job = (struct seed_job){ sc, first, n };
		if ((rc = cli_pool_start(pool, jobs, seed_worker, &job, err, errlen))) {
			free(pool);
			return rc;
		}
	} else if (!(res = malloc(sizeof(*res)))) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	for (uint64_t i = 0; i < n && !rc; i++) {
		struct seed_result r;

		if (pool)
			rc = pool_read(pool, (unsigned)(i % jobs), first + i, &r, err, errlen);
		else
			run_seed(sc, res, first + i, &r);
		if (!rc && r.status) {
			snprintf(err, errlen, "%s", r.text ? r.text : "a run failed");
			rc = 2;
		}
		if (!rc && consume(out, text, &r)) {
			snprintf(err, errlen, "out of memory");
			rc = 2;
		}
		free(r.text);
	}
	if (pool) {
		cli_pool_stop(pool, rc != 0);
		free(pool);
	}
	free(res);
	if (!rc && text)
		print_total(text, out);
	return rc;
}

void cli_explore_summary_free(struct cli_explore_summary *s)
{
	free(s->bad);
	free(s->first_report);
	memset(s, 0, sizeof(*s));
}

/* ---- JSON ---- */

/* Seeds are strings of decimal digits: all 64 bits survive any reader
 * (many read JSON numbers as doubles). */
static json_t *seed_str(uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	return json_string(b);
}

static json_t *knob_list(const char *knobs)
{
	json_t *a = json_array();
	const char *p = knobs;

	while (a && *p) {
		size_t len = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, len));
		p += len + (p[len] == ',');
	}
	return a;
}

json_t *cli_explore_json(const struct cli_explore_summary *s)
{
	json_t *bad = json_array();

	for (size_t i = 0; bad && i < s->nr_bad; i++)
		json_array_append_new(bad, json_pack("{s:o, s:I}", "seed", seed_str(s->bad[i].seed),
						     "violations", (json_int_t)s->bad[i].violations));
	return json_pack("{s:{s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:I}, s:{s:I, s:o, s:I},"
			 " s:I, s:I, s:I, s:o, s:o}",
			 "campaign", "scenario", s->c.scenario, "cpu", s->c.cpu,
			 "vpmu", s->c.vpmu, "first_seed", seed_str(s->c.first),
			 "seeds", (json_int_t)s->c.seeds, "inject_ppm", (json_int_t)s->c.inject_ppm,
			 "knobs", knob_list(s->c.knobs), "patches", knob_list(s->c.patches),
			 "shards", (json_int_t)s->c.nr_shards,
			 "shard", "index", (json_int_t)s->shard,
			 "first_seed", seed_str(s->shard_first), "seeds", (json_int_t)s->shard_seeds,
			 "checks", (json_int_t)s->checks, "seeds_broken", (json_int_t)s->nr_bad,
			 "seeds_partial", (json_int_t)s->nr_partial,
			 "bad_seeds", bad,
			 "first_report", s->first_report ? json_string(s->first_report) : json_null());
}

static int bad_json(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "expected %s in an explore summary", what);
	return 2;
}

static int get_u64(const json_t *o, const char *key, bool as_string, uint64_t max,
		   uint64_t *v, char *err, size_t errlen)
{
	const json_t *j = json_object_get(o, key);
	char what[96];

	snprintf(what, sizeof(what), "'%s' as %s", key,
		 as_string ? "a string of decimal digits" : "a non-negative integer");
	if (as_string) {
		const char *s = json_string_value(j);
		char *end;

		if (!s || !(s[0] >= '0' && s[0] <= '9'))
			return bad_json(err, errlen, what);
		errno = 0;
		*v = strtoull(s, &end, 10);
		if (*end || errno)
			return bad_json(err, errlen, what);
	} else {
		if (!json_is_integer(j) || json_integer_value(j) < 0)
			return bad_json(err, errlen, what);
		*v = (uint64_t)json_integer_value(j);
	}
	if (*v > max)
		return bad_json(err, errlen, what);
	return 0;
}

static int get_str(const json_t *o, const char *key, char *buf, size_t len,
		   char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(o, key));
	char what[64];

	snprintf(what, sizeof(what), "'%s' as a string", key);
	if (!s || strlen(s) >= len)
		return bad_json(err, errlen, what);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* A list of names (knobs, patches) into "a,b,...". */
static int get_names(const json_t *o, const char *key, char *buf, size_t len, char *err,
		     size_t errlen)
{
	const json_t *a = json_object_get(o, key), *k;
	char what[64];
	size_t i, off = 0;

	buf[0] = '\0';
	snprintf(what, sizeof(what), "'%s' as a list of names", key);
	if (!json_is_array(a))
		return bad_json(err, errlen, what);
	json_array_foreach(a, i, k) {
		const char *s = json_string_value(k);

		if (!s || !s[0] || strchr(s, ',') || off + strlen(s) + 2 > len)
			return bad_json(err, errlen, what);
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", s);
	}
	return 0;
}

int cli_explore_from_json(const json_t *doc, struct cli_explore_summary *s,
			  char *err, size_t errlen)
{
	const json_t *c = json_object_get(doc, "campaign"), *sh = json_object_get(doc, "shard");
	const json_t *bad = json_object_get(doc, "bad_seeds"), *rep = json_object_get(doc, "first_report");
	uint64_t v, prev = 0;
	size_t i;
	const json_t *b;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(doc) || !json_is_object(c) || !json_is_object(sh))
		return bad_json(err, errlen, "the objects 'campaign' and 'shard'");
	if (get_str(c, "scenario", s->c.scenario, sizeof(s->c.scenario), err, errlen) ||
	    get_str(c, "cpu", s->c.cpu, sizeof(s->c.cpu), err, errlen) ||
	    get_str(c, "vpmu", s->c.vpmu, sizeof(s->c.vpmu), err, errlen) ||
	    get_u64(c, "first_seed", true, UINT64_MAX, &s->c.first, err, errlen) ||
	    get_u64(c, "seeds", false, UINT64_MAX, &s->c.seeds, err, errlen) ||
	    get_names(c, "knobs", s->c.knobs, sizeof(s->c.knobs), err, errlen) ||
	    get_names(c, "patches", s->c.patches, sizeof(s->c.patches), err, errlen))
		return 2;
	if (get_u64(c, "inject_ppm", false, 1000000, &v, err, errlen))
		return 2;
	s->c.inject_ppm = (uint32_t)v;
	if (get_u64(c, "shards", false, 1000000, &v, err, errlen))
		return 2;
	if (!v)
		return bad_json(err, errlen, "'shards' from 1");
	s->c.nr_shards = (unsigned)v;
	if (get_u64(sh, "index", false, s->c.nr_shards, &v, err, errlen))
		return 2;
	if (!v)
		return bad_json(err, errlen, "'index' from 1 to 'shards'");
	s->shard = (unsigned)v;
	if (get_u64(sh, "first_seed", true, UINT64_MAX, &s->shard_first, err, errlen) ||
	    get_u64(sh, "seeds", false, UINT64_MAX, &s->shard_seeds, err, errlen))
		return 2;
	cli_explore_slice(s->c.first, s->c.seeds, s->shard, s->c.nr_shards, &v, &prev);
	if (v != s->shard_first || prev != s->shard_seeds)
		return bad_json(err, errlen, "the shard's seeds to be its slice of the campaign");
	if (get_u64(doc, "checks", false, UINT64_MAX, &s->checks, err, errlen) ||
	    get_u64(doc, "seeds_partial", false, s->shard_seeds, &s->nr_partial, err, errlen))
		return 2;
	if (!json_is_array(bad) || json_array_size(bad) > s->shard_seeds)
		return bad_json(err, errlen, "'bad_seeds' as a list, at most one per seed");
	s->bad = calloc(json_array_size(bad) + 1, sizeof(*s->bad));
	if (!s->bad) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	json_array_foreach(bad, i, b) {
		struct cli_bad_seed *d = &s->bad[i];

		if (get_u64(b, "seed", true, UINT64_MAX, &d->seed, err, errlen) ||
		    get_u64(b, "violations", false, UINT64_MAX, &d->violations, err, errlen)) {
			cli_explore_summary_free(s);
			return 2;
		}
		/* In the shard's slice, in order, each once, each broken. */
		if (d->seed - s->shard_first >= s->shard_seeds ||
		    (i && d->seed - s->shard_first <= prev - s->shard_first) || !d->violations) {
			cli_explore_summary_free(s);
			return bad_json(err, errlen, "'bad_seeds' in the shard's seeds, in order");
		}
		prev = d->seed;
		s->nr_bad++;
	}
	v = json_is_integer(json_object_get(doc, "seeds_broken")) ?
		(uint64_t)json_integer_value(json_object_get(doc, "seeds_broken")) : UINT64_MAX;
	if (v != s->nr_bad) {
		cli_explore_summary_free(s);
		return bad_json(err, errlen, "'seeds_broken' equal to the number of 'bad_seeds'");
	}
	if (s->nr_bad ? !json_is_string(rep) : !json_is_null(rep)) {
		cli_explore_summary_free(s);
		return bad_json(err, errlen, "'first_report' as a string when a seed broke, else null");
	}
	if (s->nr_bad && !(s->first_report = strdup(json_string_value(rep)))) {
		cli_explore_summary_free(s);
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	return 0;
}

/* ---- merging ---- */

static bool same_campaign(const struct cli_campaign *a, const struct cli_campaign *b)
{
	return !strcmp(a->scenario, b->scenario) && !strcmp(a->cpu, b->cpu) &&
	       !strcmp(a->vpmu, b->vpmu) && a->first == b->first && a->seeds == b->seeds &&
	       a->inject_ppm == b->inject_ppm && !strcmp(a->knobs, b->knobs) &&
	       !strcmp(a->patches, b->patches) &&
	       a->nr_shards == b->nr_shards;
}

int cli_explore_merge(struct cli_explore_summary *const in[], size_t n,
		      struct cli_explore_summary *out, char *err, size_t errlen)
{
	const struct cli_explore_summary **by = NULL;
	unsigned shards;
	size_t nr_bad = 0;

	memset(out, 0, sizeof(*out));
	if (!n) {
		snprintf(err, errlen, "no summaries to merge");
		return 2;
	}
	shards = in[0]->c.nr_shards;
	for (size_t i = 0; i < n; i++) {
		if (!same_campaign(&in[i]->c, &in[0]->c)) {
			snprintf(err, errlen, "summary %zu is of another campaign than summary 1", i + 1);
			return 2;
		}
	}
	by = calloc(shards + 1, sizeof(*by));
	if (!by) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (by[in[i]->shard]) {
			snprintf(err, errlen, "shard %u/%u is given twice", in[i]->shard, shards);
			free(by);
			return 2;
		}
		by[in[i]->shard] = in[i];
		nr_bad += in[i]->nr_bad;
	}
	for (unsigned k = 1; k <= shards; k++) {
		if (!by[k]) {
			snprintf(err, errlen, "shard %u/%u is missing", k, shards);
			free(by);
			return 2;
		}
	}
	out->c = in[0]->c;
	out->c.nr_shards = 1;
	out->shard = 1;
	out->shard_first = out->c.first;
	out->shard_seeds = out->c.seeds;
	out->bad = calloc(nr_bad + 1, sizeof(*out->bad));
	if (!out->bad) {
		snprintf(err, errlen, "out of memory");
		free(by);
		return 2;
	}
	/* Shards are slices in seed order: concatenated, seeds stay in order. */
	for (unsigned k = 1; k <= shards; k++) {
		const struct cli_explore_summary *s = by[k];

		out->checks += s->checks;
		out->nr_partial += s->nr_partial;
		memcpy(out->bad + out->nr_bad, s->bad, s->nr_bad * sizeof(*s->bad));
		out->nr_bad += s->nr_bad;
		if (!out->first_report && s->first_report &&
		    !(out->first_report = strdup(s->first_report))) {
			snprintf(err, errlen, "out of memory");
			free(by);
			cli_explore_summary_free(out);
			return 2;
		}
	}
	free(by);
	return 0;
}
