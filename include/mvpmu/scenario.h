/* mvpmu public API: a scenario (the machine, host perf sessions, VMs and
 * the programs they run) and the result of running it.  Scenario files
 * (YAML, docs/scenarios.md) are parsed into this; C users may fill it in
 * directly and run it with cli_run_scenario() (src/cli/cli_run.h). */
#ifndef MVPMU_SCENARIO_H
#define MVPMU_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MV_NAME_MAX 64
#define MV_MAX_EVENTS 16
#define MV_MAX_SEGMENTS 16
#define MV_MAX_VMS 4
#define MV_MAX_VCPUS 4
#define MV_MAX_FILTER_EVENTS 300	/* KVM's KVM_PMU_EVENT_FILTER_MAX_EVENTS */
#define MV_MAX_COUNTERS 64
#define MV_MAX_LABELS 32
#define MV_MAX_EXIT_REASONS 32
#define MV_PATH_MAX 512
#define MV_SERIAL_MAX (64 * 1024)	/* serial output kept per image */
#define MV_MAX_SYMBOLS 256		/* symbols listed per image */
#define MV_MAX_IMAGES MV_MAX_VMS

enum mv_vpmu { MV_VPMU_NONE, MV_VPMU_EMULATED, MV_VPMU_MEDIATED };

/* One piece of a workload: `instructions` per pass under `label`. */
struct mv_segment {
	char label[MV_NAME_MAX];
	uint64_t instructions;
	bool kernel;
	unsigned emulated;	/* instructions the hypervisor must emulate, per pass */
};

struct mv_workload {
	struct mv_segment seg[MV_MAX_SEGMENTS];
	unsigned nr_seg;
	uint64_t passes;	/* how many times the segment list runs */
	uint64_t chunk;		/* a segment is executed in blocks of at most this */
};

enum mv_program_kind {
	MV_PROG_STAT,		/* perf-stat-like counting */
	MV_PROG_RECORD,		/* perf-record-like sampling */
	MV_PROG_RR,		/* rr-like tick counter */
	MV_PROG_EMULATED,	/* raw counters across emulated instructions */
	MV_PROG_IDLE,		/* runs the workload without touching the PMU */
	MV_PROG_IMAGE,		/* real x86-64 machine code: an ELF64 image */
};

struct mv_program {
	enum mv_program_kind kind;
	char events[MV_MAX_EVENTS][MV_NAME_MAX];	/* perf-style specs */
	unsigned nr_events;
	uint64_t period;	/* record: sample period (0: use freq) */
	uint64_t freq;		/* record: samples per simulated second */
	uint64_t rr_ticks;	/* rr: target tick count per interrupt */
	uint64_t preset;	/* emulated: counters start at -preset */
	struct mv_workload work;
	/* image: the ELF file, its RAM (bytes; 0: 256 MiB), and the number
	 * of instructions after which it is stopped (0: 10^9). */
	char image[MV_PATH_MAX];
	uint64_t mem;
	uint64_t insn_limit;
};

/* KVM_SET_PMU_EVENT_FILTER as the real interface takes it. */
struct mv_filter {
	bool present;
	uint32_t action;	/* 0 allow, 1 deny (KVM_PMU_EVENT_ALLOW/DENY) */
	uint32_t flags;		/* 1 = masked events */
	uint32_t fixed_counter_bitmap;
	uint32_t nevents;
	uint64_t events[MV_MAX_FILTER_EVENTS];
};

struct mv_vm_config {
	char name[MV_NAME_MAX];
	unsigned nr_vcpus;
	bool vpmu_set;			/* else the run's --vpmu */
	enum mv_vpmu vpmu;
	bool disable_pmu;		/* KVM_CAP_PMU_CAPABILITY DISABLE */
	/* Guest PMU limits (0 / -1: as the host). */
	int pmu_version, nr_gp, nr_fixed;
	int64_t perf_caps;		/* -1: as KVM's default */
	struct mv_filter filter;
	struct mv_program prog[MV_MAX_VCPUS];	/* one per vCPU */
	int pin[MV_MAX_VCPUS];		/* physical CPU of each vCPU */
};

struct mv_host_config {
	char events[MV_MAX_EVENTS][MV_NAME_MAX];	/* host perf stat, every CPU */
	unsigned nr_events;
	bool system_wide;		/* per-CPU events (else on the host task) */
	struct mv_workload work;	/* the host's own task, on CPU 0 */
	bool has_work;
};

struct mv_scenario {
	char name[MV_NAME_MAX];
	char desc[160];
	char cpu[MV_NAME_MAX];
	unsigned nr_pcpus;
	enum mv_vpmu vpmu;		/* for VMs that do not set one */
	uint64_t seed;
	uint64_t tick_cycles;		/* host scheduler tick (multiplex rotation) */
	uint64_t skid;
	struct mv_host_config host;
	struct mv_vm_config vm[MV_MAX_VMS];
	unsigned nr_vms;
	struct mv_program bare;		/* the program when vpmu is none */
	bool keep_trace;		/* keep every trace record (for --trace) */
	/* Exploration (DESIGN.md): design variants that undo one decision of
	 * the real design, and the rate of injected host PMU NMIs at each
	 * step of the mediated PMU switch. */
	struct mv_knobs {
		bool no_global_ctrl_clear_on_load;
		bool no_counter_clear_on_put;
		bool no_write_elision;
	} knobs;
	uint32_t inject_ppm;
};

/* ---- results ---- */

struct mv_counter_result {
	char name[MV_NAME_MAX];		/* who: "vm0/vcpu0", "host/cpu0" */
	char event[MV_NAME_MAX];	/* the event spec */
	uint64_t value;			/* as the tool reports it (scaled for perf stat) */
	uint64_t raw;			/* unscaled */
	uint64_t truth;
	uint64_t time_enabled, time_running;
};

struct mv_label_result {
	char label[MV_NAME_MAX];
	uint64_t samples;
	uint64_t truth_events;		/* true events of the sampled kind under this label */
};

struct mv_rr_result {
	bool present;
	uint64_t target, interrupts, exact, max_overshoot;
	uint64_t ticks_counted, ticks_truth;
};

struct mv_exit_count {
	char reason[32];
	uint64_t count;
};

/* Truth per ELF symbol of an image: instructions and branches retired. */
struct mv_symbol_result {
	char name[MV_NAME_MAX];
	uint64_t insns_user, insns_kernel, branches_user, branches_kernel;
};

/* A real-code guest: how it ended, what it printed, where its work was. */
struct mv_image_result {
	char who[MV_NAME_MAX];		/* "vm0/vcpu0" */
	char image[MV_PATH_MAX];
	char exit[24];			/* exit, halted, triple-fault, instruction-limit, error */
	char message[200];
	bool exited;			/* wrote isa-debug-exit: exit_status is set */
	uint32_t exit_status;		/* (value << 1) | 1 */
	char serial[MV_SERIAL_MAX];	/* bytes written to COM1 (not NUL-terminated) */
	size_t serial_len;
	bool serial_truncated;
	uint64_t insns_user, insns_kernel, branches_user, branches_kernel;
	/* Symbols that retired something, most instructions first; the rest
	 * (beyond MV_MAX_SYMBOLS) are summed in `other`. "[unknown]" is code
	 * outside every symbol. */
	struct mv_symbol_result sym[MV_MAX_SYMBOLS];
	unsigned nr_sym;
	struct mv_symbol_result other;
	unsigned nr_other;
};

struct mv_violation_result {
	int invariant;
	char name[32];
	uint64_t seed, step;
	char msg[160];
	char trace[4096];
};

struct mv_result {
	char scenario[MV_NAME_MAX];
	char cpu[MV_NAME_MAX];
	enum mv_vpmu vpmu, vpmu_effective;
	char fallback_reason[128];
	uint64_t seed;

	struct mv_counter_result guest[MV_MAX_COUNTERS];
	unsigned nr_guest;
	uint64_t guest_pmis;
	struct mv_label_result labels[MV_MAX_LABELS];
	unsigned nr_labels;
	uint64_t samples, samples_lost;
	struct mv_rr_result rr;
	struct mv_image_result images[MV_MAX_IMAGES];	/* real-code guests */
	unsigned nr_images;

	struct mv_counter_result host[MV_MAX_COUNTERS];
	unsigned nr_host;
	uint64_t host_pmis;

	uint64_t exits_total;
	struct mv_exit_count exits[MV_MAX_EXIT_REASONS];
	unsigned nr_exit_reasons;

	uint64_t cycles_total;
	uint64_t cycles_guest, cycles_transition, cycles_host_for_guest, cycles_host;

	uint64_t inv_checked, inv_violated;
	uint64_t injected;		/* exploration: faults injected */
	struct mv_violation_result violations[4];
	unsigned nr_violations;
	uint64_t trace_hash;
};


#endif
