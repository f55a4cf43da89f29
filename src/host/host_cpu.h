/* host_cpu: binds the host kernel's perf to simulated CPUs: the perf_hw_ops
 * that reach a struct hw_cpu directly, and the host's IRQ/NMI dispatch. */
#ifndef HOST_CPU_H
#define HOST_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "host/perf.h"
#include "hw/hw_cpu.h"

#define HOST_MAX_NMI_HANDLERS 8
#define HOST_NR_VECTORS 256

/* An NMI handler in the chain; returns true when the NMI was its. */
typedef bool (*host_nmi_fn)(void *arg, int cpu);
/* A handler of one IRQ vector (it EOIs itself, as Linux handlers do). */
typedef void (*host_irq_fn)(void *arg, int cpu, unsigned vector);

/* Every hw_ops callback takes a `struct hw_cpu *` as `hw`. */
extern const struct perf_hw_ops host_hw_ops;

/* Creates the host perf instance (context 0) on cpus[0..n-1] and installs
 * the host interrupt dispatch in each CPU's hooks.intr.  CPU i of perf is
 * cpus[i].  perf's PMU NMI handler is first in the NMI chain; vector 0xF5
 * goes to perf_guest_pmi_irq.  perf_free(p) releases everything. */
struct perf *host_perf_new(struct sim *sim, struct hw_cpu *cpus[], int n);

/* More NMI handlers (after perf's) and IRQ vectors.  false: no room/bad. */
bool host_register_nmi(struct perf *p, host_nmi_fn fn, void *arg);
bool host_register_irq(struct perf *p, unsigned vector, host_irq_fn fn,
		       void *arg);
/* The host's interrupt entry (what hooks.intr points at); exposed so a
 * hypervisor can hand over an interrupt it took on VM-exit. */
void host_handle_intr(struct perf *p, int cpu, unsigned vector, bool nmi);
/* perf CPU index of a hw CPU, -1 when not bound. */
int host_cpu_index(const struct perf *p, const struct hw_cpu *hw);

struct host_stats {
	uint64_t nmis, unknown_nmis;
	uint64_t irqs, spurious_irqs, deferred_irqs;
};
void host_get_stats(const struct perf *p, struct host_stats *out);

#endif
