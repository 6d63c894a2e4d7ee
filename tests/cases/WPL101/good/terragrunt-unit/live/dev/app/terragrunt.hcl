# The module's default is the whole internet; this unit's input replaces it.
terraform {
  source = "../../../modules//rdp"
}

inputs = {
  admin_cidr = "10.20.0.0/16"
}
