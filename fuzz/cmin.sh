#!/usr/bin/env bash
# Minimize the committed fuzz corpora (fuzz/corpus/<target>/): what stays in git is
#
#   - the seeds that seed_corpus.py writes (reference vectors and hand-written hostile inputs,
#     named seed-<sha1 prefix>), all of them;
#   - the named regression inputs (any committed file whose name is not a SHA-1 or seed-…, e.g.
#     url_hygiene/crash-… and password-tail: the inputs of fixed bugs), all of them; and
#   - of the other inputs (the committed ones and those `make fuzz` found, under
#     fuzz/target/corpus/<target>/), the fewest that reach every code edge the above do not:
#     greedy set cover on edge coverage alone (-use_counters=0: hitting an edge once or 100
#     times is the same; -use_value_profile=0: no comparison-operand features), cut to an equal
#     share per target of FUZZ_CMIN_MAX files in all (fuzz/cmin_select.py; it reports how many
#     edges the committed files reach of all those reached).
#
# Every committed file is replayed by `cargo test` (core/tests/fuzz_corpus_replay.rs,
# ffi/tests/fuzz_corpus_replay.rs). The working corpora under fuzz/target/corpus keep every
# input (the committed ones are copied there first), for the next `make fuzz`.
#
#   FUZZ_TARGETS="challenge json_token"   a subset (default: every target in fuzz/Cargo.toml)
#   FUZZ_NICE=10                          niceness
#   FUZZ_CMIN_MAX=2000                    files committed in all, over the targets minimized
#
# Needs the fuzz targets built (fuzz/run.sh builds them; so does `cargo fuzz build`).
set -euo pipefail
cd "$(dirname "$0")"

NICE="${FUZZ_NICE:-10}"
MAX="${FUZZ_CMIN_MAX:-2000}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked
fi
ALL_TARGETS=$(sed -n 's/^name = "\([a-z_0-9]*\)"$/\1/p' Cargo.toml | grep -v '^mcp-auth-fuzz$' || true)
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"

nice -n "$NICE" cargo fuzz build --fuzz-dir . -s none -a >&2
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN_DIR="target/$TRIPLE/release"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcp-auth-cmin.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
python3 seed_corpus.py "$scratch/seeds" 2>/dev/null

controls=()
for t in $TARGETS; do
    mkdir -p "corpus/$t" "target/corpus/$t" "$scratch/seeds/$t"
    # Everything committed stays available to the next `make fuzz`.
    cp -n "corpus/$t/." "target/corpus/$t/" -R
    # The kept inputs: the seeds and the named regression inputs.
    kept="$scratch/kept/$t"
    mkdir -p "$kept"
    cp "$scratch/seeds/$t/." "$kept/" -R
    find "corpus/$t" -maxdepth 1 -type f ! -name 'seed-*' -printf '%f\n' |
        { grep -Ev '^[0-9a-f]{40}$' || true; } | while read -r name; do cp "corpus/$t/$name" "$kept/"; done
    # The merge runs every input once and records the edges each reaches in the control file
    # (all of them: with -set_cover_merge; plain -merge=1 records only the edges new at that
    # point); what it writes into its output directory is not used.
    mkdir -p "$scratch/merged/$t"
    cp "$kept/." "$scratch/merged/$t/" -R
    nice -n "$NICE" "$BIN_DIR/$t" -set_cover_merge=1 -use_counters=0 -use_value_profile=0 \
        -timeout=10 -rss_limit_mb=2048 -max_len=4096 -merge_control_file="$scratch/$t.cf" \
        "$scratch/merged/$t" "target/corpus/$t" >"$scratch/$t.log" 2>&1 || {
        cat "$scratch/$t.log" >&2
        echo "cmin: merge of $t failed" >&2
        exit 1
    }
    controls+=("$t:$scratch/$t.cf:$kept")
done

# Budget for the targets minimized now: the limit minus what the other targets commit.
others=0
for d in corpus/*/; do
    t=$(basename "$d")
    case " $(echo $TARGETS) " in *" $t "*) ;; *) others=$((others + $(find "$d" -type f | wc -l))) ;; esac
done
python3 cmin_select.py "$((MAX - others))" "$scratch/out" "${controls[@]}"
for t in $TARGETS; do
    rm -rf "corpus/$t"
    cp -R "$scratch/out/$t" "corpus/$t"
done
