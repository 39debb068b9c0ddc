#!/usr/bin/env python3
"""Test: the linked restorer has no undefined symbols, no relocations, and
no writable section with content (see README.md)."""
import subprocess
import sys

elf = sys.argv[1]
undefined = subprocess.run(['nm', '-u', elf], capture_output=True, text=True, check=True).stdout
relocs = subprocess.run(['readelf', '-r', elf], capture_output=True, text=True, check=True).stdout
sections = subprocess.run(['readelf', '-S', '-W', elf], capture_output=True, text=True,
                          check=True).stdout
problems = []
if undefined.strip():
    problems.append('undefined symbols:\n' + undefined)
if 'Relocation section' in relocs:
    problems.append('relocations:\n' + relocs)
for line in sections.splitlines():
    parts = line.split()
    if '.data' in parts:
        size = int(parts[parts.index('.data') + 4], 16)
        if size:
            problems.append('a .data/.bss of %d bytes' % size)
if problems:
    print('restorer is not freestanding: ' + '\n'.join(problems))
    sys.exit(1)
print('restorer: freestanding, %s' % elf)
