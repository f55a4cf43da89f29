/* crt0: the entry mvpmu jumps to (64-bit mode, CPL 0, interrupts off):
 * the runtime's own stack, a zeroed .bss, the descriptor tables, then
 * main(), whose return value is the exit code. */
	.code64
	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	cli
	lea mvg_stack_top(%rip), %rsp
	xor %ebp, %ebp
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	shr $3, %rcx
	xor %eax, %eax
1:	test %rcx, %rcx
	jz 2f
	mov %rax, (%rdi)
	add $8, %rdi
	dec %rcx
	jmp 1b
2:	call mvg_init
	call main
	mov %eax, %edi
	call mvg_exit
3:	hlt
	jmp 3b
	.size _start, . - _start

	.section .bss
	.balign 16
	.globl mvg_stack_top
mvg_stack:
	.skip 65536
mvg_stack_top:
