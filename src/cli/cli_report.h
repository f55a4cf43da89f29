/* cli_report: a run's result as a perf-like text report or as the JSON
 * document of DESIGN.md's command-line contract; and the three-way comparison. */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "mvpmu/scenario.h"

/* Output flags for json_dumpf: stable key order, readable numbers. */
#define CLI_JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

void cli_report_text(FILE *f, const struct mv_result *res);

/* A new reference to the report document (NULL only when out of memory). */
json_t *cli_report_json(const struct mv_result *res);

/* Writes the JSON report followed by a newline; 0 or -1. */
int cli_report_json_write(FILE *f, const struct mv_result *res);

/* Violations, one block each, for stderr. */
void cli_report_violations(FILE *f, const struct mv_result *res);

/* The same scenario run bare metal, emulated and mediated: res[0..2]. */
void cli_compare_text(FILE *f, const struct mv_result res[3]);
json_t *cli_compare_json(const struct mv_result res[3]);

#endif
