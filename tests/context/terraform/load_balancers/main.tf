resource "aws_security_group" "lb" {
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb" "public" {
  load_balancer_type = "network"
  security_groups    = [aws_security_group.lb.id]
}

resource "aws_lb_target_group" "rdp" {
  port     = 3389
  protocol = "TCP"
}

resource "aws_lb_target_group" "winrm" {
  port     = 5986
  protocol = "TCP"
}

resource "aws_lb_listener" "rdp" {
  load_balancer_arn = aws_lb.public.arn
  port              = 3389
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.rdp.arn
  }
}

resource "aws_alb" "web" {
  internal = false
}

resource "aws_alb_listener" "https" {
  load_balancer_arn = aws_alb.web.arn
  port              = 443
  protocol          = "HTTPS"
  default_action {
    type = "forward"
    forward {
      target_group {
        arn = aws_lb_target_group.rdp.arn
      }
      target_group {
        arn = aws_lb_target_group.winrm.arn
      }
    }
  }
}

resource "aws_lb_listener" "dns" {
  load_balancer_arn = aws_lb.public.arn
  port              = 53
  protocol          = "TCP_UDP"
}

resource "aws_lb" "internal" {
  internal = true
}

resource "aws_lb_listener" "internal" {
  load_balancer_arn = aws_lb.internal.arn
  port              = 3389
  protocol          = "TCP"
}

resource "aws_elb" "classic" {
  security_groups = [aws_security_group.lb.id]
  listener {
    lb_port           = 3389
    lb_protocol       = "tcp"
    instance_port     = 3389
    instance_protocol = "tcp"
  }
  listener {
    lb_port           = 80
    lb_protocol       = "HTTP"
    instance_port     = 5985
    instance_protocol = "HTTP"
  }
}

resource "aws_elb" "private" {
  internal = true
  listener {
    lb_port           = 3389
    lb_protocol       = "tcp"
    instance_port     = 3389
    instance_protocol = "tcp"
  }
}
