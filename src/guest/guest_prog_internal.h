/* guest_prog_internal: the state of a guest program and the helpers its
 * kinds (perf-based, raw counters) share.  Private to src/guest. */
#ifndef GUEST_PROG_INTERNAL_H
#define GUEST_PROG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/guest_prog.h"

/* The guest kernel's scheduler tick (perf's multiplex rotation and the
 * frequency-mode period adjustment), in simulated cycles: a 3 kHz tick at
 * the model's 3 GHz, faster than Linux's HZ=1000 so that short workloads
 * still see many rotations. */
#define GUEST_PROG_TICK_CYCLES 1000000ULL
/* Simulated cycles per second (freq mode converts samples/s to a period). */
#define GUEST_PROG_HZ 3000000000ULL
/* Block size when the workload does not give one. */
#define GUEST_PROG_DEFAULT_CHUNK 100000ULL

/* Per event of a perf-based program. */
struct gp_event {
	struct guest_prog *prog;
	const char *spec;		/* points into p->cfg */
	struct perf_event *ev;
	int open_err;			/* perf_event_open's error, 0 ok */
	struct perf_event_attr attr;
	int mv_ev;			/* modelled event counted, -1 unknown */
	uint64_t truth0;		/* truth at the start of the run */
	uint64_t samples;
	uint64_t label_samples[MV_MAX_SEGMENTS];
	uint64_t last_count, last_running;	/* freq mode: at the last tick */
	/* Results, taken at teardown. */
	uint64_t value, raw, enabled, running, truth;
};

/* The labels of the workload (one per distinct segment label). */
struct gp_label {
	const char *name;		/* points into p->cfg */
	bool user, kernel;		/* modes the label's segments run in */
	uint64_t truth0[MV_EV_NR];
	uint64_t truth[MV_EV_NR];
};

/* rr-like tick counter state. */
struct gp_rr {
	uint64_t interrupts, exact, max_overshoot;
	uint64_t ticks_counted, ticks_truth;
};

/* Raw-counter (EMULATED) state: counter 0 instructions, 1 branches. */
struct gp_raw {
	bool intel, fw_write, global;	/* global: GLOBAL_CTRL/STATUS exist */
	unsigned width;
	uint32_t sel_msr[2], ctr_msr[2];
	uint32_t status_msr;		/* 0: no global status */
	uint64_t preset_val;		/* -preset masked to width */
	uint64_t value[2];		/* counter values at teardown */
	bool overflowed[2];		/* status bit seen set */
	uint64_t truth0[2], truth[2];
	uint64_t pmis;
	bool ok;			/* two GP counters found and programmed */
	int fault;			/* first fault of an MSR access */
	uint64_t old_global;		/* GLOBAL_CTRL / GlobalCtl before */
	uint64_t old_lvtpc;
	mv_irq_fn old_irq;
	void *old_irq_arg;
};

enum gp_state { GP_SETUP, GP_RUN, GP_DONE };

struct guest_prog {
	struct mv_program cfg;		/* own copy: labels point into it */
	struct mv_guest *g;
	struct perf *perf;
	int cpu, ctx, vendor;
	struct sim *sim;		/* from the perf instance's owner */
	enum gp_state state;
	bool stop;			/* guest_prog_stop: end the workload now */

	/* Workload position. */
	uint64_t pass;
	unsigned seg;
	uint64_t seg_done;		/* instructions of seg already run */
	unsigned emu_done;		/* emulated instructions of seg done */
	uint64_t nr_emulated;		/* all emulated, for alternation */

	uint64_t next_tick;
	uint64_t irqs0, pmis;		/* g->nr_irqs at setup; PMIs seen */

	struct gp_event ev[MV_MAX_EVENTS];
	unsigned nr_ev;
	struct gp_label label[MV_MAX_SEGMENTS];	/* one per distinct label */
	unsigned nr_label;
	uint64_t lost;
	struct gp_rr rr;
	struct gp_raw raw;
	struct guest_image *image;	/* kind image */
};

/* guest_prog.c */
int gp_label_index(const struct guest_prog *p, const char *label);
uint64_t gp_truth(const struct guest_prog *p, int mv_ev, bool user,
		  bool kernel);

/* guest_prog_perf.c: STAT, RECORD and RR over the guest kernel's perf. */
int gp_perf_prepare(struct guest_prog *p, char *err, size_t errlen);
void gp_perf_setup(struct guest_prog *p);
void gp_perf_tick(struct guest_prog *p);
void gp_perf_teardown(struct guest_prog *p);
void gp_perf_report(struct guest_prog *p, const char *who,
		    struct mv_result *res);

/* guest_prog_raw.c: EMULATED, direct MSR programming. */
void gp_raw_setup(struct guest_prog *p);
void gp_raw_teardown(struct guest_prog *p);
void gp_raw_report(struct guest_prog *p, const char *who,
		   struct mv_result *res);

#endif
