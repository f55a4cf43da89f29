/* mvpmu public API: the kinds of events a block of work contains.
 * A guest or host program describes what it executes as a work block; the
 * simulated PMU counts the block, and the engine records it as ground truth. */
#ifndef MVPMU_EVENTS_H
#define MVPMU_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

enum mv_event {
	MV_EV_INSTRUCTIONS,   /* instructions retired */
	MV_EV_BRANCHES,       /* branch instructions retired */
	MV_EV_COND_BRANCHES,  /* conditional branches retired (rr's tick) */
	MV_EV_BRANCH_MISSES,  /* mispredicted branches retired */
	MV_EV_CYCLES,         /* core cycles (unhalted) */
	MV_EV_REF_CYCLES,     /* reference cycles (TSC rate) */
	MV_EV_LLC_REFS,       /* last-level cache references */
	MV_EV_LLC_MISSES,     /* last-level cache misses */
	MV_EV_TOPDOWN_SLOTS,  /* topdown issue slots */
	MV_EV_NR
};

/* A block of work: how many events of each kind it contains, executed in
 * user or kernel mode.  `label` names the code (a function) for sampling
 * reports; it must outlive the run (use string literals). */
struct mv_work {
	uint64_t ev[MV_EV_NR];
	bool kernel;
	const char *label;
};

const char *mv_event_name(enum mv_event ev);

/* A block with consistent defaults derived from an instruction count:
 * 1 branch in 5 instructions, 2/3 of them conditional, 1 miss in 50
 * branches, IPC 2 (cycles = n/2), ref cycles = cycles, 1 LLC reference in
 * 100 instructions, a quarter of those missing, 4 slots per cycle. */
struct mv_work mv_work_make(uint64_t instructions, bool kernel,
			    const char *label);

/* Real machine code (docs/realcode.md): `n` instructions retired, of which
 * `branches` branches and `cond` conditional branches; one cycle per
 * instruction (IPC 1), reference cycles at the core clock, 4 topdown slots
 * per cycle, no LLC traffic and no mispredicted branch. */
#define MV_SLOTS_PER_CYCLE 4
struct mv_work mv_work_insns(uint64_t n, uint64_t branches, uint64_t cond,
			     bool kernel, const char *label);

#endif
