resource "aws_security_group" "lb" {
  name = "lb"

  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}

resource "aws_lb" "internal" {
  name     = "internal"
  internal = true
  subnets  = ["subnet-0123456789abcdef0"]
}

resource "aws_lb" "guarded" {
  name            = "guarded"
  security_groups = [aws_security_group.lb.id]
  subnets         = ["subnet-0123456789abcdef0"]
}

resource "aws_lb_listener" "internal_rdp" {
  load_balancer_arn = aws_lb.internal.arn
  port              = 3389
  protocol          = "TCP"
  default_action {
    type = "fixed-response"
  }
}

resource "aws_lb_listener" "guarded_rdp" {
  load_balancer_arn = aws_lb.guarded.arn
  port              = 3389
  protocol          = "TCP"
  default_action {
    type = "fixed-response"
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.guarded.arn
  port              = 443
  protocol          = "HTTPS"
  default_action {
    type = "fixed-response"
  }
}
