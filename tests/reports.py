# SPDX-License-Identifier: GPL-2.0
"""Kernel reports in serial logs: the one definition the KUnit and E2E runners use.

As a command, ``reports.py LOG...`` prints the number of logs and of reports found in them,
then the first few reports, and exits 1 if there is any.
"""

import re
import sys

# A kernel report: any of these in a serial log is a failure.
REPORT = re.compile(
    r'BUG:|WARNING:|UBSAN:|KASAN:|'
    r'possible circular locking|possible recursive locking|inconsistent lock state|'
    r'INFO: trying to register non-static key|suspicious RCU usage|'
    r'rcu: INFO: |detected stalls? on CPU|INFO: task .* blocked for more than|'
    r'soft lockup|hard LOCKUP|general protection fault|'
    r'Kernel panic|Oops|panicked at|rust_panic')


def reports(path):
    """The report lines of one serial log."""
    with open(path, errors='replace') as f:
        return [l.strip() for l in f if REPORT.search(l)]


if __name__ == '__main__':
    found = [(p, l) for p in sys.argv[1:] for l in reports(p)]
    print(f'{len(found)} kernel report(s) in {len(sys.argv) - 1} serial log(s)')
    for p, l in found[:5]:
        print(f'{p}: {l[:200]}')
    sys.exit(1 if found else 0)
