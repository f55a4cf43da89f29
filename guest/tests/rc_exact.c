/* rc_exact: a counter overflow is taken after exactly the instruction or
 * branch that wrapped it (plus the configured skid).  For each k, counter
 * 0 (instructions) or 1 (branches) starts at -k with its interrupt on and
 * the NMI handler records where it interrupted a run of 2-byte
 * instructions; the host test derives the expected positions. */
#include "mvpmu-guest.h"

static struct mvg_pmu pmu;
static volatile uint64_t rip_at;
extern char run_nops[], run_jmps[];

static void nmi(struct mvg_regs *r)
{
	if (!rip_at)
		rip_at = r->rip;
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	mvg_wrmsr(mvg_sel_msr(&pmu, 1), 0);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_clr_msr(&pmu), mvg_rdmsr(mvg_global_status_msr(&pmu)));
	mvg_lvtpc_set(MVG_LVT_NMI);
}

/* 80 two-byte NOPs (66 90), or 80 two-byte JMPs to the next instruction. */
static void go(unsigned ctr, uint64_t event, unsigned k, bool jmps)
{
	uint64_t sel = event | MVG_EVTSEL_OS | MVG_EVTSEL_INT | MVG_EVTSEL_EN;

	rip_at = 0;
	mvg_wrmsr(mvg_ctr_msr(&pmu, ctr), (0 - (uint64_t)k) & ((1ULL << pmu.gp_width) - 1));
	if (jmps)
		__asm__ volatile("wrmsr\n\t"
				 ".globl run_jmps\nrun_jmps:\n\t"
				 ".rept 80\n\tjmp 1f\n1:\n\t.endr"
				 :: "c"(mvg_sel_msr(&pmu, ctr)), "a"((uint32_t)sel), "d"(0) : "memory");
	else
		__asm__ volatile("wrmsr\n\t"
				 ".globl run_nops\nrun_nops:\n\t"
				 ".rept 80\n\t.byte 0x66, 0x90\n\t.endr"
				 :: "c"(mvg_sel_msr(&pmu, ctr)), "a"((uint32_t)sel), "d"(0) : "memory");
	mvg_printf("%s k=%u at=%ld\n", jmps ? "branches" : "insns", k,
		   rip_at ? (long)(rip_at - (uint64_t)(jmps ? run_jmps : run_nops)) / 2 : -1L);
}

int main(void)
{
	static const unsigned ks[] = { 1, 2, 7, 31, 32, 33, 64 };

	mvg_pmu_discover(&pmu);
	mvg_set_handler(MVG_NMI_VECTOR, nmi);
	mvg_lvtpc_set(MVG_LVT_NMI);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_ctrl_msr(&pmu), 3);
	for (unsigned i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		go(0, mvg_ev_insns(&pmu), ks[i], false);
		go(1, mvg_ev_branches(&pmu), ks[i], true);
	}
	return 0;
}
