variable "admin_cidr" {
  type = string
}

resource "aws_vpc_security_group_ingress_rule" "rdp" {
  security_group_id = "sg-0123456789abcdef0"
  cidr_ipv4         = var.admin_cidr
  from_port         = 3389
  to_port           = 3389
  ip_protocol       = "tcp"
}
