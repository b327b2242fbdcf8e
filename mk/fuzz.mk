# Fuzzing (never part of `make test`; the committed corpora are replayed by `cargo test` anyway,
# see core/tests/fuzz_corpus_replay.rs, bridge/tests/fuzz_corpus_replay.rs and
# ffi/tests/fuzz_corpus_replay.rs). Stable toolchain: fuzz/run.sh sets RUSTC_BOOTSTRAP=1.
#
#   make fuzz                         every target, FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_SECONDS=600 FUZZ_JOBS=2 FUZZ_TARGETS="challenge json_token"
#   make fuzz-cmin                    minimize every corpus before committing it
#   make fuzz-seed                    (re)write the seed inputs from the reference vectors
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_TARGETS ?=

.PHONY: fuzz fuzz-cmin fuzz-seed

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) $(if $(FUZZ_TARGETS),FUZZ_TARGETS="$(FUZZ_TARGETS)") fuzz/run.sh

fuzz-seed:
	python3 fuzz/seed_corpus.py

fuzz-cmin:
	cd fuzz && for t in $$(sed -n 's/^name = "\([a-z_0-9]*\)"$$/\1/p' Cargo.toml | grep -v '^mcp-auth-fuzz$$'); do \
		RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz cmin --fuzz-dir . -s none -a "$$t" "corpus/$$t" || exit 1; \
	done
