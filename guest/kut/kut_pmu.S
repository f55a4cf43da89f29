/* kut_pmu.S: a multiboot kernel that boots the way kvm-unit-tests' x86-64
 * tests do (x86/cstart64.S conventions, written here from scratch): a
 * multiboot header with flags 0, GS base set in 32-bit mode, its own GDT,
 * 2 MiB PAE pages, long mode; then IDT and TSS, the xAPIC reset through
 * IA32_APIC_BASE, the APIC ID read through the xAPIC page, PIC masked, a
 * real-mode stub copied to address 0 with INIT/SIPI to all-but-self, the
 * CPU count from fw_cfg, x2APIC when CPUID has it.  Then two PMU checks:
 * instructions retired over a LOOP of known length, and one overflow PMI
 * on a fixed vector through the x2APIC LVTPC.  Output as kvm-unit-tests
 * prints it ("PASS: ...", "SUMMARY: ..."), "\r\n" line ends, the LSR
 * polled; the exit is outl(failures, 0xf4).  Built by make as an x86-64
 * object linked at 4 MiB and made ELF32 by objcopy (elf32-i386), as
 * kvm-unit-tests makes its x86/*.flat files.  tests/hw/test_multiboot.c
 * derives what it prints. */

#define N_LOOP		1000
#define PMI_VECTOR	32
#define APIC_MMIO	0xFEE00000
#define MSR_APIC_BASE	0x1B
#define MSR_GS_BASE	0xC0000101
#define MSR_EFER	0xC0000080

	.section .init, "ax"
	.code32
	.long	0x1BADB002, 0, -0x1BADB002	/* magic, flags 0, checksum */

	.globl	start
start:
	mov	%eax, mb_magic
	mov	%ebx, mb_info
	mov	$stacktop, %esp
	/* The per-CPU area below the stack, through GS base. */
	lea	-4096(%esp), %eax
	xor	%edx, %edx
	mov	$MSR_GS_BASE, %ecx
	wrmsr
	lgdt	gdt64_desc
	/* Loading GS clears its base: keep it across. */
	mov	$MSR_GS_BASE, %ecx
	rdmsr
	mov	$0x10, %bx
	mov	%bx, %ds
	mov	%bx, %es
	mov	%bx, %fs
	mov	%bx, %gs
	mov	%bx, %ss
	wrmsr
	mov	%cr4, %eax
	bts	$5, %eax			/* PAE */
	mov	%eax, %cr4
	mov	$ptl4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	bts	$8, %eax			/* LME */
	wrmsr
	mov	%cr0, %eax
	bts	$0, %eax
	bts	$31, %eax			/* PG: long mode */
	mov	%eax, %cr0
	ljmp	$0x08, $start64

/* A real-mode stub for the APs, copied to address 0 (none will run it). */
	.code16
sipi_entry:
	cli
1:	hlt
	jmp	1b
sipi_end:

	.text
	.code64
start64:
	lidtq	idt_descr
	/* The TSS descriptor's base, filled in at run time. */
	lea	tss(%rip), %rax
	lea	tss_descr(%rip), %rbx
	mov	%ax, 2(%rbx)
	shr	$16, %rax
	mov	%al, 4(%rbx)
	shr	$8, %rax
	mov	%al, 7(%rbx)
	shr	$8, %rax
	mov	%eax, 8(%rbx)
	mov	$(tss_descr - gdt64), %ax
	ltr	%ax
	/* Every exception to one handler; the PMI vector to its own. */
	xor	%r12d, %r12d
2:	mov	%r12d, %edi
	lea	fault(%rip), %rsi
	call	set_gate
	inc	%r12d
	cmp	$32, %r12d
	jne	2b
	mov	$PMI_VECTOR, %edi
	lea	pmi(%rip), %rsi
	call	set_gate
	/* reset_apic: disable it globally, then enable it in xAPIC mode;
	 * the software enable through SVR. */
	mov	$MSR_APIC_BASE, %ecx
	rdmsr
	and	$~0xC00, %eax
	wrmsr
	or	$0x800, %eax
	wrmsr
	mov	$APIC_MMIO, %r13d		/* below 4 GiB: no sign extension */
	movl	$0x1FF, 0xF0(%r13)
	/* save_id: the xAPIC ID, bits 31:24. */
	movl	0x20(%r13), %eax
	shr	$24, %eax
	mov	%eax, apic_id(%rip)
	/* mask_pic_interrupts */
	mov	$0xFF, %al
	outb	%al, $0x21
	outb	%al, $0xA1
	/* smp_init: the stub at 0, INIT and STARTUP to all but self, then
	 * wait until as many CPUs as fw_cfg counts are online. */
	cld
	lea	sipi_entry, %rsi
	xor	%edi, %edi
	mov	$(sipi_end - sipi_entry), %ecx
	rep movsb
	movl	$0x000C4500, 0x300(%r13)	/* all-but-self, INIT, assert */
	movl	$0x000C0600, 0x300(%r13)	/* all-but-self, STARTUP, vector 0 */
	mov	$0x05, %ax			/* FW_CFG_NB_CPUS, 16 bits */
	mov	$0x510, %dx
	outw	%ax, %dx
	inc	%dx
	inb	%dx, %al
	mov	%al, %bl
	inb	%dx, %al
	mov	%al, %bh
	movzwl	%bx, %eax
	mov	%eax, nb_cpus(%rip)
3:	pause
	cmpw	%bx, online(%rip)
	jne	3b
	/* enable_x2apic, when CPUID.1:ECX[21] says it exists. */
	mov	$1, %eax
	cpuid
	bt	$21, %ecx
	jnc	4f
	mov	$MSR_APIC_BASE, %ecx
	rdmsr
	or	$0xC00, %eax
	wrmsr
4:	call	tests
	mov	fails(%rip), %eax
	mov	$0xF4, %dx
	outl	%eax, %dx			/* isa-debug-exit, 4 bytes */
	/* If that did not end it, the Bochs poweroff port. */
	lea	shutdown(%rip), %rsi
	mov	$8, %ecx
	mov	$0x8900, %dx
	rep outsb
5:	cli
	hlt
	jmp	5b

/* set_gate(vector %edi, handler %rsi): a 64-bit interrupt gate. */
set_gate:
	mov	%edi, %eax
	shl	$4, %eax
	lea	idt(%rip), %rdx
	add	%rax, %rdx
	mov	%rsi, %rax
	mov	%ax, (%rdx)
	movw	$0x08, 2(%rdx)
	movw	$0x8E00, 4(%rdx)
	shr	$16, %rax
	mov	%ax, 6(%rdx)
	shr	$16, %rax
	mov	%eax, 8(%rdx)
	movl	$0, 12(%rdx)
	ret

fault:
	lea	msg_fault(%rip), %rdi
	call	puts
	mov	$0x3F, %eax
	mov	$0xF4, %dx
	outl	%eax, %dx
6:	hlt
	jmp	6b

pmi:
	push	%rax
	push	%rcx
	push	%rdx
	incl	irqs(%rip)
	mov	$0x80B, %ecx			/* x2APIC EOI */
	xor	%eax, %eax
	xor	%edx, %edx
	wrmsr
	pop	%rdx
	pop	%rcx
	pop	%rax
	iretq

/* ---- serial ---- */

putc:					/* %dil */
	mov	$0x3FD, %dx
7:	inb	%dx, %al
	test	$0x20, %al			/* THR empty */
	jz	7b
	mov	$0x3F8, %dx
	mov	%dil, %al
	outb	%al, %dx
	ret

puts:					/* %rdi: NUL-terminated */
	push	%rbx
	mov	%rdi, %rbx
8:	movzbl	(%rbx), %edi
	test	%dil, %dil
	jz	10f
	cmp	$'\n', %dil
	jne	9f
	mov	$'\r', %dil
	call	putc
	mov	$'\n', %dil
9:	call	putc
	inc	%rbx
	jmp	8b
10:	pop	%rbx
	ret

putdec:					/* %rdi */
	lea	numbuf+23(%rip), %rsi
	movb	$0, (%rsi)
	mov	%rdi, %rax
	mov	$10, %ecx
11:	xor	%edx, %edx
	div	%rcx
	add	$'0', %dl
	dec	%rsi
	mov	%dl, (%rsi)
	test	%rax, %rax
	jnz	11b
	mov	%rsi, %rdi
	jmp	puts

/* report(ok %edi, message %rsi, value %rdx): "PASS: msg value" */
report:
	push	%rbx
	push	%r12
	push	%r13
	mov	%edi, %ebx
	mov	%rsi, %r12
	mov	%rdx, %r13
	incl	ntests(%rip)
	lea	msg_pass(%rip), %rdi
	test	%ebx, %ebx
	jnz	12f
	incl	fails(%rip)
	lea	msg_fail(%rip), %rdi
12:	call	puts
	mov	%r12, %rdi
	call	puts
	mov	%r13, %rdi
	call	putdec
	lea	msg_nl(%rip), %rdi
	call	puts
	pop	%r13
	pop	%r12
	pop	%rbx
	ret

/* ---- the checks ---- */

/* wrmsr(%ecx, %rax) */
wrmsr64:
	mov	%rax, %rdx
	shr	$32, %rdx
	wrmsr
	ret

tests:
	push	%rbx
	xor	%edi, %edi
	cmpl	$0x2BADB002, mb_magic(%rip)
	sete	%dil
	lea	t_magic(%rip), %rsi
	mov	mb_magic(%rip), %edx
	call	report
	xor	%edi, %edi
	cmpl	$1, nb_cpus(%rip)
	sete	%dil
	lea	t_cpus(%rip), %rsi
	mov	nb_cpus(%rip), %edx
	call	report
	xor	%edi, %edi
	cmpl	$0, apic_id(%rip)
	sete	%dil
	lea	t_id(%rip), %rsi
	mov	apic_id(%rip), %edx
	call	report
	mov	$MSR_APIC_BASE, %ecx
	rdmsr
	mov	%eax, %ebx
	shr	$10, %eax
	and	$1, %eax
	mov	%eax, %edi
	lea	t_x2apic(%rip), %rsi
	mov	%ebx, %edx
	call	report

	/* The vendor's counter MSRs and global control. */
	xor	%eax, %eax
	cpuid
	cmp	$0x756E6547, %ebx		/* "Genu" */
	jne	13f
	movl	$0x186, sel(%rip)
	movl	$0xC1, ctr(%rip)
	movl	$0x38F, gctl(%rip)
	movl	$0x390, gclr(%rip)
	jmp	14f
13:	movl	$0xC0010200, sel(%rip)
	movl	$0xC0010201, ctr(%rip)
	mov	$0x80000022, %eax
	cpuid
	test	$1, %eax			/* PerfMonV2 */
	jz	14f
	movl	$0xC0000301, gctl(%rip)
	movl	$0xC0000302, gclr(%rip)
14:	mov	gctl(%rip), %ecx
	test	%ecx, %ecx
	jz	15f
	mov	$1, %eax
	call	wrmsr64
15:	/* Instructions retired between the enabling and the disabling
	 * WRMSR: MOV, N x LOOP, XOR, XOR, MOV, then the disabling WRMSR. */
	mov	ctr(%rip), %ecx
	xor	%eax, %eax
	call	wrmsr64
	mov	sel(%rip), %ecx
	mov	$0x4300C0, %eax			/* EN, OS, USR, instructions (C0) */
	xor	%edx, %edx
	wrmsr
	mov	$N_LOOP, %ecx
16:	loop	16b
	xor	%eax, %eax
	xor	%edx, %edx
	mov	sel(%rip), %ecx
	wrmsr
	mov	ctr(%rip), %ecx
	rdmsr
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %rbx
	xor	%edi, %edi
	cmp	$(N_LOOP + 5), %rbx
	sete	%dil
	lea	t_insns(%rip), %rsi
	mov	%rbx, %rdx
	call	report

	/* One PMI: the counter from -100 with INT, LVTPC on a vector. */
	mov	$0x834, %ecx
	mov	$PMI_VECTOR, %eax
	call	wrmsr64
	mov	gclr(%rip), %ecx
	test	%ecx, %ecx
	jz	17f
	mov	$1, %eax
	call	wrmsr64
17:	mov	ctr(%rip), %ecx
	mov	$0xFFFFFFFFFF9C, %rax		/* -100, 48 bits */
	call	wrmsr64
	mov	sel(%rip), %ecx
	mov	$0x5300C0, %eax			/* EN, INT, OS, USR, instructions */
	call	wrmsr64
	sti
	mov	$N_LOOP, %ecx
18:	loop	18b
	cli
	mov	sel(%rip), %ecx
	xor	%eax, %eax
	call	wrmsr64
	xor	%edi, %edi
	cmpl	$1, irqs(%rip)
	sete	%dil
	lea	t_pmi(%rip), %rsi
	mov	irqs(%rip), %edx
	call	report

	lea	msg_sum(%rip), %rdi
	call	puts
	mov	ntests(%rip), %edi
	call	putdec
	lea	msg_sum2(%rip), %rdi
	call	puts
	mov	fails(%rip), %edi
	call	putdec
	lea	msg_sum3(%rip), %rdi
	call	puts
	pop	%rbx
	ret

	.section .rodata
msg_pass:	.asciz "PASS: "
msg_fail:	.asciz "FAIL: "
msg_nl:		.asciz "\n"
msg_fault:	.asciz "FAIL: unexpected exception\n"
msg_sum:	.asciz "SUMMARY: "
msg_sum2:	.asciz " tests, "
msg_sum3:	.asciz " unexpected failures\n"
t_magic:	.asciz "multiboot magic "
t_cpus:		.asciz "fw_cfg cpus "
t_id:		.asciz "apic id "
t_x2apic:	.asciz "x2apic enabled, apic base "
t_insns:	.asciz "instructions "
t_pmi:		.asciz "pmi "
shutdown:	.ascii "Shutdown"

	.data
	.align	8
mb_magic:	.long 0
mb_info:	.long 0
apic_id:	.long 0
nb_cpus:	.long 0
online:		.word 1
	.align	4
irqs:		.long 0
ntests:		.long 0
fails:		.long 0
sel:		.long 0
ctr:		.long 0
gctl:		.long 0
gclr:		.long 0
numbuf:		.fill 24, 1, 0

	.align	16
gdt64_desc:
	.word	gdt64_end - gdt64 - 1
	.quad	gdt64
	.align	16
gdt64:
	.quad	0
	.quad	0x00AF9B000000FFFF		/* 0x08: 64-bit code */
	.quad	0x00CF93000000FFFF		/* 0x10: data */
tss_descr:
	.quad	0x0000890000000067		/* 0x18: 64-bit TSS, base below */
	.quad	0
gdt64_end:

	.align	16
tss:
	.long	0
	.quad	stacktop			/* RSP0 */
	.fill	92, 1, 0

idt_descr:
	.word	16 * 256 - 1
	.quad	idt

/* The low 4 GiB in 2 MiB pages (present, writable, user, accessed,
 * dirty, large, global: 0x1E7), as cstart64.S maps it. */
	.align	4096
ptl2:
	.set	i, 0
	.rept	512 * 4
	.quad	0x1E7 | (i << 21)
	.set	i, i + 1
	.endr
ptl3:
	.quad	ptl2 + 7 + 0 * 4096
	.quad	ptl2 + 7 + 1 * 4096
	.quad	ptl2 + 7 + 2 * 4096
	.quad	ptl2 + 7 + 3 * 4096
	.fill	508, 8, 0
ptl4:
	.quad	ptl3 + 7
	.fill	511, 8, 0

	.bss
	.align	4096
idt:	.skip	16 * 256
	.skip	16384
stacktop:

	.section .note.GNU-stack, "", @progbits
