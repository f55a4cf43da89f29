/* count: the worked example of docs/realcode.md.  It counts the
 * instructions and branches retired by a function of its own (an
 * insertion sort), with RDPMC around the call, and then samples the same
 * function: counter 0 overflows every PERIOD instructions and each
 * overflow PMI (an NMI through the LVTPC) records where it hit.  Build
 * and run it with
 *     make guest SRC=guest/examples/count.c OUT=count.elf
 *     build/mvpmu run --image count.elf --cpu icelake --vpmu mediated
 * and compare what it prints with the report's truth for `isort`. */
#include "mvpmu-guest.h"

#define LEN 200
#define PERIOD 10000

static int data[LEN];
static struct mvg_pmu pmu;
static volatile unsigned samples, in_isort;

/* The function we measure (noinline: it must be a symbol of its own). */
__attribute__((noinline)) void isort(int *a, int n)
{
	for (int i = 1; i < n; i++) {
		int v = a[i], j = i - 1;

		while (j >= 0 && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static void fill(void)
{
	for (int i = 0; i < LEN; i++)
		data[i] = (i * 7919) % LEN;	/* a fixed shuffle */
}

/* The PMI: count it, see whether it hit isort, re-arm the counter, clear
 * the overflow, unmask the LVTPC (Intel masks it on delivery). */
static void pmi(struct mvg_regs *r)
{
	samples++;
	if (r->rip >= (uint64_t)isort && r->rip < (uint64_t)fill)
		in_isort++;
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), (0 - (uint64_t)PERIOD) & ((1ULL << pmu.gp_width) - 1));
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_clr_msr(&pmu), 1);
	mvg_lvtpc_set(MVG_LVT_NMI);
}

int main(void)
{
	uint64_t i0, i1, b0, b1;

	mvg_pmu_discover(&pmu);
	mvg_printf("%s PMU version %u, %u counters of %u bits\n", pmu.intel ? "Intel" : "AMD",
		   pmu.version, pmu.nr_gp, pmu.gp_width);

	/* 1. Count: counter 0 instructions, counter 1 branches, kernel and
	 * user; RDPMC reads them without stopping them. */
	fill();
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR |
		  MVG_EVTSEL_EN);
	mvg_wrmsr(mvg_sel_msr(&pmu, 1), mvg_ev_branches(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR |
		  MVG_EVTSEL_EN);
	i0 = mvg_rdpmc(0);
	b0 = mvg_rdpmc(1);
	isort(data, LEN);
	i1 = mvg_rdpmc(0);
	b1 = mvg_rdpmc(1);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	mvg_wrmsr(mvg_sel_msr(&pmu, 1), 0);
	/* Between the reads: isort, the call's set-up and the RDPMCs in
	 * between (an RDPMC samples before it retires); the report's truth
	 * for the symbol isort is isort alone, summed over both calls. */
	mvg_printf("isort: %lu instructions, %lu branches between the reads\n", i1 - i0, b1 - b0);

	/* 2. Sample: a PMI every PERIOD instructions while isort runs again. */
	fill();
	mvg_set_handler(MVG_NMI_VECTOR, pmi);
	mvg_lvtpc_set(MVG_LVT_NMI);
	mvg_wrmsr(mvg_ctr_msr(&pmu, 0), (0 - (uint64_t)PERIOD) & ((1ULL << pmu.gp_width) - 1));
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), mvg_ev_insns(&pmu) | MVG_EVTSEL_OS | MVG_EVTSEL_USR |
		  MVG_EVTSEL_INT | MVG_EVTSEL_EN);
	isort(data, LEN);
	mvg_wrmsr(mvg_sel_msr(&pmu, 0), 0);
	mvg_printf("sampling every %u instructions: %u PMIs, %u in isort\n", PERIOD, samples,
		   in_isort);
	return samples ? 0 : 1;
}
