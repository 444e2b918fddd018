#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Prints the compiler and clippy diagnostics of a build log that concern files.

    warnings.py LOG FILES    FILES: one path (or path prefix) per line

A diagnostic runs from its "warning:"/"error:" line to the next blank line;
it concerns FILES when any location in it does, also a macro of another file
expanded in one of them ("::: file:line"). C warnings ("file:line:col:
warning:") concern FILES when their file does. Exits 0 either way.
"""

import os
import re
import sys


def main():
    log, listing = sys.argv[1:]
    ours = [line.strip() for line in open(listing) if line.strip()]
    found, block = [], []

    def done():
        # rustc spells a file included by #[path] as dir/../file.
        locs = [os.path.normpath(loc) for loc in
                re.findall(r'^\s*(?:-->|:::) (\S+):\d+', ''.join(block), re.M)]
        if block and any(o in loc for loc in locs for o in ours):
            found.append(''.join(block[:12]))

    for line in open(log, errors='replace'):
        m = re.match(r'^(\S+):\d+:\d+: (warning|error): ', line)
        if m:
            if any(o in os.path.normpath(m.group(1)) for o in ours):
                found.append(line)
            continue
        if re.match(r'^(warning|error)(\[\S+\])?: ', line):
            done()
            block = [line]
        elif block and not line.strip():
            done()
            block = []
        elif block:
            block.append(line)
    done()
    sys.stdout.write('\n'.join(found))


if __name__ == '__main__':
    main()
