/* test_sim_trace: the binary trace and its run hash (docs/architecture.md,
 * "Determinism"): the hash is recomputed from kept records of real runs
 * and must equal the run's; every field of every record kind moves it;
 * strings count by content, never by address; the packed words are
 * exact; records handed out carry their seq; same seed same hash, a
 * different knob or seed another; violation windows show the records
 * that led to them; a streamed trace hands over exactly the kept records.
 *
 * The run hash is also recomputed by this file's own implementation of
 * the algorithm sim_trace.h spells out (not the library's), and for every
 * record kind the kept records of a real run are replayed through the
 * recording path with one record of that kind changed in one field: each
 * such stream must hash differently from the run (issue 15).
 *
 * To cover a new record kind or a new run, add a row to `runs` (or, for a
 * kind no code path records, to `synthetic_only`): test_every_kind_is_covered
 * fails until each kind is either produced by a run or listed there. */
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
#include "sim/sim.h"

struct run_row {
	const char *scenario, *cpu;	/* scenario: a built-in, or "image:NAME" */
	int vpmu;			/* -1: the scenario's */
	uint32_t inject_ppm;
	struct mv_knobs knobs;
};

static const struct run_row runs[] = {
	{ "host-and-guest", NULL, -1, 0, { 0 } },
	{ "host-and-guest", "zen4", MV_VPMU_EMULATED, 0, { 0 } },
	{ "rr-ticks", "skylake", MV_VPMU_NONE, 0, { 0 } },
	{ "emulated-instructions", NULL, -1, 0, { 0 } },
	{ "contention", NULL, -1, 0, { 0 } },
	{ "filter-deny", "zen4", MV_VPMU_MEDIATED, 0, { 0 } },
	/* Injected NMIs and a design variant: invariant records too. */
	{ "host-and-guest", "zen4", -1, 200000, { 0 } },
	/* A PMI held by the masked LVTPC (pmi-dropped), and real guest code
	 * taking faults through its own IDT (fault). */
	{ "pmi-exit-masked", "skylake", -1, 0, { 0 } },
	{ "image:rc_faults", "zen4", MV_VPMU_MEDIATED, 0, { 0 } },
	/* Keep last: test_violation_window_is_the_records uses its violation. */
	{ "host-and-guest", "skylake", -1, 0, { .no_counter_clear_on_put = true } },
};

/* Kinds no code path records (none today: the field test below would
 * cover them); the list ends with TR_KIND_NR. */
static const struct {
	enum sim_trace_kind kind;
	const char *why;
} synthetic_only[] = {
	{ TR_KIND_NR, NULL },
};

static struct mv_scenario sc;
static struct mv_result res;

static void load(const struct run_row *r)
{
	char err[256];

	if (!strncmp(r->scenario, "image:", 6)) {
		char path[256];

		snprintf(path, sizeof(path), "%s/tests/%s.elf", MV_GUEST_DIR, r->scenario + 6);
		if (cli_scenario_image(path, 0, &sc, err, sizeof(err)))
			fail_msg("%s", err);
	} else {
		assert_int_equal(cli_scenario_lookup(r->scenario, &sc, err, sizeof(err)), 0);
	}
	if (r->cpu)
		snprintf(sc.cpu, sizeof(sc.cpu), "%s", r->cpu);
	if (r->vpmu >= 0) {
		sc.vpmu = (enum mv_vpmu)r->vpmu;
		for (unsigned i = 0; i < sc.nr_vms; i++) {
			sc.vm[i].vpmu = sc.vpmu;
			sc.vm[i].vpmu_set = true;
		}
	}
	sc.inject_ppm = r->inject_ppm;
	sc.knobs = r->knobs;
}

static struct sim_trace_rec *run_kept(const struct run_row *r, size_t *n)
{
	struct sim_trace_rec *rec = NULL;
	char err[256];

	load(r);
	sc.keep_trace = true;
	assert_int_equal(cli_run_scenario(&sc, &res, &rec, n, err, sizeof(err)), 0);
	assert_non_null(rec);
	return rec;
}

/* The hash the run reports is the reference hash of its kept records:
 * no record, and no field of one, is left out of it. */
static void test_hash_recomputed_from_records(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t n;
		struct sim_trace_rec *rec = run_kept(&runs[i], &n);

		assert_true(n > 1000);
		if (sim_trace_hash_records(rec, n) != res.trace_hash)
			fail_msg("%s: the run hash is not the hash of its %zu records", runs[i].scenario, n);
		/* One record less is another hash. */
		assert_true(sim_trace_hash_records(rec, n - 1) != res.trace_hash);
		free(rec);
	}
}

static void test_every_kind_is_covered(void **state)
{
	bool seen[TR_KIND_NR] = { false };

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t n;
		struct sim_trace_rec *rec = run_kept(&runs[i], &n);

		for (size_t k = 0; k < n; k++) {
			assert_true(rec[k].kind < TR_KIND_NR);
			seen[rec[k].kind] = true;
		}
		free(rec);
	}
	for (size_t i = 0; synthetic_only[i].kind != TR_KIND_NR; i++) {
		if (seen[synthetic_only[i].kind])
			fail_msg("%s is recorded by a run now: move it out of synthetic_only",
				 sim_trace_kind_name(synthetic_only[i].kind));
		seen[synthetic_only[i].kind] = true;
	}
	for (int k = 0; k < TR_KIND_NR; k++)
		if (!seen[k])
			fail_msg("no run records %s: add a run or a synthetic_only row",
				 sim_trace_kind_name((enum sim_trace_kind)k));
}

/* ---- the hash, recomputed by this file alone ----
 * The algorithm as sim_trace.h spells it out, written here again so that
 * a bug shared by the recorder and the library's reference
 * (sim_trace_hash_records) is still caught. */

static uint64_t ref_mix(uint64_t h, uint64_t w)
{
	return (h ^ w) * 0x9E3779B97F4A7C15ULL;
}

static uint64_t ref_rotl(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

/* A string: its length, its 8-byte little-endian words, the zero-padded
 * tail, then the high half folded into the low. */
static uint64_t ref_str(uint64_t h, const char *s)
{
	size_t n = strlen(s), i = 0;

	h = ref_mix(h, n);
	for (; n - i >= 8; i += 8) {
		uint64_t w = 0;

		for (int b = 0; b < 8; b++)
			w |= (uint64_t)(unsigned char)s[i + b] << (8 * b);
		h = ref_mix(h, w);
	}
	{
		uint64_t w = 0;

		for (int b = 0; i + b < n; b++)
			w |= (uint64_t)(unsigned char)s[i + b] << (8 * b);
		h = ref_mix(h, w);
	}
	return h ^ (h >> 32);
}

static uint64_t ref_hash(const struct sim_trace_rec *rec, size_t n)
{
	const char **seen = calloc(n + 1, sizeof(*seen));
	uint32_t nr_seen = 0;
	uint64_t h = 0xCBF29CE484222325ULL;

	assert_non_null(seen);
	for (size_t i = 0; i < n; i++) {
		const struct sim_trace_rec *r = &rec[i];
		uint32_t id = 0;

		if (r->what && r->what[0]) {
			while (id < nr_seen && strcmp(seen[id], r->what))
				id++;
			if (id == nr_seen) {
				seen[nr_seen++] = r->what;
				h = ref_str(h, r->what);
			}
			id++;
		}
		h = ref_mix(h, r->cycle);
		h = ref_mix(h, (uint64_t)(uint32_t)r->cpu | (uint64_t)(uint32_t)r->ctx << 32);
		h = ref_mix(h, ((uint64_t)r->kind << 32 | r->a) ^ ref_rotl(id, 40));
		h = ref_mix(h, r->b);
		h = ref_mix(h, r->c);
		h = ref_rotl(h, 32);
	}
	free(seen);
	return h;
}

/* The records put again through the recording path, as the run put them. */
static uint64_t replay_hash(const struct sim_trace_rec *rec, size_t n)
{
	struct sim_trace t;
	uint64_t h;

	sim_trace_init(&t, false);
	for (size_t i = 0; i < n; i++)
		sim_trace_put(&t, rec[i].cycle, sim_trace_word_where(rec[i].cpu, rec[i].ctx),
			      rec[i].kind, rec[i].a, rec[i].b, rec[i].c,
			      rec[i].what && rec[i].what[0] ? rec[i].what : NULL);
	h = t.hash;
	sim_trace_free(&t);
	return h;
}

/* For every kind a real run records: the run's hash is this file's
 * reference hash of its kept records and their replay's; and the stream
 * with one record of that kind changed in one field (cycle, cpu, ctx, a,
 * b, c, its string) hashes differently, through the recorder and the
 * reference alike. */
static void test_runs_differing_in_one_record_of_each_kind(void **state)
{
	bool done[TR_KIND_NR] = { false };
	static const char other[] = "a string no run records";

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t n;
		struct sim_trace_rec *rec = run_kept(&runs[i], &n);
		uint64_t run_hash = res.trace_hash;

		if (ref_hash(rec, n) != run_hash)
			fail_msg("%s: the run hash is not this file's hash of its records",
				 runs[i].scenario);
		assert_true(replay_hash(rec, n) == run_hash);
		for (size_t k = 0; k < n; k++) {
			struct sim_trace_rec keep = rec[k];
			uint32_t kind = rec[k].kind;

			if (done[kind])
				continue;
			done[kind] = true;
			for (int f = 0; f < 7; f++) {
				uint64_t h;

				switch (f) {
				case 0: rec[k].cycle++; break;
				case 1: rec[k].cpu ^= 1; break;
				case 2: rec[k].ctx ^= 2; break;
				case 3: rec[k].a ^= 1; break;
				case 4: rec[k].b ^= 1ULL << 40; break;
				case 5: rec[k].c ^= 1; break;
				case 6: rec[k].what = rec[k].what[0] ? "" : other; break;
				}
				h = replay_hash(rec, n);
				if (h == run_hash || ref_hash(rec, n) != h)
					fail_msg("%s: a %s record with field %d changed: hash %s", runs[i].scenario,
						 sim_trace_kind_name(kind), f,
						 h == run_hash ? "unchanged" : "not the reference's");
				rec[k] = keep;
			}
		}
		free(rec);
	}
	for (int k = 0; k < TR_KIND_NR; k++)
		if (!done[k])
			fail_msg("no run records %s", sim_trace_kind_name((enum sim_trace_kind)k));
}

/* A fresh trace's hash after recording `r` with the fast path. */
static uint64_t recorded_hash(const struct sim_trace_rec *r)
{
	struct sim_trace t;
	uint64_t h;

	sim_trace_init(&t, false);
	sim_trace_add(&t, r);
	h = t.hash;
	sim_trace_free(&t);
	return h;
}

/* Every field of every kind changes the hash, through the recording fast
 * path and through the reference alike, and the two agree. */
static void test_hash_covers_every_field_of_every_kind(void **state)
{
	char what_a[] = "step", what_b[] = "stop";

	(void)state;
	for (uint32_t k = 0; k < TR_KIND_NR; k++) {
		const struct sim_trace_rec base = {
			.cycle = 1000 + k, .cpu = 1, .ctx = 2, .kind = k, .a = 0x38f,
			.b = 0x123456789ULL, .c = 0xFULL, .what = what_a,
		};
		struct sim_trace_rec m[9];
		uint64_t h = sim_trace_hash_records(&base, 1);

		assert_int_equal(recorded_hash(&base), h);
		for (int i = 0; i < 9; i++)
			m[i] = base;
		m[0].cycle ^= 1ULL << 40;
		m[1].cpu = -1;
		m[2].ctx = 3;
		m[3].kind = (k + 1) % TR_KIND_NR;
		m[4].a ^= 0x80000000u;
		m[5].b ^= 1ULL << 63;
		m[6].c ^= 1;
		m[7].what = what_b;
		m[8].what = NULL;
		for (int i = 0; i < 9; i++) {
			uint64_t hm = sim_trace_hash_records(&m[i], 1);

			if (hm == h)
				fail_msg("kind %s: change %d does not change the hash",
					 sim_trace_kind_name(k), i);
			assert_int_equal(recorded_hash(&m[i]), hm);
		}
	}
}

/* The record's packed words (sim_trace_word_where, sim_trace_word_kind)
 * are exact for every value a run records: cpu and ctx any int32, kind
 * below 256 and string numbers below 2^24; beyond those, a change of one
 * field still moves its word. */
static void test_hash_packing_is_exact(void **state)
{
	const int32_t ints[] = { -1, 0, 1, 2, 7, 0x10000, INT32_MAX, INT32_MIN };
	const uint32_t kinds[] = { 0, 1, TR_KIND_NR - 1, 255 };
	const uint32_t as[] = { 0, 1, 0x38f, 0x40000000, 0xffffffffu };
	const uint32_t ids[] = { 0, 1, 2, 255, 256, (1u << 24) - 1 };
	uint64_t w[8 * 8], k[4 * 5 * 6];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < 8; i++)
		for (size_t j = 0; j < 8; j++)
			w[n++] = sim_trace_word_where(ints[i], ints[j]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (w[i] == w[j])
				fail_msg("cpu/ctx pairs %zu and %zu pack to one word", i, j);
	n = 0;
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 5; j++)
			for (size_t l = 0; l < 6; l++)
				k[n++] = sim_trace_word_kind(kinds[i], as[j], ids[l]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (k[i] == k[j])
				fail_msg("kind/a/string triples %zu and %zu pack to one word", i, j);
	/* Past the exact range: still moved by the field alone. */
	for (size_t j = 0; j < 5; j++) {
		assert_true(sim_trace_word_kind(3, as[j], 1u << 24) != sim_trace_word_kind(3, as[j], 0));
		assert_true(sim_trace_word_kind(3, as[j], 0xffffffffu) !=
			    sim_trace_word_kind(3, as[j], 0x7fffffffu));
		assert_true(sim_trace_word_kind(1u << 20, as[j], 5) != sim_trace_word_kind(0, as[j], 5));
	}
}

/* The fast path does not store a record's seq (nor "" for no string);
 * every way records are handed out fills it in: the violation window
 * (sim_trace_tail) and the kept records (the stream: test_stream_*). */
static void test_seq_is_filled_in(void **state)
{
	struct sim sim;
	struct sim_trace_rec tail[SIM_TRACE_WINDOW];
	const uint32_t nr = 3 * SIM_TRACE_RING + 5;	/* the ring wraps */
	size_t n;

	(void)state;
	for (int keep = 0; keep < 2; keep++) {
		sim_init(&sim, 1, keep);
		for (uint32_t i = 0; i < nr; i++)
			sim_trace(&sim, TR_NOTE, i, 0, 0, NULL);
		n = sim_trace_tail(&sim.trace, tail, SIM_TRACE_WINDOW);
		assert_int_equal(n, SIM_TRACE_WINDOW);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(tail[i].seq, nr - SIM_TRACE_WINDOW + i);
			assert_int_equal(tail[i].a, tail[i].seq);
			/* No string is "" once handed out (NULL in the ring). */
			assert_non_null(tail[i].what);
			assert_string_equal(tail[i].what, "");
		}
		assert_int_equal(sim.trace.nr_all, keep ? nr : 0);
		for (size_t i = 0; i < sim.trace.nr_all; i++) {
			assert_int_equal(sim.trace.all[i].seq, i);
			assert_non_null(sim.trace.all[i].what);
			assert_string_equal(sim.trace.all[i].what, "");
		}
		sim_free(&sim);
	}
}

/* Strings count by content: the same text at two addresses is one
 * string; NULL and "" are both "no string". */
static void test_hash_strings_by_content(void **state)
{
	char *copy = strdup("lvtpc=guest");
	struct sim_trace_rec a = { .kind = TR_PMU_LOAD, .what = "lvtpc=guest" };
	struct sim_trace_rec b = a, c = a, d = a, e = a;
	struct sim_trace t1, t2;

	(void)state;
	assert_non_null(copy);
	b.what = copy;
	c.what = "lvtpc=nmi";
	d.what = NULL;
	e.what = "";
	assert_int_equal(recorded_hash(&a), recorded_hash(&b));
	assert_true(recorded_hash(&a) != recorded_hash(&c));
	assert_int_equal(recorded_hash(&d), recorded_hash(&e));
	/* Order of first appearance numbers the strings: the same sequence
	 * of contents is the same hash whatever the addresses. */
	sim_trace_init(&t1, true);
	sim_trace_init(&t2, true);
	sim_trace_add(&t1, &a);
	sim_trace_add(&t1, &c);
	sim_trace_add(&t1, &a);
	sim_trace_add(&t2, &b);
	sim_trace_add(&t2, &c);
	sim_trace_add(&t2, &b);
	assert_int_equal(t1.hash, t2.hash);
	assert_int_equal(t1.hash, sim_trace_hash_records(t1.all, t1.nr_all));
	/* The kept records hold the trace's copy, not the caller's string. */
	assert_string_equal(t2.all[0].what, "lvtpc=guest");
	assert_ptr_not_equal(t2.all[0].what, copy);
	free(copy);
	assert_string_equal(t2.all[2].what, "lvtpc=guest");
	sim_trace_free(&t1);
	sim_trace_free(&t2);
}

static uint64_t hash_of(const struct run_row *r, uint64_t seed)
{
	char err[256];

	load(r);
	sc.seed = seed;
	assert_int_equal(cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)), 0);
	return res.trace_hash;
}

/* The scheduler's picks (TR_SCHED records: the thread run next), as one
 * string of thread numbers. */
static void picks_of(const struct run_row *r, uint64_t seed, char *out, size_t len)
{
	struct sim_trace_rec *rec = NULL;
	size_t n = 0, off = 0;
	char err[256];

	load(r);
	sc.seed = seed;
	sc.tick_cycles = 100000;	/* many slices, so many picks */
	sc.keep_trace = true;
	assert_int_equal(cli_run_scenario(&sc, &res, &rec, &n, err, sizeof(err)), 0);
	out[0] = '\0';
	for (size_t i = 0; i < n && off + 2 < len; i++)
		if (rec[i].kind == TR_SCHED)
			off += (size_t)snprintf(out + off, len - off, "%c",
						rec[i].b == ~0ULL ? '-' : (char)('0' + rec[i].b));
	free(rec);
}

static void test_same_seed_same_hash(void **state)
{
	const struct run_row plain = { "host-and-guest", "sapphirerapids", -1, 0, { 0 } };
	const struct run_row knob = { "host-and-guest", "sapphirerapids", -1, 0,
				      { .no_write_elision = true } };
	uint64_t h = hash_of(&plain, 5);

	(void)state;
	assert_int_equal(hash_of(&plain, 5), h);
	/* no-write-elision breaks nothing, only adds WRMSRs: another run. */
	assert_true(hash_of(&knob, 5) != h);
	assert_int_equal(res.inv_violated, 0);
	assert_int_equal(hash_of(&knob, 5), hash_of(&knob, 5));
	assert_true(hash_of(&plain, 6) != h);
}

/* The seed is what the run's randomness comes from: the scheduler picks
 * among the runnable threads (the host task and a vCPU) with it, so the
 * same seed makes the same picks and another seed others, and the run's
 * hash follows. */
static void test_seed_drives_the_schedule(void **state)
{
	const struct run_row plain = { "host-and-guest", "zen4", -1, 0, { 0 } };
	static char a[20000], b[20000], c[20000];
	uint64_t seeds[] = { 1, 2, 3, 0xFFFFFFFFFFFFFFFFULL };
	unsigned differ = 0;

	(void)state;
	picks_of(&plain, 9, a, sizeof(a));
	picks_of(&plain, 9, b, sizeof(b));
	assert_true(strlen(a) > 10);
	assert_true(strchr(a, '0') && strchr(a, '1'));	/* both threads ran */
	assert_string_equal(a, b);
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		picks_of(&plain, seeds[i], c, sizeof(c));
		differ += strcmp(a, c) != 0;
	}
	assert_true(differ > 0);
}

/* The window a violation prints is the formatted text of the records
 * just before it, taken when the violation was recorded. */
static void test_violation_window_is_the_records(void **state)
{
	const struct run_row *r = &runs[sizeof(runs) / sizeof(runs[0]) - 1];
	size_t n, off = 0;
	struct sim_trace_rec *rec = run_kept(r, &n);
	const struct mv_violation_result *v;
	char want[SIM_TRACE_WINDOW / 2 * 120], line[256];

	(void)state;
	assert_true(res.nr_violations > 0);
	v = &res.violations[0];
	assert_true(v->step >= SIM_TRACE_WINDOW / 2 && v->step <= n);
	assert_int_equal(rec[v->step - 1].kind, TR_INVARIANT);
	want[0] = '\0';
	for (uint64_t s = v->step - SIM_TRACE_WINDOW / 2; s < v->step; s++) {
		int w = sim_trace_format(&rec[s], line, sizeof(line));

		if (off + (size_t)w + 1 >= sizeof(want))
			break;
		memcpy(want + off, line, (size_t)w);
		off += (size_t)w;
		want[off++] = '\n';
		want[off] = '\0';
	}
	assert_true(off > 0);
	if (strncmp(v->trace, want, off))
		fail_msg("window:\n%s\nrecords:\n%s", v->trace, want);
	free(rec);
}

/* ---- streaming ---- */

struct collect {
	struct sim_trace_rec *rec;
	size_t n, cap;
	size_t batches;
};

static int collect_write(void *arg, const struct sim_trace_rec *rec, size_t n)
{
	struct collect *c = arg;

	if (c->n + n > c->cap) {
		c->cap = (c->n + n) * 2;
		c->rec = realloc(c->rec, c->cap * sizeof(*c->rec));
		assert_non_null(c->rec);
	}
	for (size_t i = 0; i < n; i++) {
		c->rec[c->n + i] = rec[i];
		c->rec[c->n + i].what = strdup(rec[i].what);	/* the trace's copies go with the run */
	}
	c->n += n;
	c->batches++;
	return 0;
}

/* A streamed run hands the sink every record once, in order, in batches
 * no bigger than the ring: the same records a kept run returns. */
static void test_stream_equals_kept(void **state)
{
	const struct run_row *r = &runs[0];
	struct collect c = { 0 };
	struct sim_trace_sink sink = { collect_write, &c };
	struct sim_trace_rec *kept;
	size_t n;
	uint64_t hash;
	char err[256];

	(void)state;
	kept = run_kept(r, &n);
	hash = res.trace_hash;
	load(r);
	assert_int_equal(cli_run_scenario_stream(&sc, &res, &sink, err, sizeof(err)), 0);
	assert_int_equal(res.trace_hash, hash);
	assert_int_equal(c.n, n);
	assert_true(n > 2 * SIM_TRACE_STREAM_BUF);	/* the ring wrapped */
	assert_true(c.batches >= n / SIM_TRACE_STREAM_BUF);
	for (size_t i = 0; i < n; i++) {
		char a[256], b[256];

		sim_trace_format(&kept[i], a, sizeof(a));
		sim_trace_format(&c.rec[i], b, sizeof(b));
		assert_string_equal(a, b);
		assert_int_equal(c.rec[i].seq, i);
		free((void *)c.rec[i].what);
	}
	free(c.rec);
	free(kept);
}

static int failing_write(void *arg, const struct sim_trace_rec *rec, size_t n)
{
	size_t *calls = arg;

	(void)rec;
	(void)n;
	(*calls)++;
	return -1;
}

/* A sink that fails is told once and remembered; the run goes on. */
static void test_stream_failure_is_kept(void **state)
{
	size_t calls = 0;
	struct sim_trace_sink sink = { failing_write, &calls };
	struct sim sim;

	(void)state;
	sim_init(&sim, 1, false);
	assert_int_equal(sim_trace_stream(&sim.trace, &sink), 0);
	for (int i = 0; i < 3 * SIM_TRACE_STREAM_BUF; i++)
		sim_trace(&sim, TR_NOTE, (uint32_t)i, 0, 0, "n");
	sim_trace_flush(&sim.trace);
	assert_true(sim_trace_sink_failed(&sim.trace));
	assert_int_equal(calls, 1);
	assert_int_equal(sim_trace_seq(&sim.trace), 3 * SIM_TRACE_STREAM_BUF);
	sim_free(&sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_recomputed_from_records),
		cmocka_unit_test(test_every_kind_is_covered),
		cmocka_unit_test(test_runs_differing_in_one_record_of_each_kind),
		cmocka_unit_test(test_hash_covers_every_field_of_every_kind),
		cmocka_unit_test(test_hash_packing_is_exact),
		cmocka_unit_test(test_seq_is_filled_in),
		cmocka_unit_test(test_hash_strings_by_content),
		cmocka_unit_test(test_same_seed_same_hash),
		cmocka_unit_test(test_seed_drives_the_schedule),
		cmocka_unit_test(test_violation_window_is_the_records),
		cmocka_unit_test(test_stream_equals_kept),
		cmocka_unit_test(test_stream_failure_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
