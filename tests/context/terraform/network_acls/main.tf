resource "aws_subnet" "public" {
  vpc_id     = "vpc-1"
  cidr_block = "10.0.1.0/24"
}

resource "aws_network_acl" "public" {
  vpc_id     = "vpc-1"
  subnet_ids = [aws_subnet.public.id, "subnet-0ccc"]

  ingress {
    protocol   = -1
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }

  ingress {
    protocol        = "all"
    rule_no         = 110
    action          = "allow"
    ipv6_cidr_block = "::/0"
    from_port       = 0
    to_port         = 0
  }

  egress {
    protocol   = "tcp"
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65000
  }
}

resource "aws_network_acl_rule" "deny_rdp" {
  network_acl_id = aws_network_acl.public.id
  rule_number    = 90
  egress         = false
  protocol       = "tcp"
  rule_action    = "DENY"
  cidr_block     = "0.0.0.0/0"
  from_port      = 3389
  to_port        = 3389
}

resource "aws_network_acl_rule" "smb_out" {
  network_acl_id  = aws_network_acl.public.id
  rule_number     = 120
  egress          = true
  protocol        = "6"
  rule_action     = "allow"
  ipv6_cidr_block = "::/0"
  from_port       = 445
  to_port         = 445
}

resource "aws_network_acl" "private" {
  vpc_id = "vpc-1"
}

resource "aws_network_acl_association" "private" {
  network_acl_id = aws_network_acl.private.id
  subnet_id      = aws_subnet.public.id
}
