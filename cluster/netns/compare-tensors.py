#!/usr/bin/env python3
"""Compares the tensors of safetensors files byte for byte (standard library only).

Usage: compare-tensors.py A B [A2 B2 ...]

Each pair must hold the same tensor names, and each tensor the same dtype, shape and bytes. The
free-form __metadata__ (which names the run folder, for one) is ignored. Prints one line per pair
and exits 1 when any pair differs, naming the first tensors that do and by how much.
"""
import json
import struct
import sys


def tensors(path):
    """name -> (dtype, shape, bytes) of a safetensors file."""
    with open(path, "rb") as handle:
        blob = handle.read()
    (header_length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_length])
    data = blob[8 + header_length:]
    result = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        result[name] = (entry["dtype"], tuple(entry["shape"]), data[begin:end])
    return result


def largest_difference(left, right):
    """The largest absolute difference between two F32 byte strings of the same length."""
    count = len(left) // 4
    a = struct.unpack("<%df" % count, left)
    b = struct.unpack("<%df" % count, right)
    return max(abs(x - y) for x, y in zip(a, b))


def compare(path_a, path_b):
    a, b = tensors(path_a), tensors(path_b)
    problems = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            problems.append("%s: only in %s" % (name, path_a if name in a else path_b))
            continue
        if a[name][:2] != b[name][:2]:
            problems.append("%s: dtype/shape %s vs %s" % (name, a[name][:2], b[name][:2]))
        elif a[name][2] != b[name][2]:
            detail = ""
            if a[name][0] == "F32":
                detail = " (largest difference %.3g)" % largest_difference(a[name][2], b[name][2])
            problems.append("%s: values differ%s" % (name, detail))
    total = sum(len(entry[2]) for entry in a.values())
    return problems, len(a), total


def main(arguments):
    if len(arguments) < 2 or len(arguments) % 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = False
    for path_a, path_b in zip(arguments[0::2], arguments[1::2]):
        try:
            problems, count, total = compare(path_a, path_b)
        except (OSError, ValueError, KeyError) as error:
            print("error: cannot compare %s and %s: %s" % (path_a, path_b, error), file=sys.stderr)
            return 2
        if problems:
            failed = True
            print("DIFFER  %s vs %s: %d tensor(s) differ" % (path_a, path_b, len(problems)))
            for problem in problems[:5]:
                print("        " + problem)
        else:
            print("same    %s: %d tensors, %d bytes identical" % (path_a.split("/checkpoints/")[-1], count, total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
