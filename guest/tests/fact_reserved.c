/* FACTS.md s.1: PERFEVTSEL reserved bits (63:34 here; KVM's guest mask is
 * 63:32 and 21) #GP on Intel and leave the selector as it was; reserved
 * GLOBAL_CTRL bits #GP.  s.2: on AMD reserved bits (19, 21, 39:36, 63:42)
 * are ignored, not faulted: the write succeeds without them. */
#include "fact.h"

int main(void)
{
	uint32_t sel;
	uint64_t base;

	fact_begin("reserved");
	base = mvg_ev_insns(&pmu) | MVG_EVTSEL_OS;
	sel = mvg_sel_msr(&pmu, 0);
	wr(sel, base);
	if (pmu.intel) {
		fault("sel.bit63", mvg_wrmsr_safe(sel, base | (1ULL << 63)), MVG_GP);
		check("sel.after_bit63", rd(sel), base);
		fault("sel.bit40", mvg_wrmsr_safe(sel, base | (1ULL << 40)), MVG_GP);
		check("sel.after_bit40", rd(sel), base);
		if (pmu.has_global) {
			uint32_t g = mvg_global_ctrl_msr(&pmu);

			fault("global_ctrl.bit31", mvg_wrmsr_safe(g, gp_bits() | (1ULL << 31)), MVG_GP);
			fault("global_ctrl.bit63", mvg_wrmsr_safe(g, gp_bits() | (1ULL << 63)), MVG_GP);
			check("global_ctrl.after", rd(g), gp_bits());
		}
	} else {
		uint64_t rsvd = (1ULL << 19) | (1ULL << 21) | (1ULL << 39) | (1ULL << 63);

		fault("sel.reserved", mvg_wrmsr_safe(sel, base | rsvd), 0);
		check("sel.after_reserved", rd(sel), base);
	}
	wr(sel, 0);
	return fact_end();
}
