include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

inputs = {
  admin_cidr = include.root.locals.admin_cidr
}
