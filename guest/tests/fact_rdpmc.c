/* FACTS.md s.1 RDPMC: ECX[15:0] the index, type 0 GP and (Intel) bit 30
 * fixed; an index beyond the enumerated counters or another type (bit 31)
 * is #GP(0); at CPL > 0 with CR4.PCE = 0, #GP; EDX:EAX is the counter
 * masked to its width.  s.2: AMD counters 0..N-1 by index. */
#include "fact.h"

static volatile int user_fault;
static volatile uint64_t user_val;

static void user_rdpmc(void *arg)
{
	uint64_t v = 0;

	(void)arg;
	user_fault = mvg_rdpmc_safe(0, &v);
	user_val = v;
}

int main(void)
{
	char k[48];
	uint64_t v;

	fact_begin("rdpmc");
	for (unsigned i = 0; i < pmu.nr_gp; i++) {
		wr(mvg_ctr_msr(&pmu, i), 0x1234 + i);
		mvg_snprintf(k, sizeof(k), "gp%u", i);
		fault(k, mvg_rdpmc_safe(i, &v), 0);
		mvg_snprintf(k, sizeof(k), "gp%u.value", i);
		check(k, v, 0x1234 + i);
	}
	/* All ones (Intel: EAX = -1 sign-extends) reads back as the width. */
	wr(mvg_ctr_msr(&pmu, 0), ~0ULL);
	mvg_rdpmc_safe(0, &v);
	check("gp0.all_ones", v, width_mask());
	fault("gp_nr_gp", mvg_rdpmc_safe(pmu.nr_gp, &v), MVG_GP);
	fault("gp_0xffff", mvg_rdpmc_safe(0xFFFF, &v), MVG_GP);
	if (pmu.intel) {
		fault("bit31", mvg_rdpmc_safe(1u << 31, &v), MVG_GP);
		for (unsigned i = 0; i < 4 && pmu.version >= 2; i++) {
			int want = (pmu.fixed_exists >> i) & 1 ? 0 : MVG_GP;

			if (!want)
				wr(0x309 + i, 0x5678 + i);
			mvg_snprintf(k, sizeof(k), "fixed%u", i);
			fault(k, mvg_rdpmc_safe((1u << 30) | i, &v), want);
			if (!want) {
				mvg_snprintf(k, sizeof(k), "fixed%u.value", i);
				check(k, v, 0x5678 + i);
				wr(0x309 + i, 0);
			}
		}
		fault("fixed_0xffff", mvg_rdpmc_safe((1u << 30) | 0xFFFF, &v), MVG_GP);
	}
	/* CPL 3 */
	wr(mvg_ctr_msr(&pmu, 0), 0x4242);
	mvg_set_cr4_pce(false);
	mvg_run_user(user_rdpmc, 0);
	fault("cpl3_pce0", user_fault, MVG_GP);
	mvg_set_cr4_pce(true);
	mvg_run_user(user_rdpmc, 0);
	fault("cpl3_pce1", user_fault, 0);
	check("cpl3_pce1.value", user_val, 0x4242);
	mvg_set_cr4_pce(false);
	fault("cpl0_pce0", mvg_rdpmc_safe(0, &v), 0);
	check("cpl0_pce0.value", v, 0x4242);
	quiesce();
	return fact_end();
}
