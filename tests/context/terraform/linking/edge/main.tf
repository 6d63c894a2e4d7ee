resource "aws_security_group" "this" {
  ingress {
    from_port   = 445
    to_port     = 445
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "host" {
  ami                    = "ami-0edge"
  vpc_security_group_ids = [aws_security_group.this.id]
}
