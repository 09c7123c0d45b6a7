#!/bin/sh
# Runs on the first control plane of a region only (the one that started
# etcd): Gateway API CRDs, Cilium, Flux, pull secrets, then the GitOps
# bootstrap. Order matters: the CRDs before Cilium (it looks for them once at
# start), Cilium before Flux (no CNI = Flux pods stay Pending), the pull
# secret before the GitRepository.
set -eu

. /etc/catalyst/bootstrap.env

export KUBECONFIG=/etc/rancher/k3s/k3s.yaml
LIB=/var/lib/catalyst

say() {
  printf 'catalyst: %s\n' "$*"
}

fail() {
  code=$1
  shift
  printf 'catalyst: FAILED: %s\n' "$*" >&2
  printf '%s %s\n' "$code" "$*" > "$LIB/bootstrap-failed"
  exit "$code"
}

fetch() {
  n=0
  while [ "$n" -lt 10 ]; do
    if curl -sfL --max-time 300 -o "$2" "$1"; then
      return 0
    fi
    n=$((n + 1))
    sleep 6
  done
  return 1
}

# kubectl apply of remote manifests retried: the API server is young.
apply_retry() {
  n=0
  while [ "$n" -lt 20 ]; do
    if k3s kubectl apply "$@"; then
      return 0
    fi
    n=$((n + 1))
    sleep 6
  done
  return 1
}

PRIVATE_IP=$(awk -F'"' '/^node-ip:/ {print $2}' /etc/rancher/k3s/config.yaml.d/50-boot.yaml)
if [ "$PRIVATE_IP" != "$CATALYST_FIRST_CP_IP" ]; then
  say "joined the region's cluster; the platform is installed by the first control plane"
  touch "$LIB/cloud-init-complete"
  exit 0
fi

say "waiting for the Kubernetes API"
n=0
until k3s kubectl get --raw /healthz >/dev/null 2>&1; do
  n=$((n + 1))
  [ "$n" -lt 150 ] || fail 90 "the Kubernetes API did not become healthy"
  sleep 2
done

say "Gateway API $CATALYST_GATEWAY_API_VERSION CRDs"
fetch "https://github.com/kubernetes-sigs/gateway-api/releases/download/$CATALYST_GATEWAY_API_VERSION/experimental-install.yaml" "$LIB/gateway-api.yaml" \
  || fail 91 "could not download the Gateway API CRDs"
apply_retry --server-side -f "$LIB/gateway-api.yaml" || fail 91 "could not apply the Gateway API CRDs"

case "$(uname -m)" in
  aarch64 | arm64) arch=arm64 ;;
  *) arch=amd64 ;;
esac

say "helm $CATALYST_HELM_VERSION"
fetch "https://get.helm.sh/helm-$CATALYST_HELM_VERSION-linux-$arch.tar.gz" "$LIB/helm.tar.gz" \
  || fail 92 "could not download helm"
tar -xzf "$LIB/helm.tar.gz" -C "$LIB"
install -m 0755 "$LIB/linux-$arch/helm" /usr/local/bin/helm

say "Cilium $CATALYST_CILIUM_VERSION"
helm repo add cilium https://helm.cilium.io/ >/dev/null || fail 93 "could not add the Cilium chart repository"
helm upgrade --install cilium cilium/cilium --version "$CATALYST_CILIUM_VERSION" \
  --namespace kube-system --values "$LIB/cilium-values.json" || fail 93 "Cilium installation failed"
k3s kubectl -n kube-system rollout status ds/cilium --timeout=300s || fail 93 "Cilium did not become ready"

say "Flux $CATALYST_FLUX_VERSION"
fetch "https://github.com/fluxcd/flux2/releases/download/$CATALYST_FLUX_VERSION/install.yaml" "$LIB/flux-install.yaml" \
  || fail 94 "could not download Flux"
apply_retry -f "$LIB/flux-install.yaml" || fail 94 "could not apply Flux"
k3s kubectl -n flux-system wait deployment --all --for=condition=Available --timeout=300s \
  || fail 94 "Flux controllers did not become available"
# Flux ships deny-world NetworkPolicies that Cilium enforces strictly.
k3s kubectl -n flux-system delete networkpolicy --all || true

if [ -f "$LIB/pull-secret.json" ]; then
  say "registry pull secret"
  apply_retry -f "$LIB/pull-secret.json" || fail 95 "could not apply the pull secret"
fi

say "GitOps bootstrap (components: $CATALYST_COMPONENT_COUNT)"
apply_retry -f "$LIB/flux-bootstrap.json" || fail 96 "could not apply the Flux bootstrap"

touch "$LIB/cloud-init-complete"
say "bootstrap complete"
