/* cli_run: builds the machine a scenario describes (simulated CPUs, the
 * host kernel's perf, the hypervisor, VMs and their guest kernels), runs
 * every thread to completion (or to the run's budget) on a seeded
 * scheduler, checks the run-level invariants and fills the result. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "cli_scenario.h"
#include "cli_text.h"
#include "guest/guest_bare.h"
#include "guest/guest_prog.h"
#include "host/host_cpu.h"
#include "kvm/kvm.h"
#include "kvm/kvm_pmu_filter.h"

#define MAX_THREADS (1 + MV_MAX_VMS * MV_MAX_VCPUS)
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define GUEST_TIMER_CYCLES 1000000	/* the guest kernel's tick (1 ms at 1 GHz-ish) */
#define PROGRESS_STEPS 64		/* steps between progress calls */

struct machine;

struct thread {
	struct machine *m;
	int cpu;
	bool done;
	struct perf_task *task;		/* NULL: not a host task (bare metal) */
	struct guest_prog *prog;
	struct kvm_vcpu *vcpu;		/* a vCPU thread */
	struct guest_bare env;		/* host task or bare-metal program */
	uint64_t next_timer;
	struct sim *sim;
	char who[MV_NAME_MAX];
	int vm;				/* VM index, -1 host */
	int ctx;			/* truth context */
	bool image;			/* real code: its own kernel, no guest timer */
};

struct host_event {
	struct perf_event *ev;
	int cpu;			/* -1: on the host task */
	char spec[MV_NAME_MAX];
};

struct machine {
	const struct mv_scenario *sc;
	const struct hw_model *model;
	struct sim sim;
	struct hw_cpu cpu[PERF_MAX_CPUS];
	struct hw_cpu *cpus[PERF_MAX_CPUS];
	int nr_cpus;
	struct perf *host;		/* host kernel perf (NULL on bare metal) */
	struct kvm *kvm;
	struct kvm_vm *vm[MV_MAX_VMS];
	struct perf *guest_perf[MV_MAX_VMS + 1];	/* last: bare metal */
	struct thread th[MAX_THREADS];
	int nr_th;
	struct thread *cur[PERF_MAX_CPUS];
	struct perf_task host_task;
	struct host_event hev[MV_MAX_COUNTERS];
	int nr_hev;
	bool bare;
	struct cli_host host_cfg;	/* the vPMU rule's answer */
	bool vm_created[MV_MAX_VMS];	/* every vCPU of VM i exists */
	/* The budget in force and how far the run is. */
	struct mv_budget budget;
	uint64_t steps;
	bool stopping;			/* the budget was reached: programs stop */
	bool partial;			/* ... before some program finished */
	char partial_reason[160];
};

void cli_scenario_defaults(struct mv_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->cpu, sizeof(sc->cpu), "skylake");
	sc->nr_pcpus = 1;
	sc->tick_cycles = 4000000;
	/* The budget stays 0 here (the runner's defaults) so that a file's
	 * own value can be told from none. */
	for (int i = 0; i < MV_MAX_VMS; i++) {
		sc->vm[i].pmu_version = -1;
		sc->vm[i].nr_gp = -1;
		sc->vm[i].nr_fixed = -1;
		sc->vm[i].perf_caps = -1;
	}
}

static bool is_amd(const struct machine *m)
{
	return m->model->vendor == HW_AMD;
}

static struct thread *new_thread(struct machine *m, int cpu, int vm, const char *who)
{
	struct thread *t = &m->th[m->nr_th++];

	memset(t, 0, sizeof(*t));
	t->cpu = cpu;
	t->vm = vm;
	t->next_timer = GUEST_TIMER_CYCLES;
	t->sim = &m->sim;
	t->m = m;
	snprintf(t->who, sizeof(t->who), "%s", who);
	return t;
}

/* ---- building ---- */

/* A message about something the scenario file gave at `line`: names
 * FILE:LINE when the scenario came from a file. */
static int src_err(const struct machine *m, char *err, size_t errlen, unsigned line,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int src_err(const struct machine *m, char *err, size_t errlen, unsigned line,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m->sc->file)
		cli_scenario_error(err, errlen, m->sc->file, line, "%s", msg);
	else
		snprintf(err, errlen, "%s", msg);
	return 2;
}

static int open_host_events(struct machine *m, char *err, size_t errlen)
{
	const struct mv_host_config *h = &m->sc->host;

	for (unsigned i = 0; i < h->nr_events; i++) {
		struct perf_event_attr attr;
		char msg[128];
		int ncpu = h->system_wide ? m->nr_cpus : 1;

		if (perf_parse_event(h->events[i], &attr, msg, sizeof(msg)))
			return src_err(m, err, errlen, h->event_line[i],
				       "expected a perf event, got %s", msg);
		for (int c = 0; c < ncpu && m->nr_hev < MV_MAX_COUNTERS; c++) {
			struct host_event *he = &m->hev[m->nr_hev];
			int rc = perf_event_open(m->host, &attr, h->system_wide ? c : -1,
						 h->system_wide ? NULL : &m->host_task,
						 NULL, NULL, &he->ev);
			/* perf stat shows an event the PMU lacks as <not supported>. */
			if (rc == -ENOENT || rc == -EOPNOTSUPP)
				he->ev = NULL;
			else if (rc)
				return src_err(m, err, errlen, h->event_line[i],
					       "expected an event host perf accepts, got '%s' "
					       "refused (%d)", h->events[i], rc);
			he->cpu = h->system_wide ? c : -1;
			snprintf(he->spec, sizeof(he->spec), "%s", h->events[i]);
			m->nr_hev++;
		}
	}
	return 0;
}

static int add_host_task(struct machine *m, char *err, size_t errlen)
{
	struct mv_program idle = { .kind = MV_PROG_IDLE, .work = m->sc->host.work };
	struct thread *t = new_thread(m, 0, -1, "host");

	guest_bare_init_host(&t->env, m->cpus[0]);
	t->task = &m->host_task;
	char msg[160];

	t->prog = guest_prog_new(&idle, &t->env.g, m->host, 0, 0, is_amd(m), msg, sizeof(msg));
	return t->prog ? 0 : src_err(m, err, errlen, 0, "host task: %s", msg);
}

/* A real-code image is its own guest kernel: no guest perf, no timer. */
static int new_image_prog(struct machine *m, struct thread *t, const struct mv_program *cfg,
			  struct mv_guest *g, int ctx, char *err, size_t errlen)
{
	char msg[400];

	t->image = true;
	t->prog = guest_prog_new_image(cfg, g, &m->sim, ctx, msg, sizeof(msg));
	if (!t->prog) {
		snprintf(err, errlen, "%s", msg);
		return 2;
	}
	return 0;
}

static int build_bare(struct machine *m, char *err, size_t errlen)
{
	struct thread *t = new_thread(m, 0, 0, "vm0/vcpu0");
	struct mv_guest *g = &t->env.g;
	int ctx = SIM_CTX_GUEST(0, 0);

	guest_bare_init(&t->env, m->cpus[0], ctx);
	if (m->sc->bare.kind == MV_PROG_IMAGE)
		return new_image_prog(m, t, &m->sc->bare, g, ctx, err, errlen);
	m->guest_perf[MV_MAX_VMS] = guest_perf_new(&m->sim, ctx, &g, 1);
	char msg[160];

	t->prog = guest_prog_new(&m->sc->bare, g, m->guest_perf[MV_MAX_VMS], 0, ctx,
				 is_amd(m), msg, sizeof(msg));
	return t->prog ? 0 : src_err(m, err, errlen, m->sc->bare.line, "%s", msg);
}

/* A VM as a VMM builds it: KVM_CREATE_VM, then each vCPU.  A vCPU that
 * KVM refuses (EBUSY: perf holds guest-including events and the module
 * runs the mediated vPMU) leaves the VM not created, reported with the
 * error; the host and the other VMs still run. */
static int build_vm(struct machine *m, int i, char *err, size_t errlen)
{
	const struct mv_vm_config *cfg = &m->sc->vm[i];
	struct mv_guest *gs[MV_MAX_VCPUS];
	struct thread *ts[MV_MAX_VCPUS];
	struct kvm_vcpu *vc[MV_MAX_VCPUS];
	unsigned n = cfg->nr_vcpus ? cfg->nr_vcpus : 1;

	char msg[256];

	if (n > MV_MAX_VCPUS)
		return src_err(m, err, errlen, cfg->line, "%s: too many vCPUs", cfg->name);
	m->vm[i] = kvm_vm_create(m->kvm, i, cfg, msg, sizeof(msg));
	if (!m->vm[i])
		return src_err(m, err, errlen, cfg->line, "%s", msg);
	for (unsigned v = 0; v < n; v++) {
		int pcpu = cfg->pin[v] >= 0 && cfg->pin[v] < m->nr_cpus ? cfg->pin[v] : 0;

		vc[v] = kvm_vcpu_create(m->vm[i], (int)v, pcpu);
		if (!vc[v])
			return 0;	/* not created: kvm_vm_create_error() says why */
	}
	m->vm_created[i] = true;
	for (unsigned v = 0; v < n; v++) {
		char who[MV_NAME_MAX];

		snprintf(who, sizeof(who), "vm%d/vcpu%u", i, v);
		ts[v] = new_thread(m, kvm_vcpu_pcpu(vc[v]), i, who);
		ts[v]->vcpu = vc[v];
		ts[v]->task = kvm_vcpu_task(ts[v]->vcpu);
		ts[v]->ctx = SIM_CTX_GUEST(i, (int)v);
		gs[v] = kvm_vcpu_guest(ts[v]->vcpu);
	}
	/* The scenario parser allows an image only alone on a 1-vCPU VM. */
	if (cfg->prog[0].kind == MV_PROG_IMAGE)
		return new_image_prog(m, ts[0], &cfg->prog[0], gs[0], ts[0]->ctx, err, errlen);
	m->guest_perf[i] = guest_perf_new(&m->sim, SIM_CTX_GUEST(i, 0), gs, (int)n);
	guest_perf_set_ack(m->guest_perf[i], cfg->pmi_ack);
	for (unsigned v = 0; v < n; v++) {
		ts[v]->prog = guest_prog_new(&cfg->prog[v], gs[v], m->guest_perf[i], (int)v,
					     SIM_CTX_GUEST(i, (int)v), is_amd(m), msg, sizeof(msg));
		if (!ts[v]->prog)
			return src_err(m, err, errlen, cfg->prog[v].line ? cfg->prog[v].line :
				       cfg->line, "%s vCPU %u: %s", cfg->name, v, msg);
	}
	return 0;
}

/* A filter KVM_SET_PMU_EVENT_FILTER would refuse is bad input, named at
 * its line, whether or not the VM runs (bare metal runs none of them). */
static int check_filters(struct machine *m, char *err, size_t errlen)
{
	for (unsigned i = 0; i < m->sc->nr_vms; i++) {
		const struct mv_vm_config *cfg = &m->sc->vm[i];
		struct kvm_pmu_filter *f = NULL;
		int rc;

		if (!cfg->filter.present)
			continue;
		rc = kvm_pmu_filter_from_config(&cfg->filter, is_amd(m), &f);
		kvm_pmu_filter_free(f);
		if (rc)
			return src_err(m, err, errlen, cfg->filter.line,
				       "expected a filter KVM_SET_PMU_EVENT_FILTER accepts, "
				       "got one it refuses with %s", rc == -E2BIG ? "E2BIG" : "EINVAL");
	}
	return 0;
}

static int build(struct machine *m, char *err, size_t errlen)
{
	const struct mv_scenario *sc = m->sc;
	int rc, where;

	if (cli_scenario_host(sc, &m->host_cfg, &where, err, errlen))
		return 2;
	if ((rc = check_filters(m, err, errlen)))
		return rc;
	m->bare = m->host_cfg.vpmu == MV_VPMU_NONE && sc->nr_vms > 0;
	if (m->bare)
		return build_bare(m, err, errlen);
	m->host = host_perf_new(&m->sim, m->cpus, m->nr_cpus);
	m->host_task = (struct perf_task){ .id = 1, .name = "host" };
	if ((rc = open_host_events(m, err, errlen)))
		return rc;
	if (sc->host.has_work && (rc = add_host_task(m, err, errlen)))
		return rc;
	if (sc->nr_vms == 0)
		return 0;
	/* The module parameters, once for the host. */
	struct kvm_params params = {
		.enable_pmu = m->host_cfg.enable_pmu,
		.enable_mediated_pmu = m->host_cfg.enable_mediated_pmu,
		.force_emulation_prefix = sc->kvm.force_emulation_prefix,
		.patches = sc->patches,
	};
	m->kvm = kvm_new(&m->sim, m->cpus, m->nr_cpus, m->host, &params);
	if (!m->kvm) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	*kvm_knobs(m->kvm) = (struct kvm_knobs){
		.no_global_ctrl_clear_on_load = sc->knobs.no_global_ctrl_clear_on_load,
		.no_counter_clear_on_put = sc->knobs.no_counter_clear_on_put,
		.no_write_elision = sc->knobs.no_write_elision,
		.assert_instead_of_clear = sc->knobs.assert_instead_of_clear,
		.lvtpc_before_clear = sc->knobs.lvtpc_before_clear,
		.lvtpc_outside_switch = sc->knobs.lvtpc_outside_switch,
		.no_mask_copy = sc->knobs.no_mask_copy,
		.no_guestonly = sc->knobs.no_guestonly,
		.no_fastpath_bail = sc->knobs.no_fastpath_bail,
		.inject_after_load = sc->knobs.inject_after_load,
	};
	for (unsigned i = 0; i < sc->nr_vms; i++)
		if ((rc = build_vm(m, (int)i, err, errlen)))
			return rc;
	return 0;
}

/* ---- running ---- */

/* Instructions of every workload so far (all contexts, both modes). */
static uint64_t insns_done(const struct machine *m)
{
	uint64_t n = 0;

	for (int c = 0; c < SIM_CTX_MAX; c++)
		n += m->sim.truth.ev[c][0][MV_EV_INSTRUCTIONS] +
		     m->sim.truth.ev[c][1][MV_EV_INSTRUCTIONS];
	return n;
}

static const char *budget_reached(const struct machine *m, uint64_t insns)
{
	if (m->sim.cycle >= m->budget.max_cycles)
		return "max_cycles";
	if (insns >= m->budget.max_insns)
		return "max_insns";
	if (m->steps >= m->budget.max_steps)
		return "max_steps";
	return NULL;
}

/* The budget is reached: every program stops at its next step, as at
 * the end of its workload, and the run ends once they all have. */
static void stop_all(struct machine *m, const char *which, uint64_t insns)
{
	static const struct { const char *key, *opt; } names[] = {
		{ "max_cycles", "--max-cycles" }, { "max_insns", "--max-insns" },
		{ "max_steps", "--max-steps" },
	};
	const char *opt = "";
	uint64_t limit = 0;

	m->stopping = true;
	for (int i = 0; i < m->nr_th; i++)
		if (!m->th[i].done && m->th[i].prog && guest_prog_stop(m->th[i].prog))
			m->partial = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(which, names[i].key))
			opt = names[i].opt;
	limit = !strcmp(which, "max_cycles") ? m->budget.max_cycles :
		!strcmp(which, "max_insns") ? m->budget.max_insns : m->budget.max_steps;
	snprintf(m->partial_reason, sizeof(m->partial_reason),
		 "reached %s %llu (%s) at %llu cycles, %llu instructions, %llu steps",
		 which, (unsigned long long)limit, opt, (unsigned long long)m->sim.cycle,
		 (unsigned long long)insns, (unsigned long long)m->steps);
}

/* Counts one program step against the budget, and now and then tells the
 * progress display how far the run is (it never changes the run). */
static void account_step(struct machine *m)
{
	uint64_t insns = insns_done(m);
	const char *which;

	m->steps++;
	if (m->sc->progress && m->steps % PROGRESS_STEPS == 0) {
		struct mv_progress pr = { m->sim.cycle, insns, m->steps, &m->budget };

		m->sc->progress(&pr, m->sc->progress_arg);
	}
	if (!m->stopping && (which = budget_reached(m, insns)))
		stop_all(m, which, insns);
}

/* One step of a vCPU thread; the guest kernel's timer re-arms with a
 * TSC-deadline write, an exit KVM handles in its fastpath. */
static bool vcpu_step(void *arg)
{
	struct thread *t = arg;

	account_step(t->m);
	if (!t->image && t->sim->cycle >= t->next_timer) {
		t->next_timer = t->sim->cycle + GUEST_TIMER_CYCLES;
		mv_wrmsr_safe(kvm_vcpu_guest(t->vcpu), MSR_IA32_TSC_DEADLINE, t->next_timer);
	}
	return guest_prog_step(t->prog);
}

static void run_thread(struct machine *m, struct thread *t, uint64_t until)
{
	if (t->vcpu) {
		t->done = !kvm_vcpu_run(t->vcpu, vcpu_step, t, until);
		return;
	}
	while (!t->done && m->sim.cycle < until) {
		account_step(m);
		t->done = !guest_prog_step(t->prog);
	}
}

/* One runnable thread of `cpu`, chosen by the seeded RNG among those
 * still running there; NULL when none. */
static struct thread *pick(struct machine *m, int cpu)
{
	struct thread *ready[MAX_THREADS];
	int n = 0;

	for (int i = 0; i < m->nr_th; i++)
		if (m->th[i].cpu == cpu && !m->th[i].done)
			ready[n++] = &m->th[i];
	return n ? ready[sim_rng_below(&m->sim.rng, (uint64_t)n)] : NULL;
}

static void switch_to(struct machine *m, int cpu, struct thread *next)
{
	struct thread *prev = m->cur[cpu];

	if (prev == next)
		return;
	if (m->host)
		perf_task_switch(m->host, cpu, prev ? prev->task : NULL,
				 next ? next->task : NULL);
	sim_trace(&m->sim, TR_SCHED, (uint32_t)cpu, next ? (uint64_t)(next - m->th) : ~0ULL, 0,
		  next ? next->who : "idle");
	m->cur[cpu] = next;
}

/* Every thread runs until its program ends; the budget (account_step)
 * makes programs end early, so this always terminates. */
static void run(struct machine *m)
{
	uint64_t tick = m->sc->tick_cycles ? m->sc->tick_cycles : 4000000;

	for (;;) {
		bool any = false;

		for (int c = 0; c < m->nr_cpus; c++) {
			struct thread *t = pick(m, c);

			if (!t)
				continue;
			any = true;
			switch_to(m, c, t);
			run_thread(m, t, m->sim.cycle + tick);
			if (m->host)
				perf_tick(m->host, c);
		}
		if (!any) {
			for (int c = 0; c < m->nr_cpus; c++)
				switch_to(m, c, NULL);
			return;
		}
	}
}

/* ---- results and run-level invariants ---- */

static uint64_t host_event_truth(const struct machine *m, const struct host_event *he)
{
	const struct perf_event_attr *a = perf_event_attr_of(he->ev);
	int ev = perf_attr_event(a, is_amd(m));

	bool u = !a->exclude_user, k = !a->exclude_kernel;
	uint64_t t = 0;

	if (ev < 0)
		return 0;
	/* Host work runs on the host task, pinned to CPU 0. */
	if (!a->exclude_host && he->cpu <= 0)
		t += sim_truth_get(&m->sim.truth, 0, (enum mv_event)ev, u, k);
	if (a->exclude_guest || he->cpu < 0)
		return t;
	for (int i = 0; i < m->nr_th; i++)
		if (m->th[i].vcpu && m->th[i].cpu == he->cpu)
			t += sim_truth_get(&m->sim.truth, m->th[i].ctx, (enum mv_event)ev, u, k);
	return t;
}

static bool any_mediated(const struct machine *m)
{
	for (int i = 0; i < MV_MAX_VMS; i++)
		if (m->vm[i] && kvm_vm_vpmu(m->vm[i]) == MV_VPMU_MEDIATED)
			return true;
	return false;
}

static void host_results(struct machine *m, struct mv_result *res)
{
	uint64_t guest_time = m->sim.time[SIM_T_GUEST];

	for (int i = 0; i < m->nr_hev && res->nr_host < MV_MAX_COUNTERS; i++) {
		struct host_event *he = &m->hev[i];
		struct mv_counter_result *r = &res->host[res->nr_host++];
		const struct perf_event_attr *a;

		if (he->cpu >= 0)
			snprintf(r->name, sizeof(r->name), "host/cpu%d", he->cpu);
		else
			snprintf(r->name, sizeof(r->name), "host/task");
		snprintf(r->event, sizeof(r->event), "%s", he->spec);
		if (!he->ev) {
			snprintf(r->event, sizeof(r->event), "%s <not supported>", he->spec);
			continue;
		}
		a = perf_event_attr_of(he->ev);
		r->raw = perf_event_read(he->ev, &r->time_enabled, &r->time_running);
		r->value = perf_event_read_scaled(he->ev);
		r->truth = host_event_truth(m, he);
		if (a->exclude_guest)
			sim_check(&m->sim, INV_ISOLATION, r->raw <= r->truth,
				  "host %s %s counted %llu events, more than the %llu host events",
				  r->name, r->event, (unsigned long long)r->raw,
				  (unsigned long long)r->truth);
		if (a->exclude_guest && any_mediated(m) && m->nr_cpus == 1)
			sim_check(&m->sim, INV_TIME, r->time_enabled + guest_time <= m->sim.cycle,
				  "host %s %s enabled for %llu cycles of %llu, %llu of them in the guest",
				  r->name, r->event, (unsigned long long)r->time_enabled,
				  (unsigned long long)m->sim.cycle, (unsigned long long)guest_time);
		sim_check(&m->sim, INV_EXCLUSION, a->exclude_guest || !any_mediated(m) ||
			  !perf_mediated_capable(m->host),
			  "host %s %s counts guests while a mediated VM exists", r->name, r->event);
	}
	if (m->host) {
		struct host_stats st;

		host_get_stats(m->host, &st);
		res->host_pmis = st.nmis - st.unknown_nmis;
	}
}

/* Whether the VM's filter denies the event wherever the guest's perf may
 * have placed it: its GP encoding and, when it has one, its fixed counter. */
static bool counter_denied(const struct machine *m, int vm, const struct mv_counter_result *r)
{
	struct perf_event_attr a;
	char msg[64];
	int fixed = -1;

	if (m->bare || !m->vm[vm] || !m->sc->vm[vm].filter.present)
		return false;
	if (perf_parse_event(r->event, &a, msg, sizeof(msg)))
		return false;
	if (!is_amd(m) && a.type == PERF_TYPE_HARDWARE)
		fixed = a.config == PERF_COUNT_HW_INSTRUCTIONS ? 0 :
			a.config == PERF_COUNT_HW_CPU_CYCLES ? 1 :
			a.config == PERF_COUNT_HW_REF_CPU_CYCLES ? 2 : -1;
	if (fixed >= 0 && kvm_vm_fixed_allowed(m->vm[vm], (unsigned)fixed))
		return false;
	return !kvm_vm_event_allowed(m->vm[vm], perf_attr_config(&a, is_amd(m)));
}

/* Conservation and isolation for guest counters: exact on bare metal and
 * under the mediated vPMU where the guest did not multiplex; never more
 * than the truth anywhere. */
static void check_guest_counters(struct machine *m, int vm, unsigned from,
				 struct mv_result *res)
{
	bool exact = m->bare || (m->vm[vm] && kvm_vm_vpmu(m->vm[vm]) == MV_VPMU_MEDIATED);

	for (unsigned i = from; i < res->nr_guest; i++) {
		const struct mv_counter_result *r = &res->guest[i];
		bool multiplexed = r->time_running != r->time_enabled;
		/* What the tool counted: the scaled value unless multiplexed. */
		uint64_t counted = multiplexed ? r->raw : r->value;

		if (strstr(r->event, "not supported"))
			continue;
		/* A raw counter's value is modulo its width, as the hardware
		 * holds it; so is the comparison once the truth is wider. */
		if (r->width && r->width < 64 && r->truth > X86_MASK(r->width)) {
			if (exact && m->sc->skid == 0)
				sim_check(&m->sim, INV_CONSERVATION,
					  ((counted - r->truth) & X86_MASK(r->width)) == 0,
					  "%s %s counted %llu, truth %llu modulo 2^%u", r->name,
					  r->event, (unsigned long long)counted,
					  (unsigned long long)r->truth, r->width);
			continue;
		}
		if (counter_denied(m, vm, r)) {
			sim_check(&m->sim, INV_FILTER, r->raw == 0,
				  "%s %s is denied by the filter but counted %llu",
				  r->name, r->event, (unsigned long long)r->raw);
			continue;
		}
		sim_check(&m->sim, INV_ISOLATION, counted <= r->truth,
			  "%s %s counted %llu, more than the guest's %llu events",
			  r->name, r->event, (unsigned long long)counted, (unsigned long long)r->truth);
		if (exact && !multiplexed && m->sc->skid == 0)
			sim_check(&m->sim, INV_CONSERVATION, counted == r->truth,
				  "%s %s counted %llu, truth %llu", r->name, r->event,
				  (unsigned long long)counted, (unsigned long long)r->truth);
	}
	/* Invariant 3, no lost PMI: a fixed-period sampler takes one sample
	 * per period of events counted; a PMI the guest never got is a
	 * missing sample. */
	for (unsigned i = from; exact && m->sc->skid == 0 && i < res->nr_guest; i++) {
		const struct mv_counter_result *r = &res->guest[i];

		if (r->period && r->time_running == r->time_enabled &&
		    !strstr(r->event, "not supported"))
			sim_check(&m->sim, INV_PMI, r->samples == r->raw / r->period,
				  "%s %s took %llu samples for %llu events at period %llu",
				  r->name, r->event, (unsigned long long)r->samples,
				  (unsigned long long)r->raw, (unsigned long long)r->period);
	}
	if (exact && res->rr.present && m->sc->skid == 0)
		sim_check(&m->sim, INV_PMI, res->rr.exact == res->rr.interrupts,
			  "rr: %llu of %llu tick interrupts were not exact",
			  (unsigned long long)(res->rr.interrupts - res->rr.exact),
			  (unsigned long long)res->rr.interrupts);
}

static void guest_results(struct machine *m, struct mv_result *res)
{
	for (int i = 0; i < m->nr_th; i++) {
		struct thread *t = &m->th[i];
		unsigned from = res->nr_guest;

		if (t->vm < 0 || !t->prog)
			continue;
		guest_prog_report(t->prog, t->who, &m->sim, res);
		check_guest_counters(m, t->vm, from, res);
	}
}

static void exit_results(struct machine *m, struct mv_result *res)
{
	const char *names[MV_MAX_EXIT_REASONS];
	uint64_t counts[MV_MAX_EXIT_REASONS];
	struct mv_exit_stats msrs;
	unsigned n;

	if (!m->kvm)
		return;
	res->exits_total = kvm_exits_total(m->kvm);
	res->exits_fastpath = kvm_exits_fastpath(m->kvm);
	n = kvm_exit_reasons(m->kvm, names, counts, MV_MAX_EXIT_REASONS);
	for (unsigned i = 0; i < n; i++) {
		snprintf(res->exits[i].reason, sizeof(res->exits[i].reason), "%s", names[i]);
		res->exits[i].count = counts[i];
	}
	res->nr_exit_reasons = n;
	memset(&msrs, 0, sizeof(msrs));
	kvm_exit_msrs(m->kvm, &msrs);
	memcpy(res->msr_exits, msrs.msrs, sizeof(res->msr_exits));
	res->nr_msr_exits = msrs.nr_msrs;
	res->msr_exits_other = msrs.msr_other;
}

static const char *errno_name(int err)
{
	switch (err) {
	case -EBUSY: return "EBUSY";
	case -EINVAL: return "EINVAL";
	case -ENOMEM: return "ENOMEM";
	case -EOPNOTSUPP: return "EOPNOTSUPP";
	}
	return "EIO";
}

/* Each VM as KVM built it: created or not (with the error), its guest PMU
 * shape, what passes through, its exits. */
static void vm_results(struct machine *m, struct mv_result *res)
{
	for (unsigned i = 0; m->kvm && i < m->sc->nr_vms && i < MV_MAX_VMS; i++) {
		struct mv_vm_result *r = &res->vms[res->nr_vms++];

		snprintf(r->name, sizeof(r->name), "%s", m->sc->vm[i].name);
		if (!m->vm[i])
			continue;
		kvm_vm_describe(m->vm[i], r);
		r->created = m->vm_created[i];
		if (!r->created)
			snprintf(r->error, sizeof(r->error), "%s",
				 errno_name(kvm_vm_create_error(m->vm[i])));
		snprintf(r->warning, sizeof(r->warning), "%s", kvm_vm_warning(m->vm[i]));
	}
}

/* The host's vPMU: what was asked (the rule's answer) and what the module
 * gives after its host checks (none without enable_pmu or on bare metal). */
static void vpmu_results(struct machine *m, struct mv_result *res)
{
	snprintf(res->kernel, sizeof(res->kernel), "Linux 7.0");
	res->patches = m->sc->patches;
	res->vpmu = m->host_cfg.vpmu;
	res->vpmu_effective = res->vpmu;
	res->bare = m->bare;
	if (m->bare) {
		snprintf(res->bare_program, sizeof(res->bare_program), "%s",
			 m->sc->bare_set ? "bare" : "vm0/vcpu0");
		res->bare_vms_not_run = m->sc->bare_set ? m->sc->nr_vms : 0;
		return;
	}
	if (!m->kvm)
		return;
	const struct kvm_params *p = kvm_get_params(m->kvm);

	res->kvm_loaded = true;
	res->enable_pmu = p->enable_pmu;
	res->enable_mediated_pmu = p->enable_mediated_pmu;
	res->vpmu_effective = p->enable_mediated_pmu ? MV_VPMU_MEDIATED :
			      p->enable_pmu ? MV_VPMU_EMULATED : MV_VPMU_NONE;
	snprintf(res->fallback_reason, sizeof(res->fallback_reason), "%s",
		 kvm_params_reason(m->kvm));
	if (!res->fallback_reason[0] && res->vpmu_effective != res->vpmu)
		snprintf(res->fallback_reason, sizeof(res->fallback_reason), "%s",
			 "enable_pmu is off");
}

static bool first_of_sig(const struct sim *sim, unsigned i)
{
	const struct sim_violation *v = &sim->violations[i];

	for (unsigned j = 0; j < i; j++)
		if (sim->violations[j].inv == v->inv && !strcmp(sim->violations[j].site, v->site) &&
		    !strcmp(sim->violations[j].cause, v->cause))
			return false;
	return true;
}

/* The first four violations kept, the first of each kind before others,
 * so that every kind a run had shows with its trace when it can. */
static void invariant_results(struct machine *m, struct mv_result *res)
{
	const struct sim *sim = &m->sim;

	res->inv_checked = sim->inv_checked;
	res->inv_violated = sim->inv_violated;
	res->injected = sim->nr_injected;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < sim->nr_violations && res->nr_violations < 4; i++) {
			const struct sim_violation *v = &sim->violations[i];
			struct mv_violation_result *r;

			if (first_of_sig(sim, i) != (pass == 0))
				continue;
			r = &res->violations[res->nr_violations++];
			r->invariant = v->inv;
			snprintf(r->name, sizeof(r->name), "%s", sim_invariant_name(v->inv));
			r->seed = v->seed;
			r->step = v->step;
			snprintf(r->msg, sizeof(r->msg), "%s", v->msg);
			snprintf(r->site, sizeof(r->site), "%s", v->site);
			snprintf(r->cause, sizeof(r->cause), "%s", v->cause);
			snprintf(r->trace, sizeof(r->trace), "%s", v->trace);
		}
	}
	for (unsigned i = 0; i < sim->nr_sigs && i < MV_MAX_SIGS; i++) {
		const struct sim_violation_sig *g = &sim->sigs[i];
		struct mv_violation_sig *o = &res->sigs[res->nr_sigs++];

		o->invariant = g->inv;
		snprintf(o->name, sizeof(o->name), "%s", sim_invariant_name(g->inv));
		snprintf(o->site, sizeof(o->site), "%s", g->site);
		snprintf(o->cause, sizeof(o->cause), "%s", g->cause);
		o->count = g->count;
		o->step = g->step;
		snprintf(o->msg, sizeof(o->msg), "%s", g->msg);
	}
	res->sigs_overflow = sim->sigs_overflow;
	if (sim->pts) {
		res->points = sim->pts->visited;
		for (int k = 0; k < SIM_PT_NR && k < 4; k++)
			res->points_by_kind[k] = sim->pts->by_kind[k];
	}
	if (m->kvm) {
		const char *w = NULL;

		res->kernel_warnings = kvm_warnings(m->kvm, &w);
		snprintf(res->kernel_warning, sizeof(res->kernel_warning), "%s", w ? w : "");
		res->switch_wrmsrs = kvm_switch_wrmsrs(m->kvm);
		res->exits_mediated_pmi = kvm_exits_mediated_pmi(m->kvm);
	}
}

static void collect(struct machine *m, struct mv_result *res)
{
	snprintf(res->scenario, sizeof(res->scenario), "%s", m->sc->name);
	snprintf(res->cpu, sizeof(res->cpu), "%s", m->model->name);
	res->seed = m->sc->seed;
	vpmu_results(m, res);
	vm_results(m, res);
	guest_results(m, res);
	if (m->host)
		host_results(m, res);
	exit_results(m, res);
	res->cycles_total = m->sim.cycle;
	res->cycles_guest = m->sim.time[SIM_T_GUEST];
	res->cycles_transition = m->sim.time[SIM_T_TRANSITION];
	res->cycles_host_for_guest = m->sim.time[SIM_T_HOST_FOR_GUEST];
	res->cycles_host = m->sim.time[SIM_T_HOST];
	invariant_results(m, res);
	res->trace_hash = m->sim.trace.hash;
	res->partial = m->partial;
	snprintf(res->partial_reason, sizeof(res->partial_reason), "%s",
		 m->partial ? m->partial_reason : "");
	/* An image stopped by its own instruction cap (insn_limit) did not
	 * finish either: a runaway guest is a partial result (exit 3). */
	for (unsigned i = 0; i < res->nr_images && !res->partial; i++)
		if (!strcmp(res->images[i].exit, "instruction-limit")) {
			res->partial = true;
			snprintf(res->partial_reason, sizeof(res->partial_reason),
				 "ended image %s at its insn_limit (%.100s)", res->images[i].who,
				 res->images[i].message);
		}
	res->budget = m->budget;
	res->insns_total = insns_done(m);
	res->steps_total = m->steps;
}

static void teardown(struct machine *m)
{
	for (int i = 0; i < m->nr_th; i++)
		guest_prog_free(m->th[i].prog);
	for (int i = 0; i <= MV_MAX_VMS; i++)
		if (m->guest_perf[i])
			perf_free(m->guest_perf[i]);
	kvm_free(m->kvm);
	for (int i = 0; i < m->nr_hev; i++)
		if (m->hev[i].ev)
			perf_event_close(m->hev[i].ev);
	if (m->host)
		perf_free(m->host);
	sim_free(&m->sim);
}

static int run_scenario(const struct mv_scenario *sc, struct mv_result *res,
			const struct sim_trace_sink *sink,
			struct sim_trace_rec **trace, size_t *nr_trace,
			struct cli_points *pts_out, char *err, size_t errlen)
{
	struct machine *m = calloc(1, sizeof(*m));
	bool keep = sc->keep_trace && trace && nr_trace;
	struct sim_points pts = { 0 };
	int rc;

	memset(res, 0, sizeof(*res));
	if (trace)
		*trace = NULL;
	if (nr_trace)
		*nr_trace = 0;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	m->sc = sc;
	m->model = hw_model_find(sc->cpu);
	if (!m->model) {
		char cpu[4 * MV_NAME_MAX];

		cli_escape_str(cpu, sizeof(cpu), sc->cpu, 0);
		src_err(m, err, errlen, sc->cpu_line, "unknown cpu model '%s' (see mvpmu cpus)",
			cpu);
		free(m);
		return 2;
	}
	m->budget = (struct mv_budget){
		sc->budget.max_cycles ? sc->budget.max_cycles : MV_DEFAULT_MAX_CYCLES,
		sc->budget.max_insns ? sc->budget.max_insns : MV_DEFAULT_MAX_INSNS,
		sc->budget.max_steps ? sc->budget.max_steps : MV_DEFAULT_MAX_STEPS,
	};
	m->nr_cpus = sc->nr_pcpus ? (int)sc->nr_pcpus : 1;
	if (m->nr_cpus > PERF_MAX_CPUS)
		m->nr_cpus = PERF_MAX_CPUS;
	sim_init(&m->sim, sc->seed, keep);
	rc = sink && sim_trace_stream(&m->sim.trace, sink) ? 2 : 0;
	if (rc)
		snprintf(err, errlen, "out of memory");
	m->sim.inject_ppm = sc->inject_ppm;
	m->sim.test = sc->test;
	/* Numbered points: exhaustive exploration, a replay (--inject-at), or
	 * a random run whose injections are to be shrunk. */
	if (sc->points || sc->nr_inject_at || pts_out) {
		pts.use_at = sc->points || sc->nr_inject_at;
		pts.at = sc->inject_at;
		pts.nr_at = sc->inject_at ? sc->nr_inject_at : 0;
		pts.log_on = pts_out && pts_out->log;
		m->sim.pts = &pts;
	}
	for (int c = 0; c < m->nr_cpus; c++) {
		hw_cpu_init(&m->cpu[c], c, &m->sim, m->model);
		m->cpu[c].skid = sc->skid + sc->test.unreported_skid;
		m->cpus[c] = &m->cpu[c];
	}
	if (!rc)
		rc = build(m, err, errlen);
	if (!rc) {
		run(m);
		collect(m, res);
	}
	/* Every record reaches the sink before the strings they point at
	 * go with the machine. */
	sim_trace_flush(&m->sim.trace);
	if (!rc && (m->sim.trace.oom || m->sim.trace.keep_failed)) {
		snprintf(err, errlen, "out of memory keeping the trace");
		rc = 2;
	}
	if (!rc && keep)
		*trace = sim_trace_take(&m->sim.trace, nr_trace);
	if (!rc && pts.oom) {
		snprintf(err, errlen, "out of memory numbering the injection points");
		rc = 2;
	}
	if (!rc && pts_out) {
		pts_out->log_recs = pts.log;
		pts_out->nr_log = pts.nr_log;
		pts_out->injected = pts.injected;
		pts_out->nr_injected = pts.nr_injected;
		pts.log = NULL;
		pts.injected = NULL;
	}
	sim_points_free(&pts);
	teardown(m);
	free(m);
	return rc;
}

int cli_run_scenario(const struct mv_scenario *sc, struct mv_result *res,
		     struct sim_trace_rec **trace, size_t *nr_trace,
		     char *err, size_t errlen)
{
	return run_scenario(sc, res, NULL, trace, nr_trace, NULL, err, errlen);
}

int cli_run_scenario_stream(const struct mv_scenario *sc, struct mv_result *res,
			    const struct sim_trace_sink *sink, char *err, size_t errlen)
{
	return run_scenario(sc, res, sink, NULL, NULL, NULL, err, errlen);
}

int cli_run_scenario_points(const struct mv_scenario *sc, struct mv_result *res,
			    struct cli_points *pts, char *err, size_t errlen)
{
	pts->log_recs = NULL;
	pts->injected = NULL;
	pts->nr_log = pts->nr_injected = 0;
	return run_scenario(sc, res, NULL, NULL, NULL, pts, err, errlen);
}

void cli_points_free(struct cli_points *pts)
{
	free(pts->log_recs);
	free(pts->injected);
	pts->log_recs = NULL;
	pts->injected = NULL;
	pts->nr_log = pts->nr_injected = 0;
}
