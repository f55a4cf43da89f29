/* perf: a model of Linux perf (core + x86 driver) for one kernel.  The host
 * kernel runs one instance on the physical CPUs; a guest kernel runs its
 * own instance on its vCPUs, reaching its PMU only through the guest API,
 * as a Linux guest runs Linux's perf.  How an instance reaches the PMU is
 * the `perf_hw_ops` it is given.  Mediated-vPMU support (create/release,
 * guest context load/put, LVTPC switch) is part of the host instance. */
#ifndef PERF_H
#define PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvpmu/events.h"
#include "sim/sim.h"

#define PERF_MAX_CPUS 8

/* How one CPU's PMU is reached: directly (host) or through the guest API. */
struct perf_hw_ops {
	int (*wrmsr)(void *hw, uint32_t msr, uint64_t val);
	int (*rdmsr)(void *hw, uint32_t msr, uint64_t *val);
	void (*cpuid)(void *hw, uint32_t leaf, uint32_t sub, uint32_t r[4]);
	/* Label and privilege of the work interrupted by the current PMI. */
	const char *(*cur_label)(void *hw);
	bool (*cur_kernel)(void *hw);
	/* CPU family/model for the driver's quirks (PMI ack point). */
	const char *(*model_name)(void *hw);
};

enum perf_type { PERF_TYPE_HARDWARE, PERF_TYPE_RAW };

enum perf_hw_id {
	PERF_COUNT_HW_CPU_CYCLES,
	PERF_COUNT_HW_INSTRUCTIONS,
	PERF_COUNT_HW_CACHE_REFERENCES,
	PERF_COUNT_HW_CACHE_MISSES,
	PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
	PERF_COUNT_HW_BRANCH_MISSES,
	PERF_COUNT_HW_REF_CPU_CYCLES,
	PERF_COUNT_HW_MAX
};

struct perf_event_attr {
	enum perf_type type;
	uint64_t config;	/* perf_hw_id, or raw selector bits */
	uint64_t sample_period;	/* 0: counting only */
	bool exclude_user, exclude_kernel;
	bool exclude_host, exclude_guest;
	/* Not counting in the idle task.  The model has no idle task, so it
	 * changes no count; KVM's legacy vPMU sets it, as Linux does. */
	bool exclude_idle;
	bool pinned;
	bool disabled;		/* created disabled */
};

/* Parses a perf-style event name: "instructions", "cycles:u", "rc0",
 * "r01c4:G", "branch-misses:kH", "cycles:D" (D: pinned, as the perf
 * tool's modifier); returns 0 or -EINVAL with a message. */
int perf_parse_event(const char *spec, struct perf_event_attr *attr,
		     char *err, size_t errlen);

/* The modelled event an attr counts on an Intel or AMD PMU, -1 none: the
 * oracle reports use to compute an event's true count. */
int perf_attr_event(const struct perf_event_attr *attr, bool amd);
/* The selector bits (event, umask) the attr programs on a GP counter of
 * an Intel or AMD PMU; 0 when the generic event has none there. */
uint64_t perf_attr_config(const struct perf_event_attr *attr, bool amd);

struct perf_sample {
	uint64_t cycle;		/* simulated time of the PMI */
	const char *label;	/* label of the interrupted work */
	bool kernel;
};

struct perf;
struct perf_event;

/* A host task (a thread such as a vCPU thread); per-task events follow it. */
struct perf_task {
	int id;
	const char *name;
};

typedef void (*perf_overflow_fn)(struct perf_event *ev,
				 const struct perf_sample *s, void *arg);

/* `ctx` is the truth context of the kernel (0 host, n guest of VM n). */
struct perf *perf_new(struct sim *sim, int ctx, int nr_cpus,
		      const struct perf_hw_ops *ops, void *const hw[]);
void perf_free(struct perf *p);

/* Opens an event on `cpu` (per-CPU, task NULL) or for `task` (counts only
 * while the task runs on the CPU).  Returns 0 or -EBUSY, -EOPNOTSUPP,
 * -EINVAL, -ENOENT.  A NULL `cb` keeps samples in the event itself. */
int perf_event_open(struct perf *p, const struct perf_event_attr *attr,
		    int cpu, struct perf_task *task, perf_overflow_fn cb,
		    void *cb_arg, struct perf_event **out);
void perf_event_close(struct perf_event *ev);
void perf_event_enable(struct perf_event *ev);
void perf_event_disable(struct perf_event *ev);
/* Raw count, with the times; perf_event_read_scaled scales by them. */
uint64_t perf_event_read(struct perf_event *ev, uint64_t *enabled,
			 uint64_t *running);
uint64_t perf_event_read_scaled(struct perf_event *ev);
int perf_event_period(struct perf_event *ev, uint64_t period);
/* Samples kept when no callback was given, and those lost. */
size_t perf_event_samples(const struct perf_event *ev,
			  const struct perf_sample **out);
uint64_t perf_event_lost(const struct perf_event *ev);
const struct perf_event_attr *perf_event_attr_of(const struct perf_event *ev);
/* Hardware counter the event occupies now: -1 none, 0.. GP, 32.. fixed. */
int perf_event_hw_idx(const struct perf_event *ev);

/* Scheduling: a task switch on `cpu`, and the rotation tick. */
void perf_task_switch(struct perf *p, int cpu, struct perf_task *prev,
		      struct perf_task *next);
void perf_tick(struct perf *p, int cpu);

/* The PMU NMI handler; returns true when the NMI was the PMU's. */
bool perf_pmi(struct perf *p, int cpu);

/* Mediated vPMU support (Linux 7.0). */
bool perf_mediated_capable(const struct perf *p);
int perf_create_mediated_pmu(struct perf *p);	/* 0 or -EBUSY */
/* For exploring races between CPUs (cli_race.c): `yield` is called where
 * another CPU's thread may run inside the mediated-PMU accounting
 * (wants_lock: waiting for perf_mediated_pmu_mutex); `unlocked` is the
 * test-only variant without that mutex. */
void perf_set_race_hooks(struct perf *p, void (*yield)(void *arg, const char *where,
							 bool wants_lock),
			 void *arg, bool unlocked);
bool perf_mediated_mutex_held(const struct perf *p);
uint64_t perf_nr_include_guest_events(const struct perf *p);
void perf_release_mediated_pmu(struct perf *p);
/* Both require interrupts disabled on `cpu` (perf_irqs_disabled). */
void perf_load_guest_context(struct perf *p, int cpu);
void perf_put_guest_context(struct perf *p, int cpu);
bool perf_guest_loaded(const struct perf *p, int cpu);
/* Whether the last perf_load_guest_context on `cpu` wrote no PMU register
 * (no event in the CPU's contexts: 7.0's load is then a no-op). */
bool perf_guest_load_was_noop(const struct perf *p, int cpu);
void perf_load_guest_lvtpc(struct perf *p, int cpu, uint32_t guest_lvtpc);
void perf_put_guest_lvtpc(struct perf *p, int cpu);
/* The hypervisor's callback for PMIs on PERF_GUEST_MEDIATED_PMI_VECTOR. */
void perf_register_guest_pmi(struct perf *p,
			     void (*fn)(void *arg, int cpu), void *arg);
/* The IRQ handler for vector 0xF5 (EOIs, then calls the callback). */
void perf_guest_pmi_irq(struct perf *p, int cpu);

/* Local interrupt state of a host CPU, as local_irq_disable/enable. */
void perf_irq_disable(struct perf *p, int cpu);
void perf_irq_enable(struct perf *p, int cpu);
bool perf_irqs_disabled(const struct perf *p, int cpu);

/* Legacy exclude_host/exclude_guest switching for the emulated vPMU:
 * Intel fills the GLOBAL_CTRL pair KVM loads atomically at entry and exit
 * (perf_guest_get_msrs); AMD uses Host/GuestOnly bits and returns 0. */
struct perf_guest_switch_msr {
	uint32_t msr;
	uint64_t host, guest;
};
unsigned perf_guest_get_msrs(struct perf *p, int cpu,
			     struct perf_guest_switch_msr *out, unsigned max);

/* Bugs perf reports (double load/put, load with interrupts enabled):
 * counted and traced, never fatal. */
uint64_t perf_nr_bugs(const struct perf *p);
/* Number of GP and fixed counters the driver found. */
unsigned perf_nr_gp(const struct perf *p);
unsigned perf_nr_fixed(const struct perf *p);

/* What the driver reports of the PMU to KVM (Linux's
 * perf_get_x86_pmu_capability): version (Intel arch version, AMD 2 for
 * PerfMonV2), counters, widths, and whether the core PMU offers the
 * mediated vPMU.  All zero without a PMU. */
struct perf_pmu_caps {
	unsigned version, nr_gp, nr_fixed, gp_width, fixed_width;
	bool mediated;
};
void perf_get_pmu_caps(const struct perf *p, struct perf_pmu_caps *out);

/* Additions beyond the original contract. */

/* Linux perf_event_pause: disables the event and returns its count,
 * zeroing it when `reset` (KVM's emulated vPMU on counter writes). */
uint64_t perf_event_pause(struct perf_event *ev, bool reset);
/* AMD: SVM enabled/disabled on `cpu` (Linux amd_pmu_enable_virt /
 * amd_pmu_disable_virt): HostOnly bits are kept only while enabled, and
 * the reload sets every supported GlobalCtl bit.  No-ops on Intel. */
void perf_amd_enable_virt(struct perf *p, int cpu);
void perf_amd_disable_virt(struct perf *p, int cpu);
/* MSR accesses that faulted (a guest PMU may lack MSRs). */
uint64_t perf_nr_msr_faults(const struct perf *p);
/* Mediated VMs currently created (perf_create_mediated_pmu count). */
uint64_t perf_nr_mediated_vms(const struct perf *p);

#endif
