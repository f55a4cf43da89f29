/* cli_json: the few JSON helpers reports use.  Documents are built and
 * printed by jansson; jansson's integers are signed 64-bit, so unsigned
 * values above 2^63 (seeds, counts) go through cli_json_u64 and are
 * printed exactly by cli_json_dumpf. */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* An unsigned integer, exact over all 64 bits once printed by
 * cli_json_dumpf: up to INT64_MAX a plain integer; above, a one-key marker
 * object (read it back with cli_json_u64_value).  NULL when out of memory. */
json_t *cli_json_u64(uint64_t v);

/* The value of a cli_json_u64 node or of a non-negative integer, else 0. */
uint64_t cli_json_u64_value(const json_t *v);

/* Prints `doc` as json_dumpf with CLI_JSON_FLAGS would, the markers as
 * plain integers, and a newline.  0, or -1 when out of memory or the write
 * failed. */
int cli_json_dumpf(const json_t *doc, FILE *f);

#endif
