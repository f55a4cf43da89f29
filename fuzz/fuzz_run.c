/* fuzz_run: libFuzzer harness for the whole run path: parse, build the
 * machine, run it under a small budget (so every input is quick), report
 * as text and JSON.  Refusals at parse or build time must keep the error-
 * line contract; invariant violations are results, not failures. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli_report.h"
#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "fuzz_contract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mv_scenario sc;
	static struct mv_result res;
	static char err[CLI_ERR_MAX];
	static FILE *null;

	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	if (cli_scenario_parse(FUZZ_FILE, (const char *)data, size, &sc, err, sizeof(err))) {
		fuzz_check_error_line(err);
		return 0;
	}
	/* Capped work: the budget stops long scenarios early. */
	sc.budget = (struct mv_budget){ 50000000, 50000000, 20000 };
	if (cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err))) {
		fuzz_check_error_line(err);
		return 0;
	}
	cli_report_text(null, &res);
	if (cli_report_json_write(null, &res))
		abort();
	return 0;
}
