#!/bin/sh
# Runs on every server at first boot. Static on purpose: all parameters come
# from /etc/catalyst/bootstrap.env (written by the app, values shell-quoted),
# and everything that depends on the server itself (its public IP, instance
# id, private IP) is read here from the metadata service, never templated.
set -eu

# Empty on a server; tests run the script under a temporary root.
R=${CATALYST_ROOT:-}

. "$R/etc/catalyst/bootstrap.env"

MD=http://169.254.169.254/hetzner/v1/metadata

say() {
  printf 'catalyst: %s\n' "$*"
}

fail() {
  code=$1
  shift
  printf 'catalyst: FAILED: %s\n' "$*" >&2
  printf '%s %s\n' "$code" "$*" > "$R/var/lib/catalyst/bootstrap-failed"
  exit "$code"
}

# The metadata service answers within seconds of boot; retry briefly.
md() {
  n=0
  while [ "$n" -lt 30 ]; do
    if v=$(curl -sf --max-time 5 "$MD/$1"); then
      printf '%s\n' "$v"
      return 0
    fi
    n=$((n + 1))
    sleep 2
  done
  return 1
}

# Downloads with retries: the first minutes after boot see flaky DNS.
fetch() {
  n=0
  while [ "$n" -lt 10 ]; do
    if curl -sfL --max-time 120 -o "$2" "$1"; then
      return 0
    fi
    n=$((n + 1))
    sleep 6
  done
  return 1
}

# Hetzner hot-plugs the private NIC, sometimes after k3s would start; k3s
# then crash-loops on "cannot assign requested address". If DHCP has not
# brought the address up after a while, configure the NIC with routes.
configure_private_nic() {
  mac=$(md private-networks | awk '$1 == "mac_address:" {print $2; exit}')
  [ -n "$mac" ] || return 0
  iface=$(ip -o link | awk -v m="$mac" 'index($0, m) {sub(":", "", $2); print $2; exit}')
  [ -n "$iface" ] || return 0
  say "configuring private interface $iface"
  cat > "$R/etc/netplan/60-catalyst-private.yaml" <<NETPLAN
network:
  version: 2
  ethernets:
    $iface:
      match:
        macaddress: "$mac"
      dhcp4: true
      dhcp4-overrides:
        use-routes: true
NETPLAN
  chmod 600 "$R/etc/netplan/60-catalyst-private.yaml"
  netplan apply || true
}

wait_private_ip() {
  n=0
  while [ "$n" -lt 120 ]; do
    if ip -4 -o addr show | grep -q " $1/"; then
      return 0
    fi
    if [ "$n" -eq 15 ]; then
      configure_private_nic
    fi
    n=$((n + 1))
    sleep 2
  done
  return 1
}

mkdir -p "$R/var/lib/catalyst"
rm -f "$R/var/lib/catalyst/bootstrap-failed"

say "node preparation ($CATALYST_ROLE in $CATALYST_LOCATION)"
swapoff -a
sed -i '/[[:space:]]swap[[:space:]]/d' "$R/etc/fstab"
systemctl reload ssh 2>/dev/null || systemctl reload sshd 2>/dev/null || true
systemctl enable --now fail2ban || fail 80 "fail2ban did not start"
systemctl enable --now unattended-upgrades || fail 81 "unattended-upgrades did not start"

PUBLIC_IP=$(md public-ipv4 || true)
[ -n "$PUBLIC_IP" ] || fail 87 "the metadata service gave no public IPv4"
INSTANCE_ID=$(md instance-id || true)
[ -n "$INSTANCE_ID" ] || fail 86 "the metadata service gave no instance id"
PRIVATE_IP=$(md private-networks | awk '$1 == "-" && $2 == "ip:" {print $3; exit} $1 == "ip:" {print $2; exit}')
[ -n "$PRIVATE_IP" ] || fail 85 "the server is not attached to the private network"

say "waiting for private address $PRIVATE_IP"
wait_private_ip "$PRIVATE_IP" || fail 84 "private address $PRIVATE_IP never came up"

# Boot facts go into a k3s drop-in; the '+' keys append to config.yaml lists.
mkdir -p "$R/etc/rancher/k3s/config.yaml.d"
boot="$R/etc/rancher/k3s/config.yaml.d/50-boot.yaml"
{
  printf 'node-ip: "%s"\n' "$PRIVATE_IP"
  printf 'node-external-ip: "%s"\n' "$PUBLIC_IP"
  printf 'kubelet-arg+:\n  - "provider-id=hcloud://%s"\n' "$INSTANCE_ID"
} > "$boot"

if [ "$CATALYST_ROLE" = control-plane ]; then
  {
    printf 'advertise-address: "%s"\n' "$PRIVATE_IP"
    printf 'tls-san+:\n  - "%s"\n' "$PUBLIC_IP"
  } >> "$boot"
  # One etcd cluster per region: the first control plane starts it, the
  # others join it at its fixed private address.
  if [ "$PRIVATE_IP" = "$CATALYST_FIRST_CP_IP" ]; then
    printf 'cluster-init: true\n' >> "$boot"
  else
    printf 'server: "https://%s:6443"\n' "$CATALYST_FIRST_CP_IP" >> "$boot"
  fi
  exec_mode=server
else
  exec_mode=agent
fi
chmod 600 "$boot"

say "installing k3s $CATALYST_K3S_VERSION ($exec_mode)"
fetch https://get.k3s.io "$R/var/lib/catalyst/k3s-install.sh" || fail 82 "could not download the k3s installer"
INSTALL_K3S_VERSION="$CATALYST_K3S_VERSION" INSTALL_K3S_EXEC="$exec_mode" \
  sh "$R/var/lib/catalyst/k3s-install.sh" || fail 83 "k3s installation failed"

touch "$R/var/lib/catalyst/node-ready"
say "node ready"
