/* sim_truth: ground-truth bookkeeping of executed work. */
#include <string.h>

#include "sim_truth.h"

int sim_truth_label(const struct sim_truth *t, const char *label)
{
	for (unsigned i = 0; i < t->nr_labels; i++)
		if (strcmp(t->label[i], label) == 0)
			return (int)i;
	return -1;
}

static int label_slot(struct sim_truth *t, const char *label)
{
	int i;

	/* Blocks come in runs of one label: try the last one first. */
	if (t->last < t->nr_labels && t->label[t->last] == label)
		return (int)t->last;
	i = sim_truth_label(t, label);
	if (i >= 0)
		t->last = (unsigned)i;

	if (i >= 0 || t->nr_labels == SIM_LABEL_MAX)
		return i;
	t->label[t->nr_labels] = label;
	return (int)t->nr_labels++;
}

void sim_truth_add(struct sim_truth *t, int ctx, bool kernel,
		   const char *label, const uint64_t ev[MV_EV_NR])
{
	if (ctx < 0 || ctx >= SIM_CTX_MAX)
		return;
	int l = label ? label_slot(t, label) : -1;

	for (int e = 0; e < MV_EV_NR; e++) {
		t->ev[ctx][kernel][e] += ev[e];
		if (l >= 0)
			t->label_ev[ctx][l][e] += ev[e];
	}
}

uint64_t sim_truth_get(const struct sim_truth *t, int ctx, enum mv_event ev,
		       bool user, bool kernel)
{
	if (ctx < 0 || ctx >= SIM_CTX_MAX || (unsigned)ev >= MV_EV_NR)
		return 0;
	return (user ? t->ev[ctx][0][ev] : 0) + (kernel ? t->ev[ctx][1][ev] : 0);
}
