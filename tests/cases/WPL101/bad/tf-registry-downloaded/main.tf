module "rdp" {
  source  = "example-corp/rdp/aws"
  version = "1.0.0"
  cidr    = "0.0.0.0/0"
}
