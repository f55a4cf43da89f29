/* FACTS.md s.1/s.3: the PMI goes through LVTPC; on Intel delivering it
 * sets the LVTPC mask bit (the handler must clear it, so a second
 * overflow before that is dropped), on AMD it does not.  A fixed-vector
 * PMI waits for IF = 1 (SDM vol. 3 6.8.1) and is acknowledged by EOI. */
#include "fact.h"

#define VEC 0xE0

static void overflow_after(uint64_t period)
{
	wr(mvg_ctr_msr(&pmu, 0), (0 - period) & width_mask());
	mvg_measure(mvg_sel_msr(&pmu, 0),
		    sel_on(mvg_ev_insns(&pmu), MVG_EVTSEL_OS) | MVG_EVTSEL_INT, 0, 100);
	if (pmu.has_global)
		wr(mvg_global_clr_msr(&pmu), 1);
}

int main(void)
{
	uint32_t masked;

	fact_begin("mask_pmi");
	masked = pmu.intel ? MVG_LVT_MASKED : 0;
	mvg_set_handler(MVG_NMI_VECTOR, on_pmi);
	mvg_lvtpc_set(MVG_LVT_NMI);
	overflow_after(50);
	check("nmi.pmis", pmis, 1);
	check("nmi.lvtpc_in_handler", pmi_lvtpc, MVG_LVT_NMI | masked);
	check("nmi.lvtpc_after", mvg_lvtpc_get(), MVG_LVT_NMI | masked);
	overflow_after(50);	/* not unmasked: Intel drops it */
	check("nmi.second.pmis", pmis, pmu.intel ? 1 : 2);
	mvg_lvtpc_set(MVG_LVT_NMI);
	overflow_after(50);
	check("nmi.unmasked.pmis", pmis, pmu.intel ? 2 : 3);

	/* A fixed vector with IF = 0 stays pending until STI. */
	pmis = 0;
	mvg_set_handler(VEC, on_pmi_vector);
	mvg_lvtpc_set(VEC);
	mvg_cli();
	overflow_after(50);
	check("vector.pmis_if0", pmis, 0);
	mvg_sti();
	__asm__ volatile("nop");
	mvg_cli();
	check("vector.pmis_after_sti", pmis, 1);
	check("vector.lvtpc_in_handler", pmi_lvtpc, VEC | masked);
	mvg_lvtpc_set(MVG_LVT_MASKED);
	quiesce();
	return fact_end();
}
