/* FACTS.md s.1 counting rule (s.2 for AMD): a GP counter counts when its
 * EN bit and (with global control) its GLOBAL_CTRL bit are set and the
 * privilege matches USR/OS; instructions retired (C0) and branches
 * retired (Intel C4, AMD C2) count exactly (FACTS s.8: the enabling WRMSR
 * is not counted, the disabling one is; guest/lib/measure.S). */
#include "fact.h"

#define N 1000

static void user_count(unsigned i, uint64_t sel, uint64_t *out)
{
	wr(mvg_ctr_msr(&pmu, i), 0);
	wr(mvg_sel_msr(&pmu, i), sel);
	mvg_run_user(mvg_user_loop, (void *)(uint64_t)N);
	wr(mvg_sel_msr(&pmu, i), 0);
	*out = rd(mvg_ctr_msr(&pmu, i));
}

int main(void)
{
	uint64_t insns, br, v;
	char k[48];

	fact_begin("count");
	insns = mvg_ev_insns(&pmu);
	br = mvg_ev_branches(&pmu);
	for (unsigned i = 0; i < pmu.nr_gp; i++) {
		uint64_t both = MVG_EVTSEL_OS | MVG_EVTSEL_USR;

		mvg_snprintf(k, sizeof(k), "gp%u.insns", i);
		check(k, measure_gp(i, sel_on(insns, both), N), MVG_MEASURE_INSNS(N));
		mvg_snprintf(k, sizeof(k), "gp%u.branches", i);
		check(k, measure_gp(i, sel_on(br, both), N), MVG_MEASURE_BRANCHES(N));
		mvg_snprintf(k, sizeof(k), "gp%u.usr_kernel_loop", i);
		check(k, measure_gp(i, sel_on(insns, MVG_EVTSEL_USR), N), 0);
		mvg_snprintf(k, sizeof(k), "gp%u.os_kernel_loop", i);
		check(k, measure_gp(i, sel_on(insns, MVG_EVTSEL_OS), N), MVG_MEASURE_INSNS(N));
		user_count(i, sel_on(insns, MVG_EVTSEL_USR), &v);
		mvg_snprintf(k, sizeof(k), "gp%u.usr_user_loop", i);
		check(k, v, MVG_RUN_USER_LOOP_INSNS(N));
		user_count(i, sel_on(br, MVG_EVTSEL_USR), &v);
		mvg_snprintf(k, sizeof(k), "gp%u.usr_user_branches", i);
		check(k, v, MVG_RUN_USER_LOOP_BRANCHES(N));
		mvg_snprintf(k, sizeof(k), "gp%u.no_en", i);
		check(k, measure_gp(i, insns | both, N), 0);
		if (pmu.has_global) {
			wr(mvg_global_ctrl_msr(&pmu), gp_bits() & ~(1ULL << i));
			mvg_snprintf(k, sizeof(k), "gp%u.no_global", i);
			check(k, measure_gp(i, sel_on(insns, both), N), 0);
			wr(mvg_global_ctrl_msr(&pmu), gp_bits());
		}
	}
	return fact_end();
}
