/* sim_trace: the structured event trace.  Every step of the simulated
 * machine that matters (MSR access, work, overflow, interrupt, VM entry and
 * exit, PMU load/put step, perf action) appends one record.  The trace keeps
 * a window of recent records for violation reports, an optional full log,
 * and a running hash of the formatted text, so two runs can be compared
 * byte for byte without keeping everything. */
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

struct sim_trace_rec {
	uint64_t seq;
	uint64_t cycle;
	int32_t cpu;	/* physical CPU, -1 none */
	int32_t ctx;	/* 0 host, n > 0 guest of VM n */
	uint32_t kind;
	uint32_t a;
	uint64_t b, c;
	char what[40];
};

#define SIM_TRACE_WINDOW 64

struct sim_trace {
	uint64_t seq;
	uint64_t hash;			/* FNV-1a of every formatted record */
	struct sim_trace_rec window[SIM_TRACE_WINDOW];
	bool keep_all;			/* keep every record in `all` */
	struct sim_trace_rec *all;
	size_t nr_all, cap_all;
};

void sim_trace_init(struct sim_trace *t, bool keep_all);
void sim_trace_free(struct sim_trace *t);
void sim_trace_add(struct sim_trace *t, const struct sim_trace_rec *rec);
/* Hands the kept records to the caller (who free()s them) and stops
 * keeping; the hash and window go on. */
struct sim_trace_rec *sim_trace_take(struct sim_trace *t, size_t *nr);
/* Formats one record as a single line (no newline); returns its length. */
int sim_trace_format(const struct sim_trace_rec *rec, char *buf, size_t len);
const char *sim_trace_kind_name(enum sim_trace_kind kind);
/* The last `n` records (n <= SIM_TRACE_WINDOW), oldest first. */
size_t sim_trace_tail(const struct sim_trace *t, struct sim_trace_rec *out,
		      size_t n);

#endif
