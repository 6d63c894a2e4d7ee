resource "aws_lb" "public" {
  name               = "public"
  load_balancer_type = "network"
  subnets            = ["subnet-0123456789abcdef0"]
}

resource "aws_lb_target_group" "rdp" {
  name     = "rdp"
  port     = 3389
  protocol = "TCP"
  vpc_id   = "vpc-0123456789abcdef0"
}

resource "aws_lb_listener" "admin" {
  load_balancer_arn = aws_lb.public.arn
  port              = 8443
  protocol          = "TCP"

  default_action {
    type = "forward"
    forward {
      target_group {
        arn = aws_lb_target_group.rdp.arn
      }
    }
  }
}

resource "aws_elb" "classic" {
  name    = "classic"
  subnets = ["subnet-0123456789abcdef0"]

  listener {
    lb_port           = 5985
    lb_protocol       = "tcp"
    instance_port     = 5985
    instance_protocol = "tcp"
  }
}
