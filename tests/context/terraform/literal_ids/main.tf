resource "aws_security_group_rule" "rdp" {
  type              = "ingress"
  security_group_id = "sg-0123456789abcdef0"
  protocol          = "tcp"
  from_port         = 3389
  to_port           = 3389
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_instance" "host" {
  ami                    = "resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2016-English-Full-Base"
  instance_type          = "t3.large"
  vpc_security_group_ids = ["sg-0123456789abcdef0"]
}
