/* measure: loops of a known length, to count exactly (docs/realcode.md).
 *
 * void mvg_measure(uint32_t msr, uint64_t on, uint64_t off, uint64_t n)
 *   WRMSR msr <- on; MOV; n x (DEC, JNZ); 3 x MOV/SHR; WRMSR msr <- off.
 *   A counter that the first WRMSR enables and the second disables counts
 *   MVG_MEASURE_INSNS(n) = 2n + 5 instructions (the disabling WRMSR is
 *   counted, the enabling one is not), MVG_MEASURE_BRANCHES(n) = n
 *   branches, all conditional, n >= 1.  In a VM that intercepts both
 *   writes the totals are the same (KVM counts the enabling one and not
 *   the disabling one).
 *
 * void mvg_user_loop(void *n)   (for mvg_run_user)
 *   MOV; n x (DEC, JNZ); RET: 2n + 2 instructions, n + 1 branches.  Run
 *   by mvg_run_user it retires MVG_RUN_USER_LOOP_INSNS(n) = 2n + 6
 *   instructions at CPL 3 (the runtime's MOV, MOV, CALL before it and
 *   its INT 0x81 after), n + 3 branches (CALL, the JNZs, RET, INT). */
	.code64
	.text
	.globl mvg_measure
	.type mvg_measure, @function
mvg_measure:
	push %rbx
	mov %rdx, %r8
	mov %rcx, %r9
	mov %edi, %ecx
	mov %esi, %eax
	mov %rsi, %rdx
	shr $32, %rdx
	wrmsr
	mov %r9, %rbx
1:	dec %rbx
	jnz 1b
	mov %r8d, %eax
	mov %r8, %rdx
	shr $32, %rdx
	wrmsr
	pop %rbx
	ret
	.size mvg_measure, . - mvg_measure

	.globl mvg_user_loop
	.type mvg_user_loop, @function
mvg_user_loop:
	mov %rdi, %rax
1:	dec %rax
	jnz 1b
	ret
	.size mvg_user_loop, . - mvg_user_loop

	.section .note.GNU-stack, "", @progbits
