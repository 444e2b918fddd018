#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Reads the serial log of one E2E scenario and decides whether it proved
# what it set out to prove. Prints "PASS <summary>" or "FAIL <reasons>".
#
#   check.py LOG --manifest FILE [--test-version N]
#
# The log holds two kernels: the guest's /init prints "E2E-CHECK <name>
# PASS|FAIL <detail>" lines (tests/e2e/lu_init.c), the kernels print their
# own lines (kho_compat:, kexec_core:).

import argparse
import re
import sys


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('log')
    ap.add_argument('--manifest', required=True,
                    help='the manifest the build wrote for the first kernel')
    ap.add_argument('--test-version', type=int,
                    help='format the test component must hand over and restore')
    a = ap.parse_args()

    text = open(a.log, errors='replace').read().replace('\r', '')
    lines = text.split('\n')
    why = []

    # Split the log at the kexec.
    kexec_at = next((i for i, l in enumerate(lines)
                     if 'kexec_core: Starting new kernel' in l), None)
    if kexec_at is None:
        why.append('no kexec happened')
        first, second = lines, []
    else:
        first, second = lines[:kexec_at], lines[kexec_at:]

    def checks(part):
        out = {}
        for l in part:
            m = re.search(r'E2E-CHECK (\S+) (PASS|FAIL) (.*)', l)
            if m:
                out[m.group(1)] = (m.group(2), m.group(3))
        return out

    c1, c2 = checks(first), checks(second)
    for stage, got, names in (
            (1, c1, ['luo-open', 'luo-session', 'memfd-fill', 'memfd-preserve',
                     'manifest', 'record-out', 'kexec-load']),
            (2, c2, ['luo-open', 'luo-session', 'memfd-retrieve', 'memfd-verify',
                     'luo-finish', 'record-in', 'incoming'])):
        for n in names:
            if n not in got:
                why.append(f'stage {stage}: no {n} check')
            elif got[n][0] != 'PASS':
                why.append(f'stage {stage}: {n} failed: {got[n][1]}')
    if not any('E2E-DONE stage 2: 0 failed' in l for l in second):
        why.append('stage 2 did not complete')

    def fnv(detail):
        m = re.search(r'fnv1a64=([0-9a-f]+)', detail or '')
        return m.group(1) if m else None

    h1 = fnv(c1.get('memfd-fill', ('', ''))[1])
    h2 = fnv(c2.get('memfd-verify', ('', ''))[1])
    if not h1 or h1 != h2:
        why.append(f'memfd hash before kexec ({h1}) != after ({h2})')
    r1 = fnv(c1.get('record-out', ('', ''))[1])
    r2 = fnv(c2.get('record-in', ('', ''))[1])
    if not r1 or r1 != r2:
        why.append(f'record hash before kexec ({r1}) != after ({r2})')

    # The running kernel's manifest is the one the build wrote.
    want = '%016x' % fnv1a64(open(a.manifest, 'rb').read())
    got = fnv(c1.get('manifest', ('', ''))[1])
    if got != want:
        why.append(f'runtime manifest {got} differs from the build\'s {want}')

    # The second kernel read the record and accepted every component.
    rec = next((re.sub(r'.*kho_compat: ', '', l) for l in second
                if 'kho_compat: incoming handover record' in l), None)
    m = re.search(r': (\d+) of (\d+) components accepted', rec or '')
    if not m or m.group(1) != m.group(2):
        why.append(f'second kernel: {rec or "no record line"}')
    incoming = [l.split('E2E-INCOMING ', 1)[1] for l in second if 'E2E-INCOMING ' in l]
    bad = [l for l in incoming[1:] if ' accepted ' not in l]
    if not incoming or bad:
        why.append(f'incoming statuses not all accepted: {bad or "none printed"}')

    # The test component's data crossed in the expected format, same seed.
    summary_test = ''
    if a.test_version is not None:
        pre = [re.search(r'test component: (\d+) items \(format v(\d+)\) and (\d+) bytes '
                         r'preserved, seed (0x[0-9a-f]+)', l) for l in first]
        pre = [p for p in pre if p]
        post = next((re.search(r'test component: restored (\d+) items \(format v(\d+)\) '
                               r'and (\d+) bytes, seed (0x[0-9a-f]+): verified', l)
                     for l in second if 'test component: restored' in l), None)
        if not pre:
            why.append('first kernel: the test component preserved nothing')
        elif not post:
            why.append('second kernel: the test component restored and verified nothing')
        else:
            p = pre[-1]
            if p.groups() != post.groups():
                why.append(f'test component: preserved {p.groups()} but restored {post.groups()}')
            if int(post.group(2)) != a.test_version:
                why.append(f'test component used format v{post.group(2)}, '
                           f'expected v{a.test_version}')
            summary_test = (f'; test component {post.group(1)} items + {post.group(3)} bytes '
                            f'in v{post.group(2)} verified')

    if why:
        print('FAIL ' + '; '.join(why))
        return 1
    print(f'PASS memfd {h2} verified after kexec; record {r2} read: {m.group(0)[2:]}'
          f'{summary_test}')
    return 0


sys.exit(main())
