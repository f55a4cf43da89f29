/* cli_exhaustive: exhaustive bounded exploration.  The run without
 * injections numbers its points (the census); then, depth first, each
 * point alone, and after each execution every later point of that
 * execution (its own numbering), up to K injections.  The subtree under
 * each point of the census can run in a worker process; the parent merges
 * the subtrees in order, so the result is the same whatever --jobs.
 * Violations are grouped by kind (a known finding by name, else invariant
 * and site), and the first execution of each kind, in that order, is
 * shrunk by delta debugging before it is reported. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_exhaustive.h"
#include "cli_pool.h"
#include "cli_explore.h"
#include "cli_report.h"
#include "cli_run.h"
#include "hw/hw_model.h"
#include "sim/sim.h"

/* ---- known findings (docs/explore.md, "Known findings") ---- */

static const struct cli_known known_findings[] = {
	{ "amd-nmi-reload-window", true, { INV_ORDERING, 0 }, "load/", "load/lvtpc=guest",
	  "a host NMI between KVM's GLOBAL_CTL=0 and the LVTPC switch runs perf's v2 "
	  "handler, which sets every GLOBAL_CTL bit again; KVM then writes the LVTPC, "
	  "counters and selectors with counters enabled (GuestOnly keeps counts right)" },
	{ "intel-nmi-enable-all-window", false, { INV_ORDERING, INV_ISOLATION }, "load/",
	  "load/lvtpc=guest",
	  "a host NMI between KVM's GLOBAL_CTRL=0 and the LVTPC switch runs perf's PMI "
	  "handler, whose 7.0 enable-all sets every counter bit; KVM then writes the "
	  "LVTPC, counters and selectors with counters enabled, and until VM-entry the "
	  "guest's selectors would count host work" },
};

#define NR_KNOWN (sizeof(known_findings) / sizeof(known_findings[0]))

static bool has_cause(const char *causes, const char *cause)
{
	size_t n = strlen(cause);

	for (const char *p = causes; *p; ) {
		size_t len = strcspn(p, "+");

		if (len == n && !strncmp(p, cause, n))
			return true;
		p += len + (p[len] == '+');
	}
	return false;
}

const struct cli_known *cli_known_match(bool amd, int inv, const char *site, const char *cause)
{
	for (size_t i = 0; i < NR_KNOWN; i++) {
		const struct cli_known *k = &known_findings[i];

		if (k->amd != amd || (inv != k->inv[0] && inv != k->inv[1]) || !inv)
			continue;
		if (strncmp(site, k->site_prefix, strlen(k->site_prefix)) ||
		    !has_cause(cause, k->cause))
			continue;
		return k;
	}
	return NULL;
}

static int known_index(const struct cli_known *k)
{
	return k ? (int)(k - known_findings) : -1;
}

void cli_format_points(const uint32_t *p, unsigned n, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < n && off + 12 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%" PRIu32, i ? "," : "", p[i]);
}

/* ---- one execution ---- */

struct ctx {
	struct mv_scenario sc;		/* the scenario, points numbered */
	const struct cli_exh_opts *o;
	bool amd;
	struct mv_result *res;
	uint32_t chain[CLI_EXH_MAX_DEPTH];
};

static int run_exec(struct ctx *c, const uint32_t *at, unsigned n, struct mv_result *res,
		    char *err, size_t errlen)
{
	char msg[512] = "";

	c->sc.points = true;
	c->sc.inject_at = n ? at : NULL;
	c->sc.nr_inject_at = n;
	if (cli_run_scenario(&c->sc, res, NULL, NULL, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", c->sc.name, msg);
		return 2;
	}
	return 0;
}

/* One kind of violation seen in a subtree (fixed size: it crosses pipes). */
struct hit {
	int32_t inv, known;
	char site[48];
	uint32_t first_len;
	uint32_t first[CLI_EXH_MAX_DEPTH];
	uint64_t count;
};

struct subtree {
	uint64_t executions;
	bool incomplete;		/* cut at the budget */
	struct hit *h;
	size_t n, cap;
};

static bool same_key(const struct hit *a, int inv, int known, const char *site)
{
	if (a->known >= 0 || known >= 0)
		return a->known == known;
	return a->inv == inv && !strcmp(a->site, site);
}

static int add_hit(struct subtree *st, const struct hit *nh)
{
	for (size_t i = 0; i < st->n; i++)
		if (same_key(&st->h[i], nh->inv, nh->known, nh->site)) {
			st->h[i].count += nh->count;
			return 0;
		}
	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 8;
		struct hit *h = realloc(st->h, cap * sizeof(*h));

		if (!h)
			return -1;
		st->h = h;
		st->cap = cap;
	}
	st->h[st->n++] = *nh;
	return 0;
}

/* The kinds of violation an execution showed, each once. */
static int absorb(struct ctx *c, struct subtree *st, const struct mv_result *res,
		  const uint32_t *chain, unsigned len)
{
	struct hit seen[MV_MAX_SIGS + 1];
	unsigned nseen = 0;

	for (unsigned i = 0; i <= res->nr_sigs && i <= MV_MAX_SIGS; i++) {
		struct hit h = { 0 };
		const struct cli_known *k = NULL;
		bool dup = false;

		if (i == res->nr_sigs) {
			if (!res->sigs_overflow)
				break;
			/* More kinds than the run kept: never counted as known. */
			h.inv = 0;
			snprintf(h.site, sizeof(h.site), "(more kinds than kept)");
		} else {
			const struct mv_violation_sig *s = &res->sigs[i];

			k = cli_known_match(c->amd, s->invariant, s->site, s->cause);
			h.inv = s->invariant;
			snprintf(h.site, sizeof(h.site), "%s", k ? "" : s->site);
		}
		h.known = known_index(k);
		h.count = 1;
		h.first_len = len;
		if (len)
			memcpy(h.first, chain, len * sizeof(*chain));
		for (unsigned j = 0; j < nseen && !dup; j++)
			dup = same_key(&seen[j], h.inv, h.known, h.site);
		if (dup)
			continue;
		seen[nseen++] = h;
		if (add_hit(st, &h))
			return -1;
	}
	return 0;
}

/* Depth first below `chain` (already holding len points), within budget. */
static int dfs(struct ctx *c, struct subtree *st, unsigned len, char *err, size_t errlen)
{
	uint64_t n;

	if (st->executions >= c->o->max_executions) {
		st->incomplete = true;
		return 0;
	}
	if (run_exec(c, c->chain, len, c->res, err, errlen))
		return 2;
	st->executions++;
	if (absorb(c, st, c->res, c->chain, len)) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	n = c->res->points;
	for (uint64_t j = c->chain[len - 1] + 1; len < c->o->depth && j < n; j++) {
		int rc;

		c->chain[len] = (uint32_t)j;
		if ((rc = dfs(c, st, len + 1, err, errlen)))
			return rc;
		if (st->incomplete)
			break;
	}
	return 0;
}

static int subtree_run(struct ctx *c, uint32_t root, struct subtree *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	c->chain[0] = root;
	return dfs(c, st, 1, err, errlen);
}

/* ---- workers: subtree w, w + jobs, ... each sent as one record ---- */

struct wire {
	uint32_t root, incomplete, skipped, status;
	uint64_t executions, nr_hits;
	char err[200];
};

struct subtree_job {
	struct ctx *c;
	uint64_t nroots;
};

/* Worker w explores subtrees w, w + jobs, ... and sends one record each. */
static void subtree_worker(int fd, unsigned w, unsigned jobs, void *arg)
{
	const struct subtree_job *job = arg;
	struct ctx *c = job->c;
	uint64_t nroots = job->nroots;
	uint64_t cum = 0;

	if (!(c->res = malloc(sizeof(*c->res))))
		_exit(3);
	for (uint64_t i = w; i < nroots; i += jobs) {
		struct subtree st = { 0 };
		struct wire m = { .root = (uint32_t)i };
		char err[200] = "";

		/* Subtrees after this worker's budget are beyond everyone's. */
		if (cum >= c->o->max_executions)
			m.skipped = 1;
		else if (subtree_run(c, (uint32_t)i, &st, err, sizeof(err)))
			m.status = 2;
		m.incomplete = st.incomplete;
		m.executions = st.executions;
		m.nr_hits = m.status ? 0 : st.n;
		snprintf(m.err, sizeof(m.err), "%s", err);
		cum += st.executions;
		if (cli_write_all(fd, &m, sizeof(m)) || cli_write_all(fd, st.h, m.nr_hits * sizeof(*st.h)))
			_exit(3);
		free(st.h);
		if (m.status)
			break;
	}
	_exit(0);
}

static int pool_read(struct cli_pool *p, unsigned w, uint32_t root, struct subtree *st,
		     bool *skipped, char *err, size_t errlen)
{
	struct wire m;

	memset(st, 0, sizeof(*st));
	if (cli_read_all(p->fd[w], &m, sizeof(m)) || m.root != root) {
		snprintf(err, errlen, "worker %u stopped before subtree %" PRIu32, w + 1, root);
		return 2;
	}
	if (m.status) {
		snprintf(err, errlen, "%s", m.err);
		return 2;
	}
	st->executions = m.executions;
	st->incomplete = m.incomplete;
	*skipped = m.skipped;
	if (m.nr_hits > (1u << 20) || !(st->h = calloc(m.nr_hits + 1, sizeof(*st->h)))) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	st->n = st->cap = m.nr_hits;
	if (cli_read_all(p->fd[w], st->h, m.nr_hits * sizeof(*st->h))) {
		snprintf(err, errlen, "worker %u stopped in subtree %" PRIu32, w + 1, root);
		return 2;
	}
	return 0;
}

/* ---- shrinking ---- */

struct shrink {
	struct mv_scenario sc;
	struct mv_result *res;
	int inv;
	const char *site;
	const struct cli_known *known;
	bool amd;
	uint64_t runs;
};

static int shows(struct shrink *s, const uint32_t *set, unsigned n, bool *yes, char *err,
		 size_t errlen)
{
	char msg[512] = "";

	s->sc.inject_at = n ? set : NULL;
	s->sc.nr_inject_at = n;
	s->sc.points = true;
	s->runs++;
	if (cli_run_scenario(&s->sc, s->res, NULL, NULL, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", s->sc.name, msg);
		return 2;
	}
	*yes = false;
	for (unsigned i = 0; i < s->res->nr_sigs && !*yes; i++) {
		const struct mv_violation_sig *g = &s->res->sigs[i];
		const struct cli_known *k = cli_known_match(s->amd, g->invariant, g->site, g->cause);

		if (s->known)
			*yes = k == s->known;
		else
			*yes = !k && g->invariant == s->inv && (!s->site || !strcmp(g->site, s->site));
	}
	return 0;
}

/* Zeller's ddmin: try each of n chunks, then each complement; on success
 * keep it (n back to 2, or one less), else split finer, until 1-minimal. */
int cli_shrink(const struct mv_scenario *sc, const uint32_t *set, unsigned n, int inv,
	       const char *site, const struct cli_known *known, uint32_t **out, unsigned *out_n,
	       char *err, size_t errlen)
{
	struct shrink s = { .sc = *sc, .inv = inv, .site = site, .known = known };
	const struct hw_model *m = hw_model_find(sc->cpu);
	uint32_t *cur = malloc((n + 1) * sizeof(*cur)), *cand = malloc((n + 1) * sizeof(*cand));
	unsigned len = n, parts = 2;
	bool yes = false;
	int rc = 0;

	*out = NULL;
	*out_n = 0;
	s.amd = m && m->vendor == HW_AMD;
	s.res = malloc(sizeof(*s.res));
	if (!cur || !cand || !s.res) {
		snprintf(err, errlen, "out of memory");
		rc = 2;
		goto done;
	}
	if (n)
		memcpy(cur, set, n * sizeof(*cur));
	if ((rc = shows(&s, cur, 0, &yes, err, errlen)))
		goto done;
	if (yes)
		len = 0;
	while (len >= 2) {
		bool reduced = false;

		if (parts > len)
			parts = len;
		/* Chunk i is cur[lo, hi); its complement keeps the order. */
		for (unsigned pass = 0; pass < 2 && !reduced; pass++) {
			for (unsigned i = 0; i < parts && !reduced; i++) {
				unsigned lo = (unsigned)((uint64_t)len * i / parts);
				unsigned hi = (unsigned)((uint64_t)len * (i + 1) / parts);
				unsigned k = 0;

				for (unsigned j = 0; j < len; j++)
					if ((j >= lo && j < hi) == (pass == 0))
						cand[k++] = cur[j];
				if (k == 0 || k == len)
					continue;
				if ((rc = shows(&s, cand, k, &yes, err, errlen)))
					goto done;
				if (yes) {
					memcpy(cur, cand, k * sizeof(*cur));
					len = k;
					parts = pass == 0 ? 2 : (parts > 2 ? parts - 1 : 2);
					reduced = true;
				}
			}
		}
		if (!reduced) {
			if (parts >= len)
				break;
			parts = 2 * parts < len ? 2 * parts : len;
		}
	}
	*out = cur;
	*out_n = len;
	cur = NULL;
done:
	free(cur);
	free(cand);
	free(s.res);
	return rc;
}

/* ---- the whole exploration ---- */

static bool any_knob(const struct mv_knobs *k)
{
	static const struct mv_knobs none;

	return memcmp(k, &none, sizeof(none)) != 0;
}

static int merge(struct subtree *all, const struct subtree *st)
{
	all->executions += st->executions;
	for (size_t i = 0; i < st->n; i++)
		if (add_hit(all, &st->h[i]))
			return -1;
	return 0;
}

/* The finding's minimal execution: its report, hash, and what its
 * injections are (from the execution's own numbering). */
static int describe(struct ctx *c, struct cli_exh_finding *f, char *err, size_t errlen)
{
	struct cli_points pts = { .log = true };
	char msg[512] = "";

	c->sc.points = true;
	c->sc.inject_at = f->min_len ? f->minimal : NULL;
	c->sc.nr_inject_at = f->min_len;
	if (cli_run_scenario_points(&c->sc, c->res, &pts, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", c->sc.name, msg);
		return 2;
	}
	for (unsigned i = 0; i < f->min_len && i < CLI_EXH_MAX_DEPTH; i++)
		if (f->minimal[i] < pts.nr_log)
			snprintf(f->min_labels[i], sizeof(f->min_labels[i]), "%s %s",
				 sim_point_kind_name(pts.log_recs[f->minimal[i]].kind),
				 pts.log_recs[f->minimal[i]].label);
	cli_points_free(&pts);
	f->trace_hash = c->res->trace_hash;
	snprintf(f->kernel_warning, sizeof(f->kernel_warning), "%s", c->res->kernel_warning);
	for (unsigned i = 0; i < c->res->nr_violations && !f->have_report; i++) {
		const struct mv_violation_result *v = &c->res->violations[i];
		const struct cli_known *k = cli_known_match(c->amd, v->invariant, v->site, v->cause);

		if (f->known ? k == f->known :
		    (!k && v->invariant == f->invariant && !strcmp(v->site, f->site))) {
			f->report = *v;
			f->have_report = true;
		}
	}
	for (unsigned i = 0; i < c->res->nr_sigs && !f->have_report; i++) {
		const struct mv_violation_sig *g = &c->res->sigs[i];
		const struct cli_known *k = cli_known_match(c->amd, g->invariant, g->site, g->cause);

		if (f->known ? k == f->known :
		    (!k && g->invariant == f->invariant && !strcmp(g->site, f->site))) {
			f->report = (struct mv_violation_result){ .invariant = g->invariant,
								  .seed = c->sc.seed, .step = g->step };
			snprintf(f->report.name, sizeof(f->report.name), "%s", g->name);
			snprintf(f->report.msg, sizeof(f->report.msg), "%s", g->msg);
			snprintf(f->report.site, sizeof(f->report.site), "%s", g->site);
			snprintf(f->report.cause, sizeof(f->report.cause), "%s", g->cause);
			f->have_report = true;
		}
	}
	return 0;
}

static int findings(struct ctx *c, const struct subtree *all, struct cli_exh_result *out,
		    char *err, size_t errlen)
{
	out->f = calloc(all->n + 1, sizeof(*out->f));
	if (!out->f) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	for (size_t i = 0; i < all->n; i++) {
		const struct hit *h = &all->h[i];
		struct cli_exh_finding *f = &out->f[out->nr_f++];
		int rc;

		f->invariant = h->inv;
		snprintf(f->name, sizeof(f->name), "%s", h->inv ? sim_invariant_name(h->inv) : "?");
		snprintf(f->site, sizeof(f->site), "%s", h->site);
		f->known = h->known >= 0 ? &known_findings[h->known] : NULL;
		f->executions = h->count;
		f->first_len = h->first_len;
		memcpy(f->first, h->first, sizeof(f->first));
		if (h->first_len < 2) {
			f->minimal = calloc(CLI_EXH_MAX_DEPTH, sizeof(*f->minimal));
			if (!f->minimal) {
				snprintf(err, errlen, "out of memory");
				return 2;
			}
			if (h->first_len)
				memcpy(f->minimal, h->first, h->first_len * sizeof(*h->first));
			f->min_len = h->first_len;
		} else if ((rc = cli_shrink(&c->sc, h->first, h->first_len, h->inv,
					    f->known ? NULL : h->site, f->known, &f->minimal,
					    &f->min_len, err, errlen))) {
			return rc;
		}
		if (!h->inv)
			continue;	/* more kinds than kept: nothing to describe */
		if ((rc = describe(c, f, err, errlen)))
			return rc;
	}
	return 0;
}

static int cost(struct ctx *c, struct cli_exh_result *out, char *err, size_t errlen)
{
	struct mv_scenario plain = c->sc;

	for (int k = 0; k < 2; k++) {
		int rc;

		if (k == 1)
			memset(&c->sc.knobs, 0, sizeof(c->sc.knobs));
		rc = run_exec(c, NULL, 0, c->res, err, errlen);
		c->sc.knobs = plain.knobs;
		if (rc)
			return rc;
		out->cost_wrmsrs[k] = c->res->switch_wrmsrs;
		out->cost_exits[k] = c->res->exits_total;
		out->cost_pmi_exits[k] = c->res->exits_mediated_pmi;
	}
	out->have_cost = true;
	return 0;
}

int cli_exhaustive_run(const struct mv_scenario *sc, const struct cli_exh_opts *o,
		       struct cli_exh_result *out, char *err, size_t errlen)
{
	const struct hw_model *m = hw_model_find(sc->cpu);
	struct ctx *c = calloc(1, sizeof(*c));
	struct subtree all = { 0 }, st = { 0 };
	struct cli_pool *pool = NULL;
	struct subtree_job job;
	unsigned jobs = o->jobs ? o->jobs : 1;
	uint64_t nroots = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!c || !(c->res = malloc(sizeof(*c->res)))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	c->sc = *sc;
	c->sc.inject_ppm = 0;
	c->o = o;
	c->amd = m && m->vendor == HW_AMD;
	/* The census: the run without injections numbers the points. */
	if ((rc = run_exec(c, NULL, 0, c->res, err, errlen)))
		goto done;
	all.executions = 1;
	if (absorb(c, &all, c->res, NULL, 0)) {
		snprintf(err, errlen, "out of memory");
		rc = 2;
		goto done;
	}
	out->points = nroots = c->res->points;
	memcpy(out->points_by_kind, c->res->points_by_kind, sizeof(out->points_by_kind));
	out->kernel_warnings = c->res->kernel_warnings;
	snprintf(out->kernel_warning, sizeof(out->kernel_warning), "%s", c->res->kernel_warning);
	out->subtrees = nroots;
	if (jobs > nroots)
		jobs = nroots ? (unsigned)nroots : 1;
	if (jobs > CLI_POOL_MAX_JOBS)
		jobs = CLI_POOL_MAX_JOBS;
	if (jobs > 1) {
		if (!(pool = calloc(1, sizeof(*pool)))) {
			snprintf(err, errlen, "out of memory");
			rc = 2;
			goto done;
		}
		job = (struct subtree_job){ c, nroots };
		if ((rc = cli_pool_start(pool, jobs, subtree_worker, &job, err, errlen))) {
			free(pool);
			pool = NULL;
			goto done;
		}
	}
	for (uint64_t i = 0; i < nroots && !rc; i++) {
		bool skipped = false;

		if (pool)
			rc = pool_read(pool, (unsigned)(i % jobs), (uint32_t)i, &st, &skipped,
				       err, errlen);
		else if (all.executions >= o->max_executions)
			skipped = true;
		else
			rc = subtree_run(c, (uint32_t)i, &st, err, errlen);
		if (rc)
			break;
		/* Whole subtrees, in order, while within the budget. */
		if (skipped || st.incomplete || all.executions + st.executions > o->max_executions) {
			out->partial = true;
			free(st.h);
			break;
		}
		if (merge(&all, &st)) {
			snprintf(err, errlen, "out of memory");
			rc = 2;
		}
		out->subtrees_done++;
		free(st.h);
		memset(&st, 0, sizeof(st));
	}
	if (pool) {
		cli_pool_stop(pool, rc != 0 || out->partial);
		free(pool);
	}
	if (rc)
		goto done;
	out->executions = all.executions;
	if ((rc = findings(c, &all, out, err, errlen)))
		goto done;
	if (any_knob(&sc->knobs))
		rc = cost(c, out, err, errlen);
done:
	free(all.h);
	free(c->res);
	free(c);
	return rc;
}

/* ---- reporting ---- */

int cli_exhaustive_status(const struct cli_exh_opts *o, const struct cli_exh_result *r)
{
	bool bad = false;

	for (size_t i = 0; i < r->nr_f; i++)
		bad |= !r->f[i].known || o->strict;
	return bad ? 1 : r->partial ? 3 : 0;
}

static void replay_line(char *buf, size_t len, const struct cli_exh_opts *o,
			const uint32_t *p, unsigned n)
{
	char pts[CLI_EXH_MAX_DEPTH * 12 + 1];

	cli_format_points(p, n, pts, sizeof(pts));
	snprintf(buf, len, "%s%s%s", o->replay, n ? " --inject-at " : "", pts);
}

static void print_injections(FILE *f, const struct cli_exh_finding *x)
{
	if (!x->min_len) {
		fprintf(f, "  injections: none (the run without injections shows it)\n");
		return;
	}
	fprintf(f, "  injections: %u", x->min_len);
	if (x->first_len > x->min_len)
		fprintf(f, " (shrunk from %u)", x->first_len);
	fputs(":", f);
	for (unsigned i = 0; i < x->min_len; i++)
		fprintf(f, " #%" PRIu32 " %s%s", x->minimal[i], x->min_labels[i],
			i + 1 < x->min_len ? ";" : "");
	fputc('\n', f);
}

int cli_exhaustive_print(FILE *f, const struct mv_scenario *sc, const struct cli_exh_opts *o,
			 const struct cli_exh_result *r)
{
	size_t nr_new = 0, nr_known = 0;
	char line[1024];

	fprintf(f, "exhaustive exploration of %s on %s, depth %u%s\n", sc->name, sc->cpu, o->depth,
		r->partial ? " (PARTIAL: stopped at --max-executions)" : "");
	fprintf(f, "points: %" PRIu64 " in the run without injections (switch %" PRIu64
		", host-pmi %" PRIu64 ", vmexit %" PRIu64 ", guest-insn %" PRIu64 ")\n",
		r->points, r->points_by_kind[0], r->points_by_kind[1], r->points_by_kind[2],
		r->points_by_kind[3]);
	fprintf(f, "executions: %" PRIu64 " (the run without injections, then %" PRIu64
		" of %" PRIu64 " subtrees: each point alone and with up to %u more)\n",
		r->executions, r->subtrees_done, r->subtrees, o->depth - 1);
	if (r->kernel_warnings)
		fprintf(f, "kernel warnings in the run without injections: %" PRIu64 " (first: %s)\n",
			r->kernel_warnings, r->kernel_warning);
	if (r->have_cost)
		fprintf(f, "cost of the knobs in the run without injections: %" PRIu64
			" WRMSRs in loads and puts (%" PRIu64 " without), %" PRIu64
			" VM-exits (%" PRIu64 "), %" PRIu64 " of them for the 0xF5 PMI vector (%" PRIu64 ")\n",
			r->cost_wrmsrs[0], r->cost_wrmsrs[1], r->cost_exits[0], r->cost_exits[1],
			r->cost_pmi_exits[0], r->cost_pmi_exits[1]);
	for (size_t i = 0; i < r->nr_f; i++) {
		const struct cli_exh_finding *x = &r->f[i];

		replay_line(line, sizeof(line), o, x->minimal, x->min_len);
		if (x->known) {
			nr_known++;
			fprintf(f, "known finding %s: %s, in %" PRIu64 " of %" PRIu64 " executions\n",
				x->known->name, x->known->summary, x->executions, r->executions);
		} else {
			nr_new++;
			fprintf(f, "violation: invariant %d (%s) at %s, in %" PRIu64 " of %" PRIu64
				" executions\n", x->invariant, x->name, x->site[0] ? x->site : "run",
				x->executions, r->executions);
		}
		print_injections(f, x);
		fprintf(f, "  replay: %s\n", line);
		if (!x->have_report)
			continue;
		fprintf(f, "  trace_hash: 0x%016" PRIx64 "\n", x->trace_hash);
		if (x->kernel_warning[0])
			fprintf(f, "  kernel warning: %s\n", x->kernel_warning);
		if (!x->known) {
			struct mv_result one = { .nr_violations = 1, .inv_violated = 1 };

			one.violations[0] = x->report;
			cli_report_violations(f, &one);
		} else {
			fprintf(f, "  first: invariant %d (%s) at %s: %s\n", x->report.invariant,
				x->report.name, x->report.site, x->report.msg);
		}
	}
	fprintf(f, "explored %" PRIu64 " executions covering %" PRIu64 " points: %zu new violation "
		"kind(s), %zu known finding(s)%s\n", r->executions, r->subtrees_done, nr_new, nr_known,
		nr_known && !o->strict ? " (not counted; --strict counts them)" : "");
	return cli_exhaustive_status(o, r);
}

static json_t *points_json(const uint32_t *p, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(p[i]));
	return a;
}

json_t *cli_exhaustive_json(const struct mv_scenario *sc, const struct cli_exh_opts *o,
			    const struct cli_exh_result *r)
{
	json_t *fs = json_array();
	char line[1024], hash[24];

	for (size_t i = 0; fs && i < r->nr_f; i++) {
		const struct cli_exh_finding *x = &r->f[i];

		replay_line(line, sizeof(line), o, x->minimal, x->min_len);
		snprintf(hash, sizeof(hash), "0x%016" PRIx64, x->trace_hash);
		json_array_append_new(fs, json_pack(
			"{s:i, s:s, s:s, s:o, s:I, s:o, s:o, s:s, s:s, s:s, s:s, s:s}",
			"invariant", x->invariant, "name", x->name,
			"site", x->have_report ? x->report.site : x->site,
			"known", x->known ? json_string(x->known->name) : json_null(),
			"executions", (json_int_t)x->executions,
			"first_injections", points_json(x->first, x->first_len),
			"injections", points_json(x->minimal, x->min_len),
			"replay", line, "trace_hash", hash,
			"message", x->have_report ? x->report.msg : "",
			"trace", x->have_report ? x->report.trace : "",
			"kernel_warning", x->kernel_warning));
	}
	return json_pack("{s:s, s:s, s:s, s:I, s:b, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:o, s:i}",
			 "mode", "exhaustive", "scenario", sc->name, "cpu", sc->cpu,
			 "depth", (json_int_t)o->depth, "partial", r->partial,
			 "points", "total", (json_int_t)r->points,
			 "switch", (json_int_t)r->points_by_kind[0],
			 "host-pmi", (json_int_t)r->points_by_kind[1],
			 "vmexit", (json_int_t)r->points_by_kind[2],
			 "guest-insn", (json_int_t)r->points_by_kind[3],
			 "executions", (json_int_t)r->executions, "findings", fs,
			 "status", cli_exhaustive_status(o, r));
}

void cli_exhaustive_free(struct cli_exh_result *r)
{
	for (size_t i = 0; i < r->nr_f; i++)
		free(r->f[i].minimal);
	free(r->f);
	memset(r, 0, sizeof(*r));
}

/* ---- a random run, shrunk ---- */

int cli_shrink_seed(const struct mv_scenario *sc, const char *replay, FILE *text, json_t **json,
		    char *err, size_t errlen)
{
	const struct hw_model *m = hw_model_find(sc->cpu);
	struct ctx *c = calloc(1, sizeof(*c));
	struct cli_points pts = { 0 };
	struct cli_exh_finding x = { 0 };
	struct cli_exh_opts o = { .depth = 1, .replay = replay };
	const struct mv_violation_sig *g;
	char msg[512] = "", line[1024 + 16 * 12], list[16 * 12 + 1];
	int rc = 0;

	if (!c || !(c->res = malloc(sizeof(*c->res)))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	c->sc = *sc;
	c->sc.points = false;
	c->sc.inject_at = NULL;
	c->sc.nr_inject_at = 0;
	c->amd = m && m->vendor == HW_AMD;
	/* The seed's own run: which points its draws picked. */
	if (cli_run_scenario_points(&c->sc, c->res, &pts, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", sc->name, msg);
		rc = 2;
		goto done;
	}
	if (!c->res->nr_sigs)
		goto done;
	g = &c->res->sigs[0];
	x.known = cli_known_match(c->amd, g->invariant, g->site, g->cause);
	x.invariant = g->invariant;
	snprintf(x.name, sizeof(x.name), "%s", g->name);
	snprintf(x.site, sizeof(x.site), "%s", g->site);
	x.first_len = (unsigned)(pts.nr_injected > UINT32_MAX ? UINT32_MAX : pts.nr_injected);
	if ((rc = cli_shrink(&c->sc, pts.injected, x.first_len, x.invariant,
			     x.known ? NULL : x.site, x.known, &x.minimal, &x.min_len, err, errlen)))
		goto done;
	if (x.min_len > CLI_EXH_MAX_DEPTH) {
		/* Longer than a report lists: print the numbers only. */
		cli_format_points(x.minimal, x.min_len, list, sizeof(list));
		if (text)
			fprintf(text, "shrunk seed %" PRIu64 ": %u injections still needed: %s\n",
				sc->seed, x.min_len, list);
		goto done;
	}
	if ((rc = describe(c, &x, err, errlen)))
		goto done;
	cli_format_points(x.minimal, x.min_len, list, sizeof(list));
	/* The draws still happen in the replay (the seed's schedule); the
	 * list alone decides where to inject, "none" included. */
	snprintf(line, sizeof(line), "%s --inject-at %s", replay, x.min_len ? list : "none");
	if (text) {
		fprintf(text, "shrunk seed %" PRIu64 ": invariant %d (%s) at %s%s%s needs %u of its %u "
			"injections\n", sc->seed, x.invariant, x.name, x.site[0] ? x.site : "run",
			x.known ? ", known finding " : "", x.known ? x.known->name : "", x.min_len,
			x.first_len);
		x.first_len = x.min_len;	/* print_injections: no "shrunk from" twice */
		print_injections(text, &x);
		fprintf(text, "  replay: %s\n  trace_hash: 0x%016" PRIx64 "\n", line, x.trace_hash);
		if (x.have_report) {
			struct mv_result one = { .nr_violations = 1, .inv_violated = 1 };

			one.violations[0] = x.report;
			cli_report_violations(text, &one);
		}
	}
	if (json) {
		char hash[24];

		snprintf(hash, sizeof(hash), "0x%016" PRIx64, x.trace_hash);
		*json = json_pack("{s:I, s:i, s:s, s:s, s:o, s:I, s:o, s:s, s:s, s:s}",
				  "seed", (json_int_t)sc->seed, "invariant", x.invariant,
				  "name", x.name, "site", x.site,
				  "known", x.known ? json_string(x.known->name) : json_null(),
				  "injections_before", (json_int_t)pts.nr_injected,
				  "injections", points_json(x.minimal, x.min_len),
				  "replay", line, "trace_hash", hash,
				  "message", x.have_report ? x.report.msg : "");
	}
	(void)o;
done:
	free(x.minimal);
	cli_points_free(&pts);
	free(c->res);
	free(c);
	return rc;
}
