# The fleet's Windows Server 2022 instances, and a network load balancer for WinRM (internet-facing).
variable "vpc_id" {
  type    = string
  default = "vpc-0123456789abcdef0"
}

variable "subnet_id" {
  type    = string
  default = "subnet-0123456789abcdef0"
}

data "aws_ami" "windows_2022" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["Windows_Server-2022-English-Full-Base-*"]
  }
}

resource "aws_instance" "fleet" {
  ami                    = data.aws_ami.windows_2022.id
  instance_type          = "t3.large"
  subnet_id              = var.subnet_id
  vpc_security_group_ids = [aws_security_group.fleet.id]
  get_password_data      = true
}

resource "aws_lb" "management" {
  name               = "fleet-management"
  load_balancer_type = "network"
  internal           = false
  subnets            = [var.subnet_id]
}

resource "aws_lb_target_group" "winrm" {
  name     = "fleet-winrm"
  port     = 5986
  protocol = "TCP"
  vpc_id   = var.vpc_id
}

resource "aws_lb_listener" "winrm" {
  load_balancer_arn = aws_lb.management.arn
  port              = 5986
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.winrm.arn
  }
}
