/* test_kvm_conformance: the conformance probes in a VM against bare metal
 * on every model: identical logs apart from the differences real KVM has
 * (docs/conformance.md), each pinned to the value KVM gives the guest. */
#include "kvm_test.h"
#include "guest/guest_conf.h"

#define VP(x) (1u << (x))
#define EMUL VP(MV_VPMU_EMULATED)
#define MED VP(MV_VPMU_MEDIATED)
#define FC3 VP(3)	/* mediated with the fixed-counter-3 proposal */
#define ALL (EMUL | MED | FC3)
#define ANY_VENDOR (-1)
#define ANY_VALUE "*"

/* One documented difference: `probe: key` (key NULL: every line of the
 * probe) is left out of the comparison; `vm` is what the VM must log
 * instead (NULL: nothing, ANY_VALUE: not pinned). */
struct vm_diff {
	unsigned vpmus;
	int vendor;
	const char *probe, *key, *vm;
};

static const struct vm_diff diffs[] = {
	/* Linux 7.0 caps every Intel guest at version 2, under both vPMUs
	 * (kvm_init_pmu_capability), so the v3+ features are not there. */
	{ ALL, HW_INTEL, "discover", "version", "2" },
	{ ALL, HW_INTEL, "discover", "fixed_bitmap", "0x0" },
	{ ALL, HW_INTEL, "anythread", NULL, NULL },	/* v3+ probe */
	{ ALL, HW_INTEL, "status_set", NULL, NULL },	/* v4+ probe */
	{ ALL, HW_INTEL, "freeze_on_pmi", NULL, NULL },	/* v4+ probe */
	/* ...and at fixed counters 0-2 (KVM_MAX_NR_INTEL_FIXED_COUNTERS = 3;
	 * fixed counter 3 for the mediated vPMU is the Feb 2026 proposal). */
	{ EMUL | MED, HW_INTEL, "discover", "nr_fixed", "3" },
	{ EMUL | MED, HW_INTEL, "discover", "fixed_exists", "0x7" },
	{ EMUL | MED, HW_INTEL, "count_fixed", "fixed3", NULL },
	{ EMUL | MED, HW_INTEL, "count_fixed", "fixed3.rdpmc", NULL },
	{ EMUL | MED, HW_INTEL, "write_read", "fixed3.read", NULL },
	{ EMUL | MED, HW_INTEL, "nonexistent", "fixed3.write", "gp" },
	{ EMUL | MED, HW_INTEL, "nonexistent", "fixed3.read", "gp" },
	{ EMUL | MED, HW_INTEL, "nonexistent", "fixed3.rdpmc", "gp" },
	/* KVM's PERF_CAPABILITIES: FW_WRITE only (no LBR/PEBS formats). */
	{ ALL, HW_INTEL, "perf_caps", "value", "0x2000" },
	/* AMD Host/GuestOnly are reserved (dropped) in a guest without SVM. */
	{ ALL, HW_AMD, "evtsel_reserved", "reserved.read", "0x200c0" },
};

#define NR_DIFFS (sizeof(diffs) / sizeof(diffs[0]))

/* The run's difference class: EMUL, MED, or FC3 (mediated + patch). */
static unsigned run_class(enum mv_vpmu vp, uint32_t patches)
{
	if (vp == MV_VPMU_MEDIATED && (patches & MV_PATCH_FIXED_COUNTER_3))
		return FC3;
	return VP(vp);
}

static bool diff_applies(const struct vm_diff *d, const struct hw_model *m, unsigned cls)
{
	return (d->vpmus & cls) && (d->vendor == ANY_VENDOR || d->vendor == (int)m->vendor);
}

static unsigned diff_used[NR_DIFFS];

/* Whether the line "probe: key=value" is a documented difference. */
static bool excluded(const char *line, const struct hw_model *m, unsigned vp)
{
	for (size_t i = 0; i < NR_DIFFS; i++) {
		const struct vm_diff *d = &diffs[i];
		size_t pl = strlen(d->probe);

		if (!diff_applies(d, m, vp) || strncmp(line, d->probe, pl) ||
		    strncmp(line + pl, ": ", 2))
			continue;
		if (d->key) {
			size_t kl = strlen(d->key);

			if (strncmp(line + pl + 2, d->key, kl) || line[pl + 2 + kl] != '=')
				continue;
		}
		diff_used[i]++;
		return true;
	}
	return false;
}

/* The log without its documented differences. */
static char *filtered(const struct guest_conf_log *log, const struct hw_model *m,
		      unsigned vp)
{
	char *outp = calloc(1, log->len + 1), *o = outp;
	const char *s = log->text;

	assert_non_null(outp);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
		char line[256];

		snprintf(line, sizeof(line), "%.*s", (int)n, s);
		if (!excluded(line, m, vp)) {
			memcpy(o, s, n);
			o += n;
		}
		s += n;
	}
	return outp;
}

static bool probe_logged(const struct guest_conf_log *log, const char *probe)
{
	char pfx[64];
	size_t n = (size_t)snprintf(pfx, sizeof(pfx), "%s: ", probe);

	if (strncmp(log->text, pfx, n) == 0)
		return true;
	snprintf(pfx, sizeof(pfx), "\n%s: ", probe);
	return strstr(log->text, pfx) != NULL;
}

/* The VM logs, for each applicable difference, what KVM gives. */
static void check_vm_values(const struct guest_conf_log *vm, const struct hw_model *m,
			    unsigned vp)
{
	char buf[64];

	for (size_t i = 0; i < NR_DIFFS; i++) {
		const struct vm_diff *d = &diffs[i];
		bool has;

		if (!diff_applies(d, m, vp))
			continue;
		if (!d->key) {
			if (probe_logged(vm, d->probe))
				fail_msg("%s: %s logged in the VM", m->name, d->probe);
			continue;
		}
		has = guest_conf_value(vm, d->probe, d->key, buf, sizeof(buf));
		if (!d->vm) {
			if (has)
				fail_msg("%s: %s: %s=%s in the VM, want absent", m->name,
					 d->probe, d->key, buf);
			continue;
		}
		if (strcmp(d->vm, ANY_VALUE) == 0)
			continue;
		if (!has)
			fail_msg("%s: %s: %s missing in the VM", m->name, d->probe, d->key);
		if (strcmp(buf, d->vm))
			fail_msg("%s: %s: %s=%s in the VM, want %s", m->name, d->probe,
				 d->key, buf, d->vm);
	}
}

static void first_difference(const char *a, const char *b, const char *model)
{
	while (*a && *a == *b) {
		const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');

		if (!na || !nb || na - a != nb - b || strncmp(a, b, (size_t)(na - a)))
			break;
		a = na + 1;
		b = nb + 1;
	}
	fail_msg("%s: bare metal and VM differ:\n  bare: %.*s\n  vm:   %.*s", model,
		 (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
}

static void bare_log(const struct hw_model *m, struct guest_conf_log *log)
{
	struct sim sim;
	struct hw_cpu cpu;
	struct guest_bare gb;

	sim_init(&sim, 7, false);
	hw_cpu_init(&cpu, 0, &sim, m);
	guest_bare_init(&gb, &cpu, 1);
	guest_conf_log_init(log);
	guest_conf_run_all(&gb.g, log);
	sim_free(&sim);
	assert_false(log->truncated);
	assert_true(log->nr > 50);
}

static void run_conf(struct mv_guest *g, void *arg)
{
	guest_conf_run_all(g, arg);
}

static struct guest_conf_log bl, vl;

/* Runs the probes in a VM on a host offering `vp` (with `patches`) on `m`;
 * returns the vPMU the VM got, after comparing with bare metal under that
 * vPMU's differences. */
static enum mv_vpmu compare(const struct hw_model *m, enum mv_vpmu vp, uint32_t patches,
			    char *reason, size_t rlen)
{
	struct mv_vm_config cfg = kt_vm_config();
	struct kvm_params params = kt_params(vp);
	struct kt t;
	enum mv_vpmu eff;
	unsigned cls;
	char *fb, *fv;

	bare_log(m, &bl);
	params.patches = patches;
	kt_machine_params(&t, m->name, false, &params);
	kt_vm(&t, &cfg);
	eff = kvm_vm_vpmu(t.vm);
	cls = run_class(eff, patches);
	snprintf(reason, rlen, "%s", kvm_vm_fallback_reason(t.vm));
	guest_conf_log_init(&vl);
	kt_run(&t, run_conf, &vl);
	assert_false(vl.truncated);
	/* The probes really ran in a VM: CPUID at least always exits. */
	assert_true(t.kvm->exits[KVM_EXIT_CPUID] > 0);
	assert_int_equal(t.sim.inv_violated, 0);
	kt_teardown(&t);

	fb = filtered(&bl, m, cls);
	fv = filtered(&vl, m, cls);
	if (strcmp(fb, fv))
		first_difference(fb, fv, m->name);
	check_vm_values(&vl, m, cls);
	free(fb);
	free(fv);
	return eff;
}

/* Every documented difference of class `cls` shows up on some model: a
 * stale entry would hide a future regression. */
static void check_all_used(unsigned cls)
{
	for (size_t i = 0; i < NR_DIFFS; i++)
		if ((diffs[i].vpmus & cls) && !diff_used[i])
			fail_msg("difference %s: %s never seen", diffs[i].probe,
				 diffs[i].key ? diffs[i].key : "*");
}

static void test_emulated_every_model(void **state)
{
	char reason[128];

	(void)state;
	memset(diff_used, 0, sizeof(diff_used));
	for (size_t i = 0; i < hw_nr_models; i++) {
		const struct hw_model *m = &hw_models[i];

		assert_int_equal(compare(m, MV_VPMU_EMULATED, 0, reason, sizeof(reason)),
				 MV_VPMU_EMULATED);
	}
	check_all_used(EMUL);
}

static bool mediated_capable(const struct hw_model *m)
{
	static const char *const yes[] = {
		"skylake", "icelake", "sapphirerapids", "zen4", "zen5",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(m->name, yes[i]) == 0)
			return true;
	return false;
}

static void mediated_every_model(uint32_t patches)
{
	unsigned nr_mediated = 0;
	char reason[128];

	memset(diff_used, 0, sizeof(diff_used));
	for (size_t i = 0; i < hw_nr_models; i++) {
		const struct hw_model *m = &hw_models[i];
		enum mv_vpmu eff = compare(m, MV_VPMU_MEDIATED, patches, reason, sizeof(reason));

		if (mediated_capable(m)) {
			assert_int_equal(eff, MV_VPMU_MEDIATED);
			assert_string_equal(reason, "");
			nr_mediated++;
		} else {
			/* zen3: no PerfMonV2, KVM falls back to the emulated vPMU
			 * (compared above under the emulated differences). */
			assert_int_equal(eff, MV_VPMU_EMULATED);
			assert_true(strlen(reason) > 0);
		}
	}
	assert_int_equal(nr_mediated, 5);
	check_all_used(run_class(MV_VPMU_MEDIATED, patches));
}

static void test_mediated_every_model(void **state)
{
	(void)state;
	mediated_every_model(0);
}

/* With the Feb 2026 proposal, Ice Lake and Sapphire Rapids guests get
 * fixed counter 3: the version differences remain, those of fixed 3 go. */
static void test_mediated_fixed_counter_3_every_model(void **state)
{
	(void)state;
	mediated_every_model(MV_PATCH_FIXED_COUNTER_3);
}

static void test_zen3_falls_back(void **state)
{
	struct kt t;

	(void)state;
	kt_setup(&t, "zen3", MV_VPMU_MEDIATED);
	assert_int_equal(kvm_vm_vpmu(t.vm), MV_VPMU_EMULATED);
	assert_non_null(strstr(kvm_vm_fallback_reason(t.vm), "PerfMonV2"));
	assert_false(t.vcpu->pmu.mediated);
	assert_true(t.vcpu->pmu.enabled);
	kt_teardown(&t);
}

/* The oracle itself: an undocumented difference fails the comparison
 * (a VM guest that lost a GP counter logs differently). */
static void test_difference_detected(void **state)
{
	struct mv_vm_config cfg = kt_vm_config();
	const struct hw_model *m = hw_model_find("skylake");
	struct kt t;
	char *fb, *fv;

	(void)state;
	bare_log(m, &bl);
	kt_machine(&t, "skylake", false, MV_VPMU_MEDIATED);
	cfg.nr_gp = 3;
	kt_vm(&t, &cfg);
	guest_conf_log_init(&vl);
	kt_run(&t, run_conf, &vl);
	kt_teardown(&t);
	fb = filtered(&bl, m, MED);
	fv = filtered(&vl, m, MED);
	assert_true(strcmp(fb, fv) != 0);
	free(fb);
	free(fv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emulated_every_model),
		cmocka_unit_test(test_mediated_every_model),
		cmocka_unit_test(test_mediated_fixed_counter_3_every_model),
		cmocka_unit_test(test_zen3_falls_back),
		cmocka_unit_test(test_difference_detected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
