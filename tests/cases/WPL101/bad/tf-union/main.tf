resource "aws_security_group" "halves" {
  name = "halves"
}

resource "aws_security_group_rule" "lower" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/1"]
  security_group_id = aws_security_group.halves.id
}

resource "aws_security_group_rule" "upper" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["128.0.0.0/1"]
  security_group_id = aws_security_group.halves.id
}
