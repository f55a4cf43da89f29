/* FACTS.md s.1: IA32_A_PMCx (0x4C1+x) exist only with
 * PERF_CAPABILITIES.FW_WRITE (bit 13, read when CPUID.1:ECX.PDCM); the
 * value is taken as written (no sign extension); bits above the width
 * #GP and leave the counter alone.  Intel only. */
#include "fact.h"

int main(void)
{
	char k[48];

	fact_begin("fullwidth");
	note("pdcm", pmu.pdcm);
	note("fw_write", pmu.fw_write);
	if (!pmu.intel)
		return fact_end();
	for (unsigned i = 0; i < pmu.nr_gp; i++) {
		uint32_t a = 0x4C1 + i;

		if (!pmu.fw_write) {
			mvg_snprintf(k, sizeof(k), "a_pmc%u.write", i);
			fault(k, mvg_wrmsr_safe(a, 0), MVG_GP);
			continue;
		}
		mvg_snprintf(k, sizeof(k), "a_pmc%u.write_max", i);
		fault(k, mvg_wrmsr_safe(a, width_mask()), 0);
		mvg_snprintf(k, sizeof(k), "a_pmc%u.read_max", i);
		check(k, rd(a), width_mask());
		mvg_snprintf(k, sizeof(k), "a_pmc%u.write_above_width", i);
		fault(k, mvg_wrmsr_safe(a, width_mask() + 1), MVG_GP);
		mvg_snprintf(k, sizeof(k), "a_pmc%u.after_fault", i);
		check(k, rd(a), width_mask());
		mvg_snprintf(k, sizeof(k), "a_pmc%u.write_0x80000000", i);
		fault(k, mvg_wrmsr_safe(a, 0x80000000ULL), 0);
		mvg_snprintf(k, sizeof(k), "pmc%u.read_0x80000000", i);
		check(k, rd(mvg_ctr_msr(&pmu, i)), 0x80000000ULL);
		wr(a, 0);
	}
	return fact_end();
}
