/* loop: the real-code loop of `make bench` (guest/bench/loop_body.S) with
 * exact counting: counter 0 counts instructions at every privilege, and
 * the program prints what it counted and the loop's own count. */
#include "mvpmu-guest.h"

#ifndef BENCH_N
#define BENCH_N 4000000ULL
#endif

void bench_loop(uint64_t n);

int main(void)
{
	struct mvg_pmu pmu;
	uint64_t sel, v;

	mvg_pmu_discover(&pmu);
	sel = mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR | MVG_EVTSEL_EN;
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), 0);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), sel);
	bench_loop(BENCH_N);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	v = mvg_rdmsr(mvg_ctr_msr(&pmu, 0));
	mvg_printf("counted=%lu\n", v);
	return 0;
}
