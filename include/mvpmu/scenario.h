/* mvpmu public API: a scenario (the machine, host perf sessions, VMs and
 * the programs they run) and the result of running it.  Scenario files
 * (YAML, docs/scenarios.md) are parsed into this; C users may fill it in
 * directly and run it with cli_run_scenario() (src/cli/cli_run.h). */
#ifndef MVPMU_SCENARIO_H
#define MVPMU_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvpmu/test_hooks.h"

#define MV_NAME_MAX 64
#define MV_MAX_EVENTS 16
#define MV_MAX_SEGMENTS 16
#define MV_MAX_VMS 4
#define MV_MAX_VCPUS 4
#define MV_MAX_FILTER_EVENTS 300	/* KVM's KVM_PMU_EVENT_FILTER_MAX_EVENTS */
#define MV_MAX_PCPUS 8			/* perf's PERF_MAX_CPUS */
/* Results hold every counter and label the largest scenario can have:
 * 16 vCPUs x 16 events in the guests, 16 events x 8 CPUs on the host,
 * 16 segment labels in each of the 16 vCPUs' programs. */
#define MV_MAX_COUNTERS (MV_MAX_VMS * MV_MAX_VCPUS * MV_MAX_EVENTS)
#define MV_MAX_LABELS (MV_MAX_VMS * MV_MAX_VCPUS * MV_MAX_SEGMENTS)
#define MV_MAX_EXIT_REASONS 32
/* A counter's event text: a spec and " <not supported>". */
#define MV_EVENT_TEXT (MV_NAME_MAX + 32)
/* The run budget when neither the scenario nor the command line sets one
 * (docs/scenarios.md): far above every built-in, reached by a runaway
 * scenario within about a minute of host time. */
#define MV_DEFAULT_MAX_CYCLES 10000000000ULL
#define MV_DEFAULT_MAX_INSNS 100000000000ULL
#define MV_DEFAULT_MAX_STEPS 100000000ULL
#define MV_PATH_MAX 512
#define MV_SERIAL_MAX (64 * 1024)	/* serial output kept per image */
#define MV_MAX_SYMBOLS 256		/* symbols listed per image */
#define MV_MAX_IMAGES MV_MAX_VMS
#define MV_CMDLINE_MAX 1024		/* a multiboot kernel's command line */
#define MV_MAX_MODULES 4		/* multiboot modules per kernel */

enum mv_vpmu { MV_VPMU_NONE, MV_VPMU_EMULATED, MV_VPMU_MEDIATED };

/* Proposals later than Linux 7.0 the model can apply (--patch NAME,
 * `patches:`), off by default; docs/linux-7.0.md lists each and its source. */
enum mv_patch {
	MV_PATCH_FIXED_COUNTER_3 = 1u << 0,	/* "fixed-counter-3" (Feb 2026) */
	MV_PATCH_NESTED_AMD_HG = 1u << 1,	/* "nested-amd-host-guest-only" (Jan 2026) */
};
#define MV_NR_PATCHES 2

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
	MV_PROG_IMAGE,		/* real x86 machine code: an ELF64 image or a multiboot kernel */
};

struct mv_program {
	enum mv_program_kind kind;
	unsigned line;			/* where it was given in the file (0: not from a file) */
	unsigned event_line[MV_MAX_EVENTS];
	char events[MV_MAX_EVENTS][MV_NAME_MAX];	/* perf-style specs */
	unsigned nr_events;
	uint64_t period;	/* record: sample period (0: use freq) */
	uint64_t freq;		/* record: samples per simulated second */
	uint64_t rr_ticks;	/* rr: target tick count per interrupt */
	uint64_t preset;	/* emulated: counters start at -preset */
	uint64_t handler_work;	/* emulated: kernel instructions its PMI handler runs before unmasking */
	struct mv_workload work;
	/* image: the ELF file, its RAM (bytes; 0: 256 MiB), and the number
	 * of instructions after which it is stopped (0: 10^9). */
	char image[MV_PATH_MAX];
	uint64_t mem;
	uint64_t insn_limit;
	/* A multiboot kernel's command line (it gets "IMAGE CMDLINE", its path
	 * first, as from QEMU's -kernel and -append) and modules ("PATH
	 * [ARGS]", as QEMU's -initrd list). */
	char cmdline[MV_CMDLINE_MAX];
	bool cmdline_set;
	char modules[MV_MAX_MODULES][MV_PATH_MAX];
	unsigned nr_modules;
};

/* KVM_SET_PMU_EVENT_FILTER as the real interface takes it. */
struct mv_filter {
	bool present;
	uint32_t action;	/* 0 allow, 1 deny (KVM_PMU_EVENT_ALLOW/DENY) */
	uint32_t flags;		/* 1 = masked events */
	uint32_t fixed_counter_bitmap;
	uint32_t nevents;
	uint64_t events[MV_MAX_FILTER_EVENTS];
	unsigned line;			/* of `filter:` in the file */
};

struct mv_vm_config {
	char name[MV_NAME_MAX];
	unsigned line;			/* of the VM in the file */
	unsigned nr_vcpus;
	bool vpmu_set;			/* the vPMU this VM expects (must be the host's) */
	enum mv_vpmu vpmu;
	bool disable_pmu;		/* KVM_CAP_PMU_CAPABILITY DISABLE */
	bool no_irqchip;		/* no KVM_CREATE_IRQCHIP: no in-kernel LAPIC */
	/* Where the guest kernel's Intel PMI handler unmasks its LVTPC
	 * (pmi_ack: 0 as Linux picks for the CPU, 1 early, 2 mid, 3 late). */
	unsigned pmi_ack;
	/* Guest PMU limits (0 / -1: as the host). */
	int pmu_version, nr_gp, nr_fixed;
	int64_t perf_caps;		/* -1: as KVM's default */
	struct mv_filter filter;
	struct mv_program prog[MV_MAX_VCPUS];	/* one per vCPU */
	int pin[MV_MAX_VCPUS];		/* physical CPU of each vCPU */
};

struct mv_host_config {
	char events[MV_MAX_EVENTS][MV_NAME_MAX];	/* host perf stat, every CPU */
	unsigned event_line[MV_MAX_EVENTS];
	unsigned nr_events;
	bool system_wide;		/* per-CPU events (else on the host task) */
	struct mv_workload work;	/* the host's own task, on CPU 0 */
	bool has_work;
};

/* Where the run stops (0: no limit); a run that reaches a limit before
 * its programs finish stops them and reports what it has, marked partial.
 * Steps (blocks of work, accesses, exits) bound host time when blocks are
 * tiny and cycles barely advance. */
struct mv_budget {
	uint64_t max_cycles;		/* simulated cycles */
	uint64_t max_insns;		/* instructions of all workloads */
	uint64_t max_steps;		/* program steps */
};

/* Called by the runner now and then (every 64 steps) with how
 * far the run is; for progress displays.  Must not change the run. */
struct mv_progress {
	uint64_t cycles, insns, steps;
	const struct mv_budget *budget;
};
typedef void (*mv_progress_fn)(const struct mv_progress *pr, void *arg);

struct mv_scenario {
	char name[MV_NAME_MAX];
	char desc[160];
	char cpu[MV_NAME_MAX];
	const char *file;		/* the file it came from, for messages (NULL: none) */
	unsigned cpu_line;		/* of `cpu:` (0: not given) */
	unsigned nr_pcpus;
	/* The host's vPMU, chosen once for the whole host as KVM's module
	 * parameters choose it (none = bare metal, no hypervisor).  Given by
	 * the top-level `vpmu:` (vpmu_set), the `kvm:` keys, or the VMs'
	 * common `vpmu:`; docs/scenarios.md has the rule. */
	enum mv_vpmu vpmu;
	bool vpmu_set;
	struct mv_kvm_params {
		bool set;			/* `kvm:` given */
		bool enable_pmu;		/* kvm.enable_pmu */
		bool enable_mediated_pmu;	/* kvm_{intel,amd}.enable_mediated_pmu */
		bool force_emulation_prefix;	/* kvm.force_emulation_prefix (off as upstream) */
	} kvm;
	uint32_t patches;		/* enum mv_patch bits in force */
	uint64_t seed;
	uint64_t tick_cycles;		/* host scheduler tick (multiplex rotation) */
	uint64_t skid;
	struct mv_host_config host;
	struct mv_vm_config vm[MV_MAX_VMS];
	unsigned nr_vms;
	struct mv_program bare;		/* the program when vpmu is none */
	bool bare_set;			/* `bare:` given (else the first VM's program) */
	bool keep_trace;		/* keep every trace record in memory (C users, tests) */
	/* Exploration (DESIGN.md): design variants that undo one decision of
	 * the real design, and the rate of injected host PMU NMIs at each
	 * step of the mediated PMU switch. */
	struct mv_knobs {
		bool no_global_ctrl_clear_on_load;
		bool no_counter_clear_on_put;
		bool no_write_elision;
		bool assert_instead_of_clear;
		bool lvtpc_before_clear;
		bool lvtpc_outside_switch;
		bool no_mask_copy;
		bool no_guestonly;
		bool no_fastpath_bail;
		bool inject_after_load;
	} knobs;
	uint32_t inject_ppm;
	struct mv_budget budget;
	mv_progress_fn progress;	/* NULL: none */
	void *progress_arg;
	/* Exhaustive exploration and its replay (docs/explore.md): number the
	 * injection points in the order the run visits them and inject at
	 * exactly the numbers listed (ascending; the caller owns the list).
	 * `points` numbers them without injecting anywhere. */
	bool points;
	const uint32_t *inject_at;
	unsigned nr_inject_at;
	/* Test-only variants (mvpmu/test_hooks.h), for C tests only. */
	struct mv_test_hooks test;
};

/* ---- results ---- */

struct mv_counter_result {
	char name[MV_NAME_MAX];		/* who: "vm0/vcpu0", "host/cpu0" */
	char event[MV_EVENT_TEXT];	/* the event spec */
	uint64_t value;			/* as the tool reports it (scaled for perf stat) */
	uint64_t raw;			/* unscaled */
	uint64_t truth;
	uint64_t time_enabled, time_running;
	unsigned width;			/* value is modulo 2^width (raw counters); 0: 64-bit */
	uint64_t samples;		/* record: samples taken */
	uint64_t period;		/* record with a fixed period, else 0 */
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

#define MV_MAX_MSR_EXITS 64

/* MSR exits (reads and writes) of one MSR. */
struct mv_msr_exit_count {
	uint32_t msr;
	uint64_t count;
};

/* VM exits: in total, by reason (vendor names), by MSR (the MSRs beyond
 * MV_MAX_MSR_EXITS, in address order, are summed in msr_other). */
struct mv_exit_stats {
	uint64_t total, fastpath;
	struct mv_exit_count reasons[MV_MAX_EXIT_REASONS];
	unsigned nr_reasons;
	struct mv_msr_exit_count msrs[MV_MAX_MSR_EXITS];
	unsigned nr_msrs;
	uint64_t msr_other;
};

#define MV_MAX_PT_COUNTERS 32

/* One VM as KVM built it. */
struct mv_vm_result {
	char name[MV_NAME_MAX];
	bool created;			/* every vCPU was created */
	char error[16];			/* errno name of the failure, "" when created */
	char warning[160];		/* what the kernel logged, "" none */
	enum mv_vpmu vpmu;		/* what the VM got */
	char vpmu_reason[128];		/* why it has less than the host's, "" */
	/* The guest PMU shape (vCPU 0): CPUID 0xA / 0x80000022 as KVM reports it. */
	unsigned version, gp, fixed, gp_width, fixed_width;
	uint64_t perf_caps;
	/* What the mediated vPMU passes through (all false/empty otherwise). */
	bool pt_global_msrs, pt_rdpmc;
	uint32_t pt_counters[MV_MAX_PT_COUNTERS];	/* counter MSRs, ascending */
	unsigned nr_pt_counters;
	struct mv_exit_stats exits;
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
	bool multiboot;			/* a multiboot kernel (else an ELF64 image) */
	char cmdline[MV_CMDLINE_MAX + MV_PATH_MAX];	/* what the kernel got */
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
	char site[48];		/* the switch step, "entry", or "" (docs/invariants.md) */
	char cause[96];		/* injections since that switch began, "+"-joined */
	char trace[4096];
};

#define MV_MAX_SIGS 16

/* Every distinct kind of violation of a run: invariant, site and cause,
 * how many times, and the first one's step and message. */
struct mv_violation_sig {
	int invariant;
	char name[32];
	char site[48];
	char cause[96];
	uint64_t count, step;
	char msg[160];
};

struct mv_result {
	char scenario[MV_NAME_MAX];
	char cpu[MV_NAME_MAX];
	enum mv_vpmu vpmu, vpmu_effective;
	char fallback_reason[128];
	uint64_t seed;
	/* The run reached its budget and stopped before its programs
	 * finished: the figures cover the work done until then. */
	bool partial;
	char partial_reason[160];
	struct mv_budget budget;	/* in force (0: none) */
	uint64_t insns_total, steps_total;

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
	uint64_t exits_fastpath;
	struct mv_msr_exit_count msr_exits[MV_MAX_MSR_EXITS];	/* over all VMs */
	unsigned nr_msr_exits;
	uint64_t msr_exits_other;

	/* The kernel modelled and the later proposals in force. */
	char kernel[32];
	uint32_t patches;
	/* The module parameters as KVM applied them (after its host checks). */
	bool kvm_loaded, enable_pmu, enable_mediated_pmu;
	/* Bare metal: who ran natively, and the VMs that did not exist. */
	bool bare;
	char bare_program[MV_NAME_MAX];
	unsigned bare_vms_not_run;
	struct mv_vm_result vms[MV_MAX_VMS];
	unsigned nr_vms;

	uint64_t cycles_total;
	uint64_t cycles_guest, cycles_transition, cycles_host_for_guest, cycles_host;

	uint64_t inv_checked, inv_violated;
	uint64_t injected;		/* exploration: faults injected */
	struct mv_violation_result violations[4];
	unsigned nr_violations;
	struct mv_violation_sig sigs[MV_MAX_SIGS];
	unsigned nr_sigs;
	bool sigs_overflow;		/* more kinds than kept */
	/* Exploration: the injection points the run visited, by kind
	 * (switch, host-pmi, vmexit, guest-insn), when numbered. */
	uint64_t points, points_by_kind[4];
	/* What the design knobs cost, and the warnings KVM logged. */
	uint64_t switch_wrmsrs, exits_mediated_pmi;
	uint64_t kernel_warnings;
	char kernel_warning[200];	/* the first */
	uint64_t trace_hash;
};


#endif
