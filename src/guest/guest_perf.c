/* guest_perf: the guest kernel's perf instance: the shared perf code
 * reaching its PMU only through the guest API of each vCPU. */
#include <stdlib.h>
#include <string.h>

#include "guest/guest_prog.h"
#include "host/perf_internal.h"

/* One CPU of the guest kernel as perf's hw_ops and the PMI handler see it. */
struct guest_perf_cpu {
	struct perf *perf;
	struct mv_guest *g;
	int idx;
};

struct guest_perf_binding {
	struct guest_perf_cpu cpu[PERF_MAX_CPUS];
};

static struct mv_guest *G(void *hw)
{
	return ((struct guest_perf_cpu *)hw)->g;
}

static int gp_wrmsr(void *hw, uint32_t msr, uint64_t val)
{
	return mv_wrmsr_safe(G(hw), msr, val);
}

static int gp_rdmsr(void *hw, uint32_t msr, uint64_t *val)
{
	return mv_rdmsr_safe(G(hw), msr, val);
}

static void gp_cpuid(void *hw, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	mv_cpuid(G(hw), leaf, sub, r);
}

static const char *gp_cur_label(void *hw)
{
	return G(hw)->label;
}

static bool gp_cur_kernel(void *hw)
{
	return G(hw)->kernel;
}

/* The driver only needs the microarchitecture for its PMI ack point, so
 * the CPUID signature is mapped back to the preset names it knows. */
static const char *model_from_cpuid(struct mv_guest *g)
{
	static const struct { unsigned model; const char *name; } intel[] = {
		{ 0x55, "skylake" }, { 0x6A, "icelake" },
		{ 0x8F, "sapphirerapids" },
	};
	uint32_t r[4];
	char vendor[13];

	mv_cpuid(g, 0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = '\0';
	if (!strcmp(vendor, "AuthenticAMD"))
		return "amd";
	if (strcmp(vendor, "GenuineIntel"))
		return NULL;
	mv_cpuid(g, 1, 0, r);
	unsigned family = (r[0] >> 8) & 0xF;
	unsigned model = ((r[0] >> 4) & 0xF) | ((r[0] >> 12) & 0xF0);

	if (family != 6)
		return NULL;
	for (size_t i = 0; i < sizeof(intel) / sizeof(intel[0]); i++)
		if (intel[i].model == model)
			return intel[i].name;
	return NULL;
}

static const char *gp_model_name(void *hw)
{
	return model_from_cpuid(G(hw));
}

static const struct perf_hw_ops guest_perf_ops = {
	.wrmsr = gp_wrmsr, .rdmsr = gp_rdmsr, .cpuid = gp_cpuid,
	.cur_label = gp_cur_label, .cur_kernel = gp_cur_kernel,
	.model_name = gp_model_name,
};

/* The guest kernel's PMU interrupt: whatever vector LVTPC names, it is
 * handed to perf, which tells whether the PMU raised it. */
static void guest_pmi(struct mv_guest *g, unsigned vector, void *arg)
{
	struct guest_perf_cpu *c = arg;

	(void)g; (void)vector;
	perf_pmi(c->perf, c->idx);
}

void guest_perf_set_ack(struct perf *perf, unsigned ack)
{
	static const enum perf_ack acks[] = { PERF_ACK_EARLY, PERF_ACK_MID, PERF_ACK_LATE };

	if (perf && ack >= 1 && ack <= 3)
		perf_x86_set_ack(perf, acks[ack - 1]);
}

static void binding_free(void *b)
{
	free(b);
}

struct perf *guest_perf_new(struct sim *sim, int ctx, struct mv_guest *gs[],
			    int nr)
{
	struct guest_perf_binding *b;
	void *hw[PERF_MAX_CPUS];
	struct perf *perf;

	if (nr <= 0 || nr > PERF_MAX_CPUS)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	for (int i = 0; i < nr; i++) {
		b->cpu[i].g = gs[i];
		b->cpu[i].idx = i;
		hw[i] = &b->cpu[i];
	}
	perf = perf_new(sim, ctx, nr, &guest_perf_ops, hw);
	if (!perf) {
		free(b);
		return NULL;
	}
	/* The binding lives as long as the instance: perf frees it. */
	perf->host = b;
	perf->host_free = binding_free;
	for (int i = 0; i < nr; i++) {
		b->cpu[i].perf = perf;
		mv_set_irq_handler(gs[i], guest_pmi, &b->cpu[i]);
	}
	return perf;
}
