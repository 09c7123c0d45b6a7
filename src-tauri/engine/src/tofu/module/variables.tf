variable "sovereign_fqdn" {
  description = "The Sovereign's domain; it names and labels every resource."
  type        = string

  validation {
    # A Hetzner label value is at most 63 characters, and the FQDN is one.
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.sovereign_fqdn)) && length(var.sovereign_fqdn) <= 63
    error_message = "sovereign_fqdn must be a lower-case domain with at least one dot and at most 63 characters."
  }
}

variable "deployment_id" {
  description = "The app's deployment id; a label on every resource."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.deployment_id))
    error_message = "deployment_id must be lower-case letters, digits and dashes, at most 63 characters."
  }
}

variable "regions" {
  description = "One entry per region: SOLO has one, DUAL two, TRIANGLE three. Each gets its own network, firewall, load balancer and k3s cluster."
  type = list(object({
    location           = string
    control_plane_type = string
    worker_type        = string
    worker_count       = number
  }))
  nullable = false

  validation {
    condition     = length(var.regions) >= 1 && length(var.regions) <= 3
    error_message = "regions must have one to three entries."
  }

  validation {
    condition     = alltrue([for r in var.regions : contains(["fsn1", "nbg1", "hel1", "ash", "hil", "sin"], r.location)])
    error_message = "Each region location must be one of fsn1, nbg1, hel1, ash, hil, sin."
  }

  validation {
    condition     = length(distinct([for r in var.regions : r.location])) == length(var.regions)
    error_message = "Each location may appear only once in regions."
  }

  validation {
    condition = alltrue([for r in var.regions : can(regex("^(cx|cpx|ccx|cax)[0-9]+$", r.control_plane_type)) && can(regex("^(cx|cpx|ccx|cax)[0-9]+$", r.worker_type))])
    error_message = "Server types must look like cx23, cpx32, ccx13 or cax21."
  }

  validation {
    condition     = alltrue([for r in var.regions : r.worker_count >= 0 && r.worker_count <= 50 && floor(r.worker_count) == r.worker_count])
    error_message = "worker_count must be a whole number from 0 to 50."
  }
}

variable "ha_enabled" {
  description = "Three control planes per region forming one etcd cluster instead of one."
  type        = bool
  default     = false
  nullable    = false
}

variable "admin_ssh_public_key" {
  description = "The operator's public key, installed for root on every server."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( .*)?$", var.admin_ssh_public_key))
    error_message = "admin_ssh_public_key must be one OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256)."
  }
}

variable "existing_ssh_key_id" {
  description = "Id of a project SSH key with the same fingerprint; Hetzner refuses a second upload (uniqueness_error), so it is reused."
  type        = number
  default     = null
}

variable "ssh_allowed_cidrs" {
  description = "Sources allowed to reach port 22; empty means anywhere (key-only login)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "Each entry of ssh_allowed_cidrs must be an IPv4 or IPv6 CIDR."
  }
}

variable "server_image" {
  description = "Image for every server."
  type        = string
  default     = "ubuntu-24.04"
  nullable    = false
}

variable "load_balancer_type" {
  description = "Load balancer type for each region."
  type        = string
  default     = "lb11"
  nullable    = false

  validation {
    condition     = can(regex("^lb[0-9]+$", var.load_balancer_type))
    error_message = "load_balancer_type must look like lb11."
  }
}

variable "cloud_init_control_plane" {
  description = "Rendered cloud-config for the control planes, keyed by location. Holds the host key and the k3s token: set only through TF_VAR_ in the environment."
  type        = map(string)
  sensitive   = true
  nullable    = false

  validation {
    condition     = alltrue([for v in values(var.cloud_init_control_plane) : length(v) <= 32768])
    error_message = "Each control-plane user_data must fit Hetzner's 32 KiB limit."
  }
}

variable "cloud_init_worker" {
  description = "Rendered cloud-config for the workers, keyed by location. Holds the k3s token: set only through TF_VAR_ in the environment."
  type        = map(string)
  sensitive   = true
  nullable    = false

  validation {
    condition     = alltrue([for v in values(var.cloud_init_worker) : length(v) <= 32768])
    error_message = "Each worker user_data must fit Hetzner's 32 KiB limit."
  }
}
