/* fuzz_contract: the error-line contract every fuzz harness checks: a
 * refused input gets exactly one line "fuzz.yaml:LINE: message", with no
 * control characters and valid UTF-8 (docs/scenarios.md "Errors"). */
#ifndef FUZZ_CONTRACT_H
#define FUZZ_CONTRACT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_text.h"

#define FUZZ_FILE "fuzz.yaml"

static inline void fuzz_check_error_line(const char *err)
{
	const char *p = err + strlen(FUZZ_FILE ":");
	int ok = !strncmp(err, FUZZ_FILE ":", strlen(FUZZ_FILE ":")) &&
		 *p >= '1' && *p <= '9';

	while (ok && *p >= '0' && *p <= '9')
		p++;
	ok = ok && p[0] == ':' && p[1] == ' ' && p[2] &&
	     cli_text_clean(err, strlen(err));
	if (!ok) {
		fprintf(stderr, "broken error-line contract: [%s]\n", err);
		abort();
	}
}

#endif
