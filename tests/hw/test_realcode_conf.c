/* test_realcode_conf: the real-code conformance programs on every model,
 * bare metal and under both vPMUs.
 *
 * guest/tests/fact_*.c are one tiny test per fact of FACTS.md sections
 * 1-2; each checks itself against the fact and the PMU its CPUID shows
 * (exit status 1 = every check passed).  guest/tests/conf.c is the twin
 * of the API's conformance probes.  For both, a VM's log must equal bare
 * metal's line by line (the bare-metal equivalence oracle, as
 * test_kvm_conformance applies it to the API probes), except for the
 * differences real KVM has, each listed in `documented()` with its
 * reason.  KVM's guest PMU shape (version, fixed counters,
 * PERF_CAPABILITIES) is read from the VM's own log and checked against
 * Linux 7.0's caps rather than pinned, so that lines a smaller shape
 * leaves out are allowed exactly when that shape explains them. */
#include "rc_test.h"

struct kv {
	char key[96], val[96];
};

#define MAX_KV 512

struct log {
	struct kv kv[MAX_KV];
	size_t n;
};

/* "key=value" lines ("probe: key=value" for conf); others are skipped. */
static void parse(const char *text, struct log *l)
{
	l->n = 0;
	while (*text) {
		size_t len = strcspn(text, "\n");
		const char *eq = memchr(text, '=', len);

		if (eq && l->n < MAX_KV) {
			struct kv *kv = &l->kv[l->n++];
			const char *sp = memchr(eq, ' ', len - (size_t)(eq - text));
			size_t vl = (size_t)((sp ? sp : text + len) - eq - 1);

			snprintf(kv->key, sizeof(kv->key), "%.*s", (int)(eq - text), text);
			/* The fact= header carries the shape: keep it whole. */
			if (!strcmp(kv->key, "fact"))
				vl = len - (size_t)(eq - text) - 1;
			snprintf(kv->val, sizeof(kv->val), "%.*s", (int)vl, eq + 1);
		}
		text += len + (text[len] == '\n');
	}
	assert_true(l->n < MAX_KV);
}

static const char *get(const struct log *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->kv[i].key, key))
			return l->kv[i].val;
	return NULL;
}

static uint64_t num(const char *s)
{
	return s ? strtoull(s, NULL, 0) : 0;
}

/* The guest PMU shape a log shows. */
struct shape {
	bool intel;
	unsigned version;
	uint64_t fixed_exists;
};

static bool starts(const char *s, const char *pfx)
{
	return !strncmp(s, pfx, strlen(pfx));
}

static bool ends(const char *s, const char *sfx)
{
	size_t a = strlen(s), b = strlen(sfx);

	return a >= b && !strcmp(s + a - b, sfx);
}

/* Whether a line of the bare-metal log may be missing in the VM's: the
 * probe or check needs more than the VM's shape has. */
static bool vm_may_lack(const char *key, const struct shape *vm)
{
	if (!vm->intel)
		return false;
	if (vm->version < 3 && starts(key, "anythread: "))
		return true;
	if (vm->version < 4 && (starts(key, "status_set: ") || starts(key, "freeze_on_pmi: ") ||
				starts(key, "set.") || starts(key, "status.after_")))
		return true;
	if (!((vm->fixed_exists >> 3) & 1) && strstr(key, "fixed3"))
		return true;
	return false;
}

/* Whether a line only the VM logs is explained by its shape: a fixed
 * counter it lacks is probed as nonexistent (and must #GP). */
static bool vm_may_add(const char *key, const char *val, const struct shape *vm)
{
	return vm->intel && !((vm->fixed_exists >> 3) & 1) && strstr(key, "fixed3") &&
	       !strcmp(val, "gp");
}

/* The documented differences: true when the VM's value for `key` is what
 * KVM gives (Linux 7.0). */
static bool documented(const char *key, const char *bare, const char *vm, bool intel,
		       enum mv_vpmu vp, const struct shape *vs)
{
	uint64_t b = num(bare), v = num(vm);

	/* A fixed counter the VM's shape lacks does not exist there. */
	if (intel && strstr(key, "fixed3") && !((vs->fixed_exists >> 3) & 1))
		return !strcmp(vm, "gp");

	/* The shape, checked in check_shape(). */
	if (starts(key, "discover: ") || starts(key, "fact"))
		return true;
	/* KVM's PERF_CAPABILITIES for a guest: FW_WRITE only. */
	if (intel && !strcmp(key, "perf_caps: value"))
		return v == 0x2000;
	/* KVM reserves AnyThread (PERFEVTSEL bit 21, fixed bit 2) for
	 * guests whatever the version. */
	if (intel && starts(key, "anythread: "))
		return !strcmp(vm, "gp");
	/* DEBUGCTL.FREEZE_PERFMON_ON_PMI is not virtualized: the write #GPs
	 * and the counters run on through the PMI. */
	if (intel && vp == MV_VPMU_MEDIATED && starts(key, "freeze_on_pmi: ")) {
		if (ends(key, "debugctl"))
			return !strcmp(vm, "gp");
		if (ends(key, "status_in_handler") || ends(key, "frozen.status"))
			return v == 0x1;
		return ends(key, "ctr1") || ends(key, "ctr1_in_handler");
	}
	/* Core and reference cycles (fixed 1, 2) and topdown slots (fixed 3,
	 * 4 per cycle): a WRMSR KVM intercepts does not run in guest mode,
	 * so no cycles are counted for it, while KVM's software path counts
	 * it as an instruction retired (kvm_pmu_instruction_retired: only
	 * instructions and branches).  Bare metal counts the cycle of the
	 * write that closes the window, a VM does not when KVM intercepts
	 * that write (GLOBAL_CTRL: always under the emulated vPMU, on some
	 * models under the mediated one). */
	if (intel && (strstr(key, "fixed1") || strstr(key, "fixed2")) && !strstr(key, "read") &&
	    !strstr(key, "at_least"))
		return v == b - 1;
	if (intel && strstr(key, "fixed3") && !strstr(key, "read") && !strstr(key, "at_least"))
		return v == b - 4;
	/* AMD Host/GuestOnly are reserved (dropped) in a guest without nested
	 * SVM: ignored, not faulted (kvm_pmu_amd.c; FACTS.md s.2). */
	if (!intel && !strcmp(key, "evtsel_reserved: reserved.read"))
		return v == (b & ~(3ULL << 40));
	if (!intel && ends(key, ".kept"))
		return v == 0;
	if (!intel && starts(key, "svme") && ends(key, ".count"))
		return true;	/* follows .kept; the test checked it against the fact */
	return false;
}

static struct shape shape_of(const struct log *l, const char *cpu)
{
	struct shape s = { .intel = strncmp(cpu, "zen", 3) != 0 };
	const char *h = get(l, "fact"), *p;

	if (get(l, "discover: version")) {
		s.version = (unsigned)num(get(l, "discover: version"));
		s.fixed_exists = num(get(l, "discover: fixed_exists"));
	} else if (h && (p = strstr(h, "version="))) {
		unsigned nf = (p = strstr(h, "nr_fixed=")) ? (unsigned)strtoul(p + 9, NULL, 0) : 0;

		s.version = (unsigned)strtoul(strstr(h, "version=") + 8, NULL, 0);
		/* fact_* headers: fixed counters 0..nr_fixed-1 (plus what a v5
		 * bitmap adds, which only bare metal has here). */
		s.fixed_exists = (1ULL << nf) - 1;
	}
	return s;
}

/* Linux 7.0's caps on an Intel guest PMU: at most the host's version,
 * and fixed counters a subset of the host's. */
static void check_shape(const struct shape *b, const struct shape *v, const char *cpu)
{
	if (v->version > b->version || (v->fixed_exists & ~b->fixed_exists))
		fail_msg("%s: the VM's PMU (version %u, fixed %#lx) is beyond the host's (%u, %#lx)",
			 cpu, v->version, (unsigned long)v->fixed_exists, b->version,
			 (unsigned long)b->fixed_exists);
}

static struct log bl, vl;

static void compare(const char *what, const char *cpu, enum mv_vpmu vp)
{
	struct shape bs = shape_of(&bl, cpu), vs = shape_of(&vl, cpu);

	check_shape(&bs, &vs, cpu);
	for (size_t i = 0; i < bl.n; i++) {
		const struct kv *b = &bl.kv[i];
		const char *v = get(&vl, b->key);

		if (!v) {
			if (!vm_may_lack(b->key, &vs))
				fail_msg("%s on %s/%s: \"%s\" missing in the VM", what, cpu,
					 cli_vpmu_name(vp), b->key);
			continue;
		}
		if (strcmp(b->val, v) && !documented(b->key, b->val, v, bs.intel, vp, &vs))
			fail_msg("%s on %s/%s: %s=%s on bare metal, %s in the VM", what, cpu,
				 cli_vpmu_name(vp), b->key, b->val, v);
	}
	for (size_t i = 0; i < vl.n; i++)
		if (!get(&bl, vl.kv[i].key) && !vm_may_add(vl.kv[i].key, vl.kv[i].val, &vs))
			fail_msg("%s on %s/%s: \"%s=%s\" only in the VM", what, cpu,
				 cli_vpmu_name(vp), vl.kv[i].key, vl.kv[i].val);
}

static void run_into(const char *name, const char *cpu, enum mv_vpmu vp, struct log *l)
{
	const struct mv_image_result *im = rc_run(name, cpu, vp);

	if (!im->exited || im->exit_status != 1)
		fail_msg("%s on %s/%s: exit %s status %u:\n%s", name, cpu, cli_vpmu_name(vp),
			 im->exit, im->exit_status, rc_text);
	if (strstr(rc_text, "FAIL"))
		fail_msg("%s on %s/%s:\n%s", name, cpu, cli_vpmu_name(vp), rc_text);
	parse(rc_text, l);
}

static void run_everywhere(const char *name)
{
	for (size_t m = 0; m < RC_NR_MODELS; m++) {
		run_into(name, rc_models[m], MV_VPMU_NONE, &bl);
		for (size_t v = 1; v < 3; v++) {
			run_into(name, rc_models[m], rc_vpmus[v], &vl);
			compare(name, rc_models[m], rc_vpmus[v]);
		}
	}
}

#define FACT_TEST(n) \
	static void test_fact_##n(void **state) { (void)state; run_everywhere("fact_" #n); }

FACT_TEST(reserved)
FACT_TEST(legacy)
FACT_TEST(fullwidth)
FACT_TEST(rdpmc)
FACT_TEST(count)
FACT_TEST(overflow)
FACT_TEST(mask_pmi)
FACT_TEST(fixed)
FACT_TEST(status)
FACT_TEST(amd_alias)
FACT_TEST(hostguest)

/* The twin of the API probes: bare metal, then the VMs against it; a
 * few bare-metal observations against FACTS.md as test_guest_conf
 * checks the API probes'. */
static void test_conf_twin(void **state)
{
	(void)state;
	for (size_t m = 0; m < RC_NR_MODELS; m++) {
		const char *cpu = rc_models[m];
		bool intel = strncmp(cpu, "zen", 3) != 0;

		run_into("conf", cpu, MV_VPMU_NONE, &bl);
		assert_non_null(get(&bl, "conf: done"));
		/* s.1: reserved PERFEVTSEL bits #GP on Intel, s.2: ignored on AMD. */
		if (intel) {
			assert_string_equal(get(&bl, "evtsel_reserved: bit63"), "gp");
			assert_string_equal(get(&bl, "legacy_write: 0x80000000"), "0xffff80000000");
		} else {
			assert_string_equal(get(&bl, "evtsel_reserved: reserved"), "ok");
		}
		/* s.1: RDPMC at CPL 3 with CR4.PCE = 0 #GPs. */
		assert_string_equal(get(&bl, "rdpmc_cpl: cpl3_pce0"), "gp");
		assert_string_equal(get(&bl, "rdpmc_cpl: cpl3_pce1"), "ok");
		/* s.1: the overflow sets the status bit without INT; no PMI. */
		assert_int_equal(num(get(&bl, "overflow_noint: gp.pmis")), 0);
		assert_int_equal(num(get(&bl, "overflow_pmi: nmi.pmis")), 1);
		assert_int_equal(num(get(&bl, "overflow_pmi: masked.pmis")), 0);
		for (size_t v = 1; v < 3; v++) {
			run_into("conf", cpu, rc_vpmus[v], &vl);
			compare("conf", cpu, rc_vpmus[v]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fact_reserved),
		cmocka_unit_test(test_fact_legacy),
		cmocka_unit_test(test_fact_fullwidth),
		cmocka_unit_test(test_fact_rdpmc),
		cmocka_unit_test(test_fact_count),
		cmocka_unit_test(test_fact_overflow),
		cmocka_unit_test(test_fact_mask_pmi),
		cmocka_unit_test(test_fact_fixed),
		cmocka_unit_test(test_fact_status),
		cmocka_unit_test(test_fact_amd_alias),
		cmocka_unit_test(test_fact_hostguest),
		cmocka_unit_test(test_conf_twin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
