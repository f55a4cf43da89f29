/* cli_pool: forked workers that each send records back through a pipe,
 * for explore (cli_explore.c) and exhaustive exploration
 * (cli_exhaustive.c); the parent reads them in an order of its choosing. */
#ifndef CLI_POOL_H
#define CLI_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CLI_POOL_MAX_JOBS 256

struct cli_pool {
	unsigned jobs;
	pid_t pid[CLI_POOL_MAX_JOBS];
	int fd[CLI_POOL_MAX_JOBS];	/* the read end of worker w's pipe, -1 none */
};

/* Worker w of `jobs`: writes its records to `fd`, then _exit()s. */
typedef void (*cli_pool_worker_fn)(int fd, unsigned w, unsigned jobs, void *arg);

/* Forks `jobs` workers (at most CLI_POOL_MAX_JOBS); 0, or 2 with a message
 * (the workers already started are stopped). */
int cli_pool_start(struct cli_pool *p, unsigned jobs, cli_pool_worker_fn fn, void *arg,
		   char *err, size_t errlen);
/* Closes the pipes and reaps the workers, killing them first when asked. */
void cli_pool_stop(struct cli_pool *p, bool kill_them);
/* Closes worker w's pipe and reaps it; the message says how it ended. */
void cli_pool_reap(struct cli_pool *p, unsigned w, char *err, size_t errlen);

/* All n bytes, retrying after signals; 0, or -1 when the other end is
 * gone or the call failed. */
int cli_write_all(int fd, const void *buf, size_t n);
int cli_read_all(int fd, void *buf, size_t n);

#endif
