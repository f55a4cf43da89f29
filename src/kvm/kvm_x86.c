/* kvm_x86: VMs, vCPUs and the run loop.  A vCPU's guest program calls the
 * guest API; each call either touches the hardware directly (passed
 * through, in guest mode) or exits: the exit is handled in the fastpath
 * (PMU left loaded, straight back in) or through the outer loop (mediated
 * PMU put, host interrupts, the handler, then load and re-entry with any
 * pending PMI injected through the guest's virtual LVTPC). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_cpu.h"
#include "hw/hw_platform.h"
#include "kvm_internal.h"
#include "kvm_nested.h"

#define MSR_IA32_TSC_DEADLINE 0x6E0
#define MSR_X2APIC_ICR 0x830
#define HOST_TIMER_VECTOR 0xEC	/* Linux LOCAL_TIMER_VECTOR */
/* kvm_arch_vcpu_precreate's PERF_MEDIATED_PMU_MSG, logged by pr_warn
 * with KVM's "kvm: " prefix. */
#define PERF_MEDIATED_PMU_MSG \
	"kvm: Failed to enable mediated vPMU, try disabling system wide perf events and nmi_watchdog."


static struct kvm_vcpu *V(struct mv_guest *g)
{
	return g->env;
}

void kvm_charge(struct kvm_vcpu *v, uint32_t cycles)
{
	sim_advance(v->vm->kvm->sim, cycles, SIM_T_HOST_FOR_GUEST);
}

/* Counts one exit of `msr` in address order; past the slots, in `other`. */
static void msr_stats_add(struct kvm_msr_stats *st, uint32_t msr)
{
	unsigned i = 0;

	while (i < st->nr && st->msr[i] < msr)
		i++;
	if (i < st->nr && st->msr[i] == msr) {
		st->count[i]++;
		return;
	}
	if (st->nr == KVM_MSR_SLOTS) {
		st->other++;
		return;
	}
	memmove(&st->msr[i + 1], &st->msr[i], (st->nr - i) * sizeof(st->msr[0]));
	memmove(&st->count[i + 1], &st->count[i], (st->nr - i) * sizeof(st->count[0]));
	st->msr[i] = msr;
	st->count[i] = 1;
	st->nr++;
}

void kvm_exit_count(struct kvm_vcpu *v, enum kvm_exit reason, bool fast)
{
	struct kvm *kvm = v->vm->kvm;

	kvm->exits[reason]++;
	v->vm->exits[reason]++;
	if (fast) {
		kvm->exits_fastpath++;
		v->vm->exits_fastpath++;
	}
	if (reason == KVM_EXIT_MSR_READ || reason == KVM_EXIT_MSR_WRITE) {
		msr_stats_add(&kvm->msr_exits, (uint32_t)v->exit_qual);
		msr_stats_add(&v->vm->msr_exits, (uint32_t)v->exit_qual);
	}
}

static int perf_cpu(const struct kvm_vcpu *v)
{
	return v->perf_cpu;
}

/* ---- entry and exit ---- */

static void deliver_guest_interrupts(struct kvm_vcpu *v)
{
	while (v->pending_nmi_or_irq && !v->g.in_irq && v->in_guest) {
		v->pending_nmi_or_irq = false;
		sim_trace(v->vm->kvm->sim, TR_IRQ, v->pending_vector, (uint64_t)v->ctx, 0, "guest");
		sim_advance(v->vm->kvm->sim, vcpu_host_model(v)->cost.irq_entry, SIM_T_GUEST);
		mv_guest_deliver(&v->g, v->pending_vector);
	}
}

static void hw_enter(struct kvm_vcpu *v)
{
	v->vm->kvm->x86->enter(v);
	v->in_guest = true;
	v->cpu->cpl = v->cpl;
	v->cpu->cr4_pce = v->cr4_pce;
}

/* The outer loop's entry: interrupts off, requests served, PMU loaded.
 * A pending KVM_REQ_PMI goes through the virtual LVTPC before the mediated
 * load (7.0: kvm_pmu_deliver_pmi runs with the other requests, before
 * kvm_mediated_pmu_load), so on Intel the hardware LVTPC goes in already
 * masked and a further overflow cannot cause another 0xF5 exit before the
 * guest's handler unmasks it. */
static void vcpu_enter(struct kvm_vcpu *v)
{
	struct kvm *kvm = v->vm->kvm;
	struct kvm_pmc *pmc;
	unsigned i;

	perf_irq_disable(kvm->perf, perf_cpu(v));
	/* Only emul_overflow sets pmc->reprogram, and it raises
	 * reprogram_some with it: no flag to look for without it. */
	if (v->pmu.reprogram_some) {
		v->pmu.reprogram_some = false;
		kvm_for_each_pmc(&v->pmu, pmc, i)
			if (pmc->reprogram)
				kvm_emul_reprogram(v, pmc);
	}
	/* Knob inject-after-load: the model's old order, load first. */
	if (!kvm->knobs.inject_after_load)
		kvm_pmu_deliver_pmi(v);
	kvm_mediated_pmu_load(v);
	if (kvm->knobs.inject_after_load)
		kvm_pmu_deliver_pmi(v);
	kvm_mediated_check_entry(v);
	v->ran = true;
	hw_enter(v);
	deliver_guest_interrupts(v);
}

/* Test-only exit_host_work (mvpmu/test_hooks.h): KVM's handler work in
 * the inner loop executed as host kernel instructions on the vCPU's CPU,
 * with the vCPU thread's events scheduled and its PMU state loaded. */
static __attribute__((noinline)) void exit_host_work(struct kvm_vcpu *v, uint64_t n)
{
	struct mv_work w = mv_work_make(n, true, "kvm exit handler");

	hw_run_work(v->cpu, &w);
}

/* Hardware exit, and the host interrupt that caused it handled with
 * interrupts still off (KVM's handle_exit_irqoff). */
static inline void exit_begin(struct kvm_vcpu *v, enum kvm_exit reason, uint64_t qual,
			      bool nmi, unsigned vector)
{
	struct kvm *kvm = v->vm->kvm;

	kvm->x86->exit(v, reason, qual);
	v->exit_qual = qual;
	v->in_guest = false;
	hw_cpu_set_bucket(v->cpu, SIM_T_HOST_FOR_GUEST);
	v->cpu->cpl = 0;
	v->cpu->cr4_pce = true;
	kvm->x86->sync_global_ctrl(v);
	if (reason == KVM_EXIT_EXTINT || reason == KVM_EXIT_NMI) {
		bool was = v->cpu->in_nmi;

		v->cpu->in_nmi = was || nmi;
		kvm_charge(v, vcpu_host_model(v)->cost.irq_entry);
		host_handle_intr(kvm->perf, perf_cpu(v), vector, nmi);
		v->cpu->in_nmi = was;
	}
	if (kvm->sim->test.exit_host_work)
		exit_host_work(v, kvm->sim->test.exit_host_work);
}

/* Leaving the inner loop: mediated put, interrupts back on.  `fast`: the
 * exit was handled in the fastpath (EXIT_FASTPATH_EXIT_HANDLED, a halted
 * vCPU), so only the fastpath's work is charged. */
static void exit_leave(struct kvm_vcpu *v, enum kvm_exit reason, bool fast)
{
	struct kvm *kvm = v->vm->kvm;

	kvm_exit_count(v, reason, fast);
	kvm_mediated_pmu_put(v);
	perf_irq_enable(kvm->perf, perf_cpu(v));
	kvm_charge(v, fast ? vcpu_host_model(v)->cost.exit_fastpath :
			     vcpu_host_model(v)->cost.exit_slowpath);
}

static void exit_slow(struct kvm_vcpu *v, enum kvm_exit reason)
{
	exit_leave(v, reason, false);
}

/* Handled in the fastpath and straight back in (EXIT_FASTPATH_REENTER_GUEST). */
static void exit_fast(struct kvm_vcpu *v, enum kvm_exit reason)
{
	kvm_exit_count(v, reason, true);
	kvm_charge(v, vcpu_host_model(v)->cost.exit_fastpath);
}

/* HLT: handle_fastpath_hlt (7.0) emulates it in the fastpath unless a
 * mediated counter counts instructions; a vCPU that halts for good leaves
 * the inner loop either way (EXIT_FASTPATH_EXIT_HANDLED vs the full
 * handler). */
static void exit_halt(struct kvm_vcpu *v)
{
	exit_begin(v, KVM_EXIT_HLT, 0, false, 0);
	exit_leave(v, KVM_EXIT_HLT, kvm_pmu_fastpath_allowed(v));
}

/* An interrupt arriving while the guest runs: VM-exit, host handler,
 * then the outer loop and back in. */
static void kvm_guest_intr(struct hw_cpu *cpu, unsigned vector, bool nmi, void *opaque)
{
	struct kvm *kvm = opaque;
	struct kvm_vcpu *v = kvm->running[cpu->id];
	enum kvm_exit reason = nmi ? KVM_EXIT_NMI : KVM_EXIT_EXTINT;

	if (!v)
		return;
	if (!nmi && vector == PERF_GUEST_MEDIATED_PMI_VECTOR)
		kvm->exits_mediated_pmi++;
	exit_begin(v, reason, vector, nmi, vector);
	exit_slow(v, reason);
	vcpu_enter(v);
}

/* The VM-exit of an exit point: the host timer's interrupt. */
static void point_exit(struct kvm_vcpu *v)
{
	exit_begin(v, KVM_EXIT_EXTINT, HOST_TIMER_VECTOR, false, HOST_TIMER_VECTOR);
	exit_slow(v, KVM_EXIT_EXTINT);
	vcpu_enter(v);
}

bool kvm_vcpu_exit_point(struct kvm_vcpu *v, enum sim_point_kind kind, const char *label)
{
	if (!v->in_guest || !sim_point(v->vm->kvm->sim, kind, label))
		return false;
	point_exit(v);
	return true;
}

/* Before each guest step, a host interrupt may exit the guest: in its
 * PMI handler too, where the guest's LVTPC may still be masked.  Inline:
 * outside exploration it costs a test of sim->pts. */
static inline void step_point(struct kvm_vcpu *v, const char *plain, const char *in_handler)
{
	if (v->in_guest && sim_point(v->vm->kvm->sim, SIM_PT_VMEXIT, v->g.in_irq ? in_handler : plain))
		point_exit(v);
}

/* ---- MSR emulation ---- */

/* __handle_fastpath_wrmsr (7.0): the TSC deadline and the x2APIC ICR are
 * written without leaving the inner loop, unless a mediated counter counts
 * instructions retired (kvm_pmu_is_fastpath_emulation_allowed): the
 * skipped WRMSR would have to be counted in software with the guest's
 * counters in the hardware. */
static bool fastpath_ok(struct kvm_vcpu *v, uint32_t msr)
{
	if (msr != MSR_IA32_TSC_DEADLINE && msr != MSR_X2APIC_ICR)
		return false;
	return kvm_pmu_fastpath_allowed(v);
}

static int kvm_set_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t val, bool host)
{
	switch (msr) {
	case MSR_X2APIC_LVTPC:
		/* lapic.c kvm_lapic_msr_write: bits 63:32 are reserved in every
		 * x2APIC register but ICR. */
		if (val >> 32)
			return X86_GP;
		v->lvtpc = (uint32_t)(val & (APIC_LVT_VECTOR | APIC_LVT_DM_MASK | APIC_LVT_MASKED));
		return X86_OK;
	case MSR_X2APIC_EOI:
	case MSR_IA32_TSC_DEADLINE:
		return X86_OK;
	case MSR_X2APIC_ICR:
		v->x2apic_icr = val;	/* IPIs are not modelled */
		return X86_OK;
	case MSR_EFER: {
		uint64_t old = v->guest_efer;

		v->guest_efer = val;
		kvm_nested_svm_efer_changed(v, old);	/* L1's SVME qualifies its H/G bits */
		return X86_OK;
	}
	case MSR_IA32_DEBUGCTL:
		/* KVM does not virtualize FREEZE_PERFMON_ON_PMI (docs/kvm.md). */
		return (val & ~0x3ULL) ? X86_GP : X86_OK;
	case MSR_IA32_MISC_ENABLE:
		/* kvm_set_msr_common: changing BTS/PEBS_UNAVAIL #GPs, EMON is
		 * kept whatever is written, the rest is stored. */
		if (!host) {
			if ((v->misc_enable ^ val) & (MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL))
				return X86_GP;
			val = (val & ~MISC_ENABLE_EMON) | (v->misc_enable & MISC_ENABLE_EMON);
		}
		v->misc_enable = val;
		return X86_OK;
	}
	return kvm_pmu_set_msr(v, msr, val, host);	/* X86_GP when not the PMU's */
}

static int kvm_get_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val)
{
	*val = 0;
	switch (msr) {
	case MSR_X2APIC_LVTPC:
		*val = v->lvtpc;
		return X86_OK;
	case MSR_IA32_TSC_DEADLINE:
	case MSR_IA32_DEBUGCTL:
		return X86_OK;
	case MSR_X2APIC_ICR:
		*val = v->x2apic_icr;
		return X86_OK;
	case MSR_EFER:
		*val = v->guest_efer;
		return X86_OK;
	case MSR_IA32_MISC_ENABLE:
		*val = v->misc_enable;
		return X86_OK;
	}
	return kvm_pmu_get_msr(v, msr, val);
}

/* ---- CPUID ---- */

#define CPUID_1_ECX_TSC_DEADLINE X86_BIT(24)
#define CPUID_1_ECX_HYPERVISOR	X86_BIT(31)

/* KVM's CPUID for the guest (the VMM passes the host's on, filtered by
 * what KVM supports, as QEMU's -cpu host): the hypervisor bit and KVM's
 * leaves at 0x40000000 ("KVMKVMKVM"), the x2APIC and TSC-deadline timer
 * KVM's local APIC emulates on any host, the vCPU's APIC ID and the APIC
 * bit of its own APIC base (kvm_update_cpuid_runtime), and the vPMU's
 * leaves (kvm_pmu_cpuid).  KVM answers a leaf out of range as Intel does
 * for an Intel guest (get_out_of_range_cpuid_entry), as hw_cpuid does. */
static void kvm_cpuid(struct kvm_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	uint32_t eff;

	if (leaf >= 0x40000000u && leaf <= 0x400000FFu) {
		kvm_charge(v, vcpu_host_model(v)->cost.cpuid);
		memset(r, 0, 4 * sizeof(r[0]));
		if (leaf == 0x40000000u) {
			r[0] = 0x40000001u;
			memcpy(&r[1], "KVMK", 4);
			memcpy(&r[2], "VMKV", 4);
			memcpy(&r[3], "M\0\0\0", 4);
		}
		return;
	}
	eff = hw_cpuid_leaf(vcpu_host_model(v), leaf);
	hw_cpuid(v->cpu, leaf, sub, r);
	kvm_pmu_cpuid(v, eff, r);
	if (eff == 1) {
		r[1] = (r[1] & 0x00FFFFFFu) | (uint32_t)v->idx << 24;
		r[2] |= (uint32_t)(CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_X2APIC);
		r[3] &= ~(uint32_t)CPUID_1_EDX_APIC;
		if (hw_apic_enabled(&v->apic_misc))
			r[3] |= (uint32_t)CPUID_1_EDX_APIC;
	}
	if (eff == 0xB)
		r[3] = (uint32_t)v->idx;
}

/* ---- the guest API of a vCPU ---- */

/* Guest code called while the vCPU is not running (a guest kernel's
 * set-up done before the vCPU's first slice) still runs on the vCPU: it
 * gets a KVM_RUN of its own, entered before the call and halted after. */
static bool begin_call(struct kvm_vcpu *v)
{
	if (v->in_guest)
		return false;
	v->vm->kvm->running[v->cpu->id] = v;
	vcpu_enter(v);
	return true;
}

static void end_call(struct kvm_vcpu *v, bool own_run)
{
	if (!own_run)
		return;
	exit_halt(v);
	v->vm->kvm->running[v->cpu->id] = NULL;
	hw_cpu_set_bucket(v->cpu, SIM_T_HOST);
}

/* The fastpath's WRMSRs (the guest kernel's timer re-arm, the ICR) are
 * kernel instructions the guest retires and KVM skips: counted in software
 * after the handler (kvm_skip_emulated_instruction ->
 * kvm_pmu_instruction_retired), FACTS.md s.8.  In the fastpath a mediated
 * guest's counters are live in the hardware, so the software count would
 * be lost: the reason 7.0 refuses the fastpath while they count. */
static void skip_fastpath_insn(struct kvm_vcpu *v, uint32_t msr)
{
	uint64_t ev[MV_EV_NR] = { 0 };
	bool kernel = v->g.kernel;

	if (msr != MSR_IA32_TSC_DEADLINE && msr != MSR_X2APIC_ICR)
		return;
	ev[MV_EV_INSTRUCTIONS] = 1;
	sim_truth_add(&v->vm->kvm->sim->truth, v->ctx, true, v->g.label, ev);
	v->g.kernel = true;
	kvm_pmu_instruction_retired(v, false);
	v->g.kernel = kernel;
}

static int vcpu_wrmsr_in(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	struct kvm_vcpu *v = V(g);
	int fault;

	step_point(v, "vmexit/wrmsr", "vmexit/pmi-handler wrmsr");
	if (!v->vm->kvm->x86->msr_exits(v, msr, true))
		return hw_wrmsr(v->cpu, msr, val);
	exit_begin(v, KVM_EXIT_MSR_WRITE, msr, false, 0);
	if (fastpath_ok(v, msr)) {
		exit_fast(v, KVM_EXIT_MSR_WRITE);
		fault = kvm_set_msr(v, msr, val, false);
		skip_fastpath_insn(v, msr);
		kvm_mediated_check_entry(v);
		hw_enter(v);
		deliver_guest_interrupts(v);
		return fault;
	}
	exit_slow(v, KVM_EXIT_MSR_WRITE);
	fault = kvm_set_msr(v, msr, val, false);
	skip_fastpath_insn(v, msr);
	vcpu_enter(v);
	return fault;
}

static int vcpu_rdmsr_in(struct mv_guest *g, uint32_t msr, uint64_t *val)
{
	struct kvm_vcpu *v = V(g);
	int fault;

	step_point(v, "vmexit/rdmsr", "vmexit/pmi-handler rdmsr");
	if (!v->vm->kvm->x86->msr_exits(v, msr, false))
		return hw_rdmsr(v->cpu, msr, val);
	exit_begin(v, KVM_EXIT_MSR_READ, msr, false, 0);
	exit_slow(v, KVM_EXIT_MSR_READ);
	fault = kvm_get_msr(v, msr, val);
	vcpu_enter(v);
	return fault;
}

static int vcpu_rdpmc_in(struct mv_guest *g, uint32_t ecx, uint64_t *val)
{
	struct kvm_vcpu *v = V(g);
	int fault;

	*val = 0;
	step_point(v, "vmexit/rdpmc", "vmexit/pmi-handler rdpmc");
	if (v->vm->kvm->x86->rdpmc_faults_first(v, ecx))
		return X86_GP;
	if (!v->vm->kvm->x86->rdpmc_exits(v))
		return hw_rdpmc(v->cpu, ecx, val);
	exit_begin(v, KVM_EXIT_RDPMC, ecx, false, 0);
	exit_slow(v, KVM_EXIT_RDPMC);
	fault = kvm_pmu_rdpmc(v, ecx, val);
	vcpu_enter(v);
	return fault;
}

static void vcpu_cpuid_in(struct mv_guest *g, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct kvm_vcpu *v = V(g);

	step_point(v, "vmexit/cpuid", "vmexit/pmi-handler cpuid");
	exit_begin(v, KVM_EXIT_CPUID, leaf, false, 0);
	exit_slow(v, KVM_EXIT_CPUID);
	kvm_cpuid(v, leaf, sub, r);
	vcpu_enter(v);
}

static void vcpu_run_work_in(struct mv_guest *g, const struct mv_work *w)
{
	step_point(V(g), "vmexit/run", "vmexit/pmi-handler run");
	hw_run_work(V(g)->cpu, w);
}

/* An instruction KVM emulates: it retires in the guest (ground truth)
 * without the hardware seeing it, so the vPMU counts it in software. */
static void vcpu_emulate_in(struct mv_guest *g, bool branch)
{
	struct kvm_vcpu *v = V(g);
	uint64_t ev[MV_EV_NR] = { 0 };

	step_point(v, "vmexit/emulate", "vmexit/pmi-handler emulate");
	exit_begin(v, KVM_EXIT_EMULATE, 0, false, 0);
	exit_slow(v, KVM_EXIT_EMULATE);
	ev[MV_EV_INSTRUCTIONS] = 1;
	ev[MV_EV_BRANCHES] = branch;
	sim_truth_add(&v->vm->kvm->sim->truth, v->ctx, g->kernel, g->label, ev);
	sim_trace(v->vm->kvm->sim, TR_NOTE, branch, 0, 0, "emulated instruction");
	kvm_pmu_instruction_retired(v, branch);
	vcpu_enter(v);
}

static int vcpu_wrmsr(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	bool own = begin_call(V(g));
	int fault = vcpu_wrmsr_in(g, msr, val);

	end_call(V(g), own);
	return fault;
}

static int vcpu_rdmsr(struct mv_guest *g, uint32_t msr, uint64_t *val)
{
	bool own = begin_call(V(g));
	int fault = vcpu_rdmsr_in(g, msr, val);

	end_call(V(g), own);
	return fault;
}

static int vcpu_rdpmc(struct mv_guest *g, uint32_t ecx, uint64_t *val)
{
	bool own = begin_call(V(g));
	int fault = vcpu_rdpmc_in(g, ecx, val);

	end_call(V(g), own);
	return fault;
}

static void vcpu_cpuid(struct mv_guest *g, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	bool own = begin_call(V(g));

	vcpu_cpuid_in(g, leaf, sub, r);
	end_call(V(g), own);
}

static void vcpu_run_work(struct mv_guest *g, const struct mv_work *w)
{
	bool own = begin_call(V(g));

	vcpu_run_work_in(g, w);
	end_call(V(g), own);
}

static void vcpu_emulate(struct mv_guest *g, bool branch)
{
	bool own = begin_call(V(g));

	vcpu_emulate_in(g, branch);
	end_call(V(g), own);
}

static void vcpu_set_cpl(struct mv_guest *g, unsigned cpl)
{
	struct kvm_vcpu *v = V(g);

	v->cpl = cpl;
	if (v->in_guest)
		v->cpu->cpl = cpl;
}

static void vcpu_set_cr4_pce(struct mv_guest *g, bool pce)
{
	struct kvm_vcpu *v = V(g);

	v->cr4_pce = pce;
	if (v->in_guest)
		v->cpu->cr4_pce = pce;
}

/* ---- real machine code (src/hw/hw_x86): the instruction itself ---- */

/* An instruction the hardware executed in guest mode retires there. */
static void retire_in_guest(struct kvm_vcpu *v)
{
	struct mv_work w = mv_work_insns(1, 0, 0, v->g.kernel, v->g.label);

	hw_run_work(v->cpu, &w);
}

/* An instruction KVM completed and skipped retires in the guest without
 * the hardware seeing it: kvm_skip_emulated_instruction() counts it with
 * kvm_pmu_instruction_retired() after the handler, against the counters
 * enabled at that moment.  Linux 7.0 recomputes that set at the write
 * itself (commit 5dfd498bad5f, "Calculate set of to-be-emulated PMCs at
 * time of WRMSRs"), so an intercepted WRMSR that enables a counter is
 * counted by it and one that disables it is not (docs/realcode.md). */
static void retire_skipped(struct kvm_vcpu *v)
{
	uint64_t ev[MV_EV_NR] = { 0 };

	ev[MV_EV_INSTRUCTIONS] = 1;
	sim_truth_add(&v->vm->kvm->sim->truth, v->ctx, v->g.kernel, v->g.label, ev);
	kvm_pmu_instruction_retired(v, false);
}

/* KVM's MSR emulation as real code meets it: its local APIC answers the
 * APIC base and the x2APIC ID, version, TPR and SVR registers too (the
 * API's programs never touch them). */
static int insn_set_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t val)
{
	int fault;

	if (hw_apic_misc_wrmsr(&v->apic_misc, msr, val, &fault))
		return fault;
	/* kvm_x2apic_msr_write: no x2APIC MSRs outside x2APIC mode. */
	if (hw_apic_x2apic_msr(msr) && !hw_apic_x2apic(&v->apic_misc))
		return X86_GP;
	return kvm_set_msr(v, msr, val, false);
}

static int insn_get_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val)
{
	int fault;

	*val = 0;
	if (hw_apic_misc_rdmsr(&v->apic_misc, (unsigned)v->idx, msr, val, &fault))
		return fault;
	if (hw_apic_x2apic_msr(msr) && !hw_apic_x2apic(&v->apic_misc))
		return X86_GP;
	return kvm_get_msr(v, msr, val);
}

static int vcpu_insn_wrmsr(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);
	int fault;

	if (!v->vm->kvm->x86->msr_exits(v, msr, true)) {
		struct mv_work w = mv_work_insns(1, 0, 0, g->kernel, g->label);

		fault = hw_wrmsr_retire(v->cpu, msr, val, &w);
	} else {
		exit_begin(v, KVM_EXIT_MSR_WRITE, msr, false, 0);
		if (fastpath_ok(v, msr)) {
			exit_fast(v, KVM_EXIT_MSR_WRITE);
			fault = insn_set_msr(v, msr, val);
			if (!fault)
				retire_skipped(v);
			kvm_mediated_check_entry(v);
			hw_enter(v);
			deliver_guest_interrupts(v);
		} else {
			exit_slow(v, KVM_EXIT_MSR_WRITE);
			fault = insn_set_msr(v, msr, val);
			if (!fault)
				retire_skipped(v);
			vcpu_enter(v);
		}
	}
	end_call(v, own);
	return fault;
}

static int vcpu_insn_rdmsr(struct mv_guest *g, uint32_t msr, uint64_t *val)
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);
	int fault;

	if (!v->vm->kvm->x86->msr_exits(v, msr, false)) {
		fault = hw_rdmsr(v->cpu, msr, val);
		if (!fault)
			retire_in_guest(v);
	} else {
		exit_begin(v, KVM_EXIT_MSR_READ, msr, false, 0);
		exit_slow(v, KVM_EXIT_MSR_READ);
		fault = insn_get_msr(v, msr, val);
		if (!fault)
			retire_skipped(v);
		vcpu_enter(v);
	}
	end_call(v, own);
	return fault;
}

static int vcpu_insn_rdpmc(struct mv_guest *g, uint32_t ecx, uint64_t *val)
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);
	int fault;

	*val = 0;
	if (v->vm->kvm->x86->rdpmc_faults_first(v, ecx)) {
		fault = X86_GP;
	} else if (!v->vm->kvm->x86->rdpmc_exits(v)) {
		fault = hw_rdpmc(v->cpu, ecx, val);
		if (!fault)
			retire_in_guest(v);
	} else {
		exit_begin(v, KVM_EXIT_RDPMC, ecx, false, 0);
		exit_slow(v, KVM_EXIT_RDPMC);
		fault = kvm_pmu_rdpmc(v, ecx, val);
		if (!fault)
			retire_skipped(v);
		vcpu_enter(v);
	}
	end_call(v, own);
	return fault;
}

static void vcpu_insn_cpuid(struct mv_guest *g, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);

	exit_begin(v, KVM_EXIT_CPUID, leaf, false, 0);
	exit_slow(v, KVM_EXIT_CPUID);
	kvm_cpuid(v, leaf, sub, r);
	retire_skipped(v);
	vcpu_enter(v);
	end_call(v, own);
}

/* Port I/O exits to userspace, where the VMM's devices answer; KVM then
 * completes the instruction (complete_fast_pio_*), unless the device
 * ended the VM (isa-debug-exit), when it never completes. */
static void vcpu_insn_io(struct mv_guest *g, uint16_t port, unsigned size,
			 bool in, uint32_t *data, unsigned count)
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);

	exit_begin(v, KVM_EXIT_IO, port, false, 0);
	exit_slow(v, KVM_EXIT_IO);
	if (hw_platform_io_insn(g->platform, port, size, in, data, count))
		retire_skipped(v);
	vcpu_enter(v);
	end_call(v, own);
}

/* HLT exits; KVM skips it (counted: kvm_emulate_halt, or the fastpath's
 * handle_fastpath_hlt when no mediated counter counts instructions, as in
 * exit_halt) and the vCPU blocks until an event, which the engine decides
 * about. */
static void vcpu_insn_hlt(struct mv_guest *g)
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);

	exit_halt(v);
	retire_skipped(v);
	vcpu_enter(v);
	end_call(v, own);
}

static void vcpu_headroom(struct mv_guest *g, struct hw_headroom *h)
{
	hw_pmu_headroom(V(g)->cpu, g->kernel, h);
}

/* KVM's emulated local APIC behind the xAPIC page (apic_mmio_read/write):
 * the same virtual LVTPC the x2APIC MSR reaches. */
static void kvm_apic_mmio(struct kvm_vcpu *v, uint32_t off, unsigned size, bool write,
			  uint64_t *val)
{
	hw_apic_mmio(&v->apic_misc, &v->lvtpc, (unsigned)v->idx, off, size, write, val);
	sim_trace(v->vm->kvm->sim, TR_NOTE, off, *val, write, write ? "xapic write" : "xapic read");
}

/* An access to the xAPIC page exits (VMX APIC access with the APIC-access
 * page, SVM NPF without AVIC); KVM's emulator completes the instruction
 * and skips it, counted in software (x86_emulate_instruction ->
 * kvm_pmu_instruction_retired), like the other instructions it completes. */
static bool vcpu_insn_mmio(struct mv_guest *g, uint32_t off, unsigned size, bool write,
			   uint64_t *val, int how)
{
	struct kvm_vcpu *v = V(g);
	bool own;

	if (how == MV_MMIO_EMULATED) {	/* inside KVM's emulation already */
		kvm_apic_mmio(v, off, size, write, val);
		return false;
	}
	own = begin_call(v);
	exit_begin(v, KVM_EXIT_APIC, APIC_BASE_DEFAULT + off, false, 0);
	exit_slow(v, KVM_EXIT_APIC);
	kvm_apic_mmio(v, off, size, write, val);
	if (how == MV_MMIO_SKIP)
		retire_skipped(v);
	vcpu_enter(v);
	end_call(v, own);
	return how == MV_MMIO_SKIP;
}

/* KVM intercepts #UD (its exception bitmap always has it).  handle_ud:
 * with force_emulation_prefix and the prefix at RIP, RIP moves past it and
 * the instruction is emulated (kvm_emulate_instruction with
 * EMULTYPE_TRAP_UD_FORCED), which counts it in software, a branch as a
 * branch (x86_emulate_instruction -> kvm_pmu_instruction_retired and
 * kvm_pmu_branch_retired); otherwise the #UD is injected back. */
static int vcpu_insn_ud(struct mv_guest *g, bool fep, bool branch,
			bool (*emulate)(void *arg), void *arg)
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);
	int r = -1;

	exit_begin(v, KVM_EXIT_UD, 6, false, 0);
	exit_slow(v, KVM_EXIT_UD);
	if (fep && v->vm->kvm->params.force_emulation_prefix) {
		r = emulate(arg);
		if (r > 0) {
			uint64_t ev[MV_EV_NR] = { 0 };

			ev[MV_EV_INSTRUCTIONS] = 1;
			ev[MV_EV_BRANCHES] = branch;
			sim_truth_add(&v->vm->kvm->sim->truth, v->ctx, g->kernel, g->label, ev);
			sim_trace(v->vm->kvm->sim, TR_NOTE, branch, 0, 0, "forced emulation");
			kvm_pmu_instruction_retired(v, branch);
		}
	}
	vcpu_enter(v);
	end_call(v, own);
	return r;
}

static void vcpu_apic_init(struct mv_guest *g, bool x2apic)
{
	hw_apic_misc_set_mode(&V(g)->apic_misc, x2apic);
}

/* Each instruction of real code's interrupt handler (in this model, the
 * guest's PMI handler): the points exploration may exit at. */
static bool vcpu_insn_point(struct mv_guest *g)
{
	return kvm_vcpu_exit_point(g->env, SIM_PT_GUEST_INSN, "guest-insn/pmi-handler");
}

static const struct mv_guest_ops vcpu_ops = {
	.wrmsr = vcpu_wrmsr, .rdmsr = vcpu_rdmsr, .rdpmc = vcpu_rdpmc,
	.cpuid = vcpu_cpuid, .run = vcpu_run_work, .emulate = vcpu_emulate,
	.set_cpl = vcpu_set_cpl, .set_cr4_pce = vcpu_set_cr4_pce,
	.insn_wrmsr = vcpu_insn_wrmsr, .insn_rdmsr = vcpu_insn_rdmsr,
	.insn_rdpmc = vcpu_insn_rdpmc, .insn_cpuid = vcpu_insn_cpuid,
	.insn_io = vcpu_insn_io, .insn_hlt = vcpu_insn_hlt,
	.headroom = vcpu_headroom, .insn_mmio = vcpu_insn_mmio, .insn_ud = vcpu_insn_ud,
	.apic_init = vcpu_apic_init, .insn_point = vcpu_insn_point,
};

/* ---- running ---- */

bool kvm_vcpu_run(struct kvm_vcpu *v, bool (*guest_step)(void *arg), void *arg,
		  uint64_t until)
{
	struct kvm *kvm = v->vm->kvm;
	bool more = true;

	kvm->running[v->cpu->id] = v;
	vcpu_enter(v);
	while (more && kvm->sim->cycle < until)
		more = guest_step(arg);
	/* The host's timer ends the slice; a finished guest halts. */
	if (more) {
		exit_begin(v, KVM_EXIT_EXTINT, HOST_TIMER_VECTOR, false, HOST_TIMER_VECTOR);
		exit_slow(v, KVM_EXIT_EXTINT);
	} else {
		exit_halt(v);
	}
	kvm->running[v->cpu->id] = NULL;
	hw_cpu_set_bucket(v->cpu, SIM_T_HOST);
	return more;
}

/* ---- the mediated PMI callback and the ordering invariant ---- */

static void kvm_mediated_pmi(void *arg, int cpu)
{
	struct kvm *kvm = arg;
	struct kvm_vcpu *v = cpu >= 0 && cpu < kvm->nr_cpus ? kvm->running[cpu] : NULL;

	sim_check(kvm->sim, INV_PMI, v && v->pmu.mediated,
		  "mediated PMI vector on cpu%d with no mediated vCPU loaded", cpu);
	if (v)
		kvm_pmu_request_pmi(v);
}

/* Invariant 4's check for writes KVM does not make itself during the
 * switch (perf's LVTPC switch): the CPU's on_pmu_write hook, armed only
 * while a vCPU on the CPU switches (kvm_set_switching).  KVM's own writes
 * check inline (kvm_check_switch_write, kvm_pmu_mediated.c). */
void kvm_check_write(struct hw_cpu *cpu, uint32_t msr, uint64_t val, void *opaque)
{
	struct kvm *kvm = opaque;
	struct kvm_vcpu *v = kvm->running[cpu->id];

	(void)val;
	if (v && v->switching)
		kvm_check_switch_write(v, msr);
}

/* ---- creation ---- */

/* The module's decision, once for the host (kvm_init_pmu_capability and
 * the vendor's is_mediated_pmu_supported at load): a hybrid host gets no
 * vPMU; enable_mediated_pmu needs enable_pmu, perf's mediated capability
 * and the vendor's requirements, else it is forced off (read-only after
 * load, so every VM then has the legacy vPMU). */
static void decide_params(struct kvm *kvm)
{
	const char *why = NULL;

	if (kvm->cpus[0]->model->hybrid && kvm->params.enable_pmu) {
		kvm->params.enable_pmu = false;
		why = "hybrid host: KVM gives hybrid PMUs no vPMU";
	}
	if (kvm->params.enable_mediated_pmu) {
		if (!kvm->params.enable_pmu)
			why = why ? why : "enable_pmu is off";
		else if (!(why = kvm->pmu_ops->mediated_unsupported(kvm)) &&
			 !kvm->host_pmu.mediated)
			why = "perf does not offer the mediated capability";
		if (why)
			kvm->params.enable_mediated_pmu = false;
	}
	snprintf(kvm->params_reason, sizeof(kvm->params_reason), "%s", why ? why : "");
}

struct kvm *kvm_new(struct sim *sim, struct hw_cpu *cpus[], int nr_cpus,
		    struct perf *host_perf, const struct kvm_params *params)
{
	struct kvm *kvm = calloc(1, sizeof(*kvm));

	if (!kvm)
		return NULL;
	kvm->sim = sim;
	kvm->nr_cpus = nr_cpus < PERF_MAX_CPUS ? nr_cpus : PERF_MAX_CPUS;
	kvm->perf = host_perf;
	kvm->params = *params;
	for (int i = 0; i < kvm->nr_cpus; i++) {
		struct hw_cpu *cpu = cpus[i];

		kvm->cpus[i] = cpu;
		cpu->hooks.guest_intr = kvm_guest_intr;
		cpu->hooks.guest_opaque = kvm;
		cpu->hooks.on_pmu_write = NULL;	/* armed by kvm_set_switching */
		cpu->hooks.write_opaque = kvm;
	}
	bool intel = cpus[0]->model->vendor == HW_INTEL;

	kvm->x86 = intel ? &kvm_vmx_ops : &kvm_svm_ops;
	kvm->pmu_ops = intel ? &kvm_intel_pmu_ops : &kvm_amd_pmu_ops;
	perf_get_pmu_caps(host_perf, &kvm->host_pmu);
	decide_params(kvm);
	kvm_init_pmu_capability(kvm);
	sim_trace(sim, TR_NOTE, kvm->params.enable_pmu, kvm->params.enable_mediated_pmu,
		  kvm->params.patches, "kvm module parameters");
	/* KVM turns SVM on (host EFER.SVME = 1) and tells perf, which then
	 * keeps HostOnly on exclude_guest events (Linux amd_pmu_enable_virt). */
	for (int i = 0; !intel && i < kvm->nr_cpus; i++) {
		kvm->cpus[i]->efer |= EFER_SVME;
		perf_amd_enable_virt(host_perf, host_cpu_index(host_perf, kvm->cpus[i]));
	}
	perf_register_guest_pmi(host_perf, kvm_mediated_pmi, kvm);
	return kvm;
}

void kvm_free(struct kvm *kvm)
{
	if (!kvm)
		return;
	for (int i = 0; i < KVM_MAX_VMS; i++)
		kvm_vm_destroy(kvm->vms[i]);
	/* The CPUs outlive the hypervisor (the host tears perf down after). */
	for (int i = 0; i < kvm->nr_cpus; i++) {
		struct hw_cpu_hooks *h = &kvm->cpus[i]->hooks;

		h->guest_intr = NULL;
		h->guest_opaque = NULL;
		h->on_pmu_write = NULL;
		h->write_opaque = NULL;
	}
	perf_register_guest_pmi(kvm->perf, NULL, NULL);
	free(kvm);
}

struct kvm_knobs *kvm_knobs(struct kvm *kvm)
{
	return &kvm->knobs;
}

void kvm_warn(struct kvm *kvm, const char *msg)
{
	if (!kvm->nr_warnings++)
		kvm->first_warning = msg;
	sim_trace(kvm->sim, TR_NOTE, 0, kvm->nr_warnings, 0, msg);
}

uint64_t kvm_warnings(const struct kvm *kvm, const char **first)
{
	if (first)
		*first = kvm->first_warning;
	return kvm->nr_warnings;
}

uint64_t kvm_switch_wrmsrs(const struct kvm *kvm)
{
	return kvm->switch_wrmsrs;
}

uint64_t kvm_exits_mediated_pmi(const struct kvm *kvm)
{
	return kvm->exits_mediated_pmi;
}

const struct kvm_params *kvm_get_params(const struct kvm *kvm)
{
	return &kvm->params;
}

const char *kvm_params_reason(const struct kvm *kvm)
{
	return kvm->params_reason;
}

struct kvm_vm *kvm_vm_create(struct kvm *kvm, int index,
			     const struct mv_vm_config *cfg, char *err, size_t errlen)
{
	struct kvm_vm *vm;
	int rc;

	if (index < 0 || index >= KVM_MAX_VMS || kvm->vms[index]) {
		snprintf(err, errlen, "vm index %d is invalid or taken", index);
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	vm->kvm = kvm;
	vm->index = index;
	vm->cfg = *cfg;
	vm->effective = MV_VPMU_NONE;
	rc = kvm_pmu_filter_from_config(&cfg->filter, kvm->cpus[0]->model->vendor == HW_AMD,
					&vm->filter);
	if (rc) {
		snprintf(err, errlen, "%s: event filter rejected (%s)", cfg->name,
			 rc == -E2BIG ? "E2BIG" : "EINVAL");
		free(vm);
		return NULL;
	}
	kvm->vms[index] = vm;
	/* The VMM asks for the capability before any vCPU; refused without
	 * enable_pmu, where the VM has no PMU anyway. */
	if (cfg->disable_pmu)
		(void)kvm_vm_disable_pmu(vm);
	return vm;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (!vm)
		return;
	for (int i = 0; i < KVM_MAX_VCPUS; i++) {
		if (!vm->vcpus[i])
			continue;
		kvm_pmu_destroy(vm->vcpus[i]);
		free(vm->vcpus[i]);
	}
	kvm_mediated_vm_release(vm);
	kvm_pmu_filter_free(vm->filter);
	vm->kvm->vms[vm->index] = NULL;
	free(vm);
}

/* KVM_CAP_PMU_CAPABILITY (7.0 kvm_vm_ioctl_enable_cap): EINVAL without
 * enable_pmu, and once vCPUs exist or the mediated PMU was created (a vCPU
 * creation that failed with EBUSY leaves neither, so disabling the PMU and
 * retrying is allowed). */
int kvm_vm_disable_pmu(struct kvm_vm *vm)
{
	if (!vm->kvm->params.enable_pmu || vm->nr_vcpus > 0 || vm->mediated_created)
		return -EINVAL;
	vm->pmu_disabled = true;
	return 0;
}

int kvm_vm_set_filter(struct kvm_vm *vm, const struct mv_filter *f)
{
	struct kvm_pmu_filter *nf = NULL;
	int rc = kvm_pmu_filter_from_config(f, vm->kvm->cpus[0]->model->vendor == HW_AMD, &nf);

	if (rc)
		return rc;
	kvm_pmu_filter_free(vm->filter);
	vm->filter = nf;
	/* Every counter is reprogrammed: emulated events are recreated now,
	 * mediated hardware selectors are recomputed at the next load. */
	for (int i = 0; i < KVM_MAX_VCPUS; i++) {
		struct kvm_vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		if (v->pmu.mediated)
			v->pmu.reprogram_all = true;
		else if (v->pmu.enabled)
			kvm_pmu_reprogram_all(v);
	}
	return 0;
}

static bool vm_pmu_on(const struct kvm_vm *vm)
{
	return vm->kvm->params.enable_pmu && !vm->pmu_disabled && !vm->pmu_off_irqchip;
}

/* kvm_arch_vcpu_precreate (7.0): with enable_mediated_pmu, the first vCPU
 * of a VM with a PMU creates the mediated PMU if the VM has an in-kernel
 * irqchip, and disables the VM's PMU if it has not.  If perf refuses,
 * KVM_CREATE_VCPU fails with its error and the kernel warns; there is no
 * fallback to the legacy vPMU. */
static int vcpu_precreate(struct kvm_vm *vm)
{
	struct kvm *kvm = vm->kvm;
	int rc;

	if (!kvm->params.enable_mediated_pmu || !vm_pmu_on(vm) || vm->mediated_created)
		return 0;
	if (vm->cfg.no_irqchip) {
		vm->pmu_off_irqchip = true;
		return 0;
	}
	rc = kvm_mediated_vm_init(vm);
	if (rc) {
		snprintf(vm->warning, sizeof(vm->warning), "%s", PERF_MEDIATED_PMU_MSG);
		sim_trace(kvm->sim, TR_NOTE, (uint32_t)-rc, (uint64_t)vm->index, 0, PERF_MEDIATED_PMU_MSG);
	}
	return rc;
}

/* What the VM has: decided by the module parameters, the VM's disable
 * capability and its irqchip, never asked per VM. */
static void decide_vpmu(struct kvm_vm *vm)
{
	struct kvm *kvm = vm->kvm;
	const char *why = NULL;

	if (!kvm->params.enable_pmu)
		why = kvm->params_reason[0] ? kvm->params_reason : "enable_pmu is off";
	else if (vm->pmu_disabled)
		why = "PMU disabled for the VM (KVM_CAP_PMU_CAPABILITY)";
	else if (vm->pmu_off_irqchip)
		why = "no in-kernel irqchip: the mediated vPMU disables the VM's PMU";
	if (why) {
		vm->effective = MV_VPMU_NONE;
		snprintf(vm->fallback, sizeof(vm->fallback), "%s", why);
		return;
	}
	vm->effective = kvm->params.enable_mediated_pmu ? MV_VPMU_MEDIATED : MV_VPMU_EMULATED;
	snprintf(vm->fallback, sizeof(vm->fallback), "%s", kvm->params_reason);
}

struct kvm_vcpu *kvm_vcpu_create(struct kvm_vm *vm, int idx, int pcpu)
{
	struct kvm *kvm = vm->kvm;
	struct kvm_vcpu *v;
	int rc;

	if (idx < 0 || idx >= KVM_MAX_VCPUS) {
		vm->create_err = -EINVAL;
		return NULL;
	}
	if ((rc = vcpu_precreate(vm))) {
		vm->create_err = rc;
		return NULL;
	}
	/* As in kvm_vm_ioctl_create_vcpu, later failures do not undo the
	 * precreate (the mediated PMU stays created). */
	if (vm->vcpus[idx] || pcpu < 0 || pcpu >= kvm->nr_cpus) {
		vm->create_err = vm->vcpus[idx] ? -EEXIST : -EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		vm->create_err = -ENOMEM;
		return NULL;
	}
	vm->create_err = 0;
	if (vm->nr_vcpus == 0)
		decide_vpmu(vm);
	v->vm = vm;
	v->idx = idx;
	v->ctx = SIM_CTX_GUEST(vm->index, idx);
	v->cpu = kvm->cpus[pcpu];
	v->perf_cpu = host_cpu_index(kvm->perf, v->cpu);
	v->lvtpc = APIC_LVTPC_RESET;
	hw_apic_misc_reset(&v->apic_misc);
	v->task = (struct perf_task){ .id = 100 + 4 * vm->index + idx, .name = "vcpu" };
	v->g = (struct mv_guest){ .ops = &vcpu_ops, .env = v, .cpu = idx };
	kvm->x86->vcpu_init(v);
	kvm_pmu_init(v, &vm->cfg);
	kvm_mediated_recalc_intercepts(v);
	if (v->pmu.mediated)
		kvm->pmu_ops->pmc_eventsel_hw(v, NULL);
	vm->vcpus[idx] = v;
	vm->nr_vcpus++;
	return v;
}

struct mv_guest *kvm_vcpu_guest(struct kvm_vcpu *v) { return &v->g; }
struct perf_task *kvm_vcpu_task(struct kvm_vcpu *v) { return &v->task; }
int kvm_vcpu_pcpu(const struct kvm_vcpu *v) { return v->cpu->id; }
enum mv_vpmu kvm_vm_vpmu(const struct kvm_vm *vm) { return vm->effective; }
const char *kvm_vm_fallback_reason(const struct kvm_vm *vm) { return vm->fallback; }
int kvm_vm_create_error(const struct kvm_vm *vm) { return vm->create_err; }
const char *kvm_vm_warning(const struct kvm_vm *vm) { return vm->warning; }
uint64_t kvm_vm_guest_pmis(const struct kvm_vm *vm) { return vm->nr_pmis; }

bool kvm_vm_event_allowed(const struct kvm_vm *vm, uint64_t eventsel)
{
	return kvm_pmu_filter_gp_allowed(vm->filter, eventsel);
}

bool kvm_vm_fixed_allowed(const struct kvm_vm *vm, unsigned idx)
{
	return kvm_pmu_filter_fixed_allowed(vm->filter, idx);
}

/* Exit counts by vendor reason name (VMX and SVM name some reasons alike). */
static unsigned exit_reasons(const struct kvm *kvm, const uint64_t exits[KVM_EXIT_NR],
			     const char **names, uint64_t *counts, unsigned max)
{
	unsigned n = 0;

	for (int r = 0; r < KVM_EXIT_NR; r++) {
		const char *name = kvm->x86->exit_name((enum kvm_exit)r);
		unsigned j;

		if (!exits[r])
			continue;
		for (j = 0; j < n && strcmp(names[j], name); j++)
			;
		if (j == n) {
			if (n == max)
				break;
			names[n] = name;
			counts[n++] = 0;
		}
		counts[j] += exits[r];
	}
	return n;
}

unsigned kvm_exit_reasons(const struct kvm *kvm, const char **names,
			  uint64_t *counts, unsigned max)
{
	return exit_reasons(kvm, kvm->exits, names, counts, max);
}

static uint64_t exits_sum(const uint64_t exits[KVM_EXIT_NR])
{
	uint64_t t = 0;

	for (int r = 0; r < KVM_EXIT_NR; r++)
		t += exits[r];
	return t;
}

uint64_t kvm_exits_total(const struct kvm *kvm)
{
	return exits_sum(kvm->exits);
}

uint64_t kvm_exits_fastpath(const struct kvm *kvm)
{
	return kvm->exits_fastpath;
}

static void msr_stats_out(const struct kvm_msr_stats *st, struct mv_exit_stats *out)
{
	unsigned n = st->nr < MV_MAX_MSR_EXITS ? st->nr : MV_MAX_MSR_EXITS;

	out->nr_msrs = n;
	out->msr_other = st->other;
	for (unsigned i = 0; i < st->nr; i++) {
		if (i < n)
			out->msrs[i] = (struct mv_msr_exit_count){ st->msr[i], st->count[i] };
		else
			out->msr_other += st->count[i];
	}
}

void kvm_exit_msrs(const struct kvm *kvm, struct mv_exit_stats *out)
{
	msr_stats_out(&kvm->msr_exits, out);
}

void kvm_vm_describe(const struct kvm_vm *vm, struct mv_vm_result *out)
{
	const struct kvm_vcpu *v = NULL;
	const char *names[MV_MAX_EXIT_REASONS];
	uint64_t counts[MV_MAX_EXIT_REASONS];
	unsigned n;

	for (int i = 0; i < KVM_MAX_VCPUS && !v; i++)
		v = vm->vcpus[i];
	out->vpmu = vm->effective;
	snprintf(out->vpmu_reason, sizeof(out->vpmu_reason), "%s", vm->fallback);
	if (v && v->pmu.enabled) {
		const struct kvm_pmu *pmu = &v->pmu;

		out->version = pmu->version;
		out->gp = pmu->nr_gp;
		out->fixed = pmu->nr_fixed;
		out->gp_width = pmu->gp_width;
		out->fixed_width = pmu->fixed_width;
		out->perf_caps = pmu->perf_caps;
		out->pt_global_msrs = pmu->mediated && pmu->passthrough_global;
		out->pt_rdpmc = pmu->mediated && pmu->passthrough_rdpmc;
		out->nr_pt_counters = pmu->mediated ?
			vcpu_pmu_ops(v)->pt_counters(v, out->pt_counters, MV_MAX_PT_COUNTERS) : 0;
	}
	out->exits.total = exits_sum(vm->exits);
	out->exits.fastpath = vm->exits_fastpath;
	n = exit_reasons(vm->kvm, vm->exits, names, counts, MV_MAX_EXIT_REASONS);
	for (unsigned i = 0; i < n; i++) {
		snprintf(out->exits.reasons[i].reason, sizeof(out->exits.reasons[i].reason),
			 "%s", names[i]);
		out->exits.reasons[i].count = counts[i];
	}
	out->exits.nr_reasons = n;
	msr_stats_out(&vm->msr_exits, &out->exits);
}
