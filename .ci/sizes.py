#!/usr/bin/env python3
"""File and function lengths of the workspace's non-test Rust sources (issue 9's measure).

Method: every `.rs` file under `crates/*/src`, except the test-support crate `sixin-tests`,
`tests/` folders and `tests.rs` test-module files. File length = physical lines. Function length = lines from the `fn`
line to its closing brace (brace matching that skips strings, chars and comments), for every
`fn` with a body outside `#[cfg(test)]` modules. Prints p50/p90/max and the longest items.
"""
import pathlib, re, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?((const|async|unsafe|extern "C")\s+)*fn\s+(\w+)')

def sources():
    for p in sorted(ROOT.glob("crates/*/src/**/*.rs")):
        if "sixin-tests" in p.parts or p.name == "tests.rs":
            continue
        yield p

def strip(line, state):
    """The line's code characters (strings, chars, comments blanked); state carries block comments/raw strings."""
    out, i, n = [], 0, len(line)
    while i < n:
        if state["block"]:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out)
            state["block"] = False; i = j + 2; continue
        if state["str"]:
            c = line[i]
            if c == "\\": i += 2; continue
            if c == '"': state["str"] = False
            i += 1; continue
        c = line[i]
        if line.startswith("//", i): break
        if line.startswith("/*", i): state["block"] = True; i += 2; continue
        m = re.match(r'r(#*)"', line[i:])
        if m and (i == 0 or not (line[i-1].isalnum() or line[i-1] == "_")):
            end = '"' + m.group(1); j = line.find(end, i + len(m.group(0)))
            if j < 0:
                state["raw"] = end; return "".join(out)
            i = j + len(end); continue
        if c == '"': state["str"] = True; i += 1; continue
        if c == "'":
            m = re.match(r"'(\\.|[^\\'])'", line[i:]) or re.match(r"'\\u\{[0-9a-fA-F]+\}'", line[i:])
            if m: i += len(m.group(0)); continue
        out.append(c); i += 1
    return "".join(out)

def functions(path):
    lines = path.read_text().splitlines()
    state = {"block": False, "str": False, "raw": None}
    code = []
    for line in lines:
        if state["raw"]:
            j = line.find(state["raw"])
            if j < 0: code.append(""); continue
            line = line[j + len(state["raw"]):]; state["raw"] = None
        code.append(strip(line, state))
    skip_until, out = -1, []
    for i, line in enumerate(code):
        if i <= skip_until: continue
        if "#[cfg(test)]" in lines[i]:
            # skip the test module that follows
            depth, started = 0, False
            for k in range(i + 1, len(code)):
                depth += code[k].count("{") - code[k].count("}")
                if "{" in code[k]: started = True
                if started and depth <= 0: skip_until = k; break
            continue
        m = FN.match(line)
        if not m: continue
        depth, started = 0, False
        for k in range(i, len(code)):
            if not started and ";" in code[k] and "{" not in code[k]:
                break  # a declaration without a body
            depth += code[k].count("{") - code[k].count("}")
            if "{" in code[k]: started = True
            if started and depth <= 0:
                out.append((k - i + 1, f"{path.relative_to(ROOT)}:{i+1} {m.group(5)}")); break
    return out

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]

files = [(len(p.read_text().splitlines()), str(p.relative_to(ROOT))) for p in sources()]
fns = [f for p in sources() for f in functions(p)]
fl = [n for n, _ in files]; fnl = [n for n, _ in fns]
print(f"files: {len(fl)}  p50 {pct(fl, .5)}  p90 {pct(fl, .9)}  max {max(fl)}")
print(f"functions: {len(fnl)}  p50 {pct(fnl, .5)}  p90 {pct(fnl, .9)}  max {max(fnl)}")
top = int(sys.argv[1]) if len(sys.argv) > 1 else 5
for n, name in sorted(files, reverse=True)[:top]: print(f"  file {n:5} {name}")
for n, name in sorted(fns, reverse=True)[:top]: print(f"  fn   {n:5} {name}")
