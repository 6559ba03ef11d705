#!/usr/bin/env python3
"""Check a Prometheus text-format file (exposition format 0.0.4), as
node_exporter's textfile collector reads it. Standard library only.
Usage: promparse.py FILE [--print]  -> exit 0 if valid, 1 with the reasons.
--print writes each sample as NAME<TAB>sorted-labels-as-JSON<TAB>VALUE
(integers without a fraction)."""
import json
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def parse_labels(s, i, errs, ln):
    """s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == '}':
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            errs.append(f'{ln}: bad label name at column {i}')
            return labels, len(s)
        name = m.group(0)
        if name.startswith('__'):
            errs.append(f'{ln}: reserved label name {name}')
        i = m.end()
        if s[i:i + 2] != '="':
            errs.append(f'{ln}: expected =" after {name}')
            return labels, len(s)
        i += 2
        val = []
        while i < len(s) and s[i] != '"':
            if s[i] == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    errs.append(f'{ln}: bad escape in label {name}')
                    return labels, len(s)
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]])
                i += 2
            else:
                val.append(s[i])
                i += 1
        if i >= len(s):
            errs.append(f'{ln}: unterminated label value')
            return labels, len(s)
        i += 1
        if name in labels:
            errs.append(f'{ln}: duplicate label {name}')
        labels[name] = ''.join(val)
        if i < len(s) and s[i] == ',':
            i += 1
        elif i < len(s) and s[i] == '}':
            continue
        else:
            errs.append(f'{ln}: expected , or }} after label {name}')
            return labels, len(s)


def family(sample, types):
    """The metric family a sample belongs to: NAME_bucket, NAME_sum and
    NAME_count are samples of histogram NAME (the last two of summary
    NAME too), as the exposition format says."""
    for suffix, kinds in (('_bucket', ('histogram',)), ('_sum', ('histogram', 'summary')),
                          ('_count', ('histogram', 'summary'))):
        if sample.endswith(suffix) and types.get(sample[:-len(suffix)]) in kinds:
            return sample[:-len(suffix)]
    return sample


def check(text):
    errs, samples = [], []
    helps, types, seen, done = {}, {}, set(), set()
    current = None
    if text and not text.endswith('\n'):
        errs.append('file does not end with a newline')
    for ln, line in enumerate(text.split('\n')[:-1] if text.endswith('\n') else text.split('\n'), 1):
        if not line.strip():
            continue
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.fullmatch(name):
                    errs.append(f'{ln}: bad metric name {name!r}')
                table = helps if parts[1] == 'HELP' else types
                if name in table:
                    errs.append(f'{ln}: second {parts[1]} for {name}')
                if name in done or (current and current != name and name in seen):
                    errs.append(f'{ln}: {parts[1]} for {name} after its samples')
                if parts[1] == 'TYPE':
                    if len(parts) != 4 or parts[3] not in TYPES:
                        errs.append(f'{ln}: bad TYPE line')
                table[name] = parts[3] if len(parts) == 4 else ''
                if current and current != name:
                    done.add(current)
                current = name
            continue
        m = NAME.match(line)
        if not m:
            errs.append(f'{ln}: bad sample line {line!r}')
            continue
        sample, i = m.group(0), m.end()
        name = family(sample, types)
        labels = {}
        if i < len(line) and line[i] == '{':
            labels, i = parse_labels(line, i, errs, ln)
        rest = line[i:].split()
        if len(rest) not in (1, 2) or line[i:i + 1] != ' ':
            errs.append(f'{ln}: expected " VALUE [TIMESTAMP]"')
            continue
        try:
            value = float(rest[0])
        except ValueError:
            errs.append(f'{ln}: bad value {rest[0]!r}')
            continue
        if name in done:
            errs.append(f'{ln}: samples of {name} are not together')
        if name != current:
            if current:
                done.add(current)
            current = name
        if name not in helps or name not in types:
            errs.append(f'{ln}: {name} has no HELP or no TYPE before it')
        key = (sample, tuple(sorted(labels.items())))
        if key in seen:
            errs.append(f'{ln}: duplicate series {sample}{labels}')
        if sample.endswith('_bucket') and name != sample and 'le' not in labels:
            errs.append(f'{ln}: {sample} has no le label')
        seen.add(key)
        seen.add(name)
        samples.append((sample, labels, value))
    return errs, samples


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding='utf-8') as f:
        errs, samples = check(f.read())
    for e in errs:
        print(f'{sys.argv[1]}:{e}', file=sys.stderr)
    if '--print' in sys.argv[2:]:
        for name, labels, value in samples:
            v = int(value) if value.is_integer() else value
            print(f'{name}\t{json.dumps(labels, sort_keys=True)}\t{v}')
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())
