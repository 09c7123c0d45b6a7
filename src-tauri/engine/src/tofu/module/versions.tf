# Runs under OpenTofu >= 1.8 (the product's engine, shipped as a sidecar) and,
# in the tests only, under Terraform. Two things keep it parseable by both:
# - the provider source names its registry host, so both engines look for the
#   same provider (a bare "hetznercloud/hcloud" means registry.terraform.io
#   under Terraform and registry.opentofu.org under OpenTofu);
# - state and plan encryption is not written here (Terraform refuses an
#   `encryption` block): the app gives OpenTofu the same configuration, with
#   `enforced = true`, in the TF_ENCRYPTION environment variable of the child
#   (engine/tofu/encryption.rs), so the passphrase never reaches a file.
terraform {
  required_version = ">= 1.8.0"

  required_providers {
    hcloud = {
      source  = "registry.opentofu.org/hetznercloud/hcloud"
      version = "~> 1.49"
    }
  }
}

# No arguments on purpose: the provider reads its token from HCLOUD_TOKEN and
# its endpoint from HCLOUD_ENDPOINT, so neither is ever written to a file.
provider "hcloud" {}
