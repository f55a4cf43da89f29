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

/* Each step is an injection point: exploration may deliver a host PMU
 * NMI there, the ordering real hardware will not produce on demand (a PMI
 * in the middle of the switch).  NMIs are not masked by the switch's
 * interrupts-off section. */
static inline __attribute__((always_inline)) void step(struct kvm_vcpu *v, bool load,
							const char *what)
{
	struct sim *sim = v->vm->kvm->sim;

	if (sim_inject(sim, what))
		host_handle_intr(host_perf(v), host_cpu_index(host_perf(v), v->cpu),
				 NMI_VECTOR, true);
	sim_trace(sim, load ? TR_PMU_LOAD : TR_PMU_PUT, (uint32_t)v->idx, 0, 0, what);
}

/* KVM's own writes during the switch are the ones invariant 4 watches
 * (not those of a host NMI handler that interrupts the switch).  Inline
 * in this file's loops, where most of them are. */
static inline __attribute__((always_inline)) void mediated_wrmsr(struct kvm_vcpu *v,
								  uint32_t msr, uint64_t val)
{
	int fault;

	kvm_set_switching(v, true);
	fault = hw_wrmsr(v->cpu, msr, val);
	kvm_set_switching(v, false);

	if (fault)
		sim_trace(v->vm->kvm->sim, TR_NOTE, msr, val, (uint64_t)fault,
			  "mediated switch wrmsr faulted");
}

void kvm_mediated_wrmsr(struct kvm_vcpu *v, uint32_t msr, uint64_t val)
{
	mediated_wrmsr(v, msr, val);
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
		mediated_wrmsr(v, pmc->msr[0], pmc->counter);
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
		mediated_wrmsr(v, pmu->gp[i].msr[1], pmu->gp[i].eventsel_hw);
	}
	for (unsigned i = 0; i < pmu->nr_fixed; i++)
		load_counter(v, &pmu->fixed[i], FIXED_RDPMC(i), elide);
}

void kvm_mediated_pmu_load(struct kvm_vcpu *v)
{
	struct kvm *kvm = v->vm->kvm;
	struct perf *perf = host_perf(v);
	int cpu = v->cpu->id;

	if (!v->pmu.mediated || v->pmu.loaded)
		return;
	v->cpu->bucket = SIM_T_TRANSITION;
	step(v, true, "perf_load_guest_context");
	perf_load_guest_context(perf, cpu);
	/* Perf's AMD reload path re-enables every GLOBAL_CTL bit, and the
	 * hardware must be quiet before guest state goes in: clear it. */
	step(v, true, "global_ctrl=0");
	if (!kvm->knobs.no_global_ctrl_clear_on_load)
		mediated_wrmsr(v, vcpu_pmu_ops(v)->global_msr_addr[0], 0);
	step(v, true, "lvtpc=guest");
	kvm_set_switching(v, true);
	perf_load_guest_lvtpc(perf, cpu, v->lvtpc);
	kvm_set_switching(v, false);
	step(v, true, "counters+selectors");
	load_pmcs(v);
	step(v, true, "vendor status+enables");
	vcpu_pmu_ops(v)->mediated_load(v);
	v->pmu.loaded = true;
	v->cpu->bucket = SIM_T_HOST_FOR_GUEST;
}

/* The clearing writes, out of the loop: with an idle guest there are none,
 * and the loop then keeps its state in registers. */
static __attribute__((noinline)) void put_clear(struct kvm_vcpu *v, const struct kvm_pmc *pmc)
{
	if (pmc->counter)
		mediated_wrmsr(v, pmc->msr[0], 0);
	if (!pmc->fixed && pmc->eventsel_hw)
		mediated_wrmsr(v, pmc->msr[1], 0);
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
	int cpu = v->cpu->id;

	if (!v->pmu.mediated || !v->pmu.loaded)
		return;
	v->cpu->bucket = SIM_T_TRANSITION;
	step(v, false, "vendor status+enables");
	vcpu_pmu_ops(v)->mediated_put(v);
	step(v, false, "counters+selectors");
	put_pmcs(v);
	check_no_leak(v);
	step(v, false, "lvtpc=nmi");
	kvm_set_switching(v, true);
	perf_put_guest_lvtpc(perf, cpu);
	kvm_set_switching(v, false);
	step(v, false, "perf_put_guest_context");
	perf_put_guest_context(perf, cpu);
	v->pmu.loaded = false;
	v->cpu->bucket = SIM_T_HOST_FOR_GUEST;
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
