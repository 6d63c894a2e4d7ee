# Shared by every unit below: the module they run, and the CIDR admins connect from.
locals {
  admin_cidr = "0.0.0.0/0"
}

terraform {
  source = "${get_parent_terragrunt_dir()}/../modules//rdp"
}
