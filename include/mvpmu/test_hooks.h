/* mvpmu test-only variants (issue 15): each one breaks, or makes
 * reachable, exactly one thing an invariant check guards, so that tests
 * can show the check fires on the real model.  They are not design knobs
 * (nothing of the real design is undone): no scenario file, option or
 * --knob reaches them; C tests set them in mv_scenario.test, or in
 * sim.test for a machine they build themselves.  All zero: off. */
#ifndef MVPMU_TEST_HOOKS_H
#define MVPMU_TEST_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

struct mv_test_hooks {
	/* perf: exclude_guest events keep accruing enabled time while the
	 * guest context is loaded (breaks invariant 7, time). */
	bool perf_time_in_guest;
	/* perf: guest-including events are not counted against mediated VMs,
	 * so neither refuses the other (breaks invariant 6 at the end of the
	 * run; perf's own per-increment check sees consistent counts). */
	bool perf_no_guest_accounting;
	/* KVM, mediated vPMU: a denied event keeps its hardware enable bit
	 * (breaks invariant 8, filter). */
	bool mediated_filter_keeps_en;
	/* KVM, VMX, legacy vPMU: VM-entry and VM-exit do not switch
	 * GLOBAL_CTRL to perf's guest/host pair (atomic_switch_perf_msrs
	 * forgotten): host exclude_guest events count guest work (breaks
	 * invariant 1, host side). */
	bool vmx_no_perf_global_switch;
	/* KVM: every Nth guest PMI KVM would inject is dropped instead
	 * (breaks invariant 3, no lost PMI).  0: none. */
	uint32_t drop_guest_pmi_every;
	/* The runner: every CPU delivers PMIs this many instructions late,
	 * while the run's checks assume the scenario's skid (breaks the
	 * exactness of invariant 3's rr check).  0: none. */
	uint64_t unreported_skid;
	/* KVM: each VM-exit runs this many host kernel instructions on the
	 * vCPU's CPU before leaving the inner loop (KVM's own handler work,
	 * executed instead of only charged), so host work runs while the
	 * vCPU thread's events are scheduled and the guest's PMU state may
	 * still be loaded.  Breaks nothing in the real design; shows what
	 * exclude_host and GuestOnly prevent.  For 1-CPU runs: the host
	 * truth of a per-CPU event counts host work on CPU 0 only.  0: none. */
	uint64_t exit_host_work;
};

#endif
