#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The project as a patch series: patches/series read once, for everyone.

    series.py files REPO                 "REPO_PATH KERNEL_PATH" per kernel file
    series.py export REPO PRISTINE OUT   the full series, as mails, into OUT

scripts/build links the files `files` lists into its work tree; `export`
writes the series that makes the same tree out of the pristine one. The
mails are from, and signed off by, the author of patches/ (the project's
address), or by KHO_COMPAT_AUTHOR="Name <address>" when it is set: the
person who sends the series signs it off as themself.
"""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile

SUBTREE = 'kernel/liveupdate/kho_compat/'

# The repository's files that go into the kernel: patches/series must name
# each of them (the harness, the fuzz targets and the scripts stay out).
KERNEL_FILES = ('Kbuild', 'Kconfig', 'kho/*', 'luo/*', 'rust/*', 'tools/kho-compat/*',
                'tests/kunit/*.kunitconfig', 'Documentation/*')


class PlanError(Exception):
    pass


def kernel_path(path):
    """Where a file of the repository goes in the kernel tree."""
    if path.startswith(('rust/', 'tools/', 'Documentation/')):
        return path
    return SUBTREE + path


def repo_files(repo):
    out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                         cwd=repo, capture_output=True, text=True, check=True).stdout
    return sorted(f for f in out.splitlines() if os.path.isfile(os.path.join(repo, f)))


FILTER = re.compile(r'\s*(drop)\s+/(.*?)/\s*$|\s*(cut)\s+/(.*?)/\s+/(.*?)/\s*$')


def parse(repo):
    """[(patch, [(repo_path, [filters])])] in series order."""
    plan, files = [], repo_files(repo)
    path = os.path.join(repo, 'patches', 'series')
    for n, line in enumerate(open(path), 1):
        line = line.rstrip('\n')
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        where = f'patches/series:{n}'
        if not line[0].isspace():
            if not os.path.isfile(os.path.join(repo, 'patches', line)):
                raise PlanError(f'{where}: no patch {line} in patches/')
            plan.append((line, []))
            continue
        if not plan:
            raise PlanError(f'{where}: files before the first patch')
        pattern, *ops = [p.strip() for p in line.split(' | ')]
        filters = []
        for op in ops:
            m = FILTER.fullmatch(op)
            if not m:
                raise PlanError(f'{where}: cannot read the filter "{op}"')
            filters.append(('drop', re.compile(m.group(2))) if m.group(1)
                           else ('cut', re.compile(m.group(4)), re.compile(m.group(5))))
        # A pattern's "*" does not cross a "/".
        matched = [f for f in files if fnmatch.fnmatchcase(f, pattern)
                   and f.count('/') == pattern.count('/')]
        if not matched:
            raise PlanError(f'{where}: "{pattern}" matches no file of the repository')
        named_here = {f for f, _ in plan[-1][1]}
        twice = sorted(named_here & set(matched))
        if twice:
            raise PlanError(f'{where}: {twice[0]} is named twice for {plan[-1][0]}')
        plan[-1][1].extend((f, filters) for f in matched)
    named = [p for p, _ in plan]
    have = sorted(f for f in os.listdir(os.path.join(repo, 'patches')) if f.endswith('.patch'))
    if sorted(named) != have or len(set(named)) != len(named):
        raise PlanError('patches/series must name every patch of patches/ once: '
                        f'missing {sorted(set(have) - set(named))}, unknown or twice '
                        f'{sorted(set(n for n in named if named.count(n) > 1 or n not in have))}')
    if named != have:
        raise PlanError('patches/series must list the patches in the order of their numbers')
    last = {}
    named_files = {f for _, entries in plan for f, _ in entries}
    missing = [f for f in files if f not in named_files
               and any(fnmatch.fnmatchcase(f, k) for k in KERNEL_FILES)]
    if missing:
        raise PlanError(f'patches/series names no commit for {", ".join(missing[:5])}'
                        f'{" ..." if len(missing) > 5 else ""}')
    for patch, entries in plan:
        for f, filters in entries:
            last[f] = (patch, filters)
    for f, (patch, filters) in last.items():
        if filters:
            raise PlanError(f'{f}: the last commit naming it ({patch}) does not give it whole')
    return plan


def final_files(plan):
    seen = {}
    for _, entries in plan:
        for f, _ in entries:
            seen[f] = kernel_path(f)
    return seen


def apply_filters(text, filters, name):
    lines = text.split('\n')
    rust = name.endswith('.rs')
    for f in filters:
        out, i, removed = [], 0, False
        while i < len(lines):
            line = lines[i]
            if f[0] == 'drop' and f[1].search(line):
                # The attributes and doc comments of a Rust item go with it.
                while rust and out and out[-1].lstrip().startswith(('#[', '///')):
                    out.pop()
                i += 1
            elif f[0] == 'cut' and f[1].search(line):
                i += 1
                while i < len(lines) and not f[2].search(lines[i]):
                    i += 1
            else:
                out.append(line)
                i += 1
                continue
            removed = True
            # No blank line doubled where lines were removed.
            if out and out[-1] == '' and i < len(lines) and lines[i] == '':
                i += 1
        if not removed:
            raise PlanError(f'{name}: a filter of patches/series removes nothing')
        lines = out
    # No blank lines left at the end.
    while lines and lines[-1] == '':
        lines.pop()
    return '\n'.join(lines) + ('\n' if text.endswith('\n') else '')


# git with none of the user's configuration (format.suffix, diff.noprefix,
# format.signOff... would change the mails).
GIT_ENV = dict(os.environ, GIT_CONFIG_GLOBAL='/dev/null', GIT_CONFIG_NOSYSTEM='1')


def git(cwd, *args, inp=None):
    r = subprocess.run(['git', *args], cwd=cwd, input=inp, capture_output=True, text=True,
                       env=GIT_ENV)
    if r.returncode:
        raise PlanError(f'git {" ".join(args)}: {r.stderr.strip()}')
    return r.stdout


def export(repo, pristine, out):
    plan = parse(repo)
    touched = set()
    for patch, _ in plan:
        for line in open(os.path.join(repo, 'patches', patch), errors='replace'):
            m = re.match(r'^diff --git a/(\S+) b/', line)
            if m:
                touched.add(m.group(1))
    with tempfile.TemporaryDirectory(prefix='kho-series-') as work:
        # Only the files the series touches: the mails are the same as from a
        # whole tree (their index lines name blobs, not trees).
        for f in sorted(touched):
            src = os.path.join(pristine, f)
            if os.path.isfile(src):
                os.makedirs(os.path.dirname(os.path.join(work, f)), exist_ok=True)
                shutil.copy2(src, os.path.join(work, f))
        # The cover letter is from the series' author: the first patch's.
        first = open(os.path.join(repo, 'patches', plan[0][0]), errors='replace').read()
        project = re.search(r'^From: (.*?)\s*<([^>]+)>', first.replace('\n ', ' '), re.M)
        if not project:
            raise PlanError(f'{plan[0][0]} has no From: line')
        env = ['-c', f'user.name={project.group(1).strip()}', '-c',
               f'user.email={project.group(2)}']
        git(work, 'init', '-q')
        # -f: a .gitignore the series touches must not hide the files it names.
        git(work, 'add', '-A', '-f')
        git(work, *env, 'commit', '-q', '--allow-empty', '-m', 'pristine')
        git(work, 'tag', 'base')
        for patch, entries in plan:
            git(work, *env, 'am', '-q', '--keep-cr', os.path.join(repo, 'patches', patch))
            for f, filters in entries:
                dst = os.path.join(work, kernel_path(f))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                src = os.path.join(repo, f)
                if filters:
                    text = apply_filters(open(src).read(), filters, f)
                    with open(dst, 'w') as fh:
                        fh.write(text)
                else:
                    shutil.copyfile(src, dst)
                shutil.copymode(src, dst)
                git(work, 'add', '-f', kernel_path(f))
            if entries:
                git(work, *env, 'commit', '-q', '--amend', '--no-edit', '--allow-empty')
        os.makedirs(out, exist_ok=True)
        for f in os.listdir(out):
            if re.fullmatch(r'\d{4}-.*\.patch', f):
                os.remove(os.path.join(out, f))
        written = git(work, *env, 'format-patch', '--cover-letter', '--zero-commit',
                      '--no-signature', '--binary', '-o', os.path.abspath(out),
                      'base..HEAD').split()
    if len(written) != len(plan) + 1:
        raise PlanError(f'git format-patch wrote {len(written)} files for {len(plan)} commits')
    cover(written[0])
    author = os.environ.get('KHO_COMPAT_AUTHOR', '').strip()
    if author:
        # Plain ASCII, no quoting needed in a mail header: "Name <address>".
        if not re.fullmatch(r'[A-Za-z0-9 .\'-]+ <[^<>@\s"]+@[^<>\s"]+>', author):
            raise PlanError('KHO_COMPAT_AUTHOR is not "Name <address>" (ASCII letters, '
                            f'digits, spaces, dots, hyphens and apostrophes in the name): {author!r}')
        ours = f'{project.group(1).strip()} <{project.group(2)}>'
        for p in written:
            text = open(p, errors='surrogateescape').read()
            # The From: header (git folds it) of the project's mails only, and their
            # sign-off lines.
            head = re.search(r'^From: ([^\n]*(?:\n [^\n]*)*)', text, re.M)
            if not head or re.sub(r'\s+', ' ', head.group(1)).strip() != ours:
                continue
            text = text[:head.start()] + 'From: ' + author + text[head.end():]
            text = text.replace('Signed-off-by: ' + ours, 'Signed-off-by: ' + author)
            open(p, 'w', errors='surrogateescape').write(text)
    # The Date: lines change on every export: keep the series byte-stable.
    for p in written:
        text = open(p, errors='surrogateescape').read()
        text = re.sub(r'^Date: .*\n', '', text, count=1, flags=re.M)
        open(p, 'w', errors='surrogateescape').write(text)
    return plan


def cover(path):
    """The cover letter: patches/cover-letter's subject and text, git's diffstat."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = open(os.path.join(repo, 'patches', 'cover-letter')).read().split('\n')
    subject = src[0].strip()
    body = '\n'.join(src[1:]).strip('\n')
    text = open(path).read()
    if '*** SUBJECT HERE ***' not in text or '*** BLURB HERE ***' not in text:
        raise PlanError('git format-patch wrote no cover-letter template')
    text = text.replace('*** SUBJECT HERE ***', subject).replace('*** BLURB HERE ***', body)
    open(path, 'w').write(text)


def main():
    try:
        if len(sys.argv) == 3 and sys.argv[1] == 'files':
            for f, k in sorted(final_files(parse(sys.argv[2])).items()):
                print(f, k)
        elif len(sys.argv) == 5 and sys.argv[1] == 'export':
            plan = export(*sys.argv[2:])
            print(f'{len(plan)} patches and a cover letter in {sys.argv[4]}')
        else:
            sys.exit(__doc__)
    except PlanError as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
