variable "admin_cidr" {
  type    = string
  default = "10.0.0.0/8"
}

variable "open_for_vendor" {
  type    = bool
  default = false
}

variable "extra_ports" {
  type    = list(number)
  default = []
}

locals {
  rdp_sources = var.open_for_vendor ? ["0.0.0.0/0"] : [var.admin_cidr]
}

resource "aws_security_group" "jump" {
  name = "jump"

  dynamic "ingress" {
    for_each = concat([3389], var.extra_ports)
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = local.rdp_sources
    }
  }
}
