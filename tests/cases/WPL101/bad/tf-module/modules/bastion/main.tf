variable "rdp_sources" {
  type = list(string)
}

resource "aws_security_group" "rdp" {
  name = "bastion"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = var.rdp_sources
  }
}
