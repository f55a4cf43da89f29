/* sim_trace: recording, formatting and hashing of trace records. */
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

void sim_trace_init(struct sim_trace *t, bool keep_all)
{
	memset(t, 0, sizeof(*t));
	t->hash = 0xCBF29CE484222325ULL;	/* FNV-1a offset basis */
	t->keep_all = keep_all;
}

void sim_trace_free(struct sim_trace *t)
{
	free(t->all);
	t->all = NULL;
	t->nr_all = t->cap_all = 0;
}

struct sim_trace_rec *sim_trace_take(struct sim_trace *t, size_t *nr)
{
	struct sim_trace_rec *all = t->all;

	*nr = t->nr_all;
	t->all = NULL;
	t->nr_all = t->cap_all = 0;
	t->keep_all = false;
	return all;
}

int sim_trace_format(const struct sim_trace_rec *r, char *buf, size_t len)
{
	return snprintf(buf, len, "%llu c=%llu cpu=%d ctx=%d %s a=%#x b=%#llx c=%#llx %s",
			(unsigned long long)r->seq, (unsigned long long)r->cycle,
			r->cpu, r->ctx, sim_trace_kind_name(r->kind), r->a,
			(unsigned long long)r->b, (unsigned long long)r->c,
			r->what);
}

static void hash_text(struct sim_trace *t, const char *s, int n)
{
	for (int i = 0; i < n; i++) {
		t->hash ^= (unsigned char)s[i];
		t->hash *= 0x100000001B3ULL;	/* FNV-1a prime */
	}
}

static void keep(struct sim_trace *t, const struct sim_trace_rec *r)
{
	if (t->nr_all == t->cap_all) {
		size_t cap = t->cap_all ? t->cap_all * 2 : 4096;
		struct sim_trace_rec *p = realloc(t->all, cap * sizeof(*p));

		if (!p) {	/* out of memory: stop keeping, the hash goes on */
			t->keep_all = false;
			return;
		}
		t->all = p;
		t->cap_all = cap;
	}
	t->all[t->nr_all++] = *r;
}

void sim_trace_add(struct sim_trace *t, const struct sim_trace_rec *rec)
{
	struct sim_trace_rec r = *rec;
	char line[256];

	r.seq = t->seq++;
	hash_text(t, line, sim_trace_format(&r, line, sizeof(line)));
	t->window[r.seq % SIM_TRACE_WINDOW] = r;
	if (t->keep_all)
		keep(t, &r);
}

size_t sim_trace_tail(const struct sim_trace *t, struct sim_trace_rec *out,
		      size_t n)
{
	if (n > SIM_TRACE_WINDOW)
		n = SIM_TRACE_WINDOW;
	if (n > t->seq)
		n = t->seq;
	for (size_t i = 0; i < n; i++)
		out[i] = t->window[(t->seq - n + i) % SIM_TRACE_WINDOW];
	return n;
}
