/* cli_builtin: finds a built-in scenario by name, or reads a scenario file
 * when the argument names one. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_builtin.h"
#include "cli_scenario.h"
#include "cli_text.h"

const struct cli_builtin *cli_builtin_find(const char *name)
{
	for (size_t i = 0; i < cli_nr_builtins; i++)
		if (!strcmp(cli_builtins[i].name, name))
			return &cli_builtins[i];
	return NULL;
}

int cli_scenario_lookup(const char *arg, struct mv_scenario *sc,
			char *err, size_t errlen)
{
	const struct cli_builtin *b;
	struct stat st;

	/* A file wins so that users can shadow a built-in with their copy;
	 * anything else that exists (FIFO, device, directory) is refused by
	 * the loader, except a directory named like a built-in. */
	b = cli_builtin_find(arg);
	if (!stat(arg, &st) && !(b && S_ISDIR(st.st_mode)))
		return cli_scenario_load(arg, sc, err, errlen);
	if (!b) {
		char name[CLI_ERR_MAX / 2];

		cli_escape_str(name, sizeof(name), arg, 0);
		snprintf(err, errlen,
			 "unknown scenario '%s': not a file nor a built-in (see mvpmu scenarios)",
			 name);
		return 2;
	}
	return cli_scenario_parse(b->path, b->text, b->len, sc, err, errlen);
}
