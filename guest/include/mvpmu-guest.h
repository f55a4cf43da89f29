/* mvpmu-guest: a small freestanding runtime for guest programs that run
 * as real x86-64 code in mvpmu (docs/realcode.md): entry in long mode,
 * descriptor tables, exception and interrupt dispatch, a serial console,
 * MSR/RDPMC accessors that catch #GP (as KVM selftests' rdmsr_safe), the
 * PMU as CPUID describes it, user mode, SYSCALL, and exit through QEMU's
 * isa-debug-exit.  Programs define main(); its return value is the exit
 * code (mvpmu reports status (code << 1) | 1). */
#ifndef MVPMU_GUEST_H
#define MVPMU_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int main(void);

/* ---- exit and console ---- */

/* Ends the guest: isa-debug-exit, status (code << 1) | 1. */
__attribute__((noreturn)) void mvg_exit(unsigned code);
void mvg_putc(char c);
void mvg_puts(const char *s);
/* %d %i %u %x %X %c %s %p %%, with l/ll, width and 0-padding. */
int mvg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mvg_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int mvg_snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- interrupts and exceptions ---- */

/* The state an interrupt saved, as the handler sees (and may change) it. */
struct mvg_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*mvg_handler_fn)(struct mvg_regs *r);

/* Installs `fn` for `vector` (NULL: the default, which reports the
 * exception and exits with MVG_EXIT_UNHANDLED). */
void mvg_set_handler(unsigned vector, mvg_handler_fn fn);
#define MVG_EXIT_UNHANDLED 0x7E
#define MVG_NMI_VECTOR 2

static inline void mvg_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void mvg_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void mvg_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline uint64_t mvg_rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

/* ---- instructions ---- */

void mvg_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);

static inline uint64_t mvg_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void mvg_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t mvg_rdpmc(uint32_t ecx)
{
	uint32_t lo, hi;

	__asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(ecx) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* 0, or the vector of the fault the instruction raised (13 for #GP). */
int mvg_rdmsr_safe(uint32_t msr, uint64_t *val);
int mvg_wrmsr_safe(uint32_t msr, uint64_t val);
int mvg_rdpmc_safe(uint32_t ecx, uint64_t *val);
#define MVG_GP 13
#define MVG_UD 6

/* CR4.PCE: RDPMC allowed at CPL > 0. */
void mvg_set_cr4_pce(bool on);

/* ---- the PMU as CPUID describes it (FACTS.md s.1-2) ---- */

struct mvg_pmu {
	bool intel, amd;
	unsigned version;		/* Intel CPUID.0AH:EAX[7:0]; AMD 2 with PerfMonV2 */
	unsigned nr_gp, gp_width;
	unsigned nr_fixed, fixed_width;
	uint32_t fixed_exists;		/* bit i: fixed counter i exists */
	bool anythread_deprecated;
	bool pdcm, fw_write;
	uint64_t perf_caps;
	bool perfctr_core, perfmon_v2;
	bool has_global;		/* GLOBAL_CTRL/STATUS: Intel v2+, AMD PerfMonV2 */
	bool has_status_set;		/* Intel v4+, AMD PerfMonV2 */
};

void mvg_pmu_discover(struct mvg_pmu *p);
uint32_t mvg_sel_msr(const struct mvg_pmu *p, unsigned i);
uint32_t mvg_ctr_msr(const struct mvg_pmu *p, unsigned i);	/* Intel legacy PMCx */
uint32_t mvg_global_ctrl_msr(const struct mvg_pmu *p);
uint32_t mvg_global_status_msr(const struct mvg_pmu *p);
uint32_t mvg_global_clr_msr(const struct mvg_pmu *p);
uint32_t mvg_global_set_msr(const struct mvg_pmu *p);
/* The architectural encodings of instructions and branches retired. */
uint64_t mvg_ev_insns(const struct mvg_pmu *p);
uint64_t mvg_ev_branches(const struct mvg_pmu *p);

#define MVG_EVTSEL_USR	(1ULL << 16)
#define MVG_EVTSEL_OS	(1ULL << 17)
#define MVG_EVTSEL_INT	(1ULL << 20)
#define MVG_EVTSEL_EN	(1ULL << 22)

/* Local APIC LVTPC through the x2APIC MSRs (0x834), EOI (0x80B). */
#define MVG_LVT_NMI	(4u << 8)
#define MVG_LVT_MASKED	(1u << 16)
void mvg_lvtpc_set(uint32_t v);
uint32_t mvg_lvtpc_get(void);
void mvg_eoi(void);

/* ---- loops of a known length (guest/lib/measure.S) ---- */

/* WRMSR msr <- on, a loop of n iterations, WRMSR msr <- off: a counter
 * the writes enable and disable counts exactly these. */
void mvg_measure(uint32_t msr, uint64_t on, uint64_t off, uint64_t n);
#define MVG_MEASURE_INSNS(n) (2 * (uint64_t)(n) + 5)
#define MVG_MEASURE_BRANCHES(n) ((uint64_t)(n))
/* mvg_run_user(mvg_user_loop, (void *)n): instructions and branches
 * retired at CPL 3. */
void mvg_user_loop(void *n);
#define MVG_RUN_USER_LOOP_INSNS(n) (2 * (uint64_t)(n) + 6)
#define MVG_RUN_USER_LOOP_BRANCHES(n) ((uint64_t)(n) + 3)

/* ---- user mode and SYSCALL ---- */

/* Runs fn(arg) at CPL 3 on a user stack; returns when fn returns. */
void mvg_run_user(void (*fn)(void *), void *arg);
/* SYSCALL enabled (EFER.SCE, STAR, LSTAR, SFMASK = IF|TF|DF); each
 * SYSCALL from user mode calls handler(nr, arg) at CPL 0 and returns its
 * value in RAX through SYSRET. */
void mvg_syscall_setup(uint64_t (*handler)(uint64_t nr, uint64_t arg));
static inline uint64_t mvg_syscall(uint64_t nr, uint64_t arg)
{
	uint64_t ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(arg) : "rcx", "r11", "memory");
	return ret;
}

#endif
