#!/usr/bin/env python3
"""Turn the restorer blob into an assembler file that defines
ckpt_restorer_blob / ckpt_restorer_blob_end (read-only data)."""
import sys

data = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'w') as out:
    out.write('\t.section .rodata\n\t.balign 4096\n')
    out.write('\t.globl ckpt_restorer_blob\n\t.hidden ckpt_restorer_blob\nckpt_restorer_blob:\n')
    for i in range(0, len(data), 16):
        out.write('\t.byte ' + ','.join(str(b) for b in data[i:i + 16]) + '\n')
    out.write('\t.globl ckpt_restorer_blob_end\n\t.hidden ckpt_restorer_blob_end\n')
    out.write('ckpt_restorer_blob_end:\n')
    out.write('\t.section .note.GNU-stack,"",@progbits\n')
