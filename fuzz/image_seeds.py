#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_image (fuzz/corpus/image): inputs in the
format fuzz/fuzz_image.c describes (4 header bytes, then code or a list of
operations).  Run from the top of the tree: python3 fuzz/image_seeds.py"""
import os

OPS = ("WRMSR RDMSR WRMSR_RAW RDPMC CPUID IN OUT LOOP STI CLI HLT INT CR4 USER "
       "SYSCALL_SETUP SYSCALL SYSRET RDTSC RAW ARM LVTPC EOI STRING_IO").split()
OP = {n: i for i, n in enumerate(OPS)}
MODELS = ["skylake", "icelake", "sapphirerapids", "zen3", "zen4", "zen5"]
NONE, EMULATED, MEDIATED = 0, 1, 2
CODE, BOOT, OPLIST = 0, 1, 2


def hdr(model, vpmu, mode, fc3=False, knob=0, dpl3=False, skid=0, inject=0):
    return bytes([MODELS.index(model), vpmu | (4 if fc3 else 0) | knob << 4,
                  mode | (4 if dpl3 else 0), skid | inject << 4])


def ops(*items):
    out = bytearray()
    for it in items:
        if isinstance(it, str):
            out.append(OP[it])
        elif isinstance(it, int):
            out.append(it & 0xFF)
        else:
            out += bytes(it)
    return bytes(out)


def le32(v):
    return (v & 0xFFFFFFFF).to_bytes(4, "little")


# A counter armed to overflow, its PMI on fixed vector 0x20 (LVTPC table
# index 1), interrupts on, a loop that overflows it, reads.
PMI = ops("ARM", 0x00, 0x10, "LVTPC", 1, "STI", "LOOP", 0x00, 0x04, "RDPMC", 0,
          "CPUID", 2, 0, "EOI", "LVTPC", 0, "LOOP", 0x00, 0x02, "RDMSR", 16)
# The same with an NMI (LVTPC table index 0) and a HLT that a PMI ends.
NMI = ops("ARM", 0x01, 0x02, "LVTPC", 0, "LOOP", 0x80, 0x01, "RDPMC", 1, "HLT")
# User mode, RDPMC there (#GP without CR4.PCE, then with it), SYSCALL back.
USER = ops("SYSCALL_SETUP", 0, 0, "CR4", 1, "USER", 0x03, "RDPMC", 0, "RDMSR", 0,
           "IN", 0, 0, 0, 0, 0, "SYSCALL", "RDPMC", 6, "SYSRET", 0x01, "INT", 0x30,
           "SYSCALL", "RDTSC", 1)
# Ports: the UART, open bus, string I/O to the serial port.
PORTS = ops("OUT", 0, 0x48, 0, 0, 0, "OUT", 0, 0x69, 0, 0, 0, "IN", 0x15, 0, 0, 0, 0,
            "IN", 0x89, 0x34, 0x12, 0, 0, 0, 0, 0, 0, "STRING_IO", 0x05, "STRING_IO", 0x47,
            "OUT", 0x13, 0x0A, 0, 0, 0)
# Every kind of MSR access, good and bad.
MSRS = ops(*[x for i in range(0, 60, 3) for x in ("RDMSR", i, "WRMSR", i, le32(0x1234), le32(0))],
           "WRMSR_RAW", le32(0xC0010200), le32(0x4300C0), le32(0),
           "WRMSR_RAW", le32(0x38F), le32(0xFFFFFFFF), le32(0xFFFFFFFF),
           "RDPMC", 0x85, le32(0x40000003), "RDPMC", 0x86, le32(0x7FFFFFFF))
# Faults and traps: INT3, a divide by zero, UD2 (raw bytes), INT n.
FAULTS = ops("INT", 3, "RAW", 2, 0x0F, 0x0B, "RAW", 4, 0x31, 0xC9, 0xF7, 0xF1,
             "INT", 0x80, "INT", 0x0D, "CR4", 0x80, le32(0x10000000), "RDTSC", 0)

# Code: WRMSR to PERFEVTSEL0, RDPMC, RDMSR of GLOBAL_STATUS, HLT.
CODE_PMU = bytes([0xB9, 0x86, 0x01, 0, 0, 0xB8, 0xC0, 0x00, 0x53, 0x00, 0x31, 0xD2,
                  0x0F, 0x30, 0x31, 0xC9, 0x0F, 0x33, 0xB9, 0x8E, 0x03, 0, 0, 0x0F, 0x32,
                  0xB9, 0x00, 0x01, 0, 0, 0xFF, 0xC9, 0x75, 0xFC, 0xF4])
# Code: UD2, #GP by WRMSR to nothing, a jump to unmapped memory.
CODE_FAULTS = bytes([0x0F, 0x0B, 0x31, 0xC9, 0x0F, 0x30, 0x48, 0xB8, 0, 0, 0, 0, 0x10, 0,
                     0, 0, 0xFF, 0xE0])
# Code: SYSCALL without SCE, INT 0x21, IRET to nowhere.
CODE_MISC = bytes([0x0F, 0x05, 0xCD, 0x21, 0xFB, 0x90, 0xF4, 0x0F, 0xA2, 0xE4, 0x80,
                   0xEC, 0x6A, 0x00, 0x48, 0xCF])

SEEDS = {
    "ops-pmi-spr": hdr("sapphirerapids", MEDIATED, OPLIST) + PMI,
    "ops-pmi-spr-fc3": hdr("sapphirerapids", MEDIATED, OPLIST, fc3=True) + PMI,
    "ops-pmi-icl-emulated": hdr("icelake", EMULATED, OPLIST) + PMI,
    "ops-pmi-skl-bare": hdr("skylake", NONE, OPLIST, skid=2) + PMI,
    "ops-pmi-zen4": hdr("zen4", MEDIATED, OPLIST) + PMI,
    "ops-pmi-zen3-emulated": hdr("zen3", EMULATED, OPLIST) + PMI,
    "ops-nmi-zen5-inject": hdr("zen5", MEDIATED, OPLIST, inject=2) + NMI,
    "ops-nmi-spr-knob": hdr("sapphirerapids", MEDIATED, OPLIST, knob=6) + NMI,
    "ops-user-skl": hdr("skylake", MEDIATED, OPLIST, dpl3=True) + USER,
    "ops-user-zen4-bare": hdr("zen4", NONE, OPLIST) + USER,
    "ops-ports-icl": hdr("icelake", MEDIATED, OPLIST) + PORTS,
    "ops-ports-zen3-bare": hdr("zen3", NONE, OPLIST) + PORTS,
    "ops-msrs-spr": hdr("sapphirerapids", MEDIATED, OPLIST) + MSRS,
    "ops-msrs-zen5-emulated": hdr("zen5", EMULATED, OPLIST) + MSRS,
    "ops-faults-skl": hdr("skylake", MEDIATED, OPLIST, dpl3=True) + FAULTS,
    "code-pmu-spr": hdr("sapphirerapids", MEDIATED, CODE) + CODE_PMU,
    "code-pmu-skl-bare": hdr("skylake", NONE, CODE) + CODE_PMU,
    "code-faults-zen4": hdr("zen4", MEDIATED, CODE) + CODE_FAULTS,
    "code-misc-icl": hdr("icelake", EMULATED, CODE) + CODE_MISC,
    "boot-ud2-spr": hdr("sapphirerapids", MEDIATED, BOOT) + bytes([0x0F, 0x0B]),
    "boot-hlt-zen5": hdr("zen5", MEDIATED, BOOT) + bytes([0xF4]),
    "boot-pmu-skl": hdr("skylake", MEDIATED, BOOT) + CODE_PMU,
    "boot-loop-zen3": hdr("zen3", NONE, BOOT) + bytes([0xEB, 0xFE]),
    # Found by fuzzing: CR4.SMEP with every page user-accessible, so each
    # handler fetch faults and the #PF comes back for ever (IST: the same
    # state each time).  The engine now ends such an exception loop.
    "regress-smep-loop": hdr("sapphirerapids", MEDIATED, CODE) +
                         bytes([0x0F, 0x20, 0xE0, 0x0D, 0x00, 0x00, 0x10, 0x00, 0x0F, 0x22,
                                0xE0, 0x90, 0x90]),
    # Found by fuzzing: JMP FAR with a register operand (FF /5, mod 3), on
    # which libunicorn 2.0.1 aborts; the engine ends the guest instead.
    "regress-farreg": hdr("zen4", MEDIATED, BOOT) + bytes([0x90, 0xFF, 0xEF]),
}

os.makedirs("fuzz/corpus/image", exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join("fuzz/corpus/image", name), "wb") as f:
        f.write(data)
