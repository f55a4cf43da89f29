/* fuzz_image: libFuzzer harness for the real-code guest surface: the
 * input becomes an x86-64 ELF image (built in memory, handed to the
 * loader through a memfd) that runs on the Unicorn CPU under a chosen CPU
 * model, vPMU, knob and patch, with a small instruction limit.  It fails
 * on a crash, a leak, a sanitizer report, a hang (libFuzzer's -timeout),
 * a run that stops for its budget instead of the guest ending, a guest
 * ending that is not one of docs/realcode.md's ("Endings") or that is an
 * engine failure rather than something the guest did, and an invariant
 * violation under the real design (no knob, no injected NMIs).
 *
 * Input: 4 header bytes, then the payload (fuzz/README.md):
 *   [0] CPU model (index into hw_models, modulo their number)
 *   [1] bits 0-1 vPMU (0 none, 1 emulated, 2 mediated, 3 mediated),
 *       bit 2 --patch fixed-counter-3, bits 4-7 knob (0 none, 1.. the
 *       knobs in mvpmu --help order)
 *   [2] bits 0-1 mode: 0 code behind a prologue that loads a GDT, TSS
 *       and IDT (every vector on IST1; exceptions resume one byte
 *       further on, interrupts return), 1 code at the entry with the
 *       boot state (no IDT: the first exception is a triple fault),
 *       2 and 3 a list of operations (below) behind the same prologue,
 *       whose exceptions resume at the next operation;
 *       bit 2: the gates have DPL 3 (INT n from user mode is allowed)
 *   [3] bits 0-1 skid, bits 4-7 host NMI injection (x 50,000 ppm)
 * Code modes: the payload (up to CODE_MAX bytes) is the code; an exit
 * (OUT to isa-debug-exit) follows it.  Operation mode: each operation is
 * an opcode byte and its operand bytes (struct op_desc), compiled to
 * code; the list ends with the same exit. */
#define _GNU_SOURCE
#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/cli_run.h"
#include "cli/cli_scenario.h"
#include "cli/cli_text.h"
#include "hw/hw_model.h"
#include "mvpmu/x86.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the image ---- */

#define BASE		0x100000u	/* where the image loads (1 MiB) */
#define IMAGE_SIZE	0x10000u	/* one RWX segment of 64 KiB */
#define CODE_OFF	0x40u		/* the code after the prologue */
#define CODE_MAX	0x7000u		/* room for code (and the exit) */
#define GDT_OFF		0x8000u
#define GDTR_OFF	0x8040u
#define IDTR_OFF	0x8050u
#define RESUME_OFF	0x8060u		/* where an exception resumes (operation mode) */
#define TSS_OFF		0x8080u
#define STUB_OFF	0x8200u		/* 16 bytes per vector */
#define COMMON_OFF	0x9400u		/* the handlers' common parts */
#define LSTAR_OFF	0x9500u		/* SYSCALL's target: back at CPL 0 */
#define IDT_OFF		0xA000u
#define IST_TOP		0xC000u
#define RSP0_TOP	0xD000u
#define STACK_TOP	0xE000u
#define USTACK_TOP	0xF000u
#define MEM		(2u << 20)	/* guest RAM: the minimum */
#define INSN_LIMIT	30000u		/* every input ends quickly */

struct img {
	uint8_t b[IMAGE_SIZE];
	uint32_t at;		/* where the next code byte goes */
	bool full;
};

static void emit(struct img *m, const void *p, size_t n)
{
	if (m->full || m->at + n > CODE_OFF + CODE_MAX) {
		m->full = true;
		return;
	}
	memcpy(m->b + m->at, p, n);
	m->at += (uint32_t)n;
}

static void emit1(struct img *m, uint8_t v)
{
	emit(m, &v, 1);
}

static void emit32(struct img *m, uint32_t v)
{
	emit(m, &v, 4);
}

static void put64(struct img *m, uint32_t off, uint64_t v)
{
	memcpy(m->b + off, &v, 8);
}

static void put32(struct img *m, uint32_t off, uint32_t v)
{
	memcpy(m->b + off, &v, 4);
}

/* rel32 from the end of a 4-byte field at `field` to `target` (offsets). */
static uint32_t rel32(uint32_t field, uint32_t target)
{
	return target - (field + 4);
}

static bool has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* GDT (0x08 kernel code, 0x10 kernel data, 0x18 TSS, 0x28 user data,
 * 0x30 user code: SYSRET's layout for STAR[63:48] = 0x20), TSS with RSP0
 * and IST1, IDT of interrupt gates on IST1, the stubs, and the prologue
 * that loads them.  `resume`: exceptions resume at *RESUME (operation
 * mode), else one byte after the saved RIP. */
static void build_machine(struct img *m, bool resume, bool dpl3)
{
	static const uint8_t iretq[] = { 0x48, 0xCF };
	uint64_t tss = BASE + TSS_OFF;
	uint32_t skip = COMMON_OFF, ret = COMMON_OFF + 0x40;

	put64(m, GDT_OFF + 0x08, 0x00AF9A000000FFFFULL);
	put64(m, GDT_OFF + 0x10, 0x00CF92000000FFFFULL);
	put64(m, GDT_OFF + 0x18, 0x67 | (tss & 0xFFFFFF) << 16 | 0x89ULL << 40 |
				 ((tss >> 24) & 0xFF) << 56);
	put64(m, GDT_OFF + 0x20, tss >> 32);
	put64(m, GDT_OFF + 0x28, 0x00CFF2000000FFFFULL);
	put64(m, GDT_OFF + 0x30, 0x00AFFA000000FFFFULL);
	m->b[GDTR_OFF] = 0x37;			/* limit: 7 descriptors */
	put64(m, GDTR_OFF + 2, BASE + GDT_OFF);
	m->b[IDTR_OFF] = 0xFF;			/* limit 0xFFF: 256 gates */
	m->b[IDTR_OFF + 1] = 0x0F;
	put64(m, IDTR_OFF + 2, BASE + IDT_OFF);
	put64(m, TSS_OFF + 4, BASE + RSP0_TOP);		/* RSP0 */
	put64(m, TSS_OFF + 36, BASE + IST_TOP);		/* IST1 */
	m->b[TSS_OFF + 102] = 104;			/* no I/O bitmap */

	/* Common parts.  Skip: inc qword [rsp]; iretq.  Resume: push rax;
	 * mov rax, [RESUME]; mov [rsp+8], rax; pop rax; iretq. */
	if (resume) {
		static const uint8_t r[] = { 0x50, 0x48, 0x8B, 0x04, 0x25 };
		static const uint8_t r2[] = { 0x48, 0x89, 0x44, 0x24, 0x08, 0x58, 0x48, 0xCF };

		memcpy(m->b + skip, r, sizeof(r));
		put32(m, skip + sizeof(r), BASE + RESUME_OFF);
		memcpy(m->b + skip + sizeof(r) + 4, r2, sizeof(r2));
	} else {
		static const uint8_t s[] = { 0x48, 0xFF, 0x04, 0x24, 0x48, 0xCF };

		memcpy(m->b + skip, s, sizeof(s));
	}
	memcpy(m->b + ret, iretq, sizeof(iretq));
	for (unsigned v = 0; v < 256; v++) {
		uint32_t stub = STUB_OFF + 16 * v, o = stub;
		uint64_t a = BASE + stub;
		/* NMIs and interrupts return where they came; exceptions
		 * (and INT n of their vectors) move on. */
		uint32_t target = v < 32 && v != 2 ? skip : ret;

		if (has_error_code(v)) {
			static const uint8_t add8[] = { 0x48, 0x83, 0xC4, 0x08 };

			memcpy(m->b + o, add8, sizeof(add8));
			o += sizeof(add8);
		}
		m->b[o] = 0xE9;
		put32(m, o + 1, rel32(o + 1, target));
		put64(m, IDT_OFF + 16 * v, (a & 0xFFFF) | 0x08ULL << 16 | 1ULL << 32 |
					   (uint64_t)(dpl3 ? 0xEE : 0x8E) << 40 |
					   ((a >> 16) & 0xFFFF) << 48);
		put64(m, IDT_OFF + 16 * v + 8, a >> 32);
	}
	/* SYSCALL's target: jmp rcx (carry on at CPL 0 after the SYSCALL). */
	m->b[LSTAR_OFF] = 0xFF;
	m->b[LSTAR_OFF + 1] = 0xE1;

	/* The prologue: lgdt, lidt, ltr 0x18, the stack, jmp to the code. */
	m->at = 0;
	emit(m, (const uint8_t[]){ 0x0F, 0x01, 0x15 }, 3);
	emit32(m, rel32(m->at, GDTR_OFF));
	emit(m, (const uint8_t[]){ 0x0F, 0x01, 0x1D }, 3);
	emit32(m, rel32(m->at, IDTR_OFF));
	emit(m, (const uint8_t[]){ 0x66, 0xB8, 0x18, 0x00, 0x0F, 0x00, 0xD8 }, 7);
	emit(m, (const uint8_t[]){ 0x48, 0xC7, 0xC4 }, 3);
	emit32(m, BASE + STACK_TOP);
	emit1(m, 0xE9);
	emit32(m, rel32(m->at, CODE_OFF));
	m->at = CODE_OFF;
}

/* mov al, 0; out 0xF4, al: the guest exits with status 1. */
static void emit_exit(struct img *m)
{
	bool full = m->full;

	m->full = false;
	if (m->at + 4 > CODE_OFF + CODE_MAX)
		m->at = CODE_OFF + CODE_MAX - 4;
	emit(m, (const uint8_t[]){ 0xB0, 0x00, 0xE6, 0xF4 }, 4);
	m->full = full;
}

/* ---- operation mode ---- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t in8(struct in *s)
{
	uint8_t v = s->n ? *s->p : 0;

	if (s->n) {
		s->p++;
		s->n--;
	}
	return v;
}

static uint32_t in32(struct in *s)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)in8(s) << (8 * i);
	return v;
}

/* MSRs worth writing and reading: the PMU and LVTPC of both vendors,
 * the global registers, APIC and core MSRs, and some that do not exist. */
static const uint32_t msrs[] = {
	MSR_IA32_PMC0, MSR_IA32_PMC0 + 1, MSR_IA32_PMC0 + 7, MSR_IA32_PMC0 + 8,
	MSR_IA32_A_PMC0, MSR_IA32_A_PMC0 + 1, MSR_IA32_A_PMC0 + 7,
	MSR_IA32_PERFEVTSEL0, MSR_IA32_PERFEVTSEL0 + 1, MSR_IA32_PERFEVTSEL0 + 7,
	MSR_IA32_PERFEVTSEL0 + 8,
	MSR_IA32_FIXED_CTR0, MSR_IA32_FIXED_CTR0 + 1, MSR_IA32_FIXED_CTR0 + 2,
	MSR_IA32_FIXED_CTR0 + 3, MSR_IA32_FIXED_CTR_CTRL,
	MSR_IA32_PERF_GLOBAL_STATUS, MSR_IA32_PERF_GLOBAL_CTRL, MSR_IA32_PERF_GLOBAL_OVF_CTRL,
	MSR_IA32_PERF_GLOBAL_STATUS_SET, MSR_IA32_PERF_GLOBAL_INUSE, MSR_IA32_PERF_CAPABILITIES,
	MSR_IA32_DEBUGCTL, MSR_IA32_PERF_METRICS,
	MSR_K7_EVNTSEL0, MSR_K7_EVNTSEL0 + 3, MSR_K7_PERFCTR0, MSR_K7_PERFCTR0 + 3,
	MSR_F15H_PERF_CTL0, MSR_F15H_PERF_CTR0, MSR_F15H_PERF_CTL0 + 10, MSR_F15H_PERF_CTR0 + 10,
	MSR_AMD_GLOBAL_STATUS, MSR_AMD_GLOBAL_CTL, MSR_AMD_GLOBAL_STATUS_CLR,
	MSR_AMD_GLOBAL_STATUS_SET,
	MSR_X2APIC_LVTPC, MSR_X2APIC_EOI, 0x802, 0x803, 0x808, 0x80F, 0x1B,
	MSR_EFER, 0xC0000081, 0xC0000082, 0xC0000084, 0x10, 0x174, 0x277,
	0xC0000100, 0xC0000101, 0xC0000102, 0xC0000103, 0x0, 0x3A, 0x40000000,
};

static const uint32_t rdpmc_ecx[] = {
	0, 1, 3, 5, 7, 8, 0x40000000, 0x40000001, 0x40000002, 0x40000003, 0x40000004,
	0x20000000, 0x80000000, 0xFFFFFFFF,
};

static const uint32_t leaves[] = { 0, 1, 0xA, 0x80000000, 0x80000001, 0x80000022, 0xD, 7 };

static const uint16_t ports[] = { 0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF,
				  0xF4, 0x80, 0x2F8, 0xCF8, 0x21 };

static const uint32_t lvtpc[] = { APIC_DM_NMI, 0x20, 0x40, 0xF5, 0xFF, 0x10000 | 0x20,
				  0x10000 | APIC_DM_NMI, 0x700, 0x12345678 };

/* mov dword [RESUME], next: an exception in what follows resumes at `next`. */
static void set_resume(struct img *m, uint32_t next_off)
{
	emit(m, (const uint8_t[]){ 0xC7, 0x04, 0x25 }, 3);
	emit32(m, BASE + RESUME_OFF);
	emit32(m, BASE + next_off);
}

/* ecx, eax, edx, then an instruction of `len` bytes, resuming after it. */
static void emit_regs_insn(struct img *m, uint32_t ecx, uint32_t eax, uint32_t edx,
			   const uint8_t *insn, size_t len)
{
	set_resume(m, m->at + 11 + 15 + (uint32_t)len);
	emit1(m, 0xB9);
	emit32(m, ecx);
	emit1(m, 0xB8);
	emit32(m, eax);
	emit1(m, 0xBA);
	emit32(m, edx);
	emit(m, insn, len);
}

static void emit_wrmsr(struct img *m, uint32_t msr, uint64_t val)
{
	emit_regs_insn(m, msr, (uint32_t)val, (uint32_t)(val >> 32),
		       (const uint8_t[]){ 0x0F, 0x30 }, 2);
}

/* A counter that counts instructions with its PMI, `period` before it
 * wraps, for the model's vendor. */
static void emit_arm(struct img *m, bool amd, unsigned idx, uint32_t period)
{
	uint64_t sel = 0x5300C0;	/* EN, INT, OS, USR, instructions (C0) */

	if (amd) {
		emit_wrmsr(m, MSR_F15H_PERF_CTL0 + 2 * idx, sel);
		emit_wrmsr(m, MSR_F15H_PERF_CTR0 + 2 * idx, (uint64_t)0 - period);
		emit_wrmsr(m, MSR_AMD_GLOBAL_CTL, 0x3F);
	} else {
		emit_wrmsr(m, MSR_IA32_PERFEVTSEL0 + idx, sel);
		emit_wrmsr(m, MSR_IA32_A_PMC0 + idx, ((uint64_t)0 - period) & X86_MASK(48));
		emit_wrmsr(m, MSR_IA32_FIXED_CTR_CTRL, 0xBBB);
		emit_wrmsr(m, MSR_IA32_PERF_GLOBAL_CTRL, 0x7000000FFULL);
	}
}

enum {
	OP_WRMSR, OP_RDMSR, OP_WRMSR_RAW, OP_RDPMC, OP_CPUID, OP_IN, OP_OUT, OP_LOOP,
	OP_STI, OP_CLI, OP_HLT, OP_INT, OP_CR4, OP_USER, OP_SYSCALL_SETUP, OP_SYSCALL,
	OP_SYSRET, OP_RDTSC, OP_RAW, OP_ARM, OP_LVTPC, OP_EOI, OP_STRING_IO, OP_NR
};

static void compile_op(struct img *m, struct in *s, bool amd)
{
	unsigned op = in8(s) % OP_NR;
	uint32_t a = 0, b = 0;

	switch (op) {
	case OP_WRMSR:
		a = msrs[in8(s) % (sizeof(msrs) / sizeof(msrs[0]))];
		b = in32(s);
		emit_wrmsr(m, a, (uint64_t)in32(s) << 32 | b);
		break;
	case OP_RDMSR:
		emit_regs_insn(m, msrs[in8(s) % (sizeof(msrs) / sizeof(msrs[0]))], 0, 0,
			       (const uint8_t[]){ 0x0F, 0x32 }, 2);
		break;
	case OP_WRMSR_RAW:
		a = in32(s);
		b = in32(s);
		emit_wrmsr(m, a, (uint64_t)in32(s) << 32 | b);
		break;
	case OP_RDPMC:
		a = in8(s);
		emit_regs_insn(m, a & 0x80 ? in32(s) :
			       rdpmc_ecx[a % (sizeof(rdpmc_ecx) / sizeof(rdpmc_ecx[0]))], 0, 0,
			       (const uint8_t[]){ 0x0F, 0x33 }, 2);
		break;
	case OP_CPUID:
		a = in8(s);
		b = in8(s);
		emit_regs_insn(m, b, a & 0x80 ? in32(s) :
			       leaves[a % (sizeof(leaves) / sizeof(leaves[0]))], 0,
			       (const uint8_t[]){ 0x0F, 0xA2 }, 2);
		break;
	case OP_IN:
	case OP_OUT:
		a = in8(s);
		b = a & 0x80 ? (uint16_t)in32(s) : ports[a % (sizeof(ports) / sizeof(ports[0]))];
		/* in al/ax/eax, dx (EC, 66 ED, ED); out (EE, 66 EF, EF), with
		 * dx = port and eax from the input. */
		set_resume(m, m->at + 11 + 5 + 5 + 2);
		emit(m, (const uint8_t[]){ 0x66, 0xBA }, 2);
		emit(m, &b, 2);
		emit1(m, 0x90);
		emit1(m, 0xB8);
		emit32(m, in32(s));
		switch ((a >> 4) % 3) {
		case 0: emit(m, (const uint8_t[]){ 0x90, op == OP_IN ? 0xEC : 0xEE }, 2); break;
		case 1: emit(m, (const uint8_t[]){ 0x66, op == OP_IN ? 0xED : 0xEF }, 2); break;
		default: emit(m, (const uint8_t[]){ 0x90, op == OP_IN ? 0xED : 0xEF }, 2); break;
		}
		break;
	case OP_LOOP:
		/* mov ecx, n; dec ecx; jnz back: 2n + 1 instructions. */
		a = in8(s) | (uint32_t)(in8(s) & 0x0F) << 8;
		set_resume(m, m->at + 11 + 5 + 4);
		emit1(m, 0xB9);
		emit32(m, a ? a : 1);
		emit(m, (const uint8_t[]){ 0xFF, 0xC9, 0x75, 0xFC }, 4);
		break;
	case OP_STI:
		emit1(m, 0xFB);
		break;
	case OP_CLI:
		emit1(m, 0xFA);
		break;
	case OP_HLT:
		set_resume(m, m->at + 11 + 1);
		emit1(m, 0xF4);
		break;
	case OP_INT:
		set_resume(m, m->at + 11 + 2);
		emit1(m, 0xCD);
		emit1(m, in8(s));
		break;
	case OP_CR4:
		/* mov rax, cr4; xor rax, imm32; mov cr4, rax (PCE, TSD, ...). */
		a = in8(s);
		b = a & 0x80 ? in32(s) : (a & 1 ? 0x100 : 0) | (a & 2 ? 0x4 : 0);
		set_resume(m, m->at + 11 + 3 + 6 + 3);
		emit(m, (const uint8_t[]){ 0x0F, 0x20, 0xE0, 0x48, 0x35 }, 5);
		emit32(m, b);
		emit(m, (const uint8_t[]){ 0x0F, 0x22, 0xE0 }, 3);
		break;
	case OP_USER:
		/* iretq to CPL 3 at the next operation, on the user stack:
		 * push ss; push rsp; push rflags; push cs; push rip; iretq. */
		a = in8(s);
		emit(m, (const uint8_t[]){ 0x6A, 0x2B, 0x68 }, 3);
		emit32(m, BASE + USTACK_TOP);
		emit1(m, 0x68);
		emit32(m, 0x2 | (a & 1 ? 0x200 : 0) | (a & 2 ? 0x3000 : 0) | (a & 4 ? 0x100 : 0));
		emit(m, (const uint8_t[]){ 0x6A, 0x33, 0x68 }, 3);
		emit32(m, BASE + m->at + 4 + 2);
		emit(m, (const uint8_t[]){ 0x48, 0xCF }, 2);
		break;
	case OP_SYSCALL_SETUP:
		emit_wrmsr(m, MSR_EFER, 0x501 | (in8(s) & 0x800));	/* SCE, LME, LMA */
		emit_wrmsr(m, 0xC0000081, 0x0020000800000000ULL);	/* STAR */
		emit_wrmsr(m, 0xC0000082, BASE + LSTAR_OFF);		/* LSTAR */
		emit_wrmsr(m, 0xC0000084, in8(s) & 1 ? 0x200 : 0);	/* SFMASK */
		break;
	case OP_SYSCALL:
		set_resume(m, m->at + 11 + 2);
		emit(m, (const uint8_t[]){ 0x0F, 0x05 }, 2);
		break;
	case OP_SYSRET:
		/* lea rcx, [rip+6]; mov r11d, rflags; sysretq (to CPL 3, next op). */
		a = in8(s);
		set_resume(m, m->at + 11 + 7 + 6 + 3);
		emit(m, (const uint8_t[]){ 0x48, 0x8D, 0x0D }, 3);
		emit32(m, a & 0x80 ? in32(s) : 9);
		emit(m, (const uint8_t[]){ 0x41, 0xBB }, 2);
		emit32(m, 0x2 | (a & 1 ? 0x200 : 0));
		emit(m, (const uint8_t[]){ 0x48, 0x0F, 0x07 }, 3);
		break;
	case OP_RDTSC:
		set_resume(m, m->at + 11 + 3);
		if (in8(s) & 1)
			emit(m, (const uint8_t[]){ 0x0F, 0x01, 0xF9 }, 3);
		else
			emit(m, (const uint8_t[]){ 0x90, 0x0F, 0x31 }, 3);
		break;
	case OP_RAW:
		/* Up to 15 bytes of the input as code, resuming after them. */
		a = in8(s) % 16;
		set_resume(m, m->at + 11 + a);
		for (uint32_t i = 0; i < a; i++)
			emit1(m, in8(s));
		break;
	case OP_ARM:
		a = in8(s);
		emit_arm(m, amd, a & 3, ((uint32_t)in8(s) << 4 | (a >> 4)) + 1);
		break;
	case OP_LVTPC:
		emit_wrmsr(m, MSR_X2APIC_LVTPC, lvtpc[in8(s) % (sizeof(lvtpc) / sizeof(lvtpc[0]))]);
		break;
	case OP_EOI:
		emit_wrmsr(m, MSR_X2APIC_EOI, 0);
		break;
	case OP_STRING_IO:
		/* rep outsb / insb of rcx bytes at the stack's page (rsi/rdi). */
		a = in8(s);
		b = a & 0x80 ? in32(s) : a & 0x3F;
		set_resume(m, m->at + 11 + 5 + 5 + 5 + 5 + 2);
		emit(m, (const uint8_t[]){ 0x66, 0xBA }, 2);
		emit(m, &ports[a % 9], 2);	/* the UART's or the exit port */
		emit1(m, 0x90);
		emit1(m, 0xB9);
		emit32(m, b);
		emit1(m, 0xBE);
		emit32(m, BASE + STACK_TOP - 0x800);
		emit1(m, 0xBF);
		emit32(m, BASE + STACK_TOP - 0x800);
		emit(m, (const uint8_t[]){ 0xF3, a & 0x40 ? 0x6C : 0x6E }, 2);
		break;
	}
}

/* ---- the ELF ---- */

/* ELF64 header, one PT_LOAD program header, then the image. */
static size_t build_elf(const struct img *m, uint8_t *out)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	const size_t off = sizeof(eh) + sizeof(ph);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = BASE;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_W | PF_X;
	ph.p_offset = off;
	ph.p_vaddr = ph.p_paddr = BASE;
	ph.p_filesz = ph.p_memsz = IMAGE_SIZE;
	ph.p_align = 16;
	memcpy(out, &eh, sizeof(eh));
	memcpy(out + sizeof(eh), &ph, sizeof(ph));
	memcpy(out + off, m->b, IMAGE_SIZE);
	return off + IMAGE_SIZE;
}

/* ---- the endings ---- */

/* What an `error` ending may say when the guest caused it
 * (docs/realcode.md, "Endings"); anything else is the engine's failure. */
static const char *const guest_errors[] = {
	"instruction fetch from physical address ",
	"read of physical address ",
	"write to physical address ",
	"instruction fetch from the xAPIC page",
	"read of the xAPIC page",
	"write to the xAPIC page",
	"code at a virtual address that is not identity-mapped",
	"cannot read the code",
	"REP INS/OUTS of ",
	"SYSRET to compatibility mode",
	"an exception loop: ",
	/* The paging bridge (hw_x86_paging.c): a translation to where
	 * nothing is, or page tables outside guest memory. */
	"access to virtual ",
	"instruction fetch from virtual ",
	"forced emulation of ",
	/* libunicorn 2.0.1 aborts on these #UD forms (hw_x86_step). */
	"the CPU emulator cannot run the undefined CALL/JMP FAR",
};

static void fail(const char *what, const struct mv_result *res, const char *err)
{
	fprintf(stderr, "fuzz_image: %s", what);
	if (res && res->nr_images)
		fprintf(stderr, ": exit '%s': %s", res->images[0].exit, res->images[0].message);
	if (res && res->partial)
		fprintf(stderr, " (partial: %s)", res->partial_reason);
	if (err && *err)
		fprintf(stderr, " [%s]", err);
	fputc('\n', stderr);
	abort();
}

static void check_ending(const struct mv_result *res)
{
	const struct mv_image_result *r;

	if (res->nr_images != 1)
		fail("no image result", res, NULL);
	r = &res->images[0];
	/* The image's own insn_limit makes the run partial too (exit 3);
	 * the run's budget must never be what ended it. */
	if (res->partial && strcmp(r->exit, "instruction-limit"))
		fail("the run reached its budget before the guest ended", res, NULL);
	if (!strcmp(r->exit, "exit") || !strcmp(r->exit, "halted") ||
	    !strcmp(r->exit, "triple-fault") || !strcmp(r->exit, "instruction-limit") ||
	    !strcmp(r->exit, "unsupported-mapping"))
		return;
	if (strcmp(r->exit, "error"))
		fail("an undocumented ending", res, NULL);
	for (size_t i = 0; i < sizeof(guest_errors) / sizeof(guest_errors[0]); i++)
		if (!strncmp(r->message, guest_errors[i], strlen(guest_errors[i])))
			return;
	fail("an engine error", res, NULL);
}

static const size_t knob_off[] = {
	offsetof(struct mv_knobs, no_global_ctrl_clear_on_load),
	offsetof(struct mv_knobs, no_counter_clear_on_put),
	offsetof(struct mv_knobs, no_write_elision),
	offsetof(struct mv_knobs, assert_instead_of_clear),
	offsetof(struct mv_knobs, lvtpc_before_clear),
	offsetof(struct mv_knobs, lvtpc_outside_switch),
	offsetof(struct mv_knobs, no_mask_copy),
	offsetof(struct mv_knobs, no_guestonly),
	offsetof(struct mv_knobs, no_fastpath_bail),
	offsetof(struct mv_knobs, inject_after_load),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct img m;
	static uint8_t elf[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + IMAGE_SIZE];
	static struct mv_scenario sc;
	static struct mv_result res;
	static char err[CLI_ERR_MAX], path[64];
	static int fd = -1;
	const struct hw_model *model;
	struct in s;
	unsigned mode, knob;
	bool knob_set;
	size_t n;

	if (size < 4)
		return 0;
	if (fd < 0) {
		/* The loader takes a path: a memfd, never a file in the tree. */
		fd = memfd_create("fuzz_image", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	model = &hw_models[data[0] % hw_nr_models];
	mode = data[2] & 3;
	memset(&m, 0, sizeof(m));
	s = (struct in){ data + 4, size - 4 };
	if (mode == 1) {
		m.at = 0;	/* the entry: the boot state, no IDT */
		emit(&m, s.p, s.n < CODE_MAX ? s.n : CODE_MAX);
	} else if (mode == 0) {
		build_machine(&m, false, data[2] & 4);
		emit(&m, s.p, s.n < CODE_MAX - 4 ? s.n : CODE_MAX - 4);
	} else {
		build_machine(&m, true, data[2] & 4);
		while (s.n && !m.full)
			compile_op(&m, &s, model->vendor == HW_AMD);
	}
	emit_exit(&m);
	n = build_elf(&m, elf);
	if (ftruncate(fd, 0) || pwrite(fd, elf, n, 0) != (ssize_t)n)
		abort();
	if (getenv("FUZZ_IMAGE_DUMP")) {
		/* The image of this input, for mvpmu run --image. */
		FILE *f = fopen(getenv("FUZZ_IMAGE_DUMP"), "wb");

		if (!f || fwrite(elf, 1, n, f) != n || fclose(f))
			abort();
	}

	memset(&sc, 0, sizeof(sc));
	if (cli_scenario_image(path, MEM, &sc, err, sizeof(err)))
		fail("the image was refused", NULL, err);
	snprintf(sc.cpu, sizeof(sc.cpu), "%s", model->name);
	sc.vpmu = (enum mv_vpmu)((data[1] & 3) == 3 ? MV_VPMU_MEDIATED : data[1] & 3);
	sc.vpmu_set = true;
	sc.vm[0].vpmu = sc.vpmu;
	sc.vm[0].vpmu_set = true;
	if (data[1] & 4)
		sc.patches |= MV_PATCH_FIXED_COUNTER_3;
	knob = data[1] >> 4;
	knob_set = knob && knob <= sizeof(knob_off) / sizeof(knob_off[0]);
	if (knob_set)
		*(bool *)((char *)&sc.knobs + knob_off[knob - 1]) = true;
	sc.skid = data[3] & 3;
	sc.inject_ppm = (uint32_t)(data[3] >> 4) * 50000;
	sc.vm[0].prog[0].insn_limit = INSN_LIMIT;
	sc.bare.insn_limit = INSN_LIMIT;
	memset(&res, 0, sizeof(res));
	if (cli_run_scenario(&sc, &res, NULL, NULL, err, sizeof(err)))
		fail("the run was refused", NULL, err);
	if (getenv("FUZZ_IMAGE_VERBOSE"))
		fprintf(stderr, "fuzz_image: %s %s%s knob %u inject %u: exit '%s' (%s), %llu+%llu "
			"instructions, %llu guest PMIs, %llu exits, %llu violations%s%s\n", model->name,
			cli_vpmu_name(sc.vpmu), sc.patches ? " fixed-counter-3" : "", knob,
			sc.inject_ppm,
			res.nr_images ? res.images[0].exit : "?",
			res.nr_images ? res.images[0].message : "?",
			res.nr_images ? (unsigned long long)res.images[0].insns_kernel : 0ULL,
			res.nr_images ? (unsigned long long)res.images[0].insns_user : 0ULL,
			(unsigned long long)res.guest_pmis, (unsigned long long)res.exits_total,
			(unsigned long long)res.inv_violated, res.nr_violations ? ": " : "",
			res.nr_violations ? res.violations[0].msg : "");
	check_ending(&res);
	/* Knobs undo decisions of the real design and injected NMIs find its
	 * known findings: with neither, no guest code may break an invariant. */
	if (!knob_set && !sc.inject_ppm && res.inv_violated)
		fail(res.nr_violations ? res.violations[0].msg : "an invariant broke", &res, NULL);
	return 0;
}
