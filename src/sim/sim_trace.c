/* sim_trace: recording, hashing, streaming and formatting of trace
 * records.  Recording stores binary fields only: the text form exists for
 * --trace output and violation reports (docs/architecture.md,
 * "Determinism"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_trace.h"

static const char *const kind_names[TR_KIND_NR] = {
	[TR_WRMSR] = "wrmsr",	[TR_RDMSR] = "rdmsr",	[TR_RDPMC] = "rdpmc",
	[TR_CPUID] = "cpuid",	[TR_WORK] = "work",	[TR_OVERFLOW] = "overflow",
	[TR_PMI] = "pmi",	[TR_PMI_DROPPED] = "pmi-dropped",
	[TR_IRQ] = "irq",	[TR_EOI] = "eoi",	[TR_VMENTRY] = "vmentry",
	[TR_VMEXIT] = "vmexit",	[TR_PMU_LOAD] = "pmu-load",
	[TR_PMU_PUT] = "pmu-put", [TR_PERF] = "perf",	[TR_SCHED] = "sched",
	[TR_INJECT] = "inject",	[TR_FAULT] = "fault",	[TR_NOTE] = "note",
	[TR_INVARIANT] = "invariant",
};

const char *sim_trace_kind_name(enum sim_trace_kind kind)
{
	return (unsigned)kind < TR_KIND_NR ? kind_names[kind] : "?";
}

/* ---- the hash ---- */

#define mix sim_trace_mix

uint64_t sim_trace_hash_str(uint64_t h, const char *s)
{
	size_t n = strlen(s);
	uint64_t w;

	h = mix(h, n);
	for (; n >= 8; n -= 8, s += 8) {
		memcpy(&w, s, 8);
		h = mix(h, w);
	}
	w = 0;
	memcpy(&w, s, n);
	h = mix(h, w);
	return h ^ (h >> 32);
}

uint64_t sim_trace_hash_rec(uint64_t h, const struct sim_trace_rec *r, uint32_t what_id)
{
	return sim_trace_hash_words(h, r->cycle, sim_trace_word_where(r->cpu, r->ctx),
				    sim_trace_word_kind(r->kind, r->a, what_id), r->b, r->c);
}

uint64_t sim_trace_hash_records(const struct sim_trace_rec *rec, size_t n)
{
	const char **seen = NULL;
	size_t nr_seen = 0, cap = 0;
	uint64_t h = SIM_TRACE_HASH_INIT;

	/* A plain list: this is the reference, not the fast path. */
	for (size_t i = 0; i < n; i++) {
		const char *s = rec[i].what ? rec[i].what : "";
		uint32_t id = 0;

		if (s[0]) {
			while (id < nr_seen && strcmp(seen[id], s))
				id++;
			if (id == nr_seen) {
				if (nr_seen == cap) {
					const char **p = realloc(seen, (cap = cap ? 2 * cap : 64) * sizeof(*p));

					if (!p) {
						free(seen);
						return 0;
					}
					seen = p;
				}
				seen[nr_seen++] = s;
				h = sim_trace_hash_str(h, s);
			}
			id++;
		}
		h = sim_trace_hash_rec(h, &rec[i], id);
	}
	free(seen);
	return h;
}

/* ---- interned strings ---- */

#define ptr_slot sim_trace_ptr_slot

struct sim_trace_strent sim_trace_no_strings;	/* stays { NULL, NULL, 0 } */

static size_t text_slot(const char *s, size_t cap)
{
	return (size_t)sim_trace_hash_str(0, s) & (cap - 1);
}

static bool grow_bytext(struct sim_trace_strtab *st)
{
	size_t cap = st->text_cap ? 2 * st->text_cap : 256;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return false;
	for (uint32_t id = 1; id <= st->nr_str; id++) {
		size_t i = text_slot(st->str[id - 1], cap);

		while (t[i])
			i = (i + 1) & (cap - 1);
		t[i] = id;
	}
	free(st->bytext);
	st->bytext = t;
	st->text_cap = cap;
	return true;
}

static bool grow_byptr(struct sim_trace_strtab *st)
{
	size_t cap = st->ptr_cap ? 2 * st->ptr_cap : 1024;	/* sparse: the inline lookup probes one slot */
	struct sim_trace_strent *t = calloc(cap, sizeof(*t));

	if (!t)
		return false;
	for (size_t j = 0; j < st->ptr_cap; j++) {
		const struct sim_trace_strent *e = &st->byptr[j];
		size_t i;

		if (!e->key)
			continue;
		for (i = ptr_slot(e->key, cap - 1); t[i].key; i = (i + 1) & (cap - 1))
			;
		t[i] = *e;
	}
	if (st->ptr_cap)
		free(st->byptr);
	st->byptr = t;
	st->ptr_cap = cap;
	st->ptr_mask = cap - 1;
	return true;
}

/* The id of `s` by content, adding (copying) it when new; 0 when out of
 * memory.  *fresh tells that it was added. */
static uint32_t intern_text(struct sim_trace_strtab *st, const char *s, bool *fresh)
{
	size_t i;
	char *copy;

	*fresh = false;
	if (2 * (st->nr_str + 1) > st->text_cap && !grow_bytext(st))
		return 0;
	for (i = text_slot(s, st->text_cap); st->bytext[i]; i = (i + 1) & (st->text_cap - 1))
		if (!strcmp(st->str[st->bytext[i] - 1], s))
			return st->bytext[i];
	if (st->nr_str == st->cap_str) {
		uint32_t cap = st->cap_str ? 2 * st->cap_str : 64;
		char **p = realloc(st->str, cap * sizeof(*p));

		if (!p)
			return 0;
		st->str = p;
		st->cap_str = cap;
	}
	copy = strdup(s);
	if (!copy)
		return 0;
	st->str[st->nr_str++] = copy;
	st->bytext[i] = st->nr_str;
	*fresh = true;
	return st->nr_str;
}

/* Past the first slot: the pointer further along its probe sequence, or
 * else the content found or added and the pointer remembered.  Folds a
 * string into the hash the first time its content appears. */
const struct sim_trace_strent *sim_trace_intern_slow(struct sim_trace *t, const char *s)
{
	static const struct sim_trace_strent oom = { NULL, "?", 0 };
	struct sim_trace_strtab *st = &t->strings;
	bool fresh = false;
	uint32_t id = 0;
	size_t i;

	for (i = ptr_slot(s, st->ptr_mask); st->byptr[i].key; i = (i + 1) & st->ptr_mask)
		if (st->byptr[i].key == s)
			return sim_trace_checked(&st->byptr[i], s);

	if (2 * (st->ptr_used + 1) > st->ptr_cap && !grow_byptr(st)) {
		t->oom = true;
		return &oom;
	}
	if (!s[0]) {		/* "" is no string: number 0, as NULL */
		for (i = ptr_slot(s, st->ptr_mask); st->byptr[i].key; i = (i + 1) & st->ptr_mask)
			;
		st->byptr[i] = (struct sim_trace_strent){ s, "", 0 };
		st->ptr_used++;
		return &st->byptr[i];
	}
	id = intern_text(st, s, &fresh);
	if (!id) {
		t->oom = true;
		return &oom;
	}
	if (fresh)
		t->hash = sim_trace_hash_str(t->hash, s);
	for (i = ptr_slot(s, st->ptr_mask); st->byptr[i].key; i = (i + 1) & st->ptr_mask)
		;
	st->byptr[i] = (struct sim_trace_strent){ s, st->str[id - 1], id };
	st->ptr_used++;
	return &st->byptr[i];
}

#ifdef SIM_TRACE_CHECK_STRINGS
const struct sim_trace_strent *sim_trace_checked(const struct sim_trace_strent *e, const char *s)
{
	if (strcmp(e->str, s)) {
		fprintf(stderr, "sim_trace: the string at %p changed from '%s' to '%s' during the run\n",
			(const void *)s, e->str, s);
		abort();
	}
	return e;
}
#endif

/* ---- recording ---- */

/* Where the fast path next takes the slow one: after every record while
 * keeping them all, else at the end of the ring. */
static void set_stop(struct sim_trace *t)
{
	t->stop = t->keep_all ? t->cur + 1 : t->ring + t->ring_mask + 1;
}

/* Points the cursor at record `seq` of a (new) ring. */
static void set_cursor(struct sim_trace *t, uint64_t seq)
{
	t->lap = seq & ~t->ring_mask;
	t->cur = t->ring + (seq & t->ring_mask);
	set_stop(t);
}

void sim_trace_init(struct sim_trace *t, bool keep_all)
{
	memset(t, 0, sizeof(*t));
	t->hash = SIM_TRACE_HASH_INIT;
	t->ring = t->window;
	t->ring_mask = SIM_TRACE_RING - 1;
	t->keep_all = keep_all;
	t->strings.byptr = &sim_trace_no_strings;
	set_cursor(t, 0);
}

void sim_trace_free(struct sim_trace *t)
{
	struct sim_trace_strtab *st = &t->strings;
	uint64_t seq = sim_trace_seq(t);

	free(t->all);
	t->all = NULL;
	t->nr_all = t->cap_all = 0;
	if (t->ring != t->window)
		free(t->ring);
	t->ring = t->window;
	t->ring_mask = SIM_TRACE_RING - 1;
	set_cursor(t, seq);
	for (uint32_t i = 0; i < st->nr_str; i++)
		free(st->str[i]);
	free(st->str);
	if (st->ptr_cap)
		free(st->byptr);
	free(st->bytext);
	memset(st, 0, sizeof(*st));
	st->byptr = &sim_trace_no_strings;
}

/* A record as it is handed out: its seq, and "" for no string. */
static void hand_out(struct sim_trace_rec *r, uint64_t seq)
{
	r->seq = seq;
	if (!r->what)
		r->what = "";
}

static void keep(struct sim_trace *t, const struct sim_trace_rec *r, uint64_t seq)
{
	if (t->nr_all == t->cap_all) {
		size_t cap = t->cap_all ? t->cap_all * 2 : 4096;
		struct sim_trace_rec *p = realloc(t->all, cap * sizeof(*p));

		if (!p) {	/* out of memory: stop keeping, and say so */
			t->keep_all = false;
			t->keep_failed = true;
			return;
		}
		t->all = p;
		t->cap_all = cap;
	}
	t->all[t->nr_all] = *r;
	hand_out(&t->all[t->nr_all++], seq);
}

/* Hands records [flushed, seq) of the ring to the sink, in order, with
 * their sequence numbers (the fast path leaves seq to whoever hands the
 * records out). */
void sim_trace_flush(struct sim_trace *t)
{
	uint64_t seq = sim_trace_seq(t);

	while (t->flushed < seq && !t->sink_failed && t->sink.write) {
		uint64_t i = t->flushed & t->ring_mask;
		uint64_t n = seq - t->flushed;

		if (n > t->ring_mask + 1 - i)
			n = t->ring_mask + 1 - i;	/* up to the end of the ring */
		for (uint64_t k = 0; k < n; k++)
			hand_out(&t->ring[i + k], t->flushed + k);
		if (t->sink.write(t->sink.arg, &t->ring[i], (size_t)n))
			t->sink_failed = true;
		t->flushed += n;
	}
}

void sim_trace_add_slow(struct sim_trace *t)
{
	uint64_t seq = sim_trace_seq(t);

	if (t->keep_all)
		keep(t, t->cur - 1, seq - 1);
	if (t->cur == t->ring + t->ring_mask + 1) {
		/* The ring is full: write the records not yet written before
		 * the next lap overwrites them. */
		if (t->sink.write)
			sim_trace_flush(t);
		t->lap += t->ring_mask + 1;
		t->cur = t->ring;
	}
	set_stop(t);
}

void sim_trace_add(struct sim_trace *t, const struct sim_trace_rec *rec)
{
	sim_trace_put(t, rec->cycle, sim_trace_word_where(rec->cpu, rec->ctx), rec->kind, rec->a,
		      rec->b, rec->c, rec->what);
}

int sim_trace_stream(struct sim_trace *t, const struct sim_trace_sink *sink)
{
	struct sim_trace_rec *ring = calloc(SIM_TRACE_STREAM_BUF, sizeof(*ring));
	uint64_t seq = sim_trace_seq(t);

	if (!ring)
		return -1;
	/* The window moves into the bigger ring, where it stays. */
	for (uint64_t s = seq > SIM_TRACE_WINDOW ? seq - SIM_TRACE_WINDOW : 0; s < seq; s++) {
		ring[s & (SIM_TRACE_STREAM_BUF - 1)] = t->ring[s & t->ring_mask];
		ring[s & (SIM_TRACE_STREAM_BUF - 1)].seq = s;
	}
	if (t->ring != t->window)
		free(t->ring);
	t->ring = ring;
	t->ring_mask = SIM_TRACE_STREAM_BUF - 1;
	t->sink = *sink;
	t->flushed = seq;
	set_cursor(t, seq);
	return 0;
}

bool sim_trace_sink_failed(const struct sim_trace *t)
{
	return t->sink_failed;
}

/* The id of a string already kept, by content (0 when it is not). */
static uint32_t lookup_text(const struct sim_trace_strtab *st, const char *s)
{
	if (!st->text_cap)
		return 0;
	for (size_t i = text_slot(s, st->text_cap); st->bytext[i]; i = (i + 1) & (st->text_cap - 1))
		if (!strcmp(st->str[st->bytext[i] - 1], s))
			return st->bytext[i];
	return 0;
}

struct sim_trace_rec *sim_trace_take(struct sim_trace *t, size_t *nr)
{
	const struct sim_trace_strtab *st = &t->strings;
	size_t n = t->nr_all, bytes = n * sizeof(struct sim_trace_rec) + 1;
	struct sim_trace_rec *out;
	const char **place;
	char *p;

	*nr = 0;
	t->keep_all = false;
	set_stop(t);
	if (!t->all)
		return NULL;
	for (uint32_t i = 0; i < st->nr_str; i++)
		bytes += strlen(st->str[i]) + 1;
	place = malloc((st->nr_str + 1) * sizeof(*place));
	out = place ? realloc(t->all, bytes) : NULL;
	if (!out) {
		free(place);
		free(t->all);
		t->all = NULL;
		t->nr_all = t->cap_all = 0;
		return NULL;
	}
	t->all = NULL;
	t->nr_all = t->cap_all = 0;
	/* The strings go after the records, in the same block; the records'
	 * `what` still point at the trace's copies until moved there. */
	p = (char *)(out + n);
	*p = '\0';
	place[0] = p++;
	for (uint32_t i = 0; i < st->nr_str; i++) {
		size_t len = strlen(st->str[i]) + 1;

		memcpy(p, st->str[i], len);
		place[i + 1] = p;
		p += len;
	}
	for (size_t i = 0; i < n; i++)
		out[i].what = place[out[i].what[0] ? lookup_text(st, out[i].what) : 0];
	free(place);
	*nr = n;
	return out;
}

/* ---- text ---- */

int sim_trace_format(const struct sim_trace_rec *r, char *buf, size_t len)
{
	return snprintf(buf, len, "%llu c=%llu cpu=%d ctx=%d %s a=%#x b=%#llx c=%#llx %s",
			(unsigned long long)r->seq, (unsigned long long)r->cycle,
			r->cpu, r->ctx, sim_trace_kind_name(r->kind), r->a,
			(unsigned long long)r->b, (unsigned long long)r->c,
			r->what ? r->what : "");
}

size_t sim_trace_tail(const struct sim_trace *t, struct sim_trace_rec *out,
		      size_t n)
{
	uint64_t seq = sim_trace_seq(t);

	if (n > SIM_TRACE_WINDOW)
		n = SIM_TRACE_WINDOW;
	if (n > seq)
		n = seq;
	for (size_t i = 0; i < n; i++) {
		out[i] = t->ring[(seq - n + i) & t->ring_mask];
		hand_out(&out[i], seq - n + i);
	}
	return n;
}
