/* kvm_pmu_filter: KVM_SET_PMU_EVENT_FILTER validation and lookups.
 *
 * The shape follows what Linux arch/x86/kvm/pmu.c does (facts, not code):
 * plain entries are converted to masked entries with an all-ones umask mask
 * so one lookup serves both formats; entries are sorted by (exclude, event
 * select) so includes and excludes form two sorted sub-lists; a GP event is
 * a member when an include entry matches and no exclude entry does.
 * Everything here is deterministic: the sort breaks ties on the full entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm_pmu_filter.h"

static uint64_t vendor_event_mask(bool amd)
{
	/* AMD selectors carry event[11:8] in bits 35:32 (FACTS.md 2). */
	return amd ? KVM_PMU_EVENTSEL_EVENT_AMD : KVM_PMU_EVENTSEL_EVENT_INTEL;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const uint64_t key = KVM_PMU_MASKED_ENTRY_EVENT_SELECT |
			     KVM_PMU_MASKED_ENTRY_EXCLUDE;
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	uint64_t ka = a & key, kb = b & key;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	/* Tie-break on the whole entry so qsort's order is reproducible. */
	return (a > b) - (a < b);
}

/*
 * Masked mode: reject any bit outside event select, umask mask/match and
 * exclude.  The event-select part is the vendor's, so bits 35:32 are
 * reserved on Intel (pmu.c is_masked_filter_valid; selftest
 * pmu_event_filter_test.c, "high bits (35:32) ... on Intel ... will fail").
 */
static bool masked_entries_valid(const uint64_t *ev, uint32_t n, uint64_t evmask)
{
	const uint64_t valid = evmask | KVM_PMU_MASKED_ENTRY_UMASK_MASK |
			       KVM_PMU_MASKED_ENTRY_UMASK_MATCH |
			       KVM_PMU_MASKED_ENTRY_EXCLUDE;

	for (uint32_t i = 0; i < n; i++)
		if (ev[i] & ~valid)
			return false;
	return true;
}

/*
 * Plain mode: an entry with bits outside event select + umask can never
 * match a guest selector.  KVM drops such entries silently instead of
 * failing, because the ioctl accepted them before masked events existed
 * (pmu.c convert_to_masked_filter, "impossible filters can't be rejected").
 * The kept entries get an all-ones umask mask, so they match only their own
 * umask exactly; their umask already sits in the match field (15:8).
 */
static uint32_t convert_plain_entries(uint64_t *dst, const uint64_t *ev,
				      uint32_t n, uint64_t evmask)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (ev[i] & ~(evmask | KVM_PMU_EVENTSEL_UMASK))
			continue;
		dst[kept++] = ev[i] | (0xFFULL << KVM_PMU_MASKED_ENTRY_UMASK_MASK_SHIFT);
	}
	return kept;
}

int kvm_pmu_filter_set(const struct kvm_pmu_event_filter *uf, bool amd,
		       struct kvm_pmu_filter **out)
{
	uint64_t evmask = vendor_event_mask(amd);
	struct kvm_pmu_filter *f;
	uint32_t i;

	*out = NULL;

	/* Same checks, same order, same errors as the ioctl. */
	if (uf->action != KVM_PMU_EVENT_ALLOW && uf->action != KVM_PMU_EVENT_DENY)
		return -EINVAL;
	if (uf->flags & ~KVM_PMU_EVENT_FLAGS_VALID_MASK)
		return -EINVAL;
	if (uf->nevents > KVM_PMU_EVENT_FILTER_MAX_EVENTS)
		return -E2BIG;
	/*
	 * pad[] is deliberately not checked: KVM never reads it, so a non-zero
	 * pad is accepted (pmu.c kvm_vm_ioctl_set_pmu_event_filter).
	 */
	/* The model's stand-in for a failed copy_from_user of events[]. */
	if (uf->nevents && !uf->events)
		return -EFAULT;

	f = calloc(1, sizeof(*f) + (size_t)uf->nevents * sizeof(f->events[0]));
	if (!f)
		return -ENOMEM;

	f->action = uf->action;
	f->flags = uf->flags;
	f->fixed_counter_bitmap = uf->fixed_counter_bitmap;
	f->amd = amd;
	f->eventsel_event = evmask;

	if (uf->flags & KVM_PMU_EVENT_FLAG_MASKED_EVENTS) {
		if (!masked_entries_valid(uf->events, uf->nevents, evmask)) {
			free(f);
			return -EINVAL;
		}
		if (uf->nevents)
			memcpy(f->events, uf->events,
			       uf->nevents * sizeof(f->events[0]));
		f->nevents = uf->nevents;
	} else {
		f->nevents = convert_plain_entries(f->events, uf->events,
						   uf->nevents, evmask);
	}

	qsort(f->events, f->nevents, sizeof(f->events[0]), entry_cmp);

	/*
	 * Exclude (bit 55) sorts above every event-select bit, so the excludes
	 * are a sorted tail.  Plain entries cannot carry it (dropped above).
	 */
	for (i = 0; i < f->nevents; i++)
		if (f->events[i] & KVM_PMU_MASKED_ENTRY_EXCLUDE)
			break;
	f->nr_includes = i;
	f->nr_excludes = f->nevents - i;
	f->includes = f->events;
	f->excludes = f->events + i;

	*out = f;
	return 0;
}

int kvm_pmu_filter_create(uint32_t action, uint32_t flags,
			  uint32_t fixed_counter_bitmap, uint32_t pad,
			  uint32_t nevents, const uint64_t *events, bool amd,
			  struct kvm_pmu_filter **out)
{
	struct kvm_pmu_event_filter uf = {
		.action = action,
		.nevents = nevents,
		.fixed_counter_bitmap = fixed_counter_bitmap,
		.flags = flags,
		.pad = { pad, 0, 0, 0 },
		.events = events,
	};

	return kvm_pmu_filter_set(&uf, amd, out);
}

int kvm_pmu_filter_from_config(const struct mv_filter *cfg, bool amd,
			       struct kvm_pmu_filter **out)
{
	*out = NULL;
	if (!cfg || !cfg->present)
		return 0;
	/* nevents is checked (-E2BIG) before events[] is read. */
	return kvm_pmu_filter_create(cfg->action, cfg->flags,
				     cfg->fixed_counter_bitmap, 0,
				     cfg->nevents, cfg->events, amd, out);
}

void kvm_pmu_filter_free(struct kvm_pmu_filter *f)
{
	free(f);
}

/* Does any entry of the sorted list @ev with @evsel's event select match? */
static bool list_matches(const uint64_t *ev, uint32_t n, uint64_t evsel,
			 uint64_t umask)
{
	uint32_t lo = 0, hi = n;

	/* Lower bound on the event select: the first candidate entry. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if ((ev[mid] & KVM_PMU_MASKED_ENTRY_EVENT_SELECT) < evsel)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && (ev[lo] & KVM_PMU_MASKED_ENTRY_EVENT_SELECT) == evsel; lo++) {
		uint64_t mask = (ev[lo] >> KVM_PMU_MASKED_ENTRY_UMASK_MASK_SHIFT) << 8;
		uint64_t match = ev[lo] & KVM_PMU_MASKED_ENTRY_UMASK_MATCH;

		if ((umask & mask) == match)
			return true;
	}
	return false;
}

bool kvm_pmu_filter_gp_allowed(const struct kvm_pmu_filter *f, uint64_t eventsel)
{
	uint64_t evsel, umask;
	bool member;

	if (!f)
		return true;

	/*
	 * Only event select + umask take part; on Intel bits 35:32 of the
	 * selector are not part of the event (kvm-x86 commit "Correct the mask
	 * used in a pmu event filter lookup", Aaron Lewis, 2022).
	 */
	evsel = eventsel & f->eventsel_event;
	umask = eventsel & KVM_PMU_EVENTSEL_UMASK;

	member = list_matches(f->includes, f->nr_includes, evsel, umask) &&
		 !list_matches(f->excludes, f->nr_excludes, evsel, umask);
	if (member)
		return f->action == KVM_PMU_EVENT_ALLOW;
	return f->action == KVM_PMU_EVENT_DENY;
}

bool kvm_pmu_filter_fixed_allowed(const struct kvm_pmu_filter *f, unsigned idx)
{
	bool bit;

	if (!f)
		return true;

	/*
	 * The bitmap alone decides: api.rst gives
	 *   allowed = (ALLOW && bit i) || (DENY && !bit i)
	 * and pmu.c is_fixed_event_allowed never consults the event list, which
	 * is what api.rst means by the bitmap having priority over "events".
	 * Bits beyond the 32-bit field read as clear.
	 */
	bit = idx < 32 && (f->fixed_counter_bitmap & (1u << idx));
	if (f->action == KVM_PMU_EVENT_ALLOW)
		return bit;
	return !bit;
}
