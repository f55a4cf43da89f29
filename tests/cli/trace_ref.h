/* trace_ref: the Chrome-trace formatter as it was before issue 10, kept
 * verbatim as the reference a streamed trace must equal (tests/cli/
 * test_trace_stream.c).  Its records are the old ones: `what` was a copy
 * of at most 39 characters.  Only names changed (ref_ prefix, static). */
#ifndef TRACE_REF_H
#define TRACE_REF_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mvpmu/x86.h"
#include "hw/hw_virt.h"
#include "sim/sim_trace.h"

#define REF_CYCLES_PER_US 3000.0

/* The record of the old trace. */
struct ref_rec {
	uint64_t seq;
	uint64_t cycle;
	int32_t cpu;
	int32_t ctx;
	uint32_t kind;
	uint32_t a;
	uint64_t b, c;
	char what[40];
};

/* A record of today's trace as the old sim_trace stored it. */
static inline struct ref_rec ref_rec_of(const struct sim_trace_rec *r)
{
	struct ref_rec o = {
		.seq = r->seq, .cycle = r->cycle, .cpu = r->cpu, .ctx = r->ctx,
		.kind = r->kind, .a = r->a, .b = r->b, .c = r->c,
	};

	snprintf(o.what, sizeof(o.what), "%s", r->what ? r->what : "");
	return o;
}

/* Records without a CPU go to a process of their own. */
#define NO_CPU_PID 9999
#define MAX_THREADS 256
#define MAX_OPEN 64
/* Bit 47: the sign of a 48-bit counter, the width of every model's. */
#define CTR_SIGN (1ULL << 47)

struct thread_id {
	int pid, tid;
};

struct tstate {
	FILE *f;
	/* Threads already named, so each gets its metadata once. */
	struct thread_id named[MAX_THREADS];
	size_t nr_named;
	bool first;
	int err;
	/* The guest slice open on each CPU (tid, or -1), closed at exit. */
	int open_tid[MAX_OPEN];
	uint64_t last_cycle;
};

static int pid_of(const struct ref_rec *r)
{
	return r->cpu < 0 ? NO_CPU_PID : r->cpu;
}

static json_t *ts_of(uint64_t cycle)
{
	return json_real((double)cycle / REF_CYCLES_PER_US);
}

/* Writes one event; the array's commas are the only text written by hand. */
static void emit_raw(struct tstate *t, json_t *ev)
{
	if (!ev) {
		t->err = -1;
		return;
	}
	if (!t->first && fputs(",\n", t->f) == EOF)
		t->err = -1;
	t->first = false;
	if (json_dumpf(ev, t->f, JSON_COMPACT | JSON_PRESERVE_ORDER |
		       JSON_REAL_PRECISION(15)))
		t->err = -1;
	json_decref(ev);
}

static void emit_meta(struct tstate *t, const char *what, int pid, int tid,
		      const char *name)
{
	emit_raw(t, json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name", what,
			      "ph", "M", "pid", pid, "tid", tid, "args",
			      "name", name));
}

/* Names a CPU's process and a context's thread the first time they appear. */
static void name_thread(struct tstate *t, int pid, int tid)
{
	bool known_pid = false;
	char name[32];

	for (size_t j = 0; j < t->nr_named; j++) {
		if (t->named[j].pid == pid && t->named[j].tid == tid)
			return;
		known_pid |= t->named[j].pid == pid;
	}
	if (t->nr_named < MAX_THREADS)
		t->named[t->nr_named++] = (struct thread_id){ pid, tid };
	if (!known_pid) {
		if (pid == NO_CPU_PID)
			snprintf(name, sizeof(name), "machine");
		else
			snprintf(name, sizeof(name), "cpu %d", pid);
		emit_meta(t, "process_name", pid, 0, name);
	}
	if (tid < 0)
		return;		/* counter tracks belong to the process */
	if (tid > 0)
		snprintf(name, sizeof(name), "guest (ctx %d)", tid);
	else
		snprintf(name, sizeof(name), "host");
	emit_meta(t, "thread_name", pid, tid, name);
}

/* Every event but metadata: names its thread first. */
static void emit(struct tstate *t, json_t *ev)
{
	json_t *tid = json_object_get(ev, "tid");

	if (ev)
		name_thread(t, (int)json_integer_value(json_object_get(ev, "pid")),
			    tid ? (int)json_integer_value(tid) : -1);
	emit_raw(t, ev);
}

static void emit_instant(struct tstate *t, const struct ref_rec *r,
			 const char *cat, const char *name, json_t *args)
{
	emit(t, json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:o}",
			  "name", name, "cat", cat, "ph", "i", "s", "t",
			  "ts", ts_of(r->cycle), "pid", pid_of(r), "tid", r->ctx,
			  "args", args ? args : json_object()));
}

static void emit_slice(struct tstate *t, const char *ph, uint64_t cycle,
		       int pid, int tid, json_t *args)
{
	emit(t, json_pack("{s:s, s:s, s:s, s:o, s:i, s:i, s:o}",
			  "name", "guest", "cat", "vm", "ph", ph,
			  "ts", ts_of(cycle), "pid", pid, "tid", tid,
			  "args", args ? args : json_object()));
}

static const struct { uint32_t code; const char *name; } exit_names[] = {
	{ VMX_EXIT_NMI, "EXCEPTION_NMI" }, { VMX_EXIT_EXTINT, "EXTERNAL_INTERRUPT" },
	{ VMX_EXIT_CPUID, "CPUID" }, { VMX_EXIT_HLT, "HLT" },
	{ VMX_EXIT_RDPMC, "RDPMC" }, { VMX_EXIT_MSR_READ, "MSR_READ" },
	{ VMX_EXIT_MSR_WRITE, "MSR_WRITE" }, { VMX_EXIT_EPT_MISCONFIG, "EPT_MISCONFIG" },
	{ SVM_EXIT_INTR, "INTR" }, { SVM_EXIT_NMI, "NMI" }, { SVM_EXIT_RDPMC, "RDPMC" },
	{ SVM_EXIT_CPUID, "CPUID" }, { SVM_EXIT_HLT, "HLT" }, { SVM_EXIT_MSR, "MSR" },
	{ SVM_EXIT_NPF, "NPF" },
};

/* The record's own text wins; VMX and SVM codes do not overlap otherwise. */
static void exit_name(const struct ref_rec *r, char *buf, size_t len)
{
	const char *name = NULL;

	for (size_t i = 0; i < sizeof(exit_names) / sizeof(exit_names[0]); i++)
		if (exit_names[i].code == r->a)
			name = exit_names[i].name;
	if (r->what[0])
		snprintf(buf, len, "exit %.*s", (int)sizeof(r->what), r->what);
	else if (name)
		snprintf(buf, len, "exit %s", name);
	else
		snprintf(buf, len, "exit %u", r->a);
}

static void on_vmentry(struct tstate *t, const struct ref_rec *r)
{
	int tid = r->ctx > 0 ? r->ctx : 1;

	if (r->cpu < 0 || r->cpu >= MAX_OPEN)
		return;
	if (t->open_tid[r->cpu] >= 0)
		emit_slice(t, "E", r->cycle, r->cpu, t->open_tid[r->cpu], NULL);
	t->open_tid[r->cpu] = tid;
	emit_slice(t, "B", r->cycle, r->cpu, tid,
		   json_pack("{s:i, s:o}", "vcpu", (int)r->a,
			     "global_ctrl", json_integer((json_int_t)r->b)));
}

static void on_vmexit(struct tstate *t, const struct ref_rec *r)
{
	char name[64];
	struct ref_rec at = *r;

	exit_name(r, name, sizeof(name));
	if (r->cpu >= 0 && r->cpu < MAX_OPEN && t->open_tid[r->cpu] >= 0) {
		at.ctx = t->open_tid[r->cpu];
		emit_slice(t, "E", r->cycle, r->cpu, at.ctx, NULL);
		t->open_tid[r->cpu] = -1;
	}
	emit_instant(t, &at, "vmexit", name,
		     json_pack("{s:i, s:o}", "reason", (int)r->a,
			       "qualification", json_integer((json_int_t)r->b)));
}

/* Counter, selector-free MSRs whose value is worth a track of its own. */
static bool counter_msr(uint32_t msr)
{
	return (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + 8) ||
	       (msr >= MSR_IA32_A_PMC0 && msr < MSR_IA32_A_PMC0 + 8) ||
	       (msr >= MSR_IA32_FIXED_CTR0 && msr < MSR_IA32_FIXED_CTR0 + 4) ||
	       (msr >= MSR_K7_PERFCTR0 && msr < MSR_K7_PERFCTR0 + 4) ||
	       (msr >= MSR_F15H_PERF_CTR0 && msr < MSR_F15H_PERF_CTR0 + 12 &&
		(msr - MSR_F15H_PERF_CTR0) % 2 == 0) ||
	       msr == MSR_IA32_PERF_GLOBAL_CTRL || msr == MSR_AMD_GLOBAL_CTL;
}

static void on_wrmsr(struct tstate *t, const struct ref_rec *r)
{
	char name[32];
	json_int_t v;

	if (r->c || !counter_msr(r->a))
		return;		/* faulted writes changed nothing */
	/* Counters preset to -N read as -N, not as 2^48 - N. */
	if (r->a != MSR_IA32_PERF_GLOBAL_CTRL && r->a != MSR_AMD_GLOBAL_CTL &&
	    (r->b & CTR_SIGN))
		v = (json_int_t)(r->b | ~(CTR_SIGN * 2 - 1));
	else
		v = (json_int_t)(r->b & INT64_MAX);
	snprintf(name, sizeof(name), "msr 0x%x", r->a);
	emit(t, json_pack("{s:s, s:s, s:o, s:i, s:{s:I}}",
			  "name", name, "ph", "C", "ts", ts_of(r->cycle),
			  "pid", pid_of(r), "args", "value", v));
}

static void on_simple(struct tstate *t, const struct ref_rec *r)
{
	char name[64];
	int what = (int)sizeof(r->what);

	switch (r->kind) {
	case TR_PMI:
		emit_instant(t, r, "pmi", "PMI", json_pack("{s:i, s:i}",
			     "vector", (int)r->a, "nmi", (int)r->b));
		break;
	case TR_PMI_DROPPED:
		emit_instant(t, r, "pmi", "PMI dropped", NULL);
		break;
	case TR_IRQ:
		snprintf(name, sizeof(name), "IRQ 0x%x", r->a);
		emit_instant(t, r, "irq", name, NULL);
		break;
	case TR_INJECT:
		snprintf(name, sizeof(name), "inject 0x%x", r->a);
		emit_instant(t, r, "irq", name, NULL);
		break;
	case TR_OVERFLOW:
		emit_instant(t, r, "pmu", "overflow", json_pack("{s:i, s:i}",
			     "status_bit", (int)r->a, "counter", (int)r->b));
		break;
	case TR_PMU_LOAD:
	case TR_PMU_PUT:
		snprintf(name, sizeof(name), "%.*s", what,
			 r->what[0] ? r->what : r->kind == TR_PMU_LOAD ? "load" : "put");
		emit_instant(t, r, r->kind == TR_PMU_LOAD ? "pmu_load" : "pmu_put",
			     name, NULL);
		break;
	case TR_PERF:
		snprintf(name, sizeof(name), "perf %.*s", what, r->what);
		emit_instant(t, r, "perf", name, NULL);
		break;
	case TR_FAULT:
		snprintf(name, sizeof(name), "fault %u %.*s", r->a, what, r->what);
		emit_instant(t, r, "fault", name, NULL);
		break;
	case TR_INVARIANT:
		snprintf(name, sizeof(name), "invariant %u violated", r->a);
		emit_instant(t, r, "invariant", name, NULL);
		break;
	default:
		break;	/* MSR reads, work blocks...: too many to draw */
	}
}

static void on_record(struct tstate *t, const struct ref_rec *r)
{
	if (r->cycle > t->last_cycle)
		t->last_cycle = r->cycle;
	if (r->kind == TR_VMENTRY)
		on_vmentry(t, r);
	else if (r->kind == TR_VMEXIT)
		on_vmexit(t, r);
	else if (r->kind == TR_WRMSR)
		on_wrmsr(t, r);
	else
		on_simple(t, r);
}

static int ref_trace_write(FILE *f, const struct ref_rec *rec, size_t n)
{
	struct tstate t = { .f = f, .first = true };

	for (int i = 0; i < MAX_OPEN; i++)
		t.open_tid[i] = -1;
	if (fputs("{\"traceEvents\": [\n", f) == EOF)
		return -1;
	for (size_t i = 0; i < n; i++)
		on_record(&t, &rec[i]);
	/* A run that ends inside the guest still closes its slice. */
	for (int cpu = 0; cpu < MAX_OPEN; cpu++)
		if (t.open_tid[cpu] >= 0)
			emit_slice(&t, "E", t.last_cycle, cpu, t.open_tid[cpu], NULL);
	if (fputs("\n],\n\"displayTimeUnit\": \"ns\"}\n", f) == EOF)
		return -1;
	return t.err;
}


#endif
