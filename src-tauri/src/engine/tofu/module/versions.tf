# OpenTofu >= 1.8: the encryption block below reads a variable, which needs
# early (static) variable evaluation.
terraform {
  required_version = ">= 1.8.0"

  required_providers {
    hcloud = {
      source  = "hetznercloud/hcloud"
      version = "~> 1.49"
    }
  }

  # State and plan both hold secrets (the plan carries every variable value,
  # including the user_data maps), so both are encrypted and plaintext is refused.
  encryption {
    key_provider "pbkdf2" "catalyst" {
      passphrase = var.state_passphrase
    }

    method "aes_gcm" "catalyst" {
      keys = key_provider.pbkdf2.catalyst
    }

    state {
      method   = method.aes_gcm.catalyst
      enforced = true
    }

    plan {
      method   = method.aes_gcm.catalyst
      enforced = true
    }
  }
}

# No arguments on purpose: the provider reads its token from HCLOUD_TOKEN and
# its endpoint from HCLOUD_ENDPOINT, so neither is ever written to a file.
provider "hcloud" {}
