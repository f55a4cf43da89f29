/* host_test: a host perf instance on simulated CPUs, for the host tests. */
#ifndef HOST_TEST_H
#define HOST_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "host/host_cpu.h"
#include "host/perf_internal.h"
#include "hw/hw_cpu.h"
#include "hw/hw_model.h"

#define BOX_CPUS 2

struct box {
	struct sim sim;
	struct hw_cpu cpu[BOX_CPUS];
	struct hw_cpu *cpus[BOX_CPUS];
	struct perf *p;
};

static inline struct box *box_new(const char *model)
{
	struct box *b = calloc(1, sizeof(*b));
	const struct hw_model *m = hw_model_find(model);

	assert_non_null(b);
	assert_non_null(m);
	sim_init(&b->sim, 1, false);
	for (int i = 0; i < BOX_CPUS; i++) {
		hw_cpu_init(&b->cpu[i], i, &b->sim, m);
		b->cpus[i] = &b->cpu[i];
	}
	b->p = host_perf_new(&b->sim, b->cpus, BOX_CPUS);
	assert_non_null(b->p);
	return b;
}

static inline void box_free(struct box *b)
{
	perf_free(b->p);
	sim_free(&b->sim);
	free(b);
}

static inline void box_run(struct box *b, int cpu, uint64_t n, bool kernel,
			   const char *label)
{
	struct mv_work w = mv_work_make(n, kernel, label);

	hw_run_work(&b->cpu[cpu], &w);
}

static inline struct perf_event *box_open(struct box *b, const char *spec,
					  int cpu, struct perf_task *t,
					  uint64_t period)
{
	struct perf_event_attr attr;
	struct perf_event *ev = NULL;
	char err[96];

	assert_int_equal(perf_parse_event(spec, &attr, err, sizeof(err)), 0);
	attr.sample_period = period;
	assert_int_equal(perf_event_open(b->p, &attr, cpu, t, NULL, NULL, &ev), 0);
	assert_non_null(ev);
	return ev;
}

static inline int box_try_open(struct box *b, const char *spec,
			       struct perf_event **ev)
{
	struct perf_event_attr attr;
	char err[96];

	assert_int_equal(perf_parse_event(spec, &attr, err, sizeof(err)), 0);
	return perf_event_open(b->p, &attr, 0, NULL, NULL, NULL, ev);
}

#endif
