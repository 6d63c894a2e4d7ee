module "rdp" {
  source              = "terraform-aws-modules/security-group/aws//modules/rdp"
  version             = "5.1.0"
  name                = "rdp-from-the-office"
  vpc_id              = "vpc-0123456789abcdef0"
  ingress_cidr_blocks = ["198.51.100.0/24"]
}

module "web" {
  source              = "terraform-aws-modules/security-group/aws"
  version             = "5.1.0"
  name                = "web"
  vpc_id              = "vpc-0123456789abcdef0"
  ingress_cidr_blocks = ["0.0.0.0/0"]
  ingress_rules       = ["https-443-tcp", "http-80-tcp"]
}
