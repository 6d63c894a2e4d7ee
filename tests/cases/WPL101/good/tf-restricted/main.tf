variable "admin_cidr" {
  default = "10.0.0.0/8"
}

data "aws_vpc" "main" {
  default = true
}

resource "aws_security_group" "restricted" {
  name = "restricted"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr, data.aws_vpc.main.cidr_block]
  }
  ingress {
    from_port       = 3389
    to_port         = 3389
    protocol        = "tcp"
    security_groups = ["sg-0123456789abcdef0"]
  }
  egress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "half" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/1"]
  security_group_id = aws_security_group.restricted.id
}

resource "aws_security_group_rule" "other_half_other_group" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["128.0.0.0/1"]
  security_group_id = "sg-0fedcba9876543210"
}
