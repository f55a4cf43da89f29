/* FACTS.md s.1: fixed counter i exists iff CPUID.0AH ECX[i] (v5+) or
 * i < EDX[4:0]; it counts when its FIXED_CTR_CTRL field (0 off, 1 OS,
 * 2 USR, 3 both) matches the privilege and GLOBAL_CTRL bit 32+i is set.
 * Fixed 0 counts instructions retired (exactly, as GP counters do); fixed
 * 1 core cycles, fixed 2 reference cycles, at least one per instruction
 * the hardware retires (docs/realcode.md); the
 * MSRs of a counter that does not exist #GP.  Intel v2+. */
#include "fact.h"

#define N 1000

static void user_loop_fixed(unsigned i, uint64_t field, uint64_t *out)
{
	wr(0x309 + i, 0);
	wr(0x38D, field << (4 * i));
	mvg_run_user(mvg_user_loop, (void *)(uint64_t)N);
	wr(0x38D, 0);
	*out = rd(0x309 + i);
}

int main(void)
{
	uint64_t v, all_fixed = 0;
	char k[48];

	fact_begin("fixed");
	if (!pmu.intel || pmu.version < 2)
		return fact_end();
	for (unsigned i = 0; i < 4; i++)
		if ((pmu.fixed_exists >> i) & 1)
			all_fixed |= 1ULL << (32 + i);
	wr(mvg_global_ctrl_msr(&pmu), gp_bits() | all_fixed);
	for (unsigned i = 0; i < 4; i++) {
		if (!((pmu.fixed_exists >> i) & 1)) {
			mvg_snprintf(k, sizeof(k), "fixed%u.write", i);
			fault(k, mvg_wrmsr_safe(0x309 + i, 0), MVG_GP);
			mvg_snprintf(k, sizeof(k), "fixed%u.ctrl", i);
			fault(k, mvg_wrmsr_safe(0x38D, 1ULL << (4 * i)), MVG_GP);
			continue;
		}
		wr(0x309 + i, 0);
		mvg_measure(0x38D, 1ULL << (4 * i), 0, N);	/* OS */
		v = rd(0x309 + i);
		mvg_snprintf(k, sizeof(k), "fixed%u.os", i);
		if (i == 0)
			check(k, v, MVG_MEASURE_INSNS(N));
		else {
			note(k, v);
			/* At least one cycle per instruction the hardware
			 * retired: all of them here but the enabling WRMSR (in
			 * a VM that intercepts both writes, KVM counts the
			 * enabling one as an instruction in software, and no
			 * cycles, and the hardware never sees the disabling). */
			mvg_snprintf(k, sizeof(k), "fixed%u.os_at_least_body", i);
			check(k, v >= MVG_MEASURE_INSNS(N) - 1, 1);
		}
		wr(0x309 + i, 0);
		mvg_measure(0x38D, 2ULL << (4 * i), 0, N);	/* USR: a kernel loop */
		mvg_snprintf(k, sizeof(k), "fixed%u.usr_kernel_loop", i);
		check(k, rd(0x309 + i), 0);
		if (i == 0) {
			user_loop_fixed(0, 2, &v);
			check("fixed0.usr_user_loop", v, MVG_RUN_USER_LOOP_INSNS(N));
		}
		/* Enabled in its field, not in GLOBAL_CTRL. */
		wr(mvg_global_ctrl_msr(&pmu), gp_bits() | (all_fixed & ~(1ULL << (32 + i))));
		wr(0x309 + i, 0);
		mvg_measure(0x38D, 3ULL << (4 * i), 0, N);
		mvg_snprintf(k, sizeof(k), "fixed%u.no_global", i);
		check(k, rd(0x309 + i), 0);
		wr(mvg_global_ctrl_msr(&pmu), gp_bits() | all_fixed);
		wr(0x309 + i, 0);
	}
	quiesce();
	return fact_end();
}
