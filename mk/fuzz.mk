# Fuzzing (never part of `make test`; the committed corpora are replayed by `cargo test` anyway,
# see core/tests/fuzz_corpus_replay.rs, bridge/tests/fuzz_corpus_replay.rs and
# ffi/tests/fuzz_corpus_replay.rs). Stable toolchain: fuzz/run.sh sets RUSTC_BOOTSTRAP=1.
#
#   make fuzz                         every target, FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_SECONDS=600 FUZZ_JOBS=2 FUZZ_TARGETS="challenge json_token"
#   make fuzz-cmin                    fold the finds of `make fuzz` into the committed corpora,
#                                     minimized (fuzz/cmin.sh: the seeds plus the fewest inputs
#                                     that reach every edge; at most FUZZ_CMIN_MAX files in all)
#   make fuzz-seed                    (re)write the seed inputs from the reference vectors
#
# The committed corpora (fuzz/corpus/<target>/) are small on purpose (seeds plus a minimized
# set); `make fuzz` grows its own working corpora under fuzz/target/corpus/ (not in git) from
# them, so nothing is lost between runs on one machine, and a fresh clone regenerates the rest.
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_TARGETS ?=

.PHONY: fuzz fuzz-cmin fuzz-seed

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) $(if $(FUZZ_TARGETS),FUZZ_TARGETS="$(FUZZ_TARGETS)") fuzz/run.sh

fuzz-seed:
	python3 fuzz/seed_corpus.py

fuzz-cmin:
	$(if $(FUZZ_TARGETS),FUZZ_TARGETS="$(FUZZ_TARGETS)") fuzz/cmin.sh
