/* boot.S: the entry of the multiboot test kernels, written the way a
 * kvm-unit-tests x86 kernel starts: a multiboot v1 header, 32-bit
 * protected mode from the loader, its own GDT, long mode set up here
 * (CR4.PAE, CR3, EFER.LME, CR0.PG, a far jump to a 64-bit code segment),
 * then C.  One counter counts the instructions from the 32-bit code
 * through the switch into 64-bit code (mb_span_insns; mb_check.c says
 * what it should read).  Interrupt stubs for every vector. */

#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* page-aligned modules, memory information */
#define MSR_EFER	0xC0000080

	.section .init, "ax"
	.code32
	.align 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.globl mb_start
mb_start:
	mov	%eax, mb_magic
	mov	%ebx, mb_info
	mov	$mb_stack_top, %esp
	lgdt	gdt_desc
	ljmp	$0x18, $1f		/* our own flat 32-bit code segment */
1:	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %fs
	mov	%eax, %gs
	mov	%eax, %ss
	call	pmu32_setup

	/* The span: counter 0 counts instructions from here on. */
	xor	%eax, %eax
	xor	%edx, %edx
	mov	pmu_ctr, %ecx
	wrmsr				/* the counter is 0 */
	mov	$0x4300C0, %eax		/* EN, OS, USR, instructions retired (C0) */
	mov	pmu_sel, %ecx
	wrmsr				/* enabled: not counted by itself on bare metal */
	mov	$10, %ecx		/* 1 */
2:	dec	%ecx			/* 10 */
	jnz	2b			/* 10 */
	mov	%cr4, %eax		/* PAE: 3 */
	or	$0x20, %eax
	mov	%eax, %cr4
	mov	$mb_pml4, %eax		/* CR3: 2 */
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx		/* EFER.LME: 4 */
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax		/* PG: 3, and long mode is active */
	or	$0x80000000, %eax
	mov	%eax, %cr0
	mov	%eax, %ebx		/* compatibility mode: 1 */
	ljmp	$0x08, $start64		/* 1 */

/* Which counter MSRs to use: the vendor's (CPUID leaf 0 "GenuineIntel"). */
pmu32_setup:
	xor	%eax, %eax
	cpuid
	cmp	$0x756E6547, %ebx	/* "Genu" */
	jne	3f
	movl	$0x186, pmu_sel		/* IA32_PERFEVTSEL0 */
	movl	$0xC1, pmu_ctr		/* IA32_PMC0 */
	ret
3:	movl	$0xC0010200, pmu_sel	/* PERF_CTL0 (PerfCtrExtCore) */
	movl	$0xC0010201, pmu_ctr	/* PERF_CTR0 */
	ret

	.text
	.code64
start64:
	xor	%ecx, %ecx		/* 1 */
	rdpmc				/* samples before it retires */
	mov	%eax, mb_span_insns(%rip)
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	$mb_stack_top, %rsp
	mov	mb_magic(%rip), %edi
	mov	mb_info(%rip), %esi
	call	mb_main_c
	mov	%eax, %edi
	call	mb_exit
4:	cli
	hlt
	jmp	4b

/* Interrupt stubs: an error code (or 0) and the vector on the stack,
 * then every general-purpose register, then mb_dispatch(regs). */
	.macro	stub v
	.align	16
	.if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	pushq	$\v
	.else
	pushq	$0
	pushq	$\v
	.endif
	jmp	stub_common
	.endm

	.align	16
	.globl	mb_stubs
mb_stubs:
	.set	vec, 0
	.rept	256
	stub	vec
	.set	vec, vec + 1
	.endr

stub_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	call	mb_dispatch
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp
	iretq

	.data
	.align	8
	.globl	mb_magic, mb_info, mb_span_insns
mb_magic:	.long 0
mb_info:	.long 0
mb_span_insns:	.long 0
pmu_sel:	.long 0
pmu_ctr:	.long 0

gdt:	.quad 0
	.quad 0x00AF9B000000FFFF	/* 0x08: 64-bit code */
	.quad 0x00CF93000000FFFF	/* 0x10: flat data */
	.quad 0x00CF9B000000FFFF	/* 0x18: flat 32-bit code */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

/* Page tables: the low 4 GiB identity-mapped with 2 MiB pages, as
 * kvm-unit-tests' cstart64.S maps it; the top 2 MiB of the address space
 * through mb_pt_top, 4 KiB pages the kernel fills in (mb_lib.c). */
	.align	4096
	.globl	mb_pml4, mb_pd, mb_pt_top
mb_pml4:
	.quad	mb_pdpt + 0x7
	.fill	510, 8, 0
	.quad	mb_pdpt_top + 0x7
mb_pdpt:
	.quad	mb_pd + 0x0007
	.quad	mb_pd + 0x1007
	.quad	mb_pd + 0x2007
	.quad	mb_pd + 0x3007
	.fill	508, 8, 0
mb_pd:
	.set	i, 0
	.rept	2048
	.quad	(i << 21) | 0x87
	.set	i, i + 1
	.endr
mb_pdpt_top:
	.fill	511, 8, 0
	.quad	mb_pd_top + 0x7
mb_pd_top:
	.fill	511, 8, 0
	.quad	mb_pt_top + 0x7
mb_pt_top:
	.fill	512, 8, 0

	.bss
	.align	4096
	.globl	mb_stack_top
	.skip	16384
mb_stack_top:

	.section .note.GNU-stack, "", @progbits
