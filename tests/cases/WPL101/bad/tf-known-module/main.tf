module "sg" {
  source  = "terraform-aws-modules/security-group/aws//modules/rdp"
  version = "5.1.0"
  name = "x"
  ingress_cidr_blocks = ["0.0.0.0/0"]
  ingress_with_cidr_blocks = [
    { rule = "winrm-http-tcp", cidr_blocks = "0.0.0.0/0,10.0.0.0/8" },
    { from_port = 445, to_port = 445, protocol = "tcp", cidr_blocks = "0.0.0.0/0" },
  ]
}
