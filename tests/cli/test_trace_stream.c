/* test_trace_stream: `--trace FILE` streams the run to FILE while it goes
 * (docs/cli.md).  The streamed file of a built-in must be, byte for byte,
 * what the formatter before issue 10 wrote from the whole array of the
 * same run's records (tests/cli/trace_ref.h keeps it); a write that fails
 * is reported, never silent; the same-file check compares inodes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli_builtin.h"
#include "cli/cli_run.h"
#include "cli/cli_trace.h"
#include "trace_ref.h"

static struct mv_scenario sc;
static struct mv_result res;
static char dir[] = "/tmp/test_trace_stream.XXXXXX";

static void load(const char *name, const char *cpu, int vpmu)
{
	char err[256];

	assert_int_equal(cli_scenario_lookup(name, &sc, err, sizeof(err)), 0);
	if (cpu)
		snprintf(sc.cpu, sizeof(sc.cpu), "%s", cpu);
	if (vpmu >= 0) {
		sc.vpmu = (enum mv_vpmu)vpmu;
		for (unsigned i = 0; i < sc.nr_vms; i++) {
			sc.vm[i].vpmu = sc.vpmu;
			sc.vm[i].vpmu_set = true;
		}
	}
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The old formatter's text for the records of `sc` (kept in memory). */
static char *reference(uint64_t *hash, size_t *len)
{
	struct sim_trace_rec *rec = NULL;
	struct ref_rec *old;
	size_t n;
	char err[256], *text = NULL;
	FILE *f;

	sc.keep_trace = true;
	assert_int_equal(cli_run_scenario(&sc, &res, &rec, &n, err, sizeof(err)), 0);
	sc.keep_trace = false;
	*hash = res.trace_hash;
	old = calloc(n + 1, sizeof(*old));
	assert_non_null(old);
	for (size_t i = 0; i < n; i++)
		old[i] = ref_rec_of(&rec[i]);
	f = open_memstream(&text, len);
	assert_non_null(f);
	assert_int_equal(ref_trace_write(f, old, n), 0);
	fclose(f);
	free(old);
	free(rec);
	return text;
}

static void stream_equals_reference(const char *name, const char *cpu, int vpmu)
{
	char path[64], err[512];
	struct cli_trace_out *out;
	struct sim_trace_sink sink;
	size_t ref_len, len;
	uint64_t hash;
	char *ref, *got;

	load(name, cpu, vpmu);
	ref = reference(&hash, &ref_len);
	snprintf(path, sizeof(path), "%s/t.json", dir);
	out = cli_trace_open(path, err, sizeof(err));
	assert_non_null(out);
	sink = cli_trace_sink(out);
	assert_int_equal(cli_run_scenario_stream(&sc, &res, &sink, err, sizeof(err)), 0);
	assert_int_equal(cli_trace_close(out, err, sizeof(err)), 0);
	assert_int_equal(res.trace_hash, hash);
	got = read_file(path, &len);
	if (len != ref_len || memcmp(got, ref, len)) {
		size_t i = 0;

		while (i < len && i < ref_len && got[i] == ref[i])
			i++;
		fail_msg("%s: streamed trace differs from the old formatter's at byte %zu of %zu/%zu",
			 name, i, len, ref_len);
	}
	free(got);
	free(ref);
	unlink(path);
}

static void test_stream_equals_old_formatter(void **state)
{
	(void)state;
	stream_equals_reference("host-and-guest", NULL, -1);	/* ~64k records */
	stream_equals_reference("host-and-guest", "zen4", MV_VPMU_EMULATED);
	stream_equals_reference("rr-ticks", "skylake", -1);
	stream_equals_reference("emulated-instructions", "icelake", -1);
	stream_equals_reference("filter-deny", NULL, -1);
}

/* The whole-array writer and the stream write the same text. */
static void test_whole_array_writer_equals_reference(void **state)
{
	struct sim_trace_rec *rec = NULL;
	size_t n, len, ref_len;
	uint64_t hash;
	char err[256], *text = NULL, *ref;
	FILE *f;

	(void)state;
	load("rr-ticks", NULL, -1);
	ref = reference(&hash, &ref_len);
	sc.keep_trace = true;
	assert_int_equal(cli_run_scenario(&sc, &res, &rec, &n, err, sizeof(err)), 0);
	f = open_memstream(&text, &len);
	assert_int_equal(cli_trace_write(f, rec, n), 0);
	fclose(f);
	assert_int_equal(len, ref_len);
	assert_memory_equal(text, ref, len);
	free(text);
	free(ref);
	free(rec);
}

/* /dev/full accepts the open and fails every write: the close says so. */
static void test_write_error_is_reported(void **state)
{
	char err[512] = "";
	struct cli_trace_out *out = cli_trace_open("/dev/full", err, sizeof(err));
	struct sim_trace_sink sink;

	(void)state;
	assert_non_null(out);
	load("rr-ticks", NULL, -1);
	sink = cli_trace_sink(out);
	assert_int_equal(cli_run_scenario_stream(&sc, &res, &sink, err, sizeof(err)), 0);
	assert_int_equal(cli_trace_close(out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/dev/full: trace incomplete"));
	assert_non_null(strstr(err, strerror(ENOSPC)));
	assert_null(strchr(err, '\n'));
}

/* A path that cannot be opened is refused before any run. */
static void test_bad_path_refused_at_open(void **state)
{
	char path[80], err[512] = "";

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-dir/t.json", dir);
	assert_null(cli_trace_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_null(cli_trace_open(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "Is a directory"));
}

static void test_same_file_by_inode(void **state)
{
	char a[80], b[80], sym[80], hard[80];
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(a, sizeof(a), "%s/a.yaml", dir);
	snprintf(b, sizeof(b), "%s/b.yaml", dir);
	snprintf(sym, sizeof(sym), "%s/sym.yaml", dir);
	snprintf(hard, sizeof(hard), "%s/hard.yaml", dir);
	f = fopen(a, "w");
	assert_non_null(f);
	fclose(f);
	f = fopen(b, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(symlink(a, sym), 0);
	assert_int_equal(link(a, hard), 0);
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(cli_trace_same_file(a, &st), 1);
	assert_int_equal(cli_trace_same_file(sym, &st), 1);
	assert_int_equal(cli_trace_same_file(hard, &st), 1);
	assert_int_equal(cli_trace_same_file(b, &st), 0);
	assert_int_equal(cli_trace_same_file(dir, &st), 0);
	snprintf(b, sizeof(b), "%s/none.yaml", dir);
	assert_int_equal(cli_trace_same_file(b, &st), 0);
	unlink(sym);
	unlink(hard);
	unlink(a);
	snprintf(b, sizeof(b), "%s/b.yaml", dir);
	unlink(b);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_equals_old_formatter),
		cmocka_unit_test(test_whole_array_writer_equals_reference),
		cmocka_unit_test(test_write_error_is_reported),
		cmocka_unit_test(test_bad_path_refused_at_open),
		cmocka_unit_test(test_same_file_by_inode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
