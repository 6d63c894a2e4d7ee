variable "c" {
  default = "10.0.0.0/8"
}
resource "aws_vpc_security_group_ingress_rule" "r" {
  security_group_id = "sg-1"
  cidr_ipv4 = var.c
  ip_protocol = "tcp"
  from_port = 3389
  to_port = 3389
}
