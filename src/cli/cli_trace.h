/* cli_trace: exports trace records as Chrome trace-event JSON, the format
 * ui.perfetto.dev and chrome://tracing open (docs/cli.md), streamed to a
 * file while the run goes. */
#ifndef CLI_TRACE_H
#define CLI_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "sim/sim_trace.h"

/* Simulated cycles per microsecond of the timeline (a 3 GHz clock). */
#define CLI_TRACE_CYCLES_PER_US 3000.0

/* Writes one JSON document {"traceEvents": [...], "displayTimeUnit": "ns"}
 * for records rec[0..n-1], event by event.  0 or -1.  A streamed trace of
 * the same records is the same text. */
int cli_trace_write(FILE *f, const struct sim_trace_rec *rec, size_t n);

/* A trace being streamed to a file. */
struct cli_trace_out;

/* Opens `path` ("-": standard output) and writes the document's start, so
 * that a bad path is an error before the run; NULL with a one-line
 * message in `err` when it cannot. */
struct cli_trace_out *cli_trace_open(const char *path, char *err, size_t errlen);
/* The sink to give the run (sim_trace_stream): each batch of records is
 * formatted and written as it arrives. */
struct sim_trace_sink cli_trace_sink(struct cli_trace_out *o);
/* Ends the document and closes the file.  0, or -1 when any write failed
 * (the file is incomplete), with a one-line message in `err`. */
int cli_trace_close(struct cli_trace_out *o, char *err, size_t errlen);

/* 1 when `path` names the file `st` describes (same device and inode),
 * else 0 (also when `path` does not exist). */
int cli_trace_same_file(const char *path, const struct stat *st);

#endif
