#!/usr/bin/env python3
"""Turns the statements one request issued, as Postgres logged them, into a pgbench script.

    replay.py LOG DATABASE [rollback] < /dev/null > script.sql

Reads the server log lines `duration: … execute <name>: SQL` (with their `DETAIL: parameters:` line) and
`duration: … statement: SQL` of DATABASE, binds each parameter into its statement as a literal, and prints one
statement per line, each ending with `;`: the same statements, in the same order, captured rather than retyped.
With `rollback`, a COMMIT becomes ROLLBACK, so that a create's statements can be replayed without keeping rows.
Prints the number of statements the request issued to stderr.
"""
import json
import re
import sys

log, database = sys.argv[1], sys.argv[2]
rollback = len(sys.argv) > 3 and sys.argv[3] == "rollback"
entry = re.compile(r"@" + re.escape(database) + r" (LOG|DETAIL):  (.*)")
logged = re.compile(r"duration: [0-9.]+ ms  (?:execute [^:]+|statement): (.*)", re.S)
param = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")

uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def typed(value):
    """A logged parameter as a literal. The log gives no types; an array needs one (`unnest('{…}')` is ambiguous),
    so an array of uuids (nulls among them or not) is cast to uuid[], one of `t` and `f` to boolean[] and any other
    array to text[]. Scalars and JSON stay untyped, typed by their context as bound ones are."""
    if not (value.startswith("'{") and value.endswith("}'")):
        return value
    try:
        json.loads(value[1:-1].replace("''", "'"))
        return value  # a JSON object (or `{}`), typed by its column
    except ValueError:
        pass
    items = [x for x in value[2:-2].split(",") if x and x != "NULL"]
    if items and all(uuid.fullmatch(x) for x in items):
        return value + "::uuid[]"
    if items and all(x in ("t", "f") for x in items):
        return value + "::boolean[]"
    return value + "::text[]"


# Join continuation lines (a statement over several lines) to the entry they belong to.
entries = []
with open(log, encoding="utf-8", errors="replace") as f:
    for line in f:
        m = entry.search(line)
        if m:
            entries.append([m.group(1), m.group(2).rstrip("\n")])
        elif entries and line.startswith("\t"):
            entries[-1][1] += "\n" + line[1:].rstrip("\n")

statements = []
for i, (kind, text) in enumerate(entries):
    if kind != "LOG":
        continue
    m = logged.match(text)
    if not m:
        continue
    sql = m.group(1)
    if i + 1 < len(entries) and entries[i + 1][0] == "DETAIL" and entries[i + 1][1].startswith("parameters:"):
        values = {n: typed(v) for n, v in param.findall(entries[i + 1][1])}
        sql = re.sub(r"\$(\d+)\b", lambda p: values.get(p.group(1), p.group(0)), sql)
    if rollback and sql.strip().upper() == "COMMIT":
        sql = "ROLLBACK"
    statements.append(sql.rstrip().rstrip(";") + ";")

def top_level(text):
    """The comma-separated items of a parenthesised list, commas inside quotes or parentheses kept."""
    items, depth, quoted, start = [], 0, False, 0
    for at, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and ch == "," and depth == 0:
            items.append(text[start:at].strip())
            start = at + 1
    items.append(text[start:].strip())
    return items


# The request's own statements; the replay may add one of its own below (new ids), which is not counted.
issued = len(statements)
if rollback:
    # The ids the request created already exist (its transaction committed): the replay makes new ones for each
    # transaction, as the server does, and uses them wherever the request used them.
    insert = re.compile(r'INSERT INTO "?\w+"? \(([^)]*)\) VALUES \((.*)', re.S)
    created = []
    for sql in statements:
        m = insert.match(sql)
        if not m:
            continue
        columns = [c.strip().strip('"') for c in m.group(1).split(",")]
        if "id" in columns:
            value = top_level(m.group(2))[columns.index("id")]
            if uuid.fullmatch(value.strip("'")) and value not in created:
                created.append(value)
    for n, value in enumerate(created, 1):
        statements = [sql.replace(value, f":created{n}") for sql in statements]
    if created:
        names = ", ".join(f"gen_random_uuid() AS created{n}" for n in range(1, len(created) + 1))
        statements.insert(0, f"SELECT {names} \\gset")

print("\n".join(statements))
print(issued, file=sys.stderr)
