/* guest_prog: the programs a guest (or bare-metal) kernel runs: perf-stat-
 * like counting, perf-record-like sampling, an rr-like tick counter, raw
 * counters across emulated instructions, and an idle workload.  A program
 * advances one step (one block of work) at a time so the runner can
 * interleave vCPUs and host tasks deterministically. */
#ifndef GUEST_PROG_H
#define GUEST_PROG_H

#include <stdbool.h>
#include <stddef.h>

#include "host/perf.h"
#include "mvpmu/guest.h"
#include "mvpmu/scenario.h"
#include "sim/sim.h"

struct guest_prog;

/* The guest kernel's perf: the shared perf code reaching the PMU through
 * the guest API of each of the kernel's CPUs (gs[i] is CPU i), with the
 * PMI handler installed on each.  `ctx` is the kernel's truth context
 * of CPU 0 (others are ctx + i). */
struct perf *guest_perf_new(struct sim *sim, int ctx, struct mv_guest *gs[],
			    int nr);
/* Where the kernel's Intel PMI handler unmasks LVTPC (1 early, 2 mid,
 * 3 late; 0 keeps what the driver chose for the CPU model). */
void guest_perf_set_ack(struct perf *perf, unsigned ack);

/* Creates program `cfg` on CPU `cpu` of the guest kernel `perf`.  Returns
 * NULL with a one-line message when the configuration is invalid (bad
 * event name, ...).  `vendor` is 0 Intel / 1 AMD (to compute the truth of
 * raw events); `ctx` is the truth context of that CPU. */
struct guest_prog *guest_prog_new(const struct mv_program *cfg,
				  struct mv_guest *g, struct perf *perf,
				  int cpu, int ctx, int vendor,
				  char *err, size_t errlen);
/* A program of kind `image` (real x86-64 code, src/guest/guest_image.c):
 * it needs no guest kernel perf, only the simulation. */
struct guest_prog *guest_prog_new_image(const struct mv_program *cfg,
					struct mv_guest *g, struct sim *sim,
					int ctx, char *err, size_t errlen);
/* Runs one step; false once the program has finished (and stopped its
 * events).  Must be called until it returns false. */
bool guest_prog_step(struct guest_prog *p);
/* Appends the program's results: counters named `who` (e.g.
 * "vm0/vcpu0"), samples per label, rr results, PMIs. */
/* Asks the program to finish early (the run reached its budget): its next
 * step stops its events as at the end of its workload.  True when it had
 * work left. */
bool guest_prog_stop(struct guest_prog *p);
void guest_prog_report(struct guest_prog *p, const char *who,
		       const struct sim *sim, struct mv_result *res);
void guest_prog_free(struct guest_prog *p);

#endif
