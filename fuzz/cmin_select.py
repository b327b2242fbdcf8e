#!/usr/bin/env python3
"""Choose the committed fuzz corpora from libFuzzer merge control files (fuzz/cmin.sh runs it).

    cmin_select.py BUDGET OUT_ROOT TARGET:CONTROL_FILE:KEPT_DIR...

Each control file comes from `<target> -set_cover_merge=1 -use_counters=0 -use_value_profile=0
-merge_control_file=…` (set cover: every input's FT line lists all the features it reaches) run with the kept inputs (seeds, named regression inputs) as the first
corpus directory and the candidates after it: it lists every input and the edge features it
reaches. For every target:

1. the kept inputs (every file of KEPT_DIR, also those libFuzzer skips, like an empty one) are
   all committed;
2. the candidates are ranked by greedy set cover: repeatedly the input that reaches the most
   edges not reached yet (ties: the smaller input, then the name), until no input adds an edge;
3. the committed candidates are the first `cap` of that ranking, where `cap` is the same for
   every target and as large as the total budget allows (a target that needs fewer leaves its
   share to the others).

So the committed corpus reaches every edge any input reached, unless the budget cuts the tail of
the ranking (the inputs that add the fewest new edges); the report says how many edges are kept.
Candidates are written under OUT_ROOT/<target>/<sha1 of the content>, as libFuzzer names them.
"""

import hashlib
import heapq
import os
import shutil
import sys


def parse(control_file):
    with open(control_file, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    n, k = int(lines[0]), int(lines[1])
    files = lines[2 : 2 + n]
    features = {}
    sizes = {}
    for line in lines[2 + n :]:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "STARTED":
            sizes[int(parts[1])] = int(parts[2])
        elif parts[0] == "FT":
            features[int(parts[1])] = {int(x) for x in parts[2:]}
    for i in range(n):
        if i not in features:
            # No FT line: the input crashed or timed out during the merge. The replay test would
            # fail on it; stop here rather than silently drop it.
            sys.exit(f"cmin: {files[i]} did not finish in {control_file}")
    return files, k, features, sizes


def rank(files, k, features, sizes):
    """Greedy set cover, evaluated lazily (a gain only shrinks as more edges are covered)."""
    covered = set()
    for i in range(k):
        covered |= features[i]
    kept_edges = len(covered)
    heap = [(-len(features[i] - covered), sizes.get(i, 0), files[i], i) for i in range(k, len(files))]
    heapq.heapify(heap)
    ranking, gains = [], []
    while heap:
        _, size, name, i = heapq.heappop(heap)
        gain = len(features[i] - covered)
        if gain == 0:
            continue
        if heap and (-gain, size, name) > heap[0][:3]:
            heapq.heappush(heap, (-gain, size, name, i))
            continue
        ranking.append(i)
        gains.append(gain)
        covered |= features[i]
    return kept_edges, ranking, gains, len(covered)


def main():
    budget = int(sys.argv[1])
    out_root = sys.argv[2]
    targets = []
    for arg in sys.argv[3:]:
        name, control_file, kept_dir = arg.split(":", 2)
        files, k, features, sizes = parse(control_file)
        kept_edges, ranking, gains, total_edges = rank(files, k, features, sizes)
        kept = sorted(os.path.join(kept_dir, f) for f in os.listdir(kept_dir))
        targets.append((name, files, kept, ranking, gains, kept_edges, total_edges))

    kept_total = sum(len(t[2]) for t in targets)
    room = budget - kept_total
    if room < 0:
        sys.exit(f"cmin: the kept inputs alone ({kept_total}) exceed the budget ({budget})")
    needs = [len(t[3]) for t in targets]
    cap = max(needs, default=0)
    while cap > 0 and sum(min(n, cap) for n in needs) > room:
        cap -= 1

    print(f"{'target':<24}{'kept':>6}{'added':>7}{'files':>7}   edges reached (all inputs)")
    total = 0
    for name, files, kept, ranking, gains, kept_edges, total_edges in targets:
        chosen = ranking[:cap]
        edges = kept_edges + sum(gains[: len(chosen)])
        out = os.path.join(out_root, name)
        os.makedirs(out, exist_ok=True)
        for path in kept:
            shutil.copyfile(path, os.path.join(out, os.path.basename(path)))
        for i in chosen:
            with open(files[i], "rb") as f:
                data = f.read()
            with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
        count = len(os.listdir(out))
        total += count
        print(f"{name:<24}{len(kept):>6}{len(chosen):>7}{count:>7}   {edges} of {total_edges}")
    print(f"{'TOTAL':<24}{kept_total:>6}{'':>7}{total:>7}   (at most {cap} added per target)")


if __name__ == "__main__":
    main()
