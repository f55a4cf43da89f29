/* perf_internal: the state behind struct perf and the interfaces between
 * perf core, the x86 driver (vendor ops), mediated support and the host binding. */
#ifndef PERF_INTERNAL_H
#define PERF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/perf.h"
#include "hw/hw_cpu.h"
#include "mvpmu/x86.h"

#define PERF_X86_MAX_GP 8
#define PERF_X86_MAX_FIXED 4
/* Hardware index space: GP counters 0.., fixed counters 32.. */
#define PERF_IDX_FIXED 32
#define PERF_IDX_NR (PERF_IDX_FIXED + PERF_X86_MAX_FIXED)
#define PERF_SAMPLES_MAX (1u << 16)
/* Intel PMI handler: how many times it re-reads GLOBAL_STATUS. */
#define PERF_PMI_MAX_LOOPS 100

enum perf_ack { PERF_ACK_EARLY, PERF_ACK_MID, PERF_ACK_LATE };

struct perf_event {
	struct perf *p;
	struct perf_event_attr attr;
	int cpu;			/* -1: any CPU (task events) */
	struct perf_task *task;
	perf_overflow_fn cb;
	void *cb_arg;

	uint64_t seq;			/* creation order */
	uint64_t rot_key;		/* order among flexible events (rotation) */
	int klass;			/* scheduling class (perf_core.c ev_class), fixed at open */
	struct perf_event *next;	/* all events, by creation */

	/* What the driver made of the attr. */
	uint64_t config;		/* vendor selector bits, no EN/USR/OS/INT */
	int fixed_idx;			/* fixed counter it may use, -1 none */
	bool fixed_only;
	bool mediated_counted;		/* counted in nr_include_guest */

	bool enabled;
	bool error;			/* pinned event that did not fit */
	int on_cpu;			/* CPU whose context it is in, -1 none */
	int hw_idx;			/* -1 or the counter it occupies */

	uint64_t count;
	uint64_t prev_raw;		/* counter value at the last update */
	uint64_t period;		/* sampling period (0: counting) */
	int64_t period_left;

	/* Settled up to the syncs at estamp and rstamp (perf_event_settle_*);
	 * gstamp is the guest time of on_cpu at estamp (when on_cpu >= 0). */
	uint64_t time_enabled, time_running, estamp, rstamp, gstamp;

	struct perf_sample *samples;
	size_t nr_samples, cap_samples;
	uint64_t lost;
};

struct perf_cpu {
	struct perf_event *active[PERF_IDX_NR];
	uint64_t active_mask;		/* bit idx set iff active[idx] */
	uint64_t fixed_ctrl;		/* shadow of FIXED_CTR_CTRL */
	int disable_depth;		/* perf_pmu_disable nesting */
	bool irqs_off;
	bool guest_loaded;
	bool guest_load_noop;		/* the last guest-context load touched no PMU */
	bool guest_lvtpc;
	bool amd_virt;			/* SVM enabled: keep HostOnly bits */
	/* A flexible event of the CPU / task context did not fit. */
	bool rotate_cpu, rotate_task;
	struct perf_task *cur_task;
	uint64_t nr_pmis, nr_ignored_nmis;
	/* The syncs' cycles with the guest context loaded here, up to the
	 * sync at guest_stamp (perf_cpu_guest_time). */
	uint64_t guest_time, guest_stamp;
};

struct perf_x86_ops;

struct perf {
	struct sim *sim;
	int ctx;
	int nr_cpus;
	const struct perf_hw_ops *ops;
	void *hw[PERF_MAX_CPUS];
	/* The host's CPUs, whose ops are hw_wrmsr/hw_rdmsr themselves
	 * (host_cpu.c): perf_x86_wrmsr/rdmsr call those inline rather than
	 * through the table.  NULL for a guest kernel's perf. */
	struct hw_cpu *direct[PERF_MAX_CPUS];
	struct perf_cpu cpu[PERF_MAX_CPUS];

	struct perf_event *events, **events_tail;
	uint64_t seq;
	/* The cycle of the last perf_sync_times, up to which an event's
	 * times are settled when its state changes (perf_event_settle_*). */
	uint64_t synced_at;

	/* What the driver discovered. */
	const struct perf_x86_ops *x86;
	/* x86->sel_msr / ctr_msr of each GP counter, asked once at init
	 * (they follow from what the driver discovered). */
	uint32_t sel_msr[PERF_X86_MAX_GP], ctr_msr[PERF_X86_MAX_GP];
	bool has_pmu;
	unsigned version;		/* Intel arch version, AMD 2 = PerfMonV2 */
	unsigned nr_gp, nr_fixed;
	uint32_t fixed_mask;		/* fixed counters that exist */
	unsigned gp_width, fixed_width;
	uint64_t width_mask[2];		/* X86_MASK of gp_width, fixed_width (perf_x86_init) */
	uint64_t intel_ctrl;		/* Intel: every counter's global enable (Linux intel_ctrl) */
	uint32_t arch_events_unavail, arch_events_len;
	uint64_t perf_caps;
	bool fw_write;
	bool has_global;		/* global ctrl/status MSRs */
	bool amd_perfctr_core;
	uint64_t max_period;
	enum perf_ack ack;
	bool mediated_capable;

	/* Mediated vPMU accounting (Linux 7.0). */
	uint64_t nr_include_guest;	/* events on this PMU with !exclude_guest */
	uint64_t nr_mediated;		/* mediated VMs */
	/* perf_mediated_pmu_mutex, and where another CPU's thread may run
	 * in between (the race explorer, cli_race.c; NULL otherwise). */
	bool excl_locked;
	bool excl_unlocked;		/* test-only variant: no mutex at all */
	void (*yield)(void *arg, const char *where, bool wants_lock);
	void *yield_arg;
	void (*guest_pmi_fn)(void *arg, int cpu);
	void *guest_pmi_arg;

	uint64_t nr_bugs;
	uint64_t nr_msr_faults;

	/* The host binding (host_cpu.c), freed with the instance. */
	void *host;
	void (*host_free)(void *host);
	/* Called when a CPU re-enables interrupts (pending IRQ delivery). */
	void (*on_irq_enable)(struct perf *p, int cpu);
};

/* Vendor part of the x86 driver, one table per vendor. */
struct perf_x86_ops {
	const char *name;
	/* Reads CPUID/PERF_CAPABILITIES of CPU 0 into p; false: no PMU. */
	bool (*init)(struct perf *p);
	/* Generic id to selector bits; -ENOENT when unsupported. */
	int (*event_map)(struct perf *p, unsigned id, uint64_t *config);
	/* Fixed counter a selector may use (-1 none); *only: fixed-only. */
	int (*fixed_idx)(const struct perf *p, uint64_t config, bool *only);
	/* Raw config bits the vendor keeps. */
	uint64_t raw_mask;
	/* The full selector (EN excluded) for a scheduled event. */
	uint64_t (*hw_config)(struct perf *p, int cpu, const struct perf_event *ev);
	uint32_t (*sel_msr)(const struct perf *p, unsigned idx);
	uint32_t (*ctr_msr)(const struct perf *p, unsigned idx);
	void (*enable_all)(struct perf *p, int cpu);
	void (*disable_all)(struct perf *p, int cpu);
	bool (*handle_irq)(struct perf *p, int cpu);
	unsigned (*guest_get_msrs)(struct perf *p, int cpu,
				   struct perf_guest_switch_msr *out, unsigned max);
};

extern const struct perf_x86_ops perf_intel_ops;
extern const struct perf_x86_ops perf_amd_ops;

/* perf_core.c */
void perf_bug(struct perf *p, int cpu, const char *what);
void perf_sync_times(struct perf *p);

/* Event times (docs/perf.md, "Time accounting and scaling").  An event's enabled and running
 * times are what a pass over every event at each perf_sync_times would
 * add: the cycles since the previous sync, by the event's state at the
 * sync.  They are settled lazily instead, up to the last sync, just
 * before the state they depend on changes and when they are read; that
 * state was the same at every sync in between, so the sums are the same.
 * Running time depends on hw_idx only (settled by perf_x86_add/del);
 * enabled time on enabled, error and on_cpu, and for exclude_guest
 * events on whether the guest context is loaded on on_cpu, which each
 * CPU accounts for once: its guest time, the syncs' cycles at which its
 * guest context was loaded, settled before guest_loaded changes. */
static inline uint64_t perf_cpu_guest_time(const struct perf *p, int cpu)
{
	const struct perf_cpu *pc = &p->cpu[cpu];

	return pc->guest_time + (pc->guest_loaded ? p->synced_at - pc->guest_stamp : 0);
}

/* Before p->cpu[cpu].guest_loaded changes. */
static inline void perf_cpu_settle_guest(struct perf *p, int cpu)
{
	struct perf_cpu *pc = &p->cpu[cpu];

	pc->guest_time = perf_cpu_guest_time(p, cpu);
	pc->guest_stamp = p->synced_at;
}

/* Before ev->hw_idx changes: running time accrues while on a counter. */
static inline void perf_event_settle_running(struct perf *p, struct perf_event *ev)
{
	if (ev->hw_idx >= 0)
		ev->time_running += p->synced_at - ev->rstamp;
	ev->rstamp = p->synced_at;
}

/* Before ev->enabled, ev->error or ev->on_cpu changes: enabled time
 * accrues while enabled, not in error and in a CPU's context, except,
 * for exclude_guest events, while that CPU's guest context is loaded
 * (Linux 7.0 stops their clocks then). */
void perf_event_settle_enabled(struct perf *p, struct perf_event *ev);
void perf_ctx_resched(struct perf *p, int cpu);
void perf_ctx_sched_out_all(struct perf *p, int cpu);
bool perf_event_counts_guest(const struct perf_event *ev);

/* perf_x86.c: the common driver */
bool perf_x86_init(struct perf *p);
uint64_t perf_intel_generic_config(unsigned id);
uint64_t perf_amd_generic_config(unsigned id);
int perf_x86_event_init(struct perf *p, struct perf_event *ev);
/* MSR access through the instance's hw ops; a fault (a guest PMU may lack
 * an MSR, the _safe accessor style) is counted and traced, never fatal.
 * Inline: perf reaches the PMU through here on every schedule in and out. */
void perf_x86_msr_fault(struct perf *p, uint32_t msr, uint64_t val, int fault, bool write);

HW_ALWAYS_INLINE int perf_x86_wrmsr(struct perf *p, int cpu, uint32_t msr, uint64_t val)
{
	int fault = p->direct[cpu] ? hw_wrmsr(p->direct[cpu], msr, val) :
				     p->ops->wrmsr(p->hw[cpu], msr, val);

	if (fault)
		perf_x86_msr_fault(p, msr, val, fault, true);
	return fault;
}

HW_ALWAYS_INLINE uint64_t perf_x86_rdmsr(struct perf *p, int cpu, uint32_t msr)
{
	uint64_t val = 0;
	int fault = p->direct[cpu] ? hw_rdmsr(p->direct[cpu], msr, &val) :
				     p->ops->rdmsr(p->hw[cpu], msr, &val);

	if (fault) {
		perf_x86_msr_fault(p, msr, 0, fault, false);
		return 0;
	}
	return val;
}
/* LVTPC back to NMI delivery (boot, PMI ack, guest context put). */
HW_ALWAYS_INLINE void perf_x86_lvtpc_nmi(struct perf *p, int cpu)
{
	perf_x86_wrmsr(p, cpu, MSR_X2APIC_LVTPC, APIC_DM_NMI);
}
/* Picks a free counter for ev on cpu, -1 when none: its fixed counter,
 * else the first free GP counter.  Inline: once per event at every
 * schedule in. */
static inline int perf_x86_pick_counter(const struct perf *p, int cpu, const struct perf_event *ev)
{
	const struct perf_cpu *pc = &p->cpu[cpu];

	if (ev->fixed_idx >= 0 && (p->fixed_mask & (1u << ev->fixed_idx)) &&
	    !pc->active[PERF_IDX_FIXED + ev->fixed_idx])
		return PERF_IDX_FIXED + ev->fixed_idx;
	if (ev->fixed_only)
		return -1;
	for (unsigned i = 0; i < p->nr_gp; i++)
		if (!pc->active[i])
			return (int)i;
	return -1;
}
void perf_x86_add(struct perf *p, int cpu, struct perf_event *ev, int idx);
void perf_x86_del(struct perf *p, int cpu, struct perf_event *ev);
/* Folds the counter's progress into ev->count; returns the delta. */
uint64_t perf_x86_update(struct perf *p, int cpu, struct perf_event *ev);
/* Re-arms a sampling event; true when a period elapsed (take a sample). */
bool perf_x86_set_period(struct perf *p, int cpu, struct perf_event *ev);
/* Counter overflowed: update, re-arm and sample. */
void perf_x86_overflow(struct perf *p, int cpu, struct perf_event *ev);
void perf_x86_handle_status(struct perf *p, int cpu, uint64_t status);
bool perf_x86_handle_irq_legacy(struct perf *p, int cpu);
void perf_pmu_disable(struct perf *p, int cpu);
void perf_pmu_enable(struct perf *p, int cpu);
uint64_t perf_x86_ctr_mask(const struct perf *p, int idx);
void perf_x86_set_ack(struct perf *p, enum perf_ack ack);
enum perf_ack perf_x86_ack_for_model(const char *model);

/* perf_core.c: samples */
void perf_event_record_sample(struct perf *p, int cpu, struct perf_event *ev);

/* perf_mediated.c */
bool perf_mediated_event_counts(const struct perf *p,
				const struct perf_event_attr *attr);
int perf_mediated_account(struct perf *p, struct perf_event *ev);
void perf_mediated_unaccount(struct perf *p, struct perf_event *ev);

#endif
