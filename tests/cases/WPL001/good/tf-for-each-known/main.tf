# Rules over collections known to be empty, or off: nothing is left out, nothing to report.
variable "extra" {
  type    = map(number)
  default = {}
}

variable "enabled" {
  type    = bool
  default = false
}

resource "aws_security_group_rule" "extra" {
  for_each          = var.extra
  type              = "ingress"
  security_group_id = "sg-1"
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = each.value
  to_port           = each.value
}

resource "aws_network_acl_rule" "optional" {
  count          = var.enabled ? 1 : 0
  network_acl_id = "acl-1"
  rule_number    = 100
  egress         = false
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = 3389
  to_port        = 3389
}

resource "aws_security_group" "dynamic" {
  name = "dynamic"
  dynamic "ingress" {
    for_each = var.extra
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}
