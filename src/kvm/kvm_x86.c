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
#define HOST_TIMER_VECTOR 0xEC	/* Linux LOCAL_TIMER_VECTOR */

static struct kvm_vcpu *V(struct mv_guest *g)
{
	return g->env;
}

void kvm_charge(struct kvm_vcpu *v, uint32_t cycles)
{
	sim_advance(v->vm->kvm->sim, cycles, SIM_T_HOST_FOR_GUEST);
}

void kvm_exit_count(struct kvm *kvm, enum kvm_exit reason, bool fast)
{
	kvm->exits[reason]++;
	if (fast)
		kvm->exits_fastpath++;
}

static int perf_cpu(const struct kvm_vcpu *v)
{
	return host_cpu_index(v->vm->kvm->perf, v->cpu);
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

/* The outer loop's entry: interrupts off, PMU loaded, requests served. */
static void vcpu_enter(struct kvm_vcpu *v)
{
	struct kvm *kvm = v->vm->kvm;
	struct kvm_pmc *pmc;
	unsigned i;

	perf_irq_disable(kvm->perf, perf_cpu(v));
	kvm_for_each_pmc(&v->pmu, pmc, i)
		if (pmc->reprogram)
			kvm_emul_reprogram(v, pmc);
	kvm_mediated_pmu_load(v);
	kvm_pmu_deliver_pmi(v);
	v->ran = true;
	hw_enter(v);
	deliver_guest_interrupts(v);
}

/* Hardware exit, and the host interrupt that caused it handled with
 * interrupts still off (KVM's handle_exit_irqoff). */
static void exit_begin(struct kvm_vcpu *v, enum kvm_exit reason, uint64_t qual,
		       bool nmi, unsigned vector)
{
	struct kvm *kvm = v->vm->kvm;

	kvm->x86->exit(v, reason, qual);
	v->in_guest = false;
	v->cpu->bucket = SIM_T_HOST_FOR_GUEST;
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
}

/* Leaving the inner loop: mediated put, interrupts back on. */
static void exit_slow(struct kvm_vcpu *v, enum kvm_exit reason)
{
	struct kvm *kvm = v->vm->kvm;

	kvm_exit_count(kvm, reason, false);
	kvm_mediated_pmu_put(v);
	perf_irq_enable(kvm->perf, perf_cpu(v));
	kvm_charge(v, vcpu_host_model(v)->cost.exit_slowpath);
}

static void exit_fast(struct kvm_vcpu *v, enum kvm_exit reason)
{
	kvm_exit_count(v->vm->kvm, reason, true);
	kvm_charge(v, vcpu_host_model(v)->cost.exit_fastpath);
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
	exit_begin(v, reason, vector, nmi, vector);
	exit_slow(v, reason);
	vcpu_enter(v);
}

/* ---- MSR emulation ---- */

/* KVM's fastpath handles a few MSR writes (TSC deadline) without leaving
 * the inner loop, but not while a mediated counter counts instructions or
 * branches: the skipped instruction would have to be counted in software
 * with the guest's counters in the hardware. */
static bool fastpath_ok(struct kvm_vcpu *v, uint32_t msr)
{
	if (msr != MSR_IA32_TSC_DEADLINE)
		return false;
	return !(v->pmu.mediated && kvm_pmu_counts_insns(v));
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
	case MSR_EFER: {
		uint64_t old = v->guest_efer;

		v->guest_efer = val;
		kvm_nested_svm_efer_changed(v, old);	/* L1's SVME qualifies its H/G bits */
		return X86_OK;
	}
	case MSR_IA32_DEBUGCTL:
		/* KVM does not virtualize FREEZE_PERFMON_ON_PMI (docs/kvm.md). */
		return (val & ~0x3ULL) ? X86_GP : X86_OK;
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
	case MSR_EFER:
		*val = v->guest_efer;
		return X86_OK;
	}
	return kvm_pmu_get_msr(v, msr, val);
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
	exit_begin(v, KVM_EXIT_HLT, 0, false, 0);
	exit_slow(v, KVM_EXIT_HLT);
	v->vm->kvm->running[v->cpu->id] = NULL;
	v->cpu->bucket = SIM_T_HOST;
}

static int vcpu_wrmsr_in(struct mv_guest *g, uint32_t msr, uint64_t val)
{
	struct kvm_vcpu *v = V(g);
	int fault;

	if (!v->vm->kvm->x86->msr_exits(v, msr, true))
		return hw_wrmsr(v->cpu, msr, val);
	exit_begin(v, KVM_EXIT_MSR_WRITE, msr, false, 0);
	if (fastpath_ok(v, msr)) {
		exit_fast(v, KVM_EXIT_MSR_WRITE);
		fault = kvm_set_msr(v, msr, val, false);
		hw_enter(v);
		deliver_guest_interrupts(v);
		return fault;
	}
	exit_slow(v, KVM_EXIT_MSR_WRITE);
	fault = kvm_set_msr(v, msr, val, false);
	vcpu_enter(v);
	return fault;
}

static int vcpu_rdmsr_in(struct mv_guest *g, uint32_t msr, uint64_t *val)
{
	struct kvm_vcpu *v = V(g);
	int fault;

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

	exit_begin(v, KVM_EXIT_CPUID, leaf, false, 0);
	exit_slow(v, KVM_EXIT_CPUID);
	hw_cpuid(v->cpu, leaf, sub, r);
	kvm_pmu_cpuid(v, leaf, r);
	vcpu_enter(v);
}

static void vcpu_run_work_in(struct mv_guest *g, const struct mv_work *w)
{
	hw_run_work(V(g)->cpu, w);
}

/* An instruction KVM emulates: it retires in the guest (ground truth)
 * without the hardware seeing it, so the vPMU counts it in software. */
static void vcpu_emulate_in(struct mv_guest *g, bool branch)
{
	struct kvm_vcpu *v = V(g);
	uint64_t ev[MV_EV_NR] = { 0 };

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
	return kvm_set_msr(v, msr, val, false);
}

static int insn_get_msr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val)
{
	int fault;

	if (hw_apic_misc_rdmsr(&v->apic_misc, (unsigned)v->idx, msr, val, &fault))
		return fault;
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
	hw_cpuid(v->cpu, leaf, sub, r);
	kvm_pmu_cpuid(v, leaf, r);
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
	for (unsigned i = 0; i < count; i++) {
		if (g->platform)
			hw_platform_io(g->platform, port, size, in, &data[i]);
		else if (in)
			data[i] = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
	}
	if (!g->platform || !g->platform->exited)
		retire_skipped(v);
	vcpu_enter(v);
	end_call(v, own);
}

/* HLT exits; kvm_emulate_halt() skips it (counted) and the vCPU blocks
 * until an event, which the engine decides about. */
static void vcpu_insn_hlt(struct mv_guest *g)
{
	struct kvm_vcpu *v = V(g);
	bool own = begin_call(v);

	exit_begin(v, KVM_EXIT_HLT, 0, false, 0);
	exit_slow(v, KVM_EXIT_HLT);
	retire_skipped(v);
	vcpu_enter(v);
	end_call(v, own);
}

static void vcpu_headroom(struct mv_guest *g, struct hw_headroom *h)
{
	hw_pmu_headroom(V(g)->cpu, g->kernel, h);
}

static const struct mv_guest_ops vcpu_ops = {
	.wrmsr = vcpu_wrmsr, .rdmsr = vcpu_rdmsr, .rdpmc = vcpu_rdpmc,
	.cpuid = vcpu_cpuid, .run = vcpu_run_work, .emulate = vcpu_emulate,
	.set_cpl = vcpu_set_cpl, .set_cr4_pce = vcpu_set_cr4_pce,
	.insn_wrmsr = vcpu_insn_wrmsr, .insn_rdmsr = vcpu_insn_rdmsr,
	.insn_rdpmc = vcpu_insn_rdpmc, .insn_cpuid = vcpu_insn_cpuid,
	.insn_io = vcpu_insn_io, .insn_hlt = vcpu_insn_hlt,
	.headroom = vcpu_headroom,
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
		exit_begin(v, KVM_EXIT_HLT, 0, false, 0);
		exit_slow(v, KVM_EXIT_HLT);
	}
	kvm->running[v->cpu->id] = NULL;
	v->cpu->bucket = SIM_T_HOST;
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

static bool is_guest_state_msr(uint32_t msr)
{
	return msr == MSR_X2APIC_LVTPC ||
	       (msr >= MSR_IA32_PMC0 && msr < MSR_IA32_PMC0 + HW_MAX_GP) ||
	       (msr >= MSR_IA32_A_PMC0 && msr < MSR_IA32_A_PMC0 + HW_MAX_GP) ||
	       (msr >= MSR_IA32_PERFEVTSEL0 && msr < MSR_IA32_PERFEVTSEL0 + HW_MAX_GP) ||
	       (msr >= MSR_IA32_FIXED_CTR0 && msr < MSR_IA32_FIXED_CTR0 + HW_MAX_FIXED) ||
	       (msr >= MSR_K7_EVNTSEL0 && msr < MSR_K7_PERFCTR0 + 4) ||
	       (msr >= MSR_F15H_PERF_CTL0 && msr < MSR_F15H_PERF_CTL0 + 2 * HW_MAX_GP);
}

/* Invariant 4: while KVM switches the PMU, LVTPC and counter/selector
 * writes happen with the hardware GLOBAL_CTRL at 0. */
static void kvm_check_write(struct hw_cpu *cpu, uint32_t msr, uint64_t val, void *opaque)
{
	struct kvm *kvm = opaque;
	struct kvm_vcpu *v = kvm->running[cpu->id];

	(void)val;
	if (!v || !v->switching || !is_guest_state_msr(msr))
		return;
	sim_check(kvm->sim, INV_ORDERING, cpu->pmu.global_ctrl == 0,
		  "msr %#x written during the PMU switch with GLOBAL_CTRL=%#llx",
		  msr, (unsigned long long)cpu->pmu.global_ctrl);
}

/* ---- creation ---- */

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
		cpu->hooks.on_pmu_write = kvm_check_write;
		cpu->hooks.write_opaque = kvm;
	}
	bool intel = cpus[0]->model->vendor == HW_INTEL;

	kvm->x86 = intel ? &kvm_vmx_ops : &kvm_svm_ops;
	kvm->pmu_ops = intel ? &kvm_intel_pmu_ops : &kvm_amd_pmu_ops;
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

/* What the host offers the mediated vPMU (Linux 7.0): Intel PMU v4+
 * with full-width writes and the VMCS GLOBAL_CTRL load controls; AMD
 * PerfMonV2; and perf's capability flag on the core PMU. */
static const char *mediated_unsupported(const struct kvm *kvm)
{
	const struct hw_model *m = kvm->cpus[0]->model;

	if (!kvm->params.enable_mediated_pmu)
		return "enable_mediated_pmu is off";
	if (m->vendor == HW_INTEL) {
		if (m->pmu_version < 4)
			return "host PMU version below 4";
		if (!(m->perf_caps & PERF_CAP_FW_WRITE))
			return "host lacks full-width counter writes";
		if (!m->vmx_load_global_ctrl)
			return "host lacks the VMCS PERF_GLOBAL_CTRL load controls";
	} else if (!m->amd_perfmon_v2) {
		return "host lacks PerfMonV2";
	}
	if (!perf_mediated_capable(kvm->perf))
		return "perf does not offer the mediated capability";
	return NULL;
}

struct kvm_vm *kvm_vm_create(struct kvm *kvm, int index,
			     const struct mv_vm_config *cfg, enum mv_vpmu vpmu,
			     char *err, size_t errlen)
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
	vm->asked = vpmu;
	vm->effective = vpmu;
	vm->pmu_disabled = cfg->disable_pmu;
	rc = kvm_pmu_filter_from_config(&cfg->filter, kvm->cpus[0]->model->vendor == HW_AMD,
					&vm->filter);
	if (rc) {
		snprintf(err, errlen, "%s: event filter rejected (%s)", cfg->name,
			 rc == -E2BIG ? "E2BIG" : "EINVAL");
		free(vm);
		return NULL;
	}
	kvm->vms[index] = vm;
	return vm;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (!vm)
		return;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		kvm_pmu_destroy(vm->vcpus[i]);
		free(vm->vcpus[i]);
	}
	kvm_mediated_vm_release(vm);
	kvm_pmu_filter_free(vm->filter);
	vm->kvm->vms[vm->index] = NULL;
	free(vm);
}

int kvm_vm_disable_pmu(struct kvm_vm *vm)
{
	/* KVM_CAP_PMU_CAPABILITY is refused once a vCPU exists. */
	if (vm->nr_vcpus > 0)
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
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = vm->vcpus[i];

		if (v->pmu.mediated)
			v->pmu.reprogram_all = true;
		else if (v->pmu.enabled)
			kvm_pmu_reprogram_all(v);
	}
	return 0;
}

/* At the first vCPU KVM decides the VM's vPMU: mediated if asked for and
 * possible, else the emulated vPMU (KVM's fallback), or none. */
static void decide_vpmu(struct kvm_vm *vm)
{
	struct kvm *kvm = vm->kvm;
	const char *why;

	if (!kvm->params.enable_pmu || vm->pmu_disabled) {
		vm->effective = MV_VPMU_NONE;
		snprintf(vm->fallback, sizeof(vm->fallback), "%s",
			 vm->pmu_disabled ? "PMU disabled for the VM" : "enable_pmu is off");
		return;
	}
	if (vm->asked != MV_VPMU_MEDIATED)
		return;
	why = mediated_unsupported(kvm);
	if (!why && kvm_mediated_vm_init(vm) != 0)
		why = "perf refused the mediated PMU (EBUSY: a host event counts guests)";
	if (why) {
		vm->effective = MV_VPMU_EMULATED;
		snprintf(vm->fallback, sizeof(vm->fallback), "%s", why);
	}
}

struct kvm_vcpu *kvm_vcpu_create(struct kvm_vm *vm, int idx, int pcpu)
{
	struct kvm *kvm = vm->kvm;
	struct kvm_vcpu *v;

	if (idx < 0 || idx >= KVM_MAX_VCPUS || vm->vcpus[idx] || pcpu < 0 || pcpu >= kvm->nr_cpus)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	if (vm->nr_vcpus == 0)
		decide_vpmu(vm);
	v->vm = vm;
	v->idx = idx;
	v->ctx = SIM_CTX_GUEST(vm->index, idx);
	v->cpu = kvm->cpus[pcpu];
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
uint64_t kvm_vm_guest_pmis(const struct kvm_vm *vm) { return vm->nr_pmis; }

bool kvm_vm_event_allowed(const struct kvm_vm *vm, uint64_t eventsel)
{
	return kvm_pmu_filter_gp_allowed(vm->filter, eventsel);
}

bool kvm_vm_fixed_allowed(const struct kvm_vm *vm, unsigned idx)
{
	return kvm_pmu_filter_fixed_allowed(vm->filter, idx);
}

unsigned kvm_exit_reasons(const struct kvm *kvm, const char **names,
			  uint64_t *counts, unsigned max)
{
	unsigned n = 0;

	for (int r = 0; r < KVM_EXIT_NR; r++) {
		const char *name = kvm->x86->exit_name((enum kvm_exit)r);
		unsigned j;

		if (!kvm->exits[r])
			continue;
		for (j = 0; j < n && strcmp(names[j], name); j++)
			;
		if (j == n) {
			if (n == max)
				break;
			names[n] = name;
			counts[n++] = 0;
		}
		counts[j] += kvm->exits[r];
	}
	return n;
}

uint64_t kvm_exits_total(const struct kvm *kvm)
{
	uint64_t t = 0;

	for (int r = 0; r < KVM_EXIT_NR; r++)
		t += kvm->exits[r];
	return t;
}

uint64_t kvm_exits_fastpath(const struct kvm *kvm)
{
	return kvm->exits_fastpath;
}
