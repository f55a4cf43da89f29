/* rc_modes: user mode and SYSCALL.  ufn() runs at CPL 3 (a known
 * sequence, then SYSCALL to the kernel and SYSRET back); counter 0 counts
 * instructions at CPL > 0 only (USR), counter 1 at CPL 0 only (OS);
 * RDPMC at CPL 3 faults without CR4.PCE and works with it (FACTS.md
 * s.1).  The host test compares with the truth per mode and symbol. */
#include "mvpmu-guest.h"

static struct mvg_pmu pmu;
static volatile uint64_t sys_ret, rdpmc_val;
static volatile int rdpmc_fault;

static void ufn(void *arg)
{
	(void)arg;
	sys_ret = mvg_syscall(7, 21);
	rdpmc_fault = mvg_rdpmc_safe(0, (uint64_t *)&rdpmc_val);
}

static uint64_t handler(uint64_t nr, uint64_t a)
{
	return nr * a;
}

int main(void)
{
	uint64_t usr, os;

	mvg_pmu_discover(&pmu);
	mvg_syscall_setup(handler);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_ctrl_msr(&pmu), 3);
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), 0);
	mvg_wrmsr(mvg_ctr_msr(&pmu, 1), 0);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), mvg_ev_insns(&pmu) | MVG_EVTSEL_USR | MVG_EVTSEL_EN);
	mvg_run_user(ufn, NULL);
	mvg_printf("syscall=%lu rdpmc_pce0=%d\n", sys_ret, rdpmc_fault);
	mvg_set_cr4_pce(true);
	mvg_run_user(ufn, NULL);
	mvg_set_cr4_pce(false);
	usr = mvg_rdmsr(mvg_ctr_msr(&pmu, 0));
	mvg_printf("rdpmc_pce1=%d value_ok=%d\n", rdpmc_fault, rdpmc_val > 0 && rdpmc_val < usr);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), mvg_ev_insns(&pmu) | MVG_EVTSEL_USR | MVG_EVTSEL_EN);
	mvg_wrmsr(mvg_sel_msr(&pmu, 1), mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_EN);
	mvg_run_user(ufn, NULL);
	mvg_wrmsr(mvg_sel_msr(&pmu, 1), 0);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	os = mvg_rdmsr(mvg_ctr_msr(&pmu, 1));
	usr = mvg_rdmsr(mvg_ctr_msr(&pmu, 0));
	/* Every user-mode instruction of the program ran while counter 0
	 * counted: usr must equal the truth of user mode (host test). */
	mvg_printf("usr=%lu os_nonzero=%d\n", usr, os > 0);
	return 0;
}
