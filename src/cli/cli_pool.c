/* cli_pool: forked workers and whole reads and writes through their pipes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_pool.h"

void cli_pool_stop(struct cli_pool *p, bool kill_them)
{
	for (unsigned w = 0; w < p->jobs; w++) {
		if (p->fd[w] >= 0)
			close(p->fd[w]);
		p->fd[w] = -1;
		if (p->pid[w] > 0) {
			if (kill_them)
				kill(p->pid[w], SIGTERM);
			while (waitpid(p->pid[w], NULL, 0) < 0 && errno == EINTR)
				;
		}
		p->pid[w] = 0;
	}
}

int cli_pool_start(struct cli_pool *p, unsigned jobs, cli_pool_worker_fn fn, void *arg,
		   char *err, size_t errlen)
{
	p->jobs = jobs > CLI_POOL_MAX_JOBS ? CLI_POOL_MAX_JOBS : jobs;
	for (unsigned w = 0; w < p->jobs; w++) {
		p->fd[w] = -1;
		p->pid[w] = 0;
	}
	/* Nothing buffered may be printed twice by a child. */
	fflush(NULL);
	for (unsigned w = 0; w < p->jobs; w++) {
		int fds[2];

		if (pipe(fds)) {
			snprintf(err, errlen, "cannot start worker %u: %s", w + 1, strerror(errno));
			cli_pool_stop(p, true);
			return 2;
		}
		p->pid[w] = fork();
		if (p->pid[w] == 0) {
			close(fds[0]);
			for (unsigned o = 0; o < w; o++)
				close(p->fd[o]);
			fn(fds[1], w, p->jobs, arg);
			_exit(0);
		}
		close(fds[1]);
		if (p->pid[w] < 0) {
			snprintf(err, errlen, "cannot start worker %u: %s", w + 1, strerror(errno));
			close(fds[0]);
			p->pid[w] = 0;
			cli_pool_stop(p, true);
			return 2;
		}
		p->fd[w] = fds[0];
	}
	return 0;
}

void cli_pool_reap(struct cli_pool *p, unsigned w, char *err, size_t errlen)
{
	int status = 0;

	if (p->fd[w] >= 0)
		close(p->fd[w]);
	p->fd[w] = -1;
	while (p->pid[w] > 0 && waitpid(p->pid[w], &status, 0) < 0 && errno == EINTR)
		;
	p->pid[w] = 0;
	if (WIFSIGNALED(status))
		snprintf(err, errlen, "worker %u died (signal %d)", w + 1, WTERMSIG(status));
	else
		snprintf(err, errlen, "worker %u stopped (status %d)", w + 1,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int cli_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cli_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
