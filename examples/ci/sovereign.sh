#!/usr/bin/env bash
# One CI job's life of a Sovereign: provision it from examples/answers.live.yaml,
# hand its kubeconfig to the tests, and wipe it whatever happened. Run it in
# ONE kernel keyring session (`keyctl session ci bash examples/ci/sovereign.sh`):
# the keys the run generates live there, and the wipe needs them.
#
# Needs: HCLOUD_TOKEN and PDM_PASSWORD in the environment (CI secrets),
# CATALYST_HOME with config/settings.json (examples/ci/settings.json), jq.
# Exit code: the provision's (docs/cli.md), or the tests'.
set -euo pipefail

answers="${ANSWERS:-examples/answers.live.yaml}"
app=catalyst-provisioner

$app settings set pdm_password --from-env PDM_PASSWORD
$app check-token
$app validate "$answers"

wipe() {
  local id
  id="$(tail -n 1 run.jsonl 2>/dev/null | jq -r '.summary.deployment_id // empty' || true)"
  [ -n "$id" ] && $app wipe "$id" --yes
}
trap wipe EXIT

# Exit codes a pipeline can branch on: 4 token, 5 quota, 6 domain taken,
# 7 cloud (OpenTofu), 8 cluster, 130 cancelled.
$app provision --answers "$answers" --yes --json | tee run.jsonl
id="$(tail -n 1 run.jsonl | jq -r .summary.deployment_id)"
$app kubeconfig "$id" --out "$PWD/kubeconfig" --force

# The Sovereign's own tests go here (SOVEREIGN_TESTS replaces this one).
KUBECONFIG="$PWD/kubeconfig" bash -c "${SOVEREIGN_TESTS:-kubectl get helmreleases -A}"
