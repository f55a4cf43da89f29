/* smoke: the acceptance scenario written with the runtime: count
 * a loop of known length with PERFEVTSEL0, read it with RDPMC, take the
 * #GP of a reserved selector bit (Intel) or see it ignored (AMD), take an
 * overflow PMI as an NMI through the IDT, print, exit 0. */
#include "mvpmu-guest.h"

#define N 1000

static struct mvg_pmu pmu;
static volatile unsigned pmis;
static volatile uint64_t status_in_pmi;

static void nmi(struct mvg_regs *r)
{
	(void)r;
	pmis++;
	if (pmu.has_global) {
		status_in_pmi = mvg_rdmsr(mvg_global_status_msr(&pmu));
		mvg_wrmsr(mvg_global_clr_msr(&pmu), status_in_pmi);
	}
	mvg_lvtpc_set(MVG_LVT_NMI);	/* Intel masks LVTPC on delivery */
}

/* Enables counter 0 with `sel`, runs 1 + 2N + 1 instructions, reads it. */
static uint64_t count_loop(uint64_t sel)
{
	uint32_t lo, hi;

	__asm__ volatile("wrmsr\n\t"
			 "mov %[n], %%ebx\n"
			 "1:\tdec %%ebx\n\t"
			 "jnz 1b\n\t"
			 "xor %%ecx, %%ecx\n\t"
			 "rdpmc"
			 : "=a"(lo), "=d"(hi)
			 : "c"(mvg_sel_msr(&pmu, 0)), "a"((uint32_t)sel), "d"((uint32_t)(sel >> 32)),
			   [n] "i"(N)
			 : "rbx", "memory");
	return ((uint64_t)hi << 32) | lo;
}

int main(void)
{
	uint64_t sel, v, val;
	int f;

	mvg_pmu_discover(&pmu);
	mvg_printf("vendor=%s version=%u gp=%u width=%u\n", pmu.intel ? "intel" : "amd",
		   pmu.version, pmu.nr_gp, pmu.gp_width);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_ctrl_msr(&pmu), 1);
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), 0);
	sel = mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR | MVG_EVTSEL_EN;
	v = count_loop(sel);
	mvg_printf("loop=%lu\n", v);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);

	f = mvg_wrmsr_safe(mvg_sel_msr(&pmu, 0), mvg_ev_insns(&pmu) | (1ULL << 63));
	mvg_rdmsr_safe(mvg_sel_msr(&pmu, 0), &val);
	mvg_printf("reserved=%s sel=%#lx\n", f == MVG_GP ? "gp" : f ? "fault" : "ok", val);

	mvg_set_handler(MVG_NMI_VECTOR, nmi);
	mvg_lvtpc_set(MVG_LVT_NMI);
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), (0 - 1000ULL) & 0xFFFFFFFFFFFFULL);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), sel | MVG_EVTSEL_INT);
	for (volatile int i = 0; i < 2000; i++)
		;
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	mvg_printf("pmis=%u status=%#lx\n", pmis, status_in_pmi);
	return pmis == 1 ? 0 : 1;
}
