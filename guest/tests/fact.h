/* fact.h: the frame of the guest tests of FACTS.md sections 1-2
 * (guest/tests/fact_*.c).  Each prints "name=value" lines (the log the
 * host compares between bare metal and a VM) and checks each value
 * against what the fact says, derived from the PMU that CPUID describes
 * (never from a run); a wrong value adds " FAIL want=..." to its line.
 * The program returns the number of failures: exit status 1 is a pass. */
#ifndef FACT_H
#define FACT_H

#include "mvpmu-guest.h"

static struct mvg_pmu pmu;
static unsigned fails;
static uint64_t global_ctrl_at_entry;	/* as the image found it */

static __attribute__((unused)) void check(const char *name, uint64_t got, uint64_t want)
{
	if (got == want) {
		mvg_printf("%s=0x%lx\n", name, got);
		return;
	}
	mvg_printf("%s=0x%lx FAIL want=0x%lx\n", name, got, want);
	fails++;
}

/* A value the fact does not pin (still logged, for the comparison). */
static __attribute__((unused)) void note(const char *name, uint64_t v)
{
	mvg_printf("%s=0x%lx\n", name, v);
}

static __attribute__((unused)) void fault(const char *name, int got, int want)
{
	static const char *const n[] = { [0] = "ok", [6] = "ud", [13] = "gp" };
	const char *g = got >= 0 && got <= 13 && n[got] ? n[got] : "?";
	const char *w = want >= 0 && want <= 13 && n[want] ? n[want] : "?";

	if (got == want) {
		mvg_printf("%s=%s\n", name, g);
		return;
	}
	mvg_printf("%s=%s FAIL want=%s\n", name, g, w);
	fails++;
}

static __attribute__((unused)) uint64_t rd(uint32_t msr)
{
	uint64_t v = 0;

	if (mvg_rdmsr_safe(msr, &v)) {
		mvg_printf("rdmsr 0x%x faulted FAIL\n", msr);
		fails++;
	}
	return v;
}

static __attribute__((unused)) void wr(uint32_t msr, uint64_t v)
{
	if (mvg_wrmsr_safe(msr, v)) {
		mvg_printf("wrmsr 0x%x <- 0x%lx faulted FAIL\n", msr, v);
		fails++;
	}
}

static __attribute__((unused)) uint64_t width_mask(void)
{
	return pmu.gp_width >= 64 ? ~0ULL : (1ULL << pmu.gp_width) - 1;
}

static __attribute__((unused)) uint64_t gp_bits(void)
{
	return (1ULL << pmu.nr_gp) - 1;
}

/* Everything off, status clear, GP counters globally enabled (their
 * reset value) so a selector's EN alone decides. */
static __attribute__((unused)) void quiesce(void)
{
	for (unsigned i = 0; i < pmu.nr_gp; i++) {
		wr(mvg_sel_msr(&pmu, i), 0);
		wr(mvg_ctr_msr(&pmu, i), 0);
	}
	if (pmu.intel && pmu.version >= 2)
		wr(0x38D, 0);
	if (pmu.has_global) {
		wr(mvg_global_clr_msr(&pmu), rd(mvg_global_status_msr(&pmu)));
		wr(mvg_global_ctrl_msr(&pmu), gp_bits());
	}
}

static __attribute__((unused)) void fact_begin(const char *name)
{
	mvg_pmu_discover(&pmu);
	mvg_printf("fact=%s vendor=%s version=%u nr_gp=%u gp_width=%u nr_fixed=%u\n", name,
		   pmu.intel ? "intel" : "amd", pmu.version, pmu.nr_gp, pmu.gp_width, pmu.nr_fixed);
	if (pmu.has_global)
		global_ctrl_at_entry = rd(mvg_global_ctrl_msr(&pmu));
	quiesce();
}

/* A selector counting `ev` at the given privileges, enabled. */
static __attribute__((unused)) uint64_t sel_on(uint64_t ev, uint64_t priv)
{
	return ev | priv | MVG_EVTSEL_EN;
}

/* Counts n loop iterations on GP counter i with selector `sel`: the
 * selector write enables it, the write of 0 disables it. */
static __attribute__((unused)) uint64_t measure_gp(unsigned i, uint64_t sel, uint64_t n)
{
	wr(mvg_ctr_msr(&pmu, i), 0);
	mvg_measure(mvg_sel_msr(&pmu, i), sel, 0, n);
	return rd(mvg_ctr_msr(&pmu, i));
}

static volatile unsigned pmis;
static volatile uint64_t pmi_lvtpc, pmi_status;

static __attribute__((unused)) void on_pmi(struct mvg_regs *r)
{
	(void)r;
	pmis++;
	pmi_lvtpc = mvg_lvtpc_get();
	pmi_status = pmu.has_global ? rd(mvg_global_status_msr(&pmu)) : 0;
}

static __attribute__((unused)) void on_pmi_vector(struct mvg_regs *r)
{
	on_pmi(r);
	mvg_eoi();
}

static __attribute__((unused)) int fact_end(void)
{
	mvg_printf("result=%s failures=%u\n", fails ? "fail" : "pass", fails);
	return (int)fails;
}

#endif
