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
#include "hw_model.h"
#include "sim/sim.h"

struct hw_cpu;

struct hw_pmu {
	uint64_t gp_ctr[HW_MAX_GP];
	uint64_t gp_sel[HW_MAX_GP];
	uint64_t fixed_ctr[HW_MAX_FIXED];
	uint64_t fixed_ctrl;
	uint64_t global_ctrl;
	uint64_t global_status;
	uint64_t debugctl;
	uint64_t perf_caps;
};

/* The x2APIC registers besides LVTPC and EOI that a guest kernel sets
 * up (read back as written; they change nothing else in the model). */
struct hw_apic_misc {
	uint32_t tpr, svr;
};

struct hw_apic {
	uint32_t lvtpc;
	uint64_t nr_eoi;
	struct hw_apic_misc misc;
};

/* Vendor behaviour behind one table, as KVM's kvm_pmu_ops. */
struct hw_pmu_ops {
	/* Returns true when `msr` belongs to this vendor's PMU; sets *fault. */
	bool (*wrmsr)(struct hw_cpu *cpu, uint32_t msr, uint64_t val, int *fault);
	bool (*rdmsr)(struct hw_cpu *cpu, uint32_t msr, uint64_t *val, int *fault);
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
	int id;
	struct sim *sim;
	const struct hw_model *model;
	const struct hw_pmu_ops *ops;
	struct hw_pmu pmu;
	struct hw_apic apic;
	struct hw_cpu_hooks hooks;

	bool guest_mode;	/* in VMX non-root / SVM guest */
	int ctx;		/* truth context running: 0 host, n VM n */
	unsigned cpl;
	bool cr4_pce;
	uint64_t efer;
	bool in_nmi;		/* NMIs blocked until the handler returns */
	bool nmi_latched;	/* an NMI arrived while blocked */
	const char *cur_label;	/* label of the work executing (for samples) */
	bool cur_kernel;
	enum sim_time_bucket bucket;	/* where this CPU's cycles are charged */

	uint64_t skid;		/* instructions between overflow and PMI */
	uint64_t skid_left;	/* a PMI is pending delivery when nonzero */
	bool pmi_pending;
	uint64_t nr_pmis;	/* PMIs delivered by the APIC */
	uint64_t nr_wrmsr, nr_rdmsr;
};

void hw_cpu_init(struct hw_cpu *cpu, int id, struct sim *sim,
		 const struct hw_model *model);

/* Architectural accessors: return X86_OK or the fault vector (X86_GP). */
int hw_wrmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t val);
int hw_rdmsr(struct hw_cpu *cpu, uint32_t msr, uint64_t *val);
int hw_rdpmc(struct hw_cpu *cpu, uint32_t ecx, uint64_t *val);
void hw_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4]);

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
uint64_t hw_pmu_counter_mask(const struct hw_cpu *cpu, bool fixed);
/* Event counted by fixed counter i (architectural assignment). */
enum mv_event hw_fixed_event(unsigned i);

/* IA32_APIC_BASE and the x2APIC ID, version, TPR and SVR registers, for
 * the CPU's own APIC and a hypervisor's virtual one: the APIC is always
 * enabled in x2APIC mode at 0xFEE00000 (there is no xAPIC MMIO yet, issue
 * 12).  Each returns false when `msr` is not one of them, else sets
 * *fault (and *val / the register). */
void hw_apic_misc_reset(struct hw_apic_misc *a);
bool hw_apic_misc_wrmsr_fault(uint32_t msr, uint64_t val, int *fault);
bool hw_apic_misc_wrmsr(struct hw_apic_misc *a, uint32_t msr, uint64_t val, int *fault);
bool hw_apic_misc_rdmsr(const struct hw_apic_misc *a, unsigned apic_id, uint32_t msr,
			uint64_t *val, int *fault);

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
