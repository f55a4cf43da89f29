/* kvm_pmu_filter: the model of KVM_SET_PMU_EVENT_FILTER (x86).
 *
 * Userspace hands KVM a list of events and a fixed-counter bitmap together
 * with an action (allow or deny); KVM then refuses to let the guest count a
 * general-purpose event, or a fixed counter, that the filter does not allow.
 * This module validates the userspace structure with the error classes of
 * the real ioctl, keeps the prepared (sorted, split) filter, and answers
 * "may this selector / fixed counter count?".  The vPMU backends call it when
 * they (re)program a counter: the emulated backend does not create the perf
 * event, the mediated backend clears the hardware enable bit.
 *
 * Semantics follow Linux arch/x86/kvm/pmu.c (kvm_vm_ioctl_set_pmu_event_filter,
 * prepare_filter_lists, is_gp_event_allowed, is_fixed_event_allowed) and
 * Documentation/virt/kvm/api.rst, section KVM_SET_PMU_EVENT_FILTER; see
 * docs/filter.md for each rule and its source.
 */
#ifndef KVM_PMU_FILTER_H
#define KVM_PMU_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "mvpmu/scenario.h"

/* action (uapi values). */
#define KVM_PMU_EVENT_ALLOW			0
#define KVM_PMU_EVENT_DENY			1

/* flags (uapi values); every other bit is rejected with -EINVAL. */
#define KVM_PMU_EVENT_FLAG_MASKED_EVENTS	(1u << 0)
#define KVM_PMU_EVENT_FLAGS_VALID_MASK		KVM_PMU_EVENT_FLAG_MASKED_EVENTS

/* nevents above this is -E2BIG (arch/x86/kvm/pmu.c). */
#define KVM_PMU_EVENT_FILTER_MAX_EVENTS		300

/*
 * Masked entry layout (arch/x86/include/uapi/asm/kvm.h):
 *   bits  7:0   event select[7:0]
 *   bits 15:8   umask match
 *   bits 35:32  event select[11:8] (AMD only; set on Intel -> -EINVAL)
 *   bit  55     exclude
 *   bits 63:56  umask mask
 * An entry matches a guest selector with the same event select when
 * (umask & mask) == match.
 */
#define KVM_PMU_ENCODE_MASKED_ENTRY(event_select, mask, match, exclude)	\
	(((uint64_t)(event_select) & 0xFFULL) |				\
	 (((uint64_t)(event_select) & 0xF00ULL) << 24) |			\
	 (((uint64_t)(mask) & 0xFFULL) << 56) |				\
	 (((uint64_t)(match) & 0xFFULL) << 8) |				\
	 ((uint64_t)!!(exclude) << 55))

#define KVM_PMU_MASKED_ENTRY_EVENT_SELECT	(0xFFULL | (0xFULL << 32))
#define KVM_PMU_MASKED_ENTRY_UMASK_MASK		(0xFFULL << 56)
#define KVM_PMU_MASKED_ENTRY_UMASK_MATCH	(0xFFULL << 8)
#define KVM_PMU_MASKED_ENTRY_EXCLUDE		(1ULL << 55)
#define KVM_PMU_MASKED_ENTRY_UMASK_MASK_SHIFT	56

/* Selector fields the filter looks at (PERFEVTSEL layout, FACTS.md 1, 2). */
#define KVM_PMU_EVENTSEL_EVENT_INTEL		0xFFULL
#define KVM_PMU_EVENTSEL_EVENT_AMD		(0xFFULL | (0xFULL << 32))
#define KVM_PMU_EVENTSEL_UMASK			0xFF00ULL

/*
 * struct kvm_pmu_event_filter as userspace passes it to the ioctl, with the
 * trailing flexible events[] replaced by a pointer.  pad[] is carried so that
 * callers can model it; KVM does not look at it (see docs/filter.md).
 */
struct kvm_pmu_event_filter {
	uint32_t action;
	uint32_t nevents;
	uint32_t fixed_counter_bitmap;
	uint32_t flags;
	uint32_t pad[4];
	const uint64_t *events;		/* nevents entries; NULL if 0 */
};

/*
 * The prepared filter KVM installs (kvm_x86_pmu_event_filter).  Fields are
 * read-only for users of this module.  Every entry is held in masked form;
 * entries are sorted by (exclude, event select) so includes come first.
 */
struct kvm_pmu_filter {
	uint32_t action;
	uint32_t flags;
	uint32_t fixed_counter_bitmap;
	bool amd;
	uint64_t eventsel_event;	/* vendor event-select mask */
	uint32_t nevents;		/* entries kept (after dropping) */
	uint32_t nr_includes;
	uint32_t nr_excludes;
	const uint64_t *includes;	/* &events[0] */
	const uint64_t *excludes;	/* &events[nr_includes] */
	uint64_t events[];
};

/*
 * KVM_SET_PMU_EVENT_FILTER: validate @uf and build the filter for a guest of
 * the given vendor.  Returns 0 and *out on success; -EINVAL (bad action, bad
 * flags, reserved bits in a masked entry), -E2BIG (nevents > 300), -ENOMEM.
 * On error *out is NULL.  Checks run in KVM's order: action, flags, nevents,
 * then the entries.
 */
int kvm_pmu_filter_set(const struct kvm_pmu_event_filter *uf, bool amd,
		       struct kvm_pmu_filter **out);

/* The same with the fields spelled out; @pad goes to pad[0]. */
int kvm_pmu_filter_create(uint32_t action, uint32_t flags,
			  uint32_t fixed_counter_bitmap, uint32_t pad,
			  uint32_t nevents, const uint64_t *events, bool amd,
			  struct kvm_pmu_filter **out);

/* From a scenario's filter.  *out is NULL (no filter) if !cfg->present. */
int kvm_pmu_filter_from_config(const struct mv_filter *cfg, bool amd,
			       struct kvm_pmu_filter **out);

void kvm_pmu_filter_free(struct kvm_pmu_filter *f);

/*
 * May a GP counter with selector @eventsel count?  Only the event select
 * (Intel 7:0; AMD 7:0 and 35:32) and the unit mask (15:8) are considered.
 * A NULL filter allows everything.
 */
bool kvm_pmu_filter_gp_allowed(const struct kvm_pmu_filter *f, uint64_t eventsel);

/* May fixed counter @idx count?  Decided by the bitmap and action alone. */
bool kvm_pmu_filter_fixed_allowed(const struct kvm_pmu_filter *f, unsigned idx);

#endif
