/* FACTS.md s.1: a write to IA32_PMCx (0xC1+x) takes EAX, sign-extends it
 * to 64 bits and masks it to the counter width; EDX is ignored.  (Intel;
 * AMD counters take the value as written, masked to 48 bits, s.2.) */
#include "fact.h"

static uint64_t sext32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

int main(void)
{
	static const uint64_t vals[] = {
		0x7FFFFFFFULL, 0x80000000ULL, 0xDEADBEEF00001234ULL, 0x00000001FFFFFFFFULL,
	};
	char k[48];

	fact_begin("legacy");
	for (unsigned i = 0; i < pmu.nr_gp; i++)
		for (unsigned j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
			uint64_t want = pmu.intel ? sext32(vals[j]) : vals[j];

			wr(mvg_ctr_msr(&pmu, i), vals[j]);
			mvg_snprintf(k, sizeof(k), "ctr%u.0x%lx", i, vals[j]);
			check(k, rd(mvg_ctr_msr(&pmu, i)), want & width_mask());
		}
	quiesce();
	return fact_end();
}
