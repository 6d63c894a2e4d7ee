locals {
  admin_ports = {
    rdp   = 3389
    winrm = 5985
  }
}

resource "aws_security_group" "admin" {
  name = "admin"
}

resource "aws_security_group_rule" "rdp" {
  count             = 2
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = aws_security_group.admin.id
}

resource "aws_security_group_rule" "admin" {
  for_each          = local.admin_ports
  type              = "ingress"
  from_port         = each.value
  to_port           = each.value
  protocol          = "tcp"
  ipv6_cidr_blocks  = ["::/0"]
  security_group_id = aws_security_group.admin.id
}

resource "aws_vpc_security_group_ingress_rule" "rdp" {
  security_group_id = aws_security_group.admin.id
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 3389
  to_port           = 3389
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "everything" {
  security_group_id = aws_security_group.admin.id
  cidr_ipv6         = "::/0"
  ip_protocol       = "-1"
}
