/* user: running a function at CPL 3 (IRETQ there, INT 0x81 back) and the
 * SYSCALL entry (its own stack, the handler, SYSRETQ). */
	.code64
	.text

/* void mvg_run_user(void (*fn)(void *), void *arg) */
	.globl mvg_run_user
	.type mvg_run_user, @function
mvg_run_user:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, mvg_user_saved_rsp(%rip)
	lea mvg_user_stack_top(%rip), %rax
	pushq $0x1b
	pushq %rax
	pushfq
	pushq $0x23
	lea mvg_user_entry(%rip), %rax
	pushq %rax
	iretq
	.size mvg_run_user, . - mvg_run_user

	.type mvg_user_entry, @function
mvg_user_entry:
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	int $0x81
	ud2
	.size mvg_user_entry, . - mvg_user_entry

/* Where the INT 0x81 handler returns to, at CPL 0 on the saved stack. */
	.globl mvg_user_resume
	.type mvg_user_resume, @function
mvg_user_resume:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size mvg_user_resume, . - mvg_user_resume

	.globl mvg_syscall_entry
	.type mvg_syscall_entry, @function
mvg_syscall_entry:
	mov %rsp, mvg_syscall_user_rsp(%rip)
	lea mvg_syscall_stack_top(%rip), %rsp
	push %rcx
	push %r11
	mov %rdi, %rsi
	mov %rax, %rdi
	call *mvg_syscall_handler(%rip)
	pop %r11
	pop %rcx
	mov mvg_syscall_user_rsp(%rip), %rsp
	sysretq
	.size mvg_syscall_entry, . - mvg_syscall_entry

	.data
	.balign 8
	.globl mvg_user_saved_rsp, mvg_syscall_handler
mvg_user_saved_rsp: .quad 0
mvg_syscall_user_rsp: .quad 0
mvg_syscall_handler: .quad 0

	.bss
	.balign 16
	.skip 16384
mvg_user_stack_top:
	.skip 16384
mvg_syscall_stack_top:

	.section .note.GNU-stack, "", @progbits
