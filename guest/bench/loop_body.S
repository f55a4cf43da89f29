/* The loop of `make bench` (bench/bench_realcode.c): 16 instructions per
 * iteration, two loads and one store to a 2 KiB buffer, one conditional
 * branch taken back; an ordinary block, neither a tight DEC/JNZ nor
 * anything special.  (Stores are what Unicorn 2.0.1 is slow at: see
 * docs/realcode.md "Speed".)
 *
 * void bench_loop(uint64_t n): 3 + 16n + 1 instructions (RET included). */
	.code64
	.text
	.globl bench_loop
	.type bench_loop, @function
bench_loop:
	lea bench_buf(%rip), %rsi
	xor %eax, %eax
	xor %ecx, %ecx
1:	mov (%rsi, %rcx, 8), %rdx
	add %rdx, %rax
	lea 1(%rax, %rdx, 2), %r8
	xor $0x55, %r8
	imul $7, %r8, %r9
	add %r9, %rax
	mov 8(%rsi, %rcx, 8), %r10
	sub %r10, %rax
	rol $3, %rax
	inc %ecx
	and $255, %ecx
	mov %rax, (%rsi, %rcx, 8)
	shr $1, %rax
	or %r8, %r11
	dec %rdi
	jnz 1b
	ret
	.size bench_loop, . - bench_loop

/* Where the benchmark's engine-only run starts (RDI = n) and stops. */
	.globl bench_raw_entry, bench_raw_done
	.type bench_raw_entry, @function
bench_raw_entry:
	call bench_loop
bench_raw_done:
	hlt
	.size bench_raw_entry, . - bench_raw_entry

	.bss
	.balign 64
bench_buf:
	.skip 4096 + 64

	.section .note.GNU-stack, "", @progbits
