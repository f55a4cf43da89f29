/* rc_nmi: a PMI that arrives while the NMI handler runs waits until its
 * IRET (SDM vol. 3 6.7.1: NMIs are blocked until the next IRET), then is
 * taken once: two PMIs, never nested. */
#include "mvpmu-guest.h"

static struct mvg_pmu pmu;
static volatile unsigned pmis, depth, max_depth;

static void nmi(struct mvg_regs *r)
{
	(void)r;
	if (++depth > max_depth)
		max_depth = depth;
	pmis++;
	mvg_lvtpc_set(MVG_LVT_NMI);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_clr_msr(&pmu), 1);
	/* The first PMI re-arms counter 0 to overflow again within this
	 * handler; the second stops it. */
	if (pmis == 1) {
		mvg_wrmsr(mvg_ctr_msr(&pmu, 0), (0 - 5ULL) & ((1ULL << pmu.gp_width) - 1));
		for (volatile int i = 0; i < 20; i++)
			;
	} else {
		mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	}
	depth--;
}

int main(void)
{
	mvg_pmu_discover(&pmu);
	mvg_set_handler(MVG_NMI_VECTOR, nmi);
	mvg_lvtpc_set(MVG_LVT_NMI);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_ctrl_msr(&pmu), 1);
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), (0 - 100ULL) & ((1ULL << pmu.gp_width) - 1));
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_INT |
		  MVG_EVTSEL_EN);
	for (volatile int i = 0; i < 200; i++)
		;
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	mvg_printf("pmis=%u max_depth=%u\n", pmis, max_depth);
	return 0;
}
