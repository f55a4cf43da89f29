/* rc_test: running a guest image (guest/tests/NAME.elf, built by make) as the
 * command runs it, on a model and vPMU, and reading what it printed.
 * Header-only so each test binary stands alone. */
#ifndef RC_TEST_H
#define RC_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_run.h"
#include "cli/cli_scenario.h"

#ifndef MV_GUEST_DIR
#define MV_GUEST_DIR "build/guest"
#endif

static const char *const rc_models[] = {
	"skylake", "icelake", "sapphirerapids", "zen3", "zen4", "zen5",
};
#define RC_NR_MODELS (sizeof(rc_models) / sizeof(rc_models[0]))
static const enum mv_vpmu rc_vpmus[] = { MV_VPMU_NONE, MV_VPMU_EMULATED, MV_VPMU_MEDIATED };

static struct mv_scenario rc_sc;
static struct mv_result rc_res;
static char rc_text[MV_SERIAL_MAX + 1];

/* The one-VM scenario of `mvpmu run --image PATH --cpu CPU --vpmu VP`. */
static inline void rc_scenario_path(const char *path, const char *cpu, enum mv_vpmu vp)
{
	char err[512];

	if (cli_scenario_image(path, 0, &rc_sc, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(rc_sc.cpu, sizeof(rc_sc.cpu), "%s", cpu);
	rc_sc.vpmu = vp;
	rc_sc.vm[0].vpmu = vp;
	rc_sc.vm[0].vpmu_set = true;
}

/* guest/tests/NAME.elf */
static inline void rc_scenario(const char *name, const char *cpu, enum mv_vpmu vp)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/%s.elf", MV_GUEST_DIR, name);
	rc_scenario_path(path, cpu, vp);
}

/* Runs the scenario set up by rc_scenario(); the image's result, with
 * no invariant broken. */
static inline const struct mv_image_result *rc_go(void)
{
	char err[512];

	if (cli_run_scenario(&rc_sc, &rc_res, NULL, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	if (rc_res.inv_violated)
		fail_msg("%s on %s: invariant violated: %s", rc_sc.name, rc_sc.cpu,
			 rc_res.violations[0].msg);
	assert_int_equal(rc_res.nr_images, 1);
	memcpy(rc_text, rc_res.images[0].serial, rc_res.images[0].serial_len);
	rc_text[rc_res.images[0].serial_len] = '\0';
	return &rc_res.images[0];
}

static inline const struct mv_image_result *rc_run(const char *name, const char *cpu,
						   enum mv_vpmu vp)
{
	rc_scenario(name, cpu, vp);
	return rc_go();
}

/* The value of "key=value" in the serial output (words split by spaces
 * and newlines); fails the test when absent. */
static inline const char *rc_str(const char *key)
{
	static char val[128];
	size_t kl = strlen(key);
	const char *s = rc_text;

	while ((s = strstr(s, key))) {
		bool start = s == rc_text || s[-1] == ' ' || s[-1] == '\n';

		if (start && s[kl] == '=') {
			size_t n = strcspn(s + kl + 1, " \n");

			snprintf(val, sizeof(val), "%.*s", (int)n, s + kl + 1);
			return val;
		}
		s += kl;
	}
	fail_msg("%s on %s: no %s= in the serial output:\n%s", rc_sc.name, rc_sc.cpu, key, rc_text);
	return "";
}

static inline long long rc_num(const char *key)
{
	return strtoll(rc_str(key), NULL, 0);
}

static inline const struct mv_symbol_result *rc_sym(const struct mv_image_result *im,
						    const char *name)
{
	for (unsigned i = 0; i < im->nr_sym; i++)
		if (!strcmp(im->sym[i].name, name))
			return &im->sym[i];
	fail_msg("%s: no symbol %s retired anything", rc_sc.name, name);
	return NULL;
}

static inline bool rc_is_vm(enum mv_vpmu vp)
{
	return vp != MV_VPMU_NONE;
}

#endif
