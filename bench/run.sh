#!/usr/bin/env bash
# Runs every benchmark of issue #11 and prints one table: figure, value
# (median of --runs runs), target, verdict. Benchmarks, not tests: never in
# scripts/test.sh. Needs: cargo, node, jq, xvfb-run, WebKitWebDriver.
#
# Usage: bash bench/run.sh [--runs N] [--no-build] [--deb] [--quick] [--markdown FILE]
#   --runs N         runs per figure (default 5)
#   --no-build       reuse the binaries copied to bench/.out by an earlier run
#   --deb            also build the .deb (scripts/bundle.sh; minutes more)
#   --quick          smoke run: 1 run, small bursts, no window/demo figures
#   --markdown FILE  also write the table as Markdown (for the README)
#
# Builds (release, as shipped: --features custom-protocol): the app, the bare
# Tauri window (bench/bare) and the harness (bench/harness), all excluded
# from the workspace's default build; plus the tests' stand-in tofu (debug,
# as the tests build it). Binaries are copied to bench/.out right after each
# build, because the target dir may be shared with other work trees.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

runs=5
build=1
deb=0
quick=0
markdown=""
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift ;;
    --no-build) build=0 ;;
    --deb) deb=1 ;;
    --quick) quick=1; runs=1 ;;
    --markdown) markdown=$2; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
for tool in cargo node jq xvfb-run gzip column; do
  command -v "$tool" >/dev/null || die "$tool is needed (see bench/README section in the root README)"
done

out="$root/bench/.out"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/catalyst-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# built NAME CARGO-ARGS...: builds, then at once copies the executable cargo
# reports for NAME to bench/.out: another work tree sharing the target dir
# may overwrite target/<profile>/NAME later (it did, for the stand-in tofu).
built() {
  local name=$1 exe
  shift
  exe=$(cargo build "$@" --message-format=json-render-diagnostics \
    | jq -r --arg n "$name" 'select(.reason == "compiler-artifact" and .target.name == $n and .executable != null) | .executable' \
    | tail -n1)
  [ -n "$exe" ] || die "cargo build $* reported no executable $name"
  cp "$exe" "$out/$name"
}
if ((build)); then
  say "building the UI and the release binaries (slow on 2 cores)"
  npm --workspace ui run build >"$work/ui-build.log" 2>&1 || { cat "$work/ui-build.log" >&2; die "UI build failed"; }
  built catalyst-provisioner --release -p catalyst-provisioner --features custom-protocol
  (cd bench/bare && built bare-window --release --features custom-protocol)
  (cd bench/harness && built catalyst-bench --release)
  built tofu -p catalyst-tests --bin tofu
  # The live road runs the engine in the tests' world (debug, as the tests
  # build it: its figures are an upper bound for the release app).
  built live-bench -p catalyst-tests --bin live-bench
  cargo build -q --manifest-path tests/fakes/hcloud-provider/Cargo.toml
fi
if ((deb)); then
  rm -f "$out"/*.deb
  cp "$(bash scripts/bundle.sh --skip-ui-build | tail -n1)" "$out/"
fi
app="$out/catalyst-provisioner"
bare="$out/bare-window"
harness="$out/catalyst-bench"
tofu="$out/tofu"
for b in "$app" "$bare" "$harness" "$tofu"; do
  [ -x "$b" ] || die "$b is missing: run without --no-build first"
done

# ---------------------------------------------------------------- helpers

rows="$work/rows.tsv"
: >"$rows"
# row FIGURE VALUE TARGET VERDICT
row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$rows"; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# fmt DIGITS NUMBER
fmt() { LC_ALL=C printf "%.${1}f" "$2"; }
# verdict VALUE OP LIMIT  (OP: le | lt)
verdict() {
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (v !~ /^[0-9.eE+-]+$/) { print "n/a"; exit }
    ok = (op == "le") ? (v + 0 <= l + 0) : (v + 0 < l + 0)
    print ok ? "pass" : "FAIL"
  }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.3f", a / b }'; }
# ms_of CMD...: wall time of one run of CMD in ms
ms_of() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))e-3
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- 3. size

size_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
row "Size: release binary" "$(size_mb "$app")" "—" "—"
row "Size: bare Tauri v2 window binary" "$(size_mb "$bare")" "—" "—"
size_ratio=$(ratio "$(stat -c %s "$app")" "$(stat -c %s "$bare")")
row "Size: release binary / bare window binary" "$size_ratio×" "≤ 2.0×" "$(verdict "$size_ratio" le 2.0)"
deb_file=$(find "$out" -maxdepth 1 -name '*.deb' | head -n1)
if [ -n "$deb_file" ]; then
  row "Size: .deb" "$(size_mb "$deb_file")" "—" "—"
  # The app's own share: the same package rebuilt without the tofu sidecar
  # and the provider mirror (gzip, as tauri-bundler packs it).
  x="$work/deb-x"
  rm -rf "$x"
  dpkg-deb -R "$deb_file" "$x"
  find "$x" \( -name tofu -o -name 'tofu-*' -o -name providers \) -prune -exec rm -rf {} +
  dpkg-deb -Zgzip -b "$x" "$work/app-only.deb" >/dev/null
  app_deb_mb=$(awk -v b="$(stat -c %s "$work/app-only.deb")" 'BEGIN { printf "%.1f", b / 1e6 }')
  row "Size: .deb without tofu and the provider mirror" "$app_deb_mb MB" "≤ 10 MB" "$(verdict "$app_deb_mb" le 10)"
else
  row "Size: .deb" "not built (run with --deb)" "—" "n/a"
fi
ui_gz=0
for f in ui/dist/assets/*.js ui/dist/assets/*.css; do
  ui_gz=$((ui_gz + $(gzip -9 -c "$f" | wc -c)))
done
ui_kb=$(awk -v b="$ui_gz" 'BEGIN { printf "%.1f", b / 1000 }')
row "Size: UI bundle JS+CSS, gzip -9" "$ui_kb kB" "≤ 250 kB" "$(verdict "$ui_kb" le 250)"

# ---------------------------------------------------------------- 6. engine start

for _ in $(seq "$runs"); do ms_of "$app" --version; done | median >"$work/version"
row "Engine start: --version" "$(fmt 1 "$(cat "$work/version")") ms" "—" "—"
records=200
((quick)) && records=20
store="$work/store"
"$harness" gen-deployments --home "$store" --count "$records" >/dev/null
for _ in $(seq "$runs"); do CATALYST_HOME=$store ms_of "$app" --demo deployments --json; done | median >"$work/list"
row "Engine start: deployments --json, $records records" "$(fmt 1 "$(cat "$work/list")") ms" "—" "—"
load_ms=$("$harness" load-deployments --home "$store" --runs "$runs" | jq -r .median_ms)
row "Engine start: Engine::new + list, $records records (in-process)" "$(fmt 1 "$load_ms") ms" "—" "—"

# ---------------------------------------------------------------- 4. event path

burst=50000
paced=10000
((quick)) && burst=2000 && paced=500
# The stand-in alone, writing to /dev/null: the ceiling of what the engine can be shown to parse.
for _ in $(seq "$runs"); do
  t=$( (cd "$work" && CATALYST_FAKE_TOFU_BURST=$burst ms_of "$tofu" apply -json -input=false -no-color tfplan))
  awk -v n="$burst" -v ms="$t" 'BEGIN { printf "%.0f\n", n / (ms / 1000) }'
done | median >"$work/writer"
for sink in parse engine; do
  for _ in $(seq "$runs"); do
    "$harness" event-path --tofu "$tofu" --lines "$burst" --rate 0 --sink "$sink" | jq -r .parsed_per_s
  done | median >"$work/lps-$sink"
done
row "Event path: stand-in tofu writing alone" "$(fmt 0 "$(cat "$work/writer")") lines/s" "—" "—"
row "Event path: $burst-line burst, runner parse only" "$(fmt 0 "$(cat "$work/lps-parse")") lines/s" "—" "—"
row "Event path: $burst-line burst, parse + event log + bus" "$(fmt 0 "$(cat "$work/lps-engine")") lines/s" "—" "—"
: >"$work/p50"
: >"$work/p99"
for _ in $(seq "$runs"); do
  r=$("$harness" event-path --tofu "$tofu" --lines "$paced" --rate 1000 --sink engine)
  [ "$(jq -r .received <<<"$r")" = "$paced" ] || say "event path: only $(jq -r .received <<<"$r") of $paced lines reached the bridge client"
  jq -r .latency_ms.p50 <<<"$r" >>"$work/p50"
  jq -r .latency_ms.p99 <<<"$r" >>"$work/p99"
done
p50=$(median <"$work/p50")
p99=$(median <"$work/p99")
row "Event path: latency p50, $paced lines at 1 000/s → bridge client" "$(fmt 2 "$p50") ms" "—" "—"
row "Event path: latency p99, $paced lines at 1 000/s → bridge client" "$(fmt 2 "$p99") ms" "< 50 ms" "$(verdict "$p99" lt 50)"

# Explains the big-log figure: the page's event fold, compiled as the UI build does (tsc).
fold_n=20000
((quick)) && fold_n=2000
mkdir -p "$work/fold"
echo '{"type":"module"}' >"$work/fold/package.json"
node_modules/.bin/tsc ui/src/provision/runState.ts --target es2022 --module es2022 --moduleResolution bundler \
  --skipLibCheck --outDir "$work/fold" >"$work/fold.log" 2>&1 || { cat "$work/fold.log" >&2; die "tsc runState.ts failed"; }
# Node's ESM loader wants file extensions on relative imports; the UI's bundler does not.
find "$work/fold" -name '*.js' -exec sed -i -E -e 's#(from "\.{1,2}/[^"]*)";#\1.js";#' -e 's#\.js\.js";#.js";#' {} +
: >"$work/fold-one"
: >"$work/fold-batch"
for _ in $(seq "$runs"); do
  r=$(node bench/ui-fold.mjs "$work/fold/provision/runState.js" "$fold_n")
  jq -r .one_by_one_ms <<<"$r" >>"$work/fold-one"
  jq -r .batches_of_1000_ms <<<"$r" >>"$work/fold-batch"
done
row "UI fold of $fold_n log events (runState.applyEvents, node): one call per event / batches of 1 000" "$(fmt 0 "$(median <"$work/fold-one")") ms / $(fmt 0 "$(median <"$work/fold-batch")") ms" "—" "—"

# ---------------------------------------------------------------- 5. demo overhead

if ((!quick)); then
  : >"$work/overhead"
  for _ in $(seq "$runs"); do
    home="$work/demo-home"
    rm -rf "$home"
    mkdir -p "$home"
    t=$(CATALYST_HOME=$home ms_of "$app" --demo provision --answers examples/answers.demo.yaml --speed 60 --json)
    # The run logs the sum of the simulated delays it slept (provision/mod.rs).
    sim=$(cat "$home"/logs/* | jq -r 'select(.fields.message == "demo run finished") | .fields.simulated_delay_s' | tail -n1)
    [ -n "$sim" ] || die "demo overhead: no 'demo run finished' line in $home/logs"
    inner=$(cat "$home"/logs/* | jq -r 'select(.fields.message == "demo run finished") | .fields.wall_s' | tail -n1)
    awk -v ms="$t" -v s="$sim" -v w="$inner" 'BEGIN { printf "%.4f %.3f %.3f %.4f\n", (ms / 1000) / s, ms / 1000, s, w / s }' >>"$work/overhead"
  done
  ov=$(cut -d' ' -f1 "$work/overhead" | median)
  wall=$(cut -d' ' -f2 "$work/overhead" | median)
  sim=$(cut -d' ' -f3 "$work/overhead" | median)
  inner=$(cut -d' ' -f4 "$work/overhead" | median)
  row "Demo run overhead: CLI process wall time / simulated delays (speed 60)" "$(fmt 3 "$ov") ($(fmt 2 "$wall") s / $(fmt 2 "$sim") s)" "≤ 1.02" "$(verdict "$ov" le 1.02)"
  row "Demo run overhead: the run loop alone (its own clock) / simulated delays" "$(fmt 3 "$inner")" "≤ 1.02" "$(verdict "$inner" le 1.02)"
fi

# ---------------------------------------------------------------- live road
# Provision → the first create request at the (fake) Hetzner API, and a whole
# live run with zero simulated delays (the app's own work), with the real
# IaC engine (tests/bin/live_bench.rs). Terraform stands in for OpenTofu here
# (BUSL: tests and benchmarks only, never bundled).
real_tofu=${CATALYST_REAL_TOFU:-/usr/local/bin/terraform}
provider=${CATALYST_HCLOUD_PROVIDER:-${CARGO_TARGET_DIR:-$root/target}/debug/terraform-provider-hcloud}
if ((quick)); then
  :
elif [ -x "$real_tofu" ] && [ -x "$provider" ] && [ -x "$out/live-bench" ]; then
  say "live road: $runs live runs against the doubles with $real_tofu"
  lr=$(CATALYST_REAL_TOFU=$real_tofu CATALYST_HCLOUD_PROVIDER=$provider "$out/live-bench" --runs "$runs" 2>"$work/live-bench.log" | tail -n1) \
    || { tail -n 30 "$work/live-bench.log" >&2; die "live-bench failed"; }
  first=$(jq -r .to_first_create_ms <<<"$lr")
  split=$(jq -r '.split_ms | "preflight \(.preflight) + domain \(.reserve_domain) + init \(.tofu_init) + plan \(.tofu_plan) + apply \(.apply_to_first_create)"' <<<"$lr")
  row "Provision → first create request at the Hetzner API (live, $(basename "$real_tofu"), doubles; ms: $split)" "$(fmt 0 "$first") ms" "≤ 5 000 ms" "$(verdict "$first" le 5000)"
  wall=$(jq -r .run_wall_ms <<<"$lr")
  share=$(jq -r '.share_of_15_min_run * 100' <<<"$lr")
  phases=$(jq -r '.phases_ms | to_entries | map("\(.key) \(.value)") | join(", ")' <<<"$lr")
  row "Live run to Done, zero simulated delays (the app's own work; ms: $phases) / a 15-min real run" "$(fmt 0 "$wall") ms = $(fmt 2 "$share") %" "≤ 1 %" "$(verdict "$share" le 1)"
else
  row "Provision → first create request at the Hetzner API (live)" "not measured: no real engine ($real_tofu) or stand-in provider ($provider)" "≤ 5 000 ms" "n/a"
fi

# ---------------------------------------------------------------- 1+2. window

if ((!quick)); then
  say "window figures under Xvfb"
  : >"$work/start-app"
  : >"$work/start-bare"
  : >"$work/start-bare-nc"
  for _ in $(seq "$runs"); do
    # Alternated, so a change in machine load touches all alike. bare-nc: the
    # bare window with compositing off too, as the app paints (adapters/tauri.rs),
    # through WebKit's own switch: the like-for-like baseline.
    for kind in app bare bare-nc; do
      bin=$app
      nc=()
      [ "$kind" != app ] && bin=$bare
      [ "$kind" = bare-nc ] && nc=(WEBKIT_DISABLE_COMPOSITING_MODE=1)
      env "${nc[@]}" xvfb-run -a -s "-screen 0 1280x800x24" node bench/window.mjs start --bin "$bin" --runs 1 \
        | jq -r '.runs[0] | "\(.start_ms) \(.rss_kb) \(.pss_kb)"' >>"$work/start-$kind"
    done
  done
  col() { cut -d' ' -f"$2" "$work/start-$1" | median; }
  s_app=$(col app 1)
  s_bare=$(col bare 1)
  s_ratio=$(ratio "$s_app" "$s_bare")
  row "Start-up to first wizard step painted (app)" "$(fmt 0 "$s_app") ms" "—" "—"
  row "Start-up to first paint (bare Tauri v2 window)" "$(fmt 0 "$s_bare") ms" "—" "—"
  row "Start-up: app / bare, warm" "$s_ratio×" "≤ 1.20×" "$(verdict "$s_ratio" le 1.20)"
  s_nc=$(col bare-nc 1)
  s_nc_ratio=$(ratio "$s_app" "$s_nc")
  row "Start-up: app / bare with compositing off too (like for like), warm" "$(fmt 0 "$s_app") / $(fmt 0 "$s_nc") ms = $s_nc_ratio×" "≤ 1.25×" "$(verdict "$s_nc_ratio" le 1.25)"
  # Cold: the page cache dropped before each start, so the binary, WebKit's
  # and GTK's libraries come from disk again (root only; both alike).
  if sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    : >"$work/cold-app"
    : >"$work/cold-bare"
    for _ in $(seq "$runs"); do
      for kind in app bare; do
        bin=$app
        [ "$kind" = bare ] && bin=$bare
        sync
        echo 3 >/proc/sys/vm/drop_caches
        xvfb-run -a -s "-screen 0 1280x800x24" node bench/window.mjs start --bin "$bin" --runs 1 --idle-ms 0 \
          | jq -r '.runs[0].start_ms' >>"$work/cold-$kind"
      done
    done
    c_app=$(median <"$work/cold-app")
    c_bare=$(median <"$work/cold-bare")
    c_ratio=$(ratio "$c_app" "$c_bare")
    row "Start-up, cold (page cache dropped first): app / bare" "$(fmt 0 "$c_app") / $(fmt 0 "$c_bare") ms = $c_ratio×" "≤ 1.3×" "$(verdict "$c_ratio" le 1.3)"
  else
    row "Start-up, cold" "not measured: /proc/sys/vm/drop_caches is not writable (run as root)" "≤ 1.3×" "n/a"
  fi
  mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
  for m in rss pss; do
    c=2
    [ $m = pss ] && c=3
    a=$(col app $c)
    b=$(col bare $c)
    r=$(ratio "$a" "$b")
    M=$(tr '[:lower:]' '[:upper:]' <<<"$m")
    row "Memory idle on step 1, $M (app / bare)" "$(mb "$a") / $(mb "$b") MB = $r×" "≤ 1.3×" "$(verdict "$r" le 1.3)"
    n=$(col bare-nc $c)
    like=$(ratio "$a" "$n")
    if [ $m = pss ]; then
      row "Memory idle on step 1, $M (app / bare with compositing off too, like for like)" "$(mb "$a") / $(mb "$n") MB = $like×" "≤ 1.05×" "$(verdict "$like" le 1.05)"
    else
      row "Memory idle on step 1, $M (app / bare with compositing off too, like for like)" "$(mb "$a") / $(mb "$n") MB = $like×" "—" "—"
    fi
  done

  "$harness" answers-json examples/answers.demo.yaml >"$work/answers.json"
  : >"$work/biglog"
  # Each big-log run streams 100 000 lines (about 40 s): at most 3 unless asked.
  big_runs=${BENCH_BIGLOG_RUNS:-$((runs < 3 ? runs : 3))}
  for _ in $(seq "$big_runs"); do
    xvfb-run -a -s "-screen 0 1280x800x24" node bench/window.mjs biglog --bin "$app" --answers "$work/answers.json" --lines 100000 \
      | jq -r '"\(.idle.rss_kb) \(.idle.pss_kb) \(.after.rss_kb) \(.after.pss_kb) \(.peak.rss_kb) \(.peak.pss_kb) \(.lines_shown) \(.seconds_to_show) \(.finished)"' >>"$work/biglog"
  done
  col_b() { cut -d' ' -f"$1" "$work/biglog" | median; }
  shown=$(col_b 7)
  secs=$(col_b 8)
  finished=$(cut -d' ' -f9 "$work/biglog" | sort -u | paste -sd/)
  for m in rss pss; do
    i=1 && a=3 && p=5
    [ $m = pss ] && i=2 && a=4 && p=6
    idle=$(col_b "$i")
    after=$(col_b "$a")
    peak=$(col_b "$p")
    d=$(awk -v x="$after" -v y="$idle" 'BEGIN { printf "%.1f", (x - y) / 1024 }')
    M=$(tr '[:lower:]' '[:upper:]' <<<"$m")
    if [ $m = pss ]; then
      row "Memory after a 100 000-line log streamed, $M (idle → after; peak)" "$(mb "$idle") → $(mb "$after") MB (+$d MB); peak $(mb "$peak") MB" "≤ +30 MB" "$(verdict "$d" le 30)"
    else
      row "Memory after a 100 000-line log streamed, $M (idle → after; peak)" "$(mb "$idle") → $(mb "$after") MB (+$d MB); peak $(mb "$peak") MB" "< +100 MB" "$(verdict "$d" lt 100)"
    fi
  done
  row "Big log: lines in the live page; seconds from run start until shown" "$(fmt 0 "$shown") lines (all shown: $finished); $(fmt 0 "$secs") s" "—" "—"
fi

# ---------------------------------------------------------------- table

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
{
  echo "Catalyst Provisioner benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
  echo "Machine: $(nproc) cores, $cpu; load average before: $load_before, after: $load_after; runs per figure: $runs (median)"
  echo
  # column (util-linux) pads by characters; awk's printf pads by bytes (→, ≤, × are wider).
  { printf 'figure\tvalue\ttarget\tverdict\n'; cat "$rows"; } | column -t -s $'\t' -o '  '
} | tee "$work/table.txt"

if [ -n "$markdown" ]; then
  {
    echo "Taken $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD) on $(nproc) cores ($cpu),"
    echo "load average $load_before before and $load_after after; median of $runs runs per figure."
    echo
    echo "| figure | value | target | verdict |"
    echo "| --- | --- | --- | --- |"
    awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$rows"
  } >"$markdown"
  say "Markdown table written to $markdown"
fi
