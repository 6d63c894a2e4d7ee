# Rules counted over a collection that depends on a data source: the evaluator makes no instance
# of them at all, so what they open is unknown (it was read as nothing).
data "aws_availability_zones" "all" {}

locals {
  rules = length(data.aws_availability_zones.all.names) > 0 ? { rdp = 3389, smb = 445 } : {}
}

resource "aws_network_acl" "public" {
  vpc_id = "vpc-1"
}

resource "aws_network_acl_rule" "inbound" {
  for_each       = local.rules
  network_acl_id = aws_network_acl.public.id
  rule_number    = 100
  egress         = false
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = each.value
  to_port        = each.value
}

resource "aws_security_group_rule" "inbound" {
  count             = length(data.aws_availability_zones.all.names)
  type              = "ingress"
  security_group_id = "sg-1"
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = 3389
  to_port           = 3389
}

resource "aws_security_group_rule" "outbound" {
  for_each          = local.rules
  type              = "egress"
  security_group_id = "sg-1"
  protocol          = "-1"
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = 0
  to_port           = 0
}

resource "aws_security_group" "dynamic" {
  name = "dynamic"
  dynamic "ingress" {
    for_each = local.rules
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}
