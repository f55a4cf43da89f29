/* sim: the deterministic engine every layer shares: simulated time in
 * cycles, the seeded RNG, the trace, ground truth, time accounting and the
 * invariant checker.  One `struct sim` is one run; nothing here is global. */
#ifndef SIM_H
#define SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_rng.h"
#include "sim_trace.h"
#include "sim_truth.h"

/* Where simulated cycles went (for overhead reports). */
enum sim_time_bucket {
	SIM_T_HOST,		/* host work of its own */
	SIM_T_GUEST,		/* guest work and passed-through accesses */
	SIM_T_TRANSITION,	/* VM-entry/VM-exit round trips, PMU load/put */
	SIM_T_HOST_FOR_GUEST,	/* host work on the guest's behalf: exit handling, perf */
	SIM_T_NR
};

/* The invariants of DESIGN.md, numbered as there. */
enum sim_invariant {
	INV_ISOLATION = 1,
	INV_CONSERVATION,
	INV_PMI,
	INV_ORDERING,
	INV_NO_LEAK,
	INV_EXCLUSION,
	INV_TIME,
	INV_FILTER,
	INV_NR
};

#define SIM_MAX_VIOLATIONS 16

struct sim_violation {
	enum sim_invariant inv;
	uint64_t seed;
	uint64_t step;		/* trace sequence number at the violation */
	char msg[160];
	char trace[SIM_TRACE_WINDOW / 2 * 120]; /* the trace leading to it */
};

struct sim {
	uint64_t seed;
	uint64_t cycle;		/* simulated time */
	struct sim_rng rng;
	struct sim_trace trace;
	struct sim_truth truth;
	uint64_t time[SIM_T_NR];
	uint64_t inv_checked;
	uint64_t inv_violated;
	uint64_t inv_checked_by[INV_NR];
	struct sim_violation violations[SIM_MAX_VIOLATIONS];
	unsigned nr_violations;	/* recorded (<= SIM_MAX_VIOLATIONS) */
	uint32_t inject_ppm;	/* fault-injection rate per injection point, per million */
	uint64_t nr_injected;
	/* The CPU and context of the records being added, also as the one
	 * word the trace hashes (sim_trace_word_where; sim_where). */
	union {
		struct {
			int32_t cur_cpu;	/* physical CPU, -1 none */
			int32_t cur_ctx;	/* truth context running on it */
		};
		uint64_t cur_where;
	};
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SIM_WHERE_IS_WORD 1	/* cur_where == sim_trace_word_where(cur_cpu, cur_ctx) */
#endif

static inline uint64_t sim_where(const struct sim *sim)
{
#ifdef SIM_WHERE_IS_WORD
	return sim->cur_where;
#else
	return sim_trace_word_where(sim->cur_cpu, sim->cur_ctx);
#endif
}

void sim_init(struct sim *sim, uint64_t seed, bool keep_trace);
void sim_free(struct sim *sim);

/* Advances simulated time, charging the cycles to a bucket. */
static inline void sim_advance(struct sim *sim, uint64_t cycles, enum sim_time_bucket b)
{
	sim->cycle += cycles;
	if ((unsigned)b < SIM_T_NR)
		sim->time[b] += cycles;
}

/* Appends a record at the current cycle, CPU and context.  `what` is
 * NULL or a string that stays the same for the whole run (a literal, or a
 * name the machine owns): the trace keeps its own copy, found again by
 * the pointer (docs/architecture.md, "Determinism"). */
static inline void sim_trace(struct sim *sim, enum sim_trace_kind kind, uint32_t a,
			     uint64_t b, uint64_t c, const char *what)
{
	sim_trace_put(&sim->trace, sim->cycle, sim_where(sim), kind, a, b, c, what);
}

/* Counts one check of invariant `inv`; when `ok` is false records a
 * violation (seed, step, message, the recent trace).  Yields `ok`.  The
 * message's arguments are evaluated only when the check fails (checks run
 * on every PMU write: a passing one costs a counter increment), and `sim`
 * and `inv` are evaluated again then: pass plain expressions. */
#define sim_check(sim, inv, ok, ...) \
	(sim_check_count((sim), (inv), (ok)) ? true : sim_check_failed((sim), (inv), __VA_ARGS__))

static inline bool sim_check_count(struct sim *sim, enum sim_invariant inv, bool ok)
{
	sim->inv_checked++;
	if ((unsigned)inv < INV_NR)
		sim->inv_checked_by[inv]++;
	return ok;
}

/* The failing half of sim_check: records the violation; returns false. */
bool sim_check_failed(struct sim *sim, enum sim_invariant inv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *sim_invariant_name(enum sim_invariant inv);

/* An injection point: true (and traced) when the seeded RNG decides that
 * something should happen here (inject_ppm per million).  With injection
 * off it draws nothing, so other choices keep their order. */
bool sim_inject_draw(struct sim *sim, const char *where);
static inline bool sim_inject(struct sim *sim, const char *where)
{
	return sim->inject_ppm && sim_inject_draw(sim, where);
}

#endif
