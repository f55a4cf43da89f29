/* FACTS.md s.2: with PerfCtrExtCore the legacy K7 MSRs PERF_CTL0..3
 * (0xC0010000) and PERF_CTR0..3 (0xC0010004) alias core counters 0..3
 * (0xC0010200 + 2i, 0xC0010201 + 2i): a write through one is read
 * through the other, and a counter enabled through the K7 selector counts
 * in the core counter.  AMD only. */
#include "fact.h"

#define N 1000

int main(void)
{
	char k[48];

	fact_begin("amd_alias");
	if (!pmu.amd || !pmu.perfctr_core)
		return fact_end();
	for (unsigned i = 0; i < 4; i++) {
		uint64_t sel = mvg_ev_branches(&pmu) | MVG_EVTSEL_OS;

		wr(0xC0010004 + i, 0x1111 * (i + 1));
		mvg_snprintf(k, sizeof(k), "ctr%u.core", i);
		check(k, rd(0xC0010201 + 2 * i), 0x1111 * (i + 1));
		wr(0xC0010200 + 2 * i, sel);
		mvg_snprintf(k, sizeof(k), "ctl%u.legacy", i);
		check(k, rd(0xC0010000 + i), sel);
		wr(0xC0010200 + 2 * i, 0);
		wr(0xC0010201 + 2 * i, 0);
		mvg_measure(0xC0010000 + i, sel_on(mvg_ev_insns(&pmu), MVG_EVTSEL_OS), 0, N);
		mvg_snprintf(k, sizeof(k), "ctr%u.counted_via_legacy", i);
		check(k, rd(0xC0010201 + 2 * i), MVG_MEASURE_INSNS(N));
		wr(0xC0010201 + 2 * i, 0);
	}
	return fact_end();
}
