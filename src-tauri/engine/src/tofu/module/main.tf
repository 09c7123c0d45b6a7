locals {
  slug   = replace(var.sovereign_fqdn, ".", "-")
  prefix = "catalyst-${local.slug}"

  # Every labelable resource carries these, so a wipe can find by label what
  # a lost state no longer knows about.
  common_labels = {
    "catalyst.openova.io/sovereign"     = var.sovereign_fqdn
    "catalyst.openova.io/deployment-id" = var.deployment_id
  }

  # hel1 is eu-central too ("eu-north" does not exist).
  network_zones = {
    fsn1 = "eu-central"
    nbg1 = "eu-central"
    hel1 = "eu-central"
    ash  = "us-east"
    hil  = "us-west"
    sin  = "ap-southeast"
  }

  regions = { for r in var.regions : r.location => r }

  control_plane_count = var.ha_enabled ? 3 : 1

  # Fixed private addresses: cp1 = .2 (the one that starts etcd; the others
  # and the workers join it there), workers from .10, the LB at .254. Being
  # static, they let user_data stay free of any server attribute.
  subnet_range = "10.0.1.0/24"

  control_planes = merge([
    for r in var.regions : {
      for i in range(1, local.control_plane_count + 1) : "${r.location}-cp${i}" => {
        location    = r.location
        server_type = r.control_plane_type
        private_ip  = cidrhost(local.subnet_range, 1 + i)
      }
    }
  ]...)

  workers = merge([
    for r in var.regions : {
      for i in range(1, r.worker_count + 1) : "${r.location}-w${i}" => {
        location    = r.location
        server_type = r.worker_type
        private_ip  = cidrhost(local.subnet_range, 9 + i)
      }
    }
  ]...)

  lb_targets = merge(
    { for k, v in local.control_planes : k => { location = v.location, role = "control_plane" } },
    { for k, v in local.workers : k => { location = v.location, role = "worker" } },
  )

  lb_services = {
    for pair in setproduct(keys(local.regions), [80, 443]) : "${pair[0]}-${pair[1]}" => {
      location = pair[0]
      port     = pair[1]
    }
  }

  ssh_key_id = var.existing_ssh_key_id != null ? var.existing_ssh_key_id : hcloud_ssh_key.admin[0].id

  anywhere = ["0.0.0.0/0", "::/0"]
}

# SSH keys are unique per project by fingerprint, so there is one for the
# whole deployment (or a reused one), never one per region.
resource "hcloud_ssh_key" "admin" {
  count      = var.existing_ssh_key_id == null ? 1 : 0
  name       = "${local.prefix}-admin"
  public_key = var.admin_ssh_public_key
  labels     = local.common_labels
}

resource "hcloud_network" "region" {
  for_each = local.regions
  name     = "${local.prefix}-${each.key}-net"
  ip_range = "10.0.0.0/16"
  labels   = merge(local.common_labels, { "catalyst.openova.io/region" = each.key })
}

resource "hcloud_network_subnet" "region" {
  for_each     = local.regions
  network_id   = hcloud_network.region[each.key].id
  type         = "cloud"
  network_zone = local.network_zones[each.key]
  ip_range     = local.subnet_range
}

resource "hcloud_firewall" "region" {
  for_each = local.regions
  name     = "${local.prefix}-${each.key}-fw"
  labels   = merge(local.common_labels, { "catalyst.openova.io/region" = each.key })

  rule {
    description = "HTTP"
    direction   = "in"
    protocol    = "tcp"
    port        = "80"
    source_ips  = local.anywhere
  }

  rule {
    description = "HTTPS"
    direction   = "in"
    protocol    = "tcp"
    port        = "443"
    source_ips  = local.anywhere
  }

  # The kubeconfig points at the control plane's public IP (the LB only
  # forwards 80/443).
  rule {
    description = "Kubernetes API"
    direction   = "in"
    protocol    = "tcp"
    port        = "6443"
    source_ips  = local.anywhere
  }

  rule {
    description = "ICMP"
    direction   = "in"
    protocol    = "icmp"
    source_ips  = local.anywhere
  }

  # Login is key-only, so an empty list opens 22 to anywhere.
  rule {
    description = "SSH"
    direction   = "in"
    protocol    = "tcp"
    port        = "22"
    source_ips  = length(var.ssh_allowed_cidrs) > 0 ? var.ssh_allowed_cidrs : local.anywhere
  }
}

resource "hcloud_server" "control_plane" {
  for_each     = local.control_planes
  name         = "${local.prefix}-${each.key}"
  server_type  = each.value.server_type
  image        = var.server_image
  location     = each.value.location
  ssh_keys     = [local.ssh_key_id]
  firewall_ids = [hcloud_firewall.region[each.value.location].id]
  # One document per region: a control plane decides at boot, from its
  # private IP, whether it starts etcd or joins it, and reads its public IP
  # from the metadata service. Nothing here refers to this server itself.
  user_data = var.cloud_init_control_plane[each.value.location]
  labels = merge(local.common_labels, {
    "catalyst.openova.io/region" = each.value.location
    "catalyst.openova.io/role"   = "control-plane"
  })

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.region[each.value.location].id
    ip         = each.value.private_ip
    alias_ips  = []
  }

  depends_on = [hcloud_network_subnet.region]

  # A server is bootstrapped once; a re-run (resume) must never replace it
  # because the app's rendering or the key list changed.
  lifecycle {
    ignore_changes = [ssh_keys, user_data, image]
  }
}

resource "hcloud_server" "worker" {
  for_each     = local.workers
  name         = "${local.prefix}-${each.key}"
  server_type  = each.value.server_type
  image        = var.server_image
  location     = each.value.location
  ssh_keys     = [local.ssh_key_id]
  firewall_ids = [hcloud_firewall.region[each.value.location].id]
  user_data    = var.cloud_init_worker[each.value.location]
  labels = merge(local.common_labels, {
    "catalyst.openova.io/region" = each.value.location
    "catalyst.openova.io/role"   = "worker"
  })

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.region[each.value.location].id
    ip         = each.value.private_ip
    alias_ips  = []
  }

  depends_on = [hcloud_network_subnet.region, hcloud_server.control_plane]

  lifecycle {
    ignore_changes = [ssh_keys, user_data, image]
  }
}

resource "hcloud_load_balancer" "region" {
  for_each           = local.regions
  name               = "${local.prefix}-${each.key}-lb"
  load_balancer_type = var.load_balancer_type
  location           = each.key
  labels             = merge(local.common_labels, { "catalyst.openova.io/region" = each.key })

  algorithm {
    type = "round_robin"
  }
}

resource "hcloud_load_balancer_network" "region" {
  for_each         = local.regions
  load_balancer_id = hcloud_load_balancer.region[each.key].id
  subnet_id        = hcloud_network_subnet.region[each.key].id
  ip               = cidrhost(local.subnet_range, 254)
}

# Private-IP targets need the LB on the network first, or Hetzner answers
# load_balancer_not_attached_to_network.
resource "hcloud_load_balancer_target" "node" {
  for_each         = local.lb_targets
  type             = "server"
  load_balancer_id = hcloud_load_balancer.region[each.value.location].id
  server_id        = each.value.role == "control_plane" ? hcloud_server.control_plane[each.key].id : hcloud_server.worker[each.key].id
  use_private_ip   = true
  depends_on       = [hcloud_load_balancer_network.region]
}

resource "hcloud_load_balancer_service" "region" {
  for_each         = local.lb_services
  load_balancer_id = hcloud_load_balancer.region[each.value.location].id
  protocol         = "tcp"
  listen_port      = each.value.port
  destination_port = each.value.port

  health_check {
    protocol = "tcp"
    port     = each.value.port
    interval = 15
    timeout  = 10
    retries  = 3
  }
}
