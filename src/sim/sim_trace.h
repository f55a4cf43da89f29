/* sim_trace: the structured event trace.  Every step of the simulated
 * machine that matters (MSR access, work, overflow, interrupt, VM entry and
 * exit, PMU load/put step, perf action) appends one binary record.  The
 * trace keeps a ring of recent records for violation reports, a running
 * hash of the binary fields, and optionally streams every record to a sink
 * (the --trace file) or keeps them all in memory (tests).  Nothing is
 * formatted as text unless someone asks for it. */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sim_trace_kind {
	TR_WRMSR,	/* a = msr, b = value, c = fault (0 ok) */
	TR_RDMSR,	/* a = msr, b = value, c = fault */
	TR_RDPMC,	/* a = ecx, b = value, c = fault */
	TR_CPUID,	/* a = leaf, b = eax:ebx, c = ecx:edx */
	TR_WORK,	/* a = mode (0 user, 1 kernel), b = instructions, c = cycles */
	TR_OVERFLOW,	/* a = status bit, b = counter index, c = 0 */
	TR_PMI,		/* a = vector, b = nmi, c = lvtpc after delivery */
	TR_PMI_DROPPED, /* a = lvtpc */
	TR_IRQ,		/* a = vector, b = context (0 host) */
	TR_EOI,
	TR_VMENTRY,	/* a = vcpu, b = global_ctrl in force */
	TR_VMEXIT,	/* a = exit reason, b = qualification (msr/vector) */
	TR_PMU_LOAD,	/* what = the step name */
	TR_PMU_PUT,	/* what = the step name */
	TR_PERF,	/* what = perf action, a/b/c as documented at the site */
	TR_SCHED,	/* a = cpu, b = thread */
	TR_INJECT,	/* a = vector injected into a guest */
	TR_FAULT,	/* a = vector (13 = #GP), what = cause */
	TR_NOTE,
	TR_INVARIANT,	/* a = invariant number */
	TR_KIND_NR
};

/* One record.  `what` points at the trace's own copy of the string the
 * caller passed ("" for none; NULL while the record is in the ring), so
 * records outlive the caller's strings; in the hash it stands for its
 * interned number, never its address. */
struct sim_trace_rec {
	/* Aligned to 16 (what malloc gives), which pads the record from 56
	 * to 64 bytes: the ring index is then a shift. */
	_Alignas(16) uint64_t seq;
	uint64_t cycle;
	int32_t cpu;	/* physical CPU, -1 none */
	int32_t ctx;	/* 0 host, n > 0 guest of VM n */
	uint32_t kind;
	uint32_t a;
	uint64_t b, c;
	const char *what;
};
_Static_assert(sizeof(struct sim_trace_rec) == 64, "a trace record is 64 bytes");

/* Records shown before a violation come from this window. */
#define SIM_TRACE_WINDOW 64
/* The ring that holds them when the trace is not streamed: larger than
 * the window, so that the fast path reaches its end (the slow path) only
 * every SIM_TRACE_RING records. */
#define SIM_TRACE_RING 256
_Static_assert(SIM_TRACE_RING >= SIM_TRACE_WINDOW && (SIM_TRACE_RING & (SIM_TRACE_RING - 1)) == 0,
	       "the ring holds the window and is a power of two");
/* Records a streaming trace buffers between two writes to its sink. */
#define SIM_TRACE_STREAM_BUF 4096

/* Where a streamed trace goes: `write` gets every record once, in order,
 * in batches; it returns 0, or -1 after which the trace stops calling it
 * and remembers the failure (sim_trace_sink_failed). */
struct sim_trace_sink {
	int (*write)(void *arg, const struct sim_trace_rec *rec, size_t n);
	void *arg;
};

/* The strings records point at, each kept once and numbered (1, 2, ...)
 * in the order of first appearance.  Looked up by the caller's pointer
 * first (a cache) and by content on a miss, so equal strings at different
 * addresses get one number and the hash depends only on content. */
struct sim_trace_strtab {
	struct sim_trace_strent {
		const char *key;	/* the caller's pointer, NULL: free */
		const char *str;	/* the trace's copy */
		uint32_t id;
	} *byptr;			/* never NULL: sim_trace_no_strings until the first string */
	size_t ptr_cap, ptr_used;
	size_t ptr_mask;		/* ptr_cap - 1, 0 while byptr is the empty table */
	uint32_t *bytext;		/* ids by content hash, 0 free */
	size_t text_cap;
	char **str;			/* str[id - 1] */
	uint32_t nr_str, cap_str;
};

struct sim_trace {
	/* The slot the next record goes to, and the slot at which recording
	 * takes the slow path (sim_trace_add_slow): the end of the ring, or
	 * the next slot while every record is kept.  The fast path moves
	 * `cur` and compares: no sequence number, no index arithmetic. */
	struct sim_trace_rec *cur, *stop;
	uint64_t hash;			/* over every record's binary fields */
	uint64_t lap;			/* seq of ring[0] in this lap (sim_trace_seq) */
	struct sim_trace_rec *ring;	/* `window` (SIM_TRACE_RING records), or the stream
					 * buffer; a record's seq is
					 * filled in (and a NULL `what` made "") only when it
					 * is handed out */
	uint64_t ring_mask;
	struct sim_trace_rec window[SIM_TRACE_RING];
	/* Streaming. */
	struct sim_trace_sink sink;
	uint64_t flushed;		/* records handed to the sink */
	bool sink_failed;
	/* Keeping everything (tests, C users; memory grows with the run). */
	bool keep_all;
	bool keep_failed;		/* out of memory: `all` is incomplete */
	struct sim_trace_rec *all;
	size_t nr_all, cap_all;
	struct sim_trace_strtab strings;
	bool oom;			/* a string could not be kept */
};

/* Records added so far: the next record's sequence number. */
static inline uint64_t sim_trace_seq(const struct sim_trace *t)
{
	return t->lap + (uint64_t)(t->cur - t->ring);
}

void sim_trace_init(struct sim_trace *t, bool keep_all);
void sim_trace_free(struct sim_trace *t);
/* Appends a record: its seq is assigned, its `what` interned. */
void sim_trace_add(struct sim_trace *t, const struct sim_trace_rec *rec);
/* Streams every record from now on to `sink`; -1 when out of memory. */
int sim_trace_stream(struct sim_trace *t, const struct sim_trace_sink *sink);
/* Hands the records not yet written to the sink (end of a run). */
void sim_trace_flush(struct sim_trace *t);
bool sim_trace_sink_failed(const struct sim_trace *t);
/* Hands the kept records to the caller, who free()s the one block (their
 * `what` strings live in it), and stops keeping; hash and window go on.
 * NULL with *nr = 0 when nothing was kept. */
struct sim_trace_rec *sim_trace_take(struct sim_trace *t, size_t *nr);
/* Formats one record as a single line (no newline); returns its length
 * as snprintf does. */
int sim_trace_format(const struct sim_trace_rec *rec, char *buf, size_t len);
const char *sim_trace_kind_name(enum sim_trace_kind kind);
/* The last `n` records (n <= SIM_TRACE_WINDOW), oldest first. */
size_t sim_trace_tail(const struct sim_trace *t, struct sim_trace_rec *out,
		      size_t n);

/* The run hash, spelled out so that anyone can recompute it from kept
 * records (tests/sim/test_sim_trace.c does): start from
 * SIM_TRACE_HASH_INIT; when a record's `what` is a string not seen before
 * in the run, fold the string (sim_trace_hash_str) and number it; then
 * fold the record's five words (sim_trace_hash_words) with that number
 * (0 for ""). */
#define SIM_TRACE_HASH_INIT 0xCBF29CE484222325ULL
uint64_t sim_trace_hash_str(uint64_t h, const char *s);
uint64_t sim_trace_hash_rec(uint64_t h, const struct sim_trace_rec *r, uint32_t what_id);
/* The hash of records[0..n-1] as sim_trace_add computes it, from the
 * records alone (strings numbered by content in order of appearance). */
uint64_t sim_trace_hash_records(const struct sim_trace_rec *rec, size_t n);

/* ---- the recording fast path, inline: one record is a few stores, a
 * pointer lookup and five hash steps ---- */

/* An odd 64-bit constant with well-spread bits (2^64 / golden ratio). */
#define SIM_TRACE_MIX_K 0x9E3779B97F4A7C15ULL

static inline uint64_t sim_trace_rotl(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

/* One step: xor the word in, multiply by an odd constant.  For a given
 * word it is a bijection of the state, so a record that differs in any
 * word leaves a different state, and the steps after it keep it so. */
static inline uint64_t sim_trace_mix(uint64_t h, uint64_t w)
{
	return (h ^ w) * SIM_TRACE_MIX_K;
}

/* A record's fields in five 64-bit words: cycle; cpu and ctx; kind, a
 * and the string's number; b; c.  The second and third are exact packings
 * (kind below 256 and numbers below 2^24, which every run has: the
 * number is rotated in rather than shifted, so a larger one still moves
 * the word).  seq is the record's position, not a field. */
static inline uint64_t sim_trace_word_where(int32_t cpu, int32_t ctx)
{
	return (uint64_t)(uint32_t)cpu | (uint64_t)(uint32_t)ctx << 32;
}

static inline uint64_t sim_trace_word_kind(uint32_t kind, uint32_t a, uint32_t what_id)
{
	return ((uint64_t)kind << 32 | a) ^ sim_trace_rotl(what_id, 40);
}

/* Five steps, then a rotation that brings the well-mixed high half down
 * for the next record's multiplications (a bijection too). */
static inline uint64_t sim_trace_hash_words(uint64_t h, uint64_t cycle, uint64_t where,
					    uint64_t kind_a, uint64_t b, uint64_t c)
{
	h = sim_trace_mix(h, cycle);
	h = sim_trace_mix(h, where);
	h = sim_trace_mix(h, kind_a);
	h = sim_trace_mix(h, b);
	h = sim_trace_mix(h, c);
	return sim_trace_rotl(h, 32);
}

static inline size_t sim_trace_ptr_slot(const void *p, size_t mask)
{
	return (size_t)(((uint64_t)(uintptr_t)p * SIM_TRACE_MIX_K) >> 32) & mask;
}

/* The one free slot byptr points at before the first string. */
extern struct sim_trace_strent sim_trace_no_strings;

const struct sim_trace_strent *sim_trace_intern_slow(struct sim_trace *t, const char *s);

#if defined(__SANITIZE_ADDRESS__)
#define SIM_TRACE_CHECK_STRINGS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_TRACE_CHECK_STRINGS 1
#endif
#endif
#ifdef SIM_TRACE_CHECK_STRINGS
/* Aborts when the string found by its address no longer has the
 * content it was interned with (a `what` that changed during the run). */
const struct sim_trace_strent *sim_trace_checked(const struct sim_trace_strent *e, const char *s);
#else
static inline const struct sim_trace_strent *sim_trace_checked(const struct sim_trace_strent *e,
							       const char *s)
{
	(void)s;
	return e;
}
#endif
/* A record was just added at t->cur - 1 and t->cur reached t->stop:
 * keep it, and at the end of the ring write the ring to the sink and
 * start the next lap. */
void sim_trace_add_slow(struct sim_trace *t);

/* The string's entry: found by the caller's pointer (which must keep
 * its content for the run; sanitizer builds check it), else interned.
 * Inline, only the first slot the pointer hashes to; the rest of the
 * probe sequence, and adding, are the slow path's. */
static inline const struct sim_trace_strent *sim_trace_intern(struct sim_trace *t, const char *s)
{
	const struct sim_trace_strtab *st = &t->strings;
	const struct sim_trace_strent *e = &st->byptr[sim_trace_ptr_slot(s, st->ptr_mask)];

	if (e->key == s)
		return sim_trace_checked(e, s);
	return sim_trace_intern_slow(t, s);
}

/* `where` is sim_trace_word_where(cpu, ctx), which is how struct sim
 * keeps them (one load instead of two and a shift). */
static inline void sim_trace_put(struct sim_trace *t, uint64_t cycle, uint64_t where,
				 uint32_t kind, uint32_t a, uint64_t b, uint64_t c,
				 const char *what)
{
	const struct sim_trace_strent *e = what ? sim_trace_intern(t, what) : NULL;
	struct sim_trace_rec *r = t->cur;
	uint32_t id = e ? e->id : 0;

	/* r->seq is set, and a NULL `what` becomes "", when the record is
	 * handed out (sim_trace_tail, sim_trace_flush, keeping): two stores
	 * less here. */
	r->cycle = cycle;
	r->cpu = (int32_t)(uint32_t)where;
	r->ctx = (int32_t)(uint32_t)(where >> 32);
	r->kind = kind;
	r->a = a;
	r->b = b;
	r->c = c;
	r->what = e ? e->str : NULL;
	t->hash = sim_trace_hash_words(t->hash, cycle, where, sim_trace_word_kind(kind, a, id), b, c);
	t->cur = ++r;
	if (r == t->stop)
		sim_trace_add_slow(t);
}

#endif
