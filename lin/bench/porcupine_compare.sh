#!/usr/bin/env bash
# synclab-lin beside porcupine, in one run, on porcupine's own test data: the Jepsen etcd logs
# (test_data/jepsen) and the key-value logs (test_data/kv). Prints, per data set and checker, the
# verdicts' agreement, the total time and the slowest file; then times `synclab check` on a
# 10,000,000-operation queue history with peak memory (/usr/bin/time -v).
#
#   lin/bench/porcupine_compare.sh PORCUPINE [N_QUEUE_OPS]
#
# PORCUPINE: a porcupine checkout (work tree) or a bare clone (its HEAD is exported to a temp
# dir). Nothing is downloaded at run time: Go comes from Debian's packages (apt-get install
# golang-go, when missing and run as root); porcupine has no Go dependencies (GOPROXY=off).
# Times are of the check only (files are read and parsed before the clock starts), in-process
# for both: porcupine's CheckEvents, synclab's check() with and without a minimized witness.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
porcupine="${1:?usage: porcupine_compare.sh PORCUPINE_CHECKOUT [N_QUEUE_OPS]}"
queue_ops="${2:-10000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v go >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Go from Debian's packages (golang-go)"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null
  fi
  command -v go >/dev/null 2>&1 || { echo "Go is not installed and could not be (apt-get install golang-go)"; exit 2; }
fi
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null || true
fi

echo "== porcupine source"
src="$work/porcupine"
if [ -f "$porcupine/go.mod" ]; then
  cp -r "$porcupine" "$src"
elif git --git-dir="$porcupine" rev-parse HEAD >/dev/null 2>&1; then
  mkdir -p "$src" && git --git-dir="$porcupine" archive HEAD | tar -x -C "$src"
else
  echo "$porcupine is neither a porcupine work tree nor a git clone of it"; exit 2
fi
echo "porcupine $(git --git-dir="$porcupine" rev-parse --short HEAD 2>/dev/null || git -C "$porcupine" rev-parse --short HEAD 2>/dev/null || echo '(unknown commit)'), $(go version)"

echo "== building both (release)"
mkdir -p "$work/runner"
cp "$here/porcupine_runner/main.go" "$work/runner/"
cat > "$work/runner/go.mod" <<MOD
module porcupinerunner

go 1.16

require github.com/anishathalye/porcupine v0.0.0
replace github.com/anishathalye/porcupine => $src
MOD
(cd "$work/runner" && GOFLAGS=-mod=mod GOPROXY=off go build -o "$work/porcupine_runner" .)
(cd "$root" && cargo build --release -q -p synclab-lin --example compare_files --example queue_history \
  && cargo build --release -q -p synclab-verify --bin synclab)
synclab_files="$root/target/release/examples/compare_files"

etcd=()
for f in "$src"/test_data/jepsen/etcd_*.log; do [ -s "$f" ] && etcd+=("$f"); done   # etcd_095 is empty
kv=("$src"/test_data/kv/*.txt)

# summary FILE COLUMN: "total_s slowest_s slowest_file"
summary() {
  awk -F'\t' -v c="$2" '{ t += $c; if ($c > m) { m = $c; f = $1 } } END { n = split(f, p, "/"); printf "%.4f %.4f %s", t, m, p[n] }' "$1"
}

run_set() { # name mode files...
  local name="$1" mode="$2"; shift 2
  "$work/porcupine_runner" "$mode" "$@" > "$work/$name.porcupine"
  "$synclab_files" "$@" > "$work/$name.synclab"
  local agree disagree
  agree=$(paste "$work/$name.porcupine" "$work/$name.synclab" | awk -F'\t' '$2 == $5' | wc -l)
  disagree=$(paste "$work/$name.porcupine" "$work/$name.synclab" | awk -F'\t' '$2 != $5 { split($1, p, "/"); printf " %s(porcupine %s, synclab %s)", p[length(p)], $2, $5 }')
  read -r pt pm pf <<<"$(summary "$work/$name.porcupine" 3)"
  read -r st sm sf <<<"$(summary "$work/$name.synclab" 3)"
  read -r wt wm wf <<<"$(summary "$work/$name.synclab" 4)"
  printf "| %-6s | %5d | %-34s | %9s | %9s (%s) |\n" "$name" "$#" "porcupine CheckEvents" "$pt" "$pm" "$pf"
  printf "| %-6s | %5d | %-34s | %9s | %9s (%s) |\n" "$name" "$#" "synclab check(), verdict only" "$st" "$sm" "$sf"
  printf "| %-6s | %5d | %-34s | %9s | %9s (%s) |\n" "$name" "$#" "synclab check(), minimized witness" "$wt" "$wm" "$wf"
  echo "verdicts: $agree of $# files agree${disagree:+; differ:$disagree}" >&2
}

echo "== porcupine and synclab on the same files (seconds; parse not timed)"
echo "| data   | files | checker                            | total (s) | slowest file (s) |"
echo "|--------|-------|------------------------------------|-----------|------------------|"
run_set etcd etcd "${etcd[@]}"
run_set kv kv "${kv[@]}"

echo "== synclab check on a ${queue_ops}-operation queue history (parse + check; goal: < 10 s, < 2 GB)"
"$root/target/release/examples/queue_history" "$work/queue.jsonl" "$queue_ops"
ls -l "$work/queue.jsonl" | awk '{ printf "file size: %.0f MB\n", $5 / 1e6 }'
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$root/target/release/synclab" check "$work/queue.jsonl" --json > "$work/queue.out" 2> "$work/queue.time" || true
  cat "$work/queue.out"; echo
  grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$work/queue.time"
else
  echo "/usr/bin/time not found: timing without peak memory"
  start=$(date +%s.%N); "$root/target/release/synclab" check "$work/queue.jsonl" --json || true
  echo; echo "wall: $(echo "$(date +%s.%N) - $start" | bc) s"
fi
