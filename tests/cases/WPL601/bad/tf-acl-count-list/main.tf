# The module builds one network ACL entry per element of its list input; whether it
# creates them depends on a data source, so the count is known only at apply.
module "public_acl" {
  source = "./acl"

  inbound_rules = [
    { rule_number = 900, rule_action = "allow", protocol = "tcp", from_port = 1024, to_port = 65535, cidr_block = "0.0.0.0/0" },
    { rule_number = 100, rule_action = "allow", protocol = "tcp", from_port = 443, to_port = 443, cidr_block = "0.0.0.0/0" },
    { rule_number = 110, rule_action = "deny", protocol = "tcp", from_port = 445, to_port = 445, cidr_block = "0.0.0.0/0" },
    { rule_number = 120, rule_action = "allow", protocol = "tcp", from_port = 445, to_port = 445, cidr_block = "0.0.0.0/0" },
    { rule_number = 130, rule_action = "allow", protocol = "tcp", from_port = 3389, to_port = 3389, cidr_block = "0.0.0.0/0" },
    { rule_number = 140, rule_action = "allow", protocol = "tcp", from_port = 5985, to_port = 5985, cidr_block = "10.0.0.0/8" },
    { rule_number = 150, rule_action = "allow", protocol = "tcp", from_port = 5986, to_port = 5986, ipv6_cidr_block = "::/0" },
  ]
}
