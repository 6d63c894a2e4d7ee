variable "admin_cidr" {
  type    = string
  default = "10.0.0.0/8"
}

resource "aws_security_group" "admin" {
  name = "admin"

  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
}
