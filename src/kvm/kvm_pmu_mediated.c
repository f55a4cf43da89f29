/* kvm_pmu_mediated: the mediated vPMU of Linux 7.0.  The guest's counters
 * live in the hardware while it runs; KVM swaps the whole PMU between host
 * and guest around the inner run loop, in the order FACTS.md gives and
 * docs/mediated.md restates: load = perf's guest context in, GLOBAL_CTRL
 * to 0, LVTPC to the mediated vector, counters (only when they differ)
 * and selectors, vendor status and enables; put = the reverse. */
#include <errno.h>

#include "host/host_cpu.h"
#include "kvm_internal.h"

static struct perf *host_perf(const struct kvm_vcpu *v)
{
	return v->vm->kvm->perf;
}

/* The steps of load and put: the name traced (TR_PMU_LOAD/PUT) and the
 * site that names the step for injection points and violations. */
enum switch_step {
	LD_PERF, LD_GCTRL, LD_LVTPC, LD_PMCS, LD_VENDOR,
	PUT_VENDOR, PUT_PMCS, PUT_LVTPC, PUT_PERF, NR_STEPS
};

static const struct {
	const char *what, *site;
} steps[NR_STEPS] = {
	[LD_PERF] = { "perf_load_guest_context", "load/perf_load_guest_context" },
	[LD_GCTRL] = { "global_ctrl=0", "load/global_ctrl=0" },
	[LD_LVTPC] = { "lvtpc=guest", "load/lvtpc=guest" },
	[LD_PMCS] = { "counters+selectors", "load/counters+selectors" },
	[LD_VENDOR] = { "vendor status+enables", "load/vendor status+enables" },
	[PUT_VENDOR] = { "vendor status+enables", "put/vendor status+enables" },
	[PUT_PMCS] = { "counters+selectors", "put/counters+selectors" },
	[PUT_LVTPC] = { "lvtpc=nmi", "put/lvtpc=nmi" },
	[PUT_PERF] = { "perf_put_guest_context", "put/perf_put_guest_context" },
};

/* Each step is an injection point: exploration may deliver a host PMU
 * NMI there, the ordering real hardware will not produce on demand (a PMI
 * in the middle of the switch).  NMIs are not masked by the switch's
 * interrupts-off section. */
static inline __attribute__((always_inline)) void step(struct kvm_vcpu *v,
							enum switch_step s)
{
	struct sim *sim = v->vm->kvm->sim;

	sim_site(sim, steps[s].site);
	if (sim_point(sim, SIM_PT_SWITCH, steps[s].site))
		host_handle_intr(host_perf(v), host_cpu_index(host_perf(v), v->cpu),
				 NMI_VECTOR, true);
	sim_trace(sim, s < PUT_VENDOR ? TR_PMU_LOAD : TR_PMU_PUT, (uint32_t)v->idx, 0, 0,
		  steps[s].what);
}

/* Where host events count in KVM's run loop (before perf's load, after
 * its put), a host counter may overflow: exploration raises its PMI
 * there, through whatever the hardware LVTPC says.  Only a point when a
 * counter counts in host mode.  The PMI is raised whatever the selector's
 * INT bit: Linux programs every event with it (x86_pmu_hw_config), the
 * model's perf only its sampling ones. */
static void host_pmi_point_slow(struct kvm_vcpu *v, const char *label)
{
	struct hw_cpu *cpu = v->cpu;
	const struct hw_model *m = cpu->model;

	for (unsigned i = 0; i < m->nr_gp + HW_MAX_FIXED; i++) {
		bool fixed = i >= m->nr_gp;
		unsigned idx = fixed ? i - m->nr_gp : i;
		bool on = fixed ? cpu->ops->fixed_active(cpu, idx, true) ||
				  cpu->ops->fixed_active(cpu, idx, false) :
				  cpu->ops->gp_active(cpu, idx, true) ||
				  cpu->ops->gp_active(cpu, idx, false);

		if (!on)
			continue;
		if (sim_point(v->vm->kvm->sim, SIM_PT_HOST_PMI, label)) {
			sim_trace(v->vm->kvm->sim, TR_OVERFLOW, fixed ? 32 + idx : idx, idx, 1,
				  "injected host overflow");
			cpu->ops->overflow(cpu, fixed, idx);
			hw_apic_pmi(cpu);
		}
		return;
	}
}

/* Only exhaustive exploration and replays number these points. */
static inline void host_pmi_point(struct kvm_vcpu *v, const char *label)
{
	if (v->vm->kvm->sim->pts)
		host_pmi_point_slow(v, label);
}

/* Invariant 3: while host events may count (outside perf's guest
 * context), their PMIs reach perf: the LVTPC delivers an NMI. */
static void check_lvtpc_host(struct kvm_vcpu *v, const char *when)
{
	uint32_t lvt = v->cpu->apic.lvtpc;

	sim_check(v->vm->kvm->sim, INV_PMI, (lvt & APIC_LVT_DM_MASK) == APIC_DM_NMI,
		  "LVTPC=%#x %s on cpu%d: host PMIs would not reach perf", lvt, when,
		  v->cpu->id);
}

/* Invariant 1: with guest state loaded and the CPU in host mode, no
 * counter may count (host work would count in a guest counter): on VMX
 * GLOBAL_CTRL is 0 until entry, on SVM every guest selector is GuestOnly. */
static void check_host_quiet(struct kvm_vcpu *v)
{
	struct hw_cpu *cpu = v->cpu;
	const struct hw_model *m = cpu->model;
	int busy = -1;

	/* Every host with the mediated vPMU has global enables (Intel v4+,
	 * AMD PerfMonV2): only the counters enabled there can count. */
	for (uint64_t on = cpu->pmu.global_ctrl; on && busy < 0; on &= on - 1) {
		unsigned bit = (unsigned)__builtin_ctzll(on);

		if (bit < 32 && bit < m->nr_gp &&
		    (cpu->ops->gp_active(cpu, bit, true) || cpu->ops->gp_active(cpu, bit, false)))
			busy = (int)bit;
		else if (bit >= 32 && bit - 32 < HW_MAX_FIXED &&
			 (cpu->ops->fixed_active(cpu, bit - 32, true) ||
			  cpu->ops->fixed_active(cpu, bit - 32, false)))
			busy = (int)bit;
	}
	sim_check(v->vm->kvm->sim, INV_ISOLATION, busy < 0,
		  "counter %d of cpu%d counts host work with vm%d/vcpu%d's state loaded "
		  "(GLOBAL_CTRL=%#llx)", busy, cpu->id, v->vm->index, v->idx,
		  (unsigned long long)cpu->pmu.global_ctrl);
}

void kvm_mediated_check_entry(struct kvm_vcpu *v)
{
	uint32_t lvt = v->cpu->apic.lvtpc;
	bool routed = (lvt & (APIC_LVT_VECTOR | APIC_LVT_DM_MASK)) ==
		      (PERF_GUEST_MEDIATED_PMI_VECTOR | APIC_DM_FIXED);
	struct sim *sim = v->vm->kvm->sim;
	const char *site = sim->site;

	if (!v->pmu.mediated || !v->pmu.loaded)
		return;
	sim_site(sim, "entry");
	sim_check(sim, INV_PMI, routed && (lvt & APIC_LVT_MASKED) == (v->lvtpc & APIC_LVT_MASKED),
		  "VM-entry of vm%d/vcpu%d with LVTPC=%#x, the guest's LVTPC=%#x: %s",
		  v->vm->index, v->idx, lvt, v->lvtpc,
		  !routed ? "guest PMIs would not reach KVM" :
		  (lvt & APIC_LVT_MASKED) ? "a PMI the guest expects would be lost" :
					    "PMIs the guest masked would exit on 0xF5");
	sim_site(sim, site);
}

/* KVM's own writes during the switch are the ones invariant 4 watches
 * (not those of a host NMI handler that interrupts the switch).  A
 * counter's or selector's own MSR (pmc->msr[]) is guest state, so its
 * check needs no lookup of the MSR's kind.  Inline in this file's loops,
 * where most of them are; `pmc` is a constant at every call. */
static inline __attribute__((always_inline)) void switch_wrmsr(struct kvm_vcpu *v, uint32_t msr,
								uint64_t val, bool pmc)
{
	int fault;

	v->vm->kvm->switch_wrmsrs++;
	if (pmc)
		kvm_check_switch_state_write(v, msr);
	else
		kvm_check_switch_write(v, msr);
	fault = hw_wrmsr(v->cpu, msr, val);

	if (fault)
		sim_trace(v->vm->kvm->sim, TR_NOTE, msr, val, (uint64_t)fault,
			  "mediated switch wrmsr faulted");
}

static inline __attribute__((always_inline)) void mediated_wrmsr(struct kvm_vcpu *v,
								  uint32_t msr, uint64_t val)
{
	switch_wrmsr(v, msr, val, false);
}

void kvm_mediated_wrmsr(struct kvm_vcpu *v, uint32_t msr, uint64_t val)
{
	mediated_wrmsr(v, msr, val);
}

static inline __attribute__((always_inline)) void mediated_wrmsr_pmc(struct kvm_vcpu *v,
								      uint32_t msr, uint64_t val)
{
	switch_wrmsr(v, msr, val, true);
}

/* The GLOBAL_CTRL the hardware runs the guest with: the guest's own when
 * it has one (v2+ / PerfMonV2), else every guest counter enabled. */
uint64_t kvm_mediated_hw_global_ctrl(const struct kvm_vcpu *v)
{
	const struct kvm_pmu *pmu = &v->pmu;
	uint64_t all = X86_MASK(pmu->nr_gp);

	if (pmu->version >= 2)	/* Intel v2+, AMD PerfMonV2 */
		return pmu->global_ctrl;
	for (unsigned i = 0; i < pmu->nr_fixed; i++)
		all |= X86_BIT(32 + i);
	return all;
}

/* Intel's status load (intel_mediated_pmu_load): bring the hardware's
 * GLOBAL_STATUS to the guest's, clearing what only the hardware has
 * (OVF_CTRL) and setting what only the guest has (STATUS_SET), each WRMSR
 * only when needed.  AMD has its own sequence (kvm_pmu_amd.c). */
void kvm_mediated_load_status(struct kvm_vcpu *v)
{
	const uint32_t *msr = vcpu_pmu_ops(v)->global_msr_addr;
	uint64_t guest = v->pmu.global_status, hw = 0;

	hw_rdmsr(v->cpu, msr[1], &hw);
	if (hw & ~guest)
		mediated_wrmsr(v, msr[2], hw & ~guest);
	if (guest & ~hw)
		mediated_wrmsr(v, msr[3], guest & ~hw);
}

/* Saves the guest's GLOBAL_STATUS from the hardware and clears it there. */
uint64_t kvm_mediated_put_status(struct kvm_vcpu *v)
{
	const uint32_t *msr = vcpu_pmu_ops(v)->global_msr_addr;
	uint64_t status = 0;

	hw_rdmsr(v->cpu, msr[1], &status);
	if (status)
		mediated_wrmsr(v, msr[2], status);
	return status;
}

/* RDPMC index of a counter on the host (type bit 30 for Intel fixed):
 * the loops below pass it, GP counter i being gp[i], fixed i fixed[i]. */
#define GP_RDPMC(i) (i)
#define FIXED_RDPMC(i) ((uint32_t)RDPMC_FIXED | (i))

static inline __attribute__((always_inline)) uint64_t hw_counter(struct kvm_vcpu *v,
								   uint32_t rdpmc)
{
	uint64_t val = 0;

	hw_rdpmc(v->cpu, rdpmc, &val);
	return val;
}

/* Eliding the WRMSR when the hardware already holds the value saves ~1k
 * cycles per exit (FACTS.md s.6). */
static inline __attribute__((always_inline)) void load_counter(struct kvm_vcpu *v,
								const struct kvm_pmc *pmc,
								uint32_t rdpmc, bool elide)
{
	if (!elide || hw_counter(v, rdpmc) != pmc->counter)
		mediated_wrmsr_pmc(v, pmc->msr[0], pmc->counter);
}

/* Every guest counter in kvm_for_each_pmc's order, GP then fixed; each GP
 * counter's selector follows it.  The MSR addresses are the vendor's
 * pmc_msr, kept in the counter at creation. */
static void load_pmcs(struct kvm_vcpu *v)
{
	struct kvm_pmu *pmu = &v->pmu;
	bool elide = !v->vm->kvm->knobs.no_write_elision;

	if (pmu->reprogram_all) {
		kvm_pmu_reprogram_all(v);
		pmu->reprogram_all = false;
	}
	for (unsigned i = 0; i < pmu->nr_gp; i++) {
		load_counter(v, &pmu->gp[i], GP_RDPMC(i), elide);
		mediated_wrmsr_pmc(v, pmu->gp[i].msr[1], pmu->gp[i].eventsel_hw);
	}
	for (unsigned i = 0; i < pmu->nr_fixed; i++)
		load_counter(v, &pmu->fixed[i], FIXED_RDPMC(i), elide);
}

static void switch_lvtpc(struct kvm_vcpu *v, bool to_guest)
{
	struct perf *perf = host_perf(v);
	int cpu = v->cpu->id;
	/* Knob no-mask-copy: the guest's mask bit stays out of the hardware. */
	uint32_t lvt = v->vm->kvm->knobs.no_mask_copy ? v->lvtpc & ~APIC_LVT_MASKED : v->lvtpc;

	kvm_set_switching(v, true);
	if (to_guest)
		perf_load_guest_lvtpc(perf, cpu, lvt);
	else
		perf_put_guest_lvtpc(perf, cpu);
	kvm_set_switching(v, false);
}

/* The WARN the review proposed instead of the clear (knob
 * assert-instead-of-clear): what KVM would log, and why it fires. */
static void assert_global_ctrl_zero(struct kvm_vcpu *v)
{
	struct kvm *kvm = v->vm->kvm;
	bool amd = vcpu_host_model(v)->vendor == HW_AMD;
	bool noop = perf_guest_load_was_noop(host_perf(v), v->cpu->id);
	uint64_t val = 0;

	hw_rdmsr(v->cpu, vcpu_pmu_ops(v)->global_msr_addr[0], &val);
	if (!val)
		return;
	if (amd)
		kvm_warn(kvm, noop ? "WARN: GLOBAL_CTL != 0 after perf_load_guest_context, "
				     "which did nothing (no events here): perf's AMD enable and "
				     "reload (amd_pmu_reload_virt) paths leave every bit set" :
				     "WARN: GLOBAL_CTL != 0 after perf_load_guest_context: "
				     "perf's AMD enable path set every bit again");
	else
		kvm_warn(kvm, noop ? "WARN: GLOBAL_CTRL != 0 after perf_load_guest_context, "
				     "which did nothing (no events here): 7.0's Intel "
				     "enable-all left every counter bit set" :
				     "WARN: GLOBAL_CTRL != 0 after perf_load_guest_context: "
				     "7.0's Intel enable-all set every counter bit again");
}

static void clear_global_ctrl(struct kvm_vcpu *v)
{
	const struct kvm_knobs *k = &v->vm->kvm->knobs;

	step(v, LD_GCTRL);
	if (k->assert_instead_of_clear)
		assert_global_ctrl_zero(v);
	else if (!k->no_global_ctrl_clear_on_load)
		mediated_wrmsr(v, vcpu_pmu_ops(v)->global_msr_addr[0], 0);
}

void kvm_mediated_pmu_load(struct kvm_vcpu *v)
{
	struct kvm *kvm = v->vm->kvm;
	const struct kvm_knobs *k = &kvm->knobs;
	struct perf *perf = host_perf(v);
	int cpu = v->cpu->id;

	if (!v->pmu.mediated || v->pmu.loaded)
		return;
	hw_cpu_set_bucket(v->cpu, SIM_T_TRANSITION);
	sim_site_begin(kvm->sim, steps[LD_PERF].site);
	/* Knob lvtpc-outside-switch: the LVTPC goes over while host events
	 * still run, before perf has taken them out. */
	if (k->lvtpc_outside_switch) {
		step(v, LD_LVTPC);
		switch_lvtpc(v, true);
	}
	host_pmi_point(v, "host-pmi/before perf_load_guest_context");
	check_lvtpc_host(v, "before perf_load_guest_context");
	step(v, LD_PERF);
	perf_load_guest_context(perf, cpu);
	/* Perf's AMD reload path re-enables every GLOBAL_CTL bit, and the
	 * hardware must be quiet before guest state goes in: clear it. */
	if (k->lvtpc_before_clear) {
		step(v, LD_LVTPC);
		switch_lvtpc(v, true);
	}
	clear_global_ctrl(v);
	if (!k->lvtpc_before_clear && !k->lvtpc_outside_switch) {
		step(v, LD_LVTPC);
		switch_lvtpc(v, true);
	}
	step(v, LD_PMCS);
	load_pmcs(v);
	step(v, LD_VENDOR);
	vcpu_pmu_ops(v)->mediated_load(v);
	check_host_quiet(v);
	v->pmu.loaded = true;
	sim_site(kvm->sim, NULL);
	hw_cpu_set_bucket(v->cpu, SIM_T_HOST_FOR_GUEST);
}

/* The clearing writes, out of the loop: with an idle guest there are none,
 * and the loop then keeps its state in registers. */
static __attribute__((noinline)) void put_clear(struct kvm_vcpu *v, const struct kvm_pmc *pmc)
{
	if (pmc->counter)
		mediated_wrmsr_pmc(v, pmc->msr[0], 0);
	if (!pmc->fixed && pmc->eventsel_hw)
		mediated_wrmsr_pmc(v, pmc->msr[1], 0);
}

static inline __attribute__((always_inline)) void put_counter(struct kvm_vcpu *v, struct kvm_pmc *pmc,
							       uint32_t rdpmc, bool clear)
{
	pmc->counter = hw_counter(v, rdpmc);
	if (clear && (pmc->counter || (!pmc->fixed && pmc->eventsel_hw)))
		put_clear(v, pmc);
}

/* In kvm_for_each_pmc's order: GP, then fixed. */
static void put_pmcs(struct kvm_vcpu *v)
{
	struct kvm_pmu *pmu = &v->pmu;
	bool clear = !v->vm->kvm->knobs.no_counter_clear_on_put;

	for (unsigned i = 0; i < pmu->nr_gp; i++)
		put_counter(v, &pmu->gp[i], GP_RDPMC(i), clear);
	for (unsigned i = 0; i < pmu->nr_fixed; i++)
		put_counter(v, &pmu->fixed[i], FIXED_RDPMC(i), clear);
}

/* Invariant 5: nothing of the guest stays in the hardware once perf may
 * schedule host events back in.  (Clean when the OR of every selector and
 * counter is 0.) */
static void check_no_leak(struct kvm_vcpu *v)
{
	const struct hw_pmu *p = &v->cpu->pmu;
	uint64_t left = p->fixed_ctrl;
	bool clean;

	for (unsigned i = 0; i < vcpu_host_model(v)->nr_gp; i++)
		left |= p->gp_sel[i] | p->gp_ctr[i];
	for (unsigned i = 0; i < HW_MAX_FIXED; i++)
		left |= p->fixed_ctr[i];
	clean = left == 0;
	sim_check(v->vm->kvm->sim, INV_NO_LEAK, clean,
		  "guest state left in the PMU of cpu%d after put of vm%d/vcpu%d",
		  v->cpu->id, v->vm->index, v->idx);
}

void kvm_mediated_pmu_put(struct kvm_vcpu *v)
{
	struct perf *perf = host_perf(v);
	struct sim *sim = v->vm->kvm->sim;
	bool outside = v->vm->kvm->knobs.lvtpc_outside_switch;
	int cpu = v->cpu->id;

	if (!v->pmu.mediated || !v->pmu.loaded)
		return;
	hw_cpu_set_bucket(v->cpu, SIM_T_TRANSITION);
	sim_site_begin(sim, steps[PUT_VENDOR].site);
	step(v, PUT_VENDOR);
	vcpu_pmu_ops(v)->mediated_put(v);
	step(v, PUT_PMCS);
	put_pmcs(v);
	check_no_leak(v);
	if (!outside) {
		step(v, PUT_LVTPC);
		switch_lvtpc(v, false);
	}
	step(v, PUT_PERF);
	perf_put_guest_context(perf, cpu);
	v->pmu.loaded = false;
	host_pmi_point(v, "host-pmi/after perf_put_guest_context");
	check_lvtpc_host(v, "after perf_put_guest_context");
	/* Knob lvtpc-outside-switch: back to NMI only once host events run. */
	if (outside) {
		step(v, PUT_LVTPC);
		switch_lvtpc(v, false);
	}
	sim_site(sim, NULL);
	hw_cpu_set_bucket(v->cpu, SIM_T_HOST_FOR_GUEST);
}

/* Created at the first vCPU of a VM with an in-kernel irqchip
 * (kvm_arch_vcpu_precreate); perf refuses with EBUSY while a host event
 * counts guests. */
int kvm_mediated_vm_init(struct kvm_vm *vm)
{
	int err = perf_create_mediated_pmu(vm->kvm->perf);

	if (err == 0)
		vm->mediated_created = true;
	return err;
}

void kvm_mediated_vm_release(struct kvm_vm *vm)
{
	if (vm->mediated_created)
		perf_release_mediated_pmu(vm->kvm->perf);
	vm->mediated_created = false;
}

/* Intercepts are recalculated whenever the guest's PMU shape changes
 * (CPUID, PERF_CAPABILITIES): the vendor decides per MSR. */
void kvm_mediated_recalc_intercepts(struct kvm_vcpu *v)
{
	if (v->pmu.mediated)
		vcpu_pmu_ops(v)->recalc_intercepts(v);
}
