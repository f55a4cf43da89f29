/* rc_count: which instructions count as retired, branches and
 * conditional branches (docs/realcode.md "Counting").  body() is a known
 * sequence; the host test checks its truth per symbol, and the counters
 * this program reads around it, against the numbers below. */
#include "mvpmu-guest.h"

/* body(): 29 instructions, 15 branches of which 9 conditional, counted
 * line by line in the comments: every conditional branch counts whether
 * taken or not, LOOP and JRCXZ are conditional branches, JMP (direct or
 * indirect), CALL and RET are branches, and a REP string instruction is
 * one instruction however many times it repeats. */
__asm__(
	".text\n"
	".globl body\n"
	".type body, @function\n"
	"body:\n\t"
	"nop\n\t"				/* 1 */
	"mov $3, %ecx\n"			/* 2 */
	"1:\tdec %ecx\n\t"			/* 3 x 2 = 6 -> 8, cond 3 */
	"jnz 1b\n\t"
	"xor %eax, %eax\n\t"			/* 9 */
	"test %eax, %eax\n\t"			/* 10 */
	"jz 2f\n\t"				/* 11, cond 4 (taken) */
	"nop\n"					/* skipped */
	"2:\tjnz 3f\n"				/* 12, cond 5 (not taken) */
	"3:\tjmp 4f\n"				/* 13, br 6 */
	"4:\tlea 5f(%rip), %rax\n\t"		/* 14 */
	"jmp *%rax\n"				/* 15, br 7 */
	"5:\tcall 6f\n\t"			/* 16, br 8 */
	"jmp 7f\n"				/* 18, br 10 (after the ret) */
	"6:\tret\n"				/* 17, br 9 */
	"7:\tmov $2, %ecx\n"			/* 19 */
	"8:\tloop 8b\n\t"			/* 20, 21, cond 6, 7 */
	"xor %ecx, %ecx\n\t"			/* 22 */
	"jrcxz 9f\n"				/* 23, cond 8 (taken) */
	"9:\tmov $1, %ecx\n\t"			/* 24 */
	"jrcxz 10f\n"				/* 25, cond 9 (not taken) */
	"10:\tlea body_buf(%rip), %rdi\n\t"	/* 26 */
	"mov $16, %ecx\n\t"			/* 27 */
	"rep stosb\n\t"				/* 28 */
	"ret\n"					/* 29, br 15 */
	".size body, . - body\n"
	".bss\n"
	"body_buf: .skip 16\n"
	".text\n");

#define BODY_INSNS 29
#define BODY_BRANCHES 15
#define BODY_COND 9

extern void body(void);

static struct mvg_pmu pmu;

/* Runs body() between an enabling and a disabling write of `msr`: the
 * region counted is the call, body (its ret included), 3 movs and the
 * disabling WRMSR: BODY + 5 instructions, BODY + 1 branches
 * (FACTS.md s.8: the enabling write is not counted, the disabling one is;
 * under KVM, where the write is intercepted, it is the other way round
 * and the total is the same). */
static void region(uint32_t msr, uint64_t on, uint64_t off)
{
	register uint64_t lo __asm__("r8") = (uint32_t)off;
	register uint64_t hi __asm__("r9") = off >> 32;
	register uint64_t m __asm__("r10") = msr;

	uint64_t eax = (uint32_t)on, edx = on >> 32;

	__asm__ volatile("wrmsr\n\t"
			 "call body\n\t"
			 "mov %%r8d, %%eax\n\t"
			 "mov %%r9d, %%edx\n\t"
			 "mov %%r10d, %%ecx\n\t"
			 "wrmsr"
			 : "+c"(msr), "+a"(eax), "+d"(edx)
			 : "r"(lo), "r"(hi), "r"(m)
			 : "rdi", "cc", "memory");
}

static uint64_t measure(unsigned ctr, uint64_t event)
{
	uint64_t sel = event | MVG_EVTSEL_OS | MVG_EVTSEL_USR | MVG_EVTSEL_EN, v;

	mvg_wrmsr(mvg_ctr_msr(&pmu, ctr), 0);
	if (pmu.has_global) {
		mvg_wrmsr(mvg_sel_msr(&pmu, ctr), sel);
		region(mvg_global_ctrl_msr(&pmu), 1ULL << ctr, 0);
	} else {
		region(mvg_sel_msr(&pmu, ctr), sel, 0);
	}
	v = mvg_rdmsr(mvg_ctr_msr(&pmu, ctr));
	mvg_wrmsr(mvg_sel_msr(&pmu, ctr), 0);
	return v;
}

int main(void)
{
	mvg_pmu_discover(&pmu);
	if (pmu.has_global)
		mvg_wrmsr(mvg_global_ctrl_msr(&pmu), 0);
	mvg_printf("insns=%lu\n", measure(0, mvg_ev_insns(&pmu)));
	mvg_printf("branches=%lu\n", measure(1, mvg_ev_branches(&pmu)));
	/* Conditional branches: Intel C4/01, AMD 0xD1 (the model's rr event). */
	mvg_printf("cond=%lu\n", measure(2, pmu.intel ? 0x1C4 : 0xD1));
	mvg_printf("expect insns=%d branches=%d cond=%d\n", BODY_INSNS + 5, BODY_BRANCHES + 1,
		   BODY_COND);
	return 0;
}
