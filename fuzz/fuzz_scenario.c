/* fuzz_scenario: libFuzzer harness for the scenario parser: any bytes are
 * either a scenario or refused with one clean FILE:LINE line. */
#include <stddef.h>
#include <stdint.h>

#include "cli/cli_scenario.h"
#include "fuzz_contract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mv_scenario sc;
	static char err[CLI_ERR_MAX];

	err[0] = 0;
	if (cli_scenario_parse(FUZZ_FILE, (const char *)data, size, &sc, err, sizeof(err)))
		fuzz_check_error_line(err);
	return 0;
}
