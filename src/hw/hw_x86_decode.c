/* hw_x86_decode: the decoded-block cache.  Each translation block Unicorn
 * announces is decoded once with Zydis (Debian's libzydis, chosen for an
 * exact x86 decoder with instruction categories and no text formatting):
 * instruction count, branch kinds, the ELF symbol of every instruction,
 * and the instructions the engine must execute itself.  Its bytes are
 * kept and compared on every use, so code the guest rewrites is decoded
 * again. */
#include <stdlib.h>
#include <string.h>

#include "hw_x86_internal.h"

#define MAX_BLOCKS (1u << 22)	/* beyond this, the cache starts over */

int x86_decode_init(struct hw_x86 *x)
{
	/* The decoding of 32-bit code is the same in legacy protected and in
	 * compatibility mode: one decoder per code size. */
	if (ZYAN_FAILED(ZydisDecoderInit(&x->dec[X86_MODE_64], ZYDIS_MACHINE_MODE_LONG_64,
					 ZYDIS_STACK_WIDTH_64)) ||
	    ZYAN_FAILED(ZydisDecoderInit(&x->dec[X86_MODE_32], ZYDIS_MACHINE_MODE_LEGACY_32,
					 ZYDIS_STACK_WIDTH_32)) ||
	    ZYAN_FAILED(ZydisDecoderInit(&x->dec[X86_MODE_16], ZYDIS_MACHINE_MODE_LEGACY_16,
					 ZYDIS_STACK_WIDTH_16)))
		return -1;
	x->cap_slot = 1 << 12;
	x->slot = calloc(x->cap_slot, sizeof(*x->slot));
	return x->slot ? 0 : -1;
}

void x86_decode_free(struct hw_x86 *x)
{
	free(x->blk);
	free(x->ins);
	free(x->code);
	free(x->slot);
}

static size_t hash(uint64_t addr, uint32_t size, unsigned mode, size_t cap)
{
	uint64_t h = (addr ^ ((uint64_t)size << 52) ^ ((uint64_t)mode << 50)) * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 20) & (cap - 1);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 256;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static int rehash(struct hw_x86 *x)
{
	size_t cap = x->cap_slot * 2;
	uint32_t *s = calloc(cap, sizeof(*s));

	if (!s)
		return -1;
	for (size_t i = 0; i < x->cap_slot; i++) {
		const struct x86_block *b;
		size_t h;

		if (!x->slot[i])
			continue;
		b = &x->blk[x->slot[i] - 1];
		for (h = hash(b->addr, b->size, b->mode, cap); s[h]; h = (h + 1) & (cap - 1))
			;
		s[h] = x->slot[i];
	}
	free(x->slot);
	x->slot = s;
	x->cap_slot = cap;
	return 0;
}

/* The cache starts over (a guest that keeps writing new code). */
static void reset_cache(struct hw_x86 *x)
{
	memset(x->slot, 0, x->cap_slot * sizeof(*x->slot));
	x->nr_blk = x->nr_ins = x->nr_code = 0;
	x->mru = 0;
	x->cur = NULL;
}

static void classify_io(const ZydisDecodedInstruction *d, struct x86_insn *in)
{
	unsigned op = d->opcode;

	in->kind = XK_IO;
	in->size = op & 1 ? (d->operand_width == 16 ? 2 : 4) : 1;
	switch (d->mnemonic) {
	case ZYDIS_MNEMONIC_IN:
		in->aux = XIO_IN | (op >= 0xEC ? XIO_DX : 0);
		break;
	case ZYDIS_MNEMONIC_OUT:
		in->aux = op >= 0xEE ? XIO_DX : 0;
		break;
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
		in->aux = XIO_IN | XIO_DX | XIO_STRING;
		break;
	default:	/* OUTSB/W/D */
		in->aux = XIO_DX | XIO_STRING;
		if (d->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_FS)
			in->aux |= XIO_SEG_FS;
		if (d->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS)
			in->aux |= XIO_SEG_GS;
		break;
	}
	if (in->aux & XIO_STRING) {
		if (d->attributes & ZYDIS_ATTRIB_HAS_REP)
			in->aux |= XIO_REP;
		if (d->address_width == 32)
			in->aux |= XIO_ADDR32;
	} else if (!(in->aux & XIO_DX)) {
		in->arg = (uint8_t)d->raw.imm[0].value.u;
	}
}

/* Which instructions count as branches, and which the engine executes:
 * docs/realcode.md "Counting" is the list in words. */
static void classify(const ZydisDecodedInstruction *d, struct x86_insn *in)
{
	bool far = d->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;

	in->kind = XK_PLAIN;
	in->flags = 0;
	switch (d->mnemonic) {
	case ZYDIS_MNEMONIC_JCXZ: case ZYDIS_MNEMONIC_JECXZ: case ZYDIS_MNEMONIC_JRCXZ:
	case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE: case ZYDIS_MNEMONIC_LOOPNE:
		in->flags = XF_BRANCH | XF_COND;
		return;
	case ZYDIS_MNEMONIC_JMP: case ZYDIS_MNEMONIC_CALL: case ZYDIS_MNEMONIC_RET:
		in->flags = XF_BRANCH | (far ? XF_CPL : 0);
		return;
	case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRETQ:
		in->flags = XF_BRANCH | XF_CPL | XF_IRET | XF_IF;
		return;
	case ZYDIS_MNEMONIC_SYSRET:
		in->kind = XK_SYSRET;
		in->flags = XF_BRANCH;
		in->aux = d->operand_width == 64;	/* SYSRETQ: to 64-bit mode */
		return;
	case ZYDIS_MNEMONIC_STI:
		in->flags = XF_IF | XF_SHADOW;
		return;
	case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_POPFQ:
		in->flags = XF_IF;
		return;
	case ZYDIS_MNEMONIC_MOV:
		/* MOV Sreg, r/m with Sreg = SS (8E /2) */
		if (d->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d->opcode == 0x8E &&
		    d->raw.modrm.reg == 2)
			in->flags = XF_SHADOW;
		/* MOV to CR0, CR3, CR4 (0F 22 /r): paging may change. */
		if (d->opcode_map == ZYDIS_OPCODE_MAP_0F && d->opcode == 0x22 &&
		    (d->raw.modrm.reg == 0 || d->raw.modrm.reg == 3 || d->raw.modrm.reg == 4) &&
		    !(d->attributes & ZYDIS_ATTRIB_HAS_REX && d->raw.rex.R))
			in->flags = XF_TLB;
		return;
	case ZYDIS_MNEMONIC_INVLPG: case ZYDIS_MNEMONIC_INVPCID:
		in->flags = XF_TLB;
		return;
	case ZYDIS_MNEMONIC_WRMSR: in->kind = XK_WRMSR; return;
	case ZYDIS_MNEMONIC_RDMSR: in->kind = XK_RDMSR; return;
	case ZYDIS_MNEMONIC_RDPMC: in->kind = XK_RDPMC; return;
	case ZYDIS_MNEMONIC_CPUID: in->kind = XK_CPUID; return;
	case ZYDIS_MNEMONIC_HLT: in->kind = XK_HLT; return;
	case ZYDIS_MNEMONIC_RDTSC: in->kind = XK_RDTSC; return;
	case ZYDIS_MNEMONIC_RDTSCP: in->kind = XK_RDTSCP; return;
	case ZYDIS_MNEMONIC_SYSCALL: in->kind = XK_SYSCALL; return;
	case ZYDIS_MNEMONIC_INT:
		in->kind = XK_INT;
		in->arg = (uint8_t)d->raw.imm[0].value.u;
		return;
	case ZYDIS_MNEMONIC_INT3: in->kind = XK_INT; in->arg = 3; return;
	case ZYDIS_MNEMONIC_INT1: in->kind = XK_INT; in->arg = 1; in->aux = 1; return;
	case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT:
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
		classify_io(d, in);
		return;
	case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
	case ZYDIS_MNEMONIC_RDRAND: case ZYDIS_MNEMONIC_RDSEED:
	case ZYDIS_MNEMONIC_MONITOR: case ZYDIS_MNEMONIC_MWAIT:
	case ZYDIS_MNEMONIC_MONITORX: case ZYDIS_MNEMONIC_MWAITX:
		in->kind = XK_UD;
		return;
	default:
		break;
	}
	switch (d->meta.category) {
	case ZYDIS_CATEGORY_STRINGOP:
		if (d->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
				     ZYDIS_ATTRIB_HAS_REPNE))
			in->flags = XF_REP;
		break;
	case ZYDIS_CATEGORY_COND_BR:
		in->flags = XF_BRANCH | XF_COND;
		break;
	case ZYDIS_CATEGORY_UNCOND_BR: case ZYDIS_CATEGORY_CALL: case ZYDIS_CATEGORY_RET:
		in->flags = XF_BRANCH | (far ? XF_CPL : 0);
		break;
	default:
		break;
	}
}

static int32_t sym_of(const struct hw_x86 *x, uint64_t addr)
{
	long s = x->elf ? hw_elf_symbol_at(x->elf, addr) : -1;

	return s < 0 ? (int32_t)x->nr_sym : (int32_t)s;
}

static const struct x86_block *decode(struct hw_x86 *x, uint64_t addr, uint32_t size,
				      const uint8_t *bytes)
{
	struct x86_block *b;
	uint32_t off = 0;

	if (x->nr_blk >= MAX_BLOCKS)
		reset_cache(x);
	if (grow((void **)&x->blk, &x->cap_blk, x->nr_blk + 1, sizeof(*x->blk)) ||
	    grow((void **)&x->ins, &x->cap_ins, x->nr_ins + size + 1, sizeof(*x->ins)) ||
	    grow((void **)&x->code, &x->cap_code, x->nr_code + size + 1, 1))
		return NULL;
	b = &x->blk[x->nr_blk];
	memset(b, 0, sizeof(*b));
	b->addr = addr;
	b->size = size;
	b->mode = (uint8_t)x->mode;
	b->first = (uint32_t)x->nr_ins;
	b->bytes = (uint32_t)x->nr_code;
	memcpy(x->code + x->nr_code, bytes, size);
	while (off < size) {
		struct x86_insn *in = &x->ins[b->first + b->nr];
		ZydisDecodedInstruction d;
		ZydisDecoderContext dctx;

		memset(in, 0, sizeof(*in));
		if (ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&x->dec[x->mode], &dctx, bytes + off,
							      size - off, &d))) {
			in->len = d.length;
			classify(&d, in);
		} else {
			/* Undecodable: it raises #UD when it runs, and never retires. */
			in->len = (uint8_t)(size - off > 15 ? 15 : size - off);
		}
		in->sym = sym_of(x, addr + off);
		if (b->nr == 0)
			b->sym = in->sym;
		else if (b->sym != in->sym)
			b->sym = -1;
		if (in->flags & XF_BRANCH)
			b->branches++;
		if (in->flags & XF_COND)
			b->cond++;
		if (in->flags & XF_TLB)
			b->tlb = true;
		if (in->kind != XK_PLAIN)
			b->special = true;
		b->last_flags = in->flags;
		off += in->len;
		b->nr++;
	}
	x->nr_ins += b->nr;
	x->nr_code += size;
	x->nr_blk++;
	x->st.blocks++;
	return b;
}

const struct x86_block *x86_block_get(struct hw_x86 *x, uint64_t addr, uint32_t size,
				      bool *rewritten)
{
	uint8_t tmp[4096];
	const uint8_t *bytes = x86_phys(x, addr, size);
	const struct x86_block *nb;
	unsigned mode = x->mode;
	size_t h;

	x->decode_err = NULL;
	*rewritten = false;
	/* Code away from guest RAM's own addresses runs through an alias
	 * (hw_x86_paging.c): Unicorn reads it where it runs it. */
	if (!bytes) {
		if (size > sizeof(tmp) || uc_mem_read(x->uc, addr, tmp, size) != UC_ERR_OK) {
			x->decode_err = "cannot read the code";
			return NULL;
		}
		bytes = tmp;
	}
	/* A loop runs the same block again and again. */
	if (x->mru) {
		const struct x86_block *b = &x->blk[x->mru - 1];

		if (b->addr == addr && b->size == size && b->mode == mode &&
		    !memcmp(x->code + b->bytes, bytes, size))
			return b;
	}
	for (h = hash(addr, size, mode, x->cap_slot); x->slot[h]; h = (h + 1) & (x->cap_slot - 1)) {
		const struct x86_block *b = &x->blk[x->slot[h] - 1];

		if (b->addr != addr || b->size != size || b->mode != mode)
			continue;
		if (!memcmp(x->code + b->bytes, bytes, size)) {
			x->mru = x->slot[h];
			return b;
		}
		/* The guest rewrote this code: decode it again in place. */
		*rewritten = true;
		nb = decode(x, addr, size, bytes);
		if (nb && x->nr_blk)
			x->slot[h] = (uint32_t)x->nr_blk;
		x->mru = nb ? x->nr_blk : 0;
		return nb;
	}
	nb = decode(x, addr, size, bytes);
	if (!nb)
		return NULL;
	x->mru = x->nr_blk;
	if (x->nr_blk * 2 > x->cap_slot && rehash(x))
		return NULL;
	for (h = hash(addr, size, mode, x->cap_slot); x->slot[h]; h = (h + 1) & (x->cap_slot - 1))
		;
	x->slot[h] = (uint32_t)x->nr_blk;
	return nb;
}

bool x86_decode_one(struct hw_x86 *x, uint64_t addr, const uint8_t *bytes, size_t len,
		    struct x86_insn *in, ZydisDecodedInstruction *d)
{
	ZydisDecoderContext dctx;

	memset(in, 0, sizeof(*in));
	if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&x->dec[x->mode], &dctx, bytes, len, d)))
		return false;
	in->len = d->length;
	classify(d, in);
	in->sym = sym_of(x, addr);
	return true;
}

/* The Unicorn register holding a Zydis general-purpose register (its
 * largest enclosing one), -1 when none. */
static int uc_gpr(ZydisRegister r)
{
	static const int gpr[16] = {
		UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
		UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
		UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
		UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
	};
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	if (big >= ZYDIS_REGISTER_RAX && big <= ZYDIS_REGISTER_R15)
		return gpr[big - ZYDIS_REGISTER_RAX];
	return -1;
}

static uint64_t reg_value(struct hw_x86 *x, ZydisRegister r)
{
	int u = uc_gpr(r);
	unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);

	if (u < 0)
		return 0;
	return x86_reg(x, u) & X86_MASK(w);
}

bool x86_insn_mem(struct hw_x86 *x, uint64_t addr, const uint8_t *bytes, size_t len,
		  uint64_t *ea, unsigned *size, bool *write)
{
	ZydisDecodedInstruction d;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];

	if (ZYAN_FAILED(ZydisDecoderDecodeFull(&x->dec[x->mode], bytes, len, &d, op)))
		return false;
	for (unsigned i = 0; i < d.operand_count; i++) {
		const ZydisDecodedOperand *o = &op[i];
		uint64_t a;

		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.type != ZYDIS_MEMOP_TYPE_MEM)
			continue;
		if (o->mem.base == ZYDIS_REGISTER_RIP || o->mem.base == ZYDIS_REGISTER_EIP)
			a = addr + d.length;
		else
			a = o->mem.base == ZYDIS_REGISTER_NONE ? 0 : reg_value(x, o->mem.base);
		if (o->mem.index != ZYDIS_REGISTER_NONE)
			a += reg_value(x, o->mem.index) * o->mem.scale;
		if (o->mem.disp.has_displacement)
			a += (uint64_t)o->mem.disp.value;
		a &= X86_MASK(d.address_width);
		if (o->mem.segment == ZYDIS_REGISTER_FS)
			a += x86_reg(x, UC_X86_REG_FS_BASE);
		else if (o->mem.segment == ZYDIS_REGISTER_GS)
			a += x86_reg(x, UC_X86_REG_GS_BASE);
		*ea = a;
		*size = o->size / 8;
		*write = (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
		return true;
	}
	return false;
}

long x86_block_index(const struct hw_x86 *x, const struct x86_block *b, uint64_t addr)
{
	uint64_t a = b->addr;

	for (uint32_t i = 0; i < b->nr; i++) {
		if (a == addr)
			return (long)i;
		a += x->ins[b->first + i].len;
	}
	return -1;
}

const struct x86_insn *x86_block_insn(const struct hw_x86 *x, const struct x86_block *b,
				      uint32_t i)
{
	return &x->ins[b->first + i];
}

uint64_t x86_block_insn_addr(const struct hw_x86 *x, const struct x86_block *b, uint32_t i)
{
	uint64_t a = b->addr;

	for (uint32_t k = 0; k < i && k < b->nr; k++)
		a += x->ins[b->first + k].len;
	return a;
}
