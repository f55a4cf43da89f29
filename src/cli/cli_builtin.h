/* cli_builtin: the built-in scenarios, the files under scenarios/ embedded
 * at build time (src/cli/cli_builtin_gen.awk), and name-or-file lookup. */
#ifndef CLI_BUILTIN_H
#define CLI_BUILTIN_H

#include <stddef.h>

#include "mvpmu/scenario.h"

struct cli_builtin {
	const char *name;	/* the file's base name */
	const char *path;	/* where it came from, for messages */
	const char *text;	/* the YAML */
	size_t len;
};

/* In file-name order, ending with an all-zero entry. */
extern const struct cli_builtin cli_builtins[];
extern const size_t cli_nr_builtins;

const struct cli_builtin *cli_builtin_find(const char *name);

/* `arg` is read as a file when one exists at that path, else as a
 * built-in name.  Returns 0, or 2 with a one-line message in `err`. */
int cli_scenario_lookup(const char *arg, struct mv_scenario *sc,
			char *err, size_t errlen);

#endif
