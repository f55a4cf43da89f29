/* cli_run: builds the machine a scenario describes (simulated CPUs, the
 * host kernel's perf, the hypervisor, VMs and their guest kernels), runs
 * every thread to completion on a seeded scheduler, checks the run-level
 * invariants and fills the result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "cli_scenario.h"
#include "guest/guest_bare.h"
#include "guest/guest_prog.h"
#include "host/host_cpu.h"
#include "kvm/kvm.h"

#define MAX_THREADS (1 + MV_MAX_VMS * MV_MAX_VCPUS)
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define GUEST_TIMER_CYCLES 1000000	/* the guest kernel's tick (1 ms at 1 GHz-ish) */
#define MAX_SLICES 2000000		/* bound on scheduler slices: a runaway guard */

struct thread {
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
};

void cli_scenario_defaults(struct mv_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->cpu, sizeof(sc->cpu), "skylake");
	sc->nr_pcpus = 1;
	sc->tick_cycles = 4000000;
	for (int i = 0; i < MV_MAX_VMS; i++) {
		sc->vm[i].pmu_version = -1;
		sc->vm[i].nr_gp = -1;
		sc->vm[i].nr_fixed = -1;
		sc->vm[i].perf_caps = -1;
	}
}

static enum mv_vpmu vm_vpmu(const struct mv_scenario *sc, int i)
{
	return sc->vm[i].vpmu_set ? sc->vm[i].vpmu : sc->vpmu;
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
	snprintf(t->who, sizeof(t->who), "%s", who);
	return t;
}

/* ---- building ---- */

static int open_host_events(struct machine *m, char *err, size_t errlen)
{
	const struct mv_host_config *h = &m->sc->host;

	for (unsigned i = 0; i < h->nr_events; i++) {
		struct perf_event_attr attr;
		char msg[128];
		int ncpu = h->system_wide ? m->nr_cpus : 1;

		if (perf_parse_event(h->events[i], &attr, msg, sizeof(msg))) {
			snprintf(err, errlen, "host event '%s': %s", h->events[i], msg);
			return 2;
		}
		for (int c = 0; c < ncpu && m->nr_hev < MV_MAX_COUNTERS; c++) {
			struct host_event *he = &m->hev[m->nr_hev];
			int rc = perf_event_open(m->host, &attr, h->system_wide ? c : -1,
						 h->system_wide ? NULL : &m->host_task,
						 NULL, NULL, &he->ev);
			/* perf stat shows an event the PMU lacks as <not supported>. */
			if (rc == -ENOENT || rc == -EOPNOTSUPP)
				he->ev = NULL;
			else if (rc) {
				snprintf(err, errlen, "host event '%s' refused (%d)", h->events[i], rc);
				return 2;
			}
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
	t->prog = guest_prog_new(&idle, &t->env.g, m->host, 0, 0, is_amd(m), err, errlen);
	return t->prog ? 0 : 2;
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
	t->prog = guest_prog_new(&m->sc->bare, g, m->guest_perf[MV_MAX_VMS], 0, ctx,
				 is_amd(m), err, errlen);
	return t->prog ? 0 : 2;
}

static int build_vm(struct machine *m, int i, char *err, size_t errlen)
{
	const struct mv_vm_config *cfg = &m->sc->vm[i];
	struct mv_guest *gs[MV_MAX_VCPUS];
	struct thread *ts[MV_MAX_VCPUS];
	unsigned n = cfg->nr_vcpus ? cfg->nr_vcpus : 1;

	if (n > MV_MAX_VCPUS) {
		snprintf(err, errlen, "%s: too many vCPUs", cfg->name);
		return 2;
	}
	m->vm[i] = kvm_vm_create(m->kvm, i, cfg, vm_vpmu(m->sc, i), err, errlen);
	if (!m->vm[i])
		return 2;
	for (unsigned v = 0; v < n; v++) {
		char who[MV_NAME_MAX];
		int pcpu = cfg->pin[v] >= 0 && cfg->pin[v] < m->nr_cpus ? cfg->pin[v] : 0;

		snprintf(who, sizeof(who), "vm%d/vcpu%u", i, v);
		ts[v] = new_thread(m, pcpu, i, who);
		ts[v]->vcpu = kvm_vcpu_create(m->vm[i], (int)v, pcpu);
		if (!ts[v]->vcpu) {
			snprintf(err, errlen, "%s: cannot create vCPU %u", cfg->name, v);
			return 2;
		}
		ts[v]->task = kvm_vcpu_task(ts[v]->vcpu);
		ts[v]->ctx = SIM_CTX_GUEST(i, (int)v);
		gs[v] = kvm_vcpu_guest(ts[v]->vcpu);
	}
	/* The scenario parser allows an image only alone on a 1-vCPU VM. */
	if (cfg->prog[0].kind == MV_PROG_IMAGE)
		return new_image_prog(m, ts[0], &cfg->prog[0], gs[0], ts[0]->ctx, err, errlen);
	m->guest_perf[i] = guest_perf_new(&m->sim, SIM_CTX_GUEST(i, 0), gs, (int)n);
	for (unsigned v = 0; v < n; v++) {
		char msg[160];

		ts[v]->prog = guest_prog_new(&cfg->prog[v], gs[v], m->guest_perf[i], (int)v,
					     SIM_CTX_GUEST(i, (int)v), is_amd(m), msg, sizeof(msg));
		if (!ts[v]->prog) {
			snprintf(err, errlen, "%s vCPU %u: %s", cfg->name, v, msg);
			return 2;
		}
	}
	return 0;
}

static int build(struct machine *m, char *err, size_t errlen)
{
	const struct mv_scenario *sc = m->sc;
	int rc;

	m->bare = sc->vpmu == MV_VPMU_NONE && sc->nr_vms > 0;
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
	struct kvm_params params = {
		.enable_pmu = true,
		.enable_mediated_pmu = false,
	};
	for (unsigned i = 0; i < sc->nr_vms; i++)
		params.enable_mediated_pmu |= vm_vpmu(sc, (int)i) == MV_VPMU_MEDIATED;
	m->kvm = kvm_new(&m->sim, m->cpus, m->nr_cpus, m->host, &params);
	*kvm_knobs(m->kvm) = (struct kvm_knobs){
		.no_global_ctrl_clear_on_load = sc->knobs.no_global_ctrl_clear_on_load,
		.no_counter_clear_on_put = sc->knobs.no_counter_clear_on_put,
		.no_write_elision = sc->knobs.no_write_elision,
	};
	for (unsigned i = 0; i < sc->nr_vms; i++)
		if ((rc = build_vm(m, (int)i, err, errlen)))
			return rc;
	return 0;
}

/* ---- running ---- */

/* One step of a vCPU thread; the guest kernel's timer re-arms with a
 * TSC-deadline write, an exit KVM handles in its fastpath. */
static bool vcpu_step(void *arg)
{
	struct thread *t = arg;

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
	while (!t->done && m->sim.cycle < until)
		t->done = !guest_prog_step(t->prog);
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

static int run(struct machine *m, char *err, size_t errlen)
{
	uint64_t tick = m->sc->tick_cycles ? m->sc->tick_cycles : 4000000;

	for (uint64_t slice = 0; slice < MAX_SLICES; slice++) {
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
			return 0;
		}
	}
	snprintf(err, errlen, "run did not finish within %d scheduler slices", MAX_SLICES);
	return 2;
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
	unsigned n;

	if (!m->kvm)
		return;
	res->exits_total = kvm_exits_total(m->kvm);
	n = kvm_exit_reasons(m->kvm, names, counts, MV_MAX_EXIT_REASONS);
	for (unsigned i = 0; i < n; i++) {
		snprintf(res->exits[i].reason, sizeof(res->exits[i].reason), "%s", names[i]);
		res->exits[i].count = counts[i];
	}
	res->nr_exit_reasons = n;
}

static void vpmu_results(struct machine *m, struct mv_result *res)
{
	res->vpmu = m->sc->nr_vms ? vm_vpmu(m->sc, 0) : m->sc->vpmu;
	res->vpmu_effective = res->vpmu;
	if (m->vm[0]) {
		res->vpmu_effective = kvm_vm_vpmu(m->vm[0]);
		snprintf(res->fallback_reason, sizeof(res->fallback_reason), "%s",
			 res->vpmu_effective != res->vpmu ? kvm_vm_fallback_reason(m->vm[0]) : "");
	}
}

static void invariant_results(struct machine *m, struct mv_result *res)
{
	res->inv_checked = m->sim.inv_checked;
	res->inv_violated = m->sim.inv_violated;
	res->injected = m->sim.nr_injected;
	for (unsigned i = 0; i < m->sim.nr_violations && res->nr_violations < 4; i++) {
		const struct sim_violation *v = &m->sim.violations[i];
		struct mv_violation_result *r = &res->violations[res->nr_violations++];

		r->invariant = v->inv;
		snprintf(r->name, sizeof(r->name), "%s", sim_invariant_name(v->inv));
		r->seed = v->seed;
		r->step = v->step;
		snprintf(r->msg, sizeof(r->msg), "%s", v->msg);
		snprintf(r->trace, sizeof(r->trace), "%s", v->trace);
	}
}

static void collect(struct machine *m, struct mv_result *res)
{
	snprintf(res->scenario, sizeof(res->scenario), "%s", m->sc->name);
	snprintf(res->cpu, sizeof(res->cpu), "%s", m->model->name);
	res->seed = m->sc->seed;
	vpmu_results(m, res);
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

int cli_run_scenario(const struct mv_scenario *sc, struct mv_result *res,
		     struct sim_trace_rec **trace, size_t *nr_trace,
		     char *err, size_t errlen)
{
	struct machine *m = calloc(1, sizeof(*m));
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
		snprintf(err, errlen, "unknown cpu model '%s' (see `mvpmu cpus`)", sc->cpu);
		free(m);
		return 2;
	}
	m->nr_cpus = sc->nr_pcpus ? (int)sc->nr_pcpus : 1;
	if (m->nr_cpus > PERF_MAX_CPUS)
		m->nr_cpus = PERF_MAX_CPUS;
	sim_init(&m->sim, sc->seed, sc->keep_trace);
	m->sim.inject_ppm = sc->inject_ppm;
	for (int c = 0; c < m->nr_cpus; c++) {
		hw_cpu_init(&m->cpu[c], c, &m->sim, m->model);
		m->cpu[c].skid = sc->skid;
		m->cpus[c] = &m->cpu[c];
	}
	rc = build(m, err, errlen);
	if (!rc)
		rc = run(m, err, errlen);
	if (!rc)
		collect(m, res);
	if (!rc && sc->keep_trace && trace && nr_trace)
		*trace = sim_trace_take(&m->sim.trace, nr_trace);
	teardown(m);
	free(m);
	return rc;
}
