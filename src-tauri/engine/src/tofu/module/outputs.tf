output "control_plane_ips" {
  description = "Public IPv4 addresses of the control planes, per location (cp1 first)."
  value = {
    for loc in keys(local.regions) : loc => [
      for k in sort(keys(local.control_planes)) : hcloud_server.control_plane[k].ipv4_address
      if local.control_planes[k].location == loc
    ]
  }
}

output "load_balancer_ips" {
  description = "Public IPv4 address of each location's load balancer."
  value       = { for loc, lb in hcloud_load_balancer.region : loc => lb.ipv4 }
}

output "primary_location" {
  description = "The first region: its load balancer is where the Sovereign's DNS points."
  value       = var.regions[0].location
}

output "sovereign_fqdn" {
  value = var.sovereign_fqdn
}

output "console_url" {
  value = "https://console.${var.sovereign_fqdn}"
}
