/* cli_trace: exports trace records as Chrome trace-event JSON, the format
 * ui.perfetto.dev and chrome://tracing open (docs/cli.md). */
#ifndef CLI_TRACE_H
#define CLI_TRACE_H

#include <stddef.h>
#include <stdio.h>

#include "sim/sim_trace.h"

/* Simulated cycles per microsecond of the timeline (a 3 GHz clock). */
#define CLI_TRACE_CYCLES_PER_US 3000.0

/* Writes one JSON document {"traceEvents": [...], "displayTimeUnit": "ns"}
 * event by event, so long traces need no tree in memory.  0 or -1. */
int cli_trace_write(FILE *f, const struct sim_trace_rec *rec, size_t n);

/* Same, to a file at `path`; on failure a one-line message in `err`. */
int cli_trace_write_file(const char *path, const struct sim_trace_rec *rec,
			 size_t n, char *err, size_t errlen);

#endif
