/* cli_pipe: whole reads and writes on a pipe, for the forked workers of
 * explore (cli_explore.c) and exhaustive exploration (cli_exhaustive.c). */
#ifndef CLI_PIPE_H
#define CLI_PIPE_H

#include <stddef.h>

/* All n bytes, retrying after signals; 0, or -1 when the other end is
 * gone or the call failed. */
int cli_write_all(int fd, const void *buf, size_t n);
int cli_read_all(int fd, void *buf, size_t n);

#endif
