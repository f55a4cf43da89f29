/* sim_truth: ground truth.  For every block of work executed the engine
 * records who executed it (host or a guest, user or kernel mode), how many
 * events of each kind it had, and under which label. */
#ifndef SIM_TRUTH_H
#define SIM_TRUTH_H

#include "mvpmu/events.h"

/* Context 0 is the host; guest vCPU v of VM n is 1 + 4n + v (at most
 * 4 VMs of 4 vCPUs, as scenario.h allows). */
#define SIM_CTX_MAX 17
#define SIM_CTX_GUEST(vm, vcpu) (1 + 4 * (vm) + (vcpu))
/* Every label a scenario can have: 16 segments in each context's program. */
#define SIM_LABEL_MAX (16 * SIM_CTX_MAX)

struct sim_truth {
	uint64_t ev[SIM_CTX_MAX][2][MV_EV_NR];	/* [ctx][kernel][event] */
	const char *label[SIM_LABEL_MAX];
	uint64_t label_ev[SIM_CTX_MAX][SIM_LABEL_MAX][MV_EV_NR];
	unsigned nr_labels;
	unsigned last;			/* index of the label looked up last */
};

void sim_truth_add(struct sim_truth *t, int ctx, bool kernel,
		   const char *label, const uint64_t ev[MV_EV_NR]);
/* Events of kind `ev` executed by `ctx` in the selected modes. */
uint64_t sim_truth_get(const struct sim_truth *t, int ctx, enum mv_event ev,
		       bool user, bool kernel);
/* Index of a label (labels are compared by string), -1 when never seen. */
int sim_truth_label(const struct sim_truth *t, const char *label);

#endif
