/* kvm_pmu_emulated: the legacy vPMU (Linux 7.0 without
 * enable_mediated_pmu).  Every enabled guest counter is a host perf event
 * on the vCPU thread, pinned, exclude_idle and exclude_host, recreated when
 * the guest reprograms it; the guest's counter is KVM's saved value plus
 * what the event counted; PMIs come from the event's overflow callback.
 * These events compete with host events: a pinned event that gets no
 * counter goes to perf's error state and stops counting (the guest reads
 * a stale value); it is not multiplexed. */
#include <errno.h>

#include "kvm_internal.h"

static struct kvm *pmc_kvm(const struct kvm_pmc *pmc)
{
	return pmc->vcpu->vm->kvm;
}

static uint64_t event_count(struct kvm_pmc *pmc)
{
	uint64_t en, run;

	kvm_charge(pmc->vcpu, vcpu_host_model(pmc->vcpu)->cost.perf_event_read);
	return perf_event_read(pmc->perf_event, &en, &run);
}

uint64_t kvm_emul_read(struct kvm_pmc *pmc)
{
	uint64_t v = pmc->counter;

	if (pmc->perf_event)
		v += event_count(pmc);
	return v & kvm_pmc_mask(&pmc->vcpu->pmu, pmc);
}

void kvm_emul_release(struct kvm_pmc *pmc)
{
	if (!pmc->perf_event)
		return;
	perf_event_close(pmc->perf_event);
	pmc->perf_event = NULL;
}

/* Folds the event's count into the counter and stops the event, which
 * KVM keeps for reuse (pmc_pause_counter). */
void kvm_emul_pause(struct kvm_pmc *pmc)
{
	uint64_t mask = kvm_pmc_mask(&pmc->vcpu->pmu, pmc);

	if (!pmc->perf_event)
		return;
	kvm_charge(pmc->vcpu, vcpu_host_model(pmc->vcpu)->cost.perf_event_update);
	pmc->counter = (pmc->counter + perf_event_pause(pmc->perf_event, true)) & mask;
}

static void emul_overflow(struct perf_event *ev, const struct perf_sample *s,
			  void *arg)
{
	struct kvm_pmc *pmc = arg;

	(void)ev; (void)s;
	kvm_pmu_overflow(pmc);
	/* perf re-arms the same period; KVM recomputes it from the counter
	 * before the next entry so the guest sees one overflow per wrap. */
	pmc->reprogram = true;
	pmc->vcpu->pmu.reprogram_some = true;
}

/* The period after which the guest counter wraps (get_sample_period). */
static uint64_t sample_period(const struct kvm_pmc *pmc)
{
	uint64_t mask = kvm_pmc_mask(&pmc->vcpu->pmu, pmc);
	uint64_t p = (0 - pmc->counter) & mask;

	return p ? p : mask + 1;
}

static void fill_attr(const struct kvm_vcpu *v, const struct kvm_pmc *pmc,
		      struct perf_event_attr *attr)
{
	const struct kvm_pmu_ops *ops = vcpu_pmu_ops(v);

	/* pmc_reprogram_counter: pinned, exclude_idle, exclude_host. */
	*attr = (struct perf_event_attr){
		.exclude_user = !ops->pmc_counts_mode(pmc, false),
		.exclude_kernel = !ops->pmc_counts_mode(pmc, true),
		.exclude_host = true,
		.exclude_idle = true,
		.pinned = true,
		/* Always sampled: an overflow must set the guest's status bit
		 * even when its interrupt is off (KVM does the same). */
		.sample_period = sample_period(pmc),
	};
	if (pmc->fixed) {
		static const uint64_t fixed_hw[] = {
			PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_CPU_CYCLES,
			PERF_COUNT_HW_REF_CPU_CYCLES,
		};
		attr->type = PERF_TYPE_HARDWARE;
		attr->config = pmc->idx < 3 ? fixed_hw[pmc->idx] : PERF_COUNT_HW_CPU_CYCLES;
	} else {
		attr->type = PERF_TYPE_RAW;
		/* Event, unit mask and the filters perf passes through;
		 * the enables and privilege bits are perf's to set. */
		attr->config = ops->pmc_selector(pmc) &
			       (EVTSEL_EVENT | EVTSEL_UMASK | EVTSEL_EDGE |
				EVTSEL_INV | EVTSEL_CMASK | AMD_EVTSEL_EVENT_HI);
	}
}

static bool same_event(const struct perf_event_attr *a, const struct perf_event_attr *b)
{
	return a->type == b->type && a->config == b->config &&
	       a->exclude_user == b->exclude_user && a->exclude_kernel == b->exclude_kernel &&
	       a->exclude_host == b->exclude_host && a->pinned == b->pinned;
}

/* KVM's reprogram_counter: pause; if the counter still counts the same
 * event, resume the kept perf event with a new period (pmc_resume_counter),
 * else release it and create a new one (the expensive path). */
void kvm_emul_reprogram(struct kvm_vcpu *v, struct kvm_pmc *pmc)
{
	struct perf_event_attr attr;
	int err;

	kvm_emul_pause(pmc);
	pmc->reprogram = false;
	if (!vcpu_pmu_ops(v)->pmc_enabled(pmc) || !kvm_pmc_allowed(v, pmc))
		return;
	fill_attr(v, pmc, &attr);
	if (pmc->perf_event && same_event(perf_event_attr_of(pmc->perf_event), &attr)) {
		kvm_charge(v, vcpu_host_model(v)->cost.perf_event_update);
		perf_event_period(pmc->perf_event, attr.sample_period);
		perf_event_enable(pmc->perf_event);
		return;
	}
	kvm_emul_release(pmc);
	kvm_charge(v, vcpu_host_model(v)->cost.perf_event_create);
	err = perf_event_open(v->vm->kvm->perf, &attr, -1, &v->task,
			      emul_overflow, pmc, &pmc->perf_event);
	if (err) {
		/* As KVM: the counter simply does not count. */
		pmc->perf_event = NULL;
		sim_trace(pmc_kvm(pmc)->sim, TR_NOTE, (uint32_t)-err, pmc->idx, 0,
			  "guest perf event refused");
	}
}
