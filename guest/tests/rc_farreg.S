/* rc_farreg: CALL FAR with a register operand (FF /3, mod 3), which is
 * not an instruction (#UD on hardware) and on which libunicorn 2.0.1's
 * code generator aborts the process: the engine ends the guest with an
 * error instead.  It bypasses the runtime (its own _start). */
	.section .text.entry, "ax"
	.globl _start
_start:
	nop
	nop
	.byte 0xFF, 0xD8

	.section .note.GNU-stack, "", @progbits
