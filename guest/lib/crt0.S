/* crt0: the entry mvpmu jumps to (64-bit mode, CPL 0, interrupts off):
 * the runtime's own stack, the descriptor tables, then main(), whose
 * return value is the exit code.  The loader has zeroed .bss (the part
 * of a segment beyond its file size, as ELF requires). */
	.code64
	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	cli
	lea mvg_stack_top(%rip), %rsp
	xor %ebp, %ebp
	call mvg_init
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

	.section .note.GNU-stack, "", @progbits
