"""A run's metrics.jsonl and a sweep's results.csv as plain NumPy columns.

read_metrics: one row per logged step (README "What a run writes"); every key seen on any line becomes a column,
float64 with NaN where a line lacks the key or holds null (so eval-only keys such as fisher_divergence are NaN on
the other steps), and "step" is int64. All columns have the same length, so m["step"][i] is the step of
m["loss"][i]. A key holding non-numeric text becomes a str column with "" where missing.

read_results: one row per run (README "Sweeps"); a column whose non-empty cells all parse as numbers is float64
(empty cells NaN), any other column a str array. The report's label and text columns (name, objective,
optimizer, variant, status, quality_metric, message) and shared_cpu stay str whatever they hold.
"""

import csv
import json
import math
import os

import numpy as np

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
TEXT_COLUMNS = frozenset({"name", "objective", "optimizer", "variant", "status", "quality_metric", "message",
                          "shared_cpu"})


def _in_folder(path, filename):
    path = os.fspath(path)
    return os.path.join(path, filename) if os.path.isdir(path) else path


def _as_number(value):
    """float for a JSON number, bool, null or non-finite spelling; None for anything else."""
    if value is None:
        return math.nan
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    return None


def read_metrics(path):
    """dict column -> array of a run's metrics.jsonl (path: the file or the run folder). A last line cut short
    (a run killed, or still writing) is ignored; any other line that is not a JSON object is a ValueError naming
    the file and line."""
    path = _in_folder(path, "metrics.jsonl")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if number == len(lines):  # no newline after it: an unfinished write
                break
            raise ValueError(f"metrics {path}: line {number} is not JSON ({e})") from None
        if not isinstance(record, dict):
            raise ValueError(f"metrics {path}: line {number} is JSON but not an object")
        records.append(record)
    keys = []
    for record in records:
        keys.extend(k for k in record if k not in keys)
    columns = {}
    for key in keys:
        values = [r.get(key) for r in records]
        numbers = [_as_number(v) for v in values]
        if all(n is not None for n in numbers):
            columns[key] = np.array(numbers, dtype=np.float64)
        else:
            columns[key] = np.array(["" if v is None else str(v) for v in values], dtype=str)
    if "step" in columns:
        steps = columns["step"]
        if steps.dtype.kind != "f" or np.isnan(steps).any() or (steps != np.round(steps)).any():
            raise ValueError(f"metrics {path}: some lines have no integer step")
        columns["step"] = steps.astype(np.int64)
    return columns


def _parse_float(cell):
    try:
        return float(cell)
    except ValueError:
        return None


def read_results(path):
    """dict column -> array of a sweep's results.csv (path: the file or the sweep folder), in file order."""
    path = _in_folder(path, "results.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"results {path}: the file is empty (no header row)")
    header, body = rows[0], [r for r in rows[1:] if r]
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):
            raise ValueError(f"results {path}: row {number} has {len(row)} cells, the header {len(header)}")
    columns = {}
    for i, name in enumerate(header):
        cells = [row[i] for row in body]
        numbers = [math.nan if c.strip() == "" else _parse_float(c) for c in cells]
        if name not in TEXT_COLUMNS and all(n is not None for n in numbers):
            columns[name] = np.array(numbers, dtype=np.float64)
        else:
            columns[name] = np.array(cells, dtype=str)
    return columns
