/* test_filter: KVM_SET_PMU_EVENT_FILTER model (src/kvm/kvm_pmu_filter.c).
 *
 * Expected values come from Linux arch/x86/kvm/pmu.c, the api.rst section
 * KVM_SET_PMU_EVENT_FILTER and KVM's selftest pmu_event_filter_test.c (which
 * cases it mirrors is said next to them); docs/filter.md lists the rules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/kvm_pmu_filter.h"

/* Selector helpers: event/umask plus the bits a real guest sets. */
#define SEL(ev, um)	((uint64_t)((ev) & 0xFF) | ((uint64_t)(um) << 8) | \
			 (((uint64_t)(ev) & 0xF00) << 24))
#define EN_BITS		((1ULL << 16) | (1ULL << 17) | (1ULL << 20) | (1ULL << 22))
/* Plain (non-masked) filter entry: same layout as a selector. */
#define PLAIN(ev, um)	SEL(ev, um)

#define INST_RETIRED	SEL(0xC0, 0x00)
#define CORE_CYCLES	SEL(0x3C, 0x00)
#define BR_INST		SEL(0xC4, 0x00)
#define BR_MISS		SEL(0xC5, 0x00)
#define LLC_REF		SEL(0x2E, 0x4F)
#define LLC_MISS	SEL(0x2E, 0x41)

static struct kvm_pmu_filter *mk(uint32_t action, uint32_t flags,
				 uint32_t bitmap, uint32_t n,
				 const uint64_t *ev, bool amd)
{
	struct kvm_pmu_filter *f = NULL;
	int rc = kvm_pmu_filter_create(action, flags, bitmap, 0, n, ev, amd, &f);

	assert_int_equal(rc, 0);
	assert_non_null(f);
	return f;
}

/* Expect @rc from the raw constructor and no filter left behind. */
static void expect_err(int rc_want, uint32_t action, uint32_t flags,
		       uint32_t pad, uint32_t n, const uint64_t *ev, bool amd)
{
	struct kvm_pmu_filter *f = (struct kvm_pmu_filter *)&f;
	int rc = kvm_pmu_filter_create(action, flags, 0, pad, n, ev, amd, &f);

	assert_int_equal(rc, rc_want);
	assert_null(f);
}

static void test_no_filter_allows_all(void **state)
{
	struct mv_filter cfg = { .present = false, .action = KVM_PMU_EVENT_DENY };
	struct kvm_pmu_filter *f = (struct kvm_pmu_filter *)&cfg;

	(void)state;
	assert_true(kvm_pmu_filter_gp_allowed(NULL, INST_RETIRED | EN_BITS));
	assert_true(kvm_pmu_filter_fixed_allowed(NULL, 0));
	assert_true(kvm_pmu_filter_fixed_allowed(NULL, 3));

	/* Absent config: success and no filter object. */
	assert_int_equal(kvm_pmu_filter_from_config(&cfg, false, &f), 0);
	assert_null(f);
}

static void test_from_config(void **state)
{
	struct mv_filter cfg = {
		.present = true,
		.action = KVM_PMU_EVENT_DENY,
		.nevents = 1,
		.events = { INST_RETIRED },
	};
	struct kvm_pmu_filter *f = NULL;

	(void)state;
	assert_int_equal(kvm_pmu_filter_from_config(&cfg, false, &f), 0);
	assert_non_null(f);
	assert_false(kvm_pmu_filter_gp_allowed(f, INST_RETIRED | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(f, BR_INST | EN_BITS));
	kvm_pmu_filter_free(f);

	/* Errors pass through: a bad action from a scenario is -EINVAL. */
	cfg.action = 7;
	f = (struct kvm_pmu_filter *)&cfg;
	assert_int_equal(kvm_pmu_filter_from_config(&cfg, false, &f), -EINVAL);
	assert_null(f);
}

/* Allow list: member (exact event + umask) allowed, everything else not. */
static void test_allow_list(void **state)
{
	const uint64_t ev[] = { PLAIN(0xC0, 0), PLAIN(0x2E, 0x4F) };
	struct kvm_pmu_filter *f = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 2, ev, false);

	(void)state;
	assert_true(kvm_pmu_filter_gp_allowed(f, INST_RETIRED));
	/* Enable, USR/OS, INT, INV, CMASK do not take part. */
	assert_true(kvm_pmu_filter_gp_allowed(f, INST_RETIRED | EN_BITS |
					      (1ULL << 23) | (0x5ULL << 24)));
	assert_true(kvm_pmu_filter_gp_allowed(f, LLC_REF | EN_BITS));
	/* Same event select, other umask: not a member. */
	assert_false(kvm_pmu_filter_gp_allowed(f, LLC_MISS | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(f, SEL(0xC0, 0x01) | EN_BITS));
	/* Other events. */
	assert_false(kvm_pmu_filter_gp_allowed(f, BR_INST | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(f, CORE_CYCLES | EN_BITS));
	kvm_pmu_filter_free(f);
}

static void test_deny_list(void **state)
{
	const uint64_t ev[] = { PLAIN(0xC5, 0), PLAIN(0x2E, 0x41) };
	struct kvm_pmu_filter *f = mk(KVM_PMU_EVENT_DENY, 0, 0, 2, ev, false);

	(void)state;
	assert_false(kvm_pmu_filter_gp_allowed(f, BR_MISS | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(f, LLC_MISS | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(f, LLC_REF | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(f, BR_INST | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(f, INST_RETIRED | EN_BITS));
	kvm_pmu_filter_free(f);
}

/* An empty list is a valid filter: allow -> nothing, deny -> everything. */
static void test_empty_list(void **state)
{
	struct kvm_pmu_filter *a = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 0, NULL, false);
	struct kvm_pmu_filter *d = mk(KVM_PMU_EVENT_DENY, 0, 0, 0, NULL, false);

	(void)state;
	assert_false(kvm_pmu_filter_gp_allowed(a, INST_RETIRED | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(d, INST_RETIRED | EN_BITS));
	kvm_pmu_filter_free(a);
	kvm_pmu_filter_free(d);
}

/*
 * Plain entries with bits outside event select + umask are dropped, not
 * rejected (pmu.c convert_to_masked_filter; selftest: e = ~0 with flags 0
 * "is expected to pass").
 */
static void test_plain_impossible_entries_dropped(void **state)
{
	const uint64_t ev[] = {
		~0ULL,
		INST_RETIRED | (1ULL << 22),	/* EN bit: impossible entry */
		SEL(0x1C0, 0x00),		/* 35:32 on Intel: impossible */
		BR_INST,
	};
	struct kvm_pmu_filter *f = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 4, ev, false);

	(void)state;
	assert_int_equal(f->nevents, 1);
	assert_true(kvm_pmu_filter_gp_allowed(f, BR_INST | EN_BITS));
	/* The dropped entry does not make C0/00 a member. */
	assert_false(kvm_pmu_filter_gp_allowed(f, INST_RETIRED | EN_BITS));
	kvm_pmu_filter_free(f);

	/* Same list on AMD: the 12-bit event 0x1C0 is a real event, kept. */
	f = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 4, ev, true);
	assert_int_equal(f->nevents, 2);
	assert_true(kvm_pmu_filter_gp_allowed(f, SEL(0x1C0, 0) | EN_BITS));
	kvm_pmu_filter_free(f);
}

/* AMD selectors carry event[11:8] in bits 35:32; Intel ignores them. */
static void test_amd_12bit_events(void **state)
{
	const uint64_t ev[] = { PLAIN(0x1C0, 0x00) };
	struct kvm_pmu_filter *f = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 1, ev, true);
	struct kvm_pmu_filter *i;
	const uint64_t iev[] = { PLAIN(0xC0, 0x00) };

	(void)state;
	assert_true(kvm_pmu_filter_gp_allowed(f, SEL(0x1C0, 0) | EN_BITS));
	/* 0x0C0 and 0x2C0 are different AMD events. */
	assert_false(kvm_pmu_filter_gp_allowed(f, SEL(0x0C0, 0) | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(f, SEL(0x2C0, 0) | EN_BITS));
	/* GuestOnly/HostOnly (bits 40, 41) do not take part. */
	assert_true(kvm_pmu_filter_gp_allowed(f, SEL(0x1C0, 0) | (3ULL << 40)));
	kvm_pmu_filter_free(f);

	/* Intel: 35:32 are not event bits, so C0 with bit 32 is still C0. */
	i = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 1, iev, false);
	assert_true(kvm_pmu_filter_gp_allowed(i, SEL(0x1C0, 0) | EN_BITS));
	kvm_pmu_filter_free(i);

	/* Masked form with a 12-bit event on AMD. */
	{
		const uint64_t mev[] = { KVM_PMU_ENCODE_MASKED_ENTRY(0x1C0, 0xF0, 0x10, 0) };
		struct kvm_pmu_filter *m = mk(KVM_PMU_EVENT_DENY,
					      KVM_PMU_EVENT_FLAG_MASKED_EVENTS,
					      0, 1, mev, true);

		assert_false(kvm_pmu_filter_gp_allowed(m, SEL(0x1C0, 0x13)));
		assert_true(kvm_pmu_filter_gp_allowed(m, SEL(0x0C0, 0x13)));
		assert_true(kvm_pmu_filter_gp_allowed(m, SEL(0x1C0, 0x23)));
		kvm_pmu_filter_free(m);
	}
}

static void test_encode_masked_entry(void **state)
{
	(void)state;
	/* Field positions from arch/x86/include/uapi/asm/kvm.h. */
	assert_int_equal(KVM_PMU_ENCODE_MASKED_ENTRY(0x2C0, 0, 0, 0),
			 0xC0ULL | (0x2ULL << 32));
	assert_int_equal(KVM_PMU_ENCODE_MASKED_ENTRY(0, 0xA5, 0, 0), 0xA5ULL << 56);
	assert_int_equal(KVM_PMU_ENCODE_MASKED_ENTRY(0, 0, 0x5A, 0), 0x5AULL << 8);
	assert_int_equal(KVM_PMU_ENCODE_MASKED_ENTRY(0, 0, 0, 7), 1ULL << 55);
}

/*
 * Masked events: include entries with umask mask/match, exclude entries
 * carving holes (api.rst example shape; selftest test_masked_events).
 */
static void test_masked_include_exclude(void **state)
{
	const uint64_t ev[] = {
		/* D0: every umask 0x8? */
		KVM_PMU_ENCODE_MASKED_ENTRY(0xD0, 0xF0, 0x80, 0),
		/* ... except 0x83 exactly */
		KVM_PMU_ENCODE_MASKED_ENTRY(0xD0, 0xFF, 0x83, 1),
		/* C4: umask bit 0 clear */
		KVM_PMU_ENCODE_MASKED_ENTRY(0xC4, 0x01, 0x00, 0),
	};
	struct kvm_pmu_filter *a, *d;

	(void)state;
	a = mk(KVM_PMU_EVENT_ALLOW, KVM_PMU_EVENT_FLAG_MASKED_EVENTS, 0, 3, ev, false);
	assert_int_equal(a->nr_includes, 2);
	assert_int_equal(a->nr_excludes, 1);
	assert_true(kvm_pmu_filter_gp_allowed(a, SEL(0xD0, 0x81) | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(a, SEL(0xD0, 0x8F) | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(a, SEL(0xD0, 0x83) | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(a, SEL(0xD0, 0x41) | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(a, SEL(0xC4, 0x00) | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(a, SEL(0xC4, 0xFE) | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(a, SEL(0xC4, 0x01) | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(a, INST_RETIRED | EN_BITS));
	kvm_pmu_filter_free(a);

	d = mk(KVM_PMU_EVENT_DENY, KVM_PMU_EVENT_FLAG_MASKED_EVENTS, 0, 3, ev, false);
	assert_false(kvm_pmu_filter_gp_allowed(d, SEL(0xD0, 0x81) | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(d, SEL(0xD0, 0x83) | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(d, SEL(0xD0, 0x41) | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(d, SEL(0xC4, 0x02) | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(d, INST_RETIRED | EN_BITS));
	kvm_pmu_filter_free(d);
}

/* An exclude alone makes nothing a member: it only removes from includes. */
static void test_masked_exclude_only(void **state)
{
	const uint64_t ev[] = { KVM_PMU_ENCODE_MASKED_ENTRY(0xC0, 0, 0, 1) };
	struct kvm_pmu_filter *a = mk(KVM_PMU_EVENT_ALLOW,
				      KVM_PMU_EVENT_FLAG_MASKED_EVENTS, 0, 1, ev, false);
	struct kvm_pmu_filter *d = mk(KVM_PMU_EVENT_DENY,
				      KVM_PMU_EVENT_FLAG_MASKED_EVENTS, 0, 1, ev, false);

	(void)state;
	assert_false(kvm_pmu_filter_gp_allowed(a, INST_RETIRED));
	assert_true(kvm_pmu_filter_gp_allowed(d, INST_RETIRED));
	kvm_pmu_filter_free(a);
	kvm_pmu_filter_free(d);
}

/*
 * Fixed counters follow the bitmap and action only, even when the event
 * list names their events (api.rst pseudo-code; pmu.c is_fixed_event_allowed;
 * selftest test_set_gp_and_fixed_event_filter).
 */
static void test_fixed_bitmap_allow(void **state)
{
	/* The list allows instructions (fixed 0) and cycles (fixed 1). */
	const uint64_t ev[] = { INST_RETIRED, CORE_CYCLES, SEL(0x00, 0x03) };
	struct kvm_pmu_filter *f = mk(KVM_PMU_EVENT_ALLOW, 0, 1u << 2, 3, ev, false);

	(void)state;
	assert_false(kvm_pmu_filter_fixed_allowed(f, 0));
	assert_false(kvm_pmu_filter_fixed_allowed(f, 1));
	assert_true(kvm_pmu_filter_fixed_allowed(f, 2));
	assert_false(kvm_pmu_filter_fixed_allowed(f, 3));
	/* The GP side still follows the list. */
	assert_true(kvm_pmu_filter_gp_allowed(f, INST_RETIRED | EN_BITS));
	assert_false(kvm_pmu_filter_gp_allowed(f, BR_INST | EN_BITS));
	/* Beyond the 32-bit bitmap: bit reads clear -> denied under allow. */
	assert_false(kvm_pmu_filter_fixed_allowed(f, 40));
	kvm_pmu_filter_free(f);
}

static void test_fixed_bitmap_deny(void **state)
{
	/* The list denies instructions (fixed 0's event). */
	const uint64_t ev[] = { INST_RETIRED };
	struct kvm_pmu_filter *f = mk(KVM_PMU_EVENT_DENY, 0, 1u << 1, 1, ev, false);

	(void)state;
	assert_true(kvm_pmu_filter_fixed_allowed(f, 0));
	assert_false(kvm_pmu_filter_fixed_allowed(f, 1));
	assert_true(kvm_pmu_filter_fixed_allowed(f, 2));
	assert_false(kvm_pmu_filter_gp_allowed(f, INST_RETIRED | EN_BITS));
	assert_true(kvm_pmu_filter_gp_allowed(f, CORE_CYCLES | EN_BITS));
	assert_true(kvm_pmu_filter_fixed_allowed(f, 40));
	kvm_pmu_filter_free(f);
}

/* A bitmap naming counters the guest lacks is fine (selftest). */
static void test_fixed_bitmap_nonexistent_ok(void **state)
{
	struct kvm_pmu_filter *f = mk(KVM_PMU_EVENT_ALLOW, 0, 0xFFFFFFF0u, 0,
				      NULL, false);

	(void)state;
	assert_false(kvm_pmu_filter_fixed_allowed(f, 0));
	assert_true(kvm_pmu_filter_fixed_allowed(f, 31));
	kvm_pmu_filter_free(f);
}

static void test_err_bad_action(void **state)
{
	(void)state;
	expect_err(-EINVAL, KVM_PMU_EVENT_DENY + 1, 0, 0, 0, NULL, false);
	expect_err(-EINVAL, 0xFFFFFFFFu, 0, 0, 0, NULL, true);
}

static void test_err_bad_flags(void **state)
{
	(void)state;
	expect_err(-EINVAL, KVM_PMU_EVENT_ALLOW,
		   KVM_PMU_EVENT_FLAGS_VALID_MASK << 1, 0, 0, NULL, false);
	expect_err(-EINVAL, KVM_PMU_EVENT_DENY, 0x80000001u, 0, 0, NULL, false);
}

static void test_err_too_many_events(void **state)
{
	uint64_t ev[KVM_PMU_EVENT_FILTER_MAX_EVENTS + 1];
	struct kvm_pmu_filter *f = NULL;
	struct mv_filter cfg = { .present = true, .nevents = 301 };

	(void)state;
	for (unsigned i = 0; i < KVM_PMU_EVENT_FILTER_MAX_EVENTS + 1; i++)
		ev[i] = PLAIN(i & 0xFF, i >> 8);
	expect_err(-E2BIG, KVM_PMU_EVENT_ALLOW, 0, 0, 301, ev, false);
	expect_err(-E2BIG, KVM_PMU_EVENT_DENY, KVM_PMU_EVENT_FLAG_MASKED_EVENTS,
		   0, 0xFFFFFFFFu, ev, false);
	/* Exactly the maximum is accepted. */
	f = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 300, ev, false);
	assert_int_equal(f->nevents, 300);
	kvm_pmu_filter_free(f);
	/* A scenario claiming more events than it can hold is -E2BIG too. */
	f = (struct kvm_pmu_filter *)&cfg;
	assert_int_equal(kvm_pmu_filter_from_config(&cfg, false, &f), -E2BIG);
	assert_null(f);
}

/* KVM checks action, then flags, then nevents. */
static void test_err_order(void **state)
{
	(void)state;
	expect_err(-EINVAL, 5, 0, 0, 1000, NULL, false);
	expect_err(-EINVAL, KVM_PMU_EVENT_ALLOW, 2, 0, 1000, NULL, false);
	expect_err(-EFAULT, KVM_PMU_EVENT_ALLOW, 0, 0, 3, NULL, false);
}

/*
 * pad[] is never read by KVM (pmu.c kvm_vm_ioctl_set_pmu_event_filter copies
 * action, nevents, fixed_counter_bitmap and flags only), so non-zero pad is
 * accepted.  Modelled as the kernel behaves, not rejected.
 */
static void test_nonzero_pad_accepted(void **state)
{
	const uint64_t ev[] = { INST_RETIRED };
	struct kvm_pmu_event_filter uf = {
		.action = KVM_PMU_EVENT_DENY,
		.nevents = 1,
		.pad = { 1, 0xFFFFFFFFu, 0, 7 },
		.events = ev,
	};
	struct kvm_pmu_filter *f = NULL;

	(void)state;
	assert_int_equal(kvm_pmu_filter_set(&uf, false, &f), 0);
	assert_non_null(f);
	assert_false(kvm_pmu_filter_gp_allowed(f, INST_RETIRED));
	kvm_pmu_filter_free(f);
	assert_int_equal(kvm_pmu_filter_create(KVM_PMU_EVENT_ALLOW, 0, 0, 0xDEAD,
					       0, NULL, false, &f), 0);
	kvm_pmu_filter_free(f);
}

/* Reserved bits in a masked entry: -EINVAL (pmu.c is_masked_filter_valid). */
static void test_err_masked_reserved_bits(void **state)
{
	const uint64_t good = KVM_PMU_ENCODE_MASKED_ENTRY(0xFF, 0xFF, 0xFF, 1);
	const uint64_t bad[] = {
		~0ULL,
		good | (1ULL << 16),		/* USR */
		good | (1ULL << 22),		/* EN */
		good | (1ULL << 40),		/* above 35:32 */
		good | (1ULL << 54),		/* just below exclude */
	};
	const uint64_t hi = KVM_PMU_ENCODE_MASKED_ENTRY(0x1C0, 0xFF, 0, 0);
	struct kvm_pmu_filter *f = NULL;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const uint64_t ev[] = { good, bad[i] };

		expect_err(-EINVAL, KVM_PMU_EVENT_ALLOW,
			   KVM_PMU_EVENT_FLAG_MASKED_EVENTS, 0, 2, ev, false);
		expect_err(-EINVAL, KVM_PMU_EVENT_ALLOW,
			   KVM_PMU_EVENT_FLAG_MASKED_EVENTS, 0, 2, ev, true);
	}
	/* Event select 35:32: reserved on Intel, valid on AMD (selftest). */
	expect_err(-EINVAL, KVM_PMU_EVENT_DENY, KVM_PMU_EVENT_FLAG_MASKED_EVENTS,
		   0, 1, &hi, false);
	assert_int_equal(kvm_pmu_filter_create(KVM_PMU_EVENT_DENY,
					       KVM_PMU_EVENT_FLAG_MASKED_EVENTS,
					       0, 0, 1, &hi, true, &f), 0);
	kvm_pmu_filter_free(f);
	/* Every field at its maximum is valid (selftest). */
	f = mk(KVM_PMU_EVENT_ALLOW, KVM_PMU_EVENT_FLAG_MASKED_EVENTS, 0, 1,
	       &good, false);
	kvm_pmu_filter_free(f);
}

/*
 * A dense list (300 entries, many sharing an event select) finds every
 * member, and the prepared filter does not depend on the input order.
 */
static void test_dense_and_deterministic(void **state)
{
	uint64_t fwd[300], rev[300];
	struct kvm_pmu_filter *a, *b;

	(void)state;
	for (unsigned i = 0; i < 300; i++) {
		/* 30 event selects x 10 umasks, interleaved. */
		fwd[i] = PLAIN(0x10 + (i % 30), (i / 30) * 3);
		rev[299 - i] = fwd[i];
	}
	a = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 300, fwd, false);
	b = mk(KVM_PMU_EVENT_ALLOW, 0, 0, 300, rev, false);
	assert_memory_equal(a->events, b->events, 300 * sizeof(uint64_t));
	for (unsigned i = 0; i < 300; i++) {
		assert_true(kvm_pmu_filter_gp_allowed(a, fwd[i] | EN_BITS));
		/* umask +1 is never listed (umasks are multiples of 3). */
		assert_false(kvm_pmu_filter_gp_allowed(a, fwd[i] + 0x100));
	}
	assert_false(kvm_pmu_filter_gp_allowed(a, SEL(0x0F, 0)));
	assert_false(kvm_pmu_filter_gp_allowed(a, SEL(0x2E, 0)));
	kvm_pmu_filter_free(a);
	kvm_pmu_filter_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_filter_allows_all),
		cmocka_unit_test(test_from_config),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_deny_list),
		cmocka_unit_test(test_empty_list),
		cmocka_unit_test(test_plain_impossible_entries_dropped),
		cmocka_unit_test(test_amd_12bit_events),
		cmocka_unit_test(test_encode_masked_entry),
		cmocka_unit_test(test_masked_include_exclude),
		cmocka_unit_test(test_masked_exclude_only),
		cmocka_unit_test(test_fixed_bitmap_allow),
		cmocka_unit_test(test_fixed_bitmap_deny),
		cmocka_unit_test(test_fixed_bitmap_nonexistent_ok),
		cmocka_unit_test(test_err_bad_action),
		cmocka_unit_test(test_err_bad_flags),
		cmocka_unit_test(test_err_too_many_events),
		cmocka_unit_test(test_err_order),
		cmocka_unit_test(test_nonzero_pad_accepted),
		cmocka_unit_test(test_err_masked_reserved_bits),
		cmocka_unit_test(test_dense_and_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
