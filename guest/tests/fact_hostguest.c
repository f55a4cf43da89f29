/* FACTS.md s.2 Host/Guest bits (PERF_CTL bit 40 GuestOnly, 41 HostOnly):
 * both clear counts everywhere; with EFER.SVME = 0 a counter with either
 * set does not count; with SVME = 1 HostOnly counts in host mode (this
 * code never enters a guest of its own) and GuestOnly does not.  Where the
 * bits are reserved (a VM without nested SVM: KVM drops them, ignored
 * not faulted) the selector reads back without them and counts as if
 * they were clear.  AMD only. */
#include "fact.h"

#define N 1000
#define GUEST_ONLY (1ULL << 40)
#define HOST_ONLY (1ULL << 41)
#define EFER 0xC0000080
#define SVME (1ULL << 12)

static void one(const char *name, uint64_t hg, bool svme)
{
	uint64_t sel = sel_on(mvg_ev_insns(&pmu), MVG_EVTSEL_OS) | hg;
	uint64_t want, kept;
	char k[48];

	wr(mvg_sel_msr(&pmu, 0), sel);
	kept = rd(mvg_sel_msr(&pmu, 0)) & (GUEST_ONLY | HOST_ONLY);
	wr(mvg_sel_msr(&pmu, 0), 0);
	mvg_snprintf(k, sizeof(k), "%s.kept", name);
	note(k, kept);
	if (!kept)
		want = MVG_MEASURE_INSNS(N);
	else if (!svme)
		want = 0;
	else
		want = (kept & HOST_ONLY) ? MVG_MEASURE_INSNS(N) : 0;
	mvg_snprintf(k, sizeof(k), "%s.count", name);
	check(k, measure_gp(0, sel, N), want);
}

int main(void)
{
	uint64_t efer;

	fact_begin("hostguest");
	if (!pmu.amd)
		return fact_end();
	efer = rd(EFER);
	one("svme0.none", 0, false);
	one("svme0.host", HOST_ONLY, false);
	one("svme0.guest", GUEST_ONLY, false);
	one("svme0.both", HOST_ONLY | GUEST_ONLY, false);
	if (mvg_wrmsr_safe(EFER, efer | SVME) == 0) {
		note("svme", 1);
		one("svme1.host", HOST_ONLY, true);
		one("svme1.guest", GUEST_ONLY, true);
		one("svme1.both", HOST_ONLY | GUEST_ONLY, true);
		wr(EFER, efer);
	} else {
		note("svme", 0);
	}
	quiesce();
	return fact_end();
}
