# A Windows fleet managed over WinRM and reached over RDP (vulnerable version).
variable "admin_cidrs" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}

locals {
  management_ports = { rdp = 3389, winrm_http = 5985, winrm_https = 5986 }
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

resource "aws_vpc_security_group_ingress_rule" "smb_ipv6" {
  security_group_id = aws_security_group.fleet.id
  cidr_ipv6         = "::/0"
  ip_protocol       = "tcp"
  from_port         = 445
  to_port           = 445
}
