/* test_kvm_mediated: the mediated vPMU's load/put sequence, write elision,
 * no-leak and ordering invariants, GLOBAL_CTRL handling, intercepts,
 * fastpath, PMI path and filter, checked through the trace and hardware. */
#include "kvm_test.h"

#define EV_INSN_INTEL	0xC0ULL
#define EV_BR_INTEL	0xC4ULL
#define EV_CYC_INTEL	0x3CULL
#define EV_INSN_AMD	0xC0ULL
#define EV_BR_AMD	0xC2ULL
#define GUEST_VEC	0xF0u
#define MSR_TSC_DEADLINE 0x6E0
#define CTR_MASK	X86_MASK(48)

static uint32_t amd_ctl(unsigned i)
{
	return MSR_F15H_PERF_CTL0 + 2 * i;
}

static uint32_t amd_ctr(unsigned i)
{
	return MSR_F15H_PERF_CTR0 + 2 * i;
}

/* ---- trace helpers ---- */

static const struct sim_trace_rec *rec(const struct kt *t, size_t i)
{
	return &t->sim.trace.all[i];
}

static size_t ntr(const struct kt *t)
{
	return t->sim.trace.nr_all;
}

/* First record of `kind` (with step name `what` if given) at or after
 * `from`; ntr() when there is none. */
static size_t find(const struct kt *t, size_t from, enum sim_trace_kind kind,
		   const char *what)
{
	for (size_t i = from; i < ntr(t); i++)
		if (rec(t, i)->kind == (uint32_t)kind &&
		    (!what || !strcmp(rec(t, i)->what, what)))
			return i;
	return ntr(t);
}

/* Like find(), and the record must exist. */
static size_t must_find(const struct kt *t, size_t from, enum sim_trace_kind kind,
			const char *what)
{
	size_t i = find(t, from, kind, what);

	if (i == ntr(t))
		fail_msg("no %s record '%s' after %zu", sim_trace_kind_name(kind),
			 what ? what : "", from);
	return i;
}

/* First WRMSR to `msr` in [from, to), `to` when none. */
static size_t find_wrmsr(const struct kt *t, size_t from, size_t to, uint32_t msr)
{
	for (size_t i = from; i < to; i++)
		if (rec(t, i)->kind == TR_WRMSR && rec(t, i)->a == msr)
			return i;
	return to;
}

/* The next VM-exit with reason `reason`. */
static size_t find_exit(const struct kt *t, size_t from, uint32_t reason)
{
	for (size_t i = from; i < ntr(t); i++)
		if (rec(t, i)->kind == TR_VMEXIT && rec(t, i)->a == reason)
			return i;
	fail_msg("no VM-exit %#x after %zu", reason, from);
	return ntr(t);
}

static unsigned count_kind(const struct kt *t, size_t from, size_t to,
			   enum sim_trace_kind kind)
{
	unsigned n = 0;

	for (size_t i = from; i < to; i++)
		n += rec(t, i)->kind == (uint32_t)kind;
	return n;
}

static bool is_counter_msr(uint32_t msr)
{
	return (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + HW_MAX_GP) ||
	       (msr >= MSR_IA32_A_PMC0 && msr < MSR_IA32_A_PMC0 + HW_MAX_GP) ||
	       (msr >= MSR_IA32_FIXED_CTR0 && msr < MSR_IA32_FIXED_CTR0 + HW_MAX_FIXED) ||
	       (msr >= MSR_K7_PERFCTR0 && msr < MSR_K7_PERFCTR0 + 4) ||
	       (msr >= MSR_F15H_PERF_CTL0 && msr < MSR_F15H_PERF_CTL0 + 2 * HW_MAX_GP &&
		(msr - MSR_F15H_PERF_CTL0) % 2 == 1);
}

static unsigned count_counter_writes(const struct kt *t, size_t from, size_t to)
{
	unsigned n = 0;

	for (size_t i = from; i < to; i++)
		n += rec(t, i)->kind == TR_WRMSR && is_counter_msr(rec(t, i)->a);
	return n;
}

struct seg {
	size_t s[5], entry;
};

static const char *const load_steps[5] = {
	"perf_load_guest_context", "global_ctrl=0", "lvtpc=guest",
	"counters+selectors", "vendor status+enables",
};
static const char *const put_steps[4] = {
	"vendor status+enables", "counters+selectors", "lvtpc=nmi",
	"perf_put_guest_context",
};

/* The next load at or after `from`: its steps in order, then VM-entry. */
static struct seg next_load(const struct kt *t, size_t from)
{
	struct seg sg;
	size_t at = from;

	for (int k = 0; k < 5; k++) {
		sg.s[k] = must_find(t, at, TR_PMU_LOAD, load_steps[k]);
		/* No other load step in between: the order is as given. */
		assert_int_equal(count_kind(t, at, sg.s[k], TR_PMU_LOAD), 0);
		at = sg.s[k] + 1;
	}
	sg.entry = must_find(t, at, TR_VMENTRY, NULL);
	assert_int_equal(count_kind(t, at, sg.entry, TR_PMU_LOAD), 0);
	return sg;
}

/* The next put at or after `from`: its four steps, s[4] = perf's trace. */
static struct seg next_put(const struct kt *t, size_t from)
{
	struct seg sg;
	size_t at = from;

	for (int k = 0; k < 4; k++) {
		sg.s[k] = must_find(t, at, TR_PMU_PUT, put_steps[k]);
		assert_int_equal(count_kind(t, at, sg.s[k], TR_PMU_PUT), 0);
		at = sg.s[k] + 1;
	}
	sg.s[4] = must_find(t, at, TR_PERF, "put guest ctx");
	sg.entry = 0;
	return sg;
}

static void mediated_vm(struct kt *t, const char *model, struct mv_vm_config *cfg)
{
	struct mv_vm_config def = kt_vm_config();

	kt_machine(t, model, true, MV_VPMU_MEDIATED);
	kt_vm(t, cfg ? cfg : &def);
	assert_int_equal(kvm_vm_vpmu(t->vm), MV_VPMU_MEDIATED);
}

static void wr(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	assert_int_equal(mv_wrmsr_safe(g, msr, val), X86_OK);
}

static uint64_t rd(struct mv_guest *g, uint32_t msr)
{
	uint64_t v = 0;

	assert_int_equal(mv_rdmsr_safe(g, msr, &v), X86_OK);
	return v;
}

static void run_user(struct mv_guest *g, uint64_t n)
{
	struct mv_work w = mv_work_make(n, false, "test");

	mv_run(g, &w);
}

static void nothing(struct mv_guest *g, void *arg)
{
	(void)g; (void)arg;
}

/* ---- 1. load and put, step by step ---- */

#define SEL_INSN_USR (EV_INSN_INTEL | EVTSEL_USR | EVTSEL_EN)
/* GLOBAL_CTRL resets with the GP bits only: fixed 0 needs bit 32. */
#define INTEL_GCTL (X86_MASK(8) | X86_BIT(32))

static void intel_program(struct mv_guest *g, void *arg)
{
	(void)arg;
	wr(g, MSR_X2APIC_LVTPC, GUEST_VEC);	/* unmasked, fixed */
	wr(g, MSR_IA32_A_PMC0, 1000);
	wr(g, MSR_IA32_PERFEVTSEL0, SEL_INSN_USR);
	wr(g, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_USR);
	wr(g, MSR_IA32_FIXED_CTR0, 77);
	wr(g, MSR_IA32_PERF_GLOBAL_CTRL, INTEL_GCTL);
	run_user(g, 1000);
}

static void test_load_put_order_intel(void **state)
{
	struct kt t;
	struct seg ld, pt;
	size_t mark, i;

	(void)state;
	mediated_vm(&t, "sapphirerapids", NULL);

	/* First load: nothing of the guest's status to bring in: no OVF_CTRL
	 * or STATUS_SET writes; FIXED_CTR_CTRL is written anyway, with the
	 * hardware view 0 (7.0's intel_mediated_pmu_load writes it always). */
	kt_run(&t, intel_program, NULL);
	ld = next_load(&t, 0);
	assert_int_equal(find_wrmsr(&t, ld.s[4], ld.entry, MSR_IA32_PERF_GLOBAL_OVF_CTRL), ld.entry);
	assert_int_equal(find_wrmsr(&t, ld.s[4], ld.entry, MSR_IA32_PERF_GLOBAL_STATUS_SET), ld.entry);
	i = find_wrmsr(&t, ld.s[4], ld.entry, MSR_IA32_FIXED_CTR_CTRL);
	assert_true(i < ld.entry);
	assert_int_equal(rec(&t, i)->b, 0);
	/* The guest's LVTPC is still the reset value, masked. */
	i = find_wrmsr(&t, ld.s[2], ld.s[3], MSR_X2APIC_LVTPC);
	assert_true(i < ld.s[3]);
	assert_int_equal(rec(&t, i)->b, PERF_GUEST_MEDIATED_PMI_VECTOR | APIC_LVT_MASKED);
	assert_int_equal(t.vcpu->pmu.gp[0].counter, 2000);
	assert_int_equal(t.vcpu->pmu.fixed[0].counter, 1077);
	/* A v2 guest has no STATUS_SET; userspace restores a status bit
	 * (host-initiated write), which the next load brings in. */
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_GLOBAL_STATUS, X86_BIT(1), true),
			 X86_OK);

	mark = ntr(&t);
	kt_run(&t, nothing, NULL);
	ld = next_load(&t, mark);
	/* GLOBAL_CTRL explicitly 0, and nothing else, before the LVTPC. */
	i = find_wrmsr(&t, ld.s[1], ld.s[2], MSR_IA32_PERF_GLOBAL_CTRL);
	assert_true(i < ld.s[2]);
	assert_int_equal(rec(&t, i)->b, 0);
	assert_int_equal(count_kind(&t, ld.s[1], ld.s[2], TR_WRMSR), 1);
	/* LVTPC: the mediated vector, fixed delivery, the guest's (clear) mask. */
	i = find_wrmsr(&t, ld.s[2], ld.s[3], MSR_X2APIC_LVTPC);
	assert_true(i < ld.s[3]);
	assert_int_equal(rec(&t, i)->b, PERF_GUEST_MEDIATED_PMI_VECTOR);
	/* Counter then its selector (the hardware view). */
	i = find_wrmsr(&t, ld.s[3], ld.s[4], MSR_IA32_A_PMC0);
	assert_true(i < ld.s[4]);
	assert_int_equal(rec(&t, i)->b, 2000);
	size_t j = find_wrmsr(&t, ld.s[3], ld.s[4], MSR_IA32_PERFEVTSEL0);

	assert_true(i < j && j < ld.s[4]);
	assert_int_equal(rec(&t, j)->b, t.vcpu->pmu.gp[0].eventsel_hw);
	assert_int_equal(rec(&t, j)->b, SEL_INSN_USR);
	i = find_wrmsr(&t, ld.s[3], ld.s[4], MSR_IA32_FIXED_CTR0);
	assert_true(i < ld.s[4]);
	assert_int_equal(rec(&t, i)->b, 1077);
	/* Vendor: status bit 1 set back through STATUS_SET; nothing to clear;
	 * the fixed enables; GLOBAL_CTRL itself only with VM-entry. */
	i = find_wrmsr(&t, ld.s[4], ld.entry, MSR_IA32_PERF_GLOBAL_STATUS_SET);
	assert_true(i < ld.entry);
	assert_int_equal(rec(&t, i)->b, X86_BIT(1));
	assert_int_equal(find_wrmsr(&t, ld.s[4], ld.entry, MSR_IA32_PERF_GLOBAL_OVF_CTRL), ld.entry);
	i = find_wrmsr(&t, ld.s[4], ld.entry, MSR_IA32_FIXED_CTR_CTRL);
	assert_true(i < ld.entry);
	assert_int_equal(rec(&t, i)->b, FIXED_CTRL_USR);
	assert_int_equal(find_wrmsr(&t, ld.s[4], ld.entry, MSR_IA32_PERF_GLOBAL_CTRL), ld.entry);
	assert_int_equal(rec(&t, ld.entry)->b, INTEL_GCTL);

	/* Put after the HLT exit. */
	pt = next_put(&t, ld.entry);
	/* Vendor: status read, saved, cleared; FIXED_CTR_CTRL 0. */
	i = find_wrmsr(&t, pt.s[0], pt.s[1], MSR_IA32_PERF_GLOBAL_OVF_CTRL);
	assert_true(i < pt.s[1]);
	assert_int_equal(rec(&t, i)->b, X86_BIT(1));
	i = find_wrmsr(&t, pt.s[0], pt.s[1], MSR_IA32_FIXED_CTR_CTRL);
	assert_true(i < pt.s[1]);
	assert_int_equal(rec(&t, i)->b, 0);
	assert_int_equal(t.vcpu->pmu.global_status, X86_BIT(1));
	/* Counters saved through RDPMC (the guest's 8 GP + 3 fixed), and
	 * exactly the non-zero ones zeroed: counter 0, selector 0, fixed 0. */
	assert_int_equal(count_kind(&t, pt.s[1], pt.s[2], TR_RDPMC), 11);
	assert_int_equal(count_kind(&t, pt.s[1], pt.s[2], TR_WRMSR), 3);
	i = find_wrmsr(&t, pt.s[1], pt.s[2], MSR_IA32_A_PMC0);
	assert_true(i < pt.s[2]);
	assert_int_equal(rec(&t, i)->b, 0);
	i = find_wrmsr(&t, pt.s[1], pt.s[2], MSR_IA32_PERFEVTSEL0);
	assert_true(i < pt.s[2]);
	assert_int_equal(rec(&t, i)->b, 0);
	i = find_wrmsr(&t, pt.s[1], pt.s[2], MSR_IA32_FIXED_CTR0);
	assert_true(i < pt.s[2]);
	assert_int_equal(rec(&t, i)->b, 0);
	/* LVTPC back to NMI, then perf's context. */
	i = find_wrmsr(&t, pt.s[2], pt.s[3], MSR_X2APIC_LVTPC);
	assert_true(i < pt.s[3]);
	assert_int_equal(rec(&t, i)->b, APIC_DM_NMI);
	assert_int_equal(t.cpu[0].apic.lvtpc, APIC_DM_NMI);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

#define SEL_AMD_INSN_USR (EV_INSN_AMD | EVTSEL_USR | EVTSEL_EN)

static void amd_program(struct mv_guest *g, void *arg)
{
	(void)arg;
	/* LVTPC left at its masked reset value. */
	wr(g, amd_ctr(0), 1000);
	wr(g, amd_ctl(0), SEL_AMD_INSN_USR);
	wr(g, MSR_AMD_GLOBAL_STATUS_SET, X86_BIT(2));
	run_user(g, 1000);
}

static void test_load_put_order_amd(void **state)
{
	struct kt t;
	struct seg ld, pt;
	size_t mark, i, j;

	(void)state;
	mediated_vm(&t, "zen4", NULL);
	kt_run(&t, amd_program, NULL);
	assert_int_equal(t.vcpu->pmu.gp[0].counter, 2000);

	mark = ntr(&t);
	kt_run(&t, nothing, NULL);
	ld = next_load(&t, mark);
	/* Perf's load left every GLOBAL_CTL bit set; KVM clears it. */
	i = find_wrmsr(&t, ld.s[1], ld.s[2], MSR_AMD_GLOBAL_CTL);
	assert_true(i < ld.s[2]);
	assert_int_equal(rec(&t, i)->b, 0);
	i = find_wrmsr(&t, ld.s[2], ld.s[3], MSR_X2APIC_LVTPC);
	assert_true(i < ld.s[3]);
	assert_int_equal(rec(&t, i)->b, PERF_GUEST_MEDIATED_PMI_VECTOR | APIC_LVT_MASKED);
	i = find_wrmsr(&t, ld.s[3], ld.s[4], amd_ctr(0));
	j = find_wrmsr(&t, ld.s[3], ld.s[4], amd_ctl(0));
	assert_true(i < j && j < ld.s[4]);
	assert_int_equal(rec(&t, i)->b, 2000);
	assert_int_equal(rec(&t, j)->b, SEL_AMD_INSN_USR | AMD_EVTSEL_GUESTONLY);
	/* Vendor: STATUS_SET for the guest's bit, no STATUS_CLR needed, and
	 * GLOBAL_CTL the last write before VMRUN. */
	i = find_wrmsr(&t, ld.s[4], ld.entry, MSR_AMD_GLOBAL_STATUS_SET);
	assert_true(i < ld.entry);
	assert_int_equal(rec(&t, i)->b, X86_BIT(2));
	assert_int_equal(find_wrmsr(&t, ld.s[4], ld.entry, MSR_AMD_GLOBAL_STATUS_CLR), ld.entry);
	i = find_wrmsr(&t, ld.s[4], ld.entry, MSR_AMD_GLOBAL_CTL);
	assert_true(i < ld.entry);
	assert_int_equal(rec(&t, i)->b, X86_MASK(6));
	assert_int_equal(count_kind(&t, i + 1, ld.entry, TR_WRMSR), 0);

	pt = next_put(&t, ld.entry);
	/* Vendor: GLOBAL_CTL 0 first, then status saved and cleared. */
	i = find(&t, pt.s[0], TR_WRMSR, NULL);
	assert_true(i < pt.s[1]);
	assert_int_equal(rec(&t, i)->a, MSR_AMD_GLOBAL_CTL);
	assert_int_equal(rec(&t, i)->b, 0);
	j = find_wrmsr(&t, pt.s[0], pt.s[1], MSR_AMD_GLOBAL_STATUS_CLR);
	assert_true(i < j && j < pt.s[1]);
	assert_int_equal(rec(&t, j)->b, X86_BIT(2));
	assert_int_equal(t.vcpu->pmu.global_status, X86_BIT(2));
	assert_int_equal(count_kind(&t, pt.s[1], pt.s[2], TR_RDPMC), 6);
	assert_int_equal(count_kind(&t, pt.s[1], pt.s[2], TR_WRMSR), 2);
	i = find_wrmsr(&t, pt.s[1], pt.s[2], amd_ctr(0));
	assert_true(i < pt.s[2]);
	assert_int_equal(rec(&t, i)->b, 0);
	i = find_wrmsr(&t, pt.s[1], pt.s[2], amd_ctl(0));
	assert_true(i < pt.s[2]);
	assert_int_equal(rec(&t, i)->b, 0);
	i = find_wrmsr(&t, pt.s[2], pt.s[3], MSR_X2APIC_LVTPC);
	assert_true(i < pt.s[3]);
	assert_int_equal(rec(&t, i)->b, APIC_DM_NMI);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

/* ---- 2. counter writes elided when equal ---- */

static void set_pmc1(struct mv_guest *g, void *arg)
{
	(void)arg;
	wr(g, MSR_IA32_A_PMC0 + 1, 5);
}

static void test_write_elision(void **state)
{
	struct kt t;
	struct seg ld;
	size_t mark, i;

	(void)state;
	mediated_vm(&t, "sapphirerapids", NULL);
	kt_run(&t, set_pmc1, NULL);
	/* Every guest counter holds 0 but counter 1: one write, to it. */
	mark = ntr(&t);
	kt_run(&t, nothing, NULL);
	ld = next_load(&t, mark);
	assert_int_equal(count_counter_writes(&t, ld.s[3], ld.s[4]), 1);
	i = find_wrmsr(&t, ld.s[3], ld.s[4], MSR_IA32_A_PMC0 + 1);
	assert_true(i < ld.s[4]);
	assert_int_equal(rec(&t, i)->b, 5);

	/* Without elision every counter is written (the guest's 8 GP + 3
	 * fixed: 7.0 gives no guest fixed counter 3). */
	kvm_knobs(t.kvm)->no_write_elision = true;
	mark = ntr(&t);
	kt_run(&t, nothing, NULL);
	ld = next_load(&t, mark);
	assert_int_equal(count_counter_writes(&t, ld.s[3], ld.s[4]), 11);
	kvm_knobs(t.kvm)->no_write_elision = false;

	/* The comparison is with the hardware: left in place by put (knob),
	 * the 5 is not written again. */
	kvm_knobs(t.kvm)->no_counter_clear_on_put = true;
	kt_run(&t, nothing, NULL);
	assert_int_equal(t.cpu[0].pmu.gp_ctr[1], 5);
	mark = ntr(&t);
	kt_run(&t, nothing, NULL);
	ld = next_load(&t, mark);
	assert_int_equal(count_counter_writes(&t, ld.s[3], ld.s[4]), 0);
	kt_teardown(&t);
}

/* ---- 3. nothing left after put ---- */

static void program_all(struct mv_guest *g, void *arg)
{
	const struct kt *t = arg;
	bool intel = t->cpu[0].model->vendor == HW_INTEL;

	for (unsigned i = 0; i < t->cpu[0].model->nr_gp; i++) {
		wr(g, intel ? MSR_IA32_A_PMC0 + i : amd_ctr(i), 100 + i);
		wr(g, intel ? MSR_IA32_PERFEVTSEL0 + i : amd_ctl(i),
		   EV_INSN_INTEL | EVTSEL_USR | EVTSEL_OS | EVTSEL_EN);
	}
	if (intel) {
		/* Every fixed counter the guest has (3 in 7.0). */
		unsigned nf = t->vcpu->pmu.nr_fixed;

		for (unsigned i = 0; i < nf; i++)
			wr(g, MSR_IA32_FIXED_CTR0 + i, 10 + i);
		wr(g, MSR_IA32_FIXED_CTR_CTRL, 0x3333 & X86_MASK(4 * nf));
		wr(g, MSR_IA32_PERF_GLOBAL_CTRL, X86_MASK(8) | (X86_MASK(nf) << 32));
	}
	run_user(g, 500);
}

static void assert_pmu_clean(const struct kt *t)
{
	const struct hw_pmu *p = &t->cpu[0].pmu;

	for (unsigned i = 0; i < HW_MAX_GP; i++) {
		assert_int_equal(p->gp_ctr[i], 0);
		assert_int_equal(p->gp_sel[i], 0);
	}
	for (unsigned i = 0; i < HW_MAX_FIXED; i++)
		assert_int_equal(p->fixed_ctr[i], 0);
	assert_int_equal(p->fixed_ctrl, 0);
}

static void no_leak(const char *model)
{
	struct kt t;

	mediated_vm(&t, model, NULL);
	kt_run(&t, program_all, &t);
	assert_int_equal(t.vcpu->pmu.gp[0].counter, 600);
	assert_pmu_clean(&t);
	assert_true(t.sim.inv_checked_by[INV_NO_LEAK] > 0);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);

	/* The check can fail: without the clearing it reports a leak. */
	mediated_vm(&t, model, NULL);
	kvm_knobs(t.kvm)->no_counter_clear_on_put = true;
	kt_run(&t, program_all, &t);
	assert_true(t.sim.inv_violated > 0);
	assert_true(t.sim.nr_violations > 0);
	assert_int_equal(t.sim.violations[0].inv, INV_NO_LEAK);
	kt_teardown(&t);
}

static void test_no_leak_intel(void **state)
{
	(void)state;
	no_leak("sapphirerapids");
}

static void test_no_leak_amd(void **state)
{
	(void)state;
	no_leak("zen4");
}

/* ---- 4. GLOBAL_CTRL cleared at load (zen4) ---- */

static void test_global_ctrl_clear_on_load(void **state)
{
	struct kt t;

	(void)state;
	mediated_vm(&t, "zen4", NULL);
	kt_run(&t, amd_program, NULL);
	assert_true(t.sim.inv_checked_by[INV_ORDERING] > 0);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);

	mediated_vm(&t, "zen4", NULL);
	kvm_knobs(t.kvm)->no_global_ctrl_clear_on_load = true;
	kt_run(&t, amd_program, NULL);
	assert_true(t.sim.inv_violated > 0);
	assert_int_equal(t.sim.violations[0].inv, INV_ORDERING);
	kt_teardown(&t);
}

/* The switch checks its writes of a counter's own MSRs (pmc->msr[])
 * without asking kvm_is_guest_state_msr (kvm_check_switch_state_write):
 * that is the same check only while every such MSR is guest state, on
 * every model, with and without fixed-counter-3. */
static void test_pmc_msrs_are_guest_state(void **state)
{
	(void)state;
	for (size_t m = 0; m < hw_nr_models; m++) {
		for (int fc3 = 0; fc3 < 2; fc3++) {
			struct kvm_params params = kt_params(MV_VPMU_MEDIATED);
			struct mv_vm_config cfg = kt_vm_config();
			struct kt t;
			const struct kvm_pmu *pmu;

			params.patches = fc3 ? MV_PATCH_FIXED_COUNTER_3 : 0;
			kt_machine_model(&t, &hw_models[m], false, &params);
			kt_vm(&t, &cfg);
			pmu = &t.vcpu->pmu;
			assert_true(pmu->nr_gp > 0);
			for (unsigned i = 0; i < pmu->nr_gp; i++) {
				assert_true(kvm_is_guest_state_msr(pmu->gp[i].msr[0]));
				assert_true(kvm_is_guest_state_msr(pmu->gp[i].msr[1]));
			}
			for (unsigned i = 0; i < pmu->nr_fixed; i++)
				assert_true(kvm_is_guest_state_msr(pmu->fixed[i].msr[0]));
			kt_teardown(&t);
		}
	}
}

/* ---- 5. GLOBAL_CTRL around VM-entry/exit ---- */

struct gctl_arg {
	uint32_t ctl_msr, sel_msr, ctr_msr;
	uint64_t sel;
	uint64_t after_off, after_on;
};

/* The guest disables its counter through the passed-through GLOBAL_CTRL,
 * exits, and runs: if KVM did not read the write back, the next entry
 * would restore the old enables and the counter would count. */
static void gctl_guest(struct mv_guest *g, void *arg)
{
	struct gctl_arg *a = arg;
	uint32_t r[4];

	wr(g, a->sel_msr, a->sel);
	wr(g, a->ctl_msr, 0);
	mv_cpuid(g, 0, 0, r);
	run_user(g, 1000);
	a->after_off = rd(g, a->ctr_msr);
	wr(g, a->ctl_msr, 1);
	mv_cpuid(g, 0, 0, r);
	run_user(g, 500);
	a->after_on = rd(g, a->ctr_msr);
}

/* A mediated VM on a host offering `patches`. */
static void mediated_vm_patched(struct kt *t, const char *model, uint32_t patches)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kvm_params params = kt_params(MV_VPMU_MEDIATED);

	params.patches = patches;
	kt_machine_params(t, model, true, &params);
	kt_vm(t, &cfg);
	assert_int_equal(kvm_vm_vpmu(t->vm), MV_VPMU_MEDIATED);
}

/* GLOBAL_CTRL passed through (a skylake-shaped host, or Ice Lake and later
 * with the fixed-counter-3 proposal) or intercepted (7.0 on Ice Lake and
 * later): either way the guest's writes take effect. */
static void vmx_global_ctrl(const char *model, uint32_t patches, bool save_ctl, bool pass)
{
	struct kt t;
	struct gctl_arg a = {
		.ctl_msr = MSR_IA32_PERF_GLOBAL_CTRL, .sel_msr = MSR_IA32_PERFEVTSEL0,
		.ctr_msr = MSR_IA32_PMC0, .sel = SEL_INSN_USR,
	};
	bool found = false;
	uint64_t before;

	mediated_vm_patched(&t, model, patches);
	assert_int_equal(hw_vmx_msr_exits(&t.vcpu->vmcs, MSR_IA32_PERF_GLOBAL_CTRL, true), !pass);
	before = t.kvm->exits[KVM_EXIT_MSR_WRITE];
	kt_run(&t, gctl_guest, &a);
	/* The selector write exits either way; the two GLOBAL_CTRL writes
	 * only when intercepted. */
	assert_int_equal(t.kvm->exits[KVM_EXIT_MSR_WRITE] - before, pass ? 1 : 3);
	assert_int_equal(a.after_off, 0);
	assert_int_equal(a.after_on, 500);
	assert_int_equal(t.vcpu->pmu.global_ctrl, 1);
	/* Entry loads the guest's, exit loads the host's 0. */
	assert_true(t.vcpu->vmcs.entry_ctls & VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL);
	assert_true(t.vcpu->vmcs.exit_ctls & VMX_EXIT_LOAD_PERF_GLOBAL_CTRL);
	assert_int_equal(t.vcpu->vmcs.host_perf_global_ctrl, 0);
	assert_int_equal(!!(t.vcpu->vmcs.exit_ctls & VMX_EXIT_SAVE_PERF_GLOBAL_CTRL), save_ctl);
	hw_msr_list_get(&t.vcpu->vmcs.exit_store, MSR_IA32_PERF_GLOBAL_CTRL, &found);
	assert_int_equal(found, !save_ctl);
	/* Every exit leaves GLOBAL_CTRL 0; entries carry 0xFF, then 0, then 1. */
	unsigned entries = 0;

	for (size_t i = 0; i < ntr(&t); i++) {
		const struct sim_trace_rec *r = rec(&t, i);

		if (r->kind == TR_VMEXIT)
			assert_int_equal(r->c, 0);
		if (r->kind == TR_VMENTRY)
			entries++;
	}
	assert_true(entries >= 3);
	size_t cpuid = find_exit(&t, 0, VMX_EXIT_CPUID);

	assert_int_equal(rec(&t, must_find(&t, cpuid, TR_VMENTRY, NULL))->b, 0);
	cpuid = find_exit(&t, cpuid + 1, VMX_EXIT_CPUID);
	assert_int_equal(rec(&t, must_find(&t, cpuid, TR_VMENTRY, NULL))->b, 1);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void test_vmx_global_ctrl_save(void **state)
{
	(void)state;
	vmx_global_ctrl("sapphirerapids", MV_PATCH_FIXED_COUNTER_3, true, true);
	vmx_global_ctrl("sapphirerapids", 0, true, false);
}

static void test_vmx_global_ctrl_store_list(void **state)
{
	(void)state;
	vmx_global_ctrl("skylake", 0, false, true);
	vmx_global_ctrl("icelake", MV_PATCH_FIXED_COUNTER_3, false, true);
	vmx_global_ctrl("icelake", 0, false, false);
}

struct svm_arg {
	struct kt *t;
	uint64_t hw_sel, readback, count;
};

static void svm_hostonly(struct mv_guest *g, void *arg)
{
	struct svm_arg *a = arg;

	/* HostOnly (bit 41) is reserved for the guest: ignored. */
	wr(g, amd_ctl(0), SEL_AMD_INSN_USR | AMD_EVTSEL_HOSTONLY);
	a->hw_sel = a->t->cpu[0].pmu.gp_sel[0];
	a->readback = rd(g, amd_ctl(0));
	run_user(g, 1000);
	a->count = rd(g, amd_ctr(0));
}

static void test_svm_guestonly(void **state)
{
	struct kt t;
	struct svm_arg a = { .t = &t };

	(void)state;
	mediated_vm(&t, "zen4", NULL);
	kt_run(&t, svm_hostonly, &a);
	assert_true(a.hw_sel & AMD_EVTSEL_GUESTONLY);
	assert_false(a.hw_sel & AMD_EVTSEL_HOSTONLY);
	assert_true(a.hw_sel & EVTSEL_EN);
	assert_false(a.readback & AMD_EVTSEL_HOSTONLY);
	assert_int_equal(a.count, 1000);
	assert_int_equal(t.sim.inv_violated, 0);
	/* Where HostOnly is not reserved (a nested-SVM guest), the hardware
	 * view still drops it and forces GuestOnly. */
	struct kvm_pmc *pmc = &t.vcpu->pmu.gp[1];
	uint64_t hw;

	pmc->eventsel = SEL_AMD_INSN_USR | AMD_EVTSEL_HOSTONLY;
	hw = t.kvm->pmu_ops->pmc_eventsel_hw(t.vcpu, pmc);
	assert_int_equal(hw, SEL_AMD_INSN_USR | AMD_EVTSEL_GUESTONLY);
	kt_teardown(&t);
}

static void test_svm_global_ctl_readback(void **state)
{
	struct kt t;
	struct gctl_arg a = {
		.ctl_msr = MSR_AMD_GLOBAL_CTL, .sel_msr = amd_ctl(0),
		.ctr_msr = amd_ctr(0), .sel = SEL_AMD_INSN_USR,
	};

	(void)state;
	mediated_vm(&t, "zen4", NULL);
	assert_false(hw_svm_msr_exits(&t.vcpu->vmcb, MSR_AMD_GLOBAL_CTL, true));
	kt_run(&t, gctl_guest, &a);
	assert_int_equal(a.after_off, 0);
	assert_int_equal(a.after_on, 500);
	assert_int_equal(t.vcpu->pmu.global_ctrl, 1);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

/* ---- 6. intercepts and RDPMC ---- */

static bool exits(struct kt *t, uint32_t msr)
{
	bool r = t->kvm->x86->msr_exits(t->vcpu, msr, false);
	bool w = t->kvm->x86->msr_exits(t->vcpu, msr, true);

	assert_int_equal(r, w);	/* the PMU intercepts reads and writes alike */
	return r;
}

static const uint32_t intel_globals[] = {
	MSR_IA32_PERF_GLOBAL_CTRL, MSR_IA32_PERF_GLOBAL_STATUS,
	MSR_IA32_PERF_GLOBAL_OVF_CTRL, MSR_IA32_PERF_GLOBAL_STATUS_SET,
};

static const uint32_t amd_globals[] = {
	MSR_AMD_GLOBAL_CTL, MSR_AMD_GLOBAL_STATUS,
	MSR_AMD_GLOBAL_STATUS_CLR, MSR_AMD_GLOBAL_STATUS_SET,
};

/* The guest as 7.0 shapes it on `model` (and `patches`): counters pass
 * through; the global MSRs but STATUS_SET and RDPMC only when the guest
 * has as many GP and fixed counters as perf reports for the host. */
static void host_shape(const char *model, uint32_t patches, unsigned gp, unsigned fixed,
		       bool pass_globals)
{
	struct kt t;

	mediated_vm_patched(&t, model, patches);
	assert_int_equal(t.vcpu->pmu.version, 2);
	assert_int_equal(t.vcpu->pmu.nr_gp, gp);
	assert_int_equal(t.vcpu->pmu.nr_fixed, fixed);
	for (unsigned i = 0; i < HW_MAX_GP; i++) {
		assert_int_equal(exits(&t, MSR_IA32_PMC0 + i), i >= gp);
		assert_int_equal(exits(&t, MSR_IA32_A_PMC0 + i), i >= gp);
		assert_true(exits(&t, MSR_IA32_PERFEVTSEL0 + i));
	}
	for (unsigned i = 0; i < HW_MAX_FIXED; i++)
		assert_int_equal(exits(&t, MSR_IA32_FIXED_CTR0 + i), i >= fixed);
	assert_true(exits(&t, MSR_IA32_FIXED_CTR_CTRL));
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(exits(&t, intel_globals[i]), !pass_globals);
	assert_true(exits(&t, MSR_IA32_PERF_GLOBAL_STATUS_SET));	/* never passed */
	assert_int_equal(t.kvm->x86->rdpmc_exits(t.vcpu), !pass_globals);
	assert_int_equal(t.vcpu->pmu.passthrough_global, pass_globals);
	assert_int_equal(t.vcpu->pmu.passthrough_rdpmc, pass_globals);
	kt_teardown(&t);
}

static void test_intercepts_intel_host_shape(void **state)
{
	(void)state;
	/* perf reports 4 fixed counters on Ice Lake and Sapphire Rapids; 7.0
	 * gives the guest 3: GLOBAL_CTRL/STATUS/OVF_CTRL and RDPMC exit. */
	host_shape("sapphirerapids", 0, 8, 3, false);
	host_shape("icelake", 0, 8, 3, false);
	/* Skylake has 3: a full-count guest gets them passed through. */
	host_shape("skylake", 0, 4, 3, true);
	/* The Feb 2026 proposal gives the fourth: passed through again. */
	host_shape("sapphirerapids", MV_PATCH_FIXED_COUNTER_3, 8, 4, true);
	host_shape("icelake", MV_PATCH_FIXED_COUNTER_3, 8, 4, true);
	host_shape("skylake", MV_PATCH_FIXED_COUNTER_3, 4, 3, true);
}

struct rdpmc_arg {
	int fault_rdpmc, fault_rdmsr;
	uint64_t exits_before, exits_after;
	struct kt *t;
};

static void rdpmc_beyond(struct mv_guest *g, void *arg)
{
	struct rdpmc_arg *a = arg;
	uint64_t v;

	a->exits_before = a->t->kvm->exits[KVM_EXIT_RDPMC];
	a->fault_rdpmc = mv_rdpmc_safe(g, 5, &v);
	a->exits_after = a->t->kvm->exits[KVM_EXIT_RDPMC];
	a->fault_rdmsr = mv_rdmsr_safe(g, MSR_IA32_PMC0 + 5, &v);
}

static void test_intercepts_intel_fewer_gp(void **state)
{
	struct kt t;
	struct mv_vm_config cfg = kt_vm_config();
	struct rdpmc_arg a = { .t = &t };

	(void)state;
	/* Skylake, where a full-count guest gets the globals: two GP of four
	 * take them away. */
	cfg.nr_gp = 2;
	mediated_vm(&t, "skylake", &cfg);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(exits(&t, MSR_IA32_PMC0 + i), i >= 2);
		assert_int_equal(exits(&t, MSR_IA32_A_PMC0 + i), i >= 2);
		assert_true(exits(&t, MSR_IA32_PERFEVTSEL0 + i));
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(exits(&t, MSR_IA32_FIXED_CTR0 + i), i >= 3);
		assert_true(exits(&t, intel_globals[i]));
	}
	assert_true(t.kvm->x86->rdpmc_exits(t.vcpu));
	kt_run(&t, rdpmc_beyond, &a);
	assert_int_equal(a.fault_rdpmc, X86_GP);
	assert_int_equal(a.exits_after, a.exits_before + 1);
	assert_int_equal(a.fault_rdmsr, X86_GP);
	kt_teardown(&t);

	cfg = kt_vm_config();
	cfg.nr_fixed = 2;
	mediated_vm(&t, "skylake", &cfg);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(exits(&t, MSR_IA32_FIXED_CTR0 + i), i >= 2);
		assert_true(exits(&t, intel_globals[i]));
	}
	assert_true(t.kvm->x86->rdpmc_exits(t.vcpu));
	kt_teardown(&t);
}

struct fw_arg {
	int full_fault, legacy_fault;
	uint64_t legacy_val;
};

static void fw_guest(struct mv_guest *g, void *arg)
{
	struct fw_arg *a = arg;

	a->full_fault = mv_wrmsr_safe(g, MSR_IA32_A_PMC0, 1);
	a->legacy_fault = mv_wrmsr_safe(g, MSR_IA32_PMC0, 0x1234);
	a->legacy_val = rd(g, MSR_IA32_PMC0);
}

static void test_intercepts_intel_no_fw_write(void **state)
{
	struct kt t;
	struct mv_vm_config cfg = kt_vm_config();
	struct fw_arg a = { 0 };

	(void)state;
	cfg.perf_caps = 0;
	/* Skylake: a full-count guest, so only FW_WRITE decides here. */
	mediated_vm(&t, "skylake", &cfg);
	for (unsigned i = 0; i < 4; i++) {
		assert_true(exits(&t, MSR_IA32_A_PMC0 + i));
		assert_false(exits(&t, MSR_IA32_PMC0 + i));
	}
	assert_false(t.kvm->x86->rdpmc_exits(t.vcpu));
	kt_run(&t, fw_guest, &a);
	assert_int_equal(a.full_fault, X86_GP);
	assert_int_equal(a.legacy_fault, X86_OK);
	assert_int_equal(a.legacy_val, 0x1234);
	kt_teardown(&t);
}

static void test_intercepts_recalc_perf_caps(void **state)
{
	struct kt t;

	(void)state;
	mediated_vm(&t, "sapphirerapids", NULL);
	assert_false(exits(&t, MSR_IA32_A_PMC0));
	/* Host-initiated write before the first KVM_RUN. */
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES, 0, true), X86_OK);
	for (unsigned i = 0; i < 8; i++) {
		assert_true(exits(&t, MSR_IA32_A_PMC0 + i));
		assert_false(exits(&t, MSR_IA32_PMC0 + i));
	}
	assert_int_equal(kvm_pmu_set_msr(t.vcpu, MSR_IA32_PERF_CAPABILITIES,
					 PERF_CAP_FW_WRITE, true), X86_OK);
	for (unsigned i = 0; i < 8; i++)
		assert_false(exits(&t, MSR_IA32_A_PMC0 + i));
	kt_teardown(&t);
}

static void test_intercepts_amd(void **state)
{
	struct kt t;
	struct mv_vm_config cfg = kt_vm_config();

	(void)state;
	mediated_vm(&t, "zen4", NULL);
	for (unsigned i = 0; i < 6; i++) {
		assert_false(exits(&t, amd_ctr(i)));
		assert_true(exits(&t, amd_ctl(i)));
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_false(exits(&t, MSR_K7_PERFCTR0 + i));
		assert_true(exits(&t, MSR_K7_EVNTSEL0 + i));
		assert_false(exits(&t, amd_globals[i]));
	}
	assert_false(t.kvm->x86->rdpmc_exits(t.vcpu));
	kt_teardown(&t);

	/* Five counters: the sixth exits, so do the globals and RDPMC. */
	cfg.nr_gp = 5;
	mediated_vm(&t, "zen4", &cfg);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(exits(&t, amd_ctr(i)), i >= 5);
	for (unsigned i = 0; i < 4; i++)
		assert_true(exits(&t, amd_globals[i]));
	assert_true(t.kvm->x86->rdpmc_exits(t.vcpu));
	kt_teardown(&t);
}

/* Four counters: the guest has no PerfCtrExtCore, so the 0xC0010200
 * range does not exist for it: it must exit (and #GP), not reach the
 * hardware. */
static void ext_core_guest(struct mv_guest *g, void *arg)
{
	int *fault = arg;
	uint64_t v;

	*fault = mv_rdmsr_safe(g, amd_ctr(0), &v);
}

static void test_intercepts_amd_legacy_only(void **state)
{
	struct kt t;
	struct mv_vm_config cfg = kt_vm_config();
	int fault = X86_OK;
	uint32_t r[4] = { 0 };

	(void)state;
	cfg.nr_gp = 4;
	mediated_vm(&t, "zen4", &cfg);
	kvm_pmu_cpuid(t.vcpu, 0x80000001, r);
	assert_false(r[2] & CPUID_80000001_ECX_PERFCTR_CORE);
	for (unsigned i = 0; i < 4; i++)
		assert_false(exits(&t, MSR_K7_PERFCTR0 + i));
	for (unsigned i = 0; i < 6; i++)
		assert_true(exits(&t, amd_ctr(i)));
	kt_run(&t, ext_core_guest, &fault);
	assert_int_equal(fault, X86_GP);
	kt_teardown(&t);
}

/* Where the cycles go (docs/costs.md): every cycle is in exactly one time
 * bucket; an access the guest makes straight to the hardware (a counter
 * passed through) is guest time, all of it; one that exits is the
 * transition's and KVM's, none of it the guest's. */
struct bucket_probe {
	struct kt *t;
	uint32_t msr;
	uint64_t d[SIM_T_NR], cycles;
};

static void bucket_reads(struct mv_guest *g, void *arg)
{
	struct bucket_probe *p = arg;
	const struct sim *sim = &p->t->sim;
	uint64_t t0[SIM_T_NR], c0 = sim->cycle;

	memcpy(t0, sim->time, sizeof(t0));
	for (int i = 0; i < 10; i++)
		rd(g, p->msr);
	for (int b = 0; b < SIM_T_NR; b++)
		p->d[b] = sim->time[b] - t0[b];
	p->cycles = sim->cycle - c0;
}

static uint64_t buckets_sum(const struct sim *sim)
{
	uint64_t s = 0;

	for (int b = 0; b < SIM_T_NR; b++)
		s += sim->time[b];
	return s;
}

static void test_time_buckets(void **state)
{
	static const char *const models[] = { "skylake", "zen4" };
	struct kt t;

	(void)state;
	for (size_t m = 0; m < 2; m++) {
		bool intel = !strcmp(models[m], "skylake");
		struct bucket_probe p = { .t = &t, .msr = intel ? MSR_IA32_A_PMC0 : amd_ctr(0) };
		uint32_t rdmsr;

		mediated_vm(&t, models[m], NULL);
		rdmsr = t.cpu[0].model->cost.rdmsr;
		assert_false(exits(&t, p.msr));
		kt_run(&t, bucket_reads, &p);
		assert_int_equal(p.d[SIM_T_GUEST], 10 * rdmsr);
		assert_int_equal(p.cycles, 10 * rdmsr);
		assert_int_equal(p.d[SIM_T_HOST] + p.d[SIM_T_TRANSITION] + p.d[SIM_T_HOST_FOR_GUEST], 0);
		assert_int_equal(buckets_sum(&t.sim), t.sim.cycle);
		/* A selector read exits: none of its cost is guest time. */
		p.msr = intel ? MSR_IA32_PERFEVTSEL0 : amd_ctl(0);
		assert_true(exits(&t, p.msr));
		kt_run(&t, bucket_reads, &p);
		assert_int_equal(p.d[SIM_T_GUEST], 0);
		assert_true(p.d[SIM_T_TRANSITION] >= 10 * (t.cpu[0].model->cost.vmentry +
							   t.cpu[0].model->cost.vmexit));
		assert_true(p.d[SIM_T_HOST_FOR_GUEST] > 0);
		assert_int_equal(p.d[SIM_T_GUEST] + p.d[SIM_T_HOST] + p.d[SIM_T_TRANSITION] +
				 p.d[SIM_T_HOST_FOR_GUEST], p.cycles);
		assert_int_equal(buckets_sum(&t.sim), t.sim.cycle);
		kt_teardown(&t);
	}
}

/* RDPMC's #GP against the intercept, by vendor (FACTS.md s.1): on AMD the
 * hardware raises #GP for an index it lacks (and for CPL > 0 without
 * CR4.PCE) before the SVM intercept, so no exit; an index the host has
 * but the guest lacks exits and KVM injects the #GP.  On Intel the VMX
 * RDPMC exit comes first whatever the index. */
struct rdpmc_probe {
	struct kt *t;
	uint32_t ecx;
	unsigned cpl;
	bool pce;
	int fault;
	uint64_t exits, val;
};

static void rdpmc_once(struct mv_guest *g, void *arg)
{
	struct rdpmc_probe *p = arg;
	uint64_t before;

	mv_set_cr4_pce(g, p->pce);
	mv_set_cpl(g, p->cpl);
	before = p->t->kvm->exits[KVM_EXIT_RDPMC];
	p->fault = mv_rdpmc_safe(g, p->ecx, &p->val);
	p->exits = p->t->kvm->exits[KVM_EXIT_RDPMC] - before;
	mv_set_cpl(g, 0);
	mv_set_cr4_pce(g, false);
}

static void rdpmc_expect(struct kt *t, uint32_t ecx, unsigned cpl, bool pce, int fault,
			 uint64_t exits)
{
	struct rdpmc_probe p = { .t = t, .ecx = ecx, .cpl = cpl, .pce = pce };

	kt_run(t, rdpmc_once, &p);
	if (p.fault != fault || p.exits != exits)
		fail_msg("%s %s: RDPMC %#x at CPL %u PCE %d: fault %d, %llu exits; want %d, %llu",
			 t->cpu[0].model->name, t->vcpu->pmu.mediated ? "mediated" : "emulated",
			 ecx, cpl, pce, p.fault, (unsigned long long)p.exits, fault,
			 (unsigned long long)exits);
}

static void test_rdpmc_fault_vs_intercept(void **state)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kt t;

	(void)state;
	/* zen4, six counters; a 5-counter mediated guest has RDPMC intercepted. */
	cfg.nr_gp = 5;
	mediated_vm(&t, "zen4", &cfg);
	assert_true(t.kvm->x86->rdpmc_exits(t.vcpu));
	rdpmc_expect(&t, 0, 0, false, X86_OK, 1);
	rdpmc_expect(&t, 5, 0, false, X86_GP, 1);	/* the host's, not the guest's */
	rdpmc_expect(&t, 6, 0, false, X86_GP, 0);	/* no such counter: #GP first */
	rdpmc_expect(&t, 0x40000000, 0, false, X86_GP, 0);
	rdpmc_expect(&t, 0, 3, false, X86_GP, 0);	/* CPL 3, PCE clear */
	rdpmc_expect(&t, 0, 3, true, X86_OK, 1);
	kt_teardown(&t);
	/* The legacy vPMU always intercepts RDPMC: the same rule. */
	kt_setup(&t, "zen4", MV_VPMU_EMULATED);
	rdpmc_expect(&t, 2, 0, false, X86_OK, 1);
	rdpmc_expect(&t, 7, 0, false, X86_GP, 0);
	rdpmc_expect(&t, 0, 3, false, X86_GP, 0);
	kt_teardown(&t);
	/* A full-count guest reads through: no exits at all. */
	mediated_vm(&t, "zen4", NULL);
	assert_false(t.kvm->x86->rdpmc_exits(t.vcpu));
	rdpmc_expect(&t, 5, 0, false, X86_OK, 0);
	rdpmc_expect(&t, 6, 0, false, X86_GP, 0);
	kt_teardown(&t);
	/* VMX: the exit first, then KVM's #GP for every bad index. */
	cfg = kt_vm_config();
	cfg.nr_gp = 2;
	mediated_vm(&t, "skylake", &cfg);
	rdpmc_expect(&t, 1, 0, false, X86_OK, 1);
	rdpmc_expect(&t, 3, 0, false, X86_GP, 1);
	rdpmc_expect(&t, 9, 0, false, X86_GP, 1);
	rdpmc_expect(&t, RDPMC_FIXED | 3, 0, false, X86_GP, 1);	/* skylake has no fixed 3 */
	kt_teardown(&t);
}

/* ---- 7. load/put around the inner loop, not on fastpath exits ---- */

#define MSR_X2APIC_ICR 0x830

struct fp_arg {
	uint32_t sel_msr, msr;
	uint64_t sel;
	int64_t global;		/* -1: leave the reset value */
	uint64_t fast_before, fast_after;
	size_t mark;
	struct kt *t;
};

static void fp_guest(struct mv_guest *g, void *arg)
{
	struct fp_arg *a = arg;

	if (a->sel_msr)
		wr(g, a->sel_msr, a->sel);
	if (a->global >= 0)
		wr(g, MSR_IA32_PERF_GLOBAL_CTRL, (uint64_t)a->global);
	a->fast_before = kvm_exits_fastpath(a->t->kvm);
	a->mark = ntr(a->t);
	wr(g, a->msr, 12345);
	a->fast_after = kvm_exits_fastpath(a->t->kvm);
}

/* Whether a guest WRMSR of `msr` after programming `sel_msr` with `sel`
 * (and GLOBAL_CTRL with `global`) went through the fastpath, on a host
 * offering `vp`. */
static bool wrmsr_fast(enum mv_vpmu vp, uint32_t msr, uint32_t sel_msr, uint64_t sel,
		       int64_t global)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kt t;
	struct fp_arg a = { .sel_msr = sel_msr, .msr = msr, .sel = sel, .global = global,
			    .t = &t };
	size_t ex, en;
	bool fast;

	kt_machine(&t, "sapphirerapids", true, vp);
	kt_vm(&t, &cfg);
	assert_int_equal(kvm_vm_vpmu(t.vm), vp);
	kt_run(&t, fp_guest, &a);
	ex = must_find(&t, a.mark, TR_VMEXIT, NULL);
	assert_int_equal(rec(&t, ex)->a, VMX_EXIT_MSR_WRITE);
	assert_int_equal(rec(&t, ex)->b, msr);
	en = must_find(&t, ex, TR_VMENTRY, NULL);
	fast = a.fast_after == a.fast_before + 1;
	/* Fast: no put/load between exit and re-entry; slow: both. */
	if (vp == MV_VPMU_MEDIATED) {
		assert_int_equal(count_kind(&t, ex, en, TR_PMU_PUT) == 0, fast);
		assert_int_equal(count_kind(&t, ex, en, TR_PMU_LOAD) == 0, fast);
	}
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
	return fast;
}

static bool tsc_deadline_fast(uint32_t sel_msr, uint64_t sel, int64_t global)
{
	return wrmsr_fast(MV_VPMU_MEDIATED, MSR_TSC_DEADLINE, sel_msr, sel, global);
}

/* 7.0's kvm_pmu_is_fastpath_emulation_allowed: only an enabled mediated
 * counter counting instructions retired refuses the fastpath. */
static void test_fastpath(void **state)
{
	(void)state;
	assert_true(tsc_deadline_fast(0, 0, -1));
	assert_true(tsc_deadline_fast(MSR_IA32_PERFEVTSEL0,
				      EV_CYC_INTEL | EVTSEL_USR | EVTSEL_EN, -1));
	assert_false(tsc_deadline_fast(MSR_IA32_PERFEVTSEL0, SEL_INSN_USR, -1));
	/* Branches do not matter (the model refused them before 7.0's rule). */
	assert_true(tsc_deadline_fast(MSR_IA32_PERFEVTSEL0 + 3,
				      EV_BR_INTEL | EVTSEL_OS | EVTSEL_EN, -1));
	/* Fixed counter 0 counts instructions (enabled with bit 32); fixed
	 * counter 1 counts cycles. */
	assert_false(tsc_deadline_fast(MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_OS,
				       (int64_t)X86_BIT(32)));
	assert_true(tsc_deadline_fast(MSR_IA32_FIXED_CTR_CTRL,
				      FIXED_CTRL_FIELD(1, FIXED_CTRL_OS), (int64_t)X86_BIT(33)));
	/* Disabled through the guest's GLOBAL_CTRL: nothing counts. */
	assert_true(tsc_deadline_fast(MSR_IA32_PERFEVTSEL0, SEL_INSN_USR, 0));
	/* The x2APIC ICR has a WRMSR fastpath too, under the same rule. */
	assert_true(wrmsr_fast(MV_VPMU_MEDIATED, MSR_X2APIC_ICR, 0, 0, -1));
	assert_false(wrmsr_fast(MV_VPMU_MEDIATED, MSR_X2APIC_ICR, MSR_IA32_PERFEVTSEL0,
				SEL_INSN_USR, -1));
	/* Other MSRs never take it. */
	assert_false(wrmsr_fast(MV_VPMU_MEDIATED, MSR_IA32_PERFEVTSEL0 + 1, 0, 0, -1));
	/* The legacy vPMU keeps the fastpath while counting instructions. */
	assert_true(wrmsr_fast(MV_VPMU_EMULATED, MSR_TSC_DEADLINE, MSR_IA32_PERFEVTSEL0,
			       SEL_INSN_USR, -1));
}

struct hlt_arg {
	uint32_t sel_msr;
	uint64_t sel;
};

static void hlt_guest(struct mv_guest *g, void *arg)
{
	const struct hlt_arg *a = arg;

	if (a->sel_msr)
		wr(g, a->sel_msr, a->sel);
}

/* Whether the guest's final HLT was handled in the fastpath
 * (handle_fastpath_hlt); the halted vCPU leaves the inner loop either way. */
static bool hlt_fast(uint32_t sel_msr, uint64_t sel)
{
	struct kt t;
	struct hlt_arg a = { sel_msr, sel };
	uint64_t fast0, hlt0;
	size_t ex;
	bool fast;

	mediated_vm(&t, "sapphirerapids", NULL);
	fast0 = kvm_exits_fastpath(t.kvm);
	hlt0 = t.kvm->exits[KVM_EXIT_HLT];
	kt_run(&t, hlt_guest, &a);
	assert_int_equal(t.kvm->exits[KVM_EXIT_HLT], hlt0 + 1);
	fast = kvm_exits_fastpath(t.kvm) == fast0 + 1;
	ex = find_exit(&t, 0, VMX_EXIT_HLT);
	must_find(&t, ex, TR_PMU_PUT, "perf_put_guest_context");
	assert_false(t.vcpu->pmu.loaded);
	kt_teardown(&t);
	return fast;
}

static void test_fastpath_hlt(void **state)
{
	(void)state;
	assert_true(hlt_fast(0, 0));
	assert_true(hlt_fast(MSR_IA32_PERFEVTSEL0, EV_CYC_INTEL | EVTSEL_USR | EVTSEL_EN));
	assert_false(hlt_fast(MSR_IA32_PERFEVTSEL0, SEL_INSN_USR));
}

/* ---- 8. the PMI path ---- */

struct pmi_arg {
	bool intel;
	unsigned calls, vector;
	uint64_t ctr;
};

static void pmi_handler(struct mv_guest *g, unsigned vector, void *arg)
{
	struct pmi_arg *a = arg;

	(void)g;
	a->calls++;
	a->vector = vector;
}

static void pmi_guest(struct mv_guest *g, void *arg)
{
	struct pmi_arg *a = arg;
	uint32_t ctr = a->intel ? MSR_IA32_A_PMC0 : amd_ctr(0);
	uint32_t sel = a->intel ? MSR_IA32_PERFEVTSEL0 : amd_ctl(0);

	mv_set_irq_handler(g, pmi_handler, a);
	wr(g, MSR_X2APIC_LVTPC, GUEST_VEC);
	wr(g, ctr, CTR_MASK - 99);	/* -100 */
	wr(g, sel, EV_INSN_INTEL | EVTSEL_USR | EVTSEL_INT | EVTSEL_EN);
	run_user(g, 1000);
	a->ctr = rd(g, ctr);
}

static void pmi_path(const char *model, uint32_t extint)
{
	struct kt t;
	struct pmi_arg a = { .intel = strcmp(model, "zen4") != 0 };
	size_t pmi, ex, cb, inj, en, irq;

	mediated_vm(&t, model, NULL);
	kt_run(&t, pmi_guest, &a);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.vector, GUEST_VEC);
	assert_int_equal(a.ctr, 900);
	assert_int_equal(kvm_vm_guest_pmis(t.vm), 1);

	pmi = must_find(&t, 0, TR_PMI, NULL);
	assert_int_equal(rec(&t, pmi)->a, PERF_GUEST_MEDIATED_PMI_VECTOR);
	assert_int_equal(rec(&t, pmi)->b, 0);	/* an IRQ, not an NMI */
	ex = must_find(&t, pmi, TR_VMEXIT, NULL);
	assert_int_equal(rec(&t, ex)->a, extint);
	/* VMX: the qualification; SVM: EXITINFO with the vector in 63:32. */
	assert_int_equal(extint == SVM_EXIT_INTR ? rec(&t, ex)->b >> 32 : rec(&t, ex)->b,
			 PERF_GUEST_MEDIATED_PMI_VECTOR);
	cb = must_find(&t, ex, TR_PERF, "guest pmi irq");
	inj = must_find(&t, cb, TR_INJECT, NULL);
	assert_int_equal(rec(&t, inj)->a, GUEST_VEC);
	/* Injected through the virtual LVTPC before the next load (7.0), so
	 * the hardware LVTPC goes in with the mask the delivery set on Intel
	 * (AMD's APIC sets none). */
	size_t ld = must_find(&t, cb, TR_PMU_LOAD, "lvtpc=guest");
	size_t lv = find_wrmsr(&t, ld, ntr(&t), MSR_X2APIC_LVTPC);

	assert_true(inj < must_find(&t, cb, TR_PMU_LOAD, "perf_load_guest_context"));
	assert_true(lv < ntr(&t));
	assert_int_equal(rec(&t, lv)->b, PERF_GUEST_MEDIATED_PMI_VECTOR |
			 (a.intel ? APIC_LVT_MASKED : 0));
	en = must_find(&t, inj, TR_VMENTRY, NULL);
	irq = must_find(&t, en, TR_IRQ, "guest");
	assert_int_equal(rec(&t, irq)->a, GUEST_VEC);
	assert_int_equal(count_kind(&t, 0, ntr(&t), TR_INJECT), 1);
	assert_int_equal(count_kind(&t, 0, ntr(&t), TR_PMI), 1);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void test_pmi_path_intel(void **state)
{
	(void)state;
	pmi_path("sapphirerapids", VMX_EXIT_EXTINT);
}

/* Two counters overflow 50 instructions apart and the guest's handler does
 * not unmask its LVTPC (as Linux's late ack): with the PMI injected before
 * the load, the hardware LVTPC is already masked when the second overflow
 * comes, so there is one 0xF5 interrupt and one exit for it, not two. */
static void pmi_twice_guest(struct mv_guest *g, void *arg)
{
	struct pmi_arg *a = arg;

	mv_set_irq_handler(g, pmi_handler, a);
	wr(g, MSR_X2APIC_LVTPC, GUEST_VEC);
	wr(g, MSR_IA32_A_PMC0, CTR_MASK - 99);		/* -100 */
	wr(g, MSR_IA32_A_PMC0 + 1, CTR_MASK - 149);	/* -150 */
	wr(g, MSR_IA32_PERFEVTSEL0, EV_INSN_INTEL | EVTSEL_USR | EVTSEL_INT | EVTSEL_EN);
	wr(g, MSR_IA32_PERFEVTSEL0 + 1, EV_INSN_INTEL | EVTSEL_USR | EVTSEL_INT | EVTSEL_EN);
	run_user(g, 1000);
	a->ctr = rd(g, MSR_IA32_PERF_GLOBAL_STATUS);
}

static void test_no_extra_pmi_exit_after_injection(void **state)
{
	struct kt t;
	struct pmi_arg a = { .intel = true };
	unsigned f5 = 0, extint = 0;

	(void)state;
	mediated_vm(&t, "sapphirerapids", NULL);
	kt_run(&t, pmi_twice_guest, &a);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.ctr & 3, 3);		/* both overflowed */
	for (size_t i = 0; i < ntr(&t); i++) {
		const struct sim_trace_rec *r = rec(&t, i);

		f5 += r->kind == TR_PMI && r->a == PERF_GUEST_MEDIATED_PMI_VECTOR;
		extint += r->kind == TR_VMEXIT && r->a == VMX_EXIT_EXTINT &&
			  r->b == PERF_GUEST_MEDIATED_PMI_VECTOR;
	}
	assert_int_equal(f5, 1);
	assert_int_equal(extint, 1);
	assert_int_equal(kvm_vm_guest_pmis(t.vm), 1);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void test_pmi_path_amd(void **state)
{
	(void)state;
	pmi_path("zen4", SVM_EXIT_INTR);
}

/* ---- 9. the event filter in mediated mode ---- */

struct filt_arg {
	struct kt *t;
	uint32_t sel_msr, ctr_msr;
	uint64_t sel, readback, hw_sel, count;
};

static void filt_guest(struct mv_guest *g, void *arg)
{
	struct filt_arg *a = arg;

	wr(g, a->ctr_msr, 0);
	wr(g, a->sel_msr, a->sel);
	a->readback = rd(g, a->sel_msr);
	a->hw_sel = a->t->cpu[0].pmu.gp_sel[0];
	run_user(g, 1000);
	a->count = rd(g, a->ctr_msr);
}

static void filter_mediated(const char *model, uint32_t sel_msr, uint32_t ctr_msr)
{
	struct kt t;
	struct mv_vm_config cfg = kt_vm_config();
	struct mv_filter deny = { .present = true, .action = 1, .nevents = 1,
				  .events = { EV_INSN_INTEL } };
	struct mv_filter none = { .present = false };
	struct filt_arg a = { .t = &t, .sel_msr = sel_msr, .ctr_msr = ctr_msr,
			      .sel = EV_INSN_INTEL | EVTSEL_USR | EVTSEL_EN };

	cfg.filter = deny;
	mediated_vm(&t, model, &cfg);
	kt_run(&t, filt_guest, &a);
	assert_int_equal(a.readback, a.sel);
	assert_false(a.hw_sel & EVTSEL_EN);
	assert_int_equal(a.hw_sel & 0xFFFF, a.sel & 0xFFFF);
	assert_int_equal(a.count, 0);
	assert_int_equal(t.sim.inv_violated, 0);

	/* Lifted at run time: counting resumes after the next load. */
	assert_int_equal(kvm_vm_set_filter(t.vm, &none), 0);
	kt_run(&t, filt_guest, &a);
	assert_true(a.hw_sel & EVTSEL_EN);
	assert_int_equal(a.count, 1000);

	/* And imposed at run time on a counter already enabled. */
	assert_int_equal(kvm_vm_set_filter(t.vm, &deny), 0);
	kt_run(&t, nothing, NULL);
	assert_false(t.vcpu->pmu.gp[0].eventsel_hw & EVTSEL_EN);
	assert_int_equal(t.vcpu->pmu.gp[0].eventsel, a.sel);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);
}

static void test_filter_intel(void **state)
{
	(void)state;
	filter_mediated("sapphirerapids", MSR_IA32_PERFEVTSEL0, MSR_IA32_A_PMC0);
}

static void test_filter_amd(void **state)
{
	(void)state;
	filter_mediated("zen4", amd_ctl(0), amd_ctr(0));
}

struct fixed_filt_arg {
	struct kt *t;
	uint64_t readback, hw_ctrl, count;
};

static void fixed_filt_guest(struct mv_guest *g, void *arg)
{
	struct fixed_filt_arg *a = arg;

	wr(g, MSR_IA32_FIXED_CTR_CTRL, FIXED_CTRL_USR | FIXED_CTRL_FIELD(1, FIXED_CTRL_USR));
	a->readback = rd(g, MSR_IA32_FIXED_CTR_CTRL);
	a->hw_ctrl = a->t->cpu[0].pmu.fixed_ctrl;
	run_user(g, 1000);
	a->count = rd(g, MSR_IA32_FIXED_CTR0);
}

/* Fixed counter 0 denied through the bitmap: its enable field is
 * cleared in the hardware only. */
static void test_filter_fixed(void **state)
{
	struct kt t;
	struct mv_vm_config cfg = kt_vm_config();
	struct fixed_filt_arg a = { .t = &t };

	(void)state;
	cfg.filter = (struct mv_filter){ .present = true, .action = 1,
					 .fixed_counter_bitmap = 1 };
	mediated_vm(&t, "sapphirerapids", &cfg);
	kt_run(&t, fixed_filt_guest, &a);
	assert_int_equal(a.readback, FIXED_CTRL_USR | FIXED_CTRL_FIELD(1, FIXED_CTRL_USR));
	assert_int_equal(a.hw_ctrl, FIXED_CTRL_FIELD(1, FIXED_CTRL_USR));
	assert_int_equal(a.count, 0);
	kt_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_put_order_intel),
		cmocka_unit_test(test_load_put_order_amd),
		cmocka_unit_test(test_write_elision),
		cmocka_unit_test(test_no_leak_intel),
		cmocka_unit_test(test_no_leak_amd),
		cmocka_unit_test(test_pmc_msrs_are_guest_state),
		cmocka_unit_test(test_global_ctrl_clear_on_load),
		cmocka_unit_test(test_vmx_global_ctrl_save),
		cmocka_unit_test(test_vmx_global_ctrl_store_list),
		cmocka_unit_test(test_svm_guestonly),
		cmocka_unit_test(test_svm_global_ctl_readback),
		cmocka_unit_test(test_intercepts_intel_host_shape),
		cmocka_unit_test(test_intercepts_intel_fewer_gp),
		cmocka_unit_test(test_intercepts_intel_no_fw_write),
		cmocka_unit_test(test_intercepts_recalc_perf_caps),
		cmocka_unit_test(test_intercepts_amd),
		cmocka_unit_test(test_intercepts_amd_legacy_only),
		cmocka_unit_test(test_rdpmc_fault_vs_intercept),
		cmocka_unit_test(test_time_buckets),
		cmocka_unit_test(test_fastpath),
		cmocka_unit_test(test_fastpath_hlt),
		cmocka_unit_test(test_pmi_path_intel),
		cmocka_unit_test(test_no_extra_pmi_exit_after_injection),
		cmocka_unit_test(test_pmi_path_amd),
		cmocka_unit_test(test_filter_intel),
		cmocka_unit_test(test_filter_amd),
		cmocka_unit_test(test_filter_fixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
