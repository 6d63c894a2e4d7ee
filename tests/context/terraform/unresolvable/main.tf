variable "subnets" {}
variable "internal" {}
variable "ami" {}
variable "rule_number" {}

resource "aws_security_group" "rdp" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "unknowns" {
  ami                    = var.ami
  vpc_security_group_ids = [aws_security_group.rdp.id, var.extra_group]
  subnet_id              = data.aws_subnet.missing.id
  launch_template {
    name = var.template
  }
}

resource "aws_instance" "missing_data" {
  ami                    = data.aws_ami.not_declared.id
  vpc_security_group_ids = [aws_security_group.rdp.id]
}

resource "aws_autoscaling_group" "unknown" {
  vpc_zone_identifier  = var.subnets
  launch_configuration = var.configuration
}

resource "aws_lb" "maybe" {
  internal = var.internal
}

resource "aws_lb_listener" "maybe" {
  load_balancer_arn = aws_lb.maybe.arn
  port              = 3389
  default_action {
    type             = "forward"
    target_group_arn = var.target_group
  }
}

resource "aws_lb_listener" "elsewhere" {
  load_balancer_arn = var.lb_arn
  port              = 3389
}

resource "aws_network_acl_rule" "unknown" {
  network_acl_id = var.acl
  rule_number    = var.rule_number
  egress         = false
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = 3389
  to_port        = 3389
}

resource "aws_network_acl_association" "unknown" {
  network_acl_id = var.acl
  subnet_id      = "subnet-0ddd"
}
