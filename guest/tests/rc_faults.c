/* rc_faults: exceptions delivered through the guest's IDT with the
 * vector, error code and CR2 the SDM gives (vol. 3 ch. 6), including two
 * faults in a row (no double fault) and INT n checked against the gate's
 * DPL from user mode. */
#include "mvpmu-guest.h"

static volatile unsigned bp_hits;
static volatile uint64_t bp_rip;
static volatile uint64_t last_err, last_cr2;
static volatile int user_vec;

/* A faulting instruction resumes after itself (the runtime's table). */
#define TRY(insn, ...)							\
	__extension__({							\
		extern volatile int mvg_fault_vec;			\
		mvg_fault_vec = -1;					\
		__asm__ volatile("1: " insn "\n2:\n\t"			\
				 ".pushsection .mvg_extable, \"aw\"\n\t"	\
				 ".balign 8\n\t.quad 1b, 2b\n\t.popsection" \
				 __VA_ARGS__);				\
		mvg_fault_vec;						\
	})

static void gp(struct mvg_regs *r)
{
	extern volatile int mvg_fault_vec;

	last_err = r->error;
	mvg_fault_vec = 13;
	r->rip += 2;	/* every #GP here is a 2-byte instruction */
}

static void pf(struct mvg_regs *r)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	last_err = r->error;
	last_cr2 = cr2;
	r->rip += 3;	/* mov (%rax), %rbx: 3 bytes */
}

static void bp(struct mvg_regs *r)
{
	bp_hits++;
	bp_rip = r->rip;
}

/* INT 0x40 at CPL 3 through a DPL 0 gate: #GP(0x40 * 8 + 2). */
static void user_int(void *arg)
{
	extern volatile int mvg_fault_vec;

	(void)arg;
	mvg_fault_vec = -1;
	__asm__ volatile("int $0x40" ::: "memory");
	user_vec = mvg_fault_vec;
}

extern char after_int3[];

int main(void)
{
	uint64_t v, *pd, saved;
	int f1, f2;

	mvg_printf("gp_msr=%d\n", mvg_rdmsr_safe(0x12345678, &v));
	mvg_printf("ud=%d\n", TRY("ud2", ::: "memory"));
	f1 = TRY("div %%rcx", :: "a"(1), "d"(0), "c"(0) : "memory");
	f2 = TRY("div %%rcx", :: "a"(1), "d"(0), "c"(0) : "memory");
	mvg_printf("de=%d de_again=%d\n", f1, f2);

	/* #GP(selector): the selector is beyond the GDT's limit. */
	mvg_set_handler(13, gp);
	__asm__ volatile("mov %%ax, %%ds" :: "a"(0x1234) : "memory");
	mvg_printf("gp_selector_error=%#lx\n", last_err);
	mvg_set_handler(13, NULL);

	/* Not present: clear P of the 2 MiB page at 8 MiB in the boot map. */
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	pd = (uint64_t *)(*(uint64_t *)(*(uint64_t *)(v & ~0xFFFULL) & ~0xFFFULL) & ~0xFFFULL);
	saved = pd[4];
	pd[4] &= ~1ULL;
	__asm__ volatile("invlpg (%0)" :: "r"(0x800000ULL) : "memory");
	mvg_set_handler(14, pf);
	__asm__ volatile("mov (%%rax), %%rbx" :: "a"(0x800010ULL) : "rbx", "memory");
	pd[4] = saved;
	__asm__ volatile("invlpg (%0)" :: "r"(0x800000ULL) : "memory");
	mvg_printf("pf_error=%#lx pf_cr2=%#lx\n", last_err, last_cr2);
	mvg_set_handler(14, NULL);

	mvg_set_handler(3, bp);
	__asm__ volatile("int3\n.globl after_int3\nafter_int3:" ::: "memory");
	mvg_printf("bp_hits=%u bp_rip_ok=%d\n", bp_hits, bp_rip == (uint64_t)after_int3);

	mvg_set_handler(13, gp);
	last_err = 0;
	mvg_run_user(user_int, NULL);
	mvg_printf("user_int_vec=%d user_int_error=%#lx\n", user_vec, last_err);
	return 0;
}
