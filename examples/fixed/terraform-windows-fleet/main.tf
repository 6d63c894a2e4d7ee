# A Windows fleet managed over WinRM HTTPS and RDP from the management network only (fixed version).
variable "admin_cidrs" {
  type    = list(string)
  default = ["10.20.0.0/16"]
}

locals {
  management_ports = { rdp = 3389, winrm_https = 5986 }
}

resource "aws_security_group" "fleet" {
  name        = "windows-fleet"
  description = "Windows fleet"

  dynamic "ingress" {
    for_each = local.management_ports
    content {
      description = ingress.key
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = var.admin_cidrs
    }
  }
}
