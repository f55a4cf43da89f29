/* perf_mediated: perf's side of the mediated vPMU (Linux 7.0): the
 * exclude_guest accounting, guest context load/put, the LVTPC switch and
 * the dedicated guest PMI vector. */
#include <errno.h>

#include "host/perf_internal.h"

bool perf_mediated_capable(const struct perf *p)
{
	return p && p->has_pmu && p->mediated_capable;
}

/* Events that would count guest work on a PMU the guest may own. */
bool perf_mediated_event_counts(const struct perf *p,
				const struct perf_event_attr *attr)
{
	return perf_mediated_capable(p) && !attr->exclude_guest;
}

/* Another CPU's thread may run here (only the race explorer sets it). */
static void yield(struct perf *p, const char *where)
{
	if (p->yield)
		p->yield(p->yield_arg, where, false);
}

/* perf_mediated_pmu_mutex: taken by the 0->1 transitions of either count;
 * a thread that finds it held waits.  The test-only unlocked variant
 * takes nothing, so check and increment of the two can interleave. */
static void excl_lock(struct perf *p)
{
	if (p->excl_unlocked)
		return;
	while (p->excl_locked && p->yield)
		p->yield(p->yield_arg, "waiting for perf_mediated_pmu_mutex", true);
	p->excl_locked = true;
}

static void excl_unlock(struct perf *p)
{
	p->excl_locked = false;
}

/* Invariant 6 where it is decided: after every change of either count,
 * no guest-including event and mediated VM at once. */
static void check_exclusion(struct perf *p)
{
	sim_check(p->sim, INV_EXCLUSION, !(p->nr_mediated && p->nr_include_guest),
		  "%llu mediated VM(s) and %llu guest-including event(s) on the same PMU",
		  (unsigned long long)p->nr_mediated, (unsigned long long)p->nr_include_guest);
}

/* 7.0's mediated_pmu_account_event (after "perf: Clean up mediated vPMU
 * accounting"): once the count is non-zero it is raised without the
 * mutex; the mutex guards 0 -> 1, checked against the VMs. */
int perf_mediated_account(struct perf *p, struct perf_event *ev)
{
	int ret = 0;

	if (!perf_mediated_event_counts(p, &ev->attr) || p->sim->test.perf_no_guest_accounting)
		return 0;
	if (p->nr_include_guest) {
		p->nr_include_guest++;
		ev->mediated_counted = true;
		return 0;
	}
	yield(p, "account: fast path missed");
	excl_lock(p);
	/* A mediated VM owns the PMU while it runs: an event that wants to
	 * see guest work cannot be honoured. */
	if (p->nr_mediated) {
		ret = -EOPNOTSUPP;
	} else {
		yield(p, "account: no mediated VM");
		p->nr_include_guest++;
		ev->mediated_counted = true;
		check_exclusion(p);
	}
	excl_unlock(p);
	return ret;
}

void perf_mediated_unaccount(struct perf *p, struct perf_event *ev)
{
	if (!ev->mediated_counted)
		return;
	ev->mediated_counted = false;
	if (p->nr_include_guest)
		p->nr_include_guest--;
	else
		perf_bug(p, -1, "include_guest underflow");
}

/* 7.0's perf_create_mediated_pmu, the mirror image. */
int perf_create_mediated_pmu(struct perf *p)
{
	if (!p)
		return -EINVAL;
	if (p->nr_mediated) {
		p->nr_mediated++;
		sim_trace(p->sim, TR_PERF, 0, p->nr_mediated, 0, "mediated create");
		return 0;
	}
	yield(p, "create: fast path missed");
	excl_lock(p);
	if (p->nr_include_guest) {
		excl_unlock(p);
		sim_trace(p->sim, TR_PERF, 0, p->nr_include_guest, 0,
			  "mediated create: EBUSY");
		return -EBUSY;
	}
	yield(p, "create: no guest-including event");
	p->nr_mediated++;
	check_exclusion(p);
	excl_unlock(p);
	sim_trace(p->sim, TR_PERF, 0, p->nr_mediated, 0, "mediated create");
	return 0;
}

void perf_set_race_hooks(struct perf *p, void (*fn)(void *arg, const char *where, bool wants_lock),
			 void *arg, bool unlocked)
{
	if (!p)
		return;
	p->yield = fn;
	p->yield_arg = arg;
	p->excl_unlocked = unlocked;
}

bool perf_mediated_mutex_held(const struct perf *p)
{
	return p && p->excl_locked;
}

uint64_t perf_nr_include_guest_events(const struct perf *p)
{
	return p ? p->nr_include_guest : 0;
}

void perf_release_mediated_pmu(struct perf *p)
{
	if (!p)
		return;
	if (!p->nr_mediated) {
		perf_bug(p, -1, "mediated release without create");
		return;
	}
	p->nr_mediated--;
	sim_trace(p->sim, TR_PERF, 0, p->nr_mediated, 0, "mediated release");
}

uint64_t perf_nr_mediated_vms(const struct perf *p)
{
	return p ? p->nr_mediated : 0;
}

static bool cpu_ok(const struct perf *p, int cpu)
{
	return p && cpu >= 0 && cpu < p->nr_cpus;
}

/* Whether the CPU's contexts (its CPU context and the context of the task
 * running there) hold any event, whatever its state. */
static bool ctx_has_events(const struct perf *p, int cpu)
{
	const struct perf_task *cur = p->cpu[cpu].cur_task;

	for (const struct perf_event *ev = p->events; ev; ev = ev->next) {
		if (!ev->task && ev->cpu == cpu)
			return true;
		if (ev->task && ev->task == cur && (ev->cpu < 0 || ev->cpu == cpu))
			return true;
	}
	return false;
}

void perf_load_guest_context(struct perf *p, int cpu)
{
	struct perf_cpu *pc;

	if (!cpu_ok(p, cpu))
		return;
	pc = &p->cpu[cpu];
	/* Linux lockdep_assert_irqs_disabled(): report, carry on. */
	if (!pc->irqs_off)
		perf_bug(p, cpu, "load guest ctx: irqs enabled");
	if (pc->guest_loaded) {
		perf_bug(p, cpu, "double load guest ctx");
		return;
	}
	perf_sync_times(p);
	/* Linux 7.0: perf_ctx_disable/ctx_sched_out touch only the PMU
	 * contexts that hold events, so with none the load writes nothing. */
	pc->guest_load_noop = !(p->has_pmu && p->mediated_capable && ctx_has_events(p, cpu));
	if (!pc->guest_load_noop) {
		/* Out, then the usual enable: on AMD v2 that sets every
		 * GlobalCtl bit, on Intel every counter bit (the reason KVM
		 * clears GLOBAL_CTRL afterwards). */
		perf_pmu_disable(p, cpu);
		perf_ctx_sched_out_all(p, cpu);
		perf_pmu_enable(p, cpu);
	}
	perf_cpu_settle_guest(p, cpu);
	pc->guest_loaded = true;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, 0, 0, "load guest ctx");
}

void perf_put_guest_context(struct perf *p, int cpu)
{
	struct perf_cpu *pc;

	if (!cpu_ok(p, cpu))
		return;
	pc = &p->cpu[cpu];
	if (!pc->irqs_off)
		perf_bug(p, cpu, "put guest ctx: irqs enabled");
	if (!pc->guest_loaded) {
		perf_bug(p, cpu, "double put guest ctx");
		return;
	}
	perf_sync_times(p);
	perf_cpu_settle_guest(p, cpu);
	pc->guest_loaded = false;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, 0, 0, "put guest ctx");
	/* As load: with no event in the CPU's contexts the sched-in touches
	 * no PMU (perf_event_sched_in over empty contexts). */
	if (ctx_has_events(p, cpu))
		perf_ctx_resched(p, cpu);
}

bool perf_guest_loaded(const struct perf *p, int cpu)
{
	return cpu_ok(p, cpu) && p->cpu[cpu].guest_loaded;
}

bool perf_guest_load_was_noop(const struct perf *p, int cpu)
{
	return cpu_ok(p, cpu) && p->cpu[cpu].guest_load_noop;
}

void perf_load_guest_lvtpc(struct perf *p, int cpu, uint32_t guest_lvtpc)
{
	uint32_t val;

	if (!cpu_ok(p, cpu))
		return;
	/* The guest's PMIs become a plain IRQ on the mediated vector; the
	 * guest's own mask bit decides whether they are delivered. */
	val = PERF_GUEST_MEDIATED_PMI_VECTOR | APIC_DM_FIXED |
		(guest_lvtpc & APIC_LVT_MASKED);
	perf_x86_wrmsr(p, cpu, MSR_X2APIC_LVTPC, val);
	p->cpu[cpu].guest_lvtpc = true;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, val, 0, "load guest lvtpc");
}

void perf_put_guest_lvtpc(struct perf *p, int cpu)
{
	if (!cpu_ok(p, cpu))
		return;
	perf_x86_lvtpc_nmi(p, cpu);
	p->cpu[cpu].guest_lvtpc = false;
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, APIC_DM_NMI, 0,
		  "put guest lvtpc");
}

void perf_register_guest_pmi(struct perf *p, void (*fn)(void *arg, int cpu),
			     void *arg)
{
	if (!p)
		return;
	p->guest_pmi_fn = fn;
	p->guest_pmi_arg = arg;
}

void perf_guest_pmi_irq(struct perf *p, int cpu)
{
	if (!cpu_ok(p, cpu))
		return;
	/* A fixed-delivery interrupt needs its EOI, unlike the NMI. */
	perf_x86_wrmsr(p, cpu, MSR_X2APIC_EOI, 0);
	sim_trace(p->sim, TR_PERF, (uint32_t)cpu, PERF_GUEST_MEDIATED_PMI_VECTOR,
		  p->guest_pmi_fn != NULL, "guest pmi irq");
	if (p->guest_pmi_fn)
		p->guest_pmi_fn(p->guest_pmi_arg, cpu);
}
