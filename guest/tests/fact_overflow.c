/* FACTS.md s.1 "Overflow and PMI" (and s.2 for AMD): a counter wraps from
 * 2^width - 1 to 0; the wrap sets its GLOBAL_STATUS bit whether or not
 * INT is set, and raises a PMI only with INT (GP) or the PMI bit (fixed);
 * writing the counter does not clear the status bit, OVF_CTRL /
 * StatusClr does.  A masked LVTPC drops the PMI (the status bit is still
 * set). */
#include "fact.h"

#define P 100
#define N 1000

static uint64_t status(void)
{
	return pmu.has_global ? rd(mvg_global_status_msr(&pmu)) : 0;
}

/* Counter 0 preset to -P counts the N-iteration loop with `extra` in its
 * selector: it ends at MVG_MEASURE_INSNS(N) - P (plus, with a PMI, the
 * NMI handler's own kernel instructions). */
static void run(const char *pfx, uint64_t extra, uint32_t lvtpc, unsigned want_pmis)
{
	char k[48];
	uint64_t c;

	pmis = 0;
	mvg_lvtpc_set(lvtpc);
	wr(mvg_ctr_msr(&pmu, 0), (0 - (uint64_t)P) & width_mask());
	mvg_measure(mvg_sel_msr(&pmu, 0), sel_on(mvg_ev_insns(&pmu), MVG_EVTSEL_OS) | extra, 0, N);
	c = rd(mvg_ctr_msr(&pmu, 0));
	mvg_snprintf(k, sizeof(k), "%s.pmis", pfx);
	check(k, pmis, want_pmis);
	mvg_snprintf(k, sizeof(k), "%s.ctr0", pfx);
	if (want_pmis)
		note(k, c);	/* MVG_MEASURE_INSNS(N) - P + the handler's */
	else
		check(k, c, MVG_MEASURE_INSNS(N) - P);
	if (!pmu.has_global)
		return;
	mvg_snprintf(k, sizeof(k), "%s.status", pfx);
	check(k, status() & 1, 1);
	if (want_pmis) {
		mvg_snprintf(k, sizeof(k), "%s.status_in_handler", pfx);
		check(k, pmi_status & 1, 1);
	}
	wr(mvg_ctr_msr(&pmu, 0), 0);
	mvg_snprintf(k, sizeof(k), "%s.status_after_ctr_write", pfx);
	check(k, status() & 1, 1);
	wr(mvg_global_clr_msr(&pmu), 1);
	mvg_snprintf(k, sizeof(k), "%s.status_after_clear", pfx);
	check(k, status() & 1, 0);
}

/* Fixed counter 0 (instructions) the same way through FIXED_CTR_CTRL. */
static void run_fixed(const char *pfx, uint64_t pmi_bit, unsigned want_pmis)
{
	uint64_t mask = pmu.fixed_width >= 64 ? ~0ULL : (1ULL << pmu.fixed_width) - 1;
	char k[48];
	uint64_t c;

	pmis = 0;
	mvg_lvtpc_set(MVG_LVT_NMI);
	wr(0x309, (0 - (uint64_t)P) & mask);
	wr(mvg_global_ctrl_msr(&pmu), gp_bits() | (1ULL << 32));
	mvg_measure(0x38D, 0x1 | pmi_bit, 0, N);	/* EN = OS */
	c = rd(0x309);
	mvg_snprintf(k, sizeof(k), "%s.pmis", pfx);
	check(k, pmis, want_pmis);
	mvg_snprintf(k, sizeof(k), "%s.fixed0", pfx);
	if (want_pmis)
		note(k, c);
	else
		check(k, c, MVG_MEASURE_INSNS(N) - P);
	mvg_snprintf(k, sizeof(k), "%s.status", pfx);
	check(k, (status() >> 32) & 1, 1);
	wr(mvg_global_clr_msr(&pmu), 1ULL << 32);
	mvg_snprintf(k, sizeof(k), "%s.status_after_clear", pfx);
	check(k, (status() >> 32) & 1, 0);
	wr(mvg_global_ctrl_msr(&pmu), gp_bits());
}

int main(void)
{
	fact_begin("overflow");
	mvg_set_handler(MVG_NMI_VECTOR, on_pmi);
	run("noint", 0, MVG_LVT_NMI, 0);
	run("int", MVG_EVTSEL_INT, MVG_LVT_NMI, 1);
	run("masked", MVG_EVTSEL_INT, MVG_LVT_NMI | MVG_LVT_MASKED, 0);
	if (pmu.intel && (pmu.fixed_exists & 1)) {
		run_fixed("fixed_noint", 0, 0);
		run_fixed("fixed_pmi", 0x8, 1);
	}
	quiesce();
	return fact_end();
}
