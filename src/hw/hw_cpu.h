/* hw_cpu: one simulated logical CPU: its PMU (common counter engine with a
 * vendor ops table), local APIC LVTPC, privilege and mode state, and the
 * MSR / CPUID / RDPMC / work execution entry points with architectural
 * faults.  Everything above this layer reaches the hardware through here. */
#ifndef HW_CPU_H
#define HW_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "mvpmu/events.h"
#include "mvpmu/x86.h"
#include "hw_apic.h"
#include "hw_model.h"
#include "sim/sim.h"

struct hw_cpu;

#define HW_MSR_NOT_MINE (-1)	/* a vendor's wrmsr: not one of its MSRs */

struct hw_pmu {
	uint64_t gp_ctr[HW_MAX_GP];
	uint64_t gp_sel[HW_MAX_GP];
	uint64_t fixed_ctr[HW_MAX_FIXED];
	uint64_t fixed_ctrl;
	uint64_t global_ctrl;
	uint64_t global_status;
	uint64_t debugctl;
	uint64_t misc_enable;		/* Intel's IA32_MISC_ENABLE */
	uint64_t perf_caps;
};

struct hw_apic {
	uint32_t lvtpc;
	uint64_t nr_eoi;
	struct hw_apic_misc misc;
};

/* Vendor behaviour behind one table, as KVM's kvm_pmu_ops. */
struct hw_pmu_ops {
	/* X86_OK or the fault when `msr` belongs to this vendor's PMU, else
	 * HW_MSR_NOT_MINE (the fault comes back as the value: no pointer). */
	int (*wrmsr)(struct hw_cpu *cpu, uint32_t msr, uint64_t val);
	int (*rdmsr)(struct hw_cpu *cpu, uint32_t msr, uint64_t *val);	/* likewise */
	int (*rdpmc)(struct hw_cpu *cpu, uint32_t ecx, uint64_t *val);
	/* Returns true when it answered the leaf. */
	bool (*cpuid)(struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4]);
	/* The event a selector counts, -1 when it counts nothing modelled. */
	int (*decode)(uint64_t sel);
	/* Whether GP / fixed counter i counts now at this privilege. */
	bool (*gp_active)(const struct hw_cpu *cpu, unsigned i, bool kernel);
	bool (*fixed_active)(const struct hw_cpu *cpu, unsigned i, bool kernel);
	/* Records an overflow (status bits, freeze); true when a PMI is asked. */
	bool (*overflow)(struct hw_cpu *cpu, bool fixed, unsigned i);
	/* Delivering a PMI sets the LVTPC mask bit (Intel, not AMD). */
	bool lvtpc_mask_on_pmi;
	void (*reset)(struct hw_cpu *cpu);
};

/* What the code running on the CPU installs to take its interrupts. */
struct hw_cpu_hooks {
	/* An interrupt or NMI taken in host mode (or on bare metal). */
	void (*intr)(struct hw_cpu *cpu, unsigned vector, bool nmi, void *opaque);
	void *intr_opaque;
	/* An interrupt arriving in guest mode: the hypervisor's VM-exit path.
	 * It returns with the CPU back in guest mode. */
	void (*guest_intr)(struct hw_cpu *cpu, unsigned vector, bool nmi, void *opaque);
	void *guest_opaque;
	/* Observes every write reaching a PMU or APIC register (invariant checks). */
	void (*on_pmu_write)(struct hw_cpu *cpu, uint32_t msr, uint64_t val, void *opaque);
	void *write_opaque;
};

struct hw_cpu {
	/* Its id and the truth context running (0 host, n VM n), also as
	 * the word that the CPU's records carry (sim.cur_where). */
	union {
		struct {
			int32_t id;
			int32_t ctx;
		};
		uint64_t where;
	};
	struct sim *sim;
	const struct hw_model *model;
	struct hw_costs cost;	/* model->cost, one load away on every access */
	const struct hw_pmu_ops *ops;
	struct hw_pmu pmu;
	struct hw_apic apic;
	struct hw_cpu_hooks hooks;

	bool guest_mode;	/* in VMX non-root / SVM guest (hw_cpu_set_guest_mode) */
	unsigned cpl;
	bool cr4_pce;
	uint64_t efer;
	bool in_nmi;		/* NMIs blocked until the handler returns */
	bool nmi_latched;	/* an NMI arrived while blocked */
	const char *cur_label;	/* label of the work executing (for samples) */
	bool cur_kernel;
	enum sim_time_bucket bucket;	/* where this CPU's cycles are charged in host
					 * mode (hw_cpu_set_bucket) */
	/* Where an access's cycles go now: SIM_T_GUEST in guest mode, else
	 * `bucket`.  Kept by the two setters, so that each access indexes
	 * the time buckets with one load. */
	enum sim_time_bucket charge;

	uint64_t skid;		/* instructions between overflow and PMI */
	uint64_t skid_left;	/* a PMI is pending delivery when nonzero */
	bool pmi_pending;
	uint64_t nr_pmis;	/* PMIs delivered by the APIC */
	uint64_t nr_wrmsr, nr_rdmsr;
	/* Writable bits of the global MSRs, which follow from the model and
	 * PERF_CAPABILITIES alone: the vendor computes them at reset rather
	 * than on every write. */
	struct hw_pmu_valid {
		uint64_t global_ctrl, fixed_ctrl, ovf_ctrl, status_set;
		/* RDPMC with ECX below this reads GP counter ECX (the
		 * architectural index on both vendors); others ask the vendor. */
		uint32_t rdpmc_gp;	/* also the number of GP counters (selectors) */
		/* Bit i: RDPMC_FIXED | i reads fixed counter i (Intel). */
		uint32_t rdpmc_fixed;
		uint64_t evtsel_rsvd;	/* PERFEVTSEL reserved bits (Intel) */
		uint64_t gp_width, fixed_width;	/* the counters' width masks (Intel) */
	} valid;
};

void hw_cpu_init(struct hw_cpu *cpu, int id, struct sim *sim,
		 const struct hw_model *model);

void hw_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* hw_cpuid.c: the leaf a query is answered from (Intel's highest basic
 * leaf for one out of range), and the leaves outside the PMU's. */
uint32_t hw_cpuid_leaf(const struct hw_model *m, uint32_t leaf);
void hw_cpuid_base(const struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* ---- architectural accessors: X86_OK or the fault vector (X86_GP) ----
 * Inline: the PMU switch makes dozens per VM exit, and a call layer costs
 * as much as the access itself (docs/costs.md, "What the model costs"). */

/* The accessors are always inlined: their callers are the hot loops
 * (the PMU switch, perf's scheduling), and compilers otherwise outline
 * them as a copy per file, which puts a call back in. */
#define HW_ALWAYS_INLINE static inline __attribute__((always_inline))

/* Every access: the CPU's records carry its id and context; its cost is
 * charged to the guest in guest mode, else to the CPU's bucket. */
static inline void hw_cpu_where(struct hw_cpu *cpu)
{
	cpu->sim->cur_where = cpu->where;
}

static inline void hw_cpu_set_bucket(struct hw_cpu *cpu, enum sim_time_bucket b)
{
	cpu->bucket = b;
	cpu->charge = cpu->guest_mode ? SIM_T_GUEST : b;
}

/* VM entry and exit. */
static inline void hw_cpu_set_guest_mode(struct hw_cpu *cpu, bool on)
{
	cpu->guest_mode = on;
	cpu->charge = on ? SIM_T_GUEST : cpu->bucket;
}

static inline void hw_cpu_enter(struct hw_cpu *cpu, uint32_t cost)
{
	struct sim *sim = cpu->sim;

	hw_cpu_where(cpu);
	/* sim_advance without its range check: the bucket is one of the
	 * enum's values (the setters only ever assign those). */
	sim->cycle += cost;
	sim->time[cpu->charge] += cost;
}

/* An access's record: "guest" marks one executed in guest mode.  Two
 * calls rather than a conditional string, so the host path (the PMU
 * switch, host perf) records without a string lookup. */
HW_ALWAYS_INLINE void hw_trace_access(struct hw_cpu *cpu, enum sim_trace_kind kind, uint32_t a,
				      uint64_t b, uint64_t c)
{
	if (cpu->guest_mode)
		sim_trace(cpu->sim, kind, a, b, c, "guest");
	else
		sim_trace(cpu->sim, kind, a, b, c, NULL);
}

/* Bits software may write in an LVT entry: vector, delivery mode, mask.
 * Delivery status (bit 12) is read-only (SDM vol. 3, 11.5.1). */
#define HW_LVT_WRITABLE (APIC_LVT_VECTOR | APIC_LVT_DM_MASK | APIC_LVT_MASKED)

/* The APIC registers beyond LVTPC and EOI, and APIC_BASE: hw_apic.h (the
 * same rules serve KVM's virtual APIC). */

/* The MSRs every CPU has outside its PMU (hw_common_wrmsr/rdmsr) that a
 * caller may name as a constant (the fast dispatch in hw_wrmsr). */
static inline bool hw_msr_is_common(uint32_t msr)
{
	return msr == MSR_X2APIC_LVTPC || msr == MSR_X2APIC_EOI || msr == MSR_EFER;
}

/* Whether `msr` is one of the common MSRs, and the fault a write of `val`
 * to it takes (the x2APIC ones exist in x2APIC mode only). */
static inline bool hw_common_wrmsr_fault(const struct hw_cpu *cpu, uint32_t msr, uint64_t val,
					 int *fault)
{
	switch (msr) {
	case MSR_X2APIC_LVTPC:
		*fault = (val >> 32) || !hw_apic_x2apic(&cpu->apic.misc) ? X86_GP : X86_OK;
		return true;
	case MSR_X2APIC_EOI:
		/* x2APIC EOI takes only 0 */
		*fault = val || !hw_apic_x2apic(&cpu->apic.misc) ? X86_GP : X86_OK;
		return true;
	case MSR_EFER:
		*fault = X86_OK;
		return true;
	}
	return hw_apic_misc_wrmsr_fault(&cpu->apic.misc, msr, val, fault);
}

/* A faulting WRMSR changes nothing. */
static inline bool hw_common_wrmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t val, int *fault)
{
	if (!hw_common_wrmsr_fault(cpu, msr, val, fault))
		return false;
	if (*fault != X86_OK)
		return true;
	switch (msr) {
	case MSR_X2APIC_LVTPC:
		cpu->apic.lvtpc = (uint32_t)(val & HW_LVT_WRITABLE);
		break;
	case MSR_X2APIC_EOI:
		cpu->apic.nr_eoi++;
		sim_trace(cpu->sim, TR_EOI, 0, 0, 0, NULL);
		break;
	case MSR_EFER:
		cpu->efer = val;
		break;
	default:
		hw_apic_misc_wrmsr(&cpu->apic.misc, msr, val, fault);
		break;
	}
	return true;
}

static inline bool hw_common_rdmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t *val, int *fault)
{
	switch (msr) {
	case MSR_X2APIC_LVTPC:
		if (!hw_apic_x2apic(&cpu->apic.misc)) {
			*fault = X86_GP;
			return true;
		}
		*val = cpu->apic.lvtpc;
		break;
	case MSR_EFER:
		*val = cpu->efer;
		break;
	default:
		return hw_apic_misc_rdmsr(&cpu->apic.misc, (unsigned)cpu->id, msr, val, fault);
	}
	*fault = X86_OK;
	return true;
}

HW_ALWAYS_INLINE int hw_wrmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t val)
{
	int fault = X86_GP;

	hw_cpu_enter(cpu, cpu->cost.wrmsr);
	cpu->nr_wrmsr++;
	if (cpu->hooks.on_pmu_write)
		cpu->hooks.on_pmu_write(cpu, msr, val, cpu->hooks.write_opaque);
	/* The vendor first: the PMU's MSRs are most accesses, and no vendor
	 * claims the common ones (a known MSR goes straight to its half). */
	if (__builtin_constant_p(msr) && hw_msr_is_common(msr)) {
		if (!hw_common_wrmsr(cpu, msr, val, &fault))
			fault = X86_GP;
	} else if ((fault = cpu->ops->wrmsr(cpu, msr, val)) == HW_MSR_NOT_MINE &&
		   !hw_common_wrmsr(cpu, msr, val, &fault)) {
		fault = X86_GP;	/* no such MSR */
	}
	hw_trace_access(cpu, TR_WRMSR, msr, val, (uint64_t)fault);
	return fault;
}

HW_ALWAYS_INLINE int hw_rdmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t *val)
{
	int fault = X86_GP;
	uint64_t v = 0;

	hw_cpu_enter(cpu, cpu->cost.rdmsr);
	cpu->nr_rdmsr++;
	if (__builtin_constant_p(msr) && hw_msr_is_common(msr)) {
		if (!hw_common_rdmsr(cpu, msr, &v, &fault))
			fault = X86_GP;
	} else if ((fault = cpu->ops->rdmsr(cpu, msr, &v)) == HW_MSR_NOT_MINE &&
		   !hw_common_rdmsr(cpu, msr, &v, &fault)) {
		fault = X86_GP;
	}
	if (fault)
		v = 0;
	*val = v;
	hw_trace_access(cpu, TR_RDMSR, msr, v, (uint64_t)fault);
	return fault;
}

_Static_assert((HW_MAX_GP & (HW_MAX_GP - 1)) == 0, "HW_MAX_GP is a power of two");

HW_ALWAYS_INLINE int hw_rdpmc(struct hw_cpu *cpu, uint32_t ecx, uint64_t *val)
{
	uint64_t v;
	int fault;

	/* SDM RDPMC: #GP(0) at CPL > 0 when CR4.PCE = 0.  The read has no
	 * side effect, so it may come before the clock advances. */
	if (cpu->cpl && !cpu->cr4_pce) {
		v = 0, fault = X86_GP;
	} else if (ecx < cpu->valid.rdpmc_gp) {	/* <= HW_MAX_GP: the mask changes nothing */
		v = cpu->pmu.gp_ctr[ecx & (HW_MAX_GP - 1)], fault = X86_OK;
	} else if ((ecx ^ RDPMC_FIXED) < HW_MAX_FIXED &&
		   (cpu->valid.rdpmc_fixed >> (ecx ^ RDPMC_FIXED) & 1)) {
		v = cpu->pmu.fixed_ctr[ecx ^ RDPMC_FIXED], fault = X86_OK;
	} else {
		v = 0;
		fault = cpu->ops->rdpmc(cpu, ecx, &v);
		if (fault)
			v = 0;
	}
	*val = v;
	hw_cpu_enter(cpu, cpu->cost.rdpmc);
	hw_trace_access(cpu, TR_RDPMC, ecx, v, (uint64_t)fault);
	return fault;
}

/* Executes a block of work at the privilege it names, counting it on every
 * active counter, splitting it at each overflow and delivering PMIs. */
void hw_run_work(struct hw_cpu *cpu, const struct mv_work *work);

/* WRMSR executed by real code (src/hw/hw_x86): the instruction retires
 * (`retire`) under the PMU state before the write, then the write takes
 * effect, so the WRMSR that enables a counter is not counted by it and
 * the one that disables it is (FACTS.md s.8).  A write that faults does
 * not retire. */
int hw_wrmsr_retire(struct hw_cpu *cpu, uint32_t msr, uint64_t val,
		    const struct mv_work *retire);

/* What the hardware can still execute at this privilege before it does
 * something: per event kind, the number of events at which the first
 * active counter of that kind wraps (UINT64_MAX when none counts it);
 * and, with a skidded PMI pending, the instructions until it is
 * delivered (0: due now; UINT64_MAX: none pending).  A query of the
 * simulator (no cost, no trace): the real-code engine stops exactly
 * there. */
struct hw_headroom {
	uint64_t ev[MV_EV_NR];
	uint64_t skid;
};
void hw_pmu_headroom(struct hw_cpu *cpu, bool kernel, struct hw_headroom *h);

/* Width mask of GP (fixed == false) or fixed counters. */
static inline uint64_t hw_pmu_counter_mask(const struct hw_cpu *cpu, bool fixed)
{
	return X86_MASK(fixed ? cpu->model->fixed_width : cpu->model->gp_width);
}
/* Event counted by fixed counter i (architectural assignment). */
enum mv_event hw_fixed_event(unsigned i);

/* IA32_APIC_BASE and the x2APIC ID, version, TPR and SVR registers, for
 * the CPU's own APIC and a hypervisor's virtual one: the APIC is always
 * enabled in x2APIC mode at 0xFEE00000 (there is no xAPIC MMIO yet, issue
 * 12).  Each returns false when `msr` is not one of them, else sets
 * *fault (and *val / the register). */

/* The APIC delivers a PMI through LVTPC (used by the counter engine). */
void hw_apic_pmi(struct hw_cpu *cpu);
/* The modelled event a selector value counts on `vendor`'s PMU, -1 none:
 * the oracle tools use to compute the truth for an event. */
int hw_decode_event(enum hw_vendor vendor, uint64_t sel);
/* The ops table of a model's vendor. */
const struct hw_pmu_ops *hw_pmu_ops_for(const struct hw_model *model);

extern const struct hw_pmu_ops hw_pmu_intel_ops;
extern const struct hw_pmu_ops hw_pmu_amd_ops;

#endif
