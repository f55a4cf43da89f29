/* cli_race: races between CPUs, explored over every interleaving.  Each
 * simulated thread is a real thread, but only the one holding the baton
 * runs: perf's mediated-PMU accounting yields at the points where, in
 * 7.0, another CPU may run (around perf_mediated_pmu_mutex), and the
 * scheduler hands the baton on as the schedule says.  Schedules are
 * enumerated depth first (each run records how many threads it could have
 * picked at each decision), so the set of interleavings is complete and
 * the same every time. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli_race.h"
#include "cli_run.h"
#include "host/host_cpu.h"
#include "hw/hw_model.h"
#include "kvm/kvm.h"

#define MAX_DECISIONS 64
enum { T_VCPU, T_PERF, NR_T };
enum { CASE_FRESH, CASE_EVENT_EXISTS, CASE_VM_EXISTS };

static const char *const case_names[CLI_RACE_CASES] = {
	"nothing before", "a guest-including event on cpu0 before",
	"a mediated VM before",
};

struct race {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int turn;			/* thread that may run, -1 the scheduler */
	int cur;
	struct {
		bool finished, wants_lock;
	} th[NR_T];
	int kase;
	bool unlocked_variant;
	struct sim sim;
	struct hw_cpu cpu[2];
	struct hw_cpu *cpus[2];
	struct perf *host;
	struct kvm *kvm;
	struct kvm_vm *vm, *vm_pre;
	struct perf_event *ev, *ev_pre;
	int vm_err, ev_err;
	const uint8_t *prefix;
	unsigned nr_prefix;
	uint8_t taken[MAX_DECISIONS], options[MAX_DECISIONS], who[MAX_DECISIONS];
	unsigned nr_dec;
	bool overflow;
};

static struct mv_vm_config vm_config(const char *name)
{
	struct mv_scenario sc;
	struct mv_vm_config cfg;

	cli_scenario_defaults(&sc);
	cfg = sc.vm[0];
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.nr_vcpus = 1;
	for (int i = 0; i < MV_MAX_VCPUS; i++) {
		cfg.prog[i].kind = MV_PROG_IDLE;
		cfg.pin[i] = -1;
	}
	return cfg;
}

/* perf's hook: hand the baton back to the scheduler, wait for it. */
static void yield(void *arg, const char *where, bool wants_lock)
{
	struct race *r = arg;
	int id = r->cur;

	(void)where;
	pthread_mutex_lock(&r->mu);
	r->th[id].wants_lock = wants_lock;
	r->turn = -1;
	pthread_cond_broadcast(&r->cv);
	while (r->turn != id)
		pthread_cond_wait(&r->cv, &r->mu);
	r->th[id].wants_lock = false;
	pthread_mutex_unlock(&r->mu);
}

/* cpu0: KVM_CREATE_VM, then the first KVM_CREATE_VCPU, whose precreate
 * asks perf for the mediated PMU. */
static void vcpu_thread(struct race *r)
{
	struct mv_vm_config cfg = vm_config("vm0");
	char err[160];
	struct kvm_vcpu *v;

	r->vm = kvm_vm_create(r->kvm, 0, &cfg, err, sizeof(err));
	if (!r->vm) {
		r->vm_err = -ENOMEM;
		return;
	}
	v = kvm_vcpu_create(r->vm, 0, 0);
	r->vm_err = v ? 0 : kvm_vm_create_error(r->vm);
}

/* cpu1: perf_event_open of a per-CPU event that counts guests too. */
static void perf_thread(struct race *r)
{
	struct perf_event_attr a;
	char err[64];

	perf_parse_event("cycles", &a, err, sizeof(err));
	r->ev_err = perf_event_open(r->host, &a, 1, NULL, NULL, NULL, &r->ev);
}

struct targ {
	struct race *r;
	int id;
};

static void *thread_main(void *arg)
{
	struct targ *t = arg;
	struct race *r = t->r;

	pthread_mutex_lock(&r->mu);
	while (r->turn != t->id)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	if (t->id == T_VCPU)
		vcpu_thread(r);
	else
		perf_thread(r);
	pthread_mutex_lock(&r->mu);
	r->th[t->id].finished = true;
	r->turn = -1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Hands the baton on until both threads finished; the choice at each
 * decision is the prefix's, then the first runnable thread. */
static int schedule(struct race *r, char *err, size_t errlen)
{
	for (;;) {
		int run[NR_T], n = 0, pick;

		pthread_mutex_lock(&r->mu);
		while (r->turn != -1)
			pthread_cond_wait(&r->cv, &r->mu);
		for (int i = 0; i < NR_T; i++)
			if (!r->th[i].finished &&
			    !(r->th[i].wants_lock && perf_mediated_mutex_held(r->host)))
				run[n++] = i;
		if (!n) {
			bool all = r->th[0].finished && r->th[1].finished;

			pthread_mutex_unlock(&r->mu);
			if (!all)
				snprintf(err, errlen, "race: both threads wait for the mutex");
			return all ? 0 : 2;
		}
		pick = r->nr_dec < r->nr_prefix ? r->prefix[r->nr_dec] : 0;
		if (pick >= n)
			pick = 0;
		if (r->nr_dec < MAX_DECISIONS) {
			r->taken[r->nr_dec] = (uint8_t)pick;
			r->options[r->nr_dec] = (uint8_t)n;
			r->who[r->nr_dec] = (uint8_t)run[pick];
			r->nr_dec++;
		} else {
			r->overflow = true;
		}
		r->cur = run[pick];
		r->turn = run[pick];
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
}

static int build(struct race *r, const struct hw_model *m, char *err, size_t errlen)
{
	struct kvm_params params = { .enable_pmu = true, .enable_mediated_pmu = true };

	sim_init(&r->sim, 0, false);
	for (int c = 0; c < 2; c++) {
		hw_cpu_init(&r->cpu[c], c, &r->sim, m);
		r->cpus[c] = &r->cpu[c];
	}
	r->host = host_perf_new(&r->sim, r->cpus, 2);
	r->kvm = r->host ? kvm_new(&r->sim, r->cpus, 2, r->host, &params) : NULL;
	if (!r->kvm) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	if (!kvm_get_params(r->kvm)->enable_mediated_pmu) {
		snprintf(err, errlen, "%s offers no mediated vPMU (%s)", m->name,
			 kvm_params_reason(r->kvm));
		return 2;
	}
	if (r->kase == CASE_EVENT_EXISTS) {
		struct perf_event_attr a;
		char msg[64];

		perf_parse_event("instructions", &a, msg, sizeof(msg));
		perf_event_open(r->host, &a, 0, NULL, NULL, NULL, &r->ev_pre);
	} else if (r->kase == CASE_VM_EXISTS) {
		struct mv_vm_config cfg = vm_config("vm1");

		r->vm_pre = kvm_vm_create(r->kvm, 1, &cfg, err, errlen);
		if (!r->vm_pre || !kvm_vcpu_create(r->vm_pre, 0, 0)) {
			snprintf(err, errlen, "race: the VM made beforehand was refused");
			return 2;
		}
	}
	perf_set_race_hooks(r->host, yield, r, r->unlocked_variant);
	return 0;
}

static void teardown(struct race *r)
{
	if (r->ev)
		perf_event_close(r->ev);
	if (r->ev_pre)
		perf_event_close(r->ev_pre);
	kvm_free(r->kvm);
	if (r->host)
		perf_free(r->host);
	sim_free(&r->sim);
}

/* One interleaving: build, race, check, tear down. */
static int run_one(struct race *r, const struct hw_model *m, struct cli_race_case *c,
		   char *err, size_t errlen)
{
	pthread_t tid[NR_T];
	struct targ args[NR_T];
	int rc = build(r, m, err, errlen), started = 0;

	r->turn = -1;
	for (int i = 0; !rc && i < NR_T; i++) {
		args[i] = (struct targ){ r, i };
		if (pthread_create(&tid[i], NULL, thread_main, &args[i])) {
			snprintf(err, errlen, "race: cannot start a thread");
			rc = 2;
			break;
		}
		started++;
	}
	if (!rc)
		rc = schedule(r, err, errlen);
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (!rc && r->overflow) {
		snprintf(err, errlen, "race: more than %d decisions", MAX_DECISIONS);
		rc = 2;
	}
	if (!rc) {
		bool created = r->vm_err == 0, opened = r->ev_err == 0;

		/* Invariant 6 once both are done, as the run's end checks it. */
		sim_check(&r->sim, INV_EXCLUSION,
			  !(perf_nr_mediated_vms(r->host) && perf_nr_include_guest_events(r->host)),
			  "%llu mediated VM(s) and %llu guest-including event(s) after the race",
			  (unsigned long long)perf_nr_mediated_vms(r->host),
			  (unsigned long long)perf_nr_include_guest_events(r->host));
		c->interleavings++;
		c->outcomes[created][opened]++;
		if (r->sim.inv_violated && !c->broken++) {
			size_t off = 0;

			for (unsigned d = 0; d < r->nr_dec && off + 8 < sizeof(c->first_bad); d++)
				off += (size_t)snprintf(c->first_bad + off, sizeof(c->first_bad) - off,
							"%scpu%u", d ? "," : "", r->who[d]);
			snprintf(c->first_bad + off, sizeof(c->first_bad) - off, ": %s",
				 r->sim.violations[0].msg);
		}
	}
	teardown(r);
	return rc;
}

int cli_race_run(const char *cpu, bool unlocked, struct cli_race_result *out, char *err,
		 size_t errlen)
{
	const struct hw_model *m = hw_model_find(cpu);
	struct race *r = calloc(1, sizeof(*r));
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	if (!m) {
		free(r);
		snprintf(err, errlen, "unknown CPU model '%s' (see mvpmu cpus)", cpu);
		return 2;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	for (int k = 0; !rc && k < CLI_RACE_CASES; k++) {
		struct cli_race_case *c = &out->c[k];
		uint8_t prefix[MAX_DECISIONS];
		unsigned np = 0;

		c->name = case_names[k];
		for (;;) {
			int d;

			memset(&r->th, 0, sizeof(r->th));
			r->kase = k;
			r->unlocked_variant = unlocked;
			r->prefix = prefix;
			r->nr_prefix = np;
			r->nr_dec = 0;
			r->overflow = false;
			r->vm = r->vm_pre = NULL;
			r->ev = r->ev_pre = NULL;
			r->host = NULL;
			r->kvm = NULL;
			r->vm_err = r->ev_err = 0;
			if ((rc = run_one(r, m, c, err, errlen)))
				break;
			/* The next schedule: the last decision with an untried
			 * option, everything before it as taken. */
			for (d = (int)r->nr_dec - 1; d >= 0 && r->taken[d] + 1 >= r->options[d]; d--)
				;
			if (d < 0)
				break;
			memcpy(prefix, r->taken, (size_t)d);
			prefix[d] = (uint8_t)(r->taken[d] + 1);
			np = (unsigned)d + 1;
		}
		out->interleavings += c->interleavings;
		out->broken += c->broken;
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return rc;
}

int cli_race_print(FILE *f, const char *cpu, bool unlocked, const struct cli_race_result *r)
{
	fprintf(f, "race on %s: perf_event_open of a guest-including event on cpu1 against the "
		"first KVM_CREATE_VCPU of a mediated VM on cpu0%s\n", cpu,
		unlocked ? " (test-only variant: no perf_mediated_pmu_mutex)" : "");
	for (int k = 0; k < CLI_RACE_CASES; k++) {
		const struct cli_race_case *c = &r->c[k];

		fprintf(f, "%s: %" PRIu64 " interleavings; vCPU created and event EOPNOTSUPP %" PRIu64
			", vCPU EBUSY and event opened %" PRIu64 ", both %" PRIu64 ", neither %" PRIu64
			"; %" PRIu64 " broke an invariant\n", c->name, c->interleavings,
			c->outcomes[1][0], c->outcomes[0][1], c->outcomes[1][1], c->outcomes[0][0],
			c->broken);
		if (c->broken)
			fprintf(f, "  first: %s\n", c->first_bad);
	}
	fprintf(f, "explored %" PRIu64 " interleavings: %" PRIu64 " broke the exclusion invariant\n",
		r->interleavings, r->broken);
	return r->broken ? 1 : 0;
}

json_t *cli_race_json(const char *cpu, bool unlocked, const struct cli_race_result *r)
{
	json_t *cases = json_array();

	for (int k = 0; cases && k < CLI_RACE_CASES; k++) {
		const struct cli_race_case *c = &r->c[k];

		json_array_append_new(cases, json_pack(
			"{s:s, s:I, s:{s:I, s:I, s:I, s:I}, s:I, s:s}", "case", c->name,
			"interleavings", (json_int_t)c->interleavings, "outcomes",
			"created_eopnotsupp", (json_int_t)c->outcomes[1][0],
			"ebusy_opened", (json_int_t)c->outcomes[0][1],
			"both", (json_int_t)c->outcomes[1][1], "neither", (json_int_t)c->outcomes[0][0],
			"broken", (json_int_t)c->broken, "first_bad", c->first_bad));
	}
	return json_pack("{s:s, s:s, s:b, s:o, s:I, s:I}", "mode", "race", "cpu", cpu,
			 "unlocked", unlocked, "cases", cases,
			 "interleavings", (json_int_t)r->interleavings,
			 "broken", (json_int_t)r->broken);
}
