#!/usr/bin/env bash
# The whole REALM pre-training chain of BENCHMARKS.md 'REALM pre-training' (issue 6), from a fresh clone to the
# (a) / (b) / (c) table, as one resumable command: every stage is skipped when its output exists, and the training
# stages resume from their newest checkpoint after a kill (re-run the same command).
#
#   1  MLM trunk (BERT-mini-128) on Wikipedia leads (+ WordNet), held-out documents excluded (configs/mlm-*.json):
#      warm-up (trains the 8,000-wordpiece vocabulary) -> continue -> long (stopped at 4,600 of 20,000 steps) ->
#      segment pairs (6,000) -> copy curriculum (2,000) -> copy stage 2 (pairOwnShare 0.75, stopped at 4,500 of 10,000);
#      the reader's trunk: copy stage 2 stacked to 4 layers (scripts/stack-layers.ts 0,1,0,1) and continued 2,000 steps
#      (configs/mlm-copy-deep.json; session 15 — the embedders keep 2 layers, model.config.reader_num_hidden_layers 4)
#   2  ICT retriever (scripts/train-ict.ts) from the segment-pair trunk, 2,400 steps x 64, on enwiki2015_first300_p100
#   3  index of the REALM corpus (56k blocks of the Wikipedia leads) with that Embed_doc (bench/pretrain-index.ts)
#   4  salient example cache of EXAMPLE_BLOCKS training blocks (0 = all), then the evidence warm-up of the copy-head
#      reader (scripts/warm-reader-evidence.ts, 2 epochs)
#   5  REALM (a) k = 4 MIPS + 4 BM25 + null, relevance 0.05·q·d + w·BM25 (session 16; w learned from 0.1), (b) null
#      document only, (c) random-span masking: configs/realm-evidence.json
#      ((a) and (c) with the reader fixed at the warm-up, realm.trainReader false — session 14; (b) trains its reader)
#   6  held-out evaluation (bench/pretrain-eval.ts, 500 sentences), written to bench/results/pretrain.json + BENCHMARKS.md
#
# Session 13's pre-registered variants (ict4 + the query embedder's evidence warm-up, scripts/warm-retriever-evidence.ts,
# with and without realm.calibrateNullScore) scored below this recipe on the test sentences and on the validation split;
# they are this script at commits d95a662 / 16ba496 (BENCHMARKS.md, "Session 13").
#
# Independent jobs run side by side with THREADS/2 threads each (the engine gains ~1.5x from a second thread, so two
# 1-thread jobs finish sooner than the same two in turn at 2): the copy curriculum beside the ICT run, (a) beside (c).
#
# Stage outputs committed in models/stages/ (F16; see its README) are copied into RUNS_DIR first, so a fresh clone
# starts at the first stage whose output is not there.
#
# Usage: bash scripts/reproduce-realm.sh [RUNS_DIR]   (default: runs/ in the repository; env THREADS=2,
#        EXAMPLE_BLOCKS=0, WARM_DISTRACTORS=0 (warm-reader-evidence.ts --distractors), STOP_BEFORE=<stage number> to
#        stop early). Hours on a 2-core machine; see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
RUNS=$(realpath -m "${1:-runs}")
THREADS=${THREADS:-2}
HALF=$(( THREADS > 1 ? THREADS / 2 : 1 ))
EXAMPLE_BLOCKS=${EXAMPLE_BLOCKS:-0}
WARM_DISTRACTORS=${WARM_DISTRACTORS:-0}
STOP_BEFORE=${STOP_BEFORE:-99}
CFG=$RUNS/cfg
mkdir -p "$CFG"
TSX=(node --import tsx)
say() { echo "[reproduce-realm $(date -u +%H:%M:%S)] $*" >&2; }
stage() { [ "$1" -lt "$STOP_BEFORE" ] || { say "stopping before stage $1"; exit 0; }; }

# derive SRC DST JS: writes DST = configs/SRC.json with absolute paths and $T threads (default THREADS), after running
# JS on it (as `c`)
derive() {
  node -e '
    const [src, dst, runs, repo, threads, js] = process.argv.slice(1);
    const c = JSON.parse(require("fs").readFileSync(repo + "/configs/" + src + ".json", "utf8"));
    const abs = (p) => (typeof p === "string" && p.startsWith("../runs/")) ? runs + p.slice(7) : p;
    c.outputDir = abs(c.outputDir); c.model.vocab = abs(c.model.vocab); c.model.init = abs(c.model.init);
    if (c.model.retrieverInit) c.model.retrieverInit = abs(c.model.retrieverInit);
    if (c.data.index) c.data.index = abs(c.data.index);
    c.threads = Number(threads);
    new Function("c", "runs", js)(c, runs);
    require("fs").writeFileSync(dst, JSON.stringify(c, null, 2));
  ' "$1" "$2" "$RUNS" "$REPO" "${T:-$THREADS}" "${3:-}"
}
pretrain() { "${TSX[@]}" src/cli/main.ts pretrain --config "$@"; }
# snapshot DIR STEP NAME: copies DIR/checkpoints/checkpoint-STEP to RUNS/NAME (the init of the next stage)
snapshot() { [ -d "$RUNS/$3" ] || cp -r "$RUNS/$1/checkpoints/checkpoint-$2" "$RUNS/$3"; }

# seed FILE: copies models/stages/FILE to RUNS/FILE unless it is there
seed() { if [ -f "$REPO/models/stages/$1" ] && [ ! -f "$RUNS/$1" ]; then mkdir -p "$(dirname "$RUNS/$1")"; cp "$REPO/models/stages/$1" "$RUNS/$1"; say "seeded $1"; fi; }
for f in mlm-warmup/vocab.txt mlm-copy2-4500/model.safetensors mlm-copy-deep/model/model.safetensors ict3/ict-2400/model.safetensors ict3/DONE; do seed "$f"; done
trunkDone() { [ -f "$RUNS/mlm-pairs-6000/model.safetensors" ] || { [ -f "$RUNS/mlm-copy2-4500/model.safetensors" ] && [ -f "$RUNS/ict3/DONE" ]; }; }

stage 1
if ! trunkDone; then
  derive mlm-warmup "$CFG/mlm-warmup.json";     pretrain "$CFG/mlm-warmup.json"
  derive mlm-continue "$CFG/mlm-continue.json"; pretrain "$CFG/mlm-continue.json"
  derive mlm-long "$CFG/mlm-long.json";         pretrain "$CFG/mlm-long.json" --stop-after 4600; snapshot mlm-long 4600 mlm-long-4600
  derive mlm-pairs "$CFG/mlm-pairs.json";       pretrain "$CFG/mlm-pairs.json"; snapshot mlm-pairs 6000 mlm-pairs-6000
fi
VOCAB=$RUNS/mlm-warmup/vocab.txt

stage 2
copyCurriculum() {
  [ -f "$RUNS/mlm-copy2-4500/model.safetensors" ] && return 0
  T=$HALF derive mlm-copy "$CFG/mlm-copy.json"; pretrain "$CFG/mlm-copy.json"
  T=$HALF derive mlm-copy "$CFG/mlm-copy2.json" 'c.outputDir = runs + "/mlm-copy2"; c.model.init = runs + "/mlm-copy/model";
    c.data.pairOwnShare = 0.75; c.optim.steps = 10000;'
  pretrain "$CFG/mlm-copy2.json" --stop-after 4500; snapshot mlm-copy2 4500 mlm-copy2-4500
}
ict() {
  [ -f "$RUNS/ict3/DONE" ] && return 0
  "${TSX[@]}" scripts/train-ict.ts --work "$RUNS/ict3/work" --init "$RUNS/mlm-pairs/model" --out "$RUNS/ict3/ict-2400" \
    --done "$RUNS/ict3/DONE" --steps 2400 --batch 64 --lr 3e-4 --warmup 50 --block-len 128 --query-len 40 \
    --logit-scale 0.0884 --dropout 0 --threads "$HALF" --checkpoint-every 100 --max-minutes 600 > "$RUNS/ict3.log" 2>&1
}
# the reader's 4-layer trunk (session 15): copy stage 2 stacked to 4 layers (scripts/stack-layers.ts), 2,000 more steps
deepReader() {
  [ -f "$RUNS/mlm-copy-deep/model/model.safetensors" ] && return 0
  "${TSX[@]}" scripts/stack-layers.ts --from "$RUNS/mlm-copy2-4500/model.safetensors" --to "$RUNS/mlm-copy2-4500-stacked.safetensors" --order 0,1,0,1
  T=$HALF derive mlm-copy-deep "$CFG/mlm-copy-deep.json"; pretrain "$CFG/mlm-copy-deep.json"
}
ict & ictPid=$!
copyCurriculum
deepReader
wait $ictPid || { say "ICT failed: see $RUNS/ict3.log"; exit 1; }
RETRIEVER=$RUNS/ict3/ict-2400/model.safetensors

# the REALM configs: configs/realm-evidence.json, whose ../runs/ paths (vocab, warm-up output as model.init, ICT
# retriever, index) derive maps into RUNS; (a) and (c) get THREADS/2 threads as they run side by side
T=$HALF derive realm-evidence "$CFG/realm-a.json" 'c.outputDir = runs + "/realm-a";'
stage 3
[ -f "$RUNS/index-ict3.bin" ] || "${TSX[@]}" bench/pretrain-index.ts --config "$CFG/realm-a.json" --out "$RUNS/index-ict3.bin" --threads "$THREADS"

stage 4
WARM=$RUNS/warm-evidence/init.safetensors
if [ ! -f "$WARM" ]; then
  derive realm-evidence "$CFG/realm-ex.json" "c.outputDir = runs + '/ex'; c.data.exampleBlocks = $EXAMPLE_BLOCKS; c.realm.k = 0;
    c.realm.lexicalCandidates = 0; c.optim.steps = 1; c.optim.warmupSteps = 0; c.model.init = runs + '/mlm-copy-deep/model';"
  pretrain "$CFG/realm-ex.json"
  mkdir -p "$(dirname "$WARM")"
  "${TSX[@]}" scripts/warm-reader-evidence.ts --run "$RUNS/ex" --config "$RUNS/ex/model/config.json" --vocab "$VOCAB" \
    --reader-init "$RUNS/mlm-copy-deep/model/model.safetensors" --retriever-init "$RETRIEVER" \
    --out "$WARM" --epochs 2 --distractors "$WARM_DISTRACTORS" --threads "$THREADS"
fi

stage 5
derive realm-evidence "$CFG/realm-b.json" 'c.outputDir = runs + "/realm-b"; c.realm.k = 0; c.realm.lexicalCandidates = 0;
  c.realm.trainReader = true; c.realm.lexicalScoreWeight = 0; c.realm.learnLexicalScoreWeight = false;'
T=$HALF derive realm-evidence "$CFG/realm-c.json" 'c.outputDir = runs + "/realm-c"; c.data.masking = "random-span";'
# (a) and (c) side by side, then (b) (a minute)
[ -d "$RUNS/realm-c/model" ] || pretrain "$CFG/realm-c.json" > "$RUNS/realm-c.log" 2>&1 & cPid=$!
[ -d "$RUNS/realm-a/model" ] || pretrain "$CFG/realm-a.json"
wait $cPid || { say "(c) failed: see $RUNS/realm-c.log"; exit 1; }
[ -d "$RUNS/realm-b/model" ] || pretrain "$CFG/realm-b.json"

stage 6
"${TSX[@]}" bench/pretrain-eval.ts --run "$RUNS/realm-a" --a "$RUNS/realm-a/model" --b "$RUNS/realm-b/model" \
  --c "$RUNS/realm-c/model" --max-n 500 --k 4 --threads "$THREADS" \
  --note "Made by scripts/reproduce-realm.sh: all three start from the same evidence-warmed reader (scripts/warm-reader-evidence.ts over the salient examples of $([ "$EXAMPLE_BLOCKS" = 0 ] && echo all || echo "$EXAMPLE_BLOCKS") training blocks, 2 epochs) with the reader's span copy head (reader_copy_head \"span\"), a 4-layer reader (reader_num_hidden_layers 4, its trunk configs/mlm-copy-deep.json) and the ICT retriever ict3, then configs/realm-evidence.json (800 steps; (a) and (c) score candidates by 0.05·q·d + w·BM25, w learned from 0.1, and keep the reader fixed at the warm-up, realm.trainReader false, side by side at THREADS/2; (b) trains its reader)."
say "done"
