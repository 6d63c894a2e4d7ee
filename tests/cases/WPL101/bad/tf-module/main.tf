module "bastion" {
  source      = "./modules/bastion"
  rdp_sources = ["0.0.0.0/0"]
}

module "internal" {
  source      = "./modules/bastion"
  rdp_sources = ["10.0.0.0/8"]
}
