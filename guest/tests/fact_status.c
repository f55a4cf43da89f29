/* FACTS.md s.1/s.2: GLOBAL_STATUS is read-only (a write #GPs on Intel and
 * is ignored on AMD); OVF_CTRL / StatusClr clears the bits written;
 * STATUS_SET / StatusSet (Intel v4+, AMD PerfMonV2) sets them and reads
 * as 0 under KVM (and here); the reset value of GLOBAL_CTRL has every GP
 * bit set. */
#include "fact.h"

int main(void)
{
	uint32_t st, clr;
	uint64_t bits = 1;

	fact_begin("status");
	if (!pmu.has_global)
		return fact_end();
	check("global_ctrl.reset", global_ctrl_at_entry, gp_bits());
	st = mvg_global_status_msr(&pmu);
	clr = mvg_global_clr_msr(&pmu);
	check("status.initial", rd(st), 0);
	fault("status.write", mvg_wrmsr_safe(st, 1), pmu.intel ? MVG_GP : 0);
	check("status.after_write", rd(st), 0);
	if (!pmu.has_status_set)
		return fact_end();
	if (pmu.intel && (pmu.fixed_exists & 1))
		bits |= 1ULL << 32;
	fault("set.write", mvg_wrmsr_safe(mvg_global_set_msr(&pmu), bits), 0);
	check("status.after_set", rd(st), bits);
	check("set.reads", rd(mvg_global_set_msr(&pmu)), 0);
	wr(clr, 1);
	check("status.after_clear_bit0", rd(st), bits & ~1ULL);
	wr(clr, bits);
	check("status.after_clear", rd(st), 0);
	return fact_end();
}
