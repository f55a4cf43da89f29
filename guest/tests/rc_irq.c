/* rc_irq: a PMI on a fixed LVTPC vector waits while RFLAGS.IF is 0 and is
 * taken after the instruction that follows STI (SDM vol. 3 6.8.3, the
 * STI interrupt shadow); it is taken once. */
#include "mvpmu-guest.h"

#define VECTOR 0xF0

static struct mvg_pmu pmu;
static volatile unsigned pmis, pmis_before_sti;
static volatile uint64_t rip;
extern char after_shadow[];

static void pmi(struct mvg_regs *r)
{
	pmis++;
	rip = r->rip;
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_clr_msr(&pmu), 1);
	mvg_lvtpc_set(VECTOR);
	mvg_eoi();
}

int main(void)
{
	mvg_pmu_discover(&pmu);
	mvg_set_handler(VECTOR, pmi);
	mvg_lvtpc_set(VECTOR);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_ctrl_msr(&pmu), 1);
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), (0 - 50ULL) & ((1ULL << pmu.gp_width) - 1));
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_INT |
		  MVG_EVTSEL_EN);
	for (volatile int i = 0; i < 200; i++)	/* the overflow happens here, IF = 0 */
		;
	pmis_before_sti = pmis;
	__asm__ volatile("sti\n\t"
			 "nop\n"
			 ".globl after_shadow\nafter_shadow:\n\t"
			 "nop\n\t"
			 "cli" ::: "memory");
	mvg_printf("before_sti=%u pmis=%u rip_ok=%d\n", pmis_before_sti, pmis,
		   rip == (uint64_t)after_shadow);
	return 0;
}
