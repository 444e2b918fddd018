#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Reads the serial log of one E2E scenario and decides whether it proved
# what it set out to prove. Prints "PASS <summary>" or "FAIL <reasons>".
#
#   check.py LOG --first-manifest FILE --final-manifest FILE
#            [--test-version N | --test-status corrupt|missing]
#            [--test-modular] [--corrupt-format NAME] [--record-version N]
#            [--refused ENOEXEC|ENODATA] [--refused-names NAME,...]
#            [--verdict allowed|refused] [--warn-no-target] [--bad-input]
#            [--dry-run allowed|refused] [--origin TEXT] [--refused-text TEXT]
#            [--offline-verdict FILE] [--fault KIND[:ARG...]] [--race] [--oot]
#            [--sessions N] [--load-refused ECANCELED|ENODATA]
#            [--kexec-tools-says TEXT] [--systemd] [--cold-reboot]
#
# --load-refused: the load of the target failed (the check at the load), the
# kernel said why (--refused-text), nothing was loaded, then the retry.
# --kexec-tools-says: kexec-tools printed TEXT (the update was driven with
# Debian's kexec). --systemd: in systemd's order, the workload stopped only
# once the load succeeded. --cold-reboot: systemd's order without the check
# at the load: the kexec was refused at kexec -e, after the workload was
# stopped, and the host rebooted cold (no second kernel).
#
# --fault: the record was damaged in transit (kho_compat/fault); the second
# kernel must isolate it as tests/testing.rst says.
# Every log must be free of kernel reports (BUG, WARNING, UBSAN, KASAN,
# lockdep, a Rust panic).
#
# --verdict is the verdict read right after kexec_file_load() (of the loaded
# image), --dry-run the one read before (user space's manifest only),
# --origin what the verdict says its target manifest came from.
#
# The log holds two kernels (three boots' worth of lines when a kexec was
# refused and retried, all in the first kernel): the guest's /init prints
# "E2E-CHECK <name> PASS|FAIL <detail>" lines (tests/e2e/lu_init.c), the
# kernels print their own (kho_compat:, kexec_core:).

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from reports import REPORT  # noqa: E402  (tests/reports.py: what a kernel report is)


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


# The start of a message of the project's kernel code, which the console may
# print in the middle of a line of the guest's (the race sets the target
# thousands of times while /init writes its own lines).
KMSG = re.compile(r'(?:rust_kernel: )?kho_compat\w*: ')


def untangle(lines):
    """Moves kernel messages out of the guest's lines they interrupted.

    "E2E-CHECK x PASS de<kernel message>" then more whole kernel messages, then
    "tail": the kernel messages on lines of their own, then "E2E-CHECK x PASS detail".
    """
    out, i = [], 0
    while i < len(lines):
        l = lines[i]
        m = KMSG.search(l, 1) if l.startswith('E2E') else None
        if not m:
            out.append(l)
            i += 1
            continue
        out.append(l[m.start():])
        j = i + 1
        while j < len(lines) and KMSG.match(lines[j]):
            out.append(lines[j])
            j += 1
        rest = lines[j] if j < len(lines) else ''
        out.append(l[:m.start()] + rest)
        i = j + 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('log')
    ap.add_argument('--first-manifest', required=True)
    ap.add_argument('--final-manifest', required=True)
    ap.add_argument('--test-version', type=int)
    ap.add_argument('--test-status')
    ap.add_argument('--test-modular', action='store_true')
    ap.add_argument('--corrupt-format')
    ap.add_argument('--record-version', type=int)
    ap.add_argument('--refused')
    ap.add_argument('--refused-names', default='')
    ap.add_argument('--verdict')
    ap.add_argument('--warn-no-target', action='store_true')
    ap.add_argument('--bad-input', action='store_true')
    ap.add_argument('--dry-run')
    ap.add_argument('--origin')
    ap.add_argument('--oot', action='store_true')
    ap.add_argument('--refused-text', action='append', default=[])
    ap.add_argument('--offline-verdict')
    ap.add_argument('--fault')
    ap.add_argument('--race', action='store_true')
    ap.add_argument('--sessions', type=int, default=0)
    ap.add_argument('--load-refused')
    ap.add_argument('--kexec-tools-says')
    ap.add_argument('--systemd', action='store_true')
    ap.add_argument('--cold-reboot', action='store_true')
    ap.add_argument('--kho-off', action='store_true')
    ap.add_argument('--not-ready', choices=('load', 'exec'))
    ap.add_argument('--chain-fault', action='store_true')
    ap.add_argument('--kept', action='store_true')
    ap.add_argument('--load-flags')
    ap.add_argument('--no-memfd', action='store_true')
    ap.add_argument('--memfd-left-alone', action='store_true')
    ap.add_argument('--optional', choices=('kept', 'dropped'))
    ap.add_argument('--unversioned', choices=('listed', 'refused', 'flb', 'file', 'file-refused'))
    a = ap.parse_args()

    lines = untangle(open(a.log, errors='replace').read().replace('\r', '').split('\n'))
    why = []

    reports = [l for l in lines if REPORT.search(l)]
    if reports:
        why.append(f'kernel report(s) in the log: {reports[0].strip()[:160]}')

    if a.cold_reboot:
        return cold_reboot(a, lines, why)
    if a.kho_off:
        return kho_off(a, lines, why)
    if a.not_ready:
        return not_ready(a, lines, why)

    kexec_at = kexec_split(lines)
    if kexec_at is None:
        why.append('no kexec happened')
        first, second = lines, []
    else:
        first, second = lines[:kexec_at], lines[kexec_at:]

    def kernel(part, text):
        # A line of the project's kernel code (kho_compat, its component modules, the
        # registry in the kernel crate), from `text` on.
        return [l[l.index(text):] for l in part
                if re.search(r'(kho_compat\w*|kho_\w+|rust_kernel): ' + re.escape(text), l)]

    c1, c2 = checks(first), checks(second)
    need1 = ['luo-open', 'luo-session', 'memfd-fill', 'memfd-preserve', 'manifest',
             'record-out', 'dry-run', 'verdict', 'kexec-load']
    if a.race:
        need1 = need1[:6] + ['race-cpus', 'race-load', 'race-parallel', 'race-refused',
                             'intact-memfd', 'intact-session', 'race-retry-load']
    if a.refused:
        need1 += ['kexec-refused', 'intact-memfd', 'intact-session', 'retry-load',
                  'retry-verdict', 'retry-kexec-load']
    if a.load_refused:
        need1 = [n for n in need1 if n not in ('verdict', 'kexec-load')]
        need1 += ['load-refused', 'intact-memfd', 'intact-session']
        need1 += ['preload', 'kept-verdict'] if a.kept else ['retry-load', 'retry-verdict',
                                                           'retry-kexec-load']
    if a.systemd:
        need1 += ['workload', 'workload-stopped'] + (['workload-running'] if a.load_refused else [])
    if a.bad_input:
        need1 += ['garbage-random', 'garbage-truncated', 'garbage-huge', 'garbage-nonroot',
                  'garbage-nocap', 'ioctl-edges', 'ioctl-edges-reload', 'permissions']
    need2 = ['luo-open', 'manifest2', 'luo-session', 'memfd-retrieve', 'memfd-verify',
             'luo-finish', 'incoming', 'incoming-json']
    if a.fault:
        need1 += ['fault']
    if a.sessions:
        need1 += ['sessions']
    if a.test_modular:
        need1 += ['module-load']
        need2 += ['module-load-late']
    if a.oot:
        need1 += ['oot-load', 'oot-unvouched', 'oot-vouch', 'oot-vouched-load']
        need2 += ['oot-load-late']
    if a.sessions:
        need2 += ['sessions-verify']
    if a.no_memfd:
        need1 = [n for n in need1 if n not in ('memfd-fill', 'memfd-preserve', 'intact-memfd')]
        need2 = [n for n in need2 if n not in ('memfd-retrieve', 'memfd-verify')]
    # The verdict of the load is also read as data (kho-compat verdict --json).
    if 'verdict' in need1:
        need1 += ['verdict-json']
    if a.bad_input:
        need1 += ['ioctl-formats']
    # LUO and memfd restore only what the handover record accepted (LUO's sessions: luo
    # and block; a memfd: memfd and vmalloc too); without a record, everything.
    incoming = [l.split('E2E-INCOMING ', 1)[1].strip() for l in second if 'E2E-INCOMING ' in l]
    norecord = not incoming or incoming[0].startswith('record none')

    def accepted(name):
        return any(st.split()[:2] == [name, 'accepted'] for st in incoming[1:])
    want_sessions = norecord or (accepted('luo') and accepted('block'))
    want_memfd = want_sessions and (norecord or (accepted('memfd') and accepted('vmalloc')))
    left_alone = None
    if not want_sessions:
        need2 = [n for n in need2 if n not in ('luo-session', 'memfd-retrieve', 'memfd-verify',
                                               'luo-finish', 'sessions-verify')]
        need2 += ['luo-left-alone']
        left_alone = kernel(second, "not restoring LUO's sessions and FLBs: ")
        if not left_alone:
            why.append('second kernel: LUO\'s sessions were not accepted, and no line says '
                       'they are left alone')
    elif not want_memfd and not a.no_memfd:
        need2 = [n for n in need2 if n not in ('memfd-retrieve', 'memfd-verify')]
        need2 += ['memfd-left-alone']
        left_alone = kernel(second, 'not restoring a memfd: ')
        if not left_alone:
            why.append('second kernel: the memfd was not accepted, and no line says it is '
                       'left alone')
    if a.memfd_left_alone and (want_memfd or not left_alone):
        why.append('second kernel: the memfd was not left alone')
    # What crosses unversioned is listed in the verdict; it is expected only where the
    # scenario makes some (a component's own data must never be listed).
    # Kernel U's file handler with a file preserved puts 7.3's LUO test FLBs in use too.
    testfile = 'file-handler kho-compat-test-file-v1'
    expected = {'listed': ('unversioned subtree kho-compat-unversioned: ',),
                'refused': ('unversioned subtree kho-compat-unversioned: ',),
                'flb': ('unversioned flb liveupdate-test-flb-v',),
                'file': (f'unversioned {testfile} (1 file preserved): ',
                         'unversioned flb liveupdate-test-flb-v'),
                'file-refused': (f'unversioned {testfile} (1 file preserved): ',
                                 'unversioned flb liveupdate-test-flb-v')}.get(a.unversioned or '')
    unversioned = [l[l.index('unversioned '):].strip() for l in first
                   if re.search(r'E2E-(VERDICT|DRYRUN) unversioned ', l)
                   and not l.rstrip().endswith('holds nothing')]
    unversioned += [l[l.index('unversioned '):].strip()
                    for l in kernel(first, 'kexec hands over unversioned ')]
    unexpected = [u for u in unversioned if not expected or not u.startswith(expected)]
    if unexpected:
        why.append(f'verdict: unexpected unversioned state: {unexpected[0]}')

    def handed_over(part):
        # The subtrees KHO handed over, as the second kernel lists them; LUO's is always
        # there, so an empty or unreadable list fails rather than passing a check of absence.
        got = [l for l in part if 'E2E: KHO handed over: ' in l]
        if not got or 'LUO (' not in got[-1]:
            why.append('second kernel: no list of the subtrees handed over')
            return ''
        return got[-1]
    if a.unversioned in ('listed', 'refused'):
        need1 += ['unversioned-load']
        need1 += ['unversioned-unload'] if a.unversioned == 'refused' else []
        need2 += ['unversioned-load-late'] if a.unversioned == 'listed' else []
    if a.unversioned in ('file', 'file-refused'):
        need1 += ['testfile-preserve']
        need1 += ['testfile-unpreserve'] if a.unversioned == 'file-refused' else []
        need2 += (['testfile-verify', 'testfile-finish'] if a.unversioned == 'file'
                  else ['testfile-gone'])
    for stage, got, names in ((1, c1, need1), (2, c2, need2)):
        require(why, stage, got, names)
    if not any('E2E-DONE stage 2: 0 failed' in l for l in second):
        why.append('stage 2 did not complete')

    def fnv(detail):
        m = re.search(r'fnv1a64=([0-9a-f]+)', detail or '')
        return m.group(1) if m else None

    h1 = fnv(c1.get('memfd-fill', ('', ''))[1])
    h2 = fnv(c2.get('memfd-verify', ('', ''))[1])
    if a.no_memfd:
        if h1 or h2 or 'memfd-retrieve' in c2:
            why.append('a memfd was preserved or retrieved (e2e_memfd=0)')
    elif left_alone:
        if h2 or 'memfd-retrieve' in c2:
            why.append('second kernel: a memfd that was not accepted was restored')
    elif not h1 or h1 != h2:
        why.append(f'memfd hash before kexec ({h1}) != after ({h2})')

    # Each kernel is the one expected: its runtime manifest is its build's.
    for stage, got, name, path in ((1, c1, 'manifest', a.first_manifest),
                                   (2, c2, 'manifest2', a.final_manifest)):
        want = '%016x' % fnv1a64(open(path, 'rb').read())
        if fnv(got.get(name, ('', ''))[1]) != want:
            why.append(f'stage {stage}: the running kernel is not the one of {path}')

    # The verdict of the loaded image, and the dry run before the load.
    verdicts = [l.split('E2E-VERDICT ', 1)[1] for l in first if 'E2E-VERDICT verdict ' in l]
    if a.verdict and (not verdicts or not verdicts[0].startswith('verdict ' + a.verdict)):
        why.append(f'verdict of the loaded image: expected {a.verdict}, got {verdicts[:1]}')
    why += json_agrees(first)
    why += incoming_json_agrees(second)
    dry = [l.split('E2E-DRYRUN ', 1)[1] for l in first if 'E2E-DRYRUN verdict ' in l]
    if a.dry_run and (not dry or not dry[0].startswith('verdict ' + a.dry_run)):
        why.append(f'dry run: expected {a.dry_run}, got {dry[:1]}')
    targets = [l.split('E2E-VERDICT ', 1)[1] for l in first if 'E2E-VERDICT target ' in l]
    if a.race:
        # Refused with C loaded, whatever the racers did; then allowed against B's image,
        # the verdict the kernel acted on logged.
        if not kernel(first, 'kexec refused (ENOEXEC)'):
            why.append('first kernel: the kexec into C was not refused')
        # The racers were mid-loop when each kexec ran, or nothing raced.
        mid = [re.search(r'\((\d+) mid-loop at the call', c1.get('race-refused', ('', ''))[1]),
               next((re.search(r'with (\d+) of \d+ racers mid-loop', l) for l in first
                     if 'E2E: kexec at ' in l), None)]
        busy = [int(x.group(1)) if x else 0 for x in mid]
        if min(busy) < 1:
            why.append(f'no racer was mid-loop at a kexec (refused: {busy[0]}, allowed: {busy[1]})')
        allowed = kernel(first, 'kexec allowed: ')
        final_rel = next((l.split()[1] for l in open(a.final_manifest)
                          if l.startswith('release ')), '?')
        if not allowed or f'target {final_rel} (from the loaded image)' not in allowed[-1]:
            why.append(f'first kernel: the kexec acted on {allowed[-1:] or "no logged verdict"}')
    if a.offline_verdict:
        # The host tool's verdict on the two images (kho-compat compare), line for line
        # the kernel's once the image is loaded, but for the origin on the target line.
        block, inside = [], False
        for l in first:
            if 'E2E-VERDICT ' not in l:
                continue
            text = l.split('E2E-VERDICT ', 1)[1].rstrip()
            if text.startswith('target '):
                if inside:
                    break
                inside = True
            if inside and text:
                block.append(text)
        offline = [l.rstrip() for l in open(a.offline_verdict) if l.strip()]
        if block[1:] != offline[1:] or not offline or block[0].split()[1] != offline[0].split()[1]:
            diff = [f'{x!r} / {y!r}' for x, y in zip(block, offline) if x != y][:2]
            why.append(f'the kernel\'s verdict ({len(block)} lines) is not the host tool\'s '
                       f'({len(offline)} lines): {diff}')
    if a.kept:
        # The refused load left the kernel loaded before as the target, and it booted.
        final_rel = next((l.split()[1] for l in open(a.final_manifest)
                          if l.startswith('release ')), '?')
        if not targets or not targets[0].startswith(f'target {final_rel} (from the loaded image)'):
            why.append(f'after the refused load the target is not {final_rel}\'s loaded image: '
                       f'{targets[:1]}')
    if a.origin and (not targets or f'({a.origin}' not in targets[0]):
        why.append(f'verdict of the loaded image: target not "({a.origin}...)": {targets[:1]}')

    if a.oot:
        # The out-of-tree module's component: the load refused for it until vouched for,
        # then its page handed over and verified by its build for the second kernel.
        if not any('oot: the target does not have it' in l
                   for l in kernel(first, 'kexec load refused (ECANCELED): ')):
            why.append('first kernel: the load before vouching was not refused for "oot"')
        if not kernel(first, 'oot component: 1024 bytes preserved (format v1)'):
            why.append('first kernel: the out-of-tree component did not serialize')
        if not kernel(second, 'oot component: restored 1024 bytes (format v1), seed 0x6f6f7400: verified'):
            why.append('second kernel: the out-of-tree component\'s data was not verified')
        if not any(re.search(r'E2E-VOUCHED component oot reads 1-1 writes 1-1 at-reboot modular', l)
                   for l in first):
            why.append('the vouched manifest does not add "oot" as a module\'s component')

    if a.refused:
        refusals = kernel(first, 'kexec refused (' + a.refused + ')')
        if not refusals:
            why.append(f'first kernel: no "kexec refused ({a.refused})" log line')
        for text in a.refused_text:
            if not any(text in l for l in refusals):
                why.append(f'first kernel: no refusal says "{text}": {refusals[:1]}')
        for name in filter(None, a.refused_names.split(',')):
            if not any(f'kexec refused ({a.refused}): {name}: ' in l for l in first):
                why.append(f'first kernel: the refusal does not name {name}')
    elif kernel(first, 'kexec refused') and not a.race:
        why.append('first kernel refused the kexec: ' + kernel(first, 'kexec refused')[0])
    load_refusals = kernel(first, 'kexec load refused (')
    if a.load_refused:
        mine = [l for l in load_refusals if l.startswith(f'kexec load refused ({a.load_refused}): ')]
        if not mine:
            why.append(f'first kernel: no "kexec load refused ({a.load_refused})" log line: {load_refusals[:1]}')
        for text in a.refused_text if mine else []:
            if not any(text in l for l in mine):
                why.append(f'first kernel: no load refusal says "{text}": {mine[:1]}')
    elif load_refusals and not a.oot:
        why.append('first kernel refused a load: ' + load_refusals[0])
    elif a.oot and [l for l in load_refusals if 'oot: the target does not have it' not in l]:
        why.append('first kernel refused a load for another reason: '
                   + [l for l in load_refusals if 'oot: the target does not have it' not in l][0])
    if a.load_flags and f'flags {a.load_flags}' not in c1.get('load-refused', ('', ''))[1]:
        why.append(f'the refused load was not made with flags {a.load_flags}: '
                   f'{c1.get("load-refused", ("", ""))[1]}')
    said = [l.split('E2E-KEXEC ', 1)[1] for l in first if 'E2E-KEXEC ' in l]
    if a.kexec_tools_says and not any(a.kexec_tools_says in l for l in said):
        why.append(f'kexec-tools did not say "{a.kexec_tools_says}": {said[:3]}')

    if a.warn_no_target and not kernel(first, 'kexec without a target manifest'):
        why.append('first kernel: no warning about the missing target manifest')

    if a.bad_input:
        rejected = kernel(first, 'target manifest from user space rejected')
        if len(rejected) < 3:
            why.append(f'first kernel: {len(rejected)} "target manifest from user space rejected" lines, 3 expected')
        last = [l.split('E2E-DRYRUN ', 1)[1] for l in first if 'E2E-DRYRUN target ' in l]
        want_rel = next((l.split()[1] for l in open(a.first_manifest) if l.startswith('release ')), '')
        if not last or last[-1].split()[1] != want_rel:
            why.append('the target in place changed after bad input: ' + (last[-1] if last else 'none'))

    # The second kernel read the record.
    rec = kernel(second, 'incoming handover record')
    m = re.search(r'record v(\d+) .*: (\d+) of (\d+) components accepted', rec[0] if rec else '')
    statuses = [l.split('E2E-INCOMING ', 1)[1] for l in second if 'E2E-INCOMING ' in l][1:]
    fault_kind, _, fault_arg = (a.fault or '').partition(':')
    fault_arg = fault_arg.split(':')[0]
    if a.fault:
        # Damaged in transit: what the second kernel must make of it.
        # The first kernel did damage the record, as asked, when it wrote it.
        done = {'missing': 'kho_compat: fault injection: no record is handed over',
                'entry': f'kho_compat: fault injection: the entry of "{fault_arg}" is malformed',
                'duplicate': f'kho_compat: fault injection: "{fault_arg}" is listed twice'
                }.get(fault_kind, 'kho_compat: fault injection: the record is damaged')
        if not [l for l in first if done in l]:
            why.append(f'first kernel: no "{done}" line: the record went out undamaged')
        # A damaged name reads as a component this kernel never registered: unclaimed.
        isolated = ('accepted', 'corrupt', 'missing', 'unsupported', 'ignored', 'unclaimed')
        for st in statuses:
            if st.split()[1:2] and st.split()[1] not in isolated:
                why.append(f'second kernel: "{st}"')
        if fault_kind == 'missing':
            if not kernel(second, 'the previous kernel handed over no record'):
                why.append('second kernel: no "handed over no record" line')
            if any(' missing ' not in f' {st} ' for st in statuses):
                why.append('second kernel: a component is not missing without a record')
        elif fault_kind in ('totalsize', 'flip', 'truncate'):
            # The record (version 3) carries a checksum over all its bytes: any damage to
            # its bytes rejects it whole, and every component is corrupt, none accepted.
            if not kernel(second, 'incoming handover record rejected'):
                why.append(f'second kernel: the record damaged by {fault_kind} was not rejected')
            if not statuses or any(st.split()[1:2] != ['corrupt'] for st in statuses):
                why.append('second kernel: a component is not corrupt in a rejected record: '
                           + str([st for st in statuses if st.split()[1:2] != ['corrupt']][:3]))
        elif fault_kind in ('duplicate', 'entry'):
            if not m or int(m.group(3)) - int(m.group(2)) != 1:
                why.append(f'second kernel: {rec[0] if rec else "no record line"} (one not accepted expected)')
            bad = [st for st in statuses if st.split()[1:2] != ['accepted']]
            if [st.split()[0] for st in bad] != [fault_arg] or not bad[0].split()[1] == 'corrupt':
                why.append(f'second kernel: not only {fault_arg} corrupt: {bad}')
        elif not (m or kernel(second, 'incoming handover record rejected')):
            why.append('second kernel: the record was neither read nor rejected')
        restored = kernel(second, 'test component: restored')
        left = kernel(second, 'test component: nothing restored') + \
            [l for l in second if 'test: not restoring' in l]
        test_st = next((st for st in statuses if st.startswith('test ')), '')
        if ' accepted ' in f' {test_st} ' and not restored and not left:
            why.append('second kernel: the test component, accepted, restored nothing')
        if restored and ' accepted ' not in f' {test_st} ':
            why.append(f'second kernel: the test component restored data of status "{test_st}"')
        # The test component may fail to restore only because a format it uses (vmalloc,
        # block, radix) was isolated, and then says so first.
        failed = kernel(second, 'test component: restoring')
        if failed and not [l for l in second if 'test: not restoring' in l]:
            why.append('second kernel: ' + failed[0])
    elif not m:
        why.append(f'second kernel: {rec[0] if rec else "no record line"}')
    else:
        # The boot-time summary covers the built-in components; a modular test component
        # registers later.
        want_bad = ((1 if a.test_status and not a.test_modular else 0)
                    + (1 if a.corrupt_format else 0) + (1 if a.memfd_left_alone else 0))
        if int(m.group(3)) - int(m.group(2)) != want_bad:
            why.append(f'second kernel: {rec[0]}')
        if a.record_version and int(m.group(1)) != a.record_version:
            why.append(f'second kernel: record v{m.group(1)}, expected v{a.record_version}')
    for st in statuses if not a.fault else []:
        name = st.split()[0]
        if name in ('test', 'test-optional') and a.test_status:
            # The test module's optional sibling shares its fate.
            if not st.startswith(f'{name} {a.test_status}'):
                why.append(f'second kernel: "{st}", expected test {a.test_status}')
        elif name == a.corrupt_format or (name == 'memfd' and a.memfd_left_alone):
            if not st.startswith(f'{name} corrupt'):
                why.append(f'second kernel: "{st}", expected {name} corrupt')
        elif ' accepted ' not in st:
            why.append(f'second kernel: "{st}"')
    if not statuses:
        why.append('second kernel: no incoming statuses printed')
    if a.test_modular and not any(st.startswith('test ') for st in statuses):
        why.append('second kernel: the late-loaded test component has no status')

    summary = (f'no memfd preserved, booted {release(second)}' if a.no_memfd
               else f'memfd left alone in {release(second)}: "{left_alone[0].strip()}"'
               if left_alone else f'memfd {h2} verified in {release(second)}')
    if a.optional:
        # The optional sibling: written and verified in the next kernel, or dropped (told
        # why, nothing of it published) with the rest of the update going on.
        vlines = [l.split('E2E-VERDICT ', 1)[1].strip() for l in first if 'E2E-VERDICT ' in l]
        preserved = kernel(first, 'optional component: 512 bytes preserved (format v1)')
        restored = [l for l in kernel(second, 'optional component: restored 512 bytes (format v1)')
                    if l.strip().endswith(': verified')]
        if a.optional == 'kept':
            if not any(l.startswith('test-optional write 1 negotiated') for l in vlines):
                why.append('verdict: no "test-optional write 1 negotiated" line')
            if not preserved or not restored:
                why.append('the optional component was not handed over and verified')
            else:
                summary += f'; optional component handed over: "{restored[0].strip()}"'
        else:
            want = ('test-optional dropped: optional, nothing handed over; '
                    'the target does not have it (this kernel writes 1-1)')
            if want not in vlines:
                why.append(f'verdict: no "{want}" line')
            told = kernel(first, 'optional component: dropped by this kexec: ')
            logged = kernel(first, 'kexec drops optional component test-optional: ')
            if not told or not logged:
                why.append('first kernel: the optional component was not dropped and told why')
            if preserved:
                why.append('the dropped optional component handed something over')
            if 'test-optional' in handed_over(second):
                why.append('second kernel: the optional component\'s subtree crossed')
            if told and logged and want in vlines:
                summary += f'; verdict: "{want}"; the component told: "{told[0].strip()}"'
    if a.unversioned == 'flb':
        # 7.3's own LUO test (CONFIG_LIVEUPDATE_TEST) registers three FLBs with every file
        # handler; the memfd preserved puts them in use. No component owns them: listed,
        # handed over unchecked under warn, and found intact by the test in the next kernel.
        vlines = [l.split('E2E-VERDICT ', 1)[1].strip() for l in first if 'E2E-VERDICT ' in l]
        flbs = [f'liveupdate-test-flb-v{i}' for i in range(3)]
        for f in flbs:
            want = (f'unversioned flb {f} (in use): no component versions it; '
                    'handed over unchecked (kho_compat.enforce=0)')
            if want not in vlines:
                why.append(f'verdict: no "{want}" line')
            if not kernel(first, f'kexec hands over unversioned flb {f} (in use)'):
                why.append(f'first kernel: no warning that {f} crosses unchecked')
            if not any(f'{f}: found flb data from the previous boot' in l for l in second):
                why.append(f'second kernel: {f} was not found intact')
        summary += ('; verdict: "unversioned flb liveupdate-test-flb-v0 (in use): no component '
                    'versions it; handed over unchecked (kho_compat.enforce=0)" and v1, v2; the '
                    'next kernel\'s LUO test found the data of all three')
    elif a.unversioned in ('file', 'file-refused'):
        # Kernel U's LUO file handler, which no component versions, with one file preserved:
        # listed with its file; under warn the file crosses and the next kernel's handler gives
        # back the value written; under enforce the load is refused naming it, and once the
        # session holding the file is closed the retry goes through without it.
        vlines = [l.split('E2E-VERDICT ', 1)[1].strip() for l in first if 'E2E-VERDICT ' in l]
        dry = [l.split('E2E-DRYRUN ', 1)[1].strip() for l in first if 'E2E-DRYRUN ' in l]
        value = '0x6b686f2d66696c65'
        retrieved = kernel(second, f'retrieved a file holding {value}')
        if a.unversioned == 'file':
            want = (f'unversioned {testfile} (1 file preserved): no component versions it; '
                    'handed over unchecked (kho_compat.enforce=0)')
            if want not in vlines:
                why.append(f'verdict: no "{want}" line')
            warned = kernel(first, f'kexec hands over unversioned {testfile} (1 file preserved)')
            if not warned:
                why.append('first kernel: no warning that the file crosses unchecked')
            if not retrieved:
                why.append('second kernel: the handler did not give the file back')
            if want in vlines and warned and retrieved:
                summary += (f'; verdict: "{want}"; kexec warned "{warned[0].strip()}"; next '
                            f'kernel: "{retrieved[0].strip()}", {c2.get("testfile-verify", ("", ""))[1]}')
        else:
            want = (f'unversioned {testfile} (1 file preserved): no component versions it; '
                    'refused (kho_compat.enforce=1)')
            if want not in dry:
                why.append(f'dry run: no "{want}" line')
            refused = kernel(first, f'kexec load refused (ENODATA): unversioned {testfile} '
                             '(1 file preserved): no component versions it')
            if not refused:
                why.append('first kernel: the load was not refused naming the file handler')
            idle = (f'unversioned {testfile} (0 files preserved): no component versions it; '
                    'holds nothing')
            if idle not in vlines:
                why.append(f'the retry\'s verdict: no "{idle}" line')
            if retrieved:
                why.append('second kernel: the file crossed after all')
            if refused and idle in vlines:
                summary += (f'; refused at the load: "{refused[0].strip()}"; session closed, '
                            f'retried: "{idle}"')
    elif a.unversioned:
        # The module's subtree is listed in the verdict; under warn it crosses and its
        # bytes verify in the next kernel; under enforce the load is refused, naming it,
        # and once the module is gone the retry goes through without it.
        name = 'kho-compat-unversioned'
        vlines = [l.split('E2E-VERDICT ', 1)[1].strip() for l in first if 'E2E-VERDICT ' in l]
        listed = [l for l in vlines + [l.split('E2E-DRYRUN ', 1)[1].strip() for l in first
                                       if 'E2E-DRYRUN ' in l]
                  if l.startswith(f'unversioned subtree {name}: no component versions it; ')]
        if a.unversioned == 'listed':
            want = (f'unversioned subtree {name}: no component versions it; '
                    'handed over unchecked (kho_compat.enforce=0)')
            if want not in listed:
                why.append(f'verdict: no "{want}" line (got {listed[:1]})')
            warned = kernel(first, f'kexec hands over unversioned subtree {name}')
            verified = [l for l in kernel(second, '2048 bytes handed over unversioned')
                        if l.strip().endswith(': verified')]
            if not warned:
                why.append('first kernel: no warning that the subtree crosses unchecked')
            if not verified:
                why.append('second kernel: the unversioned data did not verify')
            if warned and verified and listed:
                summary += (f'; verdict: "{want}"; kexec warned "{warned[0].strip()}"; '
                            f'next kernel: "{verified[0].strip()}"')
        else:
            refused = kernel(first, f'kexec load refused (ENODATA): unversioned subtree {name}')
            if not refused:
                why.append('first kernel: the load was not refused naming the subtree')
            if name in handed_over(second):
                why.append('second kernel: the unversioned subtree crossed after all')
            if any('E2E-VERDICT unversioned ' in l for l in first):
                why.append('first kernel: the retry, the module unloaded, still lists unversioned state')
            if refused:
                summary += f'; refused at the load: "{refused[0].strip()}"; module unloaded, retried without it'
    pre = [re.search(r'test component: (\d+) items \(format v(\d+)\) and (\d+) bytes '
                     r'preserved, seed (0x[0-9a-f]+)', l) for l in first]
    pre = [p for p in pre if p]
    post = next((re.search(r'test component: restored (\d+) items \(format v(\d+)\), '
                           r'(\d+) bytes and \d+ keys, seed (0x[0-9a-f]+): verified', l)
                 for l in second if 'test component: restored' in l), None)
    if a.test_version is not None:
        if not pre:
            why.append('first kernel: the test component preserved nothing')
        elif not post:
            why.append('second kernel: the test component restored and verified nothing')
        else:
            if pre[-1].groups() != post.groups():
                why.append(f'test component: preserved {pre[-1].groups()} but restored {post.groups()}')
            if int(post.group(2)) != a.test_version:
                why.append(f'test component handed over in v{post.group(2)}, '
                           f'expected v{a.test_version}')
            summary += f'; test data v{post.group(2)} ({post.group(1)} items, {post.group(3)} bytes) verified'
            if not kernel(second, 'test component: blobs given back are not handed out again'):
                why.append('second kernel: no check that blobs given back stay hidden')
    if a.chain_fault:
        # The test component's block set named the radix tree's root page as its first
        # block: KHO refuses the chain and takes, and frees, nothing; the radix keys and the
        # data (other formats' pages, the root page among them) still verify.
        if not kernel(first, 'test component: fault injection: the item block set'):
            why.append('first kernel: the block set went out undamaged')
        part = kernel(second, 'test component: restoring v')
        ok = re.search(r'items failed \(EINVAL\), radix keys verified \(64\), '
                       r'data verified \(\d+\)', part[0] if part else '')
        if not ok:
            why.append(f'second kernel: {part[:1] or "no restore line of the test component"}')
        refused = [l.split('luo: ', 1)[1].strip() for l in second
                   if re.search(r'luo: (Block contains invalid entry count|Block set is corrupted)', l)]
        if not refused:
            why.append('second kernel: KHO did not refuse the block chain')
        if ok and refused:
            summary += f'; KHO: "{refused[0]}"; {part[0].split(": ", 1)[1].strip()}'
    if a.test_status:
        left = kernel(second, 'test component: nothing restored: ' + a.test_status)
        if post or not left:
            why.append(f'second kernel: the test component did not leave its {a.test_status} data alone')
        else:
            summary += f'; test component isolated: {left[0].split(": ", 1)[1]}'
    if a.test_modular and a.test_status == 'missing':
        out = [l for l in first if 'E2E: KHO will hand over:' in l]
        if not out or 'kho-compat-test' in out[-1]:
            why.append('first kernel: the unloaded module\'s subtree is still handed over')
    if a.test_modular and a.test_version:
        want = 'test write %d negotiated (a module in the target: load it there to restore)' % a.test_version
        if not any(want in l for l in first if 'E2E-VERDICT ' in l):
            why.append(f'dry run: no "{want}" line')
    if a.test_modular:
        late = next((l for l in second if 'component "test" registered by module' in l), None)
        if not late:
            why.append('second kernel: no registration line of the late-loaded module')
        else:
            summary += '; module loaded late: ' + re.sub(r'^.*?(component "test")', r'\1', late).strip()
    if a.corrupt_format:
        refusal = [l for l in second
                   if f'test: not restoring its' in l and f': {a.corrupt_format} is corrupt' in l]
        if post or not refusal:
            why.append(f'second kernel: the test component restored data in a corrupt {a.corrupt_format}')
        else:
            summary += '; ' + re.sub(r'^.*?kho_compat: ', '', refusal[0]).strip()
    intact = 'session intact' if a.no_memfd else 'session and memfd intact'
    if a.load_refused and load_refusals:
        summary = (f'load refused with {a.load_refused} ({load_refusals[0].split(": ", 1)[1]}); '
                   + ('the kernel loaded before still loaded and the target, '
                      f'{targets[0].split(" ", 1)[1].strip() if targets else "?"}; '
                      f'{intact}; kexec: ' if a.kept else
                      f'nothing loaded, {intact}; retried: ') + summary)
    if a.kexec_tools_says:
        summary = f'kexec-tools: "{a.kexec_tools_says}"; ' + summary
    if a.systemd:
        summary = ('systemd order: the workload ' + ('still ran after the failed load'
                   if a.load_refused else 'stopped before kexec -e') + '; ' + summary)
    if a.refused:
        summary = f'kexec refused with {a.refused} ({kernel(first, "kexec refused")[0].split(": ", 1)[1]}); {intact}; retried: ' + summary
    if a.warn_no_target:
        summary += '; no target manifest: warned and proceeded'
    if a.bad_input:
        summary += ('; random, truncated and 10,000-component manifests, a non-root open and '
                    'ioctls without CAP_SYS_BOOT refused, target kept; ioctl edges: '
                    + c1.get('ioctl-edges', ('', ''))[1] + '; permissions: '
                    + c1.get('permissions', ('', ''))[1])
    if a.origin and targets:
        summary += '; target ' + targets[0].split(' ', 1)[1].strip()
    if a.offline_verdict:
        summary += '; the kernel\'s verdict is kho-compat compare\'s on the two images'
    if a.race:
        summary = ('kexec with C refused and with B allowed while 4 processes set, clear and read '
                   f'the target and verdict ({busy[0]} and {busy[1]} of them mid-loop); acted on: ' + kernel(first, 'kexec allowed: ')[-1:][0]
                   if kernel(first, 'kexec allowed: ') else 'race') + '; ' + summary
    if a.sessions:
        summary += '; ' + c2.get('sessions-verify', ('', ''))[1]
    if a.oot:
        summary = ('out-of-tree module: the load refused until vouched for ('
                   + next(iter(kernel(first, 'kexec load refused (ECANCELED): ')), '?')
                   .split(': ', 1)[-1] + '); vouched over the image and over the running '
                   'kernel\'s manifest, the same bytes; '
                   + next(iter(kernel(second, 'oot component: restored')), '?') + '; ' + summary)
    if a.fault:
        bad = [st for st in statuses if st.split()[1:2] != ['accepted']]
        summary += (f'; fault {a.fault}: {len(bad)} of {len(statuses)} components isolated'
                    + (f' ({", ".join(" ".join(b.split()[:2]) for b in bad[:3])}'
                       + (', ...' if len(bad) > 3 else '') + ')' if bad else '')
                    + ('; test data ' + ('verified' if kernel(second, 'test component: restored') else 'left alone')))
        rejected = kernel(second, 'incoming handover record rejected: ')
        if rejected:
            summary += '; ' + rejected[0].split('kho_compat: ', 1)[-1].strip()
    elif m and not why:
        summary += f'; record v{m.group(1)}: {m.group(2)} of {m.group(3)} components accepted'

    if why:
        print('FAIL ' + '; '.join(why))
        return 1
    print('PASS ' + summary)
    return 0


def json_docs(part, prefix):
    """The JSON documents the guest printed under `prefix`, each with the index of its first
    line: (index, [lines])."""
    docs = []
    for i, l in enumerate(part):
        if prefix not in l:
            continue
        body = l.split(prefix, 1)[1].rstrip('\r\n')
        if body.startswith('{"format"'):
            docs.append((i, []))
        if docs:
            docs[-1][1].append(body)
    return docs


def incoming_json_agrees(part):
    """The incoming statuses the second kernel read as data (kho-compat incoming --json,
    "E2E-INJSON " lines) against the text it read just before ("E2E-INCOMING "): one whole
    version 1 document, the record's line, and each component's and unclaimed entry's line
    the text's, each status code the text's word. Returns what disagrees."""
    docs = json_docs(part, 'E2E-INJSON ')
    text = [l.split('E2E-INCOMING ', 1)[1].rstrip() for l in part if 'E2E-INCOMING ' in l]
    if len(docs) != 1 or not text:
        return [f'kho-compat incoming --json: {len(docs)} JSON document(s) after '
                f'{len(text)} text line(s)']
    try:
        doc = json.loads('\n'.join(docs[0][1]))
    except ValueError as e:
        return [f'kho-compat incoming --json: not JSON ({e})']
    why = []
    if (doc.get('format'), doc.get('version'), doc.get('complete')) != \
            ('kho-compat-incoming', 1, True):
        why.append('kho-compat incoming --json: not a whole version 1 incoming document')
    if 'record ' + doc.get('record', {}).get('text', '') != text[0]:
        why.append(f'kho-compat incoming --json: record {doc.get("record")} is not "{text[0]}"')
    lines = [c.get('text') for c in doc.get('components', []) + doc.get('unclaimed', [])]
    if lines != text[1:]:
        why.append(f'kho-compat incoming --json: {len(lines)} statuses, the text {len(text) - 1}, '
                   'or their texts differ')
    for c in doc.get('components', []):
        words = (c.get('text') or '').split()
        if words[:2] != [c.get('name'), c.get('status')] or not c.get('reason'):
            why.append(f'kho-compat incoming --json: {c} is not its text')
            break
    return why


def json_agrees(part):
    """Each verdict the guest read as data (kho-compat verdict --json, "E2E-JSON " lines)
    against the text verdict it read just before: the same verdict, components and
    unversioned items, each outcome's code the word the text uses, the text beside it the
    text's line. Returns what disagrees."""
    why = []
    docs = json_docs(part, 'E2E-JSON ')
    # One document per kho-compat verdict --json the guest ran: none missing, none merged.
    runs = sum(1 for l in part if re.search(r'E2E-CHECK verdict-json\b', l))
    if len(docs) != runs:
        why.append(f'kho-compat verdict --json: {len(docs)} JSON document(s) for {runs} run(s)')
    for at, body in docs:
        try:
            doc = json.loads('\n'.join(body))
        except ValueError as e:
            why.append(f'kho-compat verdict --json: not JSON ({e})')
            continue
        text = [l.split('E2E-VERDICT ', 1)[1].rstrip() for l in part[:at] if 'E2E-VERDICT ' in l]
        starts = [j for j, t in enumerate(text) if t.startswith('target ')]
        text = text[starts[-1]:] if starts else []
        if (doc.get('format'), doc.get('version'), doc.get('complete')) != \
                ('kho-compat-verdict', 1, True) or not text:
            why.append(f'kho-compat verdict --json: not a whole version 1 verdict after a text '
                       f'one ({doc.get("format")} {doc.get("version")})')
            continue
        verdict = doc.get('verdict', {})
        want = next((t for t in text if t.startswith('verdict ')), '')
        if 'verdict ' + verdict.get('text', '') != want or \
                not want.startswith('verdict ' + verdict.get('outcome', '?')):
            why.append(f'kho-compat verdict --json: verdict {verdict} is not the text\'s "{want}"')
        if doc.get('target', {}).get('text') != next((t[7:] for t in text), None):
            why.append('kho-compat verdict --json: not the text\'s target')
        lines = [t for t in text if re.match(r'\S+ (write \d|idle:|refused:|dropped:)', t)
                 and not t.startswith(('target ', 'verdict ', 'record ', 'unversioned '))]
        comps = doc.get('components', [])
        if [c.get('text') for c in comps] != lines:
            why.append(f'kho-compat verdict --json: {len(comps)} components, the text '
                       f'{len(lines)}, or their texts differ')
        for c, t in zip(comps, lines):
            words = t.split()
            if c.get('name') != words[0] or c.get('outcome') != words[1].rstrip(':') or \
                    (c.get('outcome') == 'write' and
                     [str(c.get('version')), c.get('how')] != words[2:4]) or \
                    (c.get('outcome') != 'write' and not c.get('reason')):
                why.append(f'kho-compat verdict --json: {c} is not "{t}"')
                break
        unv = [t for t in text if t.startswith('unversioned ')]
        if [u.get('text') for u in doc.get('unversioned', [])] != unv:
            why.append('kho-compat verdict --json: not the text\'s unversioned items')
    return why


def checks(part):
    """The guest's E2E-CHECK lines of `part`: name -> (PASS|FAIL, detail)."""
    # A kernel message on the console may still split a line of the
    # guest: "E2E-CHECK name<kernel message>" then " PASS detail".
    out = {}
    for i, l in enumerate(part):
        m = re.search(r'E2E-CHECK (\S+) (PASS|FAIL) (.*)', l)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = re.search(r'E2E-CHECK ([a-z0-9-]+?)(kho_compat:|\[|$)', l)
        n = re.match(r'\s*(PASS|FAIL) (.*)', part[i + 1]) if i + 1 < len(part) else None
        if m and n:
            out[m.group(1)] = (n.group(1), n.group(2))
    return out


def require(why, stage, got, names):
    """Each of `names` was checked in `stage`, and every check there passed."""
    for n in names:
        if n not in got:
            why.append(f'stage {stage}: no {n} check')
    for n, (st, detail) in got.items():
        if st != 'PASS':
            why.append(f'stage {stage}: {n} failed: {detail}')


def cold_reboot(a, lines, why):
    """systemd's order without the check at the load: refused at kexec -e, rebooted cold."""
    if any('kexec_core: Starting new kernel' in l for l in lines):
        why.append('a kexec happened')
    got = {}
    for l in lines:
        m = re.search(r'E2E-CHECK (\S+) (PASS|FAIL) (.*)', l)
        if m:
            got[m.group(1)] = (m.group(2), m.group(3))
    for n, (st, detail) in got.items():
        if st != 'PASS':
            why.append(f'{n} failed: {detail}')
    for n in ('luo-open', 'luo-session', 'memfd-fill', 'memfd-preserve', 'manifest',
              'record-out', 'dry-run', 'workload', 'kexec-load', 'verdict',
              'workload-stopped', 'kexec-refused', 'cold-reboot'):
        if n not in got:
            why.append(f'no {n} check')
    refused = [l[l.index('kexec refused ('):] for l in lines
               if re.search(r'kho_compat\w*: kexec refused \(ENOEXEC\): ', l)]
    if not refused:
        why.append('no "kexec refused (ENOEXEC)" line at kexec -e')
    if any('kexec load refused' in l for l in lines):
        why.append('the load was refused, not the kexec')
    said = [l.split('E2E-KEXEC ', 1)[1] for l in lines if 'E2E-KEXEC ' in l]
    if a.kexec_tools_says and not any(a.kexec_tools_says in l for l in said):
        why.append(f'kexec-tools did not say "{a.kexec_tools_says}": {said[:3]}')
    if not any('E2E: systemd-shutdown: kexec -e failed; falling through to a cold reboot' in l
               for l in lines):
        why.append('no fall-through to a cold reboot')
    if not any('E2E-DONE stage 1: 0 failed' in l for l in lines):
        why.append('the guest did not reach the cold reboot with every check passed')
    if why:
        print('FAIL ' + '; '.join(why))
        return 1
    print('PASS systemd order without the check at the load: loaded, the workload stopped, '
          f'{refused[0]}; kexec-tools: "{a.kexec_tools_says}"; then a cold reboot: the LUO '
          'session and its memfd are lost (what kho_compat.check_at_load=1 prevents)')
    return 0


def kho_off(a, lines, why):
    """Booted with kho=off: a kexec into a kernel a live update could not go to, allowed."""
    kexec_at = kexec_split(lines)
    if kexec_at is None:
        why.append('no kexec happened')
        kexec_at = len(lines)
    first, second = lines[:kexec_at], lines[kexec_at:]
    c1, c2 = checks(first), checks(second)
    require(why, 1, c1, ('kho-off', 'kexec-load', 'verdict'))
    require(why, 2, c2, ('kho-off-booted',))
    load = c1.get('kexec-load', ('', ''))[1]
    said = [l for l in first
            if re.search(r'kho_compat: kexec without KHO \(kho=off\): no handover, nothing to check', l)]
    if not said:
        why.append('first kernel: no "kexec without KHO (kho=off)" line at the kexec')
    if any(re.search(r'kho_compat\w*: kexec (load )?refused', l) for l in first):
        why.append('first kernel: a refusal under kho=off')
    verdict = [l.split('E2E-VERDICT ', 1)[1] for l in first if 'E2E-VERDICT verdict ' in l]
    if not verdict or not verdict[0].startswith('verdict allowed: KHO is disabled (kho=off)'):
        why.append(f'verdict under kho=off: {verdict[:1]}')
    want = next((l.split()[1] for l in open(a.final_manifest) if l.startswith('release ')), '?')
    if release(second) != want:
        why.append(f'the second kernel is {release(second)}, not {want}')
    if not any('E2E-DONE stage 2: 0 failed' in l for l in second):
        why.append('stage 2 did not complete')
    if why:
        print('FAIL ' + '; '.join(why))
        return 1
    print(f'PASS kho=off: {load}; {verdict[0].strip()}; the kexec logged "kexec '
          f'without KHO (kho=off): no handover, nothing to check" and booted {want}')
    return 0


def not_ready(a, lines, why):
    """kho_compat did not initialise, under enforce: the load (or the kexec) is refused."""
    if any('kexec_core: Starting new kernel' in l for l in lines):
        why.append('a kexec happened')
    c1 = checks(lines)
    step = 'load-refused' if a.not_ready == 'load' else 'kexec-refused'
    require(why, 1, c1, ('not-ready', step) if a.not_ready == 'load'
            else ('not-ready', 'kexec-load', step))
    what = 'kexec load' if a.not_ready == 'load' else 'kexec'
    want = (f'kho_compat: {what} refused (ENODATA): kho_compat is not initialised, '
            'nothing can be checked (kho_compat.enforce)')
    said = [l for l in lines if want in l]
    if not said:
        why.append(f'no "{want}" line')
    if not any('E2E-DONE stage 1: 0 failed' in l for l in lines):
        why.append('stage 1 did not complete')
    if why:
        print('FAIL ' + '; '.join(why))
        return 1
    print(f'PASS kho_compat not initialised under enforce: {c1[step][1]}; the kernel said '
          f'"{said[0].split("kho_compat: ", 1)[1].strip()}"')
    return 0


def kexec_split(lines):
    """The index of the line where the kexec'ed kernel's log starts, or None.

    "Starting new kernel" marks it; on an SMP guest that last line of the first kernel can be
    lost with the console's pending output, and the second kernel's banner marks it then.
    """
    at = next((i for i, l in enumerate(lines) if 'kexec_core: Starting new kernel' in l), None)
    if at is None:
        banners = [i for i, l in enumerate(lines) if re.search(r'Linux version \d', l)]
        at = banners[1] if len(banners) > 1 else None
    return at


def release(part):
    for l in part:
        m = re.search(r'E2E: stage 2 on Linux (\S+)', l)
        if m:
            return m.group(1)
    return '?'


sys.exit(main())
