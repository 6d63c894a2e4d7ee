data "aws_availability_zones" "available" {}

variable "inbound_rules" {
  type    = list(map(string))
  default = []
}

locals {
  create = length(data.aws_availability_zones.available.names) > 0
}

resource "aws_network_acl" "this" {
  count  = local.create ? 1 : 0
  vpc_id = "vpc-0123456789abcdef0"
}

resource "aws_network_acl_rule" "inbound" {
  count = local.create ? length(var.inbound_rules) : 0

  network_acl_id  = aws_network_acl.this[0].id
  egress          = false
  rule_number     = var.inbound_rules[count.index]["rule_number"]
  rule_action     = var.inbound_rules[count.index].rule_action
  protocol        = element(var.inbound_rules, count.index)["protocol"]
  from_port       = lookup(var.inbound_rules[count.index], "from_port", null)
  to_port         = try(var.inbound_rules[count.index].to_port, null)
  cidr_block      = lookup(var.inbound_rules[count.index], "cidr_block", null)
  ipv6_cidr_block = lookup(var.inbound_rules[count.index], "ipv6_cidr_block", null)
}
