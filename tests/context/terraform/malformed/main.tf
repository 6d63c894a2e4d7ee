resource "aws_security_group" "rdp" {}

resource "aws_network_acl" "acl" {
  vpc_id = "vpc-1"
  ingress {
    protocol   = "tcp"
    rule_no    = 100
    action     = "maybe"
    cidr_block = "0.0.0.0/0"
    from_port  = 3389
    to_port    = 3389
  }
}

resource "aws_network_acl_rule" "bad_number" {
  network_acl_id = aws_network_acl.acl.id
  rule_number    = "first"
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = 3389
  to_port        = 3389
}

resource "aws_lb" "lb" {}

resource "aws_lb_listener" "bad_port" {
  load_balancer_arn = aws_lb.lb.arn
  port              = "rdp"
}

resource "aws_instance" "bad_groups" {
  vpc_security_group_ids = 5
}

resource "aws_instance" "fine" {
  ami                    = "ami-0fine"
  vpc_security_group_ids = [aws_security_group.rdp.id]
}
